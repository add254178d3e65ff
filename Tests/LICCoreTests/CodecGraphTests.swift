import Foundation
import LICTensor
import Testing
@testable import LICCore

/// The codec graph: stages ordered from the tensors they read and write,
/// descriptors that wire new topologies without host changes, and wiring
/// errors that name the stage.
@Suite struct CodecGraphTests {
    static func codec(_ text: String) throws -> Codec {
        try Codec(descriptor: PipelineDescriptor.parse(text, source: "g.toml", baseDirectory: nil))
    }

    /// A two-level hyperprior written only in the descriptor: z gets a
    /// Gaussian model conditioned on a second hyperprior w.
    static let twoLevels = """
        format = 1
        name = "two-level"
        [analysis]
        plugin = "lic.transform.gdn"
        channels = 8
        latent = 12
        [hyper.analysis]
        plugin = "lic.transform.hyper"
        channels = 8
        latent = 12
        [hyper2.analysis]
        plugin = "lic.transform.hyper"
        inputs = ["z"]
        outputs = ["w"]
        channels = 6
        latent = 8
        [hyper2.entropy]
        plugin = "lic.entropy.factorized"
        inputs = ["w"]
        outputs = ["w_hat"]
        channels = 6
        [hyper2.synthesis]
        plugin = "lic.transform.hyper"
        inputs = ["w_hat"]
        outputs = ["z_params"]
        channels = 6
        latent = 8
        inverse = true
        [hyper.entropy]
        plugin = "lic.entropy.gaussian"
        inputs = ["z", "z_params"]
        [hyper.synthesis]
        plugin = "lic.transform.hyper"
        channels = 8
        latent = 12
        inverse = true
        [entropy]
        plugin = "lic.entropy.gaussian"
        [synthesis]
        plugin = "lic.transform.gdn"
        channels = 8
        latent = 12
        inverse = true
        """

    @Test func aSecondHyperpriorLevelNeedsOnlyTheDescriptor() throws {
        let codec = try Self.codec(Self.twoLevels)
        #expect(codec.stages.map(\.name) == ["analysis", "hyper.analysis", "hyper2.analysis", "hyper2.entropy", "hyper2.synthesis",
                                             "hyper.entropy", "hyper.synthesis", "entropy", "synthesis"])
        #expect(try codec.alignment() == 256)
        // Exact arithmetic (same bits on any machine) for the stages the entropy parameters come from, and only those.
        #expect(Set(codec.entropyParameterStages.map { codec.stages[$0].name }) == ["hyper2.synthesis", "hyper.synthesis"])
        let image = try TestSupport.syntheticImage(width: 50, height: 30, channels: 3)
        let encoded = try codec.encode(image)
        #expect(try Container(parsing: encoded.bytes).streams.count == 3)
        #expect(try codec.decode(encoded.bytes, source: "two.lic") == encoded.reconstruction)
        // Training sees every level: three likelihood tensors, the distributions published by name.
        let x = try Tensor.uniformNoise(shape: [1, 3, 256, 256], seed: 2, low: 0, high: 1)
        let pass = try codec.forward(x, context: CallContext(mode: .train, seed: 1))
        #expect(pass.likelihoods.count == 3)
        #expect(["y.means", "y.scales", "z.means", "z.scales", "w.likelihoods"].allSatisfy { pass.tensors[$0] != nil })
        // The canonical text keeps the non-default wiring and drops the defaults.
        #expect(codec.canonicalText.contains("[hyper.entropy]\nplugin = \"lic.entropy.gaussian\"\ninputs = [\"z\", \"z_params\"]\n"))
        #expect(!codec.canonicalText.contains("[analysis]\nplugin = \"lic.transform.gdn\"\ninputs"))
    }

    @Test func theOrderDoesNotDependOnHowTheFileIsWritten() throws {
        let sections = Self.twoLevels.components(separatedBy: "\n[")
        let reordered = ([sections[0]] + sections.dropFirst().reversed().map { "[" + $0 }).joined(separator: "\n")
        let a = try Self.codec(Self.twoLevels), b = try Self.codec(reordered)
        #expect(a.stages.map(\.name) == b.stages.map(\.name))
        #expect(a.canonicalText == b.canonicalText)
    }

    static let classical = DefaultPipeline.text

    @Test func wiringErrorsNameTheStage() throws {
        func error(_ text: String) -> String {
            (#expect(throws: LICError.self) { try Self.codec(text) })?.message ?? ""
        }
        let missing = Self.classical.replacingOccurrences(of: "[synthesis]\n", with: "[synthesis]\ninputs = [\"q\"]\n")
        #expect(error(missing).contains("[synthesis]: reads tensor 'q', which no stage writes"))
        let twice = Self.classical.replacingOccurrences(of: "[synthesis]\n", with: "[synthesis]\noutputs = [\"y\"]\n")
        #expect(error(twice).contains("tensor 'y' is already written by"))
        let cycle = Self.classical
            .replacingOccurrences(of: "[analysis]\n", with: "[analysis]\ninputs = [\"x_hat\"]\n")
        #expect(error(cycle).contains("in a cycle"))
        let image = Self.classical.replacingOccurrences(of: "[synthesis]\n", with: "[synthesis]\noutputs = [\"x\"]\n")
        #expect(error(image).contains("'x' is the input image"))
        let unnamed = Self.classical + "\n[extra]\nplugin = \"lic.transform.dct\"\n"
        #expect(error(unnamed).contains("[extra]: not a known section"))
    }
}
