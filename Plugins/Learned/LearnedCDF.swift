import CLIC
import LICPluginKit
#if canImport(Glibc)
import Glibc
#endif

/// The per-channel learned cumulative density of the factorized prior
/// (Balle 2017, CompressAI's EntropyBottleneck): for inputs [C, 1, K], a
/// monotone network per channel (filters 1-3-3-3-3-1, softplus matrices,
/// tanh-gated nonlinearity) gives the CDF's logits. Parameters
/// "<prefix>matrices.<i>", "<prefix>biases.<i>", "<prefix>factors.<i>" in
/// `group`. Used by the factorized prior and the CCA regularizer's p_fact.
struct LearnedCDF {
    static let filters = [1, 3, 3, 3, 3, 1]

    var matrices: [Tensor] = [], biases: [Tensor] = [], factors: [Tensor] = []

    init(channels: Int, initScale: Double, group: lic_parameter_group, prefix: String = "", host: Host) throws {
        let scale = pow(initScale, 1.0 / Double(Self.filters.count - 1))
        for i in 0..<(Self.filters.count - 1) {
            let (fin, fout) = (Self.filters[i], Self.filters[i + 1])
            let initial = Float(log(expm1(1 / scale / Double(fout))))
            matrices.append(try host.parameter("\(prefix)matrices.\(i)", shape: [channels, fout, fin], initializer: LIC_INIT_CONSTANT,
                                               a: initial, group: group))
            biases.append(try host.parameter("\(prefix)biases.\(i)", shape: [channels, fout, 1], initializer: LIC_INIT_UNIFORM,
                                             a: -0.5, b: 0.5, seed: UInt64(100 + i), group: group))
            if i < Self.filters.count - 2 {
                factors.append(try host.parameter("\(prefix)factors.\(i)", shape: [channels, fout, 1], initializer: LIC_INIT_ZEROS,
                                                  group: group))
            }
        }
    }

    /// Cumulative logits for inputs [C, 1, K].
    func logitsCumulative(_ inputs: Tensor, stopGradient: Bool) throws -> Tensor {
        var logits = inputs
        for i in matrices.indices {
            var matrix = try matrices[i].softplus(), bias = biases[i]
            if stopGradient { (matrix, bias) = (try matrix.detached(), try bias.detached()) }
            logits = try matrix.matmul(logits) + bias
            if i < factors.count {
                var factor = try factors[i].tanh()
                if stopGradient { factor = try factor.detached() }
                logits = try logits + factor * logits.tanh()
            }
        }
        return logits
    }

    /// P(v - 0.5 < Y < v + 0.5) for values [C, 1, K], floored at 1e-9.
    func likelihood(_ values: Tensor) throws -> Tensor {
        let upper = try logitsCumulative(values + 0.5, stopGradient: false)
        let lower = try logitsCumulative(values - 0.5, stopGradient: false)
        return try (upper.sigmoid() - lower.sigmoid()).lowerBounded(1e-9)
    }
}
