/// Fixed-order matrix products for exact mode (see `ExactArithmetic`):
/// C[i, j] = A[i, 0] * B[0, j] + A[i, 1] * B[1, j] + ... in ascending k,
/// starting from the first product; lanes run over j, threads over rows.
enum ExactMatMul {
    typealias Vector = SIMD8<Float>

    static func multiply(a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
                         batch: Int, m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool) throws {
        let lanes = Vector.scalarCount
        let padded = (n + lanes - 1) / lanes * lanes
        // B of every batch as [k][n padded], so a row of C is a sequence of vector multiply-adds.
        let packed = try TensorStorage(count: batch * k * padded)
        for t in 0..<batch {
            for kk in 0..<k {
                for j in 0..<n {
                    packed.pointer[(t * k + kk) * padded + j] = transposeB ? b[t * k * n + j * k + kk] : b[t * k * n + kk * n + j]
                }
            }
        }
        let bPacked = UnsafePointer(packed.pointer)
        Parallel.forEachChunk(count: batch * m, chunk: Parallel.chunk(itemCost: k * padded, work: 1 << 16)) { range in
            var row = [Vector](repeating: Vector(), count: padded / lanes)
            for item in range {
                let (t, i) = (item / m, item % m)
                let aRow = { (kk: Int) -> Float in transposeA ? a[t * m * k + kk * m + i] : a[t * m * k + i * k + kk] }
                row.withUnsafeMutableBufferPointer { acc in
                    let raw = UnsafeRawPointer(bPacked + t * k * padded)
                    for v in acc.indices {
                        var sum = raw.loadUnaligned(fromByteOffset: v * lanes * 4, as: Vector.self) * Vector(repeating: aRow(0))
                        for kk in 1..<max(k, 1) {
                            sum = sum + raw.loadUnaligned(fromByteOffset: (kk * padded + v * lanes) * 4, as: Vector.self)
                                * Vector(repeating: aRow(kk))
                        }
                        acc[v] = sum
                    }
                    let out = c + (t * m + i) * n
                    for j in 0..<n { out[j] = acc[j / lanes][j % lanes] }
                }
            }
        }
    }
}
