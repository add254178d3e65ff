import Foundation
import LICTensor

/// CompressAI's MeanScaleHyperprior (Minnen 2018 without context), written
/// directly against LICTensor for the training-step benchmark: same layers,
/// initializations and training-mode quantization (additive uniform noise).
final class MeanScaleHyperprior {
    let store = ParameterStore()
    let n: Int, m: Int
    private var seed: UInt64 = 1

    init(n: Int, m: Int) throws {
        self.n = n
        self.m = m
        for (i, (cin, cout)) in [(3, n), (n, n), (n, n), (n, m)].enumerated() {
            try conv("g_a.\(2 * i)", cin, cout, 5)
            if i < 3 { try gdn("g_a.\(2 * i + 1)", cout) }
        }
        for (i, (cin, cout)) in [(m, n), (n, n), (n, n), (n, 3)].enumerated() {
            try deconv("g_s.\(2 * i)", cin, cout, 5)
            if i < 3 { try gdn("g_s.\(2 * i + 1)", cout) }
        }
        try conv("h_a.0", m, n, 3); try conv("h_a.2", n, n, 5); try conv("h_a.4", n, n, 5)
        try deconv("h_s.0", n, m, 5); try deconv("h_s.2", m, m * 3 / 2, 5); try conv("h_s.4", m * 3 / 2, m * 2, 3)
        try entropyBottleneck(channels: n)
    }

    private func nextSeed() -> UInt64 { seed += 1; return seed }

    private func conv(_ name: String, _ cin: Int, _ cout: Int, _ k: Int) throws {
        try store.register("\(name)/weight", shape: [cout, cin, k, k], initializer: .kaimingUniform(fanIn: cin * k * k, seed: nextSeed()))
        try store.register("\(name)/bias", shape: [cout], initializer: .kaimingUniform(fanIn: cin * k * k, seed: nextSeed()))
    }

    private func deconv(_ name: String, _ cin: Int, _ cout: Int, _ k: Int) throws {
        try store.register("\(name)/weight", shape: [cin, cout, k, k], initializer: .kaimingUniform(fanIn: cout * k * k, seed: nextSeed()))
        try store.register("\(name)/bias", shape: [cout], initializer: .kaimingUniform(fanIn: cout * k * k, seed: nextSeed()))
    }

    // GDN parameters as CompressAI stores them (non-negative reparametrization).
    static let pedestal = Float(pow(2.0, -36.0))
    private func gdn(_ name: String, _ c: Int) throws {
        let eye = (0..<(c * c)).map { $0 / c == $0 % c ? Float(0.1) : 0 }
        try store.register("\(name)/beta", shape: [c], initializer: .constant((1 + Self.pedestal).squareRoot()))
        try store.register("\(name)/gamma", shape: [c, c], initializer: .values(eye.map { ($0 + Self.pedestal).squareRoot() }))
    }

    // EntropyBottleneck: filters (3,3,3,3), init scale 10.
    static let filters = [1, 3, 3, 3, 3, 1]
    private func entropyBottleneck(channels c: Int) throws {
        let scale = pow(10.0, 1.0 / 5.0)
        for i in 0..<5 {
            let initial = Float(log(expm1(1 / scale / Double(Self.filters[i + 1]))))
            try store.register("eb/matrix\(i)", shape: [c, Self.filters[i + 1], Self.filters[i]], initializer: .constant(initial))
            try store.register("eb/bias\(i)", shape: [c, Self.filters[i + 1], 1], initializer: .uniform(low: -0.5, high: 0.5, seed: nextSeed()))
            if i < 4 { try store.register("eb/factor\(i)", shape: [c, Self.filters[i + 1], 1], initializer: .zeros) }
        }
        let q: [Float] = (0..<c).flatMap { _ -> [Float] in [-10, 0, 10] }
        try store.register("eb/quantiles", shape: [c, 1, 3], initializer: .values(q), group: .auxiliary)
    }

    private func p(_ name: String) -> Tensor { store.parameter(name)! }

    private func nonNegative(_ x: Tensor, minimum: Float) throws -> Tensor {
        let bound = (minimum + Self.pedestal).squareRoot()
        return try x.lowerBounded(bound).squared() - Self.pedestal
    }

    private func gdnLayer(_ x: Tensor, _ name: String, inverse: Bool) throws -> Tensor {
        try x.gdn(beta: nonNegative(p("\(name)/beta"), minimum: 1e-6), gamma: nonNegative(p("\(name)/gamma"), minimum: 0), inverse: inverse)
    }

    private func convLayer(_ x: Tensor, _ name: String, stride: Int) throws -> Tensor {
        let k = p("\(name)/weight").shape[2]
        return try x.conv2d(p("\(name)/weight"), bias: p("\(name)/bias"), stride: stride, padding: .same(k / 2))
    }

    private func deconvLayer(_ x: Tensor, _ name: String, stride: Int) throws -> Tensor {
        let k = p("\(name)/weight").shape[2]
        return try x.convTranspose2d(p("\(name)/weight"), bias: p("\(name)/bias"), stride: stride, padding: .same(k / 2),
                                     outputPadding: stride - 1)
    }

    /// Cumulative logits of the factorized prior for inputs [C, 1, K].
    func logitsCumulative(_ inputs: Tensor, stopGradient: Bool) throws -> Tensor {
        var logits = inputs
        for i in 0..<5 {
            var matrix = try p("eb/matrix\(i)").softplus()
            if stopGradient { matrix = matrix.detached() }
            logits = try matrix.matmul(logits)
            var bias = p("eb/bias\(i)")
            if stopGradient { bias = bias.detached() }
            logits = try logits + bias
            if i < 4 {
                var factor = try p("eb/factor\(i)").tanh()
                if stopGradient { factor = factor.detached() }
                logits = try logits + factor * logits.tanh()
            }
        }
        return logits
    }

    struct Output { var xHat: Tensor; var likelihoods: [Tensor] }

    func forward(_ x: Tensor, noiseSeed: UInt64) throws -> Output {
        var y = x
        for i in 0..<4 {
            y = try convLayer(y, "g_a.\(2 * i)", stride: 2)
            if i < 3 { y = try gdnLayer(y, "g_a.\(2 * i + 1)", inverse: false) }
        }
        var z = try convLayer(y.abs(), "h_a.0", stride: 1).leakyRelu()
        z = try convLayer(z, "h_a.2", stride: 2).leakyRelu()
        z = try convLayer(z, "h_a.4", stride: 2)
        // Factorized prior on z: channels first, values flattened, noise quantization.
        let (b, c, h, w) = (z.shape[0], z.shape[1], z.shape[2], z.shape[3])
        let zNoisy = try z + Tensor.uniformNoise(shape: z.shape, seed: noiseSeed)
        let values = try zNoisy.permuted([1, 0, 2, 3]).reshaped([c, 1, b * h * w])
        let upper = try logitsCumulative(values + 0.5, stopGradient: false)
        let lower = try logitsCumulative(values - 0.5, stopGradient: false)
        let zLikelihood = try (upper.sigmoid() - lower.sigmoid()).lowerBounded(1e-9)
        // Hyper synthesis -> (scales, means) for y.
        var params = try deconvLayer(zNoisy, "h_s.0", stride: 2).leakyRelu()
        params = try deconvLayer(params, "h_s.2", stride: 2).leakyRelu()
        params = try convLayer(params, "h_s.4", stride: 1)
        let halves = try params.split(axis: 1, sizes: [m, m])
        let scales = try halves[0].lowerBounded(0.11), means = halves[1]
        let yNoisy = try y + Tensor.uniformNoise(shape: y.shape, seed: noiseSeed &+ 1)
        let centered = try (yNoisy - means).abs()
        let yUpper = try ((centered.negated() + 0.5) / scales).gaussianCDF()
        let yLower = try ((centered.negated() - 0.5) / scales).gaussianCDF()
        let yLikelihood = try (yUpper - yLower).lowerBounded(1e-9)
        var xHat = yNoisy
        for i in 0..<4 {
            xHat = try deconvLayer(xHat, "g_s.\(2 * i)", stride: 2)
            if i < 3 { xHat = try gdnLayer(xHat, "g_s.\(2 * i + 1)", inverse: true) }
        }
        return Output(xHat: xHat, likelihoods: [yLikelihood, zLikelihood])
    }

    /// sum |logits(quantiles) - target| (CompressAI's aux loss).
    func auxiliaryLoss() throws -> Tensor {
        let logits = try logitsCumulative(p("eb/quantiles"), stopGradient: true)
        let t = Float(log(2 / 1e-9 - 1))
        let target = try Tensor(shape: [1, 1, 3], values: [-t, 0, t])
        return try (logits - target).abs().sum()
    }
}
