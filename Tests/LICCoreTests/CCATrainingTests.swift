import Foundation
import LICTensor
import Testing
@testable import LICCore

/// `lic train` with examples/pipelines/channelwise-power-cca.toml (tiny): the
/// CCA term is logged by name, it changes the trained weights, and the
/// auxiliary model is kept in regularizers.safetensors, not in the model.
@Suite struct CCATrainingTests {
    @Test func trainsFromTheExampleDescriptor() throws {
        let data = try TrainingCommandTests.imageFolder(count: 2, side: 128, offset: 60)
        let work = try TestSupport.temporaryDirectory()
        let cca = try String(contentsOfFile: TestSupport.packageRoot + "/examples/pipelines/channelwise-power-cca.toml", encoding: .utf8)
            .replacingOccurrences(of: "channels = 128", with: "channels = 8")
            .replacingOccurrences(of: "latent = 192", with: "latent = 16")
        let plain = String(cca[..<(try #require(cca.range(of: "[[regularizer]]"))).lowerBound])
        try cca.write(toFile: work + "/cca.toml", atomically: true, encoding: .utf8)
        try plain.write(toFile: work + "/plain.toml", atomically: true, encoding: .utf8)
        func train(_ descriptor: String, _ out: String) throws -> (TestSupport.Outcome, TimeInterval) {
            let started = Date()
            let outcome = try TestSupport.run(TestSupport.licExecutable, [
                "train", "--pipeline", work + "/" + descriptor, "--data", data, "--lambda", "0.01", "--out", work + "/" + out,
                "--steps", "4", "--batch", "1", "--crop", "64", "--log-every", "1"])
            return (outcome, Date().timeIntervalSince(started))
        }
        let (plainRun, plainTime) = try train("plain.toml", "plain"), (ccaRun, ccaTime) = try train("cca.toml", "cca")
        #expect(plainRun.status == 0 && ccaRun.status == 0, "\(plainRun.stderr)\n\(ccaRun.stderr)")
        let log = try String(contentsOfFile: work + "/cca/train.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(log.count == 4)
        var values: [Double] = []
        for line in log {
            let record = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let terms = try #require(record["terms"] as? [String: Double], "\(line)")
            #expect(Set(terms.keys) == ["rate", "distortion", "cca"], "\(line)")
            values.append(try #require(terms["cca"]))
        }
        #expect(values.allSatisfy(\.isFinite) && Set(values).count > 1, "\(values)")
        print("cca terms \(values); 4 steps: \(ccaTime) s with, \(plainTime) s without")
        let plainWeights = try SafeTensorsFile.read(path: work + "/plain/weights.safetensors").tensors
        let trained = try SafeTensorsFile.read(path: work + "/cca/weights.safetensors").tensors
        #expect(Set(trained.keys) == Set(plainWeights.keys), "the model's weights hold no auxiliary parameter")
        #expect(trained["analysis/0.weight"]!.values != plainWeights["analysis/0.weight"]!.values, "the term changed the encoder")
        #expect(trained["entropy/cc_mean_transforms.4.0.weight"]!.values != plainWeights["entropy/cc_mean_transforms.4.0.weight"]!.values,
                "the term changed the main entropy model")
        let own = try SafeTensorsFile.read(path: work + "/cca/regularizers.safetensors").tensors
        #expect(own.keys.allSatisfy { $0.hasPrefix("regularizer.cca/") } && own["regularizer.cca/entropy_bottleneck.matrices.0"] != nil
                && own["regularizer.cca/cc_scale_transforms.4.8.bias"] != nil, "\(own.keys.sorted())")
        let modelText = try String(contentsOfFile: work + "/cca/model.toml", encoding: .utf8)
        #expect(!modelText.contains("regularizer"))
    }
}
