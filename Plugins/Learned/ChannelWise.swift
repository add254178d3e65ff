import CLIC
import LICPluginKit

/// Channel-wise autoregressive context model (Minnen & Singh 2020, ChARM):
/// the latent is split into slices along channels (`groups`, see
/// ChannelGroups); slice i's means and scales come from conv networks over
/// the hyperprior's means (scales) and the decoded y_hat of the first
/// min(i, max_support) slices, as in Minnen & Singh and CompressAI-based
/// code. With `lrp`, latent residual prediction refines each decoded slice:
/// y_hat_i += 0.5 tanh(lrp_i([hyper means, support, y_hat_i])). The
/// condition is the mean-scale hyper synthesis output [B, 2M, H, W]
/// (scales, then means). Coding: one stream, one Gaussian coder call per
/// slice, everything that decides a table computed through the op table.
/// With `checkerboard` (ELIC's space-channel context, He et al. 2022), each
/// slice is coded in two halves: its anchors ((row + column) even) from the
/// hyperprior and earlier slices, then the rest also from a 5x5 convolution
/// ("spatial_context.<i>", size -> 2 x size channels) over the slice's
/// decoded anchors, added as input channels of the slice's mean and scale
/// networks (zeros for the anchors' pass).
final class ChannelWise: LearnedEntropyModelComponent {
    static let schema: [ParamSpec] = [
        .int("latent", default: 192, range: 1...1024, "Latent channels M"),
        .string("groups", default: "power:1.7:5", "Slice sizes: even:S, elic, power:K:S or a list like 16,16,32,64,64"),
        .int("max_support", default: 5, range: 0...1024, "Previous slices (the first ones) each slice's networks see"),
        .bool("lrp", default: true, "Latent residual prediction on every slice"),
        .bool("checkerboard", default: false, "ELIC's space-channel context: a checkerboard inside every slice"),
        .float("scale_bound", default: 0.11, min: 1e-6, max: 10, "Lower bound of the scales"),
        .int("seed", default: 0, range: 0...Int64(Int32.max), "Seed of the weight initialization"),
    ]

    let host: Host
    let latent: Int
    let sizes: [Int]
    /// offsets[i]: the first channel of slice i; offsets[sizes.count] == latent.
    let offsets: [Int]
    let maxSupport: Int
    let scaleBound: Float
    let meanNets: [SliceTransform], scaleNets: [SliceTransform], lrpNets: [SliceTransform]
    /// Per slice, with `checkerboard`: the 5x5 context over the slice's decoded anchors.
    let spatialNets: [ConvLayer]
    private var coder: GaussianCoder?

    init(params: Params, host: Host) throws {
        self.host = host
        latent = Int(try params.int("latent"))
        sizes = try ChannelGroups.sizes(try params.string("groups"), latent: latent)
        offsets = sizes.reduce(into: [0]) { $0.append($0.last! + $1) }
        maxSupport = Int(try params.int("max_support"))
        scaleBound = Float(try params.float("scale_bound"))
        let seed = UInt64(try params.int("seed"))
        let (m, sizes, offsets, maxSupport) = (latent, sizes, offsets, maxSupport)
        func nets(_ name: String, extra: (Int) -> Int) throws -> [SliceTransform] {
            try sizes.indices.map { i in
                try SliceTransform(name: "\(name).\(i)", from: m + offsets[min(i, maxSupport)] + extra(i), to: sizes[i], latent: m,
                                   seed: seed, host: host)
            }
        }
        let checkerboard = try params.bool("checkerboard")
        let spatialChannels = { (i: Int) in checkerboard ? 2 * sizes[i] : 0 }
        meanNets = try nets("cc_mean_transforms", extra: spatialChannels)
        scaleNets = try nets("cc_scale_transforms", extra: spatialChannels)
        spatialNets = checkerboard ? try sizes.indices.map { i in
            try ConvLayer(name: "spatial_context.\(i)", from: sizes[i], to: 2 * sizes[i], kernel: 5, stride: 1, seed: seed, host: host)
        } : []
        lrpNets = try params.bool("lrp") ? try nets("lrp_transforms") { sizes[$0] } : []
    }

    /// The condition's (scales, means) halves, checked against y's shape and `latent`.
    func hyper(_ condition: Tensor?, latent shape: [Int]) throws -> (scales: Tensor, means: Tensor) {
        guard shape.count == 4, shape[1] == latent else {
            throw PluginError(.invalidArgument, "lic.entropy.channelwise: latent \(shape) does not have parameter latent = \(latent) channels")
        }
        guard let condition, try condition.shape == [shape[0], 2 * latent, shape[2], shape[3]] else {
            throw PluginError(.invalidArgument, "lic.entropy.channelwise needs the mean-scale hyper output [B, 2M, H, W] as its condition")
        }
        return (try condition.sliced(axis: 1, start: 0, length: latent), try condition.sliced(axis: 1, start: latent, length: latent))
    }

    /// [first, rest...] along channels (a single tensor as is).
    func joined(_ first: Tensor, _ rest: [Tensor]) throws -> Tensor {
        rest.isEmpty ? first : try Tensor.concatenate([first] + rest, axis: 1)
    }

    /// Slice i's (means, scales) from the hyperprior and the refined slices
    /// decoded so far; with `checkerboard`, also from the spatial context of
    /// its decoded anchors (`anchors` nil: the anchors' own pass, zeros).
    func parameters(_ i: Int, hyper: (scales: Tensor, means: Tensor), decoded: [Tensor], anchors: Tensor? = nil,
                    shape: [Int]) throws -> (means: Tensor, scales: Tensor) {
        var support = Array(decoded.prefix(min(i, maxSupport)))
        if !spatialNets.isEmpty {
            let nonAnchors = try Checkerboard.anchorMask(shape, host: host) * -1 + 1
            support.append(try anchors.map { try spatialNets[i].apply($0) * nonAnchors }
                           ?? Tensor.zeros([shape[0], 2 * sizes[i], shape[2], shape[3]], host: host))
        }
        return (try meanNets[i].apply(joined(hyper.means, support)),
                try scaleNets[i].apply(joined(hyper.scales, support)).lowerBounded(scaleBound))
    }

    /// Slice i's (means, scales): one pass, or with `checkerboard` the
    /// anchors' pass at the anchors and the second pass elsewhere. `anchorsHat`
    /// gives the slice's y_hat (valid at the anchors) from the first pass's means.
    func sliceParameters(_ i: Int, hyper: (scales: Tensor, means: Tensor), decoded: [Tensor], shape: [Int],
                         anchorsHat: ((means: Tensor, scales: Tensor)) throws -> Tensor) throws -> (means: Tensor, scales: Tensor) {
        let first = try parameters(i, hyper: hyper, decoded: decoded, shape: shape)
        guard !spatialNets.isEmpty else { return first }
        let mask = try Checkerboard.anchorMask(shape, host: host)
        let second = try parameters(i, hyper: hyper, decoded: decoded, anchors: try anchorsHat(first) * mask, shape: shape)
        let other = try mask * -1 + 1
        return (try first.means * mask + second.means * other, try first.scales * mask + second.scales * other)
    }

    /// y_hat_i plus latent residual prediction (as is without `lrp`).
    func refined(_ i: Int, _ yHat: Tensor, hyper: (scales: Tensor, means: Tensor), decoded: [Tensor]) throws -> Tensor {
        guard !lrpNets.isEmpty else { return yHat }
        let support = Array(decoded.prefix(min(i, maxSupport)))
        return try yHat + lrpNets[i].apply(joined(hyper.means, support + [yHat])).tanh() * 0.5
    }

    func forward(_ y: Tensor, condition: Tensor?, quantizer: QuantizerHandle, context: CallContext) throws -> EntropyOutputs {
        let shape = try y.shape
        let hyper = try hyper(condition, latent: shape)
        var decoded: [Tensor] = [], likelihoods: [Tensor] = [], means: [Tensor] = [], scales: [Tensor] = []
        for i in sizes.indices {
            // In the whole latent's frame: the quantizer seeds its noise by the call and the shape, so equal-sized
            // slices quantized alone would all get the same noise.
            let surrogate = { (means: Tensor) in
                try quantizer.surrogate(y, means: self.inFrame(means, slice: i, shape), context: context)
                    .sliced(axis: 1, start: self.offsets[i], length: self.sizes[i])
            }
            let sliceShape = [shape[0], sizes[i], shape[2], shape[3]]
            let p = try sliceParameters(i, hyper: hyper, decoded: decoded, shape: sliceShape) { try surrogate($0.means) }
            let yHat = try surrogate(p.means)
            let centered = try (yHat - p.means).abs()
            likelihoods.append(try (((centered * -1 + 0.5) / p.scales).gaussianCDF() - ((centered * -1 - 0.5) / p.scales).gaussianCDF())
                .lowerBounded(1e-9))
            decoded.append(try refined(i, yHat, hyper: hyper, decoded: decoded))
            (means, scales) = (means + [p.means], scales + [p.scales])
        }
        return EntropyOutputs(yHat: try Tensor.concatenate(decoded, axis: 1), likelihoods: try Tensor.concatenate(likelihoods, axis: 1),
                              means: try Tensor.concatenate(means, axis: 1), scales: try Tensor.concatenate(scales, axis: 1))
    }

    /// Slice i's means at its channels of a latent of `shape`, zeros elsewhere.
    private func inFrame(_ means: Tensor, slice i: Int, _ shape: [Int]) throws -> Tensor {
        let zeros = { (channels: Int) in try Tensor.zeros([shape[0], channels, shape[2], shape[3]], host: self.host) }
        let before = offsets[i] > 0 ? [try zeros(offsets[i])] : []
        let after = offsets[i + 1] < latent ? [try zeros(latent - offsets[i + 1])] : []
        return before.isEmpty && after.isEmpty ? means : try Tensor.concatenate(before + [means] + after, axis: 1)
    }

    func auxiliaryLoss(context: CallContext) throws -> Tensor? { nil }

    func prepareCoding() throws {
        coder = try GaussianCoder(scales: GaussianConditional.ladder(low: Double(scaleBound), high: 256, levels: 64), tailMass: 1e-9, host: host)
    }

    /// Slices in order into (or, with `y` nil, from) one stream: each slice's
    /// parameters from the refined slices before it, the same ops on both sides.
    private func code(_ y: Tensor?, shape: [Int], condition: Tensor?, quantizer: QuantizerHandle, context: CallContext,
                      coding: CodingContext) throws -> EntropyOutputs {
        guard let coder else { throw PluginError(.invalidArgument, "lic.entropy.channelwise: coding before prepare_coding") }
        try CodingHelpers.requireStateless(quantizer, context: context, model: "lic.entropy.channelwise", stage: "entropy")
        let hyper = try hyper(condition, latent: shape)
        let step = try CodingHelpers.step(of: quantizer, context: context)
        let encoder = try y.map { _ in try coding.openEncoder() }
        let decoder = y == nil ? try coding.openDecoder() : nil
        var decoded: [Tensor] = [], means: [Tensor] = [], scales: [Tensor] = []
        for i in sizes.indices {
            let sliceShape = [shape[0], sizes[i], shape[2], shape[3]]
            let values = try y.map { try $0.sliced(axis: 1, start: offsets[i], length: sizes[i]).floats() }
            // Codes (or decodes) the elements `mask` selects (all: nil) with these parameters; y_hat, valid there.
            func codeElements(_ p: (means: Tensor, scales: Tensor), mask: [UInt8]?) throws -> [Float] {
                let (m, s) = (try p.means.floats(), try p.scales.floats())
                // The coder picks tables by scale in quantization steps.
                let stepScales = step == 1 ? s : s.map { $0 / step }
                if let values, let encoder {
                    let (symbols, reconstruction) = try CodingHelpers.quantize(values, means: m, scales: s, quantizer: quantizer, context: context)
                    try symbols.withUnsafeBufferPointer { sym in try stepScales.withUnsafeBufferPointer { sc in
                        try Self.withMask(mask) { try coder.encode(sym, scales: sc, mask: $0, into: encoder) } } }
                    return reconstruction
                } else if let decoder {
                    var symbols = [Int32](repeating: 0, count: s.count)
                    try symbols.withUnsafeMutableBufferPointer { sym in try stepScales.withUnsafeBufferPointer { sc in
                        try Self.withMask(mask) { try coder.decode(into: sym, scales: sc, mask: $0, from: decoder) } } }
                    return try CodingHelpers.dequantize(symbols, means: m, quantizer: quantizer, context: context)
                }
                throw PluginError(.internalError, "lic.entropy.channelwise: neither encoding nor decoding")
            }
            var yHat: [Float] = []
            let anchors = spatialNets.isEmpty ? nil : Checkerboard.anchorBytes(sliceShape)
            let p = try sliceParameters(i, hyper: hyper, decoded: decoded, shape: sliceShape) { first in
                yHat = try codeElements(first, mask: anchors)
                return try Tensor.values(yHat, shape: sliceShape, host: host)
            }
            if let anchors {
                let rest = try codeElements(p, mask: anchors.map { 1 - $0 })
                for k in yHat.indices where anchors[k] == 0 { yHat[k] = rest[k] }
            } else {
                yHat = try codeElements(p, mask: nil)
            }
            let slice = try Tensor.values(yHat, shape: sliceShape, host: host)
            decoded.append(try refined(i, slice, hyper: hyper, decoded: decoded))
            (means, scales) = (means + [p.means], scales + [p.scales])
        }
        return EntropyOutputs(yHat: try Tensor.concatenate(decoded, axis: 1), means: try Tensor.concatenate(means, axis: 1),
                              scales: try Tensor.concatenate(scales, axis: 1))
    }

    private static func withMask<R>(_ mask: [UInt8]?, _ body: (UnsafeBufferPointer<UInt8>?) throws -> R) rethrows -> R {
        guard let mask else { return try body(nil) }
        return try mask.withUnsafeBufferPointer { try body($0) }
    }

    func encode(_ y: Tensor, condition: Tensor?, quantizer: QuantizerHandle, context: CallContext, coding: CodingContext) throws -> EntropyOutputs {
        try code(y, shape: try y.shape, condition: condition, quantizer: quantizer, context: context, coding: coding)
    }

    func decode(shape: [Int], condition: Tensor?, quantizer: QuantizerHandle, context: CallContext, coding: CodingContext) throws -> EntropyOutputs {
        try code(nil, shape: shape, condition: condition, quantizer: quantizer, context: context, coding: coding)
    }
}
