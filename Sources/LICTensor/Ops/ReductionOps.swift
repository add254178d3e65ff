extension Tensor {
    /// Sum over `axes` (all axes when nil); reduced axes keep size 1 unless
    /// `keepDimensions` is false.
    public func sum(axes: [Int]? = nil, keepDimensions: Bool = true) throws -> Tensor {
        let x = self
        let axes = try normalizedAxes(axes ?? Array(0..<rank))
        var keptShape = shape
        for axis in axes { keptShape[axis] = 1 }
        let storage = try Tensor.computed(keptShape) {
            ReduceKernels.sum(x: x.storage.pointer, shape: x.shape, axes: axes, out: $0)
        }
        let resultShape = keepDimensions ? keptShape : Tensor.dropping(axes, from: keptShape)
        return Tensor.recordResult("sum", shape: resultShape, storage: storage, inputs: [x]) { gradOutput, _ in
            let gradInput = try Tensor.computed(x.shape) {
                ReduceKernels.broadcastTo(x: gradOutput.storage.pointer, shape: keptShape, out: $0, outShape: x.shape)
            }
            return [Tensor(shape: x.shape, storage: gradInput)]
        }
    }

    public func mean(axes: [Int]? = nil, keepDimensions: Bool = true) throws -> Tensor {
        let axes = try normalizedAxes(axes ?? Array(0..<rank))
        let n = axes.reduce(1) { $0 * shape[$1] }
        return try sum(axes: axes, keepDimensions: keepDimensions) * (1 / Float(max(n, 1)))
    }

    func normalizedAxes(_ axes: [Int]) throws -> [Int] {
        let normalized = try axes.map { axis -> Int in
            let a = axis < 0 ? axis + rank : axis
            guard (0..<rank).contains(a) else { throw TensorError.shape("axis \(axis) is out of range for shape \(shape)") }
            return a
        }
        guard Set(normalized).count == normalized.count else { throw TensorError.shape("repeated axis in \(axes)") }
        return normalized.sorted()
    }

    static func dropping(_ axes: [Int], from shape: [Int]) -> [Int] {
        let kept = shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
        return kept.isEmpty ? [1] : kept
    }
}
