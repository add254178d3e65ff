import Foundation
import LICTensor
import Testing
@testable import LICCore

/// A CompressAI mbt2018-mean converted by tools/compressai_to_lic.py into a
/// model directory runs through LIC's plugins: the forward pass reproduces
/// CompressAI's (fixture made once with CompressAI 1.2.8), and the model codes
/// real files with LIC's entropy coder.
@Suite struct CompressAIImportTests {
    static let fixture = TestSupport.packageRoot + "/Tests/LICModelsTests/Fixtures/mbt2018-mean-small"

    @Test func pluginPipelineReproducesCompressAIsForwardPass() throws {
        let model = try LearnedModel.load(directory: Self.fixture)
        let io = try SafeTensorsFile.read(path: Self.fixture + "/io.safetensors")
        let x = try Tensor(shape: io.tensors["x"]!.shape, values: io.tensors["x"]!.values)
        let out = try GradientMode.withoutGradients { try model.forward(x, training: false, seed: 0) }
        func meanAbsoluteError(_ a: Tensor, _ name: String) throws -> Double {
            let b = try #require(io.tensors[name])
            #expect(a.shape == b.shape, "\(name)")
            return zip(a.values, b.values).reduce(0.0) { $0 + Double(Swift.abs($1.0 - $1.1)) } / Double(b.values.count)
        }
        #expect(try meanAbsoluteError(out.xHat, "x_hat") < 1e-4)
        #expect(try meanAbsoluteError(out.likelihoods[0], "y_likelihoods") < 1e-4)
        #expect(try meanAbsoluteError(out.likelihoods[1], "z_likelihoods") < 1e-4)
    }

    @Test func theImportedModelCodesRealFiles() throws {
        let model = try LearnedModel.load(directory: Self.fixture)
        let image = try PNGFile.read(path: TestSupport.packageRoot + "/examples/images/kodim23.png")
        let encoded = try model.encode(image)
        #expect(try model.decode(encoded.bytes, source: "kodim23.lic") == encoded.reconstruction)
    }
}
