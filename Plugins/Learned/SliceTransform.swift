import CLIC
import LICPluginKit

/// One of a channel-wise model's per-slice networks (mean, scale or latent
/// residual prediction): five 3x3 convolutions, stride 1, tapering
/// in -> 224 -> 176 -> 128 -> 64 -> out with GELU between (the ChARM
/// transforms of the CompressAI-based reimplementations of Minnen & Singh
/// 2020, e.g. STF and the CCA paper). The hidden widths are those for
/// M = 320 scaled by M / 320 (at least one channel), so tiny test models
/// stay tiny. Parameters "<name>.<2j>.weight", CompressAI's Sequential
/// indices (GELUs at the odd ones).
struct SliceTransform {
    static let widths = [224, 176, 128, 64]
    let layers: [ConvLayer]

    static func hidden(latent m: Int) -> [Int] { widths.map { max(1, $0 * m / 320) } }

    init(name: String, from cin: Int, to cout: Int, latent m: Int, seed: UInt64, host: Host,
         group: lic_parameter_group = LIC_GROUP_MAIN) throws {
        let channels = [cin] + Self.hidden(latent: m) + [cout]
        layers = try (0..<(channels.count - 1)).map { j in
            try ConvLayer(index: 2 * j, from: channels[j], to: channels[j + 1], kernel: 3, stride: 1, transposed: false, seed: seed,
                          host: host, group: group, prefix: name + ".")
        }
    }

    func apply(_ x: Tensor) throws -> Tensor {
        var y = x
        for (index, layer) in layers.enumerated() {
            y = try layer.apply(y)
            if index < layers.count - 1 { y = try y.unary(LIC_UNARY_GELU) }
        }
        return y
    }
}
