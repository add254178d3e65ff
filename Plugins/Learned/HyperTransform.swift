import CLIC
import LICPluginKit

/// The hyperprior's transforms (Balle 2018 / Minnen 2018, CompressAI layer
/// names). Analysis (y -> z): conv 3x3 s1, conv 5x5 s2, conv 5x5 s2 with
/// activations; synthesis (z_hat -> params): the mirror with transposed
/// convolutions. `variant` "mean-scale" (mbt2018-mean: leaky ReLU, synthesis
/// M -> 3M/2 -> 2M channels for scales and means) or "scale"
/// (bmshj2018-hyperprior: ReLU, |y| in, M scales out).
final class HyperTransform: DifferentiableTransformComponent {
    static let schema: [ParamSpec] = [
        .int("channels", default: 128, range: 1...1024, "Hyper channels N"),
        .int("latent", default: 192, range: 1...1024, "Latent channels M"),
        .enumeration("variant", ["mean-scale", "scale"], default: "mean-scale", "mbt2018-mean or bmshj2018-hyperprior layers"),
        .bool("inverse", default: false, "Hyper synthesis (z_hat -> entropy parameters)"),
        .int("seed", default: 0, range: 0...Int64(Int32.max), "Seed of the weight initialization"),
    ]

    let inverse: Bool
    let meanScale: Bool
    let layers: [ConvLayer]

    var alignment: Int { inverse ? 1 : 4 }

    init(params: Params, host: Host) throws {
        let n = Int(try params.int("channels")), m = Int(try params.int("latent"))
        inverse = try params.bool("inverse")
        meanScale = try params.string("variant") == "mean-scale"
        let seed = UInt64(try params.int("seed"))
        // (in, out, kernel, stride, transposed) per layer, CompressAI indices 0, 2, 4.
        let plan: [(Int, Int, Int, Int, Bool)] = switch (inverse, meanScale) {
        case (false, _): [(m, n, 3, 1, false), (n, n, 5, 2, false), (n, n, 5, 2, false)]
        case (true, true): [(n, m, 5, 2, true), (m, m * 3 / 2, 5, 2, true), (m * 3 / 2, m * 2, 3, 1, false)]
        case (true, false): [(n, n, 5, 2, true), (n, n, 5, 2, true), (n, m, 3, 1, false)]
        }
        layers = try plan.enumerated().map { index, layer in
            try ConvLayer(index: 2 * index, from: layer.0, to: layer.1, kernel: layer.2, stride: layer.3, transposed: layer.4,
                          seed: seed, host: host)
        }
    }

    func outputShape(for input: [Int]) throws -> [Int] {
        guard input.count == 4, input[1] == layers[0].inChannels else {
            throw PluginError(.invalidArgument, "lic.transform.hyper: input \(input) does not have \(layers[0].inChannels) channels")
        }
        let out = layers.last!.outChannels
        if inverse { return [input[0], out, input[2] * 4, input[3] * 4] }
        guard input[2] % 4 == 0, input[3] % 4 == 0 else {
            throw PluginError(.invalidArgument, "lic.transform.hyper: \(input[2])x\(input[3]) is not a multiple of 4")
        }
        return [input[0], out, input[2] / 4, input[3] / 4]
    }

    func apply(_ inputs: [Tensor], context: CallContext) throws -> Tensor {
        let x = inputs[0]
        // Refuse what output_shape refuses: strided convolutions would take an
        // unaligned input and give a shape the decoder cannot derive.
        _ = try outputShape(for: try x.shape)
        var y = !inverse && !meanScale ? try x.abs() : x
        for (index, layer) in layers.enumerated() {
            y = try layer.apply(y)
            // Activations between layers; the scale variant's synthesis also ends with one (scales are positive).
            if index < layers.count - 1 || (inverse && !meanScale) {
                y = meanScale ? try y.leakyRelu() : try y.relu()
            }
        }
        return y
    }
}
