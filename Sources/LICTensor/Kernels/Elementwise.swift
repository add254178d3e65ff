/// Pointwise kernels with parameters (bounds, rounding, noise) and the
/// buffer helpers the autodiff uses (accumulate, scale, fill).
enum PointwiseKernels {
    @inline(__always)
    private static func chunked(_ count: Int, _ body: (Int, Int) -> Void) {
        Parallel.forEachChunk(count: count, chunk: 65536) { range in body(range.lowerBound, range.count) }
    }

    // MARK: Clamp

    /// y = min(max(x, min), max); NaN passes through.
    static func clamp(x: UnsafePointer<Float>, min low: Float, max high: Float, y: UnsafeMutablePointer<Float>, count: Int) {
        chunked(count) { o, n in
            let src = x + o, dst = y + o
            for i in 0..<n {
                let v = src[i]
                dst[i] = v < low ? low : (v > high ? high : v)
            }
        }
    }

    /// gradInput = gradOutput where min <= x <= max, else 0 (overwritten).
    static func clampBackward(x: UnsafePointer<Float>, min low: Float, max high: Float, gradOutput: UnsafePointer<Float>,
                              gradInput: UnsafeMutablePointer<Float>, count: Int) {
        chunked(count) { o, n in
            let src = x + o, g = gradOutput + o, dst = gradInput + o
            for i in 0..<n {
                let v = src[i]
                dst[i] = (v >= low && v <= high) ? g[i] : 0
            }
        }
    }

    // MARK: Lower bound (CompressAI's LowerBound)

    /// y = max(x, bound); NaN passes through.
    static func lowerBound(x: UnsafePointer<Float>, bound: Float, y: UnsafeMutablePointer<Float>, count: Int) {
        chunked(count) { o, n in
            let src = x + o, dst = y + o
            for i in 0..<n {
                let v = src[i]
                dst[i] = v < bound ? bound : v
            }
        }
    }

    /// gradInput = gradOutput where x >= bound or gradOutput < 0 (the gradient
    /// would move x up, towards the allowed region), else 0. Overwritten.
    static func lowerBoundBackward(x: UnsafePointer<Float>, bound: Float, gradOutput: UnsafePointer<Float>,
                                   gradInput: UnsafeMutablePointer<Float>, count: Int) {
        chunked(count) { o, n in
            let src = x + o, g = gradOutput + o, dst = gradInput + o
            for i in 0..<n {
                let gv = g[i]
                dst[i] = (src[i] >= bound || gv < 0) ? gv : 0
            }
        }
    }

    // MARK: Round

    /// y = x rounded to the nearest integer, ties to even (like torch.round:
    /// 0.5 -> 0, 1.5 -> 2, -2.5 -> -2); -0 and NaN pass through.
    ///
    /// Its straight-through backward is the identity: there is no backward
    /// kernel, the caller hands gradOutput on unchanged.
    static func round(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, count: Int) {
        chunked(count) { o, n in
            let src = x + o, dst = y + o
            for i in 0..<n {
                // |v| < 2^23: (|v| + 2^23) - 2^23 rounds to nearest even in the
                // current (default) rounding mode; larger values are integers.
                let v = src[i]
                let bits = v.bitPattern
                let a = Float(bitPattern: bits & 0x7FFF_FFFF)
                let r = (a + 8388608) - 8388608
                let m = a < 8388608 ? r : a
                dst[i] = Float(bitPattern: m.bitPattern | (bits & 0x8000_0000))
            }
        }
    }

    // MARK: Noise

    /// out[i] = low + (high - low) * u(seed, offset + i), u uniform on
    /// [0, 1) with 24 random bits from a counter-based hash (SplitMix64's
    /// finalizer on a Weyl sequence keyed by the seed). The values depend
    /// only on (seed, offset + i): not on threads, chunking, or how a tensor
    /// is generated in pieces. Rounding may give `high` itself when
    /// high - low is not a power of two times low's spacing.
    static func uniformNoise(count: Int, seed: UInt64, offset: UInt64, low: Float, high: Float,
                             out: UnsafeMutablePointer<Float>) {
        let key = SplitMix64.mix(seed &+ 0x6A09_E667_F3BC_C908)
        let span = high - low
        chunked(count) { o, n in
            let dst = out + o
            let base = offset &+ UInt64(o)
            for i in 0..<n {
                let z = SplitMix64.mix((base &+ UInt64(i)) &* 0x9E37_79B9_7F4A_7C15 &+ key)
                let u = Float(UInt32(truncatingIfNeeded: z >> 40)) * 0x1p-24
                dst[i] = low + span * u
            }
        }
    }

    // MARK: Buffer helpers

    /// dst += src (gradient accumulation). `src` may be `dst`.
    static func add(into dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, count: Int) {
        chunked(count) { o, n in
            let d = dst + o, s = src + o
            for i in 0..<n { d[i] += s[i] }
        }
    }

    /// dst += alpha * src.
    static func axpy(into dst: UnsafeMutablePointer<Float>, alpha: Float, _ src: UnsafePointer<Float>, count: Int) {
        chunked(count) { o, n in
            let d = dst + o, s = src + o
            for i in 0..<n { d[i] += alpha * s[i] }
        }
    }

    /// x *= factor, in place.
    static func scale(_ x: UnsafeMutablePointer<Float>, by factor: Float, count: Int) {
        chunked(count) { o, n in
            let d = x + o
            for i in 0..<n { d[i] *= factor }
        }
    }

    /// y = factor * x (y may be x).
    static func scale(_ x: UnsafePointer<Float>, by factor: Float, into y: UnsafeMutablePointer<Float>, count: Int) {
        chunked(count) { o, n in
            let s = x + o, d = y + o
            for i in 0..<n { d[i] = factor * s[i] }
        }
    }

    /// x[0..<count] = value.
    static func fill(_ x: UnsafeMutablePointer<Float>, value: Float, count: Int) {
        chunked(count) { o, n in (x + o).update(repeating: value, count: n) }
    }

    /// dst = src.
    static func copy(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, count: Int) {
        chunked(count) { o, n in (dst + o).update(from: src + o, count: n) }
    }
}
