import CLIC
import LICPluginKit
#if canImport(Glibc)
import Glibc
#endif

/// The Gaussian conditional (Balle 2018 scale, Minnen 2018 mean-scale):
/// P(y_hat) = Phi((0.5 - |y - mu|) / s) - Phi((-0.5 - |y - mu|) / s), with s
/// bounded below by 0.11. The condition (hyper-synthesis output) holds the
/// scales, then (with `means`) the means. For coding, each scale is rounded
/// up to the next of 64 log-spaced table scales (0.11 ... 256).
final class GaussianConditional: LearnedEntropyModelComponent {
    static let schema: [ParamSpec] = [
        .bool("means", default: true, "The condition carries scales then means (mean-scale); else scales only"),
        .float("scale_bound", default: 0.11, min: 1e-6, max: 10, "Lower bound of the scales"),
        .int("levels", default: 64, range: 2...256, "Scales in the coding table"),
        .float("max_scale", default: 256, min: 1, max: 1e6, "Largest table scale"),
        .float("tail_mass", default: 1e-9, min: 1e-15, max: 0.1, "Mass left outside each coding table"),
        .enumeration("training_quantization", ["noise", "ste"], default: "noise",
                     "Training surrogate: additive U(-0.5, 0.5) noise, or rounding with a straight-through gradient"),
    ]

    let host: Host
    let hasMeans: Bool
    let scaleBound: Float
    let tableScales: [Float]
    let tailMass: Double
    let straightThrough: Bool
    private var tables: [CDFTable]?

    init(params: Params, host: Host) throws {
        self.host = host
        hasMeans = try params.bool("means")
        scaleBound = Float(try params.float("scale_bound"))
        let levels = Int(try params.int("levels"))
        let low = Double(scaleBound), high = try params.float("max_scale")
        tableScales = (0..<levels).map { Float(exp(log(low) + (log(high) - log(low)) * Double($0) / Double(levels - 1))) }
        tailMass = try params.float("tail_mass")
        straightThrough = try params.string("training_quantization") == "ste"
    }

    /// (scales, means) from the condition [B, M or 2M, H, W] for a latent of `shape`.
    func parameters(_ condition: Tensor?, latent shape: [Int]) throws -> (scales: Tensor, means: Tensor?) {
        guard let condition else { throw PluginError(.invalidArgument, "lic.entropy.gaussian needs a condition (the hyper synthesis output)") }
        guard shape.count == 4 else { throw PluginError(.invalidArgument, "lic.entropy.gaussian: latent \(shape) is not NCHW") }
        let m = shape[1]
        let expected = hasMeans ? [shape[0], 2 * m, shape[2], shape[3]] : shape
        guard try condition.shape == expected else {
            throw PluginError(.invalidArgument, "lic.entropy.gaussian: condition \(try condition.shape), expected \(expected)")
        }
        guard hasMeans else { return (condition, nil) }
        return (try condition.sliced(axis: 1, start: 0, length: m), try condition.sliced(axis: 1, start: m, length: m))
    }

    func forward(_ y: Tensor, condition: Tensor?, training: Bool, seed: UInt64) throws -> (yHat: Tensor, likelihoods: Tensor) {
        let shape = try y.shape
        let (rawScales, means) = try parameters(condition, latent: shape)
        let scales = try rawScales.lowerBounded(scaleBound)
        let yHat: Tensor
        if training && !straightThrough {
            yHat = try y + Tensor.uniformNoise(shape, seed: seed, host: host)
        } else if let means {
            yHat = try (y - means).roundedStraightThrough() + means
        } else {
            yHat = try y.roundedStraightThrough()
        }
        let centered = try (means.map { try yHat - $0 } ?? yHat).abs()
        let upper = try ((centered * -1 + 0.5) / scales).gaussianCDF()
        let lower = try ((centered * -1 - 0.5) / scales).gaussianCDF()
        return (yHat, try (upper - lower).lowerBounded(1e-9))
    }

    func auxiliaryLoss() throws -> Tensor? { nil }

    // MARK: Coding

    /// The coding tables, one per table scale: symbols -K ... K, K = ceil(s * -Phi^-1(tail / 2)).
    func codingTables() throws -> [CDFTable] {
        if let tables { return tables }
        let multiplier = -Self.standardNormalQuantile(tailMass / 2)
        let built = try tableScales.map { scale -> CDFTable in
            let s = Double(scale)
            let bound = Int((s * multiplier).rounded(.up))
            let phi = { (x: Double) in 0.5 * erfc(-x / 2.0.squareRoot()) }
            let pmf = (-bound...bound).map { k in phi((0.5 - Double(abs(k))) / s) - phi((-0.5 - Double(abs(k))) / s) }
            return try host.makeCDFTable(pmf: pmf, firstSymbol: Int32(-bound))
        }
        tables = built
        return built
    }

    /// Per element: its mean and the first table scale >= its (bounded) scale.
    func perElement(_ condition: Tensor?, latent shape: [Int]) throws -> (means: [Float], indexes: [Int32]) {
        let (scales, means) = try parameters(condition, latent: shape)
        let indexes = try scales.floats().map { scale -> Int32 in
            let s = max(scale, scaleBound)
            return Int32(tableScales.firstIndex { $0 >= s } ?? tableScales.count - 1)
        }
        return (try means?.floats() ?? [Float](repeating: 0, count: indexes.count), indexes)
    }

    func encode(_ y: Tensor, condition: Tensor?, quantizer: Quantizer, context: CodingContext) throws -> Tensor {
        let shape = try y.shape
        let (means, indexes) = try perElement(condition, latent: shape)
        var symbols = [Int32](repeating: 0, count: means.count)
        var yHat = [Float](repeating: 0, count: means.count)
        try CodingHelpers.quantizeAndEncode(try y.floats(), means: means, indexes: indexes, tables: codingTables(),
                                            quantizer: quantizer, context: context, symbols: &symbols, yHat: &yHat)
        return try Tensor.values(yHat, shape: shape, host: host)
    }

    func decode(shape: [Int], condition: Tensor?, quantizer: Quantizer, context: CodingContext) throws -> Tensor {
        let (means, indexes) = try perElement(condition, latent: shape)
        let yHat = try CodingHelpers.decodeAndDequantize(means: means, indexes: indexes, tables: codingTables(),
                                                         quantizer: quantizer, context: context)
        return try Tensor.values(yHat, shape: shape, host: host)
    }

    /// Phi^-1(p) for small p, by bisection on erfc (once per instance).
    static func standardNormalQuantile(_ p: Double) -> Double {
        var (low, high) = (-40.0, 0.0)
        for _ in 0..<200 {
            let mid = (low + high) / 2
            if 0.5 * erfc(-mid / 2.0.squareRoot()) < p { low = mid } else { high = mid }
        }
        return (low + high) / 2
    }
}
