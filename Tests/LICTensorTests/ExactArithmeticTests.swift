import Testing
@testable import LICTensor

/// Exact mode: the fixed-order kernels compute exactly the documented sum
/// (bit for bit against plain loops in the same order), agree with oneDNN to
/// rounding, and do not depend on the thread count.
@Suite struct ExactArithmeticTests {
    static func noise(_ shape: [Int], seed: UInt64) throws -> Tensor {
        try Tensor.uniformNoise(shape: shape, seed: seed, low: -1, high: 1)
    }

    /// conv2d in the documented order: bias, then input channel, kernel row, kernel column (taps inside the input).
    static func referenceConv(_ x: [Float], _ w: [Float], _ b: [Float], _ g: ConvGeometry) -> [Float] {
        let (ip, op) = (g.inChannels / g.groups, g.outChannels / g.groups)
        var out = [Float](repeating: 0, count: g.outputCount)
        for n in 0..<g.batch { for oc in 0..<g.outChannels { for oy in 0..<g.outHeight { for ox in 0..<g.outWidth {
            var acc = b[oc]
            let group = oc / op
            for i in 0..<ip { for ky in 0..<g.kernelHeight { for kx in 0..<g.kernelWidth {
                let iy = oy * g.strideH - g.padTop + ky, ix = ox * g.strideW - g.padLeft + kx
                guard iy >= 0, iy < g.inHeight, ix >= 0, ix < g.inWidth else { continue }
                let xv = x[((n * g.inChannels + group * ip + i) * g.inHeight + iy) * g.inWidth + ix]
                acc = acc + w[((oc * ip + i) * g.kernelHeight + ky) * g.kernelWidth + kx] * xv
            } } }
            out[((n * g.outChannels + oc) * g.outHeight + oy) * g.outWidth + ox] = acc
        } } } }
        return out
    }

    /// The transposed convolution in the same order (taps whose input position exists).
    static func referenceTransposed(_ x: [Float], _ w: [Float], _ b: [Float], _ g: TransposedConvGeometry) -> [Float] {
        let (ip, op) = (g.inChannels / g.groups, g.outChannels / g.groups)
        var out = [Float](repeating: 0, count: g.outputCount)
        for n in 0..<g.batch { for oc in 0..<g.outChannels { for oy in 0..<g.outHeight { for ox in 0..<g.outWidth {
            var acc = b[oc]
            let group = oc / op, o = oc % op
            for i in 0..<ip { for ky in 0..<g.kernelHeight { for kx in 0..<g.kernelWidth {
                let ty = oy + g.padTop - ky, tx = ox + g.padLeft - kx
                guard ty >= 0, tx >= 0, ty % g.strideH == 0, tx % g.strideW == 0 else { continue }
                let (iy, ix) = (ty / g.strideH, tx / g.strideW)
                guard iy < g.inHeight, ix < g.inWidth else { continue }
                let c = group * ip + i
                acc = acc + w[((c * op + o) * g.kernelHeight + ky) * g.kernelWidth + kx] * x[((n * g.inChannels + c) * g.inHeight + iy) * g.inWidth + ix]
            } } }
            out[((n * g.outChannels + oc) * g.outHeight + oy) * g.outWidth + ox] = acc
        } } } }
        return out
    }

    static func close(_ a: [Float], _ b: [Float], tolerance: Float = 1e-4) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { Swift.abs($0 - $1) <= tolerance * max(1, Swift.abs($1)) }
    }

    // (batch, in, out, height, width, kernel, stride, padding, groups)
    static let convCases: [(Int, Int, Int, Int, Int, Int, Int, Int, Int)] = [
        (1, 3, 5, 9, 7, 3, 1, 1, 1), (2, 4, 20, 11, 6, 5, 2, 2, 1), (1, 6, 6, 5, 5, 1, 1, 0, 3), (1, 2, 17, 4, 9, 3, 2, 0, 1),
    ]

    @Test(arguments: 0..<4)
    func convolutionIsTheFixedOrderSum(_ index: Int) throws {
        let (b, ic, oc, h, w, k, s, p, groups) = Self.convCases[index]
        let x = try Self.noise([b, ic, h, w], seed: 1), weight = try Self.noise([oc, ic / groups, k, k], seed: 2)
        let bias = try Self.noise([oc], seed: 3)
        let fast = try x.conv2d(weight, bias: bias, stride: s, padding: .same(p), groups: groups)
        let exact = try ExactArithmetic.with { try x.conv2d(weight, bias: bias, stride: s, padding: .same(p), groups: groups) }
        let g = try ConvGeometry(batch: b, inChannels: ic, outChannels: oc, inHeight: h, inWidth: w, kernel: k, stride: s, padding: p, groups: groups)
        #expect(exact.values == Self.referenceConv(x.values, weight.values, bias.values, g))
        #expect(Self.close(exact.values, fast.values))
    }

    // (batch, in, out, height, width, kernel, stride, padding, output padding, groups)
    static let transposedCases: [(Int, Int, Int, Int, Int, Int, Int, Int, Int, Int)] = [
        (1, 3, 5, 4, 3, 5, 2, 2, 1, 1), (2, 4, 18, 3, 5, 3, 1, 1, 0, 1), (1, 4, 6, 3, 3, 4, 3, 1, 2, 2), (1, 2, 3, 2, 2, 1, 2, 0, 1, 1),
    ]

    @Test(arguments: 0..<4)
    func transposedConvolutionIsTheFixedOrderSum(_ index: Int) throws {
        let (b, ic, oc, h, w, k, s, p, op, groups) = Self.transposedCases[index]
        let x = try Self.noise([b, ic, h, w], seed: 4), weight = try Self.noise([ic, oc / groups, k, k], seed: 5)
        let bias = try Self.noise([oc], seed: 6)
        let fast = try x.convTranspose2d(weight, bias: bias, stride: s, padding: .same(p), outputPadding: op, groups: groups)
        let exact = try ExactArithmetic.with {
            try x.convTranspose2d(weight, bias: bias, stride: s, padding: .same(p), outputPadding: op, groups: groups)
        }
        let g = try TransposedConvGeometry(batch: b, inChannels: ic, outChannels: oc, inHeight: h, inWidth: w, kernel: k, stride: s,
                                           padding: p, outputPadding: op, groups: groups)
        #expect(exact.values == Self.referenceTransposed(x.values, weight.values, bias.values, g))
        #expect(Self.close(exact.values, fast.values))
    }

    @Test func matrixProductIsTheFixedOrderSum() throws {
        let a = try Self.noise([3, 5, 7], seed: 7), b = try Self.noise([3, 7, 11], seed: 8)
        let exact = try ExactArithmetic.with { try a.matmul(b) }
        let fast = try a.matmul(b)
        var reference = [Float](repeating: 0, count: 3 * 5 * 11)
        let (av, bv) = (a.values, b.values)
        for t in 0..<3 { for i in 0..<5 { for j in 0..<11 {
            var acc = av[t * 35 + i * 7] * bv[t * 77 + j]
            for k in 1..<7 { acc = acc + av[t * 35 + i * 7 + k] * bv[t * 77 + k * 11 + j] }
            reference[(t * 5 + i) * 11 + j] = acc
        } } }
        #expect(exact.values == reference)
        #expect(Self.close(exact.values, fast.values))
    }

    @Test func independentOfTheThreadCount() throws {
        let x = try Self.noise([1, 24, 13, 17], seed: 9), w = try Self.noise([24, 40, 5, 5], seed: 10), c = try Self.noise([24, 40, 3, 3], seed: 11)
        func run(_ threads: Int) throws -> [Float] {
            try Threads.withCount(threads) {
                try ExactArithmetic.with {
                    try x.convTranspose2d(w, stride: 2, padding: .same(2), outputPadding: 1).relu().conv2d(c, padding: .same(1)).values
                }
            }
        }
        #expect(try run(1) == run(2))
    }

    /// A scope packs a layer's weights once and reuses them, but never after the values at that address changed.
    @Test func packedWeightsFollowTheValues() throws {
        let x = try Self.noise([1, 8, 6, 7], seed: 12), w = try Self.noise([16, 8, 3, 3], seed: 13)
        let changed = try Self.noise([16, 8, 3, 3], seed: 14)
        let expected = try ExactArithmetic.with { try x.conv2d(changed, padding: .same(1)).values }
        try ExactArithmetic.with {
            let first = try x.conv2d(w, padding: .same(1)).values
            #expect(try x.conv2d(w, padding: .same(1)).values == first)  // from the cache
            w.withUnsafeMutableBufferPointer { target in changed.withUnsafeBufferPointer { target.baseAddress!.update(from: $0.baseAddress!, count: $0.count) } }
            #expect(try x.conv2d(w, padding: .same(1)).values == expected)  // same address, new values: packed again
        }
    }

    @Test func modeIsScoped() throws {
        #expect(!ExactArithmetic.isEnabled)
        ExactArithmetic.with {
            #expect(ExactArithmetic.isEnabled)
            ExactArithmetic.with(false) { #expect(!ExactArithmetic.isEnabled) }
            #expect(ExactArithmetic.isEnabled)
        }
        #expect(!ExactArithmetic.isEnabled)
    }
}
