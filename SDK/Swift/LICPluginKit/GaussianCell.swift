#if canImport(Glibc)
import Glibc
#endif

/// Probabilities of quantization cells under a zero-mean Gaussian: what a
/// rate-distortion quantizer estimates rates with and what an entropy model
/// builds tables from, for any set of reconstruction levels.
public enum GaussianCell {
    /// Phi(x), the standard normal CDF.
    @inline(__always)
    public static func phi(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }

    /// P(lower < X <= upper) for X ~ N(0, scale^2), floored at 1e-9 like the likelihoods in training.
    @inline(__always)
    public static func probability(lower: Double, upper: Double, scale: Double) -> Double {
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

    /// -log2 of the probability of the cell of level `level` between its neighbours `below` and `above`.
    @inline(__always)
    public static func bits(level: Double, below: Double, above: Double, scale: Double) -> Double {
        -log2(probability(lower: (below + level) / 2, upper: (level + above) / 2, scale: scale))
    }
}
