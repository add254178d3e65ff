import Foundation
import LICTensor

/// CompressAI's MeanScaleHyperprior (mbt2018-mean: Minnen 2018 without the
/// context model) written directly on LIC's tensor engine (the plugins in
/// Plugins/Learned compose the same network from a descriptor): the same
/// layers, initializations, parameter names (the pipeline's stage/param, see
/// tools/compressai_to_lic.py) and
/// quantization (additive noise in training, rounding around the medians /
/// means in evaluation). Used by the training-step benchmark and by the test
/// that reproduces CompressAI's forward pass from converted weights.
public final class MeanScaleHyperprior {
    public let store = ParameterStore()
    public let n: Int, m: Int
    private var seed: UInt64 = 1

    public init(n: Int, m: Int) throws {
        self.n = n
        self.m = m
        for (i, (cin, cout)) in [(3, n), (n, n), (n, n), (n, m)].enumerated() {
            try conv("analysis/\(2 * i)", cin, cout, 5)
            if i < 3 { try gdn("analysis/\(2 * i + 1)", cout) }
        }
        for (i, (cin, cout)) in [(m, n), (n, n), (n, n), (n, 3)].enumerated() {
            try deconv("synthesis/\(2 * i)", cin, cout, 5)
            if i < 3 { try gdn("synthesis/\(2 * i + 1)", cout) }
        }
        try conv("hyper.analysis/0", m, n, 3); try conv("hyper.analysis/2", n, n, 5); try conv("hyper.analysis/4", n, n, 5)
        try deconv("hyper.synthesis/0", n, m, 5); try deconv("hyper.synthesis/2", m, m * 3 / 2, 5); try conv("hyper.synthesis/4", m * 3 / 2, m * 2, 3)
        try entropyBottleneck(channels: n)
    }

    private func nextSeed() -> UInt64 { seed += 1; return seed }

    private func conv(_ name: String, _ cin: Int, _ cout: Int, _ k: Int) throws {
        try store.register("\(name).weight", shape: [cout, cin, k, k], initializer: .kaimingUniform(fanIn: cin * k * k, seed: nextSeed()))
        try store.register("\(name).bias", shape: [cout], initializer: .kaimingUniform(fanIn: cin * k * k, seed: nextSeed()))
    }

    private func deconv(_ name: String, _ cin: Int, _ cout: Int, _ k: Int) throws {
        try store.register("\(name).weight", shape: [cin, cout, k, k], initializer: .kaimingUniform(fanIn: cout * k * k, seed: nextSeed()))
        try store.register("\(name).bias", shape: [cout], initializer: .kaimingUniform(fanIn: cout * k * k, seed: nextSeed()))
    }

    // GDN parameters as CompressAI stores them (non-negative reparametrization).
    static let pedestal = Float(pow(2.0, -36.0))
    private func gdn(_ name: String, _ c: Int) throws {
        let eye = (0..<(c * c)).map { $0 / c == $0 % c ? Float(0.1) : 0 }
        try store.register("\(name).beta", shape: [c], initializer: .constant((1 + Self.pedestal).squareRoot()))
        try store.register("\(name).gamma", shape: [c, c], initializer: .values(eye.map { ($0 + Self.pedestal).squareRoot() }))
    }

    // EntropyBottleneck: filters (3,3,3,3), init scale 10.
    static let filters = [1, 3, 3, 3, 3, 1]
    private func entropyBottleneck(channels c: Int) throws {
        let scale = pow(10.0, 1.0 / 5.0)
        for i in 0..<5 {
            let initial = Float(log(expm1(1 / scale / Double(Self.filters[i + 1]))))
            try store.register("hyper.entropy/matrices.\(i)", shape: [c, Self.filters[i + 1], Self.filters[i]], initializer: .constant(initial))
            try store.register("hyper.entropy/biases.\(i)", shape: [c, Self.filters[i + 1], 1], initializer: .uniform(low: -0.5, high: 0.5, seed: nextSeed()))
            if i < 4 { try store.register("hyper.entropy/factors.\(i)", shape: [c, Self.filters[i + 1], 1], initializer: .zeros) }
        }
        let q: [Float] = (0..<c).flatMap { _ -> [Float] in [-10, 0, 10] }
        try store.register("hyper.entropy/quantiles", shape: [c, 1, 3], initializer: .values(q), group: .auxiliary)
    }

    private func p(_ name: String) -> Tensor { store.parameter(name)! }

    private func nonNegative(_ x: Tensor, minimum: Float) throws -> Tensor {
        let bound = (minimum + Self.pedestal).squareRoot()
        return try x.lowerBounded(bound).squared() - Self.pedestal
    }

    private func gdnLayer(_ x: Tensor, _ name: String, inverse: Bool) throws -> Tensor {
        try x.gdn(beta: nonNegative(p("\(name).beta"), minimum: 1e-6), gamma: nonNegative(p("\(name).gamma"), minimum: 0), inverse: inverse)
    }

    private func convLayer(_ x: Tensor, _ name: String, stride: Int) throws -> Tensor {
        let k = p("\(name).weight").shape[2]
        return try x.conv2d(p("\(name).weight"), bias: p("\(name).bias"), stride: stride, padding: .same(k / 2))
    }

    private func deconvLayer(_ x: Tensor, _ name: String, stride: Int) throws -> Tensor {
        let k = p("\(name).weight").shape[2]
        return try x.convTranspose2d(p("\(name).weight"), bias: p("\(name).bias"), stride: stride, padding: .same(k / 2),
                                     outputPadding: stride - 1)
    }

    /// Cumulative logits of the factorized prior for inputs [C, 1, K].
    public func logitsCumulative(_ inputs: Tensor, stopGradient: Bool) throws -> Tensor {
        var logits = inputs
        for i in 0..<5 {
            var matrix = try p("hyper.entropy/matrices.\(i)").softplus()
            if stopGradient { matrix = matrix.detached() }
            logits = try matrix.matmul(logits)
            var bias = p("hyper.entropy/biases.\(i)")
            if stopGradient { bias = bias.detached() }
            logits = try logits + bias
            if i < 4 {
                var factor = try p("hyper.entropy/factors.\(i)").tanh()
                if stopGradient { factor = factor.detached() }
                logits = try logits + factor * logits.tanh()
            }
        }
        return logits
    }

    public struct Output {
        public var xHat: Tensor
        /// y's and z's likelihoods, each of its latent's shape.
        public var yLikelihoods: Tensor
        public var zLikelihoods: Tensor
        public var likelihoods: [Tensor] { [yLikelihoods, zLikelihoods] }
    }

    public enum Quantization {
        /// Additive U(-0.5, 0.5) noise from the seed (training).
        case noise(seed: UInt64)
        /// round(v - median) + median, round(y - mean) + mean (evaluation and coding).
        case rounding
    }

    /// y = g_a(x).
    public func analysis(_ x: Tensor) throws -> Tensor {
        var y = x
        for i in 0..<4 {
            y = try convLayer(y, "analysis/\(2 * i)", stride: 2)
            if i < 3 { y = try gdnLayer(y, "analysis/\(2 * i + 1)", inverse: false) }
        }
        return y
    }

    public func forward(_ x: Tensor, quantization: Quantization) throws -> Output {
        let y = try analysis(x)
        var z = try convLayer(y, "hyper.analysis/0", stride: 1).leakyRelu()
        z = try convLayer(z, "hyper.analysis/2", stride: 2).leakyRelu()
        z = try convLayer(z, "hyper.analysis/4", stride: 2)
        // Factorized prior on z, channels first: [C, 1, B*H*W].
        let (b, c, h, w) = (z.shape[0], z.shape[1], z.shape[2], z.shape[3])
        let values = try z.permuted([1, 0, 2, 3]).reshaped([c, 1, b * h * w])
        let medians = try p("hyper.entropy/quantiles").sliced(axis: 2, start: 1, length: 1).detached()
        let zQuantized: Tensor
        switch quantization {
        case .noise(let seed): zQuantized = try values + Tensor.uniformNoise(shape: values.shape, seed: seed)
        case .rounding: zQuantized = try (values - medians).roundedStraightThrough() + medians
        }
        let upper = try logitsCumulative(zQuantized + 0.5, stopGradient: false)
        let lower = try logitsCumulative(zQuantized - 0.5, stopGradient: false)
        let zLikelihoods = try (upper.sigmoid() - lower.sigmoid()).lowerBounded(1e-9)
            .reshaped([c, b, h, w]).permuted([1, 0, 2, 3])
        let zHat = try zQuantized.reshaped([c, b, h, w]).permuted([1, 0, 2, 3])
        // Hyper synthesis -> (scales, means) for y.
        var params = try deconvLayer(zHat, "hyper.synthesis/0", stride: 2).leakyRelu()
        params = try deconvLayer(params, "hyper.synthesis/2", stride: 2).leakyRelu()
        params = try convLayer(params, "hyper.synthesis/4", stride: 1)
        let halves = try params.split(axis: 1, sizes: [m, m])
        let scales = try halves[0].lowerBounded(0.11), means = halves[1]
        let yHat: Tensor
        switch quantization {
        case .noise(let seed): yHat = try y + Tensor.uniformNoise(shape: y.shape, seed: seed &+ 1)
        case .rounding: yHat = try (y - means).roundedStraightThrough() + means
        }
        let centered = try (yHat - means).abs()
        let yUpper = try ((centered.negated() + 0.5) / scales).gaussianCDF()
        let yLower = try ((centered.negated() - 0.5) / scales).gaussianCDF()
        let yLikelihoods = try (yUpper - yLower).lowerBounded(1e-9)
        var xHat = yHat
        for i in 0..<4 {
            xHat = try deconvLayer(xHat, "synthesis/\(2 * i)", stride: 2)
            if i < 3 { xHat = try gdnLayer(xHat, "synthesis/\(2 * i + 1)", inverse: true) }
        }
        return Output(xHat: xHat, yLikelihoods: yLikelihoods, zLikelihoods: zLikelihoods)
    }

    /// sum |logits(quantiles) - target| (CompressAI's aux loss).
    public func auxiliaryLoss() throws -> Tensor {
        let logits = try logitsCumulative(p("hyper.entropy/quantiles"), stopGradient: true)
        let t = Float(log(2 / 1e-9 - 1))
        let target = try Tensor(shape: [1, 1, 3], values: [-t, 0, t])
        return try (logits - target).abs().sum()
    }
}
