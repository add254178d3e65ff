/// Data movement: permute, concat / slice, pad / crop, pixel (un)shuffle.
/// Shapes are validated by the callers (Ops/ShapeOps.swift); here they are
/// only checked with preconditions.
enum ShapeKernels {
    /// Row-major strides of a contiguous tensor.
    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for d in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[d] = acc
            acc *= shape[d]
        }
        return strides
    }

    // MARK: Permute

    /// out axis i = x axis permutation[i].
    static func permute(x: UnsafePointer<Float>, shape: [Int], permutation: [Int], out: UnsafeMutablePointer<Float>) {
        let rank = shape.count
        precondition(permutation.count == rank && permutation.sorted() == Array(0..<rank), "bad permutation \(permutation)")
        let count = shape.reduce(1, *)
        guard count > 0 else { return }
        let xStrides = contiguousStrides(shape)
        // Output axes (size > 1) with their strides in x; merge runs that are contiguous in x.
        var dims: [(size: Int, stride: Int)] = []
        for i in 0..<rank where shape[permutation[i]] != 1 {
            let size = shape[permutation[i]], s = xStrides[permutation[i]]
            if let last = dims.last, last.stride == s * size {
                dims[dims.count - 1] = (last.size * size, s)
            } else {
                dims.append((size, s))
            }
        }
        if dims.count <= 1 {
            out.update(from: x, count: count)
            return
        }
        let inner = dims.removeLast()
        if inner.stride == 1 {
            gatherRows(x, out, dims, inner.size, 1)
            return
        }
        // The inner output axis is strided in x. If some outer axis is
        // contiguous in x, transpose in tiles over that pair.
        if let p = dims.lastIndex(where: { $0.stride == 1 }) {
            var outer = dims
            let pair = outer.remove(at: p)
            // Output strides: inner axis 1, pair axis = product of the output axes after it.
            let pairOutStride = dims[(p + 1)...].reduce(inner.size) { $0 * $1.size }
            tiledTranspose(x, out, outer: outer, outerOutStrides: outStrides(dims, inner.size, skipping: p),
                           rowsN: pair.size, rowsOutStride: pairOutStride, colsN: inner.size, colsXStride: inner.stride)
            return
        }
        gatherRows(x, out, dims, inner.size, inner.stride)
    }

    /// Output strides of the outer dims (without the one at `skipping`).
    private static func outStrides(_ dims: [(size: Int, stride: Int)], _ innerSize: Int, skipping: Int) -> [Int] {
        var strides = [Int](repeating: 0, count: dims.count)
        var acc = innerSize
        for d in stride(from: dims.count - 1, through: 0, by: -1) {
            strides[d] = acc
            acc *= dims[d].size
        }
        strides.remove(at: skipping)
        return strides
    }

    /// out rows of length n, each gathered from x with stride `step` starting
    /// at the offset the outer dims give.
    private static func gatherRows(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                                   _ dims: [(size: Int, stride: Int)], _ n: Int, _ step: Int) {
        let rows = dims.reduce(1) { $0 * $1.size }
        Parallel.forEachChunk(count: rows, chunk: Parallel.chunk(itemCost: n)) { range in
            forEachOffset(dims, range) { row, off in
                let o = out + row * n
                let src = x + off
                if step == 1 {
                    o.update(from: src, count: n)
                } else {
                    for i in 0..<n { o[i] = src[i * step] }
                }
            }
        }
    }

    /// For each flat index in `range` over `dims` (row-major), the offset
    /// sum(index[d] * stride[d]).
    @inline(__always)
    private static func forEachOffset(_ dims: [(size: Int, stride: Int)], _ range: Range<Int>, _ body: (Int, Int) -> Void) {
        let depth = dims.count
        if depth == 0 {
            for i in range { body(i, 0) }
            return
        }
        var index = [Int](repeating: 0, count: depth)
        var off = 0
        var rest = range.lowerBound
        for d in stride(from: depth - 1, through: 0, by: -1) {
            index[d] = rest % dims[d].size
            rest /= dims[d].size
            off += index[d] * dims[d].stride
        }
        for i in range {
            body(i, off)
            var d = depth - 1
            index[d] += 1
            off += dims[d].stride
            while index[d] == dims[d].size && d > 0 {
                off -= dims[d].size * dims[d].stride
                index[d] = 0
                d -= 1
                index[d] += 1
                off += dims[d].stride
            }
        }
    }

    /// For each outer index: out[rowsOutStride * i + j] = x[i + colsXStride * j]
    /// (a 2-D transpose), in 32 x 32 tiles.
    private static func tiledTranspose(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                                       outer: [(size: Int, stride: Int)], outerOutStrides: [Int],
                                       rowsN: Int, rowsOutStride: Int, colsN: Int, colsXStride: Int) {
        let tile = 32
        let tileRows = (rowsN + tile - 1) / tile
        let outerCount = outer.reduce(1) { $0 * $1.size }
        let outerOut = zip(outer, outerOutStrides).map { (size: $0.size, stride: $1) }
        let tasks = outerCount * tileRows
        Parallel.forEachChunk(count: tasks, chunk: Parallel.chunk(itemCost: tile * colsN)) { range in
            for t in range {
                let o = t / tileRows, tr = t - o * tileRows
                // Offsets of outer index o in x and out.
                var rest = o, xOff = 0, oOff = 0
                for d in stride(from: outer.count - 1, through: 0, by: -1) {
                    let i = rest % outer[d].size
                    rest /= outer[d].size
                    xOff += i * outer[d].stride
                    oOff += i * outerOut[d].stride
                }
                let i0 = tr * tile, i1 = min(rowsN, i0 + tile)
                var j0 = 0
                while j0 < colsN {
                    let j1 = min(colsN, j0 + tile)
                    for i in i0..<i1 {
                        let dst = out + oOff + i * rowsOutStride
                        let src = x + xOff + i
                        for j in j0..<j1 { dst[j] = src[j * colsXStride] }
                    }
                    j0 = j1
                }
            }
        }
    }

    // MARK: Concat and slices

    /// Joins `inputs` (same shape except along `axis`) along `axis`.
    static func concat(inputs: [(UnsafePointer<Float>, [Int])], axis: Int, out: UnsafeMutablePointer<Float>) {
        guard let first = inputs.first?.1 else { return }
        precondition(axis >= 0 && axis < first.count, "concat axis \(axis) out of range for \(first)")
        let outer = first[..<axis].reduce(1, *)
        let innerSizes = inputs.map { $0.1[axis...].reduce(1, *) }
        let total = innerSizes.reduce(0, +)
        guard outer > 0 && total > 0 else { return }
        let pointers = inputs.map(\.0)
        Parallel.forEachChunk(count: outer, chunk: Parallel.chunk(itemCost: total)) { range in
            for o in range {
                var dst = out + o * total
                for k in 0..<pointers.count {
                    let n = innerSizes[k]
                    dst.update(from: pointers[k] + o * n, count: n)
                    dst += n
                }
            }
        }
    }

    /// out = x[..., start ..< start + length, ...] along `axis` (`shape` is x's).
    static func sliceCopy(x: UnsafePointer<Float>, shape: [Int], axis: Int, start: Int, length: Int,
                          out: UnsafeMutablePointer<Float>) {
        precondition(axis >= 0 && axis < shape.count && start >= 0 && length >= 0 && start + length <= shape[axis],
                     "slice \(start)..<\(start + length) of axis \(axis) of \(shape)")
        let outer = shape[..<axis].reduce(1, *)
        let innerSize = shape[(axis + 1)...].reduce(1, *)
        let n = length * innerSize, rowX = shape[axis] * innerSize
        guard outer > 0 && n > 0 else { return }
        Parallel.forEachChunk(count: outer, chunk: Parallel.chunk(itemCost: n)) { range in
            for o in range {
                (out + o * n).update(from: x + o * rowX + start * innerSize, count: n)
            }
        }
    }

    /// Pieces of `sizes` along `axis`, one output pointer each (concat's inverse).
    static func split(x: UnsafePointer<Float>, shape: [Int], axis: Int, sizes: [Int], outs: [UnsafeMutablePointer<Float>]) {
        precondition(sizes.count == outs.count && sizes.reduce(0, +) == shape[axis], "split sizes \(sizes) for \(shape)")
        var start = 0
        for (size, out) in zip(sizes, outs) {
            sliceCopy(x: x, shape: shape, axis: axis, start: start, length: size, out: out)
            start += size
        }
    }

    /// The backward of sliceCopy: gradInput (of `inputShape`) is zero except
    /// the slice, which receives gradOutput (of `outShape`, the slice's shape).
    static func sliceBackward(gradOutput: UnsafePointer<Float>, outShape: [Int], axis: Int, start: Int,
                              inputShape: [Int], gradInput: UnsafeMutablePointer<Float>) {
        precondition(outShape.count == inputShape.count && start >= 0 && start + outShape[axis] <= inputShape[axis],
                     "slice of shape \(outShape) at \(start) along \(axis) of \(inputShape)")
        let outer = inputShape[..<axis].reduce(1, *)
        let innerSize = inputShape[(axis + 1)...].reduce(1, *)
        let rowX = inputShape[axis] * innerSize
        let n = outShape[axis] * innerSize
        let before = start * innerSize
        let after = rowX - before - n
        guard outer > 0 && rowX > 0 else { return }
        Parallel.forEachChunk(count: outer, chunk: Parallel.chunk(itemCost: rowX)) { range in
            for o in range {
                let dst = gradInput + o * rowX
                dst.update(repeating: 0, count: before)
                (dst + before).update(from: gradOutput + o * n, count: n)
                (dst + before + n).update(repeating: 0, count: after)
            }
        }
    }

    // MARK: Pad

    /// Pads each axis with `value` (positive before/after) or crops it
    /// (negative). out shape[d] = shape[d] + before + after.
    static func pad(x: UnsafePointer<Float>, shape: [Int], padding: [(before: Int, after: Int)], value: Float,
                    out: UnsafeMutablePointer<Float>) {
        let rank = shape.count
        precondition(padding.count == rank, "padding for \(padding.count) axes, shape \(shape)")
        let outShape = (0..<rank).map { shape[$0] + padding[$0].before + padding[$0].after }
        precondition(outShape.allSatisfy { $0 >= 0 }, "padding \(padding) is larger than \(shape)")
        let outCount = outShape.reduce(1, *)
        guard outCount > 0 else { return }
        if rank == 0 {
            out[0] = x[0]
            return
        }
        let last = rank - 1
        let lo = outShape[last], lx = shape[last], b = padding[last].before
        // Columns [c0, c1) of an output row come from x columns [c0 - b, c1 - b).
        let c0 = min(lo, max(0, b)), c1 = max(c0, min(lo, lx + b))
        let xStrides = contiguousStrides(shape)
        let rows = outCount / lo
        let outerOut = Array(outShape[..<last])
        let xEmpty = shape.contains(0)
        Parallel.forEachChunk(count: rows, chunk: Parallel.chunk(itemCost: lo)) { range in
            for row in range {
                let dst = out + row * lo
                // Map the output row to an x row, if it has one.
                var rest = row, xOff = 0, inside = !xEmpty
                for d in stride(from: last - 1, through: 0, by: -1) {
                    let i = rest % outerOut[d]
                    rest /= outerOut[d]
                    let xi = i - padding[d].before
                    if xi < 0 || xi >= shape[d] { inside = false }
                    xOff += xi * xStrides[d]
                }
                if !inside || c1 == c0 {
                    dst.update(repeating: value, count: lo)
                    continue
                }
                dst.update(repeating: value, count: c0)
                (dst + c0).update(from: x + xOff + (c0 - b), count: c1 - c0)
                (dst + c1).update(repeating: value, count: lo - c1)
            }
        }
    }

    /// The backward of pad: gradInput (of `inputShape`) is gradOutput (of
    /// `outShape`, the padded shape) cropped back, with zeros where the
    /// forward cropped x away.
    static func padBackward(gradOutput: UnsafePointer<Float>, outShape: [Int], padding: [(before: Int, after: Int)],
                            inputShape: [Int], gradInput: UnsafeMutablePointer<Float>) {
        precondition(outShape.count == inputShape.count && padding.count == inputShape.count,
                     "pad backward: \(outShape) from \(inputShape) with \(padding)")
        pad(x: gradOutput, shape: outShape, padding: padding.map { (before: -$0.before, after: -$0.after) },
            value: 0, out: gradInput)
    }

    // MARK: Pixel shuffle

    /// [N, C*r*r, H, W] -> [N, C, H*r, W*r]:
    /// out[n, c, h*r + i, w*r + j] = x[n, c*r*r + i*r + j, h, w] (PyTorch's order).
    static func pixelShuffle(x: UnsafePointer<Float>, shape: [Int], factor r: Int, out: UnsafeMutablePointer<Float>) {
        precondition(shape.count == 4 && r >= 1 && shape[1] % (r * r) == 0, "pixel shuffle by \(r) of \(shape)")
        let count = shape.reduce(1, *)
        guard count > 0 else { return }
        if r == 1 {
            out.update(from: x, count: count)
            return
        }
        let h = shape[2], w = shape[3], wo = w * r
        let rows = count / wo  // (n*C + c, h, i)
        Parallel.forEachChunk(count: rows, chunk: Parallel.chunk(itemCost: wo)) { range in
            for row in range {
                let i = row % r, t = row / r
                let hh = t % h, nc = t / h
                let dst = out + row * wo
                for j in 0..<r {
                    let src = x + ((nc * r * r + i * r + j) * h + hh) * w
                    let d = dst + j
                    for k in 0..<w { d[k * r] = src[k] }
                }
            }
        }
    }

    /// [N, C, H*r, W*r] -> [N, C*r*r, H, W], the inverse of pixelShuffle.
    static func pixelUnshuffle(x: UnsafePointer<Float>, shape: [Int], factor r: Int, out: UnsafeMutablePointer<Float>) {
        precondition(shape.count == 4 && r >= 1 && shape[2] % r == 0 && shape[3] % r == 0, "pixel unshuffle by \(r) of \(shape)")
        let count = shape.reduce(1, *)
        guard count > 0 else { return }
        if r == 1 {
            out.update(from: x, count: count)
            return
        }
        let hi = shape[2], wi = shape[3]
        let h = hi / r, w = wi / r
        let rows = count / w  // (n*C + c, i, j, h) in output order
        Parallel.forEachChunk(count: rows, chunk: Parallel.chunk(itemCost: w)) { range in
            for row in range {
                let hh = row % h
                var t = row / h
                let j = t % r
                t /= r
                let i = t % r
                let nc = t / r
                let src = x + (nc * hi + hh * r + i) * wi + j
                let dst = out + row * w
                for k in 0..<w { dst[k] = src[k * r] }
            }
        }
    }
}
