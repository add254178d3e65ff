import Foundation
import Testing
@testable import LICTensor

// MARK: Shape kernels

private func permutations(_ n: Int) -> [[Int]] {
    if n == 0 { return [[]] }
    return permutations(n - 1).flatMap { p in (0...p.count).map { i in var q = p; q.insert(n - 1, at: i); return q } }
}

private func permute(_ x: [Float], _ shape: [Int], _ perm: [Int]) -> [Float] {
    output(x.count) { out in ptr(x) { ShapeKernels.permute(x: $0, shape: shape, permutation: perm, out: out) } }
}

private func pad(_ x: [Float], _ shape: [Int], _ padding: [(before: Int, after: Int)], _ value: Float) -> [Float] {
    let outShape = zip(shape, padding).map { $0 + $1.before + $1.after }
    return output(count(outShape)) { out in ptr(x) { ShapeKernels.pad(x: $0, shape: shape, padding: padding, value: value, out: out) } }
}

@Suite struct ShapeKernelTests {
    @Test func permuteMatchesIndexFormula() {
        var rng = KernelRNG(state: 0x5A_0001)
        let cases: [[Int]] = [[2, 3, 4, 5], [2, 1, 3, 1], [2, 24, 20, 33]]
        for shape in cases {
            let x = rng.floats(count(shape), -1, 1)
            let perms = shape.count == 4 && count(shape) < 1000 ? permutations(4) : [[0, 2, 3, 1], [0, 3, 1, 2], [1, 0, 2, 3], [3, 2, 1, 0]]
            for perm in perms {
                let outShape = perm.map { shape[$0] }
                let out = permute(x, shape, perm)
                var ok = true
                for i in 0..<out.count {
                    let index = unflatten(i, outShape)
                    var source = [Int](repeating: 0, count: shape.count)
                    for (k, p) in perm.enumerated() { source[p] = index[k] }
                    if out[i] != x[flatten(source, shape)] { ok = false; break }
                }
                #expect(ok, "\(shape) \(perm)")
                var inverse = [Int](repeating: 0, count: perm.count)
                for (i, p) in perm.enumerated() { inverse[p] = i }
                #expect(permute(out, outShape, inverse) == x)
            }
        }
    }

    @Test func concatAndSlicesRoundTrip() {
        var rng = KernelRNG(state: 0x5A_0002)
        let base = [2, 3, 4]
        for axis in 0..<3 {
            let sizes = [1, 3, 2]
            let shapes = sizes.map { s -> [Int] in var sh = base; sh[axis] = s; return sh }
            let parts = shapes.map { rng.floats(count($0), -1, 1) }
            var outShape = base
            outShape[axis] = sizes.reduce(0, +)
            let joined = output(count(outShape)) { out in
                let pointers = parts.map { p -> UnsafeMutablePointer<Float> in
                    let q = UnsafeMutablePointer<Float>.allocate(capacity: p.count)
                    q.initialize(from: p, count: p.count)
                    return q
                }
                defer { pointers.forEach { $0.deallocate() } }
                ShapeKernels.concat(inputs: zip(pointers, shapes).map { (UnsafePointer($0), $1) }, axis: axis, out: out)
            }
            // Index formula.
            var ok = true
            for i in 0..<joined.count {
                var index = unflatten(i, outShape)
                var k = 0
                while index[axis] >= sizes[k] { index[axis] -= sizes[k]; k += 1 }
                if joined[i] != parts[k][flatten(index, shapes[k])] { ok = false }
            }
            #expect(ok, "concat along \(axis)")
            // Slices give the parts back; sliceBackward puts them back with zeros elsewhere.
            var start = 0
            for k in 0..<3 {
                let slice = output(count(shapes[k])) { out in
                    ptr(joined) { ShapeKernels.sliceCopy(x: $0, shape: outShape, axis: axis, start: start, length: sizes[k], out: out) }
                }
                #expect(slice == parts[k])
                let scattered = output(joined.count) { out in
                    ptr(slice) { ShapeKernels.sliceBackward(gradOutput: $0, outShape: shapes[k], axis: axis, start: start, inputShape: outShape, gradInput: out) }
                }
                for i in 0..<joined.count {
                    let inside = (start..<(start + sizes[k])).contains(unflatten(i, outShape)[axis])
                    if scattered[i] != (inside ? joined[i] : 0) { ok = false }
                }
                #expect(ok, "sliceBackward along \(axis) piece \(k)")
                start += sizes[k]
            }
        }
    }

    @Test func padAndCropMatchIndexFormula() {
        var rng = KernelRNG(state: 0x5A_0003)
        let shape = [2, 3, 5, 6]
        let x = rng.floats(count(shape), -1, 1)
        let paddings: [[(before: Int, after: Int)]] = [
            [(0, 0), (0, 0), (1, 2), (3, 0)],
            [(0, 0), (0, 0), (-1, -2), (-2, -1)],
            [(1, 0), (0, -1), (2, -3), (-4, 5)],
            [(0, 0), (0, 0), (0, 0), (-6, 2)],  // the whole last axis cropped, then padded
        ]
        for padding in paddings {
            let outShape = zip(shape, padding).map { $0 + $1.before + $1.after }
            let out = pad(x, shape, padding, 7)
            var ok = true
            for i in 0..<out.count {
                let index = unflatten(i, outShape)
                let source = (0..<4).map { index[$0] - padding[$0].before }
                let inside = (0..<4).allSatisfy { source[$0] >= 0 && source[$0] < shape[$0] }
                if out[i] != (inside ? x[flatten(source, shape)] : 7) { ok = false }
            }
            #expect(ok, "\(padding)")
            // padBackward is pad's adjoint: <pad0(x), y> == <x, padBackward(y)>.
            let y = rng.floats(out.count, -1, 1)
            let back = output(x.count) { o in
                ptr(y) { ShapeKernels.padBackward(gradOutput: $0, outShape: outShape, padding: padding, inputShape: shape, gradInput: o) }
            }
            let padded0 = pad(x, shape, padding, 0)
            let lhs = zip(padded0, y).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let rhs = zip(x, back).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            #expect(Swift.abs(lhs - rhs) < 1e-9, "\(padding)")
        }
    }

    @Test func pixelShuffleMatchesPyTorchOrder() {
        var rng = KernelRNG(state: 0x5A_0004)
        for (shape, r) in [([2, 12, 3, 4], 2), ([1, 18, 2, 3], 3), ([1, 4, 5, 5], 1)] {
            let x = rng.floats(count(shape), -1, 1)
            let c = shape[1] / (r * r)
            let outShape = [shape[0], c, shape[2] * r, shape[3] * r]
            let out = output(x.count) { o in ptr(x) { ShapeKernels.pixelShuffle(x: $0, shape: shape, factor: r, out: o) } }
            var ok = true
            for i in 0..<out.count {
                let idx = unflatten(i, outShape)  // n, c, h*r + i, w*r + j
                let source = [idx[0], idx[1] * r * r + (idx[2] % r) * r + idx[3] % r, idx[2] / r, idx[3] / r]
                if out[i] != x[flatten(source, shape)] { ok = false }
            }
            #expect(ok, "\(shape) r \(r)")
            let back = output(x.count) { o in ptr(out) { ShapeKernels.pixelUnshuffle(x: $0, shape: outShape, factor: r, out: o) } }
            #expect(back == x)
        }
    }
}

// MARK: Pointwise

@Suite struct PointwiseKernelTests {
    @Test func clampAndItsGradient() {
        let x: [Float] = [-2, -1, 0, 1, 2, .nan]
        let y = output(x.count) { o in ptr(x) { PointwiseKernels.clamp(x: $0, min: -1, max: 1, y: o, count: x.count) } }
        #expect(Array(y.prefix(5)) == [-1, -1, 0, 1, 1] && y[5].isNaN)
        let g: [Float] = [1, 2, 3, 4, 5, 6]
        let gi = output(x.count) { o in
            ptr(x) { xp in ptr(g) { PointwiseKernels.clampBackward(x: xp, min: -1, max: 1, gradOutput: $0, gradInput: o, count: x.count) } }
        }
        #expect(gi == [0, 2, 3, 4, 0, 0])
    }

    @Test func lowerBoundGradientRule() {
        // Passes where x >= bound, or where the gradient is negative (descent moves x up).
        let x: [Float] = [0.5, 0.5, 0.05, 0.05, 0.1, 0.1]
        let g: [Float] = [1, -1, 1, -1, 1, -1]
        let y = output(x.count) { o in ptr(x) { PointwiseKernels.lowerBound(x: $0, bound: 0.1, y: o, count: x.count) } }
        #expect(y == [0.5, 0.5, 0.1, 0.1, 0.1, 0.1])
        let gi = output(x.count) { o in
            ptr(x) { xp in ptr(g) { PointwiseKernels.lowerBoundBackward(x: xp, bound: 0.1, gradOutput: $0, gradInput: o, count: x.count) } }
        }
        #expect(gi == [1, -1, 0, -1, 1, -1])
    }

    @Test func roundTiesToEven() {
        let x: [Float] = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999997, 2.6, -2.6, 8388609, -8388609, 1e30, 0]
        let y = output(x.count) { o in ptr(x) { PointwiseKernels.round(x: $0, y: o, count: x.count) } }
        #expect(y == [0, 2, 2, -0.0, -2, -2, 0, 3, -3, 8388609, -8388609, 1e30, 0])
        #expect(y[3].sign == .minus)
        let special = output(3) { o in ptr([Float.nan, .infinity, -0.0]) { PointwiseKernels.round(x: $0, y: o, count: 3) } }
        #expect(special[0].isNaN && special[1] == .infinity && special[2].sign == .minus)
    }

    @Test func noiseIsAFunctionOfSeedAndIndex() {
        let n = 150_000
        let whole = output(n) { PointwiseKernels.uniformNoise(count: n, seed: 42, offset: 0, low: -0.5, high: 0.5, out: $0) }
        // In pieces, with offsets: the same bits.
        let pieces = output(n) { o in
            var start = 0
            for size in [1, 999, 70_000, 79_000] {
                PointwiseKernels.uniformNoise(count: size, seed: 42, offset: UInt64(start), low: -0.5, high: 0.5, out: o + start)
                start += size
            }
        }
        #expect(bits(whole) == bits(pieces))
        let otherSeed = output(n) { PointwiseKernels.uniformNoise(count: n, seed: 43, offset: 0, low: -0.5, high: 0.5, out: $0) }
        #expect(zip(whole, otherSeed).filter { $0 == $1 }.count < 100)
        // Distribution: U(-0.5, 0.5) has mean 0 and variance 1/12.
        #expect(whole.allSatisfy { $0 >= -0.5 && $0 < 0.5 })
        let mean = whole.reduce(0.0) { $0 + Double($1) } / Double(n)
        let variance = whole.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(n)
        #expect(Swift.abs(mean) < 0.005)
        #expect(Swift.abs(variance - 1.0 / 12) < 0.002)
        var histogram = [Int](repeating: 0, count: 10)
        for v in whole { histogram[min(9, Int((v + 0.5) * 10))] += 1 }
        #expect(histogram.allSatisfy { Swift.abs($0 - n / 10) < n / 100 })
    }

    @Test func bufferHelpers() {
        var rng = KernelRNG(state: 0x9E_0001)
        let a = rng.floats(100_003, -1, 1), b = rng.floats(100_003, -1, 1)
        let sum = output(a.count) { o in
            o.initialize(from: a, count: a.count)
            ptr(b) { PointwiseKernels.add(into: o, $0, count: a.count) }
        }
        #expect(sum == zip(a, b).map { $0 + $1 })
        let axpy = output(a.count) { o in
            o.initialize(from: a, count: a.count)
            ptr(b) { PointwiseKernels.axpy(into: o, alpha: 0.5, $0, count: a.count) }
        }
        #expect(axpy == zip(a, b).map { $0 + 0.5 * $1 })
        let scaled = output(a.count) { o in
            o.initialize(from: a, count: a.count)
            PointwiseKernels.scale(o, by: -2, count: a.count)
        }
        #expect(scaled == a.map { -2 * $0 })
        let filled = output(a.count) { PointwiseKernels.fill($0, value: 3, count: a.count) }
        #expect(filled.allSatisfy { $0 == 3 })
    }
}
