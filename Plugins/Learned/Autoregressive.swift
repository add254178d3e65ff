import CLIC
import LICPluginKit

/// The spatial autoregressive context model of Minnen et al. 2018 (CompressAI's
/// mbt2018): a 5x5 convolution masked with mask A (the centre and everything
/// after it in raster order zeroed) over y_hat gives a context [B, 2M, H, W];
/// the entropy parameters come from three 1x1 convolutions (4M -> 10M/3 ->
/// 8M/3 -> 2M, leaky ReLU between) over [hyper output, context]: scales
/// (bounded below), then means. Parameter names follow CompressAI
/// (`context_prediction.weight`, `entropy_parameters.0.weight`, ...).
///
/// Training computes the context from the quantizer's surrogate in one
/// convolution. Coding is serial by nature; it walks wavefronts: position
/// (h, w) depends on (h, w - 1), (h, w - 2) and the five columns w - 2 ...
/// w + 2 of the two rows above, so all positions with the same w + 3h are
/// independent and are computed together - one gather of each position's 12
/// context taps, then every layer as a 1x1 convolution over the wave - then
/// quantized and coded in that order. Each position computes only its own context, never a whole
/// image's convolution. Encoder and decoder run the same code under the
/// host's exact mode, so they agree on every machine.
final class Autoregressive: LearnedEntropyModelComponent {
    static let schema: [ParamSpec] = [
        .int("latent", default: 192, range: 1...320, "Latent channels M, at most 320 (CompressAI's largest; hidden widths M*10/3 and M*8/3, rounded down as CompressAI's)"),
        .float("scale_bound", default: 0.11, min: 1e-6, max: 10, "Lower bound of the scales"),
        .int("seed", default: 0, range: 0...Int64(Int32.max), "Seed of the weight initialization"),
    ]

    /// Mask A's non-zero taps of a 5x5 kernel, (row, column), in raster order: rows 0 and 1, then row 2 left of the centre.
    static let taps: [(row: Int, column: Int)] = (0..<12).map { ($0 / 5, $0 % 5) }

    let host: Host
    let latent: Int
    let scaleBound: Float
    let contextWeight: Tensor, contextBias: Tensor
    /// [1, 1, 5, 5]: 1 on the taps, 0 elsewhere.
    let mask: Tensor
    let parameters: [ConvLayer]
    private var coder: GaussianCoder?
    /// For coding: the context taps as one 1x1 convolution [2M, 12M, 1, 1].
    private var contextMatrix: Tensor?

    init(params: Params, host: Host) throws {
        self.host = host
        latent = Int(try params.int("latent"))
        scaleBound = Float(try params.float("scale_bound"))
        let seed = UInt64(try params.int("seed"))
        let fanIn = Float(latent * 25)
        contextWeight = try host.parameter("context_prediction.weight", shape: [2 * latent, latent, 5, 5], initializer: LIC_INIT_KAIMING_UNIFORM,
                                           a: fanIn, seed: seed)
        contextBias = try host.parameter("context_prediction.bias", shape: [2 * latent], initializer: LIC_INIT_KAIMING_UNIFORM, a: fanIn, seed: seed)
        mask = try Tensor.values((0..<25).map { $0 < 12 ? 1 : 0 }, shape: [1, 1, 5, 5], host: host)
        let widths = [4 * latent, latent * 10 / 3, latent * 8 / 3, 2 * latent]
        parameters = try (0..<3).map { i in
            try ConvLayer(index: 2 * i, from: widths[i], to: widths[i + 1], kernel: 1, stride: 1, transposed: false, seed: seed, host: host,
                          prefix: "entropy_parameters.")
        }
    }

    /// Scales and means [B, M, H, W] from the hyper output and a context, through the 1x1 layers.
    func distribution(_ condition: Tensor, context: Tensor) throws -> (scales: Tensor, means: Tensor) {
        var h = try Tensor.concatenate([condition, context], axis: 1)
        for (index, layer) in parameters.enumerated() {
            h = try layer.apply(h)
            if index < parameters.count - 1 { h = try h.leakyRelu() }
        }
        return (try h.sliced(axis: 1, start: 0, length: latent).lowerBounded(scaleBound), try h.sliced(axis: 1, start: latent, length: latent))
    }

    func checkCondition(_ condition: Tensor?, latent shape: [Int]) throws -> Tensor {
        guard shape.count == 4, shape[1] == latent, let condition, try condition.shape == [shape[0], 2 * latent, shape[2], shape[3]] else {
            throw PluginError(.invalidArgument, "lic.entropy.autoregressive needs a latent [B, \(latent), H, W] and the mean-scale hyper output [B, \(2 * latent), H, W] as its condition")
        }
        return condition
    }

    func forward(_ y: Tensor, condition: Tensor?, quantizer: QuantizerHandle, context: CallContext) throws -> EntropyOutputs {
        let condition = try checkCondition(condition, latent: try y.shape)
        // As CompressAI's mbt2018: the context and the synthesis see y's reconstruction surrogate without the
        // means (noise, straight-through rounding from a mixed quantizer, rounding in evaluation: the means come
        // from the context, so decoding's round(y - mu) + mu is not available in one pass), the likelihoods the
        // rate surrogate around the means.
        let surrogate = try quantizer.surrogate(y, means: nil, context: context, use: .reconstruction)
        let contextFeatures = try surrogate.conv2d(contextWeight * mask, bias: contextBias, padding: 2)
        let (scales, means) = try distribution(condition, context: contextFeatures)
        let centered = try (quantizer.surrogate(y, means: means, context: context, use: .rate) - means).abs()
        let likelihoods = try Tensor.gaussianCellLikelihood(centered: centered, scales: scales)
        return EntropyOutputs(yHat: surrogate, likelihoods: likelihoods, means: means, scales: scales)
    }

    func auxiliaryLoss(context: CallContext) throws -> Tensor? { nil }

    func prepareCoding() throws {
        coder = try GaussianCoder(scales: GaussianConditional.ladder(low: Double(scaleBound), high: 256, levels: 64), tailMass: 1e-9, host: host)
        // [2M, M, 5, 5] -> a 1x1 convolution [2M, 12M] over the taps, input channel (tap, channel).
        let w = try contextWeight.floats(), m = latent
        var matrix = [Float](repeating: 0, count: 2 * m * 12 * m)
        for o in 0..<(2 * m) {
            for (t, tap) in Self.taps.enumerated() {
                for c in 0..<m { matrix[(o * 12 + t) * m + c] = w[((o * m + c) * 5 + tap.row) * 5 + tap.column] }
            }
        }
        contextMatrix = try Tensor.values(matrix, shape: [2 * m, 12 * m, 1, 1], host: host)
    }

    /// Codes (`y` given) or decodes the latent wavefront by wavefront. A wave
    /// of P positions is laid out as a [1, C, 1, P] image, so every layer is a
    /// 1x1 convolution (the exact kernels' vectorized tile).
    private func code(_ y: [Float]?, shape: [Int], condition: Tensor?, quantizer: QuantizerHandle, context: CallContext,
                      coding: CodingContext) throws -> EntropyOutputs {
        guard let coder, let contextMatrix else { throw PluginError(.invalidArgument, "lic.entropy.autoregressive: coding before prepare_coding") }
        try CodingHelpers.requireStateless(quantizer, context: context, model: "lic.entropy.autoregressive", stage: "entropy")
        let condition = try checkCondition(condition, latent: shape).floats()
        let (batch, m, height, width) = (shape[0], latent, shape[2], shape[3])
        let plane = height * width
        var yHat = [Float](repeating: 0, count: batch * m * plane)
        var allScales = yHat, allMeans = yHat
        let encoder = y == nil ? nil : try coding.openEncoder()
        let decoder = y == nil ? try coding.openDecoder() : nil
        let scope = try quantizer.beginScope(context: context)
        for b in 0..<batch {
            let base = b * m * plane
            // Positions (h, w) with w + 3h = wave; an empty latent has none.
            for wave in 0..<(height > 0 && width > 0 ? width + 3 * (height - 1) : 0) {
                let positions = (0..<height).compactMap { h -> (Int, Int)? in
                    let w = wave - 3 * h
                    return w >= 0 && w < width ? (h, w) : nil
                }
                guard !positions.isEmpty else { continue }
                let count = positions.count
                // Each position's 12 context taps over the decoded y_hat (zeros outside the latent), and its hyper output.
                var taps = [Float](repeating: 0, count: 12 * m * count)
                var hyper = [Float](repeating: 0, count: 2 * m * count)
                for (p, (h, w)) in positions.enumerated() {
                    for (t, tap) in Self.taps.enumerated() {
                        let (row, column) = (h + tap.row - 2, w + tap.column - 2)
                        guard row >= 0, column >= 0, column < width else { continue }
                        for c in 0..<m { taps[(t * m + c) * count + p] = yHat[base + c * plane + row * width + column] }
                    }
                    for c in 0..<(2 * m) { hyper[c * count + p] = condition[(b * 2 * m + c) * plane + h * width + w] }
                }
                let contextFeatures = try Tensor.values(taps, shape: [1, 12 * m, 1, count], host: host).conv2d(contextMatrix, bias: contextBias)
                var h = try Tensor.concatenate([Tensor.values(hyper, shape: [1, 2 * m, 1, count], host: host), contextFeatures], axis: 1)
                for (index, layer) in parameters.enumerated() {
                    h = try layer.apply(h)
                    if index < parameters.count - 1 { h = try h.leakyRelu() }
                }
                // Channel-major [c * count + p]; the wave's elements are coded in (channel, position) order.
                let scales = try h.sliced(axis: 1, start: 0, length: m).lowerBounded(scaleBound).floats()
                let means = try h.sliced(axis: 1, start: m, length: m).floats()
                var symbols = [Int32](repeating: 0, count: count * m), reconstruction = [Float](repeating: 0, count: count * m)
                if let y, let encoder {
                    var values = [Float](repeating: 0, count: count * m)
                    for (p, (h, w)) in positions.enumerated() {
                        for c in 0..<m { values[c * count + p] = y[base + c * plane + h * width + w] }
                    }
                    try values.withUnsafeBufferPointer { v in try means.withUnsafeBufferPointer { mu in try scales.withUnsafeBufferPointer { s in
                        try symbols.withUnsafeMutableBufferPointer { q in try reconstruction.withUnsafeMutableBufferPointer {
                            try scope.quantize(v, means: mu, scales: s, symbols: q, reconstruction: $0) } } } } }
                    try symbols.withUnsafeBufferPointer { q in try scales.withUnsafeBufferPointer { try coder.encode(q, scales: $0, into: encoder) } }
                } else if let decoder {
                    try symbols.withUnsafeMutableBufferPointer { q in try scales.withUnsafeBufferPointer { try coder.decode(into: q, scales: $0, from: decoder) } }
                    try symbols.withUnsafeBufferPointer { q in try means.withUnsafeBufferPointer { mu in
                        try reconstruction.withUnsafeMutableBufferPointer { try scope.dequantize(q, means: mu, into: $0) } } }
                }
                for (p, (h, w)) in positions.enumerated() {
                    for c in 0..<m {
                        let index = base + c * plane + h * width + w
                        (yHat[index], allScales[index], allMeans[index]) = (reconstruction[c * count + p], scales[c * count + p], means[c * count + p])
                    }
                }
            }
        }
        return EntropyOutputs(yHat: try Tensor.values(yHat, shape: shape, host: host), means: try Tensor.values(allMeans, shape: shape, host: host),
                              scales: try Tensor.values(allScales, shape: shape, host: host))
    }

    func encode(_ y: Tensor, condition: Tensor?, quantizer: QuantizerHandle, context: CallContext, coding: CodingContext) throws -> EntropyOutputs {
        try code(try y.floats(), shape: try y.shape, condition: condition, quantizer: quantizer, context: context, coding: coding)
    }

    func decode(shape: [Int], condition: Tensor?, quantizer: QuantizerHandle, context: CallContext, coding: CodingContext) throws -> EntropyOutputs {
        try code(nil, shape: shape, condition: condition, quantizer: quantizer, context: context, coding: coding)
    }
}
