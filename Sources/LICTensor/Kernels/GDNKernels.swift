/// The elementwise passes of the fused GDN op (Ops/GDNOps.swift), over
/// activations [N, C, P] (P = H * W) and per-channel beta.
///
/// Each pass parallelizes over whole (n, c) rows, and every row's sum runs in
/// one fixed order, so results do not depend on the thread count. Square
/// roots and divisions are single IEEE operations, as in the unary kernels.
enum GDNKernels {
    /// out = x * x.
    static func square(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forEachChunk(count: count, chunk: 65536) { range in
            let (xs, ys) = (x + range.lowerBound, out + range.lowerBound)
            for i in 0..<range.count { ys[i] = xs[i] * xs[i] }
        }
    }

    /// norm += beta[c] (kept for the backward pass when `keepNorm`), and
    /// y = x / sqrt(norm) (GDN) or x * sqrt(norm) (inverse GDN).
    static func normalize(x: UnsafePointer<Float>, norm: UnsafeMutablePointer<Float>, beta: UnsafePointer<Float>,
                          y: UnsafeMutablePointer<Float>, rows: Int, channels: Int, plane: Int, inverse: Bool, keepNorm: Bool) {
        Parallel.forEachChunk(count: rows, chunk: Parallel.chunk(itemCost: plane)) { range in
            for row in range {
                let o = row * plane
                let b = beta[row % channels]
                let (xs, ns, ys) = (x + o, norm + o, y + o)
                switch (inverse, keepNorm) {
                case (false, false): for i in 0..<plane { ys[i] = xs[i] / (ns[i] + b).squareRoot() }
                case (true, false): for i in 0..<plane { ys[i] = xs[i] * (ns[i] + b).squareRoot() }
                case (false, true): for i in 0..<plane { let n = ns[i] + b; ns[i] = n; ys[i] = xs[i] / n.squareRoot() }
                case (true, true): for i in 0..<plane { let n = ns[i] + b; ns[i] = n; ys[i] = xs[i] * n.squareRoot() }
                }
            }
        }
    }

    /// From the output gradient g and the kept norm n: gradNorm = dL/dn
    /// (-x g / (2 n sqrt(n)) for GDN, x g / (2 sqrt(n)) for the inverse),
    /// direct = g / sqrt(n) or g * sqrt(n) (x's gradient through the
    /// numerator; nil: not wanted), and each row's sum of gradNorm in `rowSums`.
    static func normGradient(x: UnsafePointer<Float>, norm: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
                              gradNorm: UnsafeMutablePointer<Float>, direct: UnsafeMutablePointer<Float>?,
                              rowSums: UnsafeMutablePointer<Double>, rows: Int, plane: Int, inverse: Bool) {
        Parallel.forEachChunk(count: rows, chunk: Parallel.chunk(itemCost: plane)) { range in
            for row in range {
                let o = row * plane
                let (xs, ns, gs, dn) = (x + o, norm + o, gradOutput + o, gradNorm + o)
                // One pass per variant (the optional store hoisted out), each square root taken once.
                switch (inverse, direct) {
                case (true, let direct?):
                    let ds = direct + o
                    for i in 0..<plane { let root = ns[i].squareRoot(); ds[i] = gs[i] * root; dn[i] = 0.5 * xs[i] * gs[i] / root }
                case (true, nil):
                    for i in 0..<plane { dn[i] = 0.5 * xs[i] * gs[i] / ns[i].squareRoot() }
                case (false, let direct?):
                    let ds = direct + o
                    for i in 0..<plane { let root = ns[i].squareRoot(); ds[i] = gs[i] / root; dn[i] = -0.5 * xs[i] * gs[i] / (ns[i] * root) }
                case (false, nil):
                    for i in 0..<plane { dn[i] = -0.5 * xs[i] * gs[i] / (ns[i] * ns[i].squareRoot()) }
                }
                let sum = Double(rowSum(dn, count: plane))
                rowSums[row] = sum
            }
        }
    }

    /// The sum of `count` values in a fixed order: eight interleaved partial
    /// sums (lane l takes elements l, l + 8, ...), then the lanes in order,
    /// then the tail. The same bits on every run and thread count, without the
    /// serial dependency of one running sum (which bounded this pass by the
    /// adder's latency).
    @inline(__always)
    static func rowSum(_ values: UnsafePointer<Float>, count: Int) -> Float {
        var lanes = SIMD8<Float>(repeating: 0)
        var i = 0
        while i + 8 <= count {
            lanes += UnsafeRawPointer(values + i).loadUnaligned(as: SIMD8<Float>.self)
            i += 8
        }
        var sum: Float = 0
        for l in 0..<8 { sum += lanes[l] }
        while i < count { sum += values[i]; i += 1 }
        return sum
    }

    /// gradX += 2 * x * gradSquares (the chain through x^2).
    static func addSquareGradient(x: UnsafePointer<Float>, gradSquares: UnsafePointer<Float>,
                                  gradX: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forEachChunk(count: count, chunk: 65536) { range in
            let o = range.lowerBound
            let (xs, gs, out) = (x + o, gradSquares + o, gradX + o)
            for i in 0..<range.count { out[i] += 2 * xs[i] * gs[i] }
        }
    }
}
