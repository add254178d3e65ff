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

    /// A convolution followed (except after the last) by GDN.
    struct Layer {
        var conv: ConvLayer
        var gdn: GDNLayer?
    }

    let inverse: Bool
    let layers: [Layer]

    var alignment: Int { inverse ? 1 : 16 }
    let kernel: Int

    /// Four stride-2 layers of kernel k reach (k/2)(1 + 2 + 4 + 8) image pixels past an output's 16 x 16
    /// footprint in analysis, rounded up to whole latent pixels so tiles keep the stride phase; in synthesis
    /// a pixel depends on latents within (k/2)(1/2 + 1/4 + 1/8 + 1/16) < k/2 of its own (TilingTests fails with one less).
    var halo: Int? { inverse ? kernel / 2 : ((kernel / 2) * 15 + 15) / 16 * 16 }

    /// Analysis: [B, image, H, W] -> [B, M, H/16, W/16]; synthesis the other way.
    func outputShape(for input: [Int]) throws -> [Int] {
        guard input.count == 4, input[1] == layers[0].conv.inChannels else {
            throw PluginError(.invalidArgument, "lic.transform.gdn: input \(input) does not have \(layers[0].conv.inChannels) channels")
        }
        let out = layers.last!.conv.outChannels
        if inverse { return [input[0], out, input[2] * 16, input[3] * 16] }
        guard input[2] % 16 == 0, input[3] % 16 == 0 else {
            throw PluginError(.invalidArgument, "lic.transform.gdn: \(input[2])x\(input[3]) is not a multiple of 16")
        }
        return [input[0], out, input[2] / 16, input[3] / 16]
    }

    init(params: Params, host: Host) throws {
        let n = Int(try params.int("channels")), m = Int(try params.int("latent"))
        let image = Int(try params.int("image_channels"))
        let kernel = Int(try params.int("kernel"))
        guard kernel % 2 == 1 else { throw PluginError(.invalidArgument, "kernel must be odd, got \(kernel)") }
        self.kernel = kernel
        inverse = try params.bool("inverse")
        let seed = UInt64(try params.int("seed"))
        let widths = inverse ? [m, n, n, n, image] : [image, n, n, n, m]
        var layers: [Layer] = []
        for i in 0..<4 {
            let cout = widths[i + 1]
            var layer = Layer(conv: try ConvLayer(index: 2 * i, from: widths[i], to: cout, kernel: kernel, stride: 2,
                                                  transposed: inverse, seed: seed, host: host))
            if i < 3 { layer.gdn = try GDNLayer(prefix: "\(2 * i + 1).", channels: cout, inverse: inverse, host: host) }
            layers.append(layer)
        }
        self.layers = layers
    }

    func apply(_ inputs: [Tensor], context: CallContext) throws -> Tensor {
        let x = inputs[0]
        // Refuse what output_shape refuses: strided convolutions would take an
        // unaligned input and give a shape the decoder cannot derive.
        _ = try outputShape(for: try x.shape)
        var y = x
        for layer in layers {
            y = try layer.conv.apply(y)
            if let gdn = layer.gdn { y = try gdn.apply(y) }
        }
        return y
    }
}
