import CLIC
import LICPluginKit

/// The residual transforms of Cheng et al. 2020 ("anchor"; CompressAI's
/// Cheng2020Anchor and Cheng2020AnchorCheckerboard), one component for the
/// four roles, with CompressAI's nn.Sequential names so converted weights
/// load as "<stage>/<name>":
/// - analysis (g_a, image -> N at 1/16): residual blocks with stride 2
///   (conv 3x3 s2, leaky ReLU, conv 3x3, GDN, plus a 1x1 s2 skip) between
///   plain residual blocks (two conv 3x3 with leaky ReLU), then conv 3x3 s2;
/// - synthesis (g_s, N -> image): residual blocks and upsampling blocks
///   (sub-pixel conv 3x3, leaky ReLU, conv 3x3, inverse GDN, plus a sub-pixel
///   conv skip), then a sub-pixel conv 3x3 to the image;
/// - hyper-analysis (h_a, N -> N at 1/4): five conv 3x3 (two with stride 2)
///   with leaky ReLU between;
/// - hyper-synthesis (h_s, N -> 2N at x4): conv 3x3 and sub-pixel convs with
///   leaky ReLU between (the mean-scale parameters).
final class ResidualTransform: RoleTransform {
    static let component = "lic.transform.residual"
    static let schema: [ParamSpec] = [
        .int("channels", default: 192, range: 1...1024, "Channels N (also the latent's)"),
        .int("image_channels", default: 3, range: 1...4, "Channels of the image"),
        .enumeration("role", TransformRole.names, default: "analysis",
                     "Which of Cheng 2020's four transforms"),
        .int("seed", default: 0, range: 0...Int64(Int32.max), "Seed of the weight initialization"),
    ]

    /// One block of the sequence, named by its index in CompressAI's nn.Sequential.
    enum Block {
        /// conv (3x3 or 1x1) with an optional leaky ReLU after it.
        case conv(ConvLayer, activation: Bool)
        /// 3x3 conv to r^2 x out channels, then pixel shuffle by r ("<i>.0.weight").
        case subpel(ConvLayer, factor: Int, activation: Bool)
        /// conv1 (stride s), leaky ReLU, conv2, GDN, plus the 1x1 skip.
        case strided(conv1: ConvLayer, conv2: ConvLayer, gdn: GDNLayer, skip: ConvLayer?)
        /// conv1, leaky ReLU, conv2, leaky ReLU, plus the identity (or a 1x1 skip).
        case residual(conv1: ConvLayer, conv2: ConvLayer, skip: ConvLayer?)
        /// sub-pixel conv, leaky ReLU, conv, inverse GDN, plus a sub-pixel conv skip.
        case upsample(subpel: ConvLayer, conv: ConvLayer, igdn: GDNLayer, skip: ConvLayer)
    }

    let role: TransformRole
    let blocks: [Block]
    let inChannels: Int, outChannels: Int

    /// Analysis: 57 image pixels of receptive field past an output's footprint
    /// (3x3 layers at 1/1 ... 1/8 resolution), rounded up to whole latents.
    /// Synthesis: under 7 latents (3x3 layers from 1/16 up to 1/2); 8 is kept.
    /// The hyper transforms see the whole latent.
    var halo: Int? { role.halo(analysis: 64, synthesis: 8) }

    init(params: Params, host: Host) throws {
        let n = Int(try params.int("channels")), image = Int(try params.int("image_channels"))
        role = try TransformRole(params, component: Self.component)
        let seed = UInt64(try params.int("seed"))
        func conv(_ name: String, _ cin: Int, _ cout: Int, kernel: Int = 3, stride: Int = 1) throws -> ConvLayer {
            try ConvLayer(name: name, from: cin, to: cout, kernel: kernel, stride: stride, seed: seed, host: host)
        }
        func strided(_ i: Int, _ cin: Int, _ cout: Int) throws -> Block {
            .strided(conv1: try conv("\(i).conv1", cin, cout, stride: 2), conv2: try conv("\(i).conv2", cout, cout),
                     gdn: try GDNLayer(prefix: "\(i).gdn.", channels: cout, inverse: false, host: host),
                     skip: try conv("\(i).skip", cin, cout, kernel: 1, stride: 2))
        }
        func residual(_ i: Int, _ c: Int) throws -> Block {
            .residual(conv1: try conv("\(i).conv1", c, c), conv2: try conv("\(i).conv2", c, c), skip: nil)
        }
        func upsample(_ i: Int, _ c: Int) throws -> Block {
            .upsample(subpel: try conv("\(i).subpel_conv.0", c, 4 * c), conv: try conv("\(i).conv", c, c),
                      igdn: try GDNLayer(prefix: "\(i).igdn.", channels: c, inverse: true, host: host),
                      skip: try conv("\(i).upsample.0", c, 4 * c))
        }
        switch role {
        case .analysis:
            blocks = [try strided(0, image, n), try residual(1, n), try strided(2, n, n), try residual(3, n),
                      try strided(4, n, n), try residual(5, n), .conv(try conv("6", n, n, stride: 2), activation: false)]
            (inChannels, outChannels) = (image, n)
        case .synthesis:
            blocks = [try residual(0, n), try upsample(1, n), try residual(2, n), try upsample(3, n), try residual(4, n),
                      try upsample(5, n), try residual(6, n), .subpel(try conv("7.0", n, 4 * image), factor: 2, activation: false)]
            (inChannels, outChannels) = (n, image)
        case .hyperAnalysis:
            blocks = try [(0, 1), (2, 1), (4, 2), (6, 1), (8, 2)].map { index, stride in
                .conv(try conv("\(index)", n, n, stride: stride), activation: index < 8)
            }
            (inChannels, outChannels) = (n, n)
        case .hyperSynthesis:
            let wide = n * 3 / 2
            blocks = [.conv(try conv("0", n, n), activation: true), .subpel(try conv("2.0", n, 4 * n), factor: 2, activation: true),
                      .conv(try conv("4", n, wide), activation: true), .subpel(try conv("6.0", wide, 4 * wide), factor: 2, activation: true),
                      .conv(try conv("8", wide, 2 * n), activation: false)]
            (inChannels, outChannels) = (n, 2 * n)
        }
    }

    func apply(_ inputs: [Tensor], context: CallContext) throws -> Tensor {
        var x = inputs[0]
        // Refuse what output_shape refuses (strided layers would silently crop).
        _ = try outputShape(for: try x.shape)
        for block in blocks {
            switch block {
            case .conv(let layer, let activation):
                x = try layer.apply(x)
                if activation { x = try x.leakyRelu() }
            case .subpel(let layer, let factor, let activation):
                x = try layer.apply(x).pixelShuffled(factor)
                if activation { x = try x.leakyRelu() }
            case .strided(let conv1, let conv2, let gdn, let skip):
                let out = try gdn.apply(try conv2.apply(try conv1.apply(x).leakyRelu()))
                x = try out + (skip.map { try $0.apply(x) } ?? x)
            case .residual(let conv1, let conv2, let skip):
                let out = try conv2.apply(try conv1.apply(x).leakyRelu()).leakyRelu()
                x = try out + (skip.map { try $0.apply(x) } ?? x)
            case .upsample(let subpel, let conv, let igdn, let skip):
                let out = try igdn.apply(try conv.apply(try subpel.apply(x).pixelShuffled(2).leakyRelu()))
                x = try out + skip.apply(x).pixelShuffled(2)
            }
        }
        return x
    }
}
