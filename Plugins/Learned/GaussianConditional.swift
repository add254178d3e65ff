import CLIC
import LICPluginKit
#if canImport(Glibc)
import Glibc
#endif

/// The Gaussian conditional (Balle 2018 scale, Minnen 2018 mean-scale):
/// P(y_hat) = Phi((0.5 - |y - mu|) / s) - Phi((-0.5 - |y - mu|) / s), with s
/// bounded below by 0.11. The condition (hyper-synthesis output) holds the
/// scales, then (with `means`) the means. Coding goes through the host's
/// Gaussian coder: each scale is rounded up to the next of 64 log-spaced
/// table scales (0.11 ... 256), tables built once per model.
final class GaussianConditional: LearnedEntropyModelComponent {
    static let schema: [ParamSpec] = [
        .bool("means", default: true, "The condition carries scales then means (mean-scale); else scales only"),
        .float("scale_bound", default: 0.11, min: 1e-6, max: 10, "Lower bound of the scales"),
        .int("levels", default: 64, range: 2...256, "Scales in the coding table"),
        .float("max_scale", default: 256, min: 1, max: 1e6, "Largest table scale"),
        .float("tail_mass", default: 1e-9, min: 1e-15, max: 0.1, "Mass left outside each coding table"),
    ]

    let host: Host
    let hasMeans: Bool
    let scaleBound: Float
    let tableScales: [Double]
    let tailMass: Double
    /// The host's tables for tableScales, built once by prepareCoding.
    private var coder: GaussianCoder?
    /// For a stateful quantizer (a trellis): tables per level set over
    /// tableScales, from the quantizer's levels, built when first needed.
    private var levelSetTables: [UInt32: [CDFTable]] = [:]

    init(params: Params, host: Host) throws {
        self.host = host
        hasMeans = try params.bool("means")
        scaleBound = Float(try params.float("scale_bound"))
        tableScales = Self.ladder(low: Double(scaleBound), high: try params.float("max_scale"), levels: Int(try params.int("levels")))
        tailMass = try params.float("tail_mass")
    }

    /// `levels` scales log-spaced from `low` to `high`, rounded to float (the
    /// coder compares them with float scales); portable math, so every
    /// machine builds the same ladder.
    static func ladder(low: Double, high: Double, levels: Int) -> [Double] {
        let (a, b) = (PortableMath.log(low), PortableMath.log(high))
        return (0..<levels).map { Double(Float(PortableMath.exp(a + (b - a) * Double($0) / Double(levels - 1)))) }
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
        let scales = hasMeans ? try condition.sliced(axis: 1, start: 0, length: m) : condition
        return (try scales.lowerBounded(scaleBound), hasMeans ? try condition.sliced(axis: 1, start: m, length: m) : nil)
    }

    func forward(_ y: Tensor, condition: Tensor?, quantizer: QuantizerHandle, context: CallContext) throws -> EntropyOutputs {
        let (scales, means) = try parameters(condition, latent: try y.shape)
        let (rateInput, yHat) = try quantizer.surrogates(y, means: means, context: context)
        let centered = try (means.map { try rateInput - $0 } ?? rateInput).abs()
        return EntropyOutputs(yHat: yHat, likelihoods: try Tensor.gaussianCellLikelihood(centered: centered, scales: scales),
                              means: means, scales: scales)
    }

    func auxiliaryLoss(context: CallContext) throws -> Tensor? { nil }

    // MARK: Coding

    func prepareCoding() throws {
        coder = try GaussianCoder(scales: tableScales, tailMass: tailMass, host: host)
        levelSetTables = [:]
    }

    /// The index of the first table scale >= scale (the last when none is), as the host's coder picks.
    func tableIndex(_ scale: Float) -> Int {
        var (low, high) = (0, tableScales.count - 1)
        guard Double(scale) <= tableScales[high] else { return high }
        while low < high {
            let mid = (low + high) / 2
            if tableScales[mid] >= Double(scale) { high = mid } else { low = mid + 1 }
        }
        return low
    }

    /// Tables over tableScales for the level set `scope` is in: index k's
    /// cell spans halfway to the levels of k - 1 and k + 1.
    func tables(forLevelSetOf scope: QuantizerScope) throws -> [CDFTable] {
        let set = scope.levelSet
        if let tables = levelSetTables[set] { return tables }
        let pair = try scope.levels(first: 0, count: 2)
        let spacing = Double(max(abs(pair[1] - pair[0]), 1e-6))
        let multiplier = -GaussianCell.quantile(tailMass / 2)
        let tables = try tableScales.map { scale -> CDFTable in
            let bound = min(30000, Int((scale * multiplier / spacing).rounded(.up)) + 1)
            let levels = try scope.levels(first: Int32(-bound - 1), count: 2 * bound + 3).map(Double.init)
            let pmf = (1...(2 * bound + 1)).map { (j: Int) -> Double in
                let lower: Double = (levels[j - 1] + levels[j]) / 2, upper: Double = (levels[j] + levels[j + 1]) / 2
                return GaussianCell.probability(lower: lower, upper: upper, scale: scale)
            }
            return try host.makeCDFTable(pmf: pmf, firstSymbol: Int32(-bound))
        }
        levelSetTables[set] = tables
        return tables
    }

    /// Per element: mean and scale in quantization steps (the coder picks each element's table from its scale).
    func perElement(_ condition: Tensor?, latent shape: [Int]) throws -> (scales: Tensor, means: Tensor?, meanValues: [Float], scaleValues: [Float]) {
        let (scales, means) = try parameters(condition, latent: shape)
        let scaleValues = try scales.floats()
        return (scales, means, try means?.floats() ?? [Float](repeating: 0, count: scaleValues.count), scaleValues)
    }

    func encode(_ y: Tensor, condition: Tensor?, quantizer: QuantizerHandle, context: CallContext,
                coding: CodingContext) throws -> EntropyOutputs {
        guard let coder else { throw PluginError(.invalidArgument, "lic.entropy.gaussian: encode before prepare_coding") }
        let shape = try y.shape
        let (scales, means, meanValues, scaleValues) = try perElement(condition, latent: shape)
        let (symbols, yHat) = try CodingHelpers.quantize(try y.floats(), means: meanValues, scales: scaleValues, quantizer: quantizer,
                                                         context: context)
        if try !quantizer.beginScope(context: context).isStateless {
            try CodingHelpers.encodeByLevelSet(symbols, means: meanValues, quantizer: quantizer, context: context, coding: coding,
                                               tables: tables(forLevelSetOf:), pick: { self.tableIndex(scaleValues[$0]) })
            return EntropyOutputs(yHat: try Tensor.values(yHat, shape: shape, host: host), means: means, scales: scales)
        }
        let step = try CodingHelpers.step(of: quantizer, context: context)
        let stepScales = step == 1 ? scaleValues : scaleValues.map { $0 / step }
        let encoder = try coding.openEncoder()
        try symbols.withUnsafeBufferPointer { s in
            try stepScales.withUnsafeBufferPointer { try coder.encode(s, scales: $0, into: encoder) }
        }
        return EntropyOutputs(yHat: try Tensor.values(yHat, shape: shape, host: host), means: means, scales: scales)
    }

    func decode(shape: [Int], condition: Tensor?, quantizer: QuantizerHandle, context: CallContext,
                coding: CodingContext) throws -> EntropyOutputs {
        guard let coder else { throw PluginError(.invalidArgument, "lic.entropy.gaussian: decode before prepare_coding") }
        let (scales, means, meanValues, scaleValues) = try perElement(condition, latent: shape)
        if try !quantizer.beginScope(context: context).isStateless {
            let yHat = try CodingHelpers.decodeByLevelSet(means: meanValues, quantizer: quantizer, context: context, coding: coding,
                                                          tables: tables(forLevelSetOf:), pick: { self.tableIndex(scaleValues[$0]) })
            return EntropyOutputs(yHat: try Tensor.values(yHat, shape: shape, host: host), means: means, scales: scales)
        }
        let step = try CodingHelpers.step(of: quantizer, context: context)
        let stepScales = step == 1 ? scaleValues : scaleValues.map { $0 / step }
        var symbols = [Int32](repeating: 0, count: scaleValues.count)
        let decoder = try coding.openDecoder()
        try symbols.withUnsafeMutableBufferPointer { s in
            try stepScales.withUnsafeBufferPointer { try coder.decode(into: s, scales: $0, from: decoder) }
        }
        let yHat = try CodingHelpers.dequantize(symbols, means: meanValues, quantizer: quantizer, context: context)
        return EntropyOutputs(yHat: try Tensor.values(yHat, shape: shape, host: host), means: means, scales: scales)
    }
}
