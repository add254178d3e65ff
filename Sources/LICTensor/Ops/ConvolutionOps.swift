/// Padding of the two spatial axes.
public struct Padding2D: Hashable, Sendable {
    public var top, left, bottom, right: Int
    public init(top: Int, left: Int, bottom: Int, right: Int) { (self.top, self.left, self.bottom, self.right) = (top, left, bottom, right) }
    public static func same(_ p: Int) -> Padding2D { Padding2D(top: p, left: p, bottom: p, right: p) }
}

extension Tensor {
    /// 2-D convolution of x [N, C, H, W] with weight [O, C/groups, kH, kW]
    /// (PyTorch layout) and optional bias [O]. A `mask` of the weight's shape
    /// (masked or checkerboard context convolutions) multiplies the weight.
    public func conv2d(_ weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Padding2D = .same(0),
                       groups: Int = 1, mask: Tensor? = nil) throws -> Tensor {
        guard rank == 4, weight.rank == 4 else { throw TensorError.shape("conv2d: input \(shape) and weight \(weight.shape) must be 4-D") }
        if let mask, mask.shape != weight.shape { throw TensorError.shape("conv2d: mask \(mask.shape) differs from weight \(weight.shape)") }
        let w = try mask.map { try weight * $0 } ?? weight
        let g = try ConvGeometry(batch: shape[0], inChannels: shape[1], outChannels: w.shape[0], inHeight: shape[2],
                                 inWidth: shape[3], kernelHeight: w.shape[2], kernelWidth: w.shape[3], strideH: stride,
                                 strideW: stride, padTop: padding.top, padLeft: padding.left, padBottom: padding.bottom,
                                 padRight: padding.right, groups: groups)
        guard w.shape[1] * groups == shape[1] else {
            throw TensorError.shape("conv2d: weight \(w.shape) with \(groups) group(s) does not take \(shape[1]) channels")
        }
        try Tensor.checkBias(bias, channels: g.outChannels)
        let x = self
        return try Tensor.convolution("conv2d", x: x, weight: w, bias: bias, outShape: [g.batch, g.outChannels, g.outHeight, g.outWidth],
            forward: { try Convolution.forward(g, src: x.storage.pointer, weights: w.storage.pointer, bias: bias?.storage.pointer, dst: $0) },
            backwardData: { try Convolution.backwardData(g, diffDst: $0, weights: w.storage.pointer, diffSrc: $1) },
            backwardWeights: { try Convolution.backwardWeights(g, src: x.storage.pointer, diffDst: $0, diffWeights: $1, diffBias: $2) })
    }

    /// Transposed 2-D convolution of x [N, C, H, W] with weight [C, O/groups, kH, kW]
    /// (PyTorch ConvTranspose2d layout); output size (H-1)*stride - pads + kH + outputPadding.
    public func convTranspose2d(_ weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Padding2D = .same(0),
                                outputPadding: Int = 0, groups: Int = 1) throws -> Tensor {
        guard rank == 4, weight.rank == 4, weight.shape[0] == shape[1] else {
            throw TensorError.shape("conv_transpose2d: input \(shape) and weight \(weight.shape) do not fit")
        }
        let g = try TransposedConvGeometry(batch: shape[0], inChannels: shape[1], outChannels: weight.shape[1] * groups,
                                           inHeight: shape[2], inWidth: shape[3], kernelHeight: weight.shape[2],
                                           kernelWidth: weight.shape[3], strideH: stride, strideW: stride,
                                           padTop: padding.top, padLeft: padding.left, padBottom: padding.bottom,
                                           padRight: padding.right, outputPaddingH: outputPadding,
                                           outputPaddingW: outputPadding, groups: groups)
        try Tensor.checkBias(bias, channels: g.outChannels)
        let x = self, w = weight
        return try Tensor.convolution("conv_transpose2d", x: x, weight: w, bias: bias,
                                      outShape: [g.batch, g.outChannels, g.outHeight, g.outWidth],
            forward: { try TransposedConvolution.forward(g, src: x.storage.pointer, weights: w.storage.pointer, bias: bias?.storage.pointer, dst: $0) },
            backwardData: { try TransposedConvolution.backwardData(g, diffDst: $0, weights: w.storage.pointer, diffSrc: $1) },
            backwardWeights: { try TransposedConvolution.backwardWeights(g, src: x.storage.pointer, diffDst: $0, diffWeights: $1, diffBias: $2) })
    }

    /// The tape entry both convolutions share: output from `forward`; input
    /// gradient from `backwardData(dY, dX)`; weight and bias gradients from
    /// `backwardWeights(dY, dW, dB)`, computed only for what needs them.
    private static func convolution(_ name: String, x: Tensor, weight w: Tensor, bias: Tensor?, outShape: [Int],
                                    forward: (UnsafeMutablePointer<Float>) throws -> Void,
                                    backwardData: @escaping (UnsafePointer<Float>, UnsafeMutablePointer<Float>) throws -> Void,
                                    backwardWeights: @escaping (UnsafePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>?) throws -> Void) throws -> Tensor {
        let storage = try computed(outShape, forward)
        let inputs = [x, w] + (bias.map { [$0] } ?? [])
        return recordResult(name, shape: outShape, storage: storage, inputs: inputs) { gradOutput, _ in
            var gradX: Tensor?, gradW: Tensor?, gradB: Tensor?
            if x.requiresGrad {
                gradX = Tensor(shape: x.shape, storage: try computed(x.shape) { try backwardData(gradOutput.storage.pointer, $0) })
            }
            if w.requiresGrad || bias?.requiresGrad == true {
                let dw = try TensorStorage(uninitializedCount: w.count)
                let db = try bias.map { try TensorStorage(uninitializedCount: $0.count) }
                try backwardWeights(gradOutput.storage.pointer, dw.pointer, db?.pointer)
                gradW = Tensor(shape: w.shape, storage: dw)
                gradB = db.map { Tensor(shape: bias!.shape, storage: $0) }
            }
            return [gradX, gradW] + (bias == nil ? [] : [gradB])
        }
    }

    private static func checkBias(_ bias: Tensor?, channels: Int) throws {
        if let bias, bias.count != channels {
            throw TensorError.shape("bias \(bias.shape) does not have \(channels) elements")
        }
    }

    /// [..., m, k] x [..., k, n] -> [..., m, n]; leading (batch) axes must match.
    public func matmul(_ other: Tensor) throws -> Tensor {
        guard rank >= 2, other.rank == rank, Array(shape.dropLast(2)) == Array(other.shape.dropLast(2)),
              shape[rank - 1] == other.shape[rank - 2] else {
            throw TensorError.shape("matmul: \(shape) x \(other.shape)")
        }
        let a = self, b = other
        let (m, k, n) = (shape[rank - 2], shape[rank - 1], other.shape[rank - 1])
        let batch = shape.dropLast(2).reduce(1, *)
        let outShape = Array(shape.dropLast(2)) + [m, n]
        let storage = try Tensor.computed(outShape) {
            try MatMul.multiply(a: a.storage.pointer, b: b.storage.pointer, c: $0, batch: batch, m: m, n: n, k: k,
                                transposeA: false, transposeB: false)
        }
        return Tensor.recordResult("matmul", shape: outShape, storage: storage, inputs: [a, b]) { gradOutput, _ in
            // dA = dC B^T, dB = A^T dC
            let gradA = a.requiresGrad ? Tensor(shape: a.shape, storage: try Tensor.computed(a.shape) {
                try MatMul.multiply(a: gradOutput.storage.pointer, b: b.storage.pointer, c: $0, batch: batch, m: m, n: k, k: n,
                                    transposeA: false, transposeB: true)
            }) : nil
            let gradB = b.requiresGrad ? Tensor(shape: b.shape, storage: try Tensor.computed(b.shape) {
                try MatMul.multiply(a: a.storage.pointer, b: gradOutput.storage.pointer, c: $0, batch: batch, m: k, n: n, k: m,
                                    transposeA: true, transposeB: false)
            }) : nil
            return [gradA, gradB]
        }
    }
}
