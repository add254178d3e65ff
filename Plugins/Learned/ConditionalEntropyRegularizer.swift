import CLIC
import LICPluginKit

/// The information-theoretic regularizer of Zhang et al. (arXiv 2411.16727):
/// since H(U) = H(X) - H(X | X_hat) + H(U | X_hat), a codec that keeps the
/// conditional source entropy high spends fewer bits on its latents. The
/// term is -H_hat(X | X_hat), H_hat = E[-log2 q(x | x_hat)] under an
/// auxiliary source model q (SourceModel) fitted by maximum likelihood in
/// alternation: fit_loss = H_hat on the detached tensors (the host steps q),
/// then the codec minimizes its loss + weight * (-H_hat) with q frozen.
/// Units: bits per pixel (summed over the colour channels, averaged over
/// batch and positions; the unit of the rate term) or per subpixel.
final class ConditionalEntropyRegularizer: AlternatingRegularizerComponent {
    static let id = "lic.regularizer.conditional-entropy"
    static let schema: [ParamSpec] = [
        .int("image_channels", default: 3, range: 1...4, "Channels of x and x_hat"),
        .int("channels", default: 32, range: 1...512,
             "Hidden channels of q's network (32: about the training-time overhead the paper reports for a hyperprior codec)"),
        .int("layers", default: 3, range: 1...8, "Convolutions in q's network"),
        .int("kernel", default: 3, range: 1...7, "Odd side of q's convolutions"),
        .float("scale_bound", default: 0.11 / 255, min: 1e-6, max: 1,
               "Lower bound of q's scales (0.11 bins: the Gaussian conditional's bound, in bins of 1/255)"),
        .int("bit_depth", default: 8, range: 1...16, "x lies on the grid k / (2^bit_depth - 1); q is discretized on it"),
        .enumeration("unit", ["pixel", "subpixel"], default: "pixel",
                     "H_hat in bits per pixel (summed over channels, like bpp) or per subpixel (per colour sample)"),
        .bool("context", default: false,
              "Add a 5x5 mask-A convolution over x (the pixels before the current one) to q: for autoregressive / context-model codecs"),
        .int("seed", default: 0, range: 0...Int64(Int32.max), "Seed of q's initialization"),
    ]

    let model: SourceModel
    let perPixel: Bool

    init(params: Params, host: Host) throws {
        let kernel = Int(try params.int("kernel"))
        guard kernel % 2 == 1 else { throw PluginError(.invalidArgument, "\(Self.id): kernel = \(kernel) is even; it must be odd") }
        model = try SourceModel(imageChannels: Int(try params.int("image_channels")), hidden: Int(try params.int("channels")),
                                layers: Int(try params.int("layers")), kernel: kernel, context: try params.bool("context"),
                                scaleBound: Float(try params.float("scale_bound")), bitDepth: Int(try params.int("bit_depth")),
                                seed: UInt64(try params.int("seed")), host: host)
        perPixel = try params.string("unit") == "pixel"
    }

    /// H_hat(X | X_hat) in the configured unit.
    func conditionalEntropy(_ tensors: NamedTensors) throws -> Tensor {
        let x = try tensors.required("x", by: Self.id), xHat = try tensors.required("x_hat", by: Self.id)
        let shape = try x.shape
        guard shape.count == 4, shape.reduce(1, *) > 0 else {
            throw PluginError(.invalidArgument, "\(Self.id): x has shape \(shape), not a non-empty [N, C, H, W]")
        }
        let bits = try model.bits(x: x, xHat: xHat)
        return perPixel ? try bits.sum() / Float(shape[0] * shape[2] * shape[3]) : try bits.mean()
    }

    /// The codec's term: -H_hat, so a positive weight pushes the conditional entropy up.
    func loss(_ tensors: NamedTensors, context: CallContext) throws -> Tensor {
        try conditionalEntropy(tensors) * -1
    }

    /// Maximum likelihood of q: minimizing the cross-entropy H_hat.
    func fitLoss(_ tensors: NamedTensors, context: CallContext) throws -> Tensor? {
        try conditionalEntropy(tensors)
    }
}
