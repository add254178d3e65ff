import Foundation
import LICModels
import LICTensor
import Testing
@testable import LICCore

/// The learned plugin computes through the op table; its parameters live in
/// the host's store, so the host's gradients reach them and CompressAI
/// weights load into them.
@Suite struct LearnedPluginTests {
    static let fixture = TestSupport.packageRoot + "/Tests/LICModelsTests/Fixtures/mbt2018-mean-small"

    static func registry() throws -> PluginRegistry {
        let registry = PluginRegistry()
        try registry.load(PluginSearchPath(locations: PluginSearchPath.builtinDirectories().map { .directory($0, .builtinPlugins) }))
        return registry
    }

    @Test func analysisPluginMatchesTheReferenceWithCompressAIWeights() throws {
        let store = ParameterStore()
        let analysis = try DifferentiableTransformInstance("lic.transform.gdn", params: ["channels": .int(16), "latent": .int(24)],
                                                           stage: "analysis", store: store, registry: Self.registry())
        #expect(store.all.map(\.name).contains("analysis/1.gamma"))
        try store.load(from: Self.fixture + "/weights.safetensors", strict: false)
        let reference = try MeanScaleHyperprior(n: 16, m: 24)
        try reference.store.load(from: Self.fixture + "/weights.safetensors")
        let io = try SafeTensorsFile.read(path: Self.fixture + "/io.safetensors")
        let x = try Tensor(shape: io.tensors["x"]!.shape, values: io.tensors["x"]!.values)
        let (plugin, expected) = try GradientMode.withoutGradients { (try analysis.apply(x), try reference.analysis(x)) }
        #expect(plugin.shape == [1, 24, 4, 4])
        #expect(plugin.values == expected.values)
    }

    @Test func gradientsCrossThePluginBoundary() throws {
        let store = ParameterStore()
        let synthesis = try DifferentiableTransformInstance("lic.transform.gdn",
                                                            params: ["channels": .int(4), "latent": .int(6), "inverse": .bool(true)],
                                                            stage: "g_s", store: store, registry: Self.registry())
        let y = try Tensor.uniformNoise(shape: [1, 6, 2, 2], seed: 5)
        let target = try Tensor.uniformNoise(shape: [1, 3, 32, 32], seed: 6, low: 0, high: 1)
        func loss() throws -> Tensor { try (synthesis.apply(y) - target).squared().mean() }
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

    @Test func codecPipelinesRefuseDifferentiableTransforms() throws {
        let text = DefaultPipeline.text.replacingOccurrences(of: "plugin = \"lic.transform.dct\"\nblock = 8\ncolor = \"ycbcr\"\n\n[quantizer]",
                                                             with: "plugin = \"lic.transform.gdn\"\n\n[quantizer]")
        #expect(throws: LICError.self) { try Pipeline(descriptor: PipelineDescriptor.parse(text, source: "p.toml", baseDirectory: nil)) }
    }

    @Test func parametersCannotBeRegisteredTwice() throws {
        let store = ParameterStore()
        let registry = try Self.registry()
        _ = try DifferentiableTransformInstance("lic.transform.gdn", stage: "g_a", store: store, registry: registry)
        #expect(throws: LICError.self) { _ = try DifferentiableTransformInstance("lic.transform.gdn", stage: "g_a", store: store, registry: registry) }
    }
}
