import Testing
@testable import LICTensor

/// Same inputs, same bits: run to run always; across thread counts for
/// everything but oneDNN's weight gradients (whose reduction split depends on
/// the thread count, measured at ~1e-6 relative; see BENCHMARKS.md).
@Suite struct DeterminismTests {
    /// A small network touching conv, transposed conv, GDN, elementwise,
    /// reductions and noise; returns (loss, x gradient, weight gradient).
    static func run(threads: Int) throws -> (loss: [Float], inputGradient: [Float], weightGradient: [Float]) {
        try Threads.withCount(threads) { try network() }
    }

    static func network() throws -> (loss: [Float], inputGradient: [Float], weightGradient: [Float]) {
        let x = try Tensor.uniformNoise(shape: [2, 3, 32, 32], seed: 1, low: 0, high: 1).asParameter()
        let w1 = try Tensor.uniformNoise(shape: [16, 3, 5, 5], seed: 2, low: -0.2, high: 0.2).asParameter()
        let w2 = try Tensor.uniformNoise(shape: [16, 3, 5, 5], seed: 3, low: -0.2, high: 0.2).asParameter()
        let beta = try Tensor(shape: [16], values: [Float](repeating: 1, count: 16))
        let gamma = try Tensor(shape: [16, 16], values: (0..<256).map { $0 % 17 == 0 ? 0.1 : 0.01 })
        var y = try x.conv2d(w1, stride: 2, padding: .same(2)).gdn(beta: beta, gamma: gamma)
        y = try y + Tensor.uniformNoise(shape: y.shape, seed: 4)
        let xHat = try y.convTranspose2d(w2, stride: 2, padding: .same(2), outputPadding: 1)
        let loss = try (xHat - x).squared().mean() + y.abs().softplus().sum() * 1e-4
        try loss.backward()
        return (loss.values, x.grad!.values, w1.grad!.values)
    }

    @Test func identicalAcrossRuns() throws {
        let a = try Self.run(threads: Threads.count), b = try Self.run(threads: Threads.count)
        #expect(a.loss == b.loss && a.inputGradient == b.inputGradient && a.weightGradient == b.weightGradient)
    }

    @Test func forwardAndInputGradientsIdenticalAcrossThreadCounts() throws {
        let one = try Self.run(threads: 1), two = try Self.run(threads: 2)
        #expect(one.loss == two.loss)
        #expect(one.inputGradient == two.inputGradient)
        // Weight gradients agree closely but not necessarily bit for bit.
        let worst = zip(one.weightGradient, two.weightGradient).map { Swift.abs($0 - $1) / max(Swift.abs($0), 1e-3) }.max() ?? 0
        #expect(worst < 1e-4)
    }
}
