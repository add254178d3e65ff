import CLIC
import LICPluginKit

/// The Balle et al. analysis transform (conv 5x5 stride 2 + GDN, four times,
/// no GDN after the last) or, with `inverse`, the synthesis transform
/// (transposed conv + inverse GDN). Layer and parameter names follow
/// CompressAI's nn.Sequential ("0.weight", "1.beta", ...) so converted
/// weights load as "<stage>/<name>".
final class GDNTransform: DifferentiableTransformComponent {
    static let schema: [ParamSpec] = [
        .int("channels", default: 128, range: 1...1024, "Hidden channels N"),
        .int("latent", default: 192, range: 1...1024, "Latent channels M"),
        .int("image_channels", default: 3, range: 1...4, "Channels of the image"),
        .int("kernel", default: 5, range: 1...9, "Kernel size (odd)"),
        .bool("inverse", default: false, "Synthesis: latent -> image with transposed convolutions and inverse GDN"),
        .int("seed", default: 0, range: 0...Int64(Int32.max), "Seed of the weight initialization"),
    ]

    /// GDN's non-negative reparametrization (as CompressAI's NonNegativeParametrizer).
    static let pedestal: Float = 1.0 / Float(1 << 18) / Float(1 << 18)

    struct Layer {
        var weight: Tensor, bias: Tensor
        var beta: Tensor?, gamma: Tensor?
        var shape: [Int]

        /// Conv weights are [out, in, k, k]; transposed-conv weights [in, out, k, k].
        func inputChannels(inverse: Bool) -> Int { inverse ? shape[0] : shape[1] }
        func outputChannels(inverse: Bool) -> Int { inverse ? shape[1] : shape[0] }
    }

    let inverse: Bool
    let kernel: Int
    let layers: [Layer]

    var alignment: Int { inverse ? 1 : 16 }

    /// Analysis: [B, image, H, W] -> [B, M, H/16, W/16]; synthesis the other way.
    func outputShape(for input: [Int]) throws -> [Int] {
        guard input.count == 4, input[1] == layers[0].inputChannels(inverse: inverse) else {
            throw PluginError(.invalidArgument, "lic.transform.gdn: input \(input) does not have \(layers[0].inputChannels(inverse: inverse)) channels")
        }
        let out = layers.last!.outputChannels(inverse: inverse)
        if inverse { return [input[0], out, input[2] * 16, input[3] * 16] }
        guard input[2] % 16 == 0, input[3] % 16 == 0 else {
            throw PluginError(.invalidArgument, "lic.transform.gdn: \(input[2])x\(input[3]) is not a multiple of 16")
        }
        return [input[0], out, input[2] / 16, input[3] / 16]
    }

    init(params: Params, host: Host) throws {
        let n = Int(try params.int("channels")), m = Int(try params.int("latent"))
        let image = Int(try params.int("image_channels"))
        kernel = Int(try params.int("kernel"))
        guard kernel % 2 == 1 else { throw PluginError(.invalidArgument, "kernel must be odd, got \(kernel)") }
        inverse = try params.bool("inverse")
        let seed = UInt64(try params.int("seed"))
        let widths = inverse ? [m, n, n, n, image] : [image, n, n, n, m]
        var layers: [Layer] = []
        for i in 0..<4 {
            let (cin, cout) = (widths[i], widths[i + 1])
            // PyTorch's default init: U(-1/sqrt(fan_in), ...); ConvTranspose2d's fan_in is out/groups * k * k.
            let fanIn = Float((inverse ? cout : cin) * kernel * kernel)
            let shape = inverse ? [cin, cout, kernel, kernel] : [cout, cin, kernel, kernel]
            let weight = try host.parameter("\(2 * i).weight", shape: shape, initializer: LIC_INIT_KAIMING_UNIFORM,
                                            a: fanIn, seed: seed &* 1000 &+ UInt64(2 * i))
            let bias = try host.parameter("\(2 * i).bias", shape: [cout], initializer: LIC_INIT_KAIMING_UNIFORM,
                                          a: fanIn, seed: seed &* 1000 &+ UInt64(2 * i + 1))
            var layer = Layer(weight: weight, bias: bias, shape: shape)
            if i < 3 {
                let identity = (0..<(cout * cout)).map { $0 / cout == $0 % cout ? Float(0.1) : 0 }
                layer.beta = try host.parameter("\(2 * i + 1).beta", shape: [cout], initializer: LIC_INIT_CONSTANT,
                                                a: (1 + Self.pedestal).squareRoot())
                layer.gamma = try host.parameter("\(2 * i + 1).gamma", shape: [cout, cout], initializer: LIC_INIT_VALUES,
                                                 values: identity.map { ($0 + Self.pedestal).squareRoot() })
            }
            layers.append(layer)
        }
        self.layers = layers
    }

    func apply(_ x: Tensor) throws -> Tensor {
        var y = x
        let pad = kernel / 2
        for layer in layers {
            y = inverse
                ? try y.convTranspose2d(layer.weight, bias: layer.bias, stride: 2, padding: pad, outputPadding: 1)
                : try y.conv2d(layer.weight, bias: layer.bias, stride: 2, padding: pad)
            if let beta = layer.beta, let gamma = layer.gamma {
                y = try y.gdn(beta: nonNegative(beta, minimum: 1e-6), gamma: nonNegative(gamma, minimum: 0), inverse: inverse)
            }
        }
        return y
    }

    private func nonNegative(_ p: Tensor, minimum: Float) throws -> Tensor {
        try p.lowerBounded((minimum + Self.pedestal).squareRoot()).squared() - Self.pedestal
    }
}
