/// Double-precision exp, log and erfc built from +, -, *, / and bit
/// operations only, so they return the same bits on every IEEE-754 machine
/// (the C library's versions differ between libraries, versions and CPU
/// variants - glibc picks FMA or non-FMA code at run time). Coding tables
/// are built with these: the decoder must build exactly the encoder's tables.
/// Accuracy: exp and log within about 2 ulp; erfc within about 2e-13
/// relative up to its underflow (x about 26), ample for 16-bit tables.
public enum PortableMath {
    private static let ln2Hi = 6.93147180369123816490e-01   // ln 2 with its low 32 bits cleared (exact products k * ln2Hi)
    private static let ln2Lo = 1.90821492927058770002e-10   // ln 2 - ln2Hi
    private static let invLn2 = 1.44269504088896338700

    /// 2^k as a double for k in -1022...1023.
    @inline(__always)
    private static func pow2(_ k: Int) -> Double { Double(bitPattern: UInt64(k + 1023) << 52) }

    /// e^x.
    public static func exp(_ x: Double) -> Double {
        if x.isNaN { return x }
        if x > 709.78 { return .infinity }
        if x < -745.2 { return 0 }
        // x = k ln2 + r, |r| <= ln2 / 2; e^r by its Taylor series (terms to r^14 / 14!, below 1e-17 relative).
        let k = (x * invLn2).rounded(.toNearestOrEven)
        let r = (x - k * ln2Hi) - k * ln2Lo
        var sum = 1.0, term = 1.0
        for n in 1...14 {
            term = term * r / Double(n)
            sum = sum + term
        }
        // Scale in two steps so results near the ends of the range neither overflow nor flush early.
        let ki = Int(k)
        let half = ki / 2
        return sum * pow2(half) * pow2(ki - half)
    }

    /// The natural logarithm (NaN below 0, -inf at 0).
    public static func log(_ x: Double) -> Double {
        if x.isNaN || x < 0 { return .nan }
        if x == 0 { return -.infinity }
        if x.isInfinite { return x }
        var value = x, exponent = 0
        if value < Double.leastNormalMagnitude {  // subnormal: scale into the normal range first
            value = value * pow2(54)
            exponent = -54
        }
        // value = m * 2^e with m in [sqrt(1/2), sqrt(2)).
        let bits = value.bitPattern
        exponent += Int((bits >> 52) & 0x7FF) - 1023
        var m = Double(bitPattern: (bits & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000)
        if m > 1.4142135623730951 {
            m = m / 2
            exponent += 1
        }
        // log m = 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.172: odd series to s^31.
        let s = (m - 1) / (m + 1), s2 = s * s
        var sum = 0.0
        for n in stride(from: 31, through: 3, by: -2) { sum = (sum + 1 / Double(n)) * s2 }
        let logM = 2 * s + 2 * s * sum
        let e = Double(exponent)
        return (e * ln2Hi + logM) + e * ln2Lo
    }

    /// The complementary error function, 1 - erf(x).
    public static func erfc(_ x: Double) -> Double {
        if x.isNaN { return x }
        if x < 0 { return 2 - erfc(-x) }
        if x < 2 {
            // 1 - erf(x), erf by its Taylor series: 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1)).
            let x2 = x * x
            var term = x, sum = x, n = 0
            while n < 80 {
                n += 1
                term = -term * x2 / Double(n)
                let next = sum + term / Double(2 * n + 1)
                if next == sum { break }
                sum = next
            }
            return 1 - 1.1283791670955126 * sum
        }
        if x > 27.3 { return 0 }
        // Continued fraction erfc(x) = exp(-x^2) / sqrt(pi) * 1 / (x + (1/2) / (x + 1 / (x + (3/2) / (x + ...)))),
        // evaluated from a fixed depth; at x >= 2 it has converged to double precision well before 120 terms.
        var tail = x
        for k in stride(from: 120, through: 1, by: -1) { tail = x + (Double(k) / 2) / tail }
        return exp(-x * x) * 0.5641895835477563 / tail
    }
}
