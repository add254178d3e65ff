import Testing
@testable import LICTensor

// oneDNN convolution, transposed convolution and matmul against direct loops
// in Double.

// MARK: - Helpers

/// Deterministic values in [-1, 1) (SplitMix64).
private func randomValues(_ count: Int, seed: UInt64) -> [Float] {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 0x1234_5678
    return (0..<count).map { _ in
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Float(Double(z >> 40) / Double(1 << 24) * 2 - 1)
    }
}

/// max |actual - expected| / max |expected|.
private func relativeError(_ actual: [Float], _ expected: [Double]) -> Double {
    precondition(actual.count == expected.count)
    var maxError = 0.0, maxValue = 0.0
    for (a, e) in zip(actual, expected) {
        maxError = max(maxError, abs(Double(a) - e))
        maxValue = max(maxValue, abs(e))
    }
    return maxValue == 0 ? maxError : maxError / maxValue
}

private let tolerance = 1e-4

private func bitsEqual(_ a: [Float], _ b: [Float]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern }
}

// MARK: - Reference (direct loops in Double)

/// Every tap of a layer as (src index, weight index, dst index), in the
/// forward direction's terms; forward, backward-data and backward-weights are
/// three accumulations over the same taps.
private struct Taps {
    var src: [Int] = [], weight: [Int] = [], dst: [Int] = []
    var dstChannels = 0, dstPlane = 0, srcCount = 0, weightCount = 0, dstCount = 0

    /// Convolution: dst[n, oc, oh, ow] += src[n, g*IC/G + i, oh*s - pad + kh, ow*s - pad + kw] * w[oc, i, kh, kw].
    init(_ g: ConvGeometry) {
        let icg = g.inChannels / g.groups, ocg = g.outChannels / g.groups
        for n in 0..<g.batch {
            for oc in 0..<g.outChannels {
                let group = oc / ocg
                for oh in 0..<g.outHeight {
                    for ow in 0..<g.outWidth {
                        for i in 0..<icg {
                            for kh in 0..<g.kernelHeight {
                                let ih = oh * g.strideH - g.padTop + kh
                                guard ih >= 0, ih < g.inHeight else { continue }
                                for kw in 0..<g.kernelWidth {
                                    let iw = ow * g.strideW - g.padLeft + kw
                                    guard iw >= 0, iw < g.inWidth else { continue }
                                    src.append(((n * g.inChannels + group * icg + i) * g.inHeight + ih) * g.inWidth + iw)
                                    weight.append(((oc * icg + i) * g.kernelHeight + kh) * g.kernelWidth + kw)
                                    dst.append(((n * g.outChannels + oc) * g.outHeight + oh) * g.outWidth + ow)
                                }
                            }
                        }
                    }
                }
            }
        }
        (dstChannels, dstPlane) = (g.outChannels, g.outHeight * g.outWidth)
        (srcCount, weightCount, dstCount) = (g.inputCount, g.weightCount, g.outputCount)
    }

    /// Transposed convolution (PyTorch ConvTranspose2d):
    /// dst[n, g*OC/G + o, ih*s - pad + kh, iw*s - pad + kw] += src[n, ic, ih, iw] * w[ic, o, kh, kw].
    init(_ g: TransposedConvGeometry) {
        let icg = g.inChannels / g.groups, ocg = g.outChannels / g.groups
        for n in 0..<g.batch {
            for ic in 0..<g.inChannels {
                let group = ic / icg
                for ih in 0..<g.inHeight {
                    for iw in 0..<g.inWidth {
                        for o in 0..<ocg {
                            for kh in 0..<g.kernelHeight {
                                let oh = ih * g.strideH - g.padTop + kh
                                guard oh >= 0, oh < g.outHeight else { continue }
                                for kw in 0..<g.kernelWidth {
                                    let ow = iw * g.strideW - g.padLeft + kw
                                    guard ow >= 0, ow < g.outWidth else { continue }
                                    src.append(((n * g.inChannels + ic) * g.inHeight + ih) * g.inWidth + iw)
                                    weight.append(((ic * ocg + o) * g.kernelHeight + kh) * g.kernelWidth + kw)
                                    dst.append(((n * g.outChannels + group * ocg + o) * g.outHeight + oh) * g.outWidth + ow)
                                }
                            }
                        }
                    }
                }
            }
        }
        (dstChannels, dstPlane) = (g.outChannels, g.outHeight * g.outWidth)
        (srcCount, weightCount, dstCount) = (g.inputCount, g.weightCount, g.outputCount)
    }

    func forward(_ x: [Float], _ w: [Float], _ bias: [Float]?) -> [Double] {
        var y = [Double](repeating: 0, count: dstCount)
        if let bias { for d in 0..<dstCount { y[d] = Double(bias[(d / dstPlane) % dstChannels]) } }
        for t in src.indices { y[dst[t]] += Double(x[src[t]]) * Double(w[weight[t]]) }
        return y
    }

    func backwardData(_ dy: [Float], _ w: [Float]) -> [Double] {
        var dx = [Double](repeating: 0, count: srcCount)
        for t in src.indices { dx[src[t]] += Double(dy[dst[t]]) * Double(w[weight[t]]) }
        return dx
    }

    func backwardWeights(_ x: [Float], _ dy: [Float]) -> (weights: [Double], bias: [Double]) {
        var dw = [Double](repeating: 0, count: weightCount)
        for t in src.indices { dw[weight[t]] += Double(x[src[t]]) * Double(dy[dst[t]]) }
        var db = [Double](repeating: 0, count: dstChannels)
        for d in 0..<dstCount { db[(d / dstPlane) % dstChannels] += Double(dy[d]) }
        return (dw, db)
    }
}

// MARK: - Convolution

struct ConvCase: Sendable, CustomTestStringConvertible {
    var label: String
    var geometry: @Sendable () throws -> ConvGeometry
    var testDescription: String { label }
}

private let convCases: [ConvCase] = [
    ConvCase(label: "3->4 3x3 pad 1") {
        try ConvGeometry(batch: 1, inChannels: 3, outChannels: 4, inHeight: 7, inWidth: 6, kernel: 3, padding: 1)
    },
    ConvCase(label: "batch 2, stride 2, asymmetric padding") {
        try ConvGeometry(batch: 2, inChannels: 4, outChannels: 6, inHeight: 9, inWidth: 11, kernelHeight: 3, kernelWidth: 3,
                         strideH: 2, strideW: 2, padTop: 0, padLeft: 1, padBottom: 2, padRight: 1)
    },
    ConvCase(label: "groups 2") {
        try ConvGeometry(batch: 1, inChannels: 4, outChannels: 6, inHeight: 8, inWidth: 7, kernel: 3, padding: 1, groups: 2)
    },
    ConvCase(label: "1x1, batch 2") {
        try ConvGeometry(batch: 2, inChannels: 5, outChannels: 3, inHeight: 6, inWidth: 5, kernel: 1)
    },
    ConvCase(label: "5x5 stride 2 pad 2, odd sizes") {
        try ConvGeometry(batch: 1, inChannels: 3, outChannels: 8, inHeight: 13, inWidth: 10, kernel: 5, stride: 2, padding: 2)
    },
    ConvCase(label: "3x5 kernel, strides 2x1, asymmetric padding, groups 2, batch 2") {
        try ConvGeometry(batch: 2, inChannels: 6, outChannels: 4, inHeight: 11, inWidth: 9, kernelHeight: 3, kernelWidth: 5,
                         strideH: 2, strideW: 1, padTop: 1, padLeft: 2, padBottom: 0, padRight: 2, groups: 2)
    },
    ConvCase(label: "blocked: 16->32 5x5 stride 2") {
        try ConvGeometry(batch: 2, inChannels: 16, outChannels: 32, inHeight: 12, inWidth: 13, kernel: 5, stride: 2, padding: 2)
    },
    ConvCase(label: "blocked: 32->48 3x3 groups 2") {
        try ConvGeometry(batch: 1, inChannels: 32, outChannels: 48, inHeight: 9, inWidth: 10, kernel: 3, padding: 1, groups: 2)
    },
]

@Suite("Convolution (oneDNN) against direct loops")
struct ConvolutionTests {
    @Test(arguments: convCases)
    func forwardAndBackward(_ testCase: ConvCase) throws {
        let g = try testCase.geometry()
        let taps = Taps(g)
        let x = randomValues(g.inputCount, seed: 1), w = randomValues(g.weightCount, seed: 2)
        let bias = randomValues(g.outChannels, seed: 3), dy = randomValues(g.outputCount, seed: 4)

        var y = [Float](repeating: .nan, count: g.outputCount)
        try Convolution.forward(g, src: x, weights: w, bias: bias, dst: &y)
        #expect(relativeError(y, taps.forward(x, w, bias)) <= tolerance, "forward with bias")
        try Convolution.forward(g, src: x, weights: w, bias: nil, dst: &y)
        #expect(relativeError(y, taps.forward(x, w, nil)) <= tolerance, "forward without bias")

        var dx = [Float](repeating: .nan, count: g.inputCount)
        try Convolution.backwardData(g, diffDst: dy, weights: w, diffSrc: &dx)
        #expect(relativeError(dx, taps.backwardData(dy, w)) <= tolerance, "backward data")

        let expected = taps.backwardWeights(x, dy)
        var dw = [Float](repeating: .nan, count: g.weightCount), db = [Float](repeating: .nan, count: g.outChannels)
        try Convolution.backwardWeights(g, src: x, diffDst: dy, diffWeights: &dw, diffBias: &db)
        #expect(relativeError(dw, expected.weights) <= tolerance, "backward weights")
        #expect(relativeError(db, expected.bias) <= tolerance, "backward bias")
        dw = [Float](repeating: .nan, count: g.weightCount)
        try Convolution.backwardWeights(g, src: x, diffDst: dy, diffWeights: &dw, diffBias: nil)
        #expect(relativeError(dw, expected.weights) <= tolerance, "backward weights without bias")
    }

    /// The comparison is not vacuous: a kernel flipped in space (convolution
    /// instead of correlation) is caught.
    @Test func referenceCatchesFlippedKernel() throws {
        let g = try ConvGeometry(batch: 1, inChannels: 3, outChannels: 4, inHeight: 7, inWidth: 6, kernel: 3, padding: 1)
        let x = randomValues(g.inputCount, seed: 5), w = randomValues(g.weightCount, seed: 6)
        var flipped = w
        for o in 0..<g.weightCount / 9 { for k in 0..<9 { flipped[o * 9 + k] = w[o * 9 + 8 - k] } }
        var y = [Float](repeating: 0, count: g.outputCount)
        try Convolution.forward(g, src: x, weights: flipped, bias: nil, dst: &y)
        #expect(relativeError(y, Taps(g).forward(x, w, nil)) > 1e-2)
    }

    @Test func repeatedRunsAreBitIdentical() throws {
        let g = try ConvGeometry(batch: 2, inChannels: 16, outChannels: 24, inHeight: 15, inWidth: 14, kernel: 5, stride: 2, padding: 2)
        let x = randomValues(g.inputCount, seed: 7), w = randomValues(g.weightCount, seed: 8)
        let bias = randomValues(g.outChannels, seed: 9), dy = randomValues(g.outputCount, seed: 10)
        func runAll() throws -> [[Float]] {
            var y = [Float](repeating: 0, count: g.outputCount), dx = [Float](repeating: 0, count: g.inputCount)
            var dw = [Float](repeating: 0, count: g.weightCount), db = [Float](repeating: 0, count: g.outChannels)
            try Convolution.forward(g, src: x, weights: w, bias: bias, dst: &y)
            try Convolution.backwardData(g, diffDst: dy, weights: w, diffSrc: &dx)
            try Convolution.backwardWeights(g, src: x, diffDst: dy, diffWeights: &dw, diffBias: &db)
            return [y, dx, dw, db]
        }
        let first = try runAll(), second = try runAll()
        for (a, b) in zip(first, second) { #expect(bitsEqual(a, b)) }
    }

    @Test func plansAreCached() throws {
        let g = try ConvGeometry(batch: 1, inChannels: 8, outChannels: 8, inHeight: 6, inWidth: 6, kernel: 3, padding: 1)
        let first = try ConvPlanShape(g, pass: .forward, withBias: true).plan()
        let second = try ConvPlanShape(g, pass: .forward, withBias: true).plan()
        #expect(first === second)
        let other = try ConvPlanShape(g, pass: .backwardData, withBias: false).plan()
        #expect(first !== other)
    }

    @Test func impossibleGeometryThrows() {
        #expect(throws: TensorError.self) {
            try ConvGeometry(batch: 1, inChannels: 3, outChannels: 4, inHeight: 5, inWidth: 5, kernel: 3, groups: 2)
        }
        #expect(throws: TensorError.self) {
            try ConvGeometry(batch: 1, inChannels: 3, outChannels: 4, inHeight: 2, inWidth: 5, kernel: 3)
        }
        #expect(throws: TensorError.self) {
            try ConvGeometry(batch: 1, inChannels: 3, outChannels: 4, inHeight: 5, inWidth: 5, kernel: 3, stride: 0)
        }
        #expect(throws: TensorError.self) {
            try ConvGeometry(batch: 0, inChannels: 3, outChannels: 4, inHeight: 5, inWidth: 5, kernel: 3)
        }
        #expect(throws: TensorError.self) {
            try ConvGeometry(batch: 1, inChannels: 3, outChannels: 4, inHeight: 5, inWidth: 5, kernelHeight: 3, kernelWidth: 3,
                             padTop: -1)
        }
        #expect(throws: TensorError.self) {
            try TransposedConvGeometry(batch: 1, inChannels: 4, outChannels: 4, inHeight: 5, inWidth: 5, kernel: 3, stride: 2,
                                       padding: 1, outputPadding: 2)
        }
        #expect(throws: TensorError.self) {
            try TransposedConvGeometry(batch: 1, inChannels: 4, outChannels: 6, inHeight: 5, inWidth: 5, kernel: 3, groups: 4)
        }
        // A geometry made invalid after construction is caught by the operation.
        var g = try! ConvGeometry(batch: 1, inChannels: 2, outChannels: 2, inHeight: 4, inWidth: 4, kernel: 3)
        g.groups = 3
        let x = [Float](repeating: 0, count: 32), w = [Float](repeating: 0, count: 18)
        var y = [Float](repeating: 0, count: 8)
        #expect(throws: TensorError.self) { try Convolution.forward(g, src: x, weights: w, bias: nil, dst: &y) }
    }

    @Test func geometrySizes() throws {
        let g = try ConvGeometry(batch: 1, inChannels: 192, outChannels: 192, inHeight: 128, inWidth: 128,
                                 kernel: 5, stride: 2, padding: 2)
        #expect(g.outHeight == 64 && g.outWidth == 64)
        #expect(g.flops == 2 * 192 * 64 * 64 * 192 * 25)
        let t = try TransposedConvGeometry(batch: 1, inChannels: 192, outChannels: 3, inHeight: 64, inWidth: 64,
                                           kernel: 5, stride: 2, padding: 2, outputPadding: 1)
        #expect(t.outHeight == 128 && t.outWidth == 128)
    }

    @Test func threadCount() {
        let n = Threads.count
        #expect(n >= 1)
        Threads.set(n)
        #expect(Threads.count == n)
    }
}

// MARK: - Transposed convolution

struct TransposedConvCase: Sendable, CustomTestStringConvertible {
    var label: String
    var geometry: @Sendable () throws -> TransposedConvGeometry
    var testDescription: String { label }

    /// CompressAI's up-sampling layer: odd kernel k, stride 2, padding k / 2, output padding 1 (twice the input's size).
    static func upsampling(_ label: String, batch: Int, channels: Int, to outChannels: Int, height: Int, width: Int,
                           kernel: Int) -> TransposedConvCase {
        TransposedConvCase(label: label) {
            try TransposedConvGeometry(batch: batch, inChannels: channels, outChannels: outChannels, inHeight: height,
                                       inWidth: width, kernel: kernel, stride: 2, padding: kernel / 2, outputPadding: 1)
        }
    }
}

private let transposedCases: [TransposedConvCase] = [
    TransposedConvCase(label: "3->4 3x3 pad 1") {
        try TransposedConvGeometry(batch: 1, inChannels: 3, outChannels: 4, inHeight: 5, inWidth: 6, kernel: 3, padding: 1)
    },
    .upsampling("5x5 stride 2 pad 2 output padding 1, batch 2", batch: 2, channels: 8, to: 6, height: 5, width: 4, kernel: 5),
    // Odd kernels, stride 2, padding k/2, output padding 1 run as a polyphase convolution (PolyphaseDeconvolution).
    .upsampling("3x3 stride 2 pad 1 output padding 1 (polyphase)", batch: 1, channels: 5, to: 3, height: 4, width: 7, kernel: 3),
    .upsampling("9x9 stride 2 pad 4 output padding 1 (polyphase, radius 2)", batch: 2, channels: 4, to: 5, height: 6, width: 5, kernel: 9),
    TransposedConvCase(label: "groups 2, stride 2, output padding 1") {
        try TransposedConvGeometry(batch: 1, inChannels: 4, outChannels: 6, inHeight: 5, inWidth: 5, kernel: 3, stride: 2,
                                   padding: 1, outputPadding: 1, groups: 2)
    },
    TransposedConvCase(label: "asymmetric padding, strides 2x3, output padding above the padding") {
        try TransposedConvGeometry(batch: 1, inChannels: 3, outChannels: 5, inHeight: 4, inWidth: 5, kernelHeight: 3,
                                   kernelWidth: 4, strideH: 2, strideW: 3, padTop: 1, padLeft: 0, padBottom: 0, padRight: 1,
                                   outputPaddingH: 1, outputPaddingW: 2)
    },
    TransposedConvCase(label: "1x1, batch 2") {
        try TransposedConvGeometry(batch: 2, inChannels: 5, outChannels: 3, inHeight: 4, inWidth: 4, kernel: 1)
    },
    .upsampling("blocked: 32->16 5x5 stride 2 output padding 1", batch: 1, channels: 32, to: 16, height: 6, width: 7, kernel: 5),
    // A 1x1 kernel leaves odd outputs with the bias alone: not polyphase (it has no taps for them), oneDNN's deconvolution.
    .upsampling("1x1 stride 2 output padding 1, 4->40", batch: 1, channels: 4, to: 40, height: 3, width: 4, kernel: 1),
    // At 32 output channels and more each phase is a convolution of its own (PolyphaseDeconvolution.separatePhasesFrom).
    .upsampling("5x5 stride 2 output padding 1, 8->32: a convolution per phase, batch 2", batch: 2, channels: 8, to: 32, height: 5, width: 6, kernel: 5),
    .upsampling("3x3 stride 2 output padding 1, 16->40: a convolution per phase (1x1 phases)", batch: 1, channels: 16, to: 40, height: 4, width: 3, kernel: 3),
    TransposedConvCase(label: "blocked: 32->48 groups 2 stride 2") {
        try TransposedConvGeometry(batch: 2, inChannels: 32, outChannels: 48, inHeight: 5, inWidth: 5, kernel: 4, stride: 2,
                                   padding: 1, groups: 2)
    },
]

@Suite("Transposed convolution (oneDNN deconvolution) against direct loops")
struct TransposedConvolutionTests {
    @Test(arguments: transposedCases)
    func forwardAndBackward(_ testCase: TransposedConvCase) throws {
        let g = try testCase.geometry()
        let taps = Taps(g)
        let x = randomValues(g.inputCount, seed: 11), w = randomValues(g.weightCount, seed: 12)
        let bias = randomValues(g.outChannels, seed: 13), dy = randomValues(g.outputCount, seed: 14)

        var y = [Float](repeating: .nan, count: g.outputCount)
        try TransposedConvolution.forward(g, src: x, weights: w, bias: bias, dst: &y)
        #expect(relativeError(y, taps.forward(x, w, bias)) <= tolerance, "forward with bias")
        try TransposedConvolution.forward(g, src: x, weights: w, bias: nil, dst: &y)
        #expect(relativeError(y, taps.forward(x, w, nil)) <= tolerance, "forward without bias")

        var dx = [Float](repeating: .nan, count: g.inputCount)
        try TransposedConvolution.backwardData(g, diffDst: dy, weights: w, diffSrc: &dx)
        #expect(relativeError(dx, taps.backwardData(dy, w)) <= tolerance, "backward data")

        let expected = taps.backwardWeights(x, dy)
        var dw = [Float](repeating: .nan, count: g.weightCount), db = [Float](repeating: .nan, count: g.outChannels)
        try TransposedConvolution.backwardWeights(g, src: x, diffDst: dy, diffWeights: &dw, diffBias: &db)
        #expect(relativeError(dw, expected.weights) <= tolerance, "backward weights")
        #expect(relativeError(db, expected.bias) <= tolerance, "backward bias")
        dw = [Float](repeating: .nan, count: g.weightCount)
        try TransposedConvolution.backwardWeights(g, src: x, diffDst: dy, diffWeights: &dw, diffBias: nil)
        #expect(relativeError(dw, expected.weights) <= tolerance, "backward weights without bias")
    }

    /// Transposed-convolution forward is the backward-data pass of the
    /// convolution going the other way, with the same weight buffer.
    @Test(arguments: transposedCases)
    func forwardIsConvolutionBackwardData(_ testCase: TransposedConvCase) throws {
        let t = try testCase.geometry()
        let c = try ConvGeometry(batch: t.batch, inChannels: t.outChannels, outChannels: t.inChannels, inHeight: t.outHeight,
                                 inWidth: t.outWidth, kernelHeight: t.kernelHeight, kernelWidth: t.kernelWidth,
                                 strideH: t.strideH, strideW: t.strideW, padTop: t.padTop, padLeft: t.padLeft,
                                 padBottom: t.padBottom, padRight: t.padRight, groups: t.groups)
        #expect(c.outHeight == t.inHeight && c.outWidth == t.inWidth)
        #expect(c.weightCount == t.weightCount)
        let x = randomValues(t.inputCount, seed: 15), w = randomValues(t.weightCount, seed: 16)
        var viaTransposed = [Float](repeating: .nan, count: t.outputCount)
        var viaConv = [Float](repeating: .nan, count: c.inputCount)
        try TransposedConvolution.forward(t, src: x, weights: w, bias: nil, dst: &viaTransposed)
        try Convolution.backwardData(c, diffDst: x, weights: w, diffSrc: &viaConv)
        #expect(relativeError(viaTransposed, viaConv.map(Double.init)) <= tolerance)
        // ... and its backward data is that convolution's forward.
        let dy = randomValues(t.outputCount, seed: 17)
        var dx = [Float](repeating: .nan, count: t.inputCount), y = [Float](repeating: .nan, count: c.outputCount)
        try TransposedConvolution.backwardData(t, diffDst: dy, weights: w, diffSrc: &dx)
        try Convolution.forward(c, src: dy, weights: w, bias: nil, dst: &y)
        #expect(relativeError(dx, y.map(Double.init)) <= tolerance)
    }
}

// MARK: - Matrix product

@Suite("MatMul (oneDNN) against direct loops")
struct MatMulTests {
    @Test(arguments: [(1, 5, 7, 9), (3, 5, 7, 9), (2, 33, 65, 17), (1, 1, 1, 1)], [(false, false), (true, false), (false, true), (true, true)])
    func product(_ size: (Int, Int, Int, Int), _ transpose: (Bool, Bool)) throws {
        let (batch, m, n, k) = size
        let (ta, tb) = transpose
        let a = randomValues(batch * m * k, seed: 21), b = randomValues(batch * k * n, seed: 22)
        var expected = [Double](repeating: 0, count: batch * m * n)
        for p in 0..<batch {
            for i in 0..<m {
                for j in 0..<n {
                    var sum = 0.0
                    for l in 0..<k {
                        let av = a[p * m * k + (ta ? l * m + i : i * k + l)]
                        let bv = b[p * k * n + (tb ? j * k + l : l * n + j)]
                        sum += Double(av) * Double(bv)
                    }
                    expected[(p * m + i) * n + j] = sum
                }
            }
        }
        var c = [Float](repeating: .nan, count: batch * m * n)
        try MatMul.multiply(a: a, b: b, c: &c, batch: batch, m: m, n: n, k: k, transposeA: ta, transposeB: tb)
        #expect(relativeError(c, expected) <= tolerance)
    }

    @Test func emptyInnerDimensionGivesZeros() throws {
        var c = [Float](repeating: .nan, count: 6)
        try MatMul.multiply(a: [], b: [], c: &c, batch: 1, m: 2, n: 3, k: 0, transposeA: false, transposeB: false)
        #expect(c == [Float](repeating: 0, count: 6))
        #expect(throws: TensorError.self) {
            try MatMul.multiply(a: [], b: [], c: &c, batch: 1, m: -1, n: 3, k: 0, transposeA: false, transposeB: false)
        }
    }
}
