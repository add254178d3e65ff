import CLIC
import LICPluginKit

/// How lic.entropy.channelwise turns what slice i may see - the hyper
/// synthesis output, the (refined) slices decoded before it and, with a
/// checkerboard, the spatial context of its decoded anchors - into the
/// slice's Gaussian means and scales (before the scale bound), and how a
/// decoded slice is refined. One implementation per `network`.
protocol SliceParameterNetworks {
    /// The hyper synthesis output's channels the networks were built for.
    var conditionChannels: Int { get }
    /// What slice i's parameters read of its support (the decoded slices it sees): computed once per slice, shared by
    /// a checkerboard's two passes.
    func sliceContext(_ i: Int, support: [Tensor]) throws -> [Tensor]
    func parameters(_ i: Int, condition: Tensor, context: [Tensor], spatial: Tensor?) throws -> (means: Tensor, scales: Tensor)
    func refined(_ i: Int, _ yHat: Tensor, condition: Tensor, support: [Tensor]) throws -> Tensor
}

/// `network = "minnen"`: Minnen & Singh 2020's per-slice mean and scale
/// networks (SliceTransform) over [hyper means (scales), support, spatial
/// context], and with `lrp` latent residual prediction: y_hat_i +=
/// 0.5 tanh(lrp_i([hyper means, support, y_hat_i])). The condition is the
/// mean-scale hyper output [B, 2M, H, W] (scales, then means).
struct MinnenSliceNetworks: SliceParameterNetworks {
    let latent: Int
    let meanNets: [SliceTransform], scaleNets: [SliceTransform], lrpNets: [SliceTransform]
    var conditionChannels: Int { 2 * latent }

    /// `supportChannels[i]`: channels of slice i's decoded support; `spatialChannels[i]`: of its spatial context (0: none).
    init(sizes: [Int], latent m: Int, supportChannels: [Int], spatialChannels: [Int], lrp: Bool, seed: UInt64, host: Host) throws {
        latent = m
        func nets(_ name: String, extra: (Int) -> Int) throws -> [SliceTransform] {
            try sizes.indices.map { i in
                try SliceTransform(name: "\(name).\(i)", from: m + supportChannels[i] + extra(i), to: sizes[i], latent: m, seed: seed, host: host)
            }
        }
        meanNets = try nets("cc_mean_transforms") { spatialChannels[$0] }
        scaleNets = try nets("cc_scale_transforms") { spatialChannels[$0] }
        lrpNets = lrp ? try nets("lrp_transforms") { sizes[$0] } : []
    }

    private func halves(_ condition: Tensor) throws -> (scales: Tensor, means: Tensor) {
        (try condition.sliced(axis: 1, start: 0, length: latent), try condition.sliced(axis: 1, start: latent, length: latent))
    }

    func sliceContext(_ i: Int, support: [Tensor]) throws -> [Tensor] { support }

    func parameters(_ i: Int, condition: Tensor, context: [Tensor], spatial: Tensor?) throws -> (means: Tensor, scales: Tensor) {
        let hyper = try halves(condition)
        let rest = context + (spatial.map { [$0] } ?? [])
        return (try meanNets[i].apply(joined(hyper.means, rest)), try scaleNets[i].apply(joined(hyper.scales, rest)))
    }

    func refined(_ i: Int, _ yHat: Tensor, condition: Tensor, support: [Tensor]) throws -> Tensor {
        guard !lrpNets.isEmpty else { return yHat }
        return try yHat + lrpNets[i].apply(joined(halves(condition).means, support + [yHat])).tanh() * 0.5
    }
}

/// `network = "elic"`: CompressAI's Elic2022Official (He et al. 2022). Slice
/// k > 0 gets a channel context from its decoded support, three 5x5
/// convolutions support -> 224 -> 128 -> 2 size_k with ReLU between
/// ("channel_context.<k>.0/2/4"); the parameter aggregation
/// ("param_aggregation.<k>.0/2/4") is three 1x1 convolutions over
/// [spatial context, channel context, hyper output] whose widths ramp
/// linearly from the input to 2 size_k, the hidden ones at least the hyper
/// output's (CompressAI's sequential_channel_ramp), ReLU between; its output
/// is (scales, means). No latent residual prediction.
struct ElicSliceNetworks: SliceParameterNetworks {
    let sizes: [Int]
    let conditionChannels: Int
    let channelContext: [[ConvLayer]]
    let aggregation: [[ConvLayer]]

    init(sizes: [Int], conditionChannels c: Int, supportChannels: [Int], spatialChannels: [Int], seed: UInt64, host: Host) throws {
        self.sizes = sizes
        conditionChannels = c
        channelContext = try sizes.indices.map { k in
            guard supportChannels[k] > 0 else { return [] }
            let widths = [supportChannels[k], 224, 128, 2 * sizes[k]]
            return try (0..<3).map { j in
                try ConvLayer(name: "channel_context.\(k).\(2 * j)", from: widths[j], to: widths[j + 1], kernel: 5, stride: 1, seed: seed, host: host)
            }
        }
        aggregation = try sizes.indices.map { k in
            let input = spatialChannels[k] + (supportChannels[k] > 0 ? 2 * sizes[k] : 0) + c
            let widths = Self.ramp(from: input, to: 2 * sizes[k], minimum: c)
            return try (0..<3).map { j in
                try ConvLayer(name: "param_aggregation.\(k).\(2 * j)", from: widths[j], to: widths[j + 1], kernel: 1, stride: 1, seed: seed, host: host)
            }
        }
    }

    /// floor(linspace(a, b, 4)) with the two hidden widths raised to `minimum`
    /// (in integers: every value is a non-negative multiple of 1/3).
    static func ramp(from a: Int, to b: Int, minimum: Int) -> [Int] {
        (0...3).map { j in
            let value = (3 * a + (b - a) * j) / 3
            return j == 0 || j == 3 ? value : max(value, minimum)
        }
    }

    private func sequential(_ layers: [ConvLayer], _ x: Tensor) throws -> Tensor {
        var y = x
        for (index, layer) in layers.enumerated() {
            y = try layer.apply(y)
            if index < layers.count - 1 { y = try y.relu() }
        }
        return y
    }

    /// The channel context (none for a slice that sees no earlier slice).
    func sliceContext(_ i: Int, support: [Tensor]) throws -> [Tensor] {
        channelContext[i].isEmpty ? [] : [try sequential(channelContext[i], joined(support[0], Array(support.dropFirst())))]
    }

    func parameters(_ i: Int, condition: Tensor, context: [Tensor], spatial: Tensor?) throws -> (means: Tensor, scales: Tensor) {
        let inputs = (spatial.map { [$0] } ?? []) + context + [condition]
        let out = try sequential(aggregation[i], joined(inputs[0], Array(inputs.dropFirst())))
        return (try out.sliced(axis: 1, start: sizes[i], length: sizes[i]), try out.sliced(axis: 1, start: 0, length: sizes[i]))
    }

    func refined(_ i: Int, _ yHat: Tensor, condition: Tensor, support: [Tensor]) throws -> Tensor { yHat }
}

/// [first, rest...] along channels (a single tensor as is).
func joined(_ first: Tensor, _ rest: [Tensor]) throws -> Tensor {
    rest.isEmpty ? first : try Tensor.concatenate([first] + rest, axis: 1)
}
