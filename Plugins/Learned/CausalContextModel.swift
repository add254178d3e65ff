import CLIC
import LICPluginKit

/// The CCA regularizer's auxiliary channel-wise entropy model (Han et al.,
/// NeurIPS 2024): the main channel-wise model's slices (ChannelGroups) and
/// slice networks (SliceTransform), but slice i's means and scales see the
/// hyperprior and only the decoded slices 0..i-2 - one slice less than the
/// main model - so slices 0 and 1 see the hyperprior alone. No latent
/// residual prediction: its support is the main model's decoded y_hat.
/// Parameters in group LIC_GROUP_REGULARIZER: "cc_mean_transforms.<i>.*",
/// "cc_scale_transforms.<i>.*".
struct CausalContextModel {
    let latent: Int
    let sizes: [Int]
    /// offsets[i]: the first channel of slice i; offsets[sizes.count] == latent.
    let offsets: [Int]
    let scaleBound: Float
    let meanNets: [SliceTransform], scaleNets: [SliceTransform]

    init(latent m: Int, sizes: [Int], scaleBound: Float, seed: UInt64, host: Host) throws {
        let offsets = sizes.reduce(into: [0]) { $0.append($0.last! + $1) }
        func nets(_ name: String) throws -> [SliceTransform] {
            try sizes.indices.map { i in
                try SliceTransform(name: "\(name).\(i)", from: m + offsets[Self.support(i)], to: sizes[i], latent: m, seed: seed, host: host,
                                   group: LIC_GROUP_REGULARIZER)
            }
        }
        (latent, self.sizes, self.offsets, self.scaleBound) = (m, sizes, offsets, scaleBound)
        meanNets = try nets("cc_mean_transforms")
        scaleNets = try nets("cc_scale_transforms")
    }

    /// How many decoded slices slice i sees: i - 1 (none for slices 0 and 1).
    static func support(_ i: Int) -> Int { max(i - 1, 0) }

    /// Means and scales [B, M, H, W] of every slice, from the hyper
    /// synthesis output [B, 2M, H, W] (scales, then means) and the decoded latent.
    func parameters(hyperScales: Tensor, hyperMeans: Tensor, decoded: Tensor) throws -> (means: Tensor, scales: Tensor) {
        var means: [Tensor] = [], scales: [Tensor] = []
        for i in sizes.indices {
            let seen = offsets[Self.support(i)]
            let support = seen == 0 ? [] : [try decoded.sliced(axis: 1, start: 0, length: seen)]
            means.append(try meanNets[i].apply(seen == 0 ? hyperMeans : Tensor.concatenate([hyperMeans] + support, axis: 1)))
            scales.append(try scaleNets[i].apply(seen == 0 ? hyperScales : Tensor.concatenate([hyperScales] + support, axis: 1))
                .lowerBounded(scaleBound))
        }
        return (try Tensor.concatenate(means, axis: 1), try Tensor.concatenate(scales, axis: 1))
    }

    /// The discretized Gaussian's P(v - 0.5 < Y < v + 0.5), floored at 1e-9 (the main model's form).
    static func likelihood(_ values: Tensor, means: Tensor, scales: Tensor) throws -> Tensor {
        let centered = try (values - means).abs()
        return try Tensor.gaussianCellLikelihood(centered: centered, scales: scales)
    }
}
