import Foundation
import Testing
@testable import LICTensor

// MARK: Reductions

private func naiveSum(_ x: [Float], _ shape: [Int], _ axes: [Int]) -> [Double] {
    var outShape = shape
    for a in axes { outShape[a] = 1 }
    var out = [Double](repeating: 0, count: count(outShape))
    for i in 0..<x.count {
        var index = unflatten(i, shape)
        for a in axes { index[a] = 0 }
        out[flatten(index, outShape)] += Double(x[i])
    }
    return out
}

private func kernelSum(_ x: [Float], _ shape: [Int], _ axes: [Int], grain: Int = ReduceKernels.defaultGrain) -> [Float] {
    var outShape = shape
    for a in axes { outShape[a < 0 ? a + shape.count : a] = 1 }
    return output(count(outShape)) { out in
        ptr(x) { ReduceKernels.sum(x: $0, shape: shape, axes: axes, out: out, grain: grain) }
    }
}

@Suite struct ReduceKernelTests {
    @Test func everyAxisSubsetMatchesNaiveSums() {
        var rng = KernelRNG(state: 0x5E_0001)
        let shape = [3, 4, 5, 6]
        let x = rng.floats(count(shape), -1, 1)
        for mask in 0..<16 {
            let axes = (0..<4).filter { mask & (1 << $0) != 0 }
            let got = kernelSum(x, shape, axes)
            let expected = naiveSum(x, shape, axes)
            for (g, e) in zip(got, expected) {
                #expect(Swift.abs(Double(g) - e) <= 1e-6 * max(1, Swift.abs(e)), "axes \(axes)")
            }
        }
    }

    @Test func negativeAxesAndUnitAxes() {
        var rng = KernelRNG(state: 0x5E_0002)
        let shape = [2, 1, 7, 1, 3]
        let x = rng.floats(count(shape), -1, 1)
        let got = kernelSum(x, shape, [-1, 1, 0])
        let expected = naiveSum(x, shape, [0, 1, 4])
        for (g, e) in zip(got, expected) { #expect(Swift.abs(Double(g) - e) <= 1e-6) }
    }

    @Test func largeSumsAreAccurateAndIndependentOfChunking() {
        var rng = KernelRNG(state: 0x5E_0003)
        // Several blocks per row and per column, many and few outputs.
        let cases: [([Int], [Int])] = [
            ([3, 20_000], [1]), ([20_000, 3], [0]), ([2, 700, 40], [1]), ([4, 5, 3000], [0, 2]),
            ([60_000], [0]), ([5, 600, 7], [0, 2]),
        ]
        for (shape, axes) in cases {
            let x = rng.floats(count(shape), -1, 1)
            let reference = kernelSum(x, shape, axes)
            for grain in [1, 1000, 1 << 22] {
                #expect(bits(kernelSum(x, shape, axes, grain: grain)) == bits(reference), "\(shape) \(axes) grain \(grain)")
            }
            for (g, e) in zip(reference, naiveSum(x, shape, axes)) {
                #expect(Swift.abs(Double(g) - e) <= 1e-6 * max(1, Swift.abs(e)), "\(shape) \(axes)")
            }
        }
    }

    @Test func sumAllMatchesDouble() {
        var rng = KernelRNG(state: 0x5E_0004)
        let x = rng.floats(300_001, -1, 1)
        let expected = x.reduce(0.0) { $0 + Double($1) }
        let got = ptr(x) { ReduceKernels.sumAll(x: $0, count: x.count) }
        #expect(got == Float(expected))
        #expect(ptr(x) { ReduceKernels.sumAll(x: $0, count: x.count) } == got)
    }

    @Test func broadcastToMatchesIndexFormula() {
        var rng = KernelRNG(state: 0x5E_0005)
        for (shape, outShape) in [([1, 3, 1, 1], [2, 3, 4, 5]), ([2, 1, 4, 1], [2, 3, 4, 5]), ([5], [2, 3, 4, 5]),
                                  ([1], [3, 2]), ([2, 3], [2, 3])] {
            let x = rng.floats(count(shape), -1, 1)
            let out = output(count(outShape)) { o in ptr(x) { ReduceKernels.broadcastTo(x: $0, shape: shape, out: o, outShape: outShape) } }
            let expected = (0..<count(outShape)).map { x[broadcastIndex(unflatten($0, outShape), shape, outShape)] }
            #expect(out == expected, "\(shape) -> \(outShape)")
        }
    }
}
