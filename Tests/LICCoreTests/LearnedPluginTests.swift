import Foundation
import LICTensor
import Testing
@testable import LICCore

/// The learned plugin computes through the op table; its parameters live in
/// the host's store, so the host's gradients reach them; ABI /1 and /3
/// stages run through one graph.
@Suite struct LearnedPluginTests {
    static func registry() throws -> PluginRegistry {
        let registry = PluginRegistry()
        try registry.load(PluginSearchPath(locations: PluginSearchPath.builtinDirectories().map { .directory($0, .builtinPlugins) }))
        return registry
    }

    @Test func gradientsCrossThePluginBoundary() throws {
        let store = ParameterStore()
        let synthesis = try TransformNode.make("lic.transform.gdn", params: ["channels": .int(4), "latent": .int(6), "inverse": .bool(true)],
                                               prefix: "g_s", store: store, registry: Self.registry())
        let y = try Tensor.uniformNoise(shape: [1, 6, 2, 2], seed: 5)
        let target = try Tensor.uniformNoise(shape: [1, 3, 32, 32], seed: 6, low: 0, high: 1)
        func loss() throws -> Tensor { try (synthesis.apply([y], context: CallContext(mode: .train)) - target).squared().mean() }
        try loss().backward()
        for entry in store.all { #expect(entry.tensor.grad != nil, "\(entry.name) got no gradient") }
        // The gradient the host computed through the plugin's ops matches a finite difference.
        let weight = try #require(store.parameter("g_s/2.weight"))
        let analytic = try #require(weight.grad).values[7]
        let original = weight.values[7]
        func lossAt(_ value: Float) throws -> Float {
            weight.withUnsafeMutableBufferPointer { $0[7] = value }
            return try GradientMode.withoutGradients { try loss().scalarValue }
        }
        let numeric = (try lossAt(original + 1e-2) - lossAt(original - 1e-2)) / 2e-2
        weight.withUnsafeMutableBufferPointer { $0[7] = original }
        #expect(Swift.abs(numeric - analytic) <= 2e-2 * max(1e-3, Swift.abs(numeric)) + 1e-5, "numeric \(numeric), analytic \(analytic)")
    }

    /// A classical (lic.transform/1 and lic.entropy-model/1) analysis and
    /// entropy model with a learned (lic.transform/3) synthesis: one graph,
    /// one executor; the file decodes to the encoder's reconstruction.
    @Test func classicalAndLearnedStagesMixInOneGraph() throws {
        let text = """
            format = 1
            name = "mixed"
            [analysis]
            plugin = "lic.transform.dct"
            block = 16
            color = "none"
            [quantizer]
            plugin = "lic.quantizer.uniform"
            step = 0.05
            [entropy]
            plugin = "lic.entropy.laplace"
            [synthesis]
            plugin = "lic.transform.gdn"
            inverse = true
            channels = 8
            latent = 768
            """
        let codec = try Codec(descriptor: PipelineDescriptor.parse(text, source: "mixed.toml", baseDirectory: nil), registry: Self.registry())
        #expect(codec.stages.map(\.name) == ["analysis", "entropy", "synthesis"])
        #expect(codec.hasWeights)
        let image = try TestSupport.syntheticImage(width: 40, height: 20, channels: 3)
        let encoded = try codec.encode(image)
        #expect(try codec.decode(encoded.bytes, source: "mixed.lic") == encoded.reconstruction)
        // A learned stage means weights: the file carries no descriptor, the model directory does.
        #expect(try Container(parsing: encoded.bytes).streams.allSatisfy { $0.tag != Container.pipelineTag })
    }

    /// A lic.quantizer/1 component (the C dead-zone example) serves a learned
    /// /3 entropy model through the host's adapter: coding works, training
    /// says why it cannot (a /1 quantizer has no training surrogate).
    @Test func aQuantizerOfABI1ServesLearnedEntropyModels() throws {
        let directory = try TestSupport.temporaryDirectory()
        try TestSupport.compileC([TestSupport.packageRoot + "/examples/c-plugin/deadzone_quantizer.c"], output: directory + "/libdz.so", shared: true)
        let text = try String(contentsOfFile: TestSupport.packageRoot + "/examples/pipelines/mbt2018-mean.toml", encoding: .utf8)
            .replacingOccurrences(of: "channels = 128", with: "channels = 8")
            .replacingOccurrences(of: "latent = 192", with: "latent = 12")
            .replacingOccurrences(of: "name = \"mbt2018-mean\"", with: "name = \"dz\"\nplugins = [\"libdz.so\"]")
            + "\n[quantizer]\nplugin = \"org.example.quantizer.deadzone\"\nstep = 1.0\n"
        // A registry of its own: other tests load the same component id from other copies into the shared one.
        let codec = try Codec(descriptor: PipelineDescriptor.parse(text, source: "dz.toml", baseDirectory: directory), registry: Self.registry())
        let image = try TestSupport.syntheticImage(width: 40, height: 24, channels: 3)
        let encoded = try codec.encode(image)
        #expect(try codec.decode(encoded.bytes, source: "dz.lic") == encoded.reconstruction)
        let x = try Tensor.uniformNoise(shape: [1, 3, 64, 64], seed: 4, low: 0, high: 1)
        let error = #expect(throws: LICError.self) { try codec.forward(x, context: CallContext(mode: .train)) }
        #expect(error?.message.contains("has no training surrogate") == true, "\(String(describing: error))")
    }

    @Test func parametersCannotBeRegisteredTwice() throws {
        let store = ParameterStore()
        let registry = try Self.registry()
        _ = try TransformNode.make("lic.transform.gdn", prefix: "g_a", store: store, registry: registry)
        #expect(throws: LICError.self) { _ = try TransformNode.make("lic.transform.gdn", prefix: "g_a", store: store, registry: registry) }
    }
}
