/// Sums over axes, and their backward (broadcasting back).
///
/// Determinism: every sum is accumulated in Double over a blocking fixed by
/// the shape alone (blocks of `rowBlock` contiguous elements summed with eight
/// interleaved accumulators; strided sums in blocks of `columnBlock` rows;
/// block results combined in block order). Threads only decide who computes
/// which block, so results are bit-identical for any thread count or chunking.
enum ReduceKernels {
    /// Contiguous elements per partial sum.
    static let rowBlock = 4096
    /// Rows per partial sum when summing along a strided axis.
    static let columnBlock = 256
    /// Columns handled together when summing along a strided axis.
    static let columnChunk = 2048
    /// Default work per parallel chunk (elements).
    static let defaultGrain = 65536

    /// out = x summed over `axes` (negative axes count from the end); out's
    /// shape is `shape` with those axes set to 1.
    static func sum(x: UnsafePointer<Float>, shape: [Int], axes: [Int], out: UnsafeMutablePointer<Float>) {
        sum(x: x, shape: shape, axes: axes, out: out, grain: defaultGrain)
    }

    /// `sum` with the parallel work granularity exposed (for tests: the result
    /// does not depend on it).
    static func sum(x: UnsafePointer<Float>, shape: [Int], axes: [Int], out: UnsafeMutablePointer<Float>, grain: Int) {
        let rank = shape.count
        var reduced = [Bool](repeating: false, count: rank)
        for axis in axes {
            let a = axis < 0 ? axis + rank : axis
            precondition(a >= 0 && a < rank, "axis \(axis) out of range for \(shape)")
            reduced[a] = true
        }
        let outCount = (0..<rank).reduce(1) { $0 * (reduced[$1] ? 1 : shape[$1]) }
        let count = shape.reduce(1, *)
        if count == 0 {
            out.initialize(repeating: 0, count: outCount)
            return
        }
        // Axes of size 1 do not matter; merge neighbours of the same kind.
        var groups: [(size: Int, reduced: Bool)] = []
        for d in 0..<rank where shape[d] != 1 {
            if let last = groups.last, last.reduced == reduced[d] {
                groups[groups.count - 1].size *= shape[d]
            } else {
                groups.append((shape[d], reduced[d]))
            }
        }
        guard groups.contains(where: { $0.reduced }) else {
            out.update(from: x, count: count)
            return
        }
        // One pass per reduced group, innermost first: [outer, R, inner] -> [outer, inner].
        // The first pass reads the floats, later ones the doubles before them;
        // the last pass writes floats.
        var source: UnsafeMutablePointer<Double>? = nil
        defer { source?.deallocate() }
        var first = true
        while let j = groups.lastIndex(where: { $0.reduced }) {
            let outer = groups[..<j].reduce(1) { $0 * $1.size }
            let inner = groups[(j + 1)...].reduce(1) { $0 * $1.size }
            let r = groups[j].size
            let last = !groups[..<j].contains(where: { $0.reduced })
            if last {
                if first {
                    reduceMiddle(x, outer, r, inner, out, grain)
                } else {
                    reduceMiddle(UnsafePointer(source!), outer, r, inner, out, grain)
                }
                return
            }
            let dst = UnsafeMutablePointer<Double>.allocate(capacity: outer * inner)
            if first {
                reduceMiddle(x, outer, r, inner, dst, grain)
            } else {
                reduceMiddle(UnsafePointer(source!), outer, r, inner, dst, grain)
                source!.deallocate()
            }
            source = dst
            first = false
            groups.remove(at: j)
            if j < groups.count && j > 0 && !groups[j].reduced && !groups[j - 1].reduced {
                groups[j - 1].size *= groups[j].size
                groups.remove(at: j)
            }
        }
    }

    /// The sum of all `count` elements (accumulated in Double).
    static func sumAll(x: UnsafePointer<Float>, count: Int) -> Float {
        Float(sumAllDouble(x: x, count: count))
    }

    /// The sum of all `count` elements, in Double.
    static func sumAllDouble(x: UnsafePointer<Float>, count: Int) -> Double {
        guard count > 0 else { return 0 }
        var result = 0.0
        reduceMiddle(x, 1, count, 1, &result, defaultGrain)
        return result
    }

    /// out = x broadcast to `outShape` (numpy rules; `shape` may have fewer
    /// axes). The backward of `sum`.
    static func broadcastTo(x: UnsafePointer<Float>, shape: [Int], out: UnsafeMutablePointer<Float>, outShape: [Int]) {
        let plan = BroadcastPlan(outShape: outShape, aShape: shape, bShape: outShape)
        guard plan.rows > 0 && plan.inner > 0 else { return }
        plan.parallelRows { plan, rows, offset in
            let n = plan.inner
            let src = x + offset * plan.aInner, dst = out + offset
            let contiguous = plan.aInner != 0
            plan.forEachRow(rows) { row, aOff, _ in
                if contiguous {
                    (dst + row * n).update(from: src + aOff, count: n)
                } else {
                    let v = src[aOff]
                    let o = dst + row * n
                    for i in 0..<n { o[i] = v }
                }
            }
        }
    }

    // MARK: The one reduction: [outer, r, inner] -> [outer, inner]

    /// dst[o, k] = sum over i of src[o, i, k], in Double, with the fixed blocking
    /// described on the type.
    static func reduceMiddle<S: ReduceKernelScalar, D: ReduceKernelScalar>(
        _ src: UnsafePointer<S>, _ outer: Int, _ r: Int, _ inner: Int, _ dst: UnsafeMutablePointer<D>, _ grain: Int
    ) {
        if inner == 1 {
            rowSums(src, outer, r, dst, grain)
        } else {
            columnSums(src, outer, r, inner, dst, grain)
        }
    }

    /// dst[o] = sum of the contiguous row src[o, 0..<r].
    private static func rowSums<S: ReduceKernelScalar, D: ReduceKernelScalar>(
        _ src: UnsafePointer<S>, _ outer: Int, _ r: Int, _ dst: UnsafeMutablePointer<D>, _ grain: Int
    ) {
        let blocks = (r + rowBlock - 1) / rowBlock
        let chunk = Parallel.chunk(itemCost: min(r, rowBlock), work: grain)
        if blocks == 1 {
            Parallel.forEachChunk(count: outer, chunk: chunk) { range in
                for o in range { dst[o] = D(reduced: blockSum(src + o * r, r)) }
            }
            return
        }
        let partial = UnsafeMutablePointer<Double>.allocate(capacity: outer * blocks)
        defer { partial.deallocate() }
        Parallel.forEachChunk(count: outer * blocks, chunk: chunk) { range in
            for t in range {
                let o = t / blocks, k = t - o * blocks
                let start = k * rowBlock
                partial[t] = blockSum(src + o * r + start, min(rowBlock, r - start))
            }
        }
        for o in 0..<outer {
            let p = partial + o * blocks
            var total = p[0]
            for k in 1..<blocks { total += p[k] }
            dst[o] = D(reduced: total)
        }
    }

    /// `blockSum` for floats (non-generic, so callers in other files get the
    /// specialized loop even without whole-module optimization).
    static func blockSumOfFloats(_ p: UnsafePointer<Float>, _ n: Int) -> Double {
        blockSum(p, n)
    }

    /// Sum of n contiguous values: eight interleaved Double accumulators
    /// combined pairwise, then the tail.
    @inline(__always)
    private static func blockSum<S: ReduceKernelScalar>(_ p: UnsafePointer<S>, _ n: Int) -> Double {
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0, s4 = 0.0, s5 = 0.0, s6 = 0.0, s7 = 0.0
        var i = 0
        while i + 8 <= n {
            s0 += p[i].reduceValue
            s1 += p[i + 1].reduceValue
            s2 += p[i + 2].reduceValue
            s3 += p[i + 3].reduceValue
            s4 += p[i + 4].reduceValue
            s5 += p[i + 5].reduceValue
            s6 += p[i + 6].reduceValue
            s7 += p[i + 7].reduceValue
            i += 8
        }
        var tail = 0.0
        while i < n {
            tail += p[i].reduceValue
            i += 1
        }
        return (((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7))) + tail
    }

    /// dst[o, k] = sum over i of src[o, i, k] with k contiguous: rows added
    /// into Double accumulators (vectorized over k), in blocks of
    /// `columnBlock` rows whose results are added in block order.
    private static func columnSums<S: ReduceKernelScalar, D: ReduceKernelScalar>(
        _ src: UnsafePointer<S>, _ outer: Int, _ r: Int, _ inner: Int, _ dst: UnsafeMutablePointer<D>, _ grain: Int
    ) {
        let blocks = (r + columnBlock - 1) / columnBlock
        let chunks = (inner + columnChunk - 1) / columnChunk
        let partial = UnsafeMutablePointer<Double>.allocate(capacity: outer * blocks * inner)
        defer { partial.deallocate() }
        let tasks = outer * blocks * chunks
        let cost = min(r, columnBlock) * min(inner, columnChunk)
        Parallel.forEachChunk(count: tasks, chunk: Parallel.chunk(itemCost: cost, work: grain)) { range in
            for t in range {
                let c = t % chunks
                let ob = t / chunks
                let o = ob / blocks, k = ob - o * blocks
                let k0 = c * columnChunk
                let width = min(columnChunk, inner - k0)
                let acc = partial + ob * inner + k0
                let i0 = k * columnBlock
                let i1 = min(r, i0 + columnBlock)
                let row0 = src + (o * r + i0) * inner + k0
                for j in 0..<width { acc[j] = row0[j].reduceValue }
                var i = i0 + 1
                while i < i1 {
                    let row = src + (o * r + i) * inner + k0
                    for j in 0..<width { acc[j] += row[j].reduceValue }
                    i += 1
                }
            }
        }
        // Combine blocks in order, then convert.
        Parallel.forEachChunk(count: outer * chunks, chunk: Parallel.chunk(itemCost: blocks * min(inner, columnChunk), work: grain)) { range in
            for t in range {
                let o = t / chunks, c = t - o * chunks
                let k0 = c * columnChunk
                let width = min(columnChunk, inner - k0)
                let base = partial + o * blocks * inner + k0
                for k in 1..<max(blocks, 1) {
                    let p = base + k * inner
                    for j in 0..<width { base[j] += p[j] }
                }
                let d = dst + o * inner + k0
                for j in 0..<width { d[j] = D(reduced: base[j]) }
            }
        }
    }
}

/// Float or Double, as read and written by the reductions.
protocol ReduceKernelScalar {
    var reduceValue: Double { get }
    init(reduced: Double)
}

extension Float: ReduceKernelScalar {
    @inline(__always) var reduceValue: Double { Double(self) }
    @inline(__always) init(reduced value: Double) { self = Float(value) }
}

extension Double: ReduceKernelScalar {
    @inline(__always) var reduceValue: Double { self }
    @inline(__always) init(reduced value: Double) { self = value }
}
