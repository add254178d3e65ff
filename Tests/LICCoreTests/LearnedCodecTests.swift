import Foundation
import LICTensor
import Testing
@testable import LICCore

/// Learned pipelines from the shipped descriptors, shrunk to test sizes:
/// forward, training steps, coding real bytes, model directories.
@Suite struct LearnedCodecTests {
    /// An example descriptor with N and M replaced by small sizes.
    static func tiny(_ name: String, n: Int = 8, m: Int = 12) throws -> Codec {
        try Codec(descriptor: PipelineDescriptor.parse(try tinyText(name, n: n, m: m), source: "\(name).toml", baseDirectory: nil))
    }

    /// The text of examples/pipelines/NAME.toml with N = `n` and M = `m` (latent and gain channels;
    /// ELIC's groups, which need M > 128, become three uneven ones).
    static func tinyText(_ name: String, n: Int, m: Int) throws -> String {
        try String(contentsOfFile: TestSupport.packageRoot + "/examples/pipelines/\(name).toml", encoding: .utf8)
            .replacingOccurrences(of: "channels = 128", with: "channels = \(n)")
            .replacingOccurrences(of: "latent = 192", with: "latent = \(m)")
            .replacingOccurrences(of: "channels = 192", with: "channels = \(m)")
            .replacingOccurrences(of: "groups = \"elic\"", with: "groups = \"\(m / 6),\(m / 6),\(m - 2 * (m / 6))\"")
            .replacingOccurrences(of: "groups = \"16,16,32,64,192\"", with: "groups = \"\(m / 6),\(m / 6),\(m - 2 * (m / 6))\"")
            .replacingOccurrences(of: "hyper_channels = 384", with: "hyper_channels = \(2 * m)")
            .replacingOccurrences(of: "latent = 320", with: "latent = \(m)")
            .replacingOccurrences(of: "hyper_output = 640", with: "hyper_output = \(2 * m)")
    }

    @Test(arguments: ["bmshj2018-factorized", "bmshj2018-hyperprior", "mbt2018-mean", "mbt2018-checkerboard", "channelwise-power", "mbt2018",
                      "cheng2020-anchor-checkerboard", "channelwise-elic", "elic2022", "elic2022-official"])
    func codesAndDecodesExactly(_ name: String) throws {
        let model = try Self.tiny(name)
        let image = try TestSupport.syntheticImage(width: 70, height: 37, channels: 3)
        let encoded = try model.encode(image)
        let decoded = try model.decode(encoded.bytes, source: "\(name).lic")
        #expect(decoded == encoded.reconstruction)
        #expect(decoded.width == 70 && decoded.height == 37)
        // A learned file is its coded streams plus at most 64 bytes: the identity, not the descriptor.
        let container = try Container(parsing: encoded.bytes)
        #expect(container.streams.allSatisfy { $0.tag != Container.pipelineTag })
        let overhead = encoded.bytes.count - container.streams.reduce(0) { $0 + $1.bytes.count }
        #expect(overhead <= 64, "\(name): \(overhead) bytes of container")
        // Every truncation point in the coded streams is refused, never a crash.
        for length in stride(from: 0, to: encoded.bytes.count, by: max(1, encoded.bytes.count / 64)) {
            #expect(throws: (any Error).self) { try model.decode(Array(encoded.bytes[0..<length]), source: "t") }
        }
    }

    /// The file alone (lic_encode's path): the same bytes as encode, and the
    /// synthesis - needed by no later stage and not kept - is not run.
    @Test(arguments: ["mbt2018-mean", "mbt2018-mean-vr", "mbt2018"])
    func encodingTheFileAloneSkipsTheSynthesis(_ name: String) throws {
        let model = try Self.tiny(name)
        let image = try TestSupport.syntheticImage(width: 70, height: 37, channels: 3)
        #expect(try model.encodeBytes(image) == model.encode(image).bytes)
        // Skipped: the synthesis, and for the variable-rate model the inverse gain that only feeds it.
        let skipped = Set(model.stages.indices).subtracting(model.stagesToRun(keeping: []))
        #expect(Set(skipped.map { model.stages[$0].name }) == (name == "mbt2018-mean-vr" ? ["synthesis", "inverse.gain"] : ["synthesis"]))
        #expect(model.stagesToRun(keeping: ["x_hat"]) == Set(model.stages.indices))
    }

    @Test(arguments: ["mbt2018-mean", "mbt2018-checkerboard", "channelwise-power", "mbt2018", "cheng2020-anchor-checkerboard",
                      "channelwise-elic", "elic2022", "elic2022-official"])
    func trainingStepsLowerTheLoss(_ name: String) throws {
        let model = try Self.tiny(name)
        let x = try Tensor.uniformNoise(shape: [2, 3, 64, 64], seed: 3, low: 0, high: 1)
        let adam = Adam(learningRate: 1e-3), aux = Adam(learningRate: 1e-3)
        func loss(step: Int) throws -> Tensor {
            let out = try model.forward(x, context: CallContext(mode: .train, seed: UInt64(step)))
            let bits = try out.likelihoods.map { try $0.log().sum() }.reduce(Tensor(scalar: 0), +)
            return try (out.xHat - x).squared().mean() * (0.01 * 255 * 255) + bits * (-1 / (Float(M_LN2) * 2 * 64 * 64))
        }
        var losses: [Float] = []
        for step in 0..<12 {
            model.store.zeroGradients()
            let value = try loss(step: step)
            losses.append(try value.scalarValue)
            try value.backward()
            try model.store.step(.main, optimizer: adam, clipNorm: 1)
            if let auxiliary = try model.auxiliaryLoss() {
                try auxiliary.backward()
                try model.store.step(.auxiliary, optimizer: aux)
            }
        }
        #expect(losses.last! < losses.first!, "\(losses)")
        #expect(model.store.all.contains { $0.name == "hyper.entropy/quantiles" && $0.group == .auxiliary })
    }

    @Test func straightThroughTrainingQuantizationRoundsWithGradients() throws {
        let text = try String(contentsOfFile: TestSupport.packageRoot + "/examples/pipelines/mbt2018-mean.toml", encoding: .utf8)
            .replacingOccurrences(of: "channels = 128", with: "channels = 8")
            .replacingOccurrences(of: "latent = 192", with: "latent = 12")
            + "\n[quantizer]\nplugin = \"lic.quantizer.uniform\"\nsurrogate = \"ste\"\n"
        let model = try Codec(descriptor: PipelineDescriptor.parse(text, source: "ste.toml", baseDirectory: nil))
        let x = try Tensor.uniformNoise(shape: [1, 3, 64, 64], seed: 9, low: 0, high: 1)
        let training = try model.forward(x, context: CallContext(mode: .train, seed: 1))
        let evaluation = try GradientMode.withoutGradients { try model.forward(x, context: CallContext(mode: .eval)) }
        #expect(training.xHat.values == evaluation.xHat.values)
        try (training.xHat - x).squared().mean().backward()
        #expect(model.store.parameter("analysis/0.weight")?.grad != nil)
    }

    /// The mixed surrogate (lic_surrogate_use): the synthesis and the contexts see straight-through rounding, so
    /// training's x_hat is evaluation's; the likelihoods see noise - for a hyperprior exactly the noise quantizer's.
    @Test(arguments: ["mbt2018-mean", "mbt2018-checkerboard", "channelwise-power", "mbt2018"])
    func mixedSurrogateRoundsForTheSynthesisAndAddsNoiseForTheRate(_ name: String) throws {
        func model(_ surrogate: String) throws -> Codec {
            let text = try Self.tinyText(name, n: 8, m: 12) + "\n[quantizer]\nplugin = \"lic.quantizer.uniform\"\nsurrogate = \"\(surrogate)\"\n"
            return try Codec(descriptor: PipelineDescriptor.parse(text, source: "\(name)-\(surrogate).toml", baseDirectory: nil))
        }
        let (mixed, noise) = (try model("mixed"), try model("noise"))
        let x = try Tensor.uniformNoise(shape: [1, 3, 64, 64], seed: 9, low: 0, high: 1)
        let training = try mixed.forward(x, context: CallContext(mode: .train, seed: 1))
        let evaluation = try GradientMode.withoutGradients { try mixed.forward(x, context: CallContext(mode: .eval)) }
        let noisy = try GradientMode.withoutGradients { try noise.forward(x, context: CallContext(mode: .train, seed: 1)) }
        #expect(training.xHat.values == evaluation.xHat.values)
        #expect(training.xHat.values != noisy.xHat.values)
        // Every latent's likelihoods come from noise (not evaluation's rounding).
        for (trained, rounded) in zip(training.likelihoods, evaluation.likelihoods) {
            #expect(trained.values != rounded.values)
        }
        // The hyper latent's factorized prior has no condition: its likelihoods are the noise quantizer's (the main
        // latent's differ: its hyper synthesis saw the rounded hyper latent).
        #expect(training.likelihoods[0].values == noisy.likelihoods[0].values)
        // Straight-through: the distortion's gradient reaches the analysis.
        try (training.xHat - x).squared().mean().backward()
        #expect(mixed.store.parameter("analysis/0.weight")?.grad != nil)
    }

    @Test func modelDirectoriesRoundTripAndIdentifyTheModel() throws {
        let model = try Self.tiny("bmshj2018-hyperprior")
        let directory = try TestSupport.temporaryDirectory()
        try model.save(to: directory)
        let loaded = try Codec.load(directory: directory)
        #expect(loaded.modelID() == model.modelID())
        let image = try TestSupport.syntheticImage(width: 33, height: 20, channels: 3)
        let bytes = try model.encode(image).bytes
        #expect(try loaded.decode(bytes, source: "a.lic") == model.decode(bytes, source: "a.lic"))
        // Other weights: another model identity, refused.
        let other = try Self.tiny("bmshj2018-hyperprior")
        other.store.all[0].tensor.withUnsafeMutableBufferPointer { $0[0] += 0.5 }
        other.weightsChanged()
        #expect(throws: LICError.self) { try other.decode(bytes, source: "a.lic") }
    }

    @Test func descriptorErrorsForLearnedPipelines() throws {
        let incomplete = "format = 1\n[analysis]\nplugin = \"lic.transform.gdn\"\n[entropy]\nplugin = \"lic.entropy.factorized\"\n"
            + "[synthesis]\nplugin = \"lic.transform.gdn\"\ninverse = true\n[hyper.analysis]\nplugin = \"lic.transform.hyper\"\n"
        let unread = #expect(throws: LICError.self) { try Codec(descriptor: PipelineDescriptor.parse(incomplete, source: "p.toml", baseDirectory: nil)) }
        #expect(unread?.message.contains("[hyper.analysis]: writes tensor 'z', which no stage reads") == true, "\(String(describing: unread))")
        let wrongKind = try String(contentsOfFile: TestSupport.packageRoot + "/examples/pipelines/bmshj2018-factorized.toml", encoding: .utf8)
            .replacingOccurrences(of: "plugin = \"lic.entropy.factorized\"", with: "plugin = \"lic.transform.gdn\"")
        #expect(throws: LICError.self) { try Codec(descriptor: PipelineDescriptor.parse(wrongKind, source: "p.toml", baseDirectory: nil)) }
    }
}
