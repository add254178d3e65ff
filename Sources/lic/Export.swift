import ArgumentParser
import Foundation
import LICCore
import LICTensor

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a trained model directory for shipping.",
        discussion: """
        OUT gets only what coding needs: model.toml, weights.safetensors (with the lambda or lambdas it was \
        trained for) and coding-tables.bin - no optimizer state, logs or regularizer weights. With --half the \
        weights are rounded to float16 and stored as F16 (half the size; the model's identity changes, so files \
        coded with the original need the original). Prints the sizes; compare the two with lic eval.
        """)

    @Option(help: "The trained model directory (from lic train).") var model: String
    @Option(name: .shortAndLong, help: "The directory to write (created; its model files are replaced).") var out: String
    @Flag(help: "Store the weights as float16.") var half = false

    func validate() throws {
        let from = URL(fileURLWithPath: model).standardized.path, to = URL(fileURLWithPath: out).standardized.path
        guard from != to else { throw ValidationError("--out must differ from --model") }
    }

    func run() throws {
        let codec = try Codec.load(directory: model)
        guard codec.hasWeights else { throw LICError("\(model): not a learned model (no weights)") }
        if half { codec.roundWeightsToHalf() }
        try codec.save(to: out, metadata: codec.modelMetadata, storedAs: half ? .f16 : .f32)
        for file in [Codec.descriptorFile, Codec.weightsFile, Codec.codingTablesFile] {
            let path = out + "/" + file
            guard let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int else {
                throw LICError("\(path): was not written (the model's coding tables could not be built?)")
            }
            print("\(path): \(size) bytes")
        }
    }
}
