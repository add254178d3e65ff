#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Elementwise functions of two tensors, with numpy broadcasting.
public enum BinaryOp: Hashable, Sendable {
    case add, subtract, multiply, divide
    /// a^b; gradients b a^(b-1) (0 where b = 0) and a^b log(a) (0 where a <= 0).
    case power
    /// Gradient to a where a >= b (ties go to a), else to b.
    case maximum
    /// Gradient to a where a <= b (ties go to a), else to b.
    case minimum
}

/// The iteration structure of a broadcast elementwise op: the output's
/// non-unit axes, with runs of axes that are contiguous for every operand
/// merged, split into `rows` (the outer axes, walked with an odometer) and one
/// contiguous `inner` axis. On the inner axis each operand has stride 1
/// (it varies) or 0 (it is broadcast).
///
/// [N, C, H, W] with [1, C, 1, 1] becomes outer [N, C] (b strides [0, 1]) and
/// inner H*W with b stride 0: one splat loop per row.
struct BroadcastPlan {
    var sizes: [Int] = []
    var aStrides: [Int] = []
    var bStrides: [Int] = []
    var inner = 1
    var aInner = 0
    var bInner = 0
    var rows = 1

    init(outShape: [Int], aShape: [Int], bShape: [Int]) {
        let rank = outShape.count
        precondition(aShape.count <= rank && bShape.count <= rank, "operand rank exceeds output rank")
        func strides(_ shape: [Int]) -> [Int] {
            let padded = [Int](repeating: 1, count: rank - shape.count) + shape
            var result = [Int](repeating: 0, count: rank)
            var acc = 1
            for d in stride(from: rank - 1, through: 0, by: -1) {
                precondition(padded[d] == outShape[d] || padded[d] == 1,
                             "shape \(shape) does not broadcast to \(outShape)")
                result[d] = padded[d] == 1 ? 0 : acc
                acc *= padded[d]
            }
            return result
        }
        let sa = strides(aShape), sb = strides(bShape)
        var dims: [(size: Int, a: Int, b: Int)] = []
        for d in 0..<rank where outShape[d] != 1 {
            let size = outShape[d]
            if let last = dims.last, last.a == sa[d] * size, last.b == sb[d] * size {
                dims[dims.count - 1] = (last.size * size, sa[d], sb[d])
            } else {
                dims.append((size, sa[d], sb[d]))
            }
        }
        if let last = dims.popLast() {
            inner = last.size
            aInner = last.a
            bInner = last.b
        }
        sizes = dims.map(\.size)
        aStrides = dims.map(\.a)
        bStrides = dims.map(\.b)
        rows = sizes.reduce(1, *)
        if outShape.contains(0) { rows = 0 }
    }

    /// Calls `body(row, aOffset, bOffset)` for rows `range` in order; the
    /// output offset of a row is `row * inner`.
    @inline(__always)
    func forEachRow(_ range: Range<Int>, _ body: (Int, Int, Int) -> Void) {
        if sizes.isEmpty {
            for row in range { body(row, 0, 0) }
            return
        }
        let depth = sizes.count
        var index = [Int](repeating: 0, count: depth)
        var aOff = 0, bOff = 0
        var rest = range.lowerBound
        for d in stride(from: depth - 1, through: 0, by: -1) {
            index[d] = rest % sizes[d]
            rest /= sizes[d]
            aOff += index[d] * aStrides[d]
            bOff += index[d] * bStrides[d]
        }
        index.withUnsafeMutableBufferPointer { idx in
            for row in range {
                body(row, aOff, bOff)
                var d = depth - 1
                idx[d] += 1
                aOff += aStrides[d]
                bOff += bStrides[d]
                while idx[d] == sizes[d] && d > 0 {
                    aOff -= sizes[d] * aStrides[d]
                    bOff -= sizes[d] * bStrides[d]
                    idx[d] = 0
                    d -= 1
                    idx[d] += 1
                    aOff += aStrides[d]
                    bOff += bStrides[d]
                }
            }
        }
    }

    /// The operand offsets of one row.
    func offsets(row: Int) -> (a: Int, b: Int) {
        var rest = row, aOff = 0, bOff = 0
        for d in stride(from: sizes.count - 1, through: 0, by: -1) {
            let i = rest % sizes[d]
            rest /= sizes[d]
            aOff += i * aStrides[d]
            bOff += i * bStrides[d]
        }
        return (aOff, bOff)
    }

    /// Runs `body` over chunks of rows (in parallel), or, when there is a
    /// single row, over chunks of the inner axis with `inner` narrowed.
    func parallelRows(_ body: (BroadcastPlan, Range<Int>, Int) -> Void) {
        if rows == 1 && inner > 32768 {
            // One long row: split the inner axis; the element offset is passed along.
            Parallel.forEachChunk(count: inner, chunk: 32768) { range in
                var sub = self
                sub.inner = range.count
                body(sub, 0 ..< 1, range.lowerBound)
            }
        } else {
            Parallel.forEachChunk(count: rows, chunk: Parallel.chunk(itemCost: inner)) { range in
                body(self, range, 0)
            }
        }
    }
}

/// Loops for `BinaryOp` on contiguous buffers with broadcasting. The op is
/// dispatched per chunk of rows; the inner loops (both operands varying, or
/// one of them a splat) are plain arithmetic that the compiler vectorizes.
enum BinaryKernels {
    /// numpy broadcasting: shapes aligned at their last axes, sizes equal or 1.
    static func broadcastShape(_ a: [Int], _ b: [Int]) throws -> [Int] {
        let rank = max(a.count, b.count)
        var out = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            if da == db || db == 1 {
                out[i] = da
            } else if da == 1 {
                out[i] = db
            } else {
                throw TensorError.shape("cannot broadcast \(a) with \(b)")
            }
        }
        return out
    }

    // MARK: Forward

    /// out = a op b, `outShape` = broadcastShape(aShape, bShape).
    static func forward(_ op: BinaryOp, a: UnsafePointer<Float>, aShape: [Int], b: UnsafePointer<Float>, bShape: [Int],
                        out: UnsafeMutablePointer<Float>, outShape: [Int]) {
        let plan = BroadcastPlan(outShape: outShape, aShape: aShape, bShape: bShape)
        guard plan.rows > 0 && plan.inner > 0 else { return }
        plan.parallelRows { plan, rows, offset in
            forwardRows(op, plan, rows, a + offset * plan.aInner, b + offset * plan.bInner, out + offset)
        }
    }

    private static func forwardRows(_ op: BinaryOp, _ plan: BroadcastPlan, _ rows: Range<Int>,
                                    _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>) {
        switch op {
        case .add: apply(plan, rows, a, b, out) { $0 + $1 }
        case .subtract: apply(plan, rows, a, b, out) { $0 - $1 }
        case .multiply: apply(plan, rows, a, b, out) { $0 * $1 }
        case .divide: apply(plan, rows, a, b, out) { $0 / $1 }
        case .power:
            if plan.bInner == 0 && plan.bStrides.allSatisfy({ $0 == 0 }) {
                // Scalar exponent: the common squares and square roots without powf.
                let e = b[0]
                if e == 2 { apply(plan, rows, a, b, out) { x, _ in x * x }; return }
                if e == 1 { apply(plan, rows, a, b, out) { x, _ in x }; return }
            }
            apply(plan, rows, a, b, out) { powf($0, $1) }
        case .maximum: apply(plan, rows, a, b, out) { x, y in (x >= y || x != x) ? x : y }  // NaN propagates
        case .minimum: apply(plan, rows, a, b, out) { x, y in (x <= y || x != x) ? x : y }
        }
    }

    @inline(__always)
    private static func apply(_ plan: BroadcastPlan, _ rows: Range<Int>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                              _ out: UnsafeMutablePointer<Float>, _ f: (Float, Float) -> Float) {
        let n = plan.inner
        let sa = plan.aInner, sb = plan.bInner
        plan.forEachRow(rows) { row, aOff, bOff in
            let o = out + row * n
            let pa = a + aOff, pb = b + bOff
            if sa != 0 && sb != 0 {
                for i in 0..<n { o[i] = f(pa[i], pb[i]) }
            } else if sb == 0 {
                let y = pb[0]
                for i in 0..<n { o[i] = f(pa[i], y) }
            } else {
                let x = pa[0]
                for i in 0..<n { o[i] = f(x, pb[i]) }
            }
        }
    }

    // MARK: Backward

    /// gradA = d(a op b)/da * gradOutput summed over a's broadcast axes (to
    /// a's shape), gradB likewise; both overwritten, either may be nil.
    static func backward(_ op: BinaryOp, a: UnsafePointer<Float>, aShape: [Int], b: UnsafePointer<Float>, bShape: [Int],
                         gradOutput: UnsafePointer<Float>, outShape: [Int],
                         gradA: UnsafeMutablePointer<Float>?, gradB: UnsafeMutablePointer<Float>?) {
        let plan = BroadcastPlan(outShape: outShape, aShape: aShape, bShape: bShape)
        let outCount = outShape.reduce(1, *)
        if let gradA {
            gradient(op, forA: true, plan, a, aShape, b, gradOutput, outShape, outCount, gradA)
        }
        if let gradB {
            gradient(op, forA: false, plan, a, bShape, b, gradOutput, outShape, outCount, gradB)
        }
    }

    /// The gradient of one operand (shape `shape`).
    private static func gradient(_ op: BinaryOp, forA: Bool, _ plan: BroadcastPlan, _ a: UnsafePointer<Float>, _ shape: [Int],
                                 _ b: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ outShape: [Int], _ outCount: Int,
                                 _ grad: UnsafeMutablePointer<Float>) {
        let count = shape.reduce(1, *)
        guard count > 0 else { return }
        if count == outCount {
            // Not broadcast (sizes agree, so every axis agrees): write directly.
            guard plan.rows > 0 && plan.inner > 0 else { return }
            plan.parallelRows { plan, rows, offset in
                localGradientRows(op, forA: forA, plan, rows, a + offset * plan.aInner, b + offset * plan.bInner,
                                  g + offset, grad + offset)
            }
            return
        }
        let rank = outShape.count
        let padded = [Int](repeating: 1, count: rank - shape.count) + shape
        let axes = (0..<rank).filter { padded[$0] == 1 && outShape[$0] != 1 }
        if outCount == 0 {
            grad.initialize(repeating: 0, count: count)
            return
        }
        switch op {
        case .add:
            ReduceKernels.sum(x: g, shape: outShape, axes: axes, out: grad)
        case .subtract:
            ReduceKernels.sum(x: g, shape: outShape, axes: axes, out: grad)
            if !forA { PointwiseKernels.scale(grad, by: -1, count: count) }
        default:
            if (forA ? plan.aInner : plan.bInner) == 0 && plan.inner >= 8 {
                reduceAlongRows(op, forA: forA, plan, a, b, g, grad, count)
                return
            }
            // Full-size local gradient, then the deterministic reduction.
            let temp = UnsafeMutablePointer<Float>.allocate(capacity: outCount)
            defer { temp.deallocate() }
            plan.parallelRows { plan, rows, offset in
                localGradientRows(op, forA: forA, plan, rows, a + offset * plan.aInner, b + offset * plan.bInner,
                                  g + offset, temp + offset)
            }
            ReduceKernels.sum(x: temp, shape: outShape, axes: axes, out: grad)
        }
    }

    /// The gradient of an operand broadcast along the inner axis (per-channel
    /// [1, C, 1, 1], a scalar) without an output-sized temporary: the local
    /// gradients of each row summed in Double (blocks of
    /// `ReduceKernels.rowBlock`, combined in order), then the row sums added
    /// into the operand's elements in row order. Deterministic for any thread
    /// count.
    private static func reduceAlongRows(_ op: BinaryOp, forA: Bool, _ plan: BroadcastPlan, _ a: UnsafePointer<Float>,
                                        _ b: UnsafePointer<Float>, _ g: UnsafePointer<Float>,
                                        _ grad: UnsafeMutablePointer<Float>, _ count: Int) {
        let n = plan.inner, rows = plan.rows
        let block = ReduceKernels.rowBlock
        let blocks = (n + block - 1) / block
        let partial = UnsafeMutablePointer<Double>.allocate(capacity: rows * blocks)
        defer { partial.deallocate() }
        let sa = plan.aInner, sb = plan.bInner
        Parallel.forEachChunk(count: rows * blocks, chunk: Parallel.chunk(itemCost: min(n, block))) { range in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: min(n, block))
            defer { scratch.deallocate() }
            for t in range {
                let row = t / blocks, k = t - row * blocks
                let (aOff, bOff) = plan.offsets(row: row)
                let start = k * block, length = min(block, n - start)
                localGradientSpan(op, forA: forA, length, a + aOff + start * sa, sa, b + bOff + start * sb, sb,
                                  g + row * n + start, scratch)
                partial[t] = ReduceKernels.blockSumOfFloats(scratch, length)
            }
        }
        let sums = UnsafeMutablePointer<Double>.allocate(capacity: count)
        defer { sums.deallocate() }
        sums.initialize(repeating: 0, count: count)
        plan.forEachRow(0 ..< rows) { row, aOff, bOff in
            let p = partial + row * blocks
            var total = p[0]
            for k in 1 ..< blocks { total += p[k] }
            sums[forA ? aOff : bOff] += total
        }
        for j in 0..<count { grad[j] = Float(sums[j]) }
    }

    /// dst[row] = gradOutput * d(a op b)/d(a or b), output-shaped.
    private static func localGradientRows(_ op: BinaryOp, forA: Bool, _ plan: BroadcastPlan, _ rows: Range<Int>,
                                          _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                                          _ g: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>) {
        let n = plan.inner
        let sa = plan.aInner, sb = plan.bInner
        plan.forEachRow(rows) { row, aOff, bOff in
            localGradientSpan(op, forA: forA, n, a + aOff, sa, b + bOff, sb, g + row * n, dst + row * n)
        }
    }

    /// dst[i] = g[i] * d(a op b)/d(a or b) over one span of n elements, a and b
    /// with stride 1 or 0 (a splat).
    private static func localGradientSpan(_ op: BinaryOp, forA: Bool, _ n: Int,
                                          _ a: UnsafePointer<Float>, _ sa: Int, _ b: UnsafePointer<Float>, _ sb: Int,
                                          _ g: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>) {
        switch (op, forA) {
        case (.add, _): span3(n, a, sa, b, sb, g, dst) { _, _, g in g }
        case (.subtract, true): span3(n, a, sa, b, sb, g, dst) { _, _, g in g }
        case (.subtract, false): span3(n, a, sa, b, sb, g, dst) { _, _, g in -g }
        case (.multiply, true): span3(n, a, sa, b, sb, g, dst) { _, y, g in g * y }
        case (.multiply, false): span3(n, a, sa, b, sb, g, dst) { x, _, g in g * x }
        case (.divide, true): span3(n, a, sa, b, sb, g, dst) { _, y, g in g / y }
        case (.divide, false): span3(n, a, sa, b, sb, g, dst) { x, y, g in -g * x / (y * y) }
        case (.power, true):
            // b a^(b-1), and 0 for b = 0 (as PyTorch; 0 * 0^-1 would be NaN).
            span3(n, a, sa, b, sb, g, dst) { x, y, g in y == 0 ? 0 : g * y * powf(x, y - 1) }
        case (.power, false):
            span3(n, a, sa, b, sb, g, dst) { x, y, g in x > 0 ? g * powf(x, y) * FastMath.log(x) : 0 }
        case (.maximum, true): span3(n, a, sa, b, sb, g, dst) { x, y, g in (x >= y || x != x) ? g : 0 }
        case (.maximum, false): span3(n, a, sa, b, sb, g, dst) { x, y, g in (x >= y || x != x) ? 0 : g }
        case (.minimum, true): span3(n, a, sa, b, sb, g, dst) { x, y, g in (x <= y || x != x) ? g : 0 }
        case (.minimum, false): span3(n, a, sa, b, sb, g, dst) { x, y, g in (x <= y || x != x) ? 0 : g }
        }
    }

    @inline(__always)
    private static func span3(_ n: Int, _ pa: UnsafePointer<Float>, _ sa: Int, _ pb: UnsafePointer<Float>, _ sb: Int,
                              _ pg: UnsafePointer<Float>, _ o: UnsafeMutablePointer<Float>,
                              _ f: (Float, Float, Float) -> Float) {
        if sa != 0 && sb != 0 {
            for i in 0..<n { o[i] = f(pa[i], pb[i], pg[i]) }
        } else if sb == 0 {
            let y = pb[0]
            for i in 0..<n { o[i] = f(pa[i], y, pg[i]) }
        } else {
            let x = pa[0]
            for i in 0..<n { o[i] = f(x, pb[i], pg[i]) }
        }
    }
}
