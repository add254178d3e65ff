/// Gradient clipping by global L2 norm, as `torch.nn.utils.clip_grad_norm_`.
public enum GradientClipping {
    /// The L2 norm of all gradients together. Deterministic: squares are
    /// accumulated in Double, buffer by buffer in the order given; within a
    /// buffer, element i of the first 8·⌊count/8⌋ goes to partial sum i mod 8
    /// and the rest to a ninth, combined in a fixed order. The result does not
    /// depend on the machine or on threading.
    public static func globalNorm(_ gradients: [UnsafeBufferPointer<Float>]) -> Double {
        var total = 0.0
        for buffer in gradients {
            total += sumOfSquares(buffer)
        }
        return total.squareRoot()
    }

    /// Scales all gradients in place by `maxNorm / (norm + 1e-6)` when their
    /// global norm exceeds `maxNorm`, and returns the norm before clipping.
    /// Gradients whose norm is at most `maxNorm` are left untouched (PyTorch
    /// multiplies by min(1, maxNorm / (norm + 1e-6)), which differs only for a
    /// norm within 1e-6 below `maxNorm`). A non-finite norm is returned with the
    /// gradients left untouched: the caller should skip that step.
    /// `maxNorm` must not be negative or NaN; 0 zeroes the gradients (as in
    /// PyTorch) and +infinity never clips.
    @discardableResult
    public static func clip(_ gradients: [UnsafeMutableBufferPointer<Float>], maxNorm: Double) -> Double {
        precondition(maxNorm >= 0, "GradientClipping.clip: maxNorm must be >= 0, got \(maxNorm)")
        let norm = globalNorm(gradients.map { UnsafeBufferPointer($0) })
        guard norm.isFinite, norm > maxNorm else { return norm }
        let scale = Float(maxNorm / (norm + 1e-6))
        for buffer in gradients {
            guard let base = buffer.baseAddress else { continue }
            for i in 0..<buffer.count { base[i] = base[i] * scale }
        }
        return norm
    }

    private static func sumOfSquares(_ buffer: UnsafeBufferPointer<Float>) -> Double {
        guard let base = buffer.baseAddress else { return 0 }
        let n = buffer.count
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0, s4 = 0.0, s5 = 0.0, s6 = 0.0, s7 = 0.0
        var i = 0
        while i + 8 <= n {
            let x0 = Double(base[i]), x1 = Double(base[i + 1]), x2 = Double(base[i + 2]), x3 = Double(base[i + 3])
            let x4 = Double(base[i + 4]), x5 = Double(base[i + 5]), x6 = Double(base[i + 6]), x7 = Double(base[i + 7])
            s0 += x0 * x0; s1 += x1 * x1; s2 += x2 * x2; s3 += x3 * x3
            s4 += x4 * x4; s5 += x5 * x5; s6 += x6 * x6; s7 += x7 * x7
            i += 8
        }
        var tail = 0.0
        while i < n {
            let x = Double(base[i])
            tail += x * x
            i += 1
        }
        return (((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))) + tail
    }
}
