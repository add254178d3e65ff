import CLIC
import LICPluginKit

/// ELIC's transforms (He et al. 2022; CompressAI's Elic2022Official), one
/// component for the four roles, with CompressAI's nn.Sequential names so
/// converted weights load as "<stage>/<name>":
/// - analysis (g_a, image -> M at 1/16): four conv 5x5 stride 2, each of the
///   first three followed by three residual bottleneck blocks (1x1 to N/2,
///   3x3, 1x1 back, ReLU between, plus the identity), attention blocks after
///   the second group and at the end;
/// - synthesis (g_s): the mirror with transposed convolutions;
/// - hyper-analysis (h_a, M -> N at 1/4): conv 3x3, conv 5x5 s2, conv 5x5 s2, ReLU between;
/// - hyper-synthesis (h_s, N -> 2N at x4, or `hyper_output` channels):
///   transposed conv 5x5 s2 twice and transposed conv 3x3, ReLU between.
/// Attention (Cheng 2020's simplified block): x + a(x) * sigmoid(b(x)), a and b
/// three residual units each (1x1, 3x3, 1x1 with ReLU, plus the identity, then ReLU), b ending in a 1x1.
final class ElicTransform: RoleTransform {
    static let component = "lic.transform.elic"
    static let schema: [ParamSpec] = [
        .int("channels", default: 192, range: 2...1024, "Channels N"),
        .int("latent", default: 320, range: 2...1024, "Latent channels M"),
        .int("image_channels", default: 3, range: 1...4, "Channels of the image"),
        .enumeration("role", TransformRole.names, default: "analysis",
                     "Which of ELIC's four transforms"),
        .int("hyper_output", default: 0, range: 0...4096, "Hyper synthesis output channels (0: 2N, as ELIC)"),
        .int("seed", default: 0, range: 0...Int64(Int32.max), "Seed of the weight initialization"),
    ]

    /// A residual unit of the attention block: relu(x + conv(x)).
    struct ResidualUnit {
        let layers: [ConvLayer]
    }

    enum Block {
        /// conv (or transposed conv), ReLU after it when `activation`.
        case conv(ConvLayer, activation: Bool)
        /// conv1 1x1, ReLU, conv2 3x3, ReLU, conv3 1x1, plus the identity.
        case bottleneck([ConvLayer])
        /// x + a(x) * sigmoid(b(x)).
        case attention(a: [ResidualUnit], b: [ResidualUnit], bOut: ConvLayer)
    }

    let role: TransformRole
    let blocks: [Block]
    let inChannels: Int, outChannels: Int

    /// Analysis: 132 image pixels of receptive field past an output's
    /// footprint (3x3 and 5x5 layers from 1/1 to 1/16, the attention blocks'
    /// three 3x3 units), rounded up to whole latents. Synthesis: under 10
    /// latents; 12 kept. The hyper transforms see the whole latent.
    var halo: Int? { role.halo(analysis: 144, synthesis: 12) }

    init(params: Params, host: Host) throws {
        let n = Int(try params.int("channels")), m = Int(try params.int("latent")), image = Int(try params.int("image_channels"))
        role = try TransformRole(params, component: Self.component)
        let seed = UInt64(try params.int("seed"))
        func conv(_ name: String, _ cin: Int, _ cout: Int, kernel: Int, stride: Int = 1, transposed: Bool = false) throws -> ConvLayer {
            try ConvLayer(name: name, from: cin, to: cout, kernel: kernel, stride: stride, transposed: transposed, seed: seed, host: host)
        }
        func bottlenecks(_ first: Int, _ c: Int) throws -> [Block] {
            try (first..<(first + 3)).map { i in
                .bottleneck([try conv("\(i).conv1", c, c / 2, kernel: 1), try conv("\(i).conv2", c / 2, c / 2, kernel: 3),
                             try conv("\(i).conv3", c / 2, c, kernel: 1)])
            }
        }
        func attention(_ i: Int, _ c: Int) throws -> Block {
            func units(_ branch: String) throws -> [ResidualUnit] {
                try (0..<3).map { u in
                    let p = "\(i).\(branch).\(u).conv"
                    return ResidualUnit(layers: [try conv("\(p).0", c, c / 2, kernel: 1), try conv("\(p).2", c / 2, c / 2, kernel: 3),
                                                 try conv("\(p).4", c / 2, c, kernel: 1)])
                }
            }
            return .attention(a: try units("conv_a"), b: try units("conv_b"), bOut: try conv("\(i).conv_b.3", c, c, kernel: 1))
        }
        func down(_ i: Int, _ cin: Int, _ cout: Int) throws -> Block { .conv(try conv("\(i)", cin, cout, kernel: 5, stride: 2), activation: false) }
        func up(_ i: Int, _ cin: Int, _ cout: Int) throws -> Block {
            .conv(try conv("\(i)", cin, cout, kernel: 5, stride: 2, transposed: true), activation: false)
        }
        switch role {
        case .analysis:
            blocks = [try down(0, image, n)] + (try bottlenecks(1, n)) + [try down(4, n, n)] + (try bottlenecks(5, n))
                + [try attention(8, n), try down(9, n, n)] + (try bottlenecks(10, n)) + [try down(13, n, m), try attention(14, m)]
            (inChannels, outChannels) = (image, m)
        case .synthesis:
            blocks = [try attention(0, m), try up(1, m, n)] + (try bottlenecks(2, n)) + [try up(5, n, n), try attention(6, n)]
                + (try bottlenecks(7, n)) + [try up(10, n, n)] + (try bottlenecks(11, n)) + [try up(14, n, image)]
            (inChannels, outChannels) = (m, image)
        case .hyperAnalysis:
            blocks = [.conv(try conv("0", m, n, kernel: 3), activation: true), .conv(try conv("2", n, n, kernel: 5, stride: 2), activation: true),
                      .conv(try conv("4", n, n, kernel: 5, stride: 2), activation: false)]
            (inChannels, outChannels) = (m, n)
        case .hyperSynthesis:
            let out = Int(try params.int("hyper_output"))
            let width = out == 0 ? 2 * n : out
            blocks = [.conv(try conv("0", n, n, kernel: 5, stride: 2, transposed: true), activation: true),
                      .conv(try conv("2", n, n * 3 / 2, kernel: 5, stride: 2, transposed: true), activation: true),
                      .conv(try conv("4", n * 3 / 2, width, kernel: 3, stride: 1, transposed: true), activation: false)]
            (inChannels, outChannels) = (n, width)
        }
    }

    func apply(_ inputs: [Tensor], context: CallContext) throws -> Tensor {
        var x = inputs[0]
        _ = try outputShape(for: try x.shape)
        for block in blocks {
            switch block {
            case .conv(let layer, let activation):
                x = try layer.apply(x)
                if activation { x = try x.relu() }
            case .bottleneck(let layers):
                x = try x + layers[2].apply(try layers[1].apply(try layers[0].apply(x).relu()).relu())
            case .attention(let a, let b, let bOut):
                let gate = try bOut.apply(try Self.units(b, x)).sigmoid()
                x = try x + Self.units(a, x) * gate
            }
        }
        return x
    }

    private static func units(_ units: [ResidualUnit], _ input: Tensor) throws -> Tensor {
        var x = input
        for unit in units {
            x = try (x + unit.layers[2].apply(try unit.layers[1].apply(try unit.layers[0].apply(x).relu()).relu())).relu()
        }
        return x
    }
}
