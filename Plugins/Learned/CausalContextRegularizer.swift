import CLIC
import LICPluginKit
#if canImport(Glibc)
import Glibc
#endif

/// The Causal Context Adjustment loss (Han et al., NeurIPS 2024): an
/// auxiliary channel-wise model (CausalContextModel) whose slice i sees one
/// decoded slice less than the main model's; the term
///     L_CCA  = (sum -log2 p_main(y_hat) - sum -log2 p_aux(y_hat)) / (B*H*W)
/// rewards the main model for what its extra context slice buys, and
///     L_aux2 = sum p_aux(v) * (-log2 p_fact(v)) / (B*H*W)
/// with p_fact a factorized (EntropyBottleneck) density over the latent keeps
/// the auxiliary model from escaping L_CCA by spreading its mass. The loss is
/// alpha * L_CCA + L_aux2: the host multiplies the whole loss by the
/// descriptor's `weight`, so alpha lives here and the weight stays 1 (the
/// paper's total adds L_aux2 unscaled). H, W: the image's, so both are in
/// bits per pixel like the rate. Nothing is detached (the paper's code): the
/// gradient reaches the encoder, the main and the auxiliary models.
final class CausalContextRegularizer: RegularizerComponent {
    static let id = "lic.regularizer.cca"
    static let schema: [ParamSpec] = [
        .int("latent", default: 192, range: 1...1024, "Latent channels M (the main channel-wise model's)"),
        .string("groups", default: "power:1.7:5", "Slice sizes, as the main model's `groups` (the CCA paper's power:1.7:5)"),
        .string("condition", default: "params",
                "The named tensor of the main model's condition: the mean-scale hyper synthesis output [B, 2M, H, W] (scales, then means)"),
        .string("decoded", default: "y_hat",
                "The decoded latent: the auxiliary model's support, and where p_aux is evaluated for L_CCA"),
        .string("likelihoods", default: "y.likelihoods", "The main model's likelihoods of the latent, p_main"),
        .string("aux2_values", default: "y_hat",
                "Where L_aux2 evaluates p_aux and p_fact: the decoded latent (one p_aux for both terms, as the paper's code) or 'y' (unquantized)"),
        .float("alpha", default: 1, min: 0, max: 100, "Weight of L_CCA inside the loss (L_aux2 is added unweighted); keep the descriptor's weight 1"),
        .float("scale_bound", default: 0.11, min: 1e-6, max: 10, "Lower bound of the auxiliary model's scales (the main model's)"),
        .float("init_scale", default: 10, min: 0.1, max: 1000, "Initial scale of p_fact's CDF network (the factorized prior's)"),
        .int("seed", default: 0, range: 0...Int64(Int32.max), "Seed of the auxiliary weights"),
    ]

    let model: CausalContextModel
    let factorized: LearnedCDF
    let condition: String, decoded: String, likelihoods: String, aux2Values: String
    let alpha: Float

    init(params: Params, host: Host) throws {
        let latent = Int(try params.int("latent"))
        let sizes = try ChannelGroups.sizes(try params.string("groups"), latent: latent, component: Self.id)
        model = try CausalContextModel(latent: latent, sizes: sizes, scaleBound: Float(try params.float("scale_bound")),
                                       seed: UInt64(try params.int("seed")), host: host)
        factorized = try LearnedCDF(channels: latent, initScale: try params.float("init_scale"), group: LIC_GROUP_REGULARIZER,
                                    prefix: "entropy_bottleneck.", host: host)
        (condition, decoded, likelihoods, aux2Values) = (try params.string("condition"), try params.string("decoded"),
                                                         try params.string("likelihoods"), try params.string("aux2_values"))
        alpha = Float(try params.float("alpha"))
    }

    /// A named tensor of shape `shape`, or an error naming it and the parameter that chose it.
    private func tensor(_ tensors: NamedTensors, _ name: String, parameter: String, shape: [Int]) throws -> Tensor {
        let tensor = try tensors.required(name, by: Self.id)
        guard try tensor.shape == shape else {
            throw PluginError(.invalidArgument, "\(Self.id): '\(name)' (parameter \(parameter)) has shape \(try tensor.shape), expected \(shape)")
        }
        return tensor
    }

    func loss(_ tensors: NamedTensors, context: CallContext) throws -> Tensor {
        let yHat = try tensors.required(decoded, by: Self.id)
        let shape = try yHat.shape
        guard shape.count == 4, shape[1] == model.latent, shape.allSatisfy({ $0 > 0 }) else {
            throw PluginError(.invalidArgument,
                              "\(Self.id): '\(decoded)' (parameter decoded) has shape \(shape), not a non-empty [B, \(model.latent), H, W] (parameter latent)")
        }
        let (b, m, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let x = try tensors.required("x", by: Self.id)
        let image = try x.shape
        guard image.count == 4, image[0] == b, image[2] > 0, image[3] > 0 else {
            throw PluginError(.invalidArgument, "\(Self.id): x has shape \(image), not [\(b), C, H, W] with the latent's batch")
        }
        let pixels = Float(b * image[2] * image[3])
        let hyper = try tensor(tensors, condition, parameter: "condition", shape: [b, 2 * m, h, w])
        let main = try tensor(tensors, likelihoods, parameter: "likelihoods", shape: shape)
        let (means, scales) = try model.parameters(hyperScales: hyper.sliced(axis: 1, start: 0, length: m),
                                                   hyperMeans: hyper.sliced(axis: 1, start: m, length: m), decoded: yHat)
        let aux = try CausalContextModel.likelihood(yHat, means: means, scales: scales)
        // sum -log2 p_main - sum -log2 p_aux = sum (log p_aux - log p_main) / ln 2.
        let cca = try (aux.log().sum() - main.log().sum()) / Float(M_LN2) / pixels
        let values = aux2Values == decoded ? yHat : try tensor(tensors, aux2Values, parameter: "aux2_values", shape: shape)
        let fitAux = aux2Values == decoded ? aux : try CausalContextModel.likelihood(values, means: means, scales: scales)
        let aux2 = try (fitAux * factorizedBits(values)).sum() / pixels
        return try cca * alpha + aux2
    }

    /// -log2 p_fact per element of a latent [B, M, H, W].
    private func factorizedBits(_ values: Tensor) throws -> Tensor {
        let shape = try values.shape
        let (b, m, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let flat = try values.permuted([1, 0, 2, 3]).reshaped([m, 1, b * h * w])
        return try (factorized.likelihood(flat).log() * Float(-1 / M_LN2)).reshaped([m, b, h, w]).permuted([1, 0, 2, 3])
    }
}
