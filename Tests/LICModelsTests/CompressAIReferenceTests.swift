import Foundation
import LICModels
import LICTensor
import Testing

/// LIC reproduces CompressAI's mbt2018-mean forward pass from converted
/// weights (fixture made once by tools/make_compressai_fixture.py with
/// CompressAI 1.2.8: N=16, M=24, perturbed weights, a 64x64 input).
@Suite struct CompressAIReferenceTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/mbt2018-mean-small").path

    static func meanAbsoluteError(_ a: Tensor, _ b: SafeTensorsFile.Tensor) -> Double {
        #expect(a.shape == b.shape)
        return zip(a.values, b.values).reduce(0.0) { $0 + Double(Swift.abs($1.0 - $1.1)) } / Double(max(b.values.count, 1))
    }

    @Test func forwardPassMatchesCompressAI() throws {
        let model = try MeanScaleHyperprior(n: 16, m: 24)
        let metadata = try model.store.load(from: Self.fixture + "/weights.safetensors")
        #expect(metadata["arch"] == "mbt2018-mean")
        let io = try SafeTensorsFile.read(path: Self.fixture + "/io.safetensors")
        let input = try #require(io.tensors["x"])
        let x = try Tensor(shape: input.shape, values: input.values)
        let out = try GradientMode.withoutGradients { try model.forward(x, quantization: .rounding) }
        let errors = [
            ("x_hat", Self.meanAbsoluteError(out.xHat, try #require(io.tensors["x_hat"]))),
            ("y_likelihoods", Self.meanAbsoluteError(out.yLikelihoods, try #require(io.tensors["y_likelihoods"]))),
            ("z_likelihoods", Self.meanAbsoluteError(out.zLikelihoods, try #require(io.tensors["z_likelihoods"]))),
        ]
        for (name, error) in errors {
            print("CompressAI reference: \(name) mean absolute error \(error)")
            #expect(error < 1e-4, "\(name): mean absolute error \(error)")
        }
    }

    @Test func aWrongShapeInTheCheckpointIsNamed() throws {
        let model = try MeanScaleHyperprior(n: 16, m: 32)
        #expect {
            try model.store.load(from: Self.fixture + "/weights.safetensors")
        } throws: { error in
            "\(error)".contains("g_a.6/weight") || "\(error)".contains("shape")
        }
    }
}
