extension Tensor {
    /// Generalized divisive normalization (Balle et al.) on x [N, C, H, W]:
    /// y_i = x_i / sqrt(beta_i + sum_j gamma_ij x_j^2), or with `inverse`
    /// y_i = x_i * sqrt(...). beta [C] and gamma [C, C] are used as given (the
    /// caller applies its non-negativity reparametrization). The tape
    /// differentiates through x, beta and gamma.
    ///
    /// One fused op: x^2, the channel mix as a matrix product on the plain
    /// layout (no reorders to and from oneDNN's blocked layouts, as a 1x1
    /// convolution needs), then bias, square root and product in one pass that
    /// writes over the squares. Three activation-sized passes and two buffers
    /// instead of six and five; the backward pass keeps only the norm.
    /// In exact mode (entropy parameters) it runs the reference composition of
    /// ops instead, so stored files keep decoding to the same symbols.
    public func gdn(beta: Tensor, gamma: Tensor, inverse: Bool = false) throws -> Tensor {
        guard rank == 4 else { throw TensorError.shape("gdn needs NCHW, got \(shape)") }
        let channels = shape[1]
        guard beta.count == channels, gamma.shape == [channels, channels] else {
            throw TensorError.shape("gdn: beta \(beta.shape) and gamma \(gamma.shape) for \(channels) channels")
        }
        if ExactArithmetic.isEnabled { return try composedGDN(beta: beta, gamma: gamma, inverse: inverse) }
        let x = self
        let (batch, plane) = (shape[0], shape[2] * shape[3])
        let rows = batch * channels
        let recording = GradientMode.isRecording && (x.requiresGrad || beta.requiresGrad || gamma.requiresGrad)
        // The output buffer holds x^2 until the normalization pass overwrites it.
        let output = try TensorStorage(uninitializedCount: count)
        GDNKernels.square(x.storage.pointer, into: output.pointer, count: count)
        let norm = try TensorStorage(uninitializedCount: count)
        try Self.mixChannels(gamma.storage.pointer, transposed: false, output.pointer, into: norm.pointer,
                             batch: batch, channels: channels, plane: plane)
        GDNKernels.normalize(x: x.storage.pointer, norm: norm.pointer, beta: beta.storage.pointer, y: output.pointer,
                             rows: rows, channels: channels, plane: plane, inverse: inverse, keepNorm: recording)
        return Tensor.recordResult(inverse ? "igdn" : "gdn", shape: shape, storage: output, inputs: [x, beta, gamma]) { gradOutput, _ in
            try Self.gdnBackward(x: x, beta: beta, gamma: gamma, norm: norm, gradOutput: gradOutput, inverse: inverse)
        }
    }

    /// The same function as ops on the tape: x^2, a 1x1 convolution, a square root and a product.
    func composedGDN(beta: Tensor, gamma: Tensor, inverse: Bool) throws -> Tensor {
        let channels = shape[1]
        let norm = try squared().conv2d(gamma.reshaped([channels, channels, 1, 1]), bias: beta.reshaped([channels]))
        return try self * (inverse ? norm.sqrt() : norm.rsqrt())
    }

    /// out_b = gamma t_b (or gamma^T t_b) for each batch item b: [C, C] x [C, P].
    private static func mixChannels(_ gamma: UnsafePointer<Float>, transposed: Bool, _ t: UnsafePointer<Float>,
                                    into out: UnsafeMutablePointer<Float>, batch: Int, channels: Int, plane: Int) throws {
        for b in 0..<batch {
            let o = b * channels * plane
            try MatMul.multiply(a: gamma, b: t + o, c: out + o, batch: 1, m: channels, n: plane, k: channels,
                                transposeA: transposed, transposeB: false)
        }
    }

    /// Gradients of x, beta and gamma from the kept norm n = beta + gamma x^2:
    /// dn from the normalization, dbeta = sum of dn over batch and positions,
    /// dgamma = sum_b dn_b (x_b^2)^T, dx = direct + 2 x (gamma^T dn).
    private static func gdnBackward(x: Tensor, beta: Tensor, gamma: Tensor, norm: TensorStorage, gradOutput: Tensor,
                                    inverse: Bool) throws -> [Tensor?] {
        let (batch, channels, plane) = (x.shape[0], x.shape[1], x.shape[2] * x.shape[3])
        let rows = batch * channels
        let gradNorm = try TensorStorage(uninitializedCount: x.count)
        let gradX = x.requiresGrad ? try TensorStorage(uninitializedCount: x.count) : nil
        var rowSums = [Double](repeating: 0, count: rows)
        rowSums.withUnsafeMutableBufferPointer { sums in
            GDNKernels.normGradient(x: x.storage.pointer, norm: norm.pointer, gradOutput: gradOutput.storage.pointer,
                                    gradNorm: gradNorm.pointer, direct: gradX?.pointer, rowSums: sums.baseAddress!,
                                    rows: rows, plane: plane, inverse: inverse)
        }
        var gradBeta: Tensor?
        if beta.requiresGrad {
            // Batch items in order: the same sum at any thread count.
            let sums = (0..<channels).map { c in Float((0..<batch).reduce(0.0) { $0 + rowSums[$1 * channels + c] }) }
            gradBeta = try Tensor(shape: beta.shape, values: sums)
        }
        var gradGamma: Tensor?
        // Holds x^2 for gamma's gradient, then gamma^T dn for x's.
        let scratch = gamma.requiresGrad || gradX != nil ? try TensorStorage(uninitializedCount: x.count) : nil
        if gamma.requiresGrad, let scratch {
            GDNKernels.square(x.storage.pointer, into: scratch.pointer, count: x.count)
            let total = try TensorStorage(count: channels * channels)
            let item = try TensorStorage(uninitializedCount: channels * channels)
            for b in 0..<batch {
                let o = b * channels * plane
                try MatMul.multiply(a: gradNorm.pointer + o, b: scratch.pointer + o, c: item.pointer, batch: 1,
                                    m: channels, n: channels, k: plane, transposeA: false, transposeB: true)
                for i in 0..<(channels * channels) { total.pointer[i] += item.pointer[i] }
            }
            gradGamma = Tensor(shape: gamma.shape, storage: total)
        }
        if let gradX, let scratch {
            try mixChannels(gamma.storage.pointer, transposed: true, gradNorm.pointer, into: scratch.pointer,
                            batch: batch, channels: channels, plane: plane)
            GDNKernels.addSquareGradient(x: x.storage.pointer, gradSquares: scratch.pointer, gradX: gradX.pointer, count: x.count)
        }
        withExtendedLifetime((gradNorm, scratch)) {}
        return [gradX.map { Tensor(shape: x.shape, storage: $0) }, gradBeta, gradGamma]
    }
}
