import Testing
@testable import LICTensor

/// Finite-difference checks of every op's gradient: the loss is
/// sum(f(inputs) * R) for a fixed random R, so every output element matters.
@Suite struct GradientCheckTests {
    /// A leaf tensor of `shape` with deterministic values in [low, high).
    static func input(_ shape: [Int], seed: UInt64, low: Float = -1, high: Float = 1) throws -> Tensor {
        try Tensor.uniformNoise(shape: shape, seed: seed, low: low, high: high).asParameter()
    }

    /// Values k/10 + offset in [0.5, 2.1): distinct grids keep kinks out of reach.
    static func gridInput(_ shape: [Int], seed: UInt64, offset: Float) throws -> Tensor {
        let u = try Tensor.uniformNoise(shape: shape, seed: seed, low: 5, high: 20).values
        return try Tensor(shape: shape, values: u.map { $0.rounded() / 10 + offset }, requiresGrad: true)
    }

    static func check(_ inputs: [Tensor], epsilon: Float = 1e-2, tolerance: Float = 2e-2,
                      sourceLocation: SourceLocation = #_sourceLocation, _ f: ([Tensor]) throws -> Tensor) throws {
        let probe = try GradientMode.withoutGradients { try f(inputs) }
        let weights = try Tensor.uniformNoise(shape: probe.shape, seed: 99, low: -1, high: 1)
        func loss() throws -> Tensor { try (f(inputs) * weights).sum() }
        inputs.forEach { $0.zeroGrad() }
        try loss().backward()
        for (index, input) in inputs.enumerated() where input.requiresGrad {
            let analytic = try #require(input.grad, "input \(index) got no gradient", sourceLocation: sourceLocation).values
            // Check every element of small inputs, a strided sample of large ones.
            let step = max(1, input.count / 48)
            for element in stride(from: 0, to: input.count, by: step) {
                let original = input.withUnsafeBufferPointer { $0[element] }
                func evaluate(_ value: Float) throws -> Float {
                    input.withUnsafeMutableBufferPointer { $0[element] = value }
                    return try GradientMode.withoutGradients { try loss().scalarValue }
                }
                let numeric = (try evaluate(original + epsilon) - evaluate(original - epsilon)) / (2 * epsilon)
                input.withUnsafeMutableBufferPointer { $0[element] = original }
                let scale = max(1, Swift.abs(numeric), Swift.abs(analytic[element]))
                #expect(Swift.abs(numeric - analytic[element]) <= tolerance * scale,
                        "input \(index) element \(element): numeric \(numeric), analytic \(analytic[element])",
                        sourceLocation: sourceLocation)
            }
        }
    }

    @Test(arguments: [UnaryOp.negate, .square, .sqrt, .rsqrt, .reciprocal, .exp, .log, .abs, .tanh, .sigmoid, .relu,
                      .leakyRelu(slope: 0.1), .gelu, .softplus, .erfc, .gaussianCDF])
    func unary(_ op: UnaryOp) throws {
        // Positive inputs for the ops defined there; away from 0 for abs/relu kinks.
        let positive: Set<String> = ["sqrt", "rsqrt", "reciprocal", "log", "abs", "relu", "leakyRelu(slope: 0.1)"]
        let x = try Self.input([2, 3, 4], seed: 1, low: 0.3, high: 2)
        let signed = try Self.input([2, 3, 4], seed: 1, low: -2, high: 2)
        try Self.check([positive.contains("\(op)") ? x : signed]) { try $0[0].unary(op) }
    }

    @Test(arguments: [BinaryOp.add, .subtract, .multiply, .divide, .power, .maximum, .minimum])
    func binaryWithBroadcasting(_ op: BinaryOp) throws {
        let shapes: [([Int], [Int])] = [([2, 3, 4, 5], [2, 3, 4, 5]), ([2, 3, 4, 5], [1, 3, 1, 1]), ([2, 3, 4, 5], [5]),
                                        ([2, 1, 4, 1], [1, 3, 1, 5]), ([3, 4], [1])]
        for (i, (aShape, bShape)) in shapes.enumerated() {
            // a on a grid offset by 0.05 from b's grid, so max/min never sit within epsilon of their kink.
            let a = try Self.gridInput(aShape, seed: UInt64(10 + i), offset: 0.05)
            let b = try Self.gridInput(bShape, seed: UInt64(20 + i), offset: 0)
            try Self.check([a, b]) { try $0[0].binary(op, $0[1]) }
        }
    }

    @Test func boundsRoundingAndStopGradient() throws {
        // Inputs on a grid of 0.1 and bounds between grid points keep the kinks out of the differences.
        let grid = try Tensor.uniformNoise(shape: [3, 7], seed: 3, low: -20, high: 20).values.map { $0.rounded() / 10 }
        let x = try Tensor(shape: [3, 7], values: grid, requiresGrad: true)
        try Self.check([x]) { try $0[0].clamped(min: -1.05, max: 0.95) }
        // Below the bound the gradient rule is not a derivative (see lowerBoundGradientRule): check above it.
        let above = try Tensor(shape: [3, 7], values: grid.map { Swift.abs($0) }, requiresGrad: true)
        try Self.check([above]) { try $0[0].lowerBounded(-0.55) }
        // Straight-through: d round(x) / dx = 1 by definition (not the numeric derivative).
        x.zeroGrad()
        try x.roundedStraightThrough().sum().backward()
        #expect(x.grad?.values == [Float](repeating: 1, count: x.count))
        x.zeroGrad()
        try (x.detached() * x).sum().backward()
        #expect(x.grad?.values == x.values)
    }

    @Test func lowerBoundGradientRule() throws {
        // Below the bound, the gradient passes only where it pushes x upward (negative gradient).
        let x = try Tensor(shape: [2], values: [-5, -5], requiresGrad: true)
        let y = try x.lowerBounded(0)
        try (y * Tensor(shape: [2], values: [1, -1])).sum().backward()
        #expect(x.grad?.values == [0, -1])
    }

    @Test func reductions() throws {
        let x = try Self.input([2, 3, 4, 5], seed: 4)
        try Self.check([x]) { try $0[0].sum() }
        try Self.check([x]) { try $0[0].sum(axes: [1, 3]) }
        try Self.check([x]) { try $0[0].mean(axes: [0, 2], keepDimensions: false) }
        try Self.check([x]) { try $0[0].mean(axes: [-1]) }
    }

    @Test func shapeOps() throws {
        let x = try Self.input([2, 4, 3, 6], seed: 5)
        let y = try Self.input([2, 2, 3, 6], seed: 6)
        try Self.check([x]) { try $0[0].reshaped([8, 18]) }
        try Self.check([x]) { try $0[0].permuted([0, 2, 3, 1]) }
        try Self.check([x, y]) { try Tensor.concatenate([$0[0], $0[1]], axis: 1) }
        try Self.check([x]) { try $0[0].sliced(axis: 3, start: 1, length: 4) }
        try Self.check([x]) { let parts = try $0[0].split(axis: 1, sizes: [1, 3]); return try parts[1] * parts[1] }
        try Self.check([x]) { try $0[0].padded([(0, 0), (1, 0), (2, 1), (-1, -2)], value: 0.5) }
        try Self.check([x]) { try $0[0].cropped(top: 1, left: 2, height: 2, width: 3) }
        try Self.check([x]) { try $0[0].pixelShuffled(2) }
        try Self.check([x]) { try $0[0].pixelUnshuffled(3) }
    }

    @Test func convolutions() throws {
        let x = try Self.input([2, 4, 7, 6], seed: 7)
        let w = try Self.input([6, 2, 3, 3], seed: 8, low: -0.5, high: 0.5)
        let b = try Self.input([6], seed: 9)
        try Self.check([x, w, b]) { try $0[0].conv2d($0[1], bias: $0[2], stride: 2, padding: .same(1), groups: 2) }
        let w5 = try Self.input([3, 4, 5, 5], seed: 10, low: -0.3, high: 0.3)
        var maskValues = [Float](repeating: 1, count: 3 * 4 * 25)
        for i in maskValues.indices where (i % 25) >= 12 { maskValues[i] = 0 }  // mask A: centre and after
        let mask = try Tensor(shape: [3, 4, 5, 5], values: maskValues)
        try Self.check([x, w5]) { try $0[0].conv2d($0[1], padding: Padding2D(top: 2, left: 2, bottom: 1, right: 2), mask: mask) }
        let wt = try Self.input([4, 3, 5, 5], seed: 11, low: -0.3, high: 0.3)
        let bt = try Self.input([3], seed: 12)
        try Self.check([x, wt, bt]) { try $0[0].convTranspose2d($0[1], bias: $0[2], stride: 2, padding: .same(2), outputPadding: 1) }
    }

    @Test func matmulAndGDN() throws {
        let a = try Self.input([3, 4, 5], seed: 13), b = try Self.input([3, 5, 2], seed: 14)
        try Self.check([a, b]) { try $0[0].matmul($0[1]) }
        let x = try Self.input([2, 3, 4, 4], seed: 15)
        let beta = try Self.input([3], seed: 16, low: 0.5, high: 1.5)
        let gamma = try Self.input([3, 3], seed: 17, low: 0.05, high: 0.3)
        try Self.check([x, beta, gamma]) { try $0[0].gdn(beta: $0[1], gamma: $0[2]) }
        try Self.check([x, beta, gamma]) { try $0[0].gdn(beta: $0[1], gamma: $0[2], inverse: true) }
    }

    @Test func customOpUsesTheSuppliedBackward() throws {
        // f(x) = x^3 with a hand-written kernel and derivative.
        let x = try Self.input([5], seed: 18)
        try Self.check([x]) { inputs in
            try Tensor.custom(name: "cube", inputs: inputs, outputShape: [5], forward: { inputs, out in
                inputs[0].withUnsafeBufferPointer { v in for i in v.indices { out[i] = v[i] * v[i] * v[i] } }
            }, backward: { inputs, gradOutput in
                [try Tensor(shape: [5], values: zip(inputs[0].values, gradOutput.values).map { 3 * $0 * $0 * $1 })]
            })
        }
    }

    @Test func gradientsAccumulateAcrossBackwardPasses() throws {
        let x = try Tensor(shape: [3], values: [1, 2, 3], requiresGrad: true)
        try (x * x).sum().backward()
        try (x * x).sum().backward()
        #expect(x.grad?.values == [4, 8, 12])
        x.zeroGrad()
        #expect(x.grad == nil)
    }

    @Test func inferenceModeRecordsNothing() throws {
        let x = try Tensor(shape: [3], values: [1, 2, 3], requiresGrad: true)
        let y = try GradientMode.withoutGradients { try x * x }
        #expect(!y.requiresGrad && y.node == nil)
        #expect(throws: TensorError.self) { try y.sum().backward() }
    }
}
