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
/// `network` picks the slice networks (SliceParameterNetworks): "minnen"
/// (the above) or "elic", CompressAI's Elic2022Official (channel context and
/// parameter aggregation over [spatial context, channel context, hyper
/// output], whose channels `hyper_channels` gives; needs `checkerboard`, no
/// `lrp`).
final class ChannelWise: LearnedEntropyModelComponent {
    static let schema: [ParamSpec] = [
        .int("latent", default: 192, range: 1...1024, "Latent channels M"),
        .string("groups", default: "power:1.7:5", "Slice sizes: even:S, elic, power:K:S or a list like 16,16,32,64,64"),
        .int("max_support", default: 5, range: 0...1024, "Previous slices (the first ones) each slice's networks see"),
        .bool("lrp", default: true, "Latent residual prediction on every slice"),
        .bool("checkerboard", default: false, "ELIC's space-channel context: a checkerboard inside every slice"),
        .enumeration("network", ["minnen", "elic"], default: "minnen",
                     "Slice networks: Minnen & Singh's mean/scale/LRP networks, or CompressAI Elic2022Official's channel context and parameter aggregation"),
        .int("hyper_channels", default: 0, range: 0...4096,
             "Channels of the hyper synthesis output (the condition); 0: 2 x latent, the mean-scale hyperprior's (minnen needs that)"),
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
    let networks: any SliceParameterNetworks
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
        let checkerboard = try params.bool("checkerboard"), lrp = try params.bool("lrp")
        let hyperChannels = Int(try params.int("hyper_channels"))
        let (sizes, offsets, maxSupport) = (sizes, offsets, maxSupport)
        let supportChannels = sizes.indices.map { offsets[min($0, maxSupport)] }
        let spatialChannels = sizes.map { checkerboard ? 2 * $0 : 0 }
        spatialNets = checkerboard ? try sizes.indices.map { i in
            try ConvLayer(name: "spatial_context.\(i)", from: sizes[i], to: 2 * sizes[i], kernel: 5, stride: 1, seed: seed, host: host)
        } : []
        if try params.string("network") == "elic" {
            guard checkerboard, !lrp else {
                throw PluginError(.invalidArgument, "lic.entropy.channelwise: network = \"elic\" needs checkerboard = true and lrp = false (ELIC's space-channel context has no latent residual prediction)")
            }
            networks = try ElicSliceNetworks(sizes: sizes, conditionChannels: hyperChannels == 0 ? 2 * latent : hyperChannels,
                                             supportChannels: supportChannels, spatialChannels: spatialChannels, seed: seed, host: host)
        } else {
            guard hyperChannels == 0 || hyperChannels == 2 * latent else {
                throw PluginError(.invalidArgument, "lic.entropy.channelwise: network = \"minnen\" reads the mean-scale hyper output of 2 x latent = \(2 * latent) channels; hyper_channels = \(hyperChannels)")
            }
            networks = try MinnenSliceNetworks(sizes: sizes, latent: latent, supportChannels: supportChannels, spatialChannels: spatialChannels,
                                               lrp: lrp, seed: seed, host: host)
        }
    }

    /// The condition (the hyper synthesis output), checked against y's shape and the networks.
    func checkedCondition(_ condition: Tensor?, latent shape: [Int]) throws -> Tensor {
        guard shape.count == 4, shape[1] == latent else {
            throw PluginError(.invalidArgument, "lic.entropy.channelwise: latent \(shape) does not have parameter latent = \(latent) channels")
        }
        let channels = networks.conditionChannels
        guard let condition, try condition.shape == [shape[0], channels, shape[2], shape[3]] else {
            throw PluginError(.invalidArgument, "lic.entropy.channelwise needs the hyper synthesis output [B, \(channels), H, W] as its condition")
        }
        return condition
    }

    /// Slice i's (means, scales) from the condition and its context from the
    /// refined slices decoded so far (`sliceContext`); with `checkerboard`,
    /// also from the spatial context of its decoded anchors (`anchors` nil:
    /// the anchors' own pass, zeros).
    func parameters(_ i: Int, condition: Tensor, sliceContext: [Tensor], anchors: Tensor? = nil,
                    shape: [Int]) throws -> (means: Tensor, scales: Tensor) {
        var spatial: Tensor?
        if !spatialNets.isEmpty {
            let nonAnchors = try Checkerboard.anchorMask(shape, host: host) * -1 + 1
            spatial = try anchors.map { try spatialNets[i].apply($0) * nonAnchors }
                ?? Tensor.zeros([shape[0], 2 * sizes[i], shape[2], shape[3]], host: host)
        }
        let p = try networks.parameters(i, condition: condition, context: sliceContext, spatial: spatial)
        return (p.means, try p.scales.lowerBounded(scaleBound))
    }

    /// Slice i's (means, scales): one pass, or with `checkerboard` the
    /// anchors' pass at the anchors and the second pass elsewhere. `anchorsHat`
    /// gives the slice's y_hat (valid at the anchors) from the first pass's means.
    func sliceParameters(_ i: Int, condition: Tensor, decoded: [Tensor], shape: [Int],
                         anchorsHat: ((means: Tensor, scales: Tensor)) throws -> Tensor) throws -> (means: Tensor, scales: Tensor) {
        // Computed once for both passes (ELIC's channel context is most of the work).
        let sliceContext = try networks.sliceContext(i, support: Array(decoded.prefix(min(i, maxSupport))))
        let first = try parameters(i, condition: condition, sliceContext: sliceContext, shape: shape)
        guard !spatialNets.isEmpty else { return first }
        let mask = try Checkerboard.anchorMask(shape, host: host)
        let second = try parameters(i, condition: condition, sliceContext: sliceContext, anchors: try anchorsHat(first) * mask, shape: shape)
        let other = try mask * -1 + 1
        return (try first.means * mask + second.means * other, try first.scales * mask + second.scales * other)
    }

    /// y_hat_i as the next slices see it (refined by the networks, e.g. latent residual prediction).
    func refined(_ i: Int, _ yHat: Tensor, condition: Tensor, decoded: [Tensor]) throws -> Tensor {
        try networks.refined(i, yHat, condition: condition, support: Array(decoded.prefix(min(i, maxSupport))))
    }

    func forward(_ y: Tensor, condition: Tensor?, quantizer: QuantizerHandle, context: CallContext) throws -> EntropyOutputs {
        let shape = try y.shape
        let condition = try checkedCondition(condition, latent: shape)
        var decoded: [Tensor] = [], likelihoods: [Tensor] = [], means: [Tensor] = [], scales: [Tensor] = []
        for i in sizes.indices {
            // In the whole latent's frame: the quantizer seeds its noise by the call and the shape, so equal-sized
            // slices quantized alone would all get the same noise.
            let surrogate = { (means: Tensor, use: SurrogateUse) in
                try quantizer.surrogate(y, means: self.inFrame(means, slice: i, shape), context: context, use: use)
                    .sliced(axis: 1, start: self.offsets[i], length: self.sizes[i])
            }
            let sliceShape = [shape[0], sizes[i], shape[2], shape[3]]
            let p = try sliceParameters(i, condition: condition, decoded: decoded, shape: sliceShape) { try surrogate($0.means, .reconstruction) }
            let yHat = try surrogate(p.means, .reconstruction)
            let centered = try (surrogate(p.means, .rate) - p.means).abs()
            likelihoods.append(try Tensor.gaussianCellLikelihood(centered: centered, scales: p.scales))
            decoded.append(try refined(i, yHat, condition: condition, decoded: decoded))
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
        let condition = try checkedCondition(condition, latent: shape)
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
            let p = try sliceParameters(i, condition: condition, decoded: decoded, shape: sliceShape) { first in
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
            decoded.append(try refined(i, slice, condition: condition, decoded: decoded))
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
