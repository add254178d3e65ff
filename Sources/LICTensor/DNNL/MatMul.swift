import CDNNL

/// Batched single-precision matrix products through oneDNN's matmul primitive.
public enum MatMul {
    /// C[m, n] = op(A)[m, k] * op(B)[k, n] for each of `batch` matrices,
    /// row-major. A holds batch blocks of m*k elements ([m, k], or [k, m]
    /// when `transposeA`), B of k*n ([k, n], or [n, k] when `transposeB`),
    /// C of m*n (overwritten). FLOPs: 2 * batch * m * n * k.
    public static func multiply(a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
                                batch: Int, m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool) throws {
        guard batch >= 0, m >= 0, n >= 0, k >= 0 else {
            throw TensorError.invalidArgument("matmul: negative size (batch \(batch), m \(m), n \(n), k \(k))")
        }
        let (count, overflow) = batch.multipliedReportingOverflow(by: m * n)
        guard !overflow else { throw TensorError.invalidArgument("matmul: output too large") }
        if count == 0 { return }
        if k == 0 {  // empty sum
            c.update(repeating: 0, count: count)
            return
        }
        if ExactArithmetic.isEnabled {
            return try ExactMatMul.multiply(a: a, b: b, c: c, batch: batch, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB)
        }
        let shape = MatMulShape(batch: batch, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB)
        let context = try DNNLContext.shared()
        let threads = Threads.applyToCurrentThread()
        let plan = try context.plan("matmul", shape, threads: threads) { () throws(TensorError) in try shape.makePlan(context) }
        try plan.run(context, inputs: [UnsafeRawPointer(a), UnsafeRawPointer(b)], outputs: [UnsafeMutableRawPointer(c)])
    }
}

struct MatMulShape: Hashable, Sendable {
    var batch, m, n, k: Int
    var transposeA, transposeB: Bool

    func makePlan(_ context: DNNLContext) throws(TensorError) -> DNNLPlan {
        // Transposes are expressed as strides; the caller's buffers are used in place.
        let dimsA: [Int], stridesA: [Int], dimsB: [Int], stridesB: [Int], dimsC: [Int], stridesC: [Int]
        let strideA2 = transposeA ? [1, m] : [k, 1]
        let strideB2 = transposeB ? [1, k] : [n, 1]
        if batch == 1 {
            (dimsA, stridesA) = ([m, k], strideA2)
            (dimsB, stridesB) = ([k, n], strideB2)
            (dimsC, stridesC) = ([m, n], [n, 1])
        } else {
            (dimsA, stridesA) = ([batch, m, k], [m * k] + strideA2)
            (dimsB, stridesB) = ([batch, k, n], [k * n] + strideB2)
            (dimsC, stridesC) = ([batch, m, n], [m * n, n, 1])
        }
        var mdA = try DNNLMemory.desc(dimsA, strides: stridesA)
        var mdB = try DNNLMemory.desc(dimsB, strides: stridesB)
        var mdC = try DNNLMemory.desc(dimsC, strides: stridesC)
        var desc = dnnl_matmul_desc_t()
        try dnnlCheck(dnnl_matmul_desc_init(&desc, &mdA, &mdB, nil, &mdC), "dnnl_matmul_desc_init")
        let engine = context.engine
        let pd = try DNNLPrimitiveDesc(opDesc: &desc, engine: engine, hint: nil, what: "matmul")
        let arguments = [
            try DNNLArgument(DNNL_ARG_SRC, .input, plain: mdA, chosen: pd.memoryDesc(dnnl_query_src_md, 0, "src"), engine: engine),
            try DNNLArgument(DNNL_ARG_WEIGHTS, .input, plain: mdB,
                             chosen: pd.memoryDesc(dnnl_query_weights_md, 0, "weights"), engine: engine),
            try DNNLArgument(DNNL_ARG_DST, .output, plain: mdC, chosen: pd.memoryDesc(dnnl_query_dst_md, 0, "dst"), engine: engine),
        ]
        let name = "matmul \(batch)x[\(m)x\(k)]\(transposeA ? "^T" : "")*[\(k)x\(n)]\(transposeB ? "^T" : "")"
        return try DNNLPlan(name: name, pd: pd, keep: [], arguments: arguments)
    }
}
