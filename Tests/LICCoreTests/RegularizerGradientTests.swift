import Foundation
import LICTensor
import Testing
@testable import LICCore

/// Finite differences of the built-in regularizers' gradients (the host's
/// tape through the plugin's ops), on seeded inputs independent of the
/// PyTorch fixture, and the behaviour the parameters promise.
@Suite struct RegularizerGradientTests {
    typealias Reference = RegularizerReferenceTests

    static func random(_ shape: [Int], seed: UInt64, low: Float, high: Float) throws -> Tensor {
        var generator = SplitMix64(state: seed)
        let values = (0..<shape.reduce(1, *)).map { _ in low + (high - low) * Float(generator.next() >> 40) / Float(1 << 24) }
        return try Tensor(shape: shape, values: values, requiresGrad: true)
    }

    /// Central differences of `loss` at a few elements of each tensor against the tape's gradient.
    static func checkGradients(_ tensors: [String: Tensor], probes: [String], step: Float, tolerance: Float,
                               _ loss: () throws -> Tensor) throws {
        try loss().backward()
        for name in probes {
            let tensor = tensors[name]!
            let analytic = try #require(tensor.grad, "\(name) got no gradient").values
            for index in stride(from: 1, to: tensor.count, by: max(1, tensor.count / 7)) {
                let original = tensor.values[index]
                func at(_ value: Float) throws -> Float {
                    tensor.withUnsafeMutableBufferPointer { $0[index] = value }
                    return try GradientMode.withoutGradients { try loss().scalarValue }
                }
                let numeric = (try at(original + step) - at(original - step)) / (2 * step)
                tensor.withUnsafeMutableBufferPointer { $0[index] = original }
                #expect(Swift.abs(numeric - analytic[index]) <= tolerance * max(1, Swift.abs(numeric)),
                        "\(name)[\(index)]: numeric \(numeric), tape \(analytic[index])")
            }
        }
    }

    @Test func correlationGradientsMatchFiniteDifferences() throws {
        let shape = [1, 4, 5, 6]
        for params: [String: ParamValue] in [[:], ["border": .string("zeros"), "channels": .string("average-loss")],
                                             ["border": .string("valid"), "window": .int(3), "mask": .string("none")]] {
            let node = try Reference.node("lic.regularizer.correlation", params, name: "correlation", store: ParameterStore())
            let tensors = ["y": try Self.random(shape, seed: 1, low: -2, high: 2), "y.means": try Self.random(shape, seed: 2, low: -0.5, high: 0.5),
                           "y.scales": try Self.random(shape, seed: 3, low: 0.5, high: 2)]
            try Self.checkGradients(tensors, probes: ["y", "y.means", "y.scales"], step: 1e-2, tolerance: 1e-2) {
                try node.loss(tensors, context: Reference.context)
            }
        }
    }

    @Test func conditionalEntropyGradientsMatchFiniteDifferences() throws {
        let shape = [1, 3, 6, 5]
        let store = ParameterStore()
        let node = try Reference.node("lic.regularizer.conditional-entropy", ["channels": .int(6), "context": .bool(true)], name: "ce", store: store)
        // Move q off its initialization (zero last layer) so every weight matters.
        var generator = SplitMix64(state: 9)
        for entry in store.all {
            entry.tensor.withUnsafeMutableBufferPointer { buffer in
                for i in buffer.indices { buffer[i] += 0.02 * (Float(generator.next() >> 40) / Float(1 << 24) - 0.5) }
            }
        }
        var pixels = SplitMix64(state: 4)
        let levels = (0..<shape.reduce(1, *)).map { i in Float(i % 11 == 0 ? 0 : i % 13 == 0 ? 255 : Int(pixels.next() % 256)) / 255 }
        let x = try Tensor(shape: shape, values: levels)
        let noise = try Self.random(shape, seed: 5, low: -0.02, high: 0.02)
        let xHat = try Tensor(shape: shape, values: zip(levels, noise.values).map { $0 + $1 }, requiresGrad: true)
        try Self.checkGradients(["x_hat": xHat], probes: ["x_hat"], step: 1e-3, tolerance: 2e-2) {
            try node.loss(["x": x, "x_hat": xHat], context: Reference.context)
        }
        // q's weights through the fitting loss (its gradient alone: the term's is its negative).
        store.zeroGradients()
        let weights = Dictionary(uniqueKeysWithValues: store.all.map { ($0.name, $0.tensor) })
        try Self.checkGradients(weights, probes: weights.keys.sorted(), step: 1e-2, tolerance: 2e-2) {
            try #require(try node.fitLoss(["x": x, "x_hat": xHat.detached()], context: Reference.context))
        }
    }

    /// The term's defining properties: an uncorrelated latent costs little, a
    /// correlated one much; the point mask removes exactly (mean n^2)^2.
    @Test func correlationPenalizesCorrelatedLatents() throws {
        let shape = [1, 8, 16, 16]
        let node = try Reference.node("lic.regularizer.correlation", [:], name: "c", store: ParameterStore())
        let unmasked = try Reference.node("lic.regularizer.correlation", ["mask": .string("none")], name: "c", store: ParameterStore())
        let white = try Self.random(shape, seed: 11, low: -1.7, high: 1.7)
        // Each value plus its right and lower neighbours (wrapping): neighbours share samples, so off-centre correlations are large.
        let v = white.values, (h, w) = (16, 16)
        let smooth = (0..<v.count).map { i -> Float in
            let (c, r, col) = (i / (h * w), (i / w) % h, i % w)
            return v[c * h * w + r * w + col] + v[c * h * w + r * w + (col + 1) % w] + v[c * h * w + ((r + 1) % h) * w + col]
        }
        let unit = try Tensor(shape: shape, values: [Float](repeating: 1, count: v.count))
        let zero = try Tensor(zeros: shape)
        func term(_ node: RegularizerNode, _ y: [Float]) throws -> Float {
            try node.loss(["y": try Tensor(shape: shape, values: y), "y.means": zero, "y.scales": unit], context: Reference.context).scalarValue
        }
        let (whiteTerm, smoothTerm) = (try term(node, v), try term(node, smooth))
        #expect(smoothTerm > 50 * whiteTerm, "correlated \(smoothTerm), white \(whiteTerm)")
        let meanSquare = v.map { $0 * $0 }.reduce(0, +) / Float(v.count)
        #expect(Swift.abs(try term(unmasked, v) - whiteTerm - meanSquare * meanSquare) <= 1e-4 * meanSquare * meanSquare)
    }
}
