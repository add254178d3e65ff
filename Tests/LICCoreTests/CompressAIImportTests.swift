import Foundation
import LICTensor
import Testing
@testable import LICCore

/// CompressAI models converted by tools/compressai_to_lic.py into model
/// directories run through LIC's plugins: the forward pass reproduces
/// CompressAI's (fixtures made once with CompressAI 1.2.8 by
/// tools/make_compressai_fixture.py), and the models code real files with
/// LIC's entropy coder.
@Suite struct CompressAIImportTests {
    static let fixtures = TestSupport.packageRoot + "/Tests/LICCoreTests/Fixtures/compressai/"
    static let architectures = ["bmshj2018-factorized", "bmshj2018-hyperprior", "mbt2018-mean", "mbt2018", "cheng2020-anchor-checkerboard"]

    @Test(arguments: architectures)
    func pluginPipelineReproducesCompressAIsForwardPass(_ arch: String) throws {
        let directory = Self.fixtures + arch + "-small"
        let model = try Codec.load(directory: directory)
        let io = try SafeTensorsFile.read(path: directory + "/io.safetensors")
        let x = try Tensor(shape: io.tensors["x"]!.shape, values: io.tensors["x"]!.values)
        let out = try GradientMode.withoutGradients { try model.forward(x, context: CallContext(mode: .eval)) }
        func meanAbsoluteError(_ a: Tensor, _ name: String) throws -> Double {
            let b = try #require(io.tensors[name], "\(arch): no \(name) in the fixture")
            #expect(a.shape == b.shape, "\(arch) \(name)")
            return zip(a.values, b.values).reduce(0.0) { $0 + Double(Swift.abs($1.0 - $1.1)) } / Double(b.values.count)
        }
        let names = ["x_hat", "y_likelihoods"] + (out.likelihoods.count > 1 ? ["z_likelihoods"] : [])
        let tensors = try names.map { name in try #require(out.tensors[name.replacingOccurrences(of: "_likelihoods", with: ".likelihoods")]) }
        for (tensor, name) in zip(tensors, names) {
            let error = try meanAbsoluteError(tensor, name)
            #expect(error < 1e-4, "\(arch) \(name): mean absolute error \(error)")
        }
    }

    @Test(arguments: architectures)
    func theImportedModelCodesRealFiles(_ arch: String) throws {
        let model = try Codec.load(directory: Self.fixtures + arch + "-small")
        let image = try TestSupport.syntheticImage(width: 150, height: 97, channels: 3)
        let encoded = try model.encode(image)
        #expect(try model.decode(encoded.bytes, source: "\(arch).lic") == encoded.reconstruction)
    }
}
