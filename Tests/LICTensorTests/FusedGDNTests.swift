import Testing
@testable import LICTensor

/// The fused GDN op against the composition of ops it replaces (x^2, a 1x1
/// convolution, a square root and a product), values and all three gradients.
@Suite struct FusedGDNTests {
    static func inputs(channels: Int) throws -> (x: Tensor, beta: Tensor, gamma: Tensor) {
        let x = try Tensor.uniformNoise(shape: [2, channels, 9, 7], seed: 21, low: -2, high: 2).asParameter()
        let beta = try Tensor.uniformNoise(shape: [channels], seed: 22, low: 0.5, high: 1.5).asParameter()
        let gamma = try Tensor.uniformNoise(shape: [channels, channels], seed: 23, low: 0, high: 0.2).asParameter()
        return (x, beta, gamma)
    }

    /// Output and the gradients of x, beta and gamma of a weighted sum of the output.
    static func evaluate(inverse: Bool, fused: Bool) throws -> [[Float]] {
        let (x, beta, gamma) = try inputs(channels: 24)
        let y = fused ? try x.gdn(beta: beta, gamma: gamma, inverse: inverse)
                      : try x.composedGDN(beta: beta, gamma: gamma, inverse: inverse)
        let weights = try Tensor.uniformNoise(shape: y.shape, seed: 24, low: -1, high: 1)
        try (y * weights).sum().backward()
        return [y.values, x.grad!.values, beta.grad!.values, gamma.grad!.values]
    }

    @Test(arguments: [false, true]) func matchesTheComposition(inverse: Bool) throws {
        let fused = try Self.evaluate(inverse: inverse, fused: true)
        let reference = try Self.evaluate(inverse: inverse, fused: false)
        for (name, (a, b)) in zip(["y", "dx", "dbeta", "dgamma"], zip(fused, reference)) {
            let scale = b.map(Swift.abs).max()!
            let worst = zip(a, b).map { Swift.abs($0 - $1) }.max()!
            #expect(worst <= 2e-5 * scale, "\(name) (inverse \(inverse)): worst difference \(worst) at scale \(scale)")
        }
    }

    @Test func sameBitsAtAnyThreadCount() throws {
        let one = try Threads.withCount(1) { try Self.evaluate(inverse: false, fused: true) }
        let two = try Threads.withCount(2) { try Self.evaluate(inverse: false, fused: true) }
        // The output and beta's gradient are fixed-order sums at any size (the forward product's sums run over
        // channels, which oneDNN does not split). x's and gamma's gradients go through products whose sums run over
        // positions, which oneDNN may split by thread count at real sizes - as the convolution backward it replaces.
        #expect(one[0] == two[0])
        #expect(one[2] == two[2])
    }

    @Test func exactModeRunsTheComposition() throws {
        let (x, beta, gamma) = try Self.inputs(channels: 16)
        let (a, b) = try ExactArithmetic.with {
            (try x.gdn(beta: beta, gamma: gamma).values, try x.composedGDN(beta: beta, gamma: gamma, inverse: false).values)
        }
        #expect(a == b)
    }
}
