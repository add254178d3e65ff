#if canImport(Glibc)
import Glibc
#endif

/// Probabilities of quantization cells under a zero-mean Gaussian: what a
/// rate-distortion quantizer estimates rates with and what an entropy model
/// builds tables from, for any set of reconstruction levels.
public enum GaussianCell {
    /// Phi(x), the standard normal CDF (portable: the same bits on every machine, for coding tables).
    @inline(__always)
    public static func phi(_ x: Double) -> Double { 0.5 * PortableMath.erfc(-x / 2.0.squareRoot()) }

    /// Phi(x) by the C library's erfc: several times faster, but its last bits
    /// may differ between machines - for the encoder's rate estimates only.
    @inline(__always)
    static func estimatePhi(_ x: Double) -> Double { 0.5 * Glibc.erfc(-x / 2.0.squareRoot()) }

    /// P(lower < X <= upper) for X ~ N(0, scale^2), floored at 1e-9 like the
    /// likelihoods in training; portable (what coding tables are built from).
    @inline(__always)
    public static func probability(lower: Double, upper: Double, scale: Double) -> Double {
        probability(lower: lower, upper: upper, scale: scale, phi: phi)
    }

    @inline(__always)
    static func probability(lower: Double, upper: Double, scale: Double, phi: (Double) -> Double) -> Double {
        // Evaluated on the side away from the mean, where erfc keeps its precision.
        let p = lower >= 0 ? phi(-lower / scale) - phi(-upper / scale) : phi(upper / scale) - phi(lower / scale)
        return max(p, 1e-9)
    }

    /// Phi^-1(p) for small p (a table's tail bound), by bisection on erfc.
    public static func quantile(_ p: Double) -> Double {
        var (low, high) = (-40.0, 0.0)
        for _ in 0..<200 {
            let mid = (low + high) / 2
            if phi(mid) < p { low = mid } else { high = mid }
        }
        return (low + high) / 2
    }

    /// -log2 of the probability of the cell of level `level` between its
    /// neighbours `below` and `above`: a rate estimate for the encoder's
    /// decisions (fast, not portable; never use it to build coding tables).
    @inline(__always)
    public static func bits(level: Double, below: Double, above: Double, scale: Double) -> Double {
        -log2(probability(lower: (below + level) / 2, upper: (level + above) / 2, scale: scale, phi: estimatePhi))
    }
}

extension Tensor {
    /// Training's likelihood of each element under N(0, scales^2) over its
    /// unit cell, from `centered` = |y_tilde - mu|: Phi((0.5 - c) / s) -
    /// Phi((-0.5 - c) / s), floored at 1e-9 (taken on the side away from the
    /// mean, where the difference keeps its precision). On the tape.
    public static func gaussianCellLikelihood(centered: Tensor, scales: Tensor) throws -> Tensor {
        try (((centered * -1 + 0.5) / scales).gaussianCDF() - ((centered * -1 - 0.5) / scales).gaussianCDF()).lowerBounded(1e-9)
    }
}
