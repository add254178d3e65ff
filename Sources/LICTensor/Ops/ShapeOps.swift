extension Tensor {
    /// Same data, another shape with the same element count (shares storage).
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        guard try Tensor.elementCount(newShape) == count else {
            throw TensorError.shape("cannot reshape \(shape) (\(count) elements) to \(newShape)")
        }
        let oldShape = shape
        return Tensor.recordResult("reshape", shape: newShape, storage: storage, inputs: [self]) { gradOutput, _ in
            [Tensor(shape: oldShape, storage: gradOutput.storage)]
        }
    }

    /// Axes reordered: result axis i is input axis permutation[i].
    public func permuted(_ permutation: [Int]) throws -> Tensor {
        guard permutation.sorted() == Array(0..<rank) else {
            throw TensorError.shape("\(permutation) is not a permutation of the axes of \(shape)")
        }
        let x = self
        let outShape = permutation.map { shape[$0] }
        let storage = try Tensor.computed(outShape) {
            ShapeKernels.permute(x: x.storage.pointer, shape: x.shape, permutation: permutation, out: $0)
        }
        var inverse = [Int](repeating: 0, count: rank)
        for (i, p) in permutation.enumerated() { inverse[p] = i }
        return Tensor.recordResult("permute", shape: outShape, storage: storage, inputs: [x]) { gradOutput, _ in
            let gradInput = try Tensor.computed(x.shape) {
                ShapeKernels.permute(x: gradOutput.storage.pointer, shape: outShape, permutation: inverse, out: $0)
            }
            return [Tensor(shape: x.shape, storage: gradInput)]
        }
    }

    /// Joins tensors that agree on every axis but `axis`.
    public static func concatenate(_ tensors: [Tensor], axis: Int) throws -> Tensor {
        guard let first = tensors.first else { throw TensorError.invalidArgument("concatenate: no tensors") }
        let axis = try first.normalizedAxes([axis])[0]
        for t in tensors {
            guard t.rank == first.rank,
                  t.shape.enumerated().allSatisfy({ $0.offset == axis || $0.element == first.shape[$0.offset] }) else {
                throw TensorError.shape("concatenate along \(axis): \(t.shape) does not match \(first.shape)")
            }
        }
        var outShape = first.shape
        outShape[axis] = tensors.reduce(0) { $0 + $1.shape[axis] }
        let storage = try computed(outShape) { out in
            ShapeKernels.concat(inputs: tensors.map { (UnsafePointer($0.storage.pointer), $0.shape) }, axis: axis, out: out)
        }
        return recordResult("concat", shape: outShape, storage: storage, inputs: tensors) { gradOutput, _ in
            var start = 0
            return try tensors.map { t in
                defer { start += t.shape[axis] }
                guard t.requiresGrad else { return nil }
                let grad = try computed(t.shape) {
                    ShapeKernels.sliceCopy(x: gradOutput.storage.pointer, shape: outShape, axis: axis,
                                           start: start, length: t.shape[axis], out: $0)
                }
                return Tensor(shape: t.shape, storage: grad)
            }
        }
    }

    /// Elements start ..< start + length along `axis`.
    public func sliced(axis: Int, start: Int, length: Int) throws -> Tensor {
        let axis = try normalizedAxes([axis])[0]
        guard start >= 0, length >= 0, start + length <= shape[axis] else {
            throw TensorError.shape("slice \(start)..<\(start + length) of axis \(axis) of \(shape)")
        }
        let x = self
        var outShape = shape
        outShape[axis] = length
        let storage = try Tensor.computed(outShape) {
            ShapeKernels.sliceCopy(x: x.storage.pointer, shape: x.shape, axis: axis, start: start, length: length, out: $0)
        }
        return Tensor.recordResult("slice", shape: outShape, storage: storage, inputs: [x]) { gradOutput, _ in
            let gradInput = try Tensor.computed(x.shape) {
                ShapeKernels.sliceBackward(gradOutput: gradOutput.storage.pointer, outShape: outShape, axis: axis,
                                           start: start, inputShape: x.shape, gradInput: $0)
            }
            return [Tensor(shape: x.shape, storage: gradInput)]
        }
    }

    /// Splits `axis` into consecutive pieces of the given sizes.
    public func split(axis: Int, sizes: [Int]) throws -> [Tensor] {
        let axis = try normalizedAxes([axis])[0]
        guard sizes.allSatisfy({ $0 >= 0 }), sizes.reduce(0, +) == shape[axis] else {
            throw TensorError.shape("split sizes \(sizes) do not add up to \(shape[axis]) (axis \(axis) of \(shape))")
        }
        var start = 0
        return try sizes.map { size in
            defer { start += size }
            return try sliced(axis: axis, start: start, length: size)
        }
    }

    /// Pads (positive) or crops (negative) each axis by (before, after) with `value`.
    public func padded(_ padding: [(before: Int, after: Int)], value: Float = 0) throws -> Tensor {
        guard padding.count == rank else { throw TensorError.shape("padding for \(padding.count) axes, tensor has \(rank)") }
        let outShape = try zip(shape, padding).map { size, pad -> Int in
            let n = size + pad.before + pad.after
            guard n >= 0, -pad.before <= size, -pad.after <= size else { throw TensorError.shape("padding \(padding) is larger than \(shape)") }
            return n
        }
        let x = self
        let storage = try Tensor.computed(outShape) {
            ShapeKernels.pad(x: x.storage.pointer, shape: x.shape, padding: padding, value: value, out: $0)
        }
        return Tensor.recordResult("pad", shape: outShape, storage: storage, inputs: [x]) { gradOutput, _ in
            let gradInput = try Tensor.computed(x.shape) {
                ShapeKernels.padBackward(gradOutput: gradOutput.storage.pointer, outShape: outShape, padding: padding,
                                         inputShape: x.shape, gradInput: $0)
            }
            return [Tensor(shape: x.shape, storage: gradInput)]
        }
    }

    /// The spatial window [top, top+height) x [left, left+width) of an NCHW tensor.
    public func cropped(top: Int, left: Int, height: Int, width: Int) throws -> Tensor {
        guard rank == 4 else { throw TensorError.shape("crop needs NCHW, got \(shape)") }
        return try padded([(0, 0), (0, 0), (-top, top + height - shape[2]), (-left, left + width - shape[3])])
    }

    /// [N, C*r*r, H, W] -> [N, C, H*r, W*r] (PyTorch's pixel_shuffle order).
    public func pixelShuffled(_ factor: Int) throws -> Tensor {
        guard rank == 4, factor >= 1, shape[1] % (factor * factor) == 0 else {
            throw TensorError.shape("pixel shuffle by \(factor) needs NCHW with channels divisible by \(factor * factor), got \(shape)")
        }
        let outShape = [shape[0], shape[1] / (factor * factor), shape[2] * factor, shape[3] * factor]
        return try shuffle(to: outShape, factor: factor, forward: true)
    }

    /// [N, C, H*r, W*r] -> [N, C*r*r, H, W], the inverse of pixelShuffled.
    public func pixelUnshuffled(_ factor: Int) throws -> Tensor {
        guard rank == 4, factor >= 1, shape[2] % factor == 0, shape[3] % factor == 0 else {
            throw TensorError.shape("pixel unshuffle by \(factor) needs NCHW with H and W divisible by \(factor), got \(shape)")
        }
        let outShape = [shape[0], shape[1] * factor * factor, shape[2] / factor, shape[3] / factor]
        return try shuffle(to: outShape, factor: factor, forward: false)
    }

    private func shuffle(to outShape: [Int], factor: Int, forward: Bool) throws -> Tensor {
        let x = self
        func apply(_ input: UnsafePointer<Float>, _ inputShape: [Int], _ output: UnsafeMutablePointer<Float>, shuffle: Bool) {
            if shuffle {
                ShapeKernels.pixelShuffle(x: input, shape: inputShape, factor: factor, out: output)
            } else {
                ShapeKernels.pixelUnshuffle(x: input, shape: inputShape, factor: factor, out: output)
            }
        }
        let storage = try Tensor.computed(outShape) { apply(x.storage.pointer, x.shape, $0, shuffle: forward) }
        return Tensor.recordResult(forward ? "pixel_shuffle" : "pixel_unshuffle", shape: outShape, storage: storage,
                                   inputs: [x]) { gradOutput, _ in
            let gradInput = try Tensor.computed(x.shape) { apply(gradOutput.storage.pointer, outShape, $0, shuffle: !forward) }
            return [Tensor(shape: x.shape, storage: gradInput)]
        }
    }
}
