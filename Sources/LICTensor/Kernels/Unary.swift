/// Elementwise functions of one tensor.
public enum UnaryOp: Hashable, Sendable {
    case negate, square, sqrt, rsqrt, reciprocal, exp, log, abs, tanh, sigmoid, relu
    /// x for x > 0, slope * x otherwise (gradient `slope` at 0).
    case leakyRelu(slope: Float)
    /// x * Phi(x), the exact (erf) form, as PyTorch's default.
    case gelu
    /// log(1 + exp(x)), computed stably; x itself above 20 (PyTorch's threshold).
    case softplus
    /// The complementary error function.
    case erfc
    /// Phi(x) = 0.5 * erfc(-x / sqrt 2), the standard normal CDF.
    case gaussianCDF
}

/// Forward and backward loops for `UnaryOp` on contiguous float buffers.
///
/// The op is dispatched once per chunk, outside the loops; every loop body is
/// branch-free arithmetic (the transcendental functions are the polynomial
/// approximations of `FastMath`), so the compiler vectorizes them.
///
/// Derivatives at kinks and poles: abs'(0) = 0, relu'(0) = 0, leakyRelu'(0) =
/// slope; sqrt'(0) = +inf, rsqrt'(0) = -inf, log'(0) = +inf, reciprocal'(0) =
/// -inf (as the formulas give; no clamping).
enum UnaryKernels {
    /// y[i] = op(x[i]). `y` may be `x` (in place).
    static func forward(_ op: UnaryOp, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forEachChunk(count: count, chunk: chunkSize(op)) { range in
            forwardSerial(op, x + range.lowerBound, y + range.lowerBound, range.count)
        }
    }

    /// gradInput[i] = gradOutput[i] * op'(x[i]); `y` is the forward output
    /// (used where the derivative is cheaper from it). `gradInput` is
    /// overwritten; it may alias `gradOutput`.
    static func backward(_ op: UnaryOp, x: UnsafePointer<Float>, y: UnsafePointer<Float>,
                         gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forEachChunk(count: count, chunk: chunkSize(op)) { range in
            let o = range.lowerBound
            backwardSerial(op, x + o, y + o, gradOutput + o, gradInput + o, range.count)
        }
    }

    /// Smaller chunks for the expensive functions so both cores get work sooner.
    private static func chunkSize(_ op: UnaryOp) -> Int {
        switch op {
        case .negate, .square, .abs, .relu, .leakyRelu, .reciprocal, .sqrt, .rsqrt: return 65536
        default: return 16384
        }
    }

    @inline(__always)
    private static func map(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int,
                            _ f: (Float) -> Float) {
        for i in 0..<n { y[i] = f(x[i]) }
    }

    @inline(__always)
    private static func map2(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                             _ n: Int, _ f: (Float, Float) -> Float) {
        for i in 0..<n { out[i] = f(a[i], b[i]) }
    }

    static func forwardSerial(_ op: UnaryOp, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        switch op {
        case .negate: map(x, y, n) { -$0 }
        case .square: map(x, y, n) { $0 * $0 }
        case .sqrt: map(x, y, n) { $0.squareRoot() }
        case .rsqrt: map(x, y, n) { 1 / $0.squareRoot() }
        case .reciprocal: map(x, y, n) { 1 / $0 }
        case .exp: map(x, y, n) { FastMath.exp($0) }
        case .log: map(x, y, n) { FastMath.log($0) }
        case .abs: map(x, y, n) { Float(bitPattern: $0.bitPattern & 0x7FFF_FFFF) }
        case .tanh: map(x, y, n) { FastMath.tanh($0) }
        case .sigmoid: map(x, y, n) { FastMath.sigmoid($0) }
        case .relu: map(x, y, n) { $0 < 0 ? 0 : $0 }  // NaN passes through
        case .leakyRelu(let slope): map(x, y, n) { $0 > 0 ? $0 : $0 * slope }
        case .gelu: map(x, y, n) { $0 * FastMath.gaussianCDF($0) }
        case .softplus: map(x, y, n) { FastMath.softplus($0) }
        case .erfc: map(x, y, n) { FastMath.erfc($0) }
        case .gaussianCDF: map(x, y, n) { FastMath.gaussianCDF($0) }
        }
    }

    static func backwardSerial(_ op: UnaryOp, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
                               _ g: UnsafePointer<Float>, _ gi: UnsafeMutablePointer<Float>, _ n: Int) {
        switch op {
        case .negate: map(g, gi, n) { -$0 }
        case .square: map2(x, g, gi, n) { 2 * $0 * $1 }
        case .sqrt: map2(y, g, gi, n) { $1 * 0.5 / $0 }  // +inf at x = 0
        case .rsqrt: map2(y, g, gi, n) { -0.5 * $1 * ($0 * $0 * $0) }
        case .reciprocal: map2(y, g, gi, n) { -$1 * ($0 * $0) }
        case .exp: map2(y, g, gi, n) { $1 * $0 }
        case .log: map2(x, g, gi, n) { $1 / $0 }
        case .abs: map2(x, g, gi, n) { $0 > 0 ? $1 : ($0 < 0 ? -$1 : 0) }
        case .tanh: map2(y, g, gi, n) { $1 * (1 - $0 * $0) }
        case .sigmoid: map2(y, g, gi, n) { $1 * ($0 * (1 - $0)) }
        case .relu: map2(x, g, gi, n) { $0 > 0 ? $1 : 0 }
        case .leakyRelu(let slope): map2(x, g, gi, n) { $0 > 0 ? $1 : $1 * slope }
        case .gelu:
            // d/dx x Phi(x) = Phi(x) + x phi(x)
            map2(x, g, gi, n) { v, grad in
                let cdf = FastMath.gaussianCDF(v)
                let pdf = FastMath.invSqrt2Pi * FastMath.exp(-0.5 * v * v)
                return grad * (cdf + v * pdf)
            }
        case .softplus:
            // PyTorch: gradient 1 above the threshold, sigmoid(x) below.
            map2(x, g, gi, n) { v, grad in v > 20 ? grad : grad * FastMath.sigmoid(v) }
        case .erfc: map2(x, g, gi, n) { v, grad in grad * (-FastMath.twoOverSqrtPi * FastMath.exp(-(v * v))) }
        case .gaussianCDF: map2(x, g, gi, n) { v, grad in grad * (FastMath.invSqrt2Pi * FastMath.exp(-0.5 * v * v)) }
        }
    }
}

/// Branch-free float approximations that vectorize (no libm calls, no traps).
///
/// Accuracy against double-precision references: exp, log about 1 ulp;
/// tanh, sigmoid, softplus a few ulp; erfc and Phi a relative error of a few
/// 1e-7 wherever the result is a normal float (Numerical Recipes' fit, with
/// exp(-z^2) evaluated from an exact split of z^2). exp's subnormal results
/// are kept (exp(-105) and below give 0); NaN propagates.
enum FastMath {
    static let sqrtHalf: Float = 0.707106781186547524
    static let invSqrt2Pi: Float = 0.398942280401432678
    static let twoOverSqrtPi: Float = 1.12837916709551257

    /// 2^n as a float, for n in -126...127.
    @inline(__always)
    static func pow2(_ n: Int32) -> Float {
        Float(bitPattern: UInt32(bitPattern: (n &+ 127) &<< 23))
    }

    /// exp(hi + lo) for hi + lo in -175...89, where lo carries bits that hi
    /// cannot hold (it is added after the exact first reduction step).
    @inline(__always)
    static func expCore(_ hi: Float, _ lo: Float) -> Float {
        // n = round((hi + lo) / ln 2) by the 1.5 * 2^23 trick (no float->int conversion).
        let t = (hi + lo) * 1.44269504088896341 + 12582912
        let nf = t - 12582912
        let n = Int32(bitPattern: t.bitPattern) &- 0x4B40_0000
        // r = x - n ln 2 in two steps (Cody-Waite; n * 0.693359375 is exact).
        var r = hi - nf * 0.693359375
        r = r + lo
        r = r - nf * -2.12194440e-4
        let z = r * r
        var p: Float = 1.9875691500e-4
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        let e = p * z + r + 1
        // 2^n as two factors so n in -252...254 neither overflows nor
        // underflows the exponent field before the final rounding.
        let n1 = n &>> 1
        return e * pow2(n1) * pow2(n &- n1)
    }

    @inline(__always)
    static func exp(_ x: Float) -> Float {
        // exp(89) overflows to +inf, exp(-105) rounds to 0; NaN stays NaN.
        let c = x < -105 ? -105 : (x > 89 ? 89 : x)
        return expCore(c, 0)
    }

    @inline(__always)
    static func log(_ x: Float) -> Float {
        // Subnormals: scale by 2^25 first.
        let tiny = x < Float.leastNormalMagnitude
        let xs = tiny ? x * 33554432 : x
        let bits = xs.bitPattern
        // xs = m * 2^e with m in [0.5, 1)
        var e = Float(Int32(bitPattern: (bits >> 23) & 0xFF) &- 126) - (tiny ? 25 : 0)
        var m = Float(bitPattern: (bits & 0x007F_FFFF) | 0x3F00_0000)
        let below = m < 0.707106781186547524
        e = below ? e - 1 : e
        m = below ? m + m - 1 : m - 1
        let z = m * m
        var p: Float = 7.0376836292e-2
        p = p * m - 1.1514610310e-1
        p = p * m + 1.1676998740e-1
        p = p * m - 1.2420140846e-1
        p = p * m + 1.4249322787e-1
        p = p * m - 1.6668057665e-1
        p = p * m + 2.0000714765e-1
        p = p * m - 2.4999993993e-1
        p = p * m + 3.3333331174e-1
        var y = p * m * z
        y = y + e * -2.12194440e-4
        y = y - 0.5 * z
        var r = m + y
        r = r + e * 0.693359375
        r = x == Float.infinity ? x : r
        r = x == 0 ? -Float.infinity : r
        r = x < 0 ? Float.nan : r
        return x != x ? x : r
    }

    /// log(1 + u) for u in [0, 1] (Goldberg's correction of log(1 + u)).
    @inline(__always)
    static func log1pUnit(_ u: Float) -> Float {
        let w = 1 + u
        let l = log(w) * (u / (w - 1))
        return w == 1 ? u : l
    }

    @inline(__always)
    static func sigmoid(_ x: Float) -> Float {
        // e / (1 + e) for x < 0 keeps tiny results (down to subnormals).
        let e = exp(-Float(bitPattern: x.bitPattern & 0x7FFF_FFFF))
        let r = 1 / (1 + e)
        return x >= 0 ? r : e * r
    }

    @inline(__always)
    static func softplus(_ x: Float) -> Float {
        // max(x, 0) + log1p(exp(-|x|)); x itself above 20 like PyTorch.
        let u = exp(-Float(bitPattern: x.bitPattern & 0x7FFF_FFFF))
        let s = (x > 0 ? x : 0) + log1pUnit(u)
        return x > 20 ? x : s
    }

    @inline(__always)
    static func tanh(_ x: Float) -> Float {
        let a = Float(bitPattern: x.bitPattern & 0x7FFF_FFFF)
        // |x| >= 0.625: 1 - 2 / (exp(2|x|) + 1), sign restored.
        let big = 1 - 2 / (exp(2 * a) + 1)
        let signed = Float(bitPattern: big.bitPattern | (x.bitPattern & 0x8000_0000))
        // |x| < 0.625: odd polynomial (Cephes tanhf).
        let s = x * x
        var p: Float = -5.70498872745e-3
        p = p * s + 2.06390887954e-2
        p = p * s - 5.37397155531e-2
        p = p * s + 1.33314422036e-1
        p = p * s - 3.33332819422e-1
        let small = p * s * x + x
        return a < 0.625 ? small : signed
    }

    /// z * z = hi + lo exactly (Dekker's product; |z| < 2^60).
    @inline(__always)
    static func exactSquare(_ z: Float) -> (hi: Float, lo: Float) {
        let s = z * z
        let c = z * 4097
        let zh = c - (c - z)
        let zl = z - zh
        return (s, ((zh * zh - s) + 2 * zh * zl) + zl * zl)
    }

    /// erfc(z) for 0 <= z <= 10.5 given z^2 = hi + lo exactly:
    /// t exp(-z^2 + P(t)), t = 1 / (1 + z/2) (Numerical Recipes' erfcc fit,
    /// fractional error 1.2e-7), the exponent kept in two parts so that the
    /// large z^2 loses no precision.
    @inline(__always)
    static func erfcCore(_ z: Float, _ hi: Float, _ lo: Float) -> Float {
        let t = 1 / (1 + 0.5 * z)
        var p: Float = 0.17087277
        p = p * t - 0.82215223
        p = p * t + 1.48851587
        p = p * t - 1.13520398
        p = p * t + 0.27886807
        p = p * t - 0.18628806
        p = p * t + 0.09678418
        p = p * t + 0.37409196
        p = p * t + 1.00002368
        p = p * t - 1.26551223
        return t * expCore(-hi, p - lo)
    }

    /// erfc(x): relative error below ~4e-7 where erfc(x) is a normal float
    /// (x < 9.1), absolute error below ~4e-7 for x < 0.
    @inline(__always)
    static func erfc(_ x: Float) -> Float {
        let a = Float(bitPattern: x.bitPattern & 0x7FFF_FFFF)
        let z = a < 10.5 ? a : 10.5  // erfc(10.5) underflows to 0
        let sq = exactSquare(z)
        let r = erfcCore(z, sq.hi, sq.lo)
        let res = x < 0 ? 2 - r : r
        return x != x ? x : res
    }

    /// Phi(x) = 0.5 erfc(-x / sqrt 2), with exp(-x^2 / 2) from the exact
    /// square of x: the lower tail keeps its relative accuracy (no error from
    /// rounding x / sqrt 2, which would grow like x^2).
    @inline(__always)
    static func gaussianCDF(_ x: Float) -> Float {
        let a = Float(bitPattern: x.bitPattern & 0x7FFF_FFFF)
        let w = a < 14.8 ? a : 14.8  // Phi(-14.8) underflows to 0
        let sq = exactSquare(w)
        let r = erfcCore(w * sqrtHalf, sq.hi * 0.5, sq.lo * 0.5)  // erfc(|x| / sqrt 2)
        let res = x > 0 ? 2 - r : r
        return x != x ? x : 0.5 * res
    }
}
