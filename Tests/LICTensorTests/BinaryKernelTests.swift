import Foundation
import Testing
@testable import LICTensor

// MARK: Binary

private func reference(_ op: BinaryOp, _ a: Double, _ b: Double) -> Double {
    switch op {
    case .add: return a + b
    case .subtract: return a - b
    case .multiply: return a * b
    case .divide: return a / b
    case .power: return Foundation.pow(a, b)
    case .maximum: return max(a, b)
    case .minimum: return min(a, b)
    }
}

private let allBinaryOps: [BinaryOp] = [.add, .subtract, .multiply, .divide, .power, .maximum, .minimum]

private let broadcastCases: [([Int], [Int])] = [
    ([2, 3, 4, 5], [2, 3, 4, 5]),
    ([2, 3, 4, 5], [1, 3, 1, 1]),
    ([1, 3, 1, 1], [2, 3, 4, 5]),
    ([2, 3, 4, 5], [5]),
    ([2, 3, 4, 5], [1]),
    ([1], [2, 3, 4, 5]),
    ([2, 1, 4, 1], [1, 3, 1, 5]),
    ([3, 1], [1, 4]),
    ([4, 5], [2, 3, 1, 5]),
]

/// Operands for `op` away from its kinks: for max/min, a and b on
/// interleaved grids (|a - b| >= 0.1); positive bases for power; divisors away from 0.
private func binaryInputs(_ op: BinaryOp, _ rng: inout KernelRNG, _ na: Int, _ nb: Int) -> ([Float], [Float]) {
    switch op {
    case .maximum, .minimum:
        let a = (0..<na).map { _ in Float(Int(rng.next() % 16) - 8) * 0.25 + 0.1 }
        let b = (0..<nb).map { _ in Float(Int(rng.next() % 16) - 8) * 0.25 + 0.2 }
        return (a, b)
    case .power: return (rng.floats(na, 0.5, 2), rng.floats(nb, -1.5, 1.5))
    case .divide: return (rng.floats(na, -2, 2), rng.signedAway(nb, 0.5, 2))
    default: return (rng.floats(na, -2, 2), rng.floats(nb, -2, 2))
    }
}

private func binaryForward(_ op: BinaryOp, _ a: [Float], _ aShape: [Int], _ b: [Float], _ bShape: [Int]) throws -> [Float] {
    let outShape = try BinaryKernels.broadcastShape(aShape, bShape)
    return output(count(outShape)) { out in
        ptr(a) { ap in ptr(b) { bp in
            BinaryKernels.forward(op, a: ap, aShape: aShape, b: bp, bShape: bShape, out: out, outShape: outShape)
        } }
    }
}

private func binaryBackward(_ op: BinaryOp, _ a: [Float], _ aShape: [Int], _ b: [Float], _ bShape: [Int],
                            _ g: [Float]) throws -> ([Float], [Float]) {
    let outShape = try BinaryKernels.broadcastShape(aShape, bShape)
    var gradA = [Float](repeating: .nan, count: a.count)
    var gradB = [Float](repeating: .nan, count: b.count)
    gradA.withUnsafeMutableBufferPointer { ga in
        gradB.withUnsafeMutableBufferPointer { gb in
            ptr(a) { ap in ptr(b) { bp in ptr(g) { gp in
                BinaryKernels.backward(op, a: ap, aShape: aShape, b: bp, bShape: bShape, gradOutput: gp, outShape: outShape,
                                       gradA: ga.baseAddress, gradB: gb.baseAddress)
            } } }
        }
    }
    return (gradA, gradB)
}

/// sum_i g_i * (a op b)_i in Double, with broadcasting by index formulas.
private func weightedOutput(_ op: BinaryOp, _ a: [Double], _ aShape: [Int], _ b: [Double], _ bShape: [Int],
                            _ g: [Float], _ outShape: [Int]) -> Double {
    var total = 0.0
    for i in 0..<count(outShape) {
        let index = unflatten(i, outShape)
        total += Double(g[i]) * reference(op, a[broadcastIndex(index, aShape, outShape)], b[broadcastIndex(index, bShape, outShape)])
    }
    return total
}

@Suite struct BinaryKernelTests {
    @Test func broadcastShapes() throws {
        #expect(try BinaryKernels.broadcastShape([2, 1, 4, 1], [1, 3, 1, 5]) == [2, 3, 4, 5])
        #expect(try BinaryKernels.broadcastShape([2, 3, 4, 5], [5]) == [2, 3, 4, 5])
        #expect(try BinaryKernels.broadcastShape([1], [2, 3]) == [2, 3])
        #expect(try BinaryKernels.broadcastShape([4, 1], [3]) == [4, 3])
        #expect(try BinaryKernels.broadcastShape([0, 3], [1, 3]) == [0, 3])
        do {
            _ = try BinaryKernels.broadcastShape([2, 3], [4])
            Issue.record("expected a shape error")
        } catch TensorError.shape(let message) {
            #expect(message == "cannot broadcast [2, 3] with [4]")
        }
    }

    @Test(arguments: allBinaryOps)
    func forwardMatchesIndexFormula(_ op: BinaryOp) throws {
        var rng = KernelRNG(state: 0xB1_0001)
        for (aShape, bShape) in broadcastCases {
            let (a, b) = binaryInputs(op, &rng, count(aShape), count(bShape))
            let outShape = try BinaryKernels.broadcastShape(aShape, bShape)
            let out = try binaryForward(op, a, aShape, b, bShape)
            for i in 0..<out.count {
                let index = unflatten(i, outShape)
                let expected = reference(op, Double(a[broadcastIndex(index, aShape, outShape)]),
                                         Double(b[broadcastIndex(index, bShape, outShape)]))
                #expect(Swift.abs(Double(out[i]) - expected) <= 1e-6 * max(1, Swift.abs(expected)), "\(op) \(aShape) \(bShape) at \(index)")
            }
        }
    }

    @Test(arguments: allBinaryOps)
    func backwardMatchesCentralDifferences(_ op: BinaryOp) throws {
        var rng = KernelRNG(state: 0xB1_0002)
        for (aShape, bShape) in broadcastCases {
            let (a, b) = binaryInputs(op, &rng, count(aShape), count(bShape))
            let outShape = try BinaryKernels.broadcastShape(aShape, bShape)
            let g = rng.floats(count(outShape), -1, 1)
            let (gradA, gradB) = try binaryBackward(op, a, aShape, b, bShape, g)
            let ad = a.map(Double.init), bd = b.map(Double.init)
            let h = 1e-4
            for j in 0..<a.count {
                var plus = ad, minus = ad
                plus[j] += h
                minus[j] -= h
                let fd = (weightedOutput(op, plus, aShape, bd, bShape, g, outShape)
                    - weightedOutput(op, minus, aShape, bd, bShape, g, outShape)) / (2 * h)
                #expect(Swift.abs(Double(gradA[j]) - fd) <= 1e-4 * max(1, Swift.abs(fd)), "\(op) \(aShape) \(bShape) gradA[\(j)] = \(gradA[j]), fd \(fd)")
            }
            for j in 0..<b.count {
                var plus = bd, minus = bd
                plus[j] += h
                minus[j] -= h
                let fd = (weightedOutput(op, ad, aShape, plus, bShape, g, outShape)
                    - weightedOutput(op, ad, aShape, minus, bShape, g, outShape)) / (2 * h)
                #expect(Swift.abs(Double(gradB[j]) - fd) <= 1e-4 * max(1, Swift.abs(fd)), "\(op) \(aShape) \(bShape) gradB[\(j)] = \(gradB[j]), fd \(fd)")
            }
        }
    }

    @Test func tiesSendTheGradientToA() throws {
        let a: [Float] = [1, 2, 3], b: [Float] = [1, 5, 0]
        let g: [Float] = [1, 1, 1]
        let (maxA, maxB) = try binaryBackward(.maximum, a, [3], b, [3], g)
        #expect(maxA == [1, 0, 1] && maxB == [0, 1, 0])
        let (minA, minB) = try binaryBackward(.minimum, a, [3], b, [3], g)
        #expect(minA == [1, 1, 0] && minB == [0, 0, 1])
    }

    @Test func powerGradientOfExponentIsZeroForNonPositiveBase() throws {
        let (_, gradB) = try binaryBackward(.power, [0, -2, 2], [3], [2, 2, 2], [3], [1, 1, 1])
        #expect(gradB[0] == 0 && gradB[1] == 0)
        #expect(Swift.abs(Double(gradB[2]) - 4 * Foundation.log(2.0)) < 1e-5)
    }

    @Test func perChannelOnLargeTensor() throws {
        // The parallel paths: many rows, gradB summed over N, H, W.
        var rng = KernelRNG(state: 0xB1_0003)
        let shape = [3, 16, 40, 40], cShape = [1, 16, 1, 1]
        let a = rng.floats(count(shape), -1, 1), b = rng.floats(16, -1, 1), g = rng.floats(count(shape), -1, 1)
        let out = try binaryForward(.multiply, a, shape, b, cShape)
        let (gradA, gradB) = try binaryBackward(.multiply, a, shape, b, cShape, g)
        var expectedB = [Double](repeating: 0, count: 16)
        var outOK = true, gradAOK = true
        for i in 0..<a.count {
            let c = (i / 1600) % 16
            if out[i] != a[i] * b[c] { outOK = false }
            if gradA[i] != g[i] * b[c] { gradAOK = false }
            expectedB[c] += Double(g[i] * a[i])
        }
        #expect(outOK && gradAOK)
        for c in 0..<16 {
            #expect(Swift.abs(Double(gradB[c]) - expectedB[c]) <= 1e-6 * max(1, Swift.abs(expectedB[c])))
        }
        // Bias: add's gradB is the plain sum of g.
        let (_, biasGrad) = try binaryBackward(.add, a, shape, b, cShape, g)
        for c in 0..<16 {
            var s = 0.0
            for n in 0..<3 { for k in 0..<1600 { s += Double(g[(n * 16 + c) * 1600 + k]) } }
            #expect(Swift.abs(Double(biasGrad[c]) - s) <= 1e-5 * max(1, Swift.abs(s)))
        }
    }
}
