import CLIC
import LICPluginKit
#if canImport(Glibc)
import Glibc
#endif

/// The factorized prior (Balle 2017, CompressAI's EntropyBottleneck): one
/// learned CDF network per channel (filters 3,3,3,3), quantiles fitted by the
/// auxiliary loss; the median is the quantization offset and the quantiles
/// bound each channel's coding table.
final class FactorizedPrior: LearnedEntropyModelComponent {
    static let schema: [ParamSpec] = [
        .int("channels", default: 128, range: 1...1024, "Channels of the latent"),
        .float("init_scale", default: 10, min: 0.1, max: 1000, "Initial scale of the CDF network and quantiles"),
        .float("tail_mass", default: 1e-9, min: 1e-15, max: 0.1, "Probability mass outside the quantiles"),
    ]

    let host: Host
    let channels: Int
    let tailMass: Double
    /// Per-channel medians, the extent of the quantiles around them, and
    /// coding tables on the unit grid, built once by prepareCoding.
    private var coding: (medians: [Float], extents: [Float], tables: [CDFTable])?
    /// For a stateful quantizer (a trellis): per level set, one table per channel.
    private var levelSetTables: [UInt32: [CDFTable]] = [:]
    let cdf: LearnedCDF
    let quantiles: Tensor

    init(params: Params, host: Host) throws {
        self.host = host
        channels = Int(try params.int("channels"))
        tailMass = try params.float("tail_mass")
        let initScale = try params.float("init_scale")
        cdf = try LearnedCDF(channels: channels, initScale: initScale, group: LIC_GROUP_MAIN, host: host)
        let initial: [Float] = (0..<channels).flatMap { _ -> [Float] in [Float(-initScale), 0, Float(initScale)] }
        quantiles = try host.parameter("quantiles", shape: [channels, 1, 3], initializer: LIC_INIT_VALUES, values: initial,
                                       group: LIC_GROUP_AUXILIARY)
    }

    func logitsCumulative(_ inputs: Tensor, stopGradient: Bool) throws -> Tensor {
        try cdf.logitsCumulative(inputs, stopGradient: stopGradient)
    }

    func likelihood(_ values: Tensor) throws -> Tensor { try cdf.likelihood(values) }

    func medians() throws -> Tensor { try quantiles.sliced(axis: 2, start: 1, length: 1).detached() }

    func forward(_ y: Tensor, condition: Tensor?, quantizer: QuantizerHandle, context: CallContext) throws -> EntropyOutputs {
        let shape = try y.shape
        guard shape.count == 4, shape[1] == channels else {
            throw PluginError(.invalidArgument, "lic.entropy.factorized: latent \(shape) does not have \(channels) channels")
        }
        let (b, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let values = try y.permuted([1, 0, 2, 3]).reshaped([c, 1, b * h * w])
        let (rateInput, quantized) = try quantizer.surrogates(values, means: medians(), context: context)
        let back = { (t: Tensor) in try t.reshaped([c, b, h, w]).permuted([1, 0, 2, 3]) }
        return EntropyOutputs(yHat: try back(quantized), likelihoods: try back(likelihood(rateInput)))
    }

    func auxiliaryLoss(context: CallContext) throws -> Tensor? {
        let target = Float(log(2 / tailMass - 1))
        let logits = try logitsCumulative(quantiles, stopGradient: true)
        return try (logits - Tensor.values([-target, 0, target], shape: [1, 1, 3], host: host)).abs().sum()
    }

    // MARK: Coding

    /// Per channel: the median, and a table over symbols -minima ... maxima around it.
    func prepareCoding() throws {
        let q = try quantiles.floats()
        guard q.allSatisfy(\.isFinite) else {
            throw PluginError(.invalidArgument, "lic.entropy.factorized: the quantiles are not finite (did training diverge?)")
        }
        let medians = (0..<channels).map { q[3 * $0 + 1] }
        let minima = (0..<channels).map { max(0, min(32000, Int((medians[$0] - q[3 * $0]).rounded(.up)))) }
        let maxima = (0..<channels).map { max(0, min(32000, Int((q[3 * $0 + 2] - medians[$0]).rounded(.up)))) }
        let length = zip(minima, maxima).map { $0 + $1 + 1 }.max() ?? 1
        var samples = [Float](repeating: 0, count: channels * length)
        for c in 0..<channels {
            for k in 0..<length { samples[c * length + k] = medians[c] + Float(min(k, minima[c] + maxima[c]) - minima[c]) }
        }
        let pmf = try likelihood(Tensor.values(samples, shape: [channels, 1, length], host: host)).floats()
        let tables = try (0..<channels).map { c in
            try host.makeCDFTable(pmf: (0..<(minima[c] + maxima[c] + 1)).map { Double(pmf[c * length + $0]) },
                                  firstSymbol: Int32(-minima[c]))
        }
        let extents = (0..<channels).map { Float(max(minima[$0], maxima[$0])) }
        coding = (medians, extents, tables)
        levelSetTables = [:]
    }

    /// Per channel, a table over the indices of the level set `scope` is in:
    /// index k's cell spans halfway to the levels of k - 1 and k + 1 around
    /// the median, its probability from the learned CDF.
    func tables(forLevelSetOf scope: QuantizerScope) throws -> [CDFTable] {
        let set = scope.levelSet
        if let tables = levelSetTables[set] { return tables }
        guard let (medians, extents, _) = coding else { throw PluginError(.invalidArgument, "lic.entropy.factorized: coding before prepare_coding") }
        let pair = try scope.levels(first: 0, count: 2)
        let spacing = max(Swift.abs(pair[1] - pair[0]), 1e-6)
        let bounds = extents.map { min(30000, Int(($0 / spacing).rounded(.up)) + 1) }
        let widest = bounds.max() ?? 1, length = 2 * widest + 1
        let levels = try scope.levels(first: Int32(-widest - 1), count: length + 2)
        var lower = [Float](repeating: 0, count: channels * length), upper = lower
        for c in 0..<channels {
            for j in 0..<length {
                let index: Int = min(max(j - widest, -bounds[c]), bounds[c])
                let k: Int = widest + index + 1   // its position in `levels`
                let below: Float = (levels[k - 1] + levels[k]) / 2, above: Float = (levels[k] + levels[k + 1]) / 2
                lower[c * length + j] = medians[c] + below
                upper[c * length + j] = medians[c] + above
            }
        }
        let shape = [channels, 1, length]
        let upperCDF = try logitsCumulative(Tensor.values(upper, shape: shape, host: host), stopGradient: false).sigmoid()
        let lowerCDF = try logitsCumulative(Tensor.values(lower, shape: shape, host: host), stopGradient: false).sigmoid()
        let pmf: [Float] = try (upperCDF - lowerCDF).lowerBounded(1e-9).floats()
        var tables: [CDFTable] = []
        for c in 0..<channels {
            let start: Int = c * length + widest - bounds[c]
            let entries: [Double] = (0..<(2 * bounds[c] + 1)).map { Double(pmf[start + $0]) }
            tables.append(try host.makeCDFTable(pmf: entries, firstSymbol: Int32(-bounds[c])))
        }
        levelSetTables[set] = tables
        return tables
    }

    /// Per element: its channel's median (as the quantizer's mean) and table index.
    func perElement(_ shape: [Int], medians: [Float]) -> (means: [Float], indexes: [Int32]) {
        let plane = shape[2] * shape[3]
        let count = shape.reduce(1, *)
        let channelOf = { (i: Int) in (i / plane) % shape[1] }
        return ((0..<count).map { medians[channelOf($0)] }, (0..<count).map { Int32(channelOf($0)) })
    }

    private func prepared(_ shape: [Int]) throws -> (medians: [Float], extents: [Float], tables: [CDFTable]) {
        guard shape.count == 4, shape[1] == channels else {
            throw PluginError(.invalidArgument, "lic.entropy.factorized: latent \(shape) does not have \(channels) channels")
        }
        guard let coding else { throw PluginError(.invalidArgument, "lic.entropy.factorized: coding before prepare_coding") }
        return coding
    }

    func encode(_ y: Tensor, condition: Tensor?, quantizer: QuantizerHandle, context: CallContext,
                coding: CodingContext) throws -> EntropyOutputs {
        let shape = try y.shape
        let (medians, _, tables) = try prepared(shape)
        let (means, indexes) = perElement(shape, medians: medians)
        let (symbols, yHat) = try CodingHelpers.quantize(try y.floats(), means: means, scales: nil, quantizer: quantizer, context: context)
        if try !quantizer.beginScope(context: context).isStateless {
            try CodingHelpers.encodeByLevelSet(symbols, means: means, quantizer: quantizer, context: context, coding: coding,
                                               tables: tables(forLevelSetOf:), pick: { Int(indexes[$0]) })
            return EntropyOutputs(yHat: try Tensor.values(yHat, shape: shape, host: host))
        }
        let encoder = try coding.openEncoder()
        try symbols.withUnsafeBufferPointer { s in try indexes.withUnsafeBufferPointer { try encoder.encode(s, indexes: $0, tables: tables) } }
        return EntropyOutputs(yHat: try Tensor.values(yHat, shape: shape, host: host))
    }

    func decode(shape: [Int], condition: Tensor?, quantizer: QuantizerHandle, context: CallContext,
                coding: CodingContext) throws -> EntropyOutputs {
        let (medians, _, tables) = try prepared(shape)
        let (means, indexes) = perElement(shape, medians: medians)
        if try !quantizer.beginScope(context: context).isStateless {
            let yHat = try CodingHelpers.decodeByLevelSet(means: means, quantizer: quantizer, context: context, coding: coding,
                                                          tables: tables(forLevelSetOf:), pick: { Int(indexes[$0]) })
            return EntropyOutputs(yHat: try Tensor.values(yHat, shape: shape, host: host))
        }
        var symbols = [Int32](repeating: 0, count: means.count)
        let decoder = try coding.openDecoder()
        try symbols.withUnsafeMutableBufferPointer { s in try indexes.withUnsafeBufferPointer { try decoder.decode(into: s, indexes: $0, tables: tables) } }
        let yHat = try CodingHelpers.dequantize(symbols, means: means, quantizer: quantizer, context: context)
        return EntropyOutputs(yHat: try Tensor.values(yHat, shape: shape, host: host))
    }
}
