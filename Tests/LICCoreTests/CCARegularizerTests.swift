import Foundation
import LICTensor
import Testing
@testable import LICCore

/// lic.regularizer.cca: the term and its gradients against PyTorch
/// (tools/regularizer_reference.py, the fixture's "cca"), finite differences,
/// and causality: the auxiliary model's slice i depends on decoded slice i - 2
/// but not on slice i - 1.
@Suite struct CCARegularizerTests {
    typealias Reference = RegularizerReferenceTests

    /// A cca regularizer named "cca" with the fixture's weights loaded.
    static func node(_ params: [String: ParamValue], fixture: [String: Any], store: ParameterStore) throws -> RegularizerNode {
        let node = try Reference.node("lic.regularizer.cca", params, name: "cca", store: store)
        let weights = fixture["weights"] as! [String: [String: Any]]
        #expect(Set(store.all.map(\.name)) == Set(weights.keys.map { "regularizer.cca/" + $0 }), "\(store.all.map(\.name).sorted())")
        #expect(store.all.allSatisfy { $0.group == .regularizer })
        for (key, weight) in weights {
            let parameter = try #require(store.parameter("regularizer.cca/" + key), "\(key)")
            #expect(parameter.shape == (weight["shape"] as! [NSNumber]).map(\.intValue), "\(key)")
            let values = Reference.floats(weight["values"])
            parameter.withUnsafeMutableBufferPointer { buffer in for (i, v) in values.enumerated() { buffer[i] = v } }
        }
        return node
    }

    /// The fixture's named tensors (requiring gradients), by the regularizer's default names.
    static func tensors(_ fixture: [String: Any]) throws -> [String: Tensor] {
        let shape = (fixture["shape"] as! [NSNumber]).map(\.intValue), image = (fixture["x_shape"] as! [NSNumber]).map(\.intValue)
        let condition = [shape[0], 2 * shape[1], shape[2], shape[3]]
        return ["x": try Tensor(zeros: image),
                "y": try Tensor(shape: shape, values: Reference.floats(fixture["y"]), requiresGrad: true),
                "y_hat": try Tensor(shape: shape, values: Reference.floats(fixture["y_hat"]), requiresGrad: true),
                "params": try Tensor(shape: condition, values: Reference.floats(fixture["params"]), requiresGrad: true),
                "y.likelihoods": try Tensor(shape: shape, values: Reference.floats(fixture["main"]), requiresGrad: true)]
    }

    static func params(_ json: [String: Any]) -> [String: ParamValue] {
        ["latent": .int((json["latent"] as! NSNumber).int64Value), "groups": .string(json["groups"] as! String),
         "alpha": .float((json["alpha"] as! NSNumber).doubleValue), "aux2_values": .string(json["aux2_values"] as! String)]
    }

    @Test func matchesPyTorch() throws {
        let fixture = try Reference.reference("cca")
        for case let entry as [String: Any] in fixture["cases"] as! [Any] {
            let label = "\(entry["params"]!)"
            let store = ParameterStore()
            let node = try Self.node(Self.params(entry["params"] as! [String: Any]), fixture: fixture, store: store)
            #expect(!node.alternates)
            let tensors = try Self.tensors(fixture)
            let term = try node.loss(tensors, context: Reference.context)
            try term.backward()
            let (value, expected) = (Double(try term.scalarValue), (entry["value"] as! NSNumber).doubleValue)
            #expect(Swift.abs(value - expected) < 1e-5 * max(1, Swift.abs(expected)), "\(label): \(value) vs \(expected)")
            let grads = entry["grads"] as! [String: Any]
            for (name, key) in [("y", "y"), ("y_hat", "y_hat"), ("params", "params"), ("y.likelihoods", "main")] {
                let reference = Reference.floats(grads[key])
                let got = tensors[name]!.grad?.values ?? [Float](repeating: 0, count: reference.count)
                let error = Reference.relativeError(got, reference)
                #expect(error < 3e-5, "\(label): gradient of \(name), relative error \(error)")
            }
            for (key, gradient) in entry["grad_weights"] as! [String: Any] {
                let parameter = try #require(store.parameter("regularizer.cca/" + key))
                let error = Reference.relativeError(try #require(parameter.grad, "\(key) got no gradient").values, Reference.floats(gradient))
                #expect(error < 3e-5, "\(label): gradient of \(key), relative error \(error)")
            }
        }
    }

    @Test func gradientsMatchFiniteDifferences() throws {
        let fixture = try Reference.reference("cca")
        let store = ParameterStore()
        let node = try Self.node(["latent": .int(8), "groups": .string("1,1,2,4")], fixture: fixture, store: store)
        let tensors = try Self.tensors(fixture)
        try RegularizerGradientTests.checkGradients(tensors, probes: ["y_hat", "params", "y.likelihoods"], step: 1e-2, tolerance: 2e-2) {
            try node.loss(tensors, context: Reference.context)
        }
        store.zeroGradients()
        let weights = Dictionary(uniqueKeysWithValues: store.all.filter { $0.name.hasSuffix(".8.weight") || $0.name.contains("matrices") }
            .map { ($0.name, $0.tensor) })
        try RegularizerGradientTests.checkGradients(weights, probes: weights.keys.sorted(), step: 1e-2, tolerance: 2e-2) {
            try node.loss(tensors, context: Reference.context)
        }
    }

    /// The loss is a sum of per-slice terms; the mixed second difference in
    /// slices a and b is zero exactly when no slice's distribution depends on
    /// both a's and b's decoded values (a slice's own values count).
    @Test func sliceSeesOnlySlicesTwoBefore() throws {
        let fixture = try Reference.reference("cca")
        let store = ParameterStore()
        let node = try Self.node(["latent": .int(8), "groups": .string("1,1,2,4")], fixture: fixture, store: store)
        // Stronger first layers, so the support's effect stands far above float rounding.
        for entry in store.all where entry.name.hasSuffix(".0.weight") {
            entry.tensor.withUnsafeMutableBufferPointer { buffer in for i in buffer.indices { buffer[i] *= 4 } }
        }
        let base = try Self.tensors(fixture)
        let offsets = [0, 1, 2, 4, 8]
        func loss(_ shifts: [Int: Float]) throws -> Double {
            var values = base["y_hat"]!.values
            let plane = 12, perBatch = 8 * plane
            for (slice, shift) in shifts {
                for b in 0..<2 { for c in offsets[slice]..<offsets[slice + 1] { for p in 0..<plane { values[b * perBatch + c * plane + p] += shift } } }
            }
            var tensors = base
            tensors["y_hat"] = try Tensor(shape: base["y_hat"]!.shape, values: values)
            return Double(try GradientMode.withoutGradients { try node.loss(tensors, context: Reference.context).scalarValue })
        }
        func mixed(_ a: Int, _ b: Int) throws -> Double {
            try loss([a: 1.5, b: 1.5]) - loss([a: 1.5]) - loss([b: 1.5]) + loss([:])
        }
        let scale = Swift.abs(try loss([:]))
        // Slice 1 sees only the hyperprior, slice 2 slice 0, slice 3 slices 0 and 1.
        for (slice, previous) in [(2, 1), (3, 2)] {
            let independent = try mixed(slice, previous)
            #expect(Swift.abs(independent) < 1e-6 * max(1, scale), "slice \(slice) depends on slice \(previous): \(independent)")
        }
        for (slice, earlier) in [(2, 0), (3, 1), (3, 0)] {
            let dependent = try mixed(slice, earlier)
            print("slice \(slice), slice \(earlier): mixed difference \(dependent)")
            #expect(Swift.abs(dependent) > 2e-5, "slice \(slice) ignores slice \(earlier): \(dependent)")
        }
    }
}
