import CLIC
import LICPluginKit

/// A minimal checkerboard context model (He et al. 2021) on the ABI 1.2
/// services: anchors ((row + column) even) are coded first from the
/// hyperprior alone; the other half from the hyperprior plus a 5x5
/// convolution over the decoded anchors. Entropy parameters come from a 1x1
/// convolution over [hyper output, context] (`network = "linear"`), or, with
/// `network = "compressai"`, CompressAI's (cheng2020-anchor-checkerboard):
/// three 1x1 layers 4M -> 10M/3 -> 8M/3 -> 2M with leaky ReLU over [context,
/// hyper output], named context_prediction.* and entropy_parameters.0/2/4.*.
/// Each half is one masked call to the host's Gaussian coder. The condition
/// is the mean-scale hyper synthesis output [B, 2M, H, W].
final class Checkerboard: LearnedEntropyModelComponent {
    static let schema: [ParamSpec] = [
        .int("latent", default: 192, range: 1...1024, "Latent channels M"),
        .float("scale_bound", default: 0.11, min: 1e-6, max: 10, "Lower bound of the scales"),
        .enumeration("network", ["linear", "compressai"], default: "linear",
                     "Entropy-parameter network: one 1x1 layer, or CompressAI's three (with its parameter names)"),
        .int("seed", default: 0, range: 0...Int64(Int32.max), "Seed of the weight initialization"),
    ]

    let host: Host
    let latent: Int
    let scaleBound: Float
    let context: ConvLayer
    /// The entropy-parameter layers (leaky ReLU between), and whether the context comes first in their input.
    let parameters: [ConvLayer]
    let contextFirst: Bool
    private var coder: GaussianCoder?

    init(params: Params, host: Host) throws {
        self.host = host
        latent = Int(try params.int("latent"))
        scaleBound = Float(try params.float("scale_bound"))
        let seed = UInt64(try params.int("seed"))
        if try params.string("network") == "compressai" {
            let m = latent
            context = try ConvLayer(name: "context_prediction", from: m, to: 2 * m, kernel: 5, stride: 1, seed: seed, host: host)
            let widths = [4 * m, m * 10 / 3, m * 8 / 3, 2 * m]
            parameters = try (0..<3).map { i in
                try ConvLayer(name: "entropy_parameters.\(2 * i)", from: widths[i], to: widths[i + 1], kernel: 1, stride: 1, seed: seed, host: host)
            }
            contextFirst = true
        } else {
            context = try ConvLayer(index: 0, from: latent, to: 2 * latent, kernel: 5, stride: 1, transposed: false, seed: seed, host: host)
            parameters = [try ConvLayer(index: 1, from: 4 * latent, to: 2 * latent, kernel: 1, stride: 1, transposed: false, seed: seed, host: host)]
            contextFirst = false
        }
    }

    /// 1 at anchors ((i + j) even), 0 elsewhere, broadcast over batch and channels.
    func anchorMask(_ shape: [Int]) throws -> Tensor { try Self.anchorMask(shape, host: host) }

    /// 1 at anchors, per element of a latent of `shape`.
    static func anchorBytes(_ shape: [Int]) -> [UInt8] {
        let (plane, width) = (shape[2] * shape[3], shape[3])
        return (0..<shape.reduce(1, *)).map { i in ((i % plane) / width + i % width) % 2 == 0 ? 1 : 0 }
    }

    static func anchorMask(_ shape: [Int], host: Host) throws -> Tensor {
        let (h, w) = (shape[2], shape[3])
        return try Tensor.values((0..<(h * w)).map { ($0 / w + $0 % w) % 2 == 0 ? 1 : 0 }, shape: [1, 1, h, w], host: host)
    }

    /// (scales, means) from the hyper output and the anchors' y_hat (zeros where not decoded yet).
    func distribution(_ condition: Tensor?, anchors: Tensor?, latent shape: [Int]) throws -> (scales: Tensor, means: Tensor) {
        guard shape.count == 4, shape[1] == latent else {
            throw PluginError(.invalidArgument, "lic.entropy.checkerboard: latent \(shape) does not have parameter latent = \(latent) channels")
        }
        guard let condition, try condition.shape == [shape[0], 2 * latent, shape[2], shape[3]] else {
            throw PluginError(.invalidArgument, "lic.entropy.checkerboard needs the mean-scale hyper output [B, 2M, H, W] as its condition")
        }
        let nonAnchors = try anchorMask(shape) * -1 + 1
        let contextFeatures = try anchors.map { try context.apply($0) * nonAnchors } ?? Tensor.zeros([shape[0], 2 * latent, shape[2], shape[3]], host: host)
        var out = try Tensor.concatenate(contextFirst ? [contextFeatures, condition] : [condition, contextFeatures], axis: 1)
        for (index, layer) in parameters.enumerated() {
            out = try layer.apply(out)
            if index < parameters.count - 1 { out = try out.leakyRelu() }
        }
        return (try out.sliced(axis: 1, start: 0, length: latent).lowerBounded(scaleBound), try out.sliced(axis: 1, start: latent, length: latent))
    }

    func forward(_ y: Tensor, condition: Tensor?, quantizer: QuantizerHandle, context: CallContext) throws -> EntropyOutputs {
        let shape = try y.shape
        let first = try distribution(condition, anchors: nil, latent: shape)
        let anchors = try quantizer.surrogate(y, means: first.means, context: context, use: .reconstruction) * anchorMask(shape)
        let (scales, means) = try distribution(condition, anchors: anchors, latent: shape)
        let (rateInput, yHat) = try quantizer.surrogates(y, means: means, context: context)
        let centered = try (rateInput - means).abs()
        let likelihoods = try Tensor.gaussianCellLikelihood(centered: centered, scales: scales)
        return EntropyOutputs(yHat: yHat, likelihoods: likelihoods, means: means, scales: scales)
    }

    func auxiliaryLoss(context: CallContext) throws -> Tensor? { nil }

    func prepareCoding() throws {
        coder = try GaussianCoder(scales: GaussianConditional.ladder(low: Double(scaleBound), high: 256, levels: 64), tailMass: 1e-9, host: host)
    }

    /// Codes (or, with `values` nil, decodes) one half into a stream of its own, filling it in `yHat`.
    private func half(_ anchor: Bool, values: [Float]?, yHat: inout [Float], scales: Tensor, means: Tensor, shape: [Int],
                      quantizer: QuantizerHandle, context: CallContext, coding: CodingContext) throws {
        guard let coder else { throw PluginError(.invalidArgument, "lic.entropy.checkerboard: coding before prepare_coding") }
        let (s, m) = (try scales.floats(), try means.floats())
        let anchors = Self.anchorBytes(shape)
        let mask = anchor ? anchors : anchors.map { 1 - $0 }
        let chosen = mask.indices.filter { mask[$0] != 0 }
        let partMeans = chosen.map { m[$0] }
        var symbols = [Int32](repeating: 0, count: s.count)
        var part = [Float](repeating: 0, count: chosen.count), partSymbols = [Int32](repeating: 0, count: chosen.count)
        let scope = try quantizer.beginScope(context: context)
        if let values {
            let partValues = chosen.map { values[$0] }, partScales = chosen.map { s[$0] }
            try partValues.withUnsafeBufferPointer { v in try partMeans.withUnsafeBufferPointer { pm in try partScales.withUnsafeBufferPointer { ps in
                try partSymbols.withUnsafeMutableBufferPointer { sym in try part.withUnsafeMutableBufferPointer { rec in
                    try scope.quantize(v, means: pm, scales: ps, symbols: sym, reconstruction: rec) } } } } }
            for (k, i) in chosen.enumerated() { symbols[i] = partSymbols[k] }
            let encoder = try coding.openEncoder()
            try symbols.withUnsafeBufferPointer { sym in try s.withUnsafeBufferPointer { sc in
                try mask.withUnsafeBufferPointer { try coder.encode(sym, scales: sc, mask: $0, into: encoder) } } }
        } else {
            let decoder = try coding.openDecoder()
            try symbols.withUnsafeMutableBufferPointer { sym in try s.withUnsafeBufferPointer { sc in
                try mask.withUnsafeBufferPointer { try coder.decode(into: sym, scales: sc, mask: $0, from: decoder) } } }
            partSymbols = chosen.map { symbols[$0] }
            try partSymbols.withUnsafeBufferPointer { sym in try partMeans.withUnsafeBufferPointer { pm in
                try part.withUnsafeMutableBufferPointer { try scope.dequantize(sym, means: pm, into: $0) } } }
        }
        for (k, i) in chosen.enumerated() { yHat[i] = part[k] }
    }

    /// Both halves in order (anchors first, each in a stream of its own); `y` nil decodes.
    private func code(_ y: Tensor?, shape: [Int], condition: Tensor?, quantizer: QuantizerHandle, context: CallContext,
                      coding: CodingContext) throws -> EntropyOutputs {
        try CodingHelpers.requireStateless(quantizer, context: context, model: "lic.entropy.checkerboard", stage: "entropy")
        let values = try y?.floats()
        var yHat = [Float](repeating: 0, count: shape.reduce(1, *))
        let first = try distribution(condition, anchors: nil, latent: shape)
        try half(true, values: values, yHat: &yHat, scales: first.scales, means: first.means, shape: shape, quantizer: quantizer,
                 context: context, coding: coding)
        let (scales, means) = try distribution(condition, anchors: Tensor.values(yHat, shape: shape, host: host), latent: shape)
        try half(false, values: values, yHat: &yHat, scales: scales, means: means, shape: shape, quantizer: quantizer,
                 context: context, coding: coding)
        return EntropyOutputs(yHat: try Tensor.values(yHat, shape: shape, host: host), means: means, scales: scales)
    }

    func encode(_ y: Tensor, condition: Tensor?, quantizer: QuantizerHandle, context: CallContext, coding: CodingContext) throws -> EntropyOutputs {
        try code(y, shape: try y.shape, condition: condition, quantizer: quantizer, context: context, coding: coding)
    }

    func decode(shape: [Int], condition: Tensor?, quantizer: QuantizerHandle, context: CallContext, coding: CodingContext) throws -> EntropyOutputs {
        try code(nil, shape: shape, condition: condition, quantizer: quantizer, context: context, coding: coding)
    }
}
