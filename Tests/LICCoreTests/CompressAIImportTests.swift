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
    static let architectures = ["bmshj2018-factorized", "bmshj2018-hyperprior", "mbt2018-mean", "mbt2018", "cheng2020-anchor-checkerboard",
                                 "elic2022-official"]

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

    /// ELIC's four transforms (lic.transform.elic) with weights converted from
    /// CompressAI's Elic2022Official (N=16, M=32) give its outputs: y = g_a(x),
    /// x_hat = g_s(y), z = h_a(y), params = h_s(z), within 1e-4.
    @Test func elicTransformsReproduceCompressAIs() throws {
        let directory = Self.fixtures + "elic2022-transforms-small"
        let text = try String(contentsOfFile: TestSupport.packageRoot + "/examples/pipelines/elic2022.toml", encoding: .utf8)
            .replacingOccurrences(of: "channels = 192", with: "channels = 16").replacingOccurrences(of: "latent = 320", with: "latent = 32")
            .replacingOccurrences(of: "hyper_output = 640", with: "hyper_output = 0").replacingOccurrences(of: "groups = \"elic\"", with: "groups = \"8,8,16\"")
        let codec = try Codec(descriptor: PipelineDescriptor.parse(text, source: "elic2022.toml", baseDirectory: nil))
        let weights = try SafeTensorsFile.read(path: directory + "/weights.safetensors")
        for (name, tensor) in weights.tensors {
            let parameter = try #require(codec.store.parameter(name), "no parameter \(name)")
            #expect(parameter.shape == tensor.shape, "\(name)")
            parameter.withUnsafeMutableBufferPointer { for i in $0.indices { $0[i] = tensor.values[i] } }
        }
        codec.weightsChanged()
        let io = try SafeTensorsFile.read(path: directory + "/io.safetensors")
        func tensor(_ name: String) throws -> Tensor { try Tensor(shape: io.tensors[name]!.shape, values: io.tensors[name]!.values) }
        let transforms = Dictionary(uniqueKeysWithValues: zip(codec.stages, codec.nodes).compactMap { stage, node -> (String, TransformNode)? in
            guard case .transform(let transform) = node else { return nil }
            return (stage.name, transform)
        })
        for (stage, input, output) in [("analysis", "x", "y"), ("synthesis", "y", "x_hat"), ("hyper.analysis", "y", "z"),
                                       ("hyper.synthesis", "z", "params")] {
            let result = try GradientMode.withoutGradients {
                try #require(transforms[stage]).apply([try tensor(input)], context: CallContext(mode: .eval))
            }
            let expected = try tensor(output)
            #expect(result.shape == expected.shape, "\(stage)")
            let error = zip(result.values, expected.values).reduce(0.0) { $0 + Double(Swift.abs($1.0 - $1.1)) } / Double(expected.values.count)
            #expect(error < 1e-4, "\(stage): mean absolute error \(error)")
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
