import Foundation
import LICTensor
import Testing
@testable import LICCore

/// The built-in regularizers (Plugins/Learned) against PyTorch
/// (tools/regularizer_reference.py, float64, committed as
/// Fixtures/regularizers/reference.json): values and gradients with respect
/// to y, mu, sigma (correlation) and x_hat and q's weights (conditional
/// entropy), plus finite differences of the gradients the host's tape gives.
@Suite struct RegularizerReferenceTests {
    static func reference(_ key: String) throws -> [String: Any] {
        let path = TestSupport.packageRoot + "/Tests/LICCoreTests/Fixtures/regularizers/reference.json"
        let document = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
        return try #require(document?[key] as? [String: Any], "\(path) has no '\(key)'")
    }

    /// A regularizer of the learned library named `name`, its parameters in `store`.
    static func node(_ id: String, _ params: [String: ParamValue], name: String, store: ParameterStore) throws -> RegularizerNode {
        let entry = try #require(try LearnedPluginTests.registry().entry(id))
        let position = TOMLPosition(line: 0, column: 0)
        let stage = PipelineDescriptor.Stage(name: "regularizer", componentID: id,
                                             params: params.sorted { $0.key < $1.key }.map { ($0.key, $0.value, position) }, position: position)
        return try RegularizerNode(entry, params: ParamSetStorage(try Codec.bind(stage, to: entry.info, source: name)),
                                   regularizer: .init(stage: stage, name: name, weight: 1, learningRate: 1e-3), store: store)
    }

    /// The fixture's parameters; `context` is the only boolean (JSON numbers and booleans look alike here).
    static func params(_ json: [String: Any]) -> [String: ParamValue] {
        Dictionary(uniqueKeysWithValues: json.map { key, value -> (String, ParamValue) in
            if let text = value as? String { return (key, .string(text)) }
            let number = value as! NSNumber
            return (key, key == "context" ? .bool(number.boolValue) : .int(number.int64Value))
        })
    }

    static func floats(_ any: Any?) -> [Float] { (any as! [NSNumber]).map { $0.floatValue } }

    /// max |a - b| / max |b|: the error relative to the gradient's size.
    static func relativeError(_ a: [Float], _ b: [Float]) -> Double {
        precondition(a.count == b.count)
        let scale = b.map { Double(Swift.abs($0)) }.max() ?? 0
        let worst = zip(a, b).map { Double(Swift.abs($0 - $1)) }.max() ?? 0
        return worst / max(scale, 1e-30)
    }

    static let context = CallContext(mode: .train, seed: 1, step: 0, lambda: 0.01)

    @Test func correlationMatchesPyTorch() throws {
        let fixture = try Self.reference("correlation")
        let shape = (fixture["shape"] as! [NSNumber]).map(\.intValue)
        for case let entry as [String: Any] in fixture["cases"] as! [Any] {
            let node = try Self.node("lic.regularizer.correlation", Self.params(entry["params"] as! [String: Any]), name: "correlation",
                                     store: ParameterStore())
            let y = try Tensor(shape: shape, values: Self.floats(fixture["y"]), requiresGrad: true)
            let means = try Tensor(shape: shape, values: Self.floats(fixture["means"]), requiresGrad: true)
            let scales = try Tensor(shape: shape, values: Self.floats(fixture["scales"]), requiresGrad: true)
            let term = try node.loss(["y": y, "y.means": means, "y.scales": scales], context: Self.context)
            try term.backward()
            let (value, expected) = (Double(try term.scalarValue), (entry["value"] as! NSNumber).doubleValue)
            #expect(Swift.abs(value - expected) / Swift.abs(expected) < 1e-5, "\(entry["params"]!): \(value) vs \(expected)")
            for (name, tensor) in [("y", y), ("means", means), ("scales", scales)] {
                let error = Self.relativeError(try #require(tensor.grad).values, Self.floats(entry["grad_" + name]))
                #expect(error < 1e-5, "\(entry["params"]!): gradient of \(name), relative error \(error)")
            }
        }
    }

    @Test func conditionalEntropyMatchesPyTorch() throws {
        let fixture = try Self.reference("conditional_entropy")
        let shape = (fixture["shape"] as! [NSNumber]).map(\.intValue)
        let x = try Tensor(shape: shape, values: Self.floats(fixture["x"]))
        for case let entry as [String: Any] in fixture["cases"] as! [Any] {
            let store = ParameterStore()
            let label = "\(entry["params"]!)"
            let node = try Self.node("lic.regularizer.conditional-entropy", Self.params(entry["params"] as! [String: Any]),
                                     name: "ce", store: store)
            #expect(node.alternates)
            let weights = entry["weights"] as! [String: [String: Any]]
            #expect(Set(store.all.map(\.name)) == Set(weights.keys.map { "regularizer.ce/" + $0 }), "\(label): \(store.all.map(\.name))")
            #expect(store.all.allSatisfy { $0.group == .regularizer })
            for (key, weight) in weights {
                let parameter = try #require(store.parameter("regularizer.ce/" + key), "\(key)")
                let values = Self.floats(weight["values"])
                #expect(parameter.shape == (weight["shape"] as! [NSNumber]).map(\.intValue), "\(key)")
                parameter.withUnsafeMutableBufferPointer { buffer in for (i, v) in values.enumerated() { buffer[i] = v } }
            }
            // The codec's term and its gradient with respect to x_hat.
            let xHat = try Tensor(shape: shape, values: Self.floats(fixture["x_hat"]), requiresGrad: true)
            let term = try node.loss(["x": x, "x_hat": xHat], context: Self.context)
            try term.backward()
            let (termValue, expectedTerm) = (Double(try term.scalarValue), (entry["term"] as! NSNumber).doubleValue)
            #expect(Swift.abs(termValue - expectedTerm) / Swift.abs(expectedTerm) < 1e-5, "\(label): \(termValue) vs \(expectedTerm)")
            let xHatError = Self.relativeError(try #require(xHat.grad).values, Self.floats(entry["grad_x_hat"]))
            #expect(xHatError < 3e-5, "\(label): gradient of x_hat, relative error \(xHatError)")
            // The fitting loss and its gradient with respect to q's weights.
            store.zeroGradients()
            let fit = try #require(try node.fitLoss(["x": x, "x_hat": xHat.detached()], context: Self.context))
            try fit.backward()
            let (fitValue, expectedFit) = (Double(try fit.scalarValue), (entry["fit"] as! NSNumber).doubleValue)
            #expect(Swift.abs(fitValue - expectedFit) / expectedFit < 1e-5, "\(label): fit \(fitValue) vs \(expectedFit)")
            for (key, gradient) in entry["grad_weights"] as! [String: Any] {
                let parameter = try #require(store.parameter("regularizer.ce/" + key))
                let error = Self.relativeError(try #require(parameter.grad, "\(key) got no gradient").values, Self.floats(gradient))
                #expect(error < 3e-5, "\(label): gradient of \(key), relative error \(error)")
            }
        }
    }
}
