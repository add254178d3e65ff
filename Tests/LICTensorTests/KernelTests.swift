import Foundation
import Testing
@testable import LICTensor

// Tests of the CPU kernels (Sources/LICTensor/Kernels) on raw buffers:
// derivatives against central differences of double-precision references,
// broadcasting and reductions against naive index formulas, data movement
// against PyTorch's index formulas, and determinism under different chunkings.

/// Deterministic generator so failures reproduce (SplitMix64).
private struct KernelRNG {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [low, high).
    mutating func uniform(_ low: Double, _ high: Double) -> Float {
        Float(low + (high - low) * Double(next() >> 11) * 0x1p-53)
    }

    mutating func floats(_ count: Int, _ low: Double, _ high: Double) -> [Float] {
        (0..<count).map { _ in uniform(low, high) }
    }

    /// Values with |x| in [low, high) and a random sign (keeps away from 0).
    mutating func signedAway(_ count: Int, _ low: Double, _ high: Double) -> [Float] {
        (0..<count).map { _ in
            let v = uniform(low, high)
            return next() & 1 == 0 ? v : -v
        }
    }
}

// MARK: Buffer helpers

private func count(_ shape: [Int]) -> Int { shape.reduce(1, *) }

private func strides(_ shape: [Int]) -> [Int] {
    var s = [Int](repeating: 1, count: shape.count)
    var acc = 1
    for d in stride(from: shape.count - 1, through: 0, by: -1) {
        s[d] = acc
        acc *= shape[d]
    }
    return s
}

/// The multi-index of flat index i in `shape`.
private func unflatten(_ i: Int, _ shape: [Int]) -> [Int] {
    var rest = i
    var index = [Int](repeating: 0, count: shape.count)
    for d in stride(from: shape.count - 1, through: 0, by: -1) {
        index[d] = rest % shape[d]
        rest /= shape[d]
    }
    return index
}

private func flatten(_ index: [Int], _ shape: [Int]) -> Int {
    zip(index, strides(shape)).reduce(0) { $0 + $1.0 * $1.1 }
}

/// The flat index in `shape` (numpy-broadcast to `outShape`) that output index `index` reads.
private func broadcastIndex(_ index: [Int], _ shape: [Int], _ outShape: [Int]) -> Int {
    let lead = outShape.count - shape.count
    var flat = 0
    for d in 0..<shape.count {
        flat = flat * shape[d] + (shape[d] == 1 ? 0 : index[lead + d])
    }
    return flat
}

private func output(_ n: Int, _ body: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
    var out = [Float](repeating: .nan, count: max(n, 1))
    out.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
    return Array(out.prefix(n))
}

private func ptr<R>(_ a: [Float], _ body: (UnsafePointer<Float>) -> R) -> R {
    a.withUnsafeBufferPointer { body($0.baseAddress!) }
}

private func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

// MARK: Parallel

@Suite struct ParallelTests {
    @Test func chunksCoverEachIndexOnceAtFixedBoundaries() {
        for (total, chunk) in [(0, 4), (1, 4), (10, 3), (100_000, 32768), (65536, 32768), (7, 100)] {
            var hits = [Int](repeating: 0, count: total)
            let chunks = (total + chunk - 1) / chunk
            var starts = [Int](repeating: -1, count: max(chunks, 1))
            hits.withUnsafeMutableBufferPointer { h in
                starts.withUnsafeMutableBufferPointer { s in
                    let hp = h.baseAddress, sp = s.baseAddress!
                    Parallel.forEachChunk(count: total, chunk: chunk) { range in
                        sp[range.lowerBound / chunk] = range.lowerBound
                        for i in range { hp![i] += 1 }
                    }
                }
            }
            #expect(hits.allSatisfy { $0 == 1 })
            if total > 0 {
                #expect(starts == (0..<chunks).map { $0 * chunk })
            }
        }
    }
}

// MARK: Unary

/// A double-precision reference for each op.
private func reference(_ op: UnaryOp, _ x: Double) -> Double {
    switch op {
    case .negate: return -x
    case .square: return x * x
    case .sqrt: return x.squareRoot()
    case .rsqrt: return 1 / x.squareRoot()
    case .reciprocal: return 1 / x
    case .exp: return Foundation.exp(x)
    case .log: return Foundation.log(x)
    case .abs: return Swift.abs(x)
    case .tanh: return Foundation.tanh(x)
    case .sigmoid: return 1 / (1 + Foundation.exp(-x))
    case .relu: return max(x, 0)
    case .leakyRelu(let slope): return x > 0 ? x : Double(slope) * x
    case .gelu: return 0.5 * x * Foundation.erfc(-x / 2.0.squareRoot())
    case .softplus: return x > 20 ? x : Foundation.log1p(Foundation.exp(x))
    case .erfc: return Foundation.erfc(x)
    case .gaussianCDF: return 0.5 * Foundation.erfc(-x / 2.0.squareRoot())
    }
}

/// Inputs away from kinks and outside each op's domain edges.
private func unaryInputs(_ op: UnaryOp, _ rng: inout KernelRNG, _ n: Int) -> [Float] {
    switch op {
    case .sqrt, .rsqrt, .log, .reciprocal: return rng.floats(n, 0.3, 4)
    case .abs, .relu, .leakyRelu: return rng.signedAway(n, 0.05, 3)
    case .softplus: return rng.floats(n, -6, 6) + [19.5, 21, 25, -25]
    default: return rng.floats(n, -3.5, 3.5)
    }
}

private let allUnaryOps: [UnaryOp] = [
    .negate, .square, .sqrt, .rsqrt, .reciprocal, .exp, .log, .abs, .tanh, .sigmoid, .relu,
    .leakyRelu(slope: 0.1), .gelu, .softplus, .erfc, .gaussianCDF,
]

@Suite struct UnaryKernelTests {
    @Test(arguments: allUnaryOps)
    func forwardMatchesDoubleReference(_ op: UnaryOp) {
        var rng = KernelRNG(state: 0x0A11_0001)
        let x = unaryInputs(op, &rng, 3000)
        let y = output(x.count) { out in ptr(x) { UnaryKernels.forward(op, x: $0, y: out, count: x.count) } }
        for (xi, yi) in zip(x, y) {
            let expected = reference(op, Double(xi))
            #expect(Swift.abs(Double(yi) - expected) <= 4e-6 * Swift.abs(expected) + 1e-7, "\(op)(\(xi)) = \(yi), expected \(expected)")
        }
    }

    @Test(arguments: allUnaryOps)
    func backwardMatchesCentralDifferences(_ op: UnaryOp) {
        var rng = KernelRNG(state: 0x0A11_0002)
        let x = unaryInputs(op, &rng, 500)
        let g = rng.floats(x.count, -1, 1)
        let y = output(x.count) { out in ptr(x) { UnaryKernels.forward(op, x: $0, y: out, count: x.count) } }
        let gi = output(x.count) { out in
            ptr(x) { xp in ptr(y) { yp in ptr(g) { gp in
                UnaryKernels.backward(op, x: xp, y: yp, gradOutput: gp, gradInput: out, count: x.count)
            } } }
        }
        for i in 0..<x.count {
            let v = Double(x[i])
            let h = 1e-4 * max(1, Swift.abs(v))
            let derivative = (reference(op, v + h) - reference(op, v - h)) / (2 * h)
            let expected = Double(g[i]) * derivative
            #expect(Swift.abs(Double(gi[i]) - expected) <= 2e-5 * max(1, Swift.abs(expected)),
                    "\(op)'(\(x[i])) * \(g[i]) = \(gi[i]), expected \(expected)")
        }
    }

    @Test func derivativesAtKinks() {
        let x: [Float] = [0, -0.0]
        let g: [Float] = [1, 1]
        for (op, expected) in [(UnaryOp.abs, Float(0)), (.relu, 0), (.leakyRelu(slope: 0.25), 0.25)] {
            let y = output(2) { out in ptr(x) { UnaryKernels.forward(op, x: $0, y: out, count: 2) } }
            let gi = output(2) { out in
                ptr(x) { xp in ptr(y) { yp in ptr(g) { UnaryKernels.backward(op, x: xp, y: yp, gradOutput: $0, gradInput: out, count: 2) } } }
            }
            #expect(gi == [expected, expected], "\(op)")
        }
    }

    @Test func tailsKeepRelativeAccuracy() {
        // Likelihoods use the far tails of Phi; erfc for large arguments.
        let x: [Float] = [-12, -9, -6, -4, 4, 6, 9]
        let phi = output(x.count) { out in ptr(x) { UnaryKernels.forward(.gaussianCDF, x: $0, y: out, count: x.count) } }
        let e = output(x.count) { out in ptr(x) { UnaryKernels.forward(.erfc, x: $0, y: out, count: x.count) } }
        for i in 0..<x.count {
            let p = 0.5 * Foundation.erfc(-Double(x[i]) / 2.0.squareRoot())
            #expect(Swift.abs(Double(phi[i]) - p) <= 2e-6 * p, "Phi(\(x[i])) = \(phi[i]), expected \(p)")
            let c = Foundation.erfc(Double(x[i]))
            #expect(Swift.abs(Double(e[i]) - c) <= 2e-6 * c, "erfc(\(x[i])) = \(e[i]), expected \(c)")
        }
    }

    @Test func specialValues() {
        let x: [Float] = [.infinity, -.infinity, .nan, 0, 200, -200, -100]
        func run(_ op: UnaryOp) -> [Float] {
            output(x.count) { out in ptr(x) { UnaryKernels.forward(op, x: $0, y: out, count: x.count) } }
        }
        let exp = run(.exp)
        #expect(exp[0] == .infinity && exp[1] == 0 && exp[2].isNaN && exp[3] == 1 && exp[4] == .infinity && exp[5] == 0)
        #expect(exp[6] == Float(Foundation.exp(-100.0)))  // subnormal results are kept
        let log = run(.log)
        #expect(log[0] == .infinity && log[1].isNaN && log[2].isNaN && log[3] == -.infinity)
        let sigmoid = run(.sigmoid)
        #expect(sigmoid[0] == 1 && sigmoid[1] == 0 && sigmoid[2].isNaN && sigmoid[3] == 0.5)
        let tanh = run(.tanh)
        #expect(tanh[0] == 1 && tanh[1] == -1 && tanh[2].isNaN && tanh[3] == 0)
        let softplus = run(.softplus)
        #expect(softplus[0] == .infinity && softplus[1] == 0 && softplus[2].isNaN && softplus[4] == 200)
        let phi = run(.gaussianCDF)
        #expect(phi[0] == 1 && phi[1] == 0 && phi[2].isNaN && phi[3] == 0.5)
        let erfc = run(.erfc)
        #expect(erfc[0] == 0 && erfc[1] == 2 && erfc[2].isNaN && erfc[3] == 1)
    }

    @Test func largeBuffersMatchSmallOnes() {
        // The parallel path (many chunks) computes the same values as one chunk.
        var rng = KernelRNG(state: 0x0A11_0003)
        let x = rng.floats(200_000, -5, 5)
        let whole = output(x.count) { out in ptr(x) { UnaryKernels.forward(.gelu, x: $0, y: out, count: x.count) } }
        let pieces = output(x.count) { out in
            ptr(x) { xp in
                var start = 0
                while start < x.count {
                    let n = min(777, x.count - start)
                    UnaryKernels.forward(.gelu, x: xp + start, y: out + start, count: n)
                    start += n
                }
            }
        }
        #expect(bits(whole) == bits(pieces))
    }
}

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
