import Foundation
import LICTensor
import Testing
@testable import LICCore

/// `lic train`, `lic eval` and `lic encode/decode --model` as a user runs them,
/// on crops of the shipped sample image with a small mbt2018-mean.
@Suite struct TrainingCommandTests {
    let lic = TestSupport.licExecutable

    /// Writes `count` crops of the sample image into a new folder.
    static func imageFolder(count: Int, side: Int, offset: Int) throws -> String {
        let directory = try TestSupport.temporaryDirectory()
        let sample = try PNGFile.read(path: TestSupport.packageRoot + "/examples/images/kodim23.png")
        for index in 0..<count {
            var pixels: [UInt8] = []
            let (left, top) = (offset + index * 97, offset + index * 53)
            for y in top..<(top + side) {
                let row = (y * sample.width + left) * 3
                pixels += sample.pixels[row..<(row + side * 3)]
            }
            try PNGFile.write(try Image(width: side, height: side, channels: 3, pixels: pixels), to: directory + "/crop\(index).png")
        }
        return directory
    }

    @Test func trainEvaluateEncodeDecode() throws {
        let data = try Self.imageFolder(count: 3, side: 160, offset: 40)
        let validation = try Self.imageFolder(count: 1, side: 176, offset: 300)
        let work = try TestSupport.temporaryDirectory()
        let descriptor = work + "/tiny.toml"
        try LearnedCodecTests.tinyText("mbt2018-mean", n: 16, m: 24).write(toFile: descriptor, atomically: true, encoding: .utf8)
        let model = work + "/model"
        let train = try TestSupport.run(lic, ["train", "--pipeline", descriptor, "--data", data, "--lambda", "0.01", "--out", model,
                                              "--steps", "30", "--batch", "2", "--crop", "64", "--log-every", "10",
                                              "--validate", validation])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stderr.contains("step 30/30") && train.stdout.contains("validation (1 images)"))
        let log = try String(contentsOfFile: model + "/train.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(log.count == 3)
        let first = try #require(try JSONSerialization.jsonObject(with: Data(log[0].utf8)) as? [String: Any])
        #expect(["step", "elapsed_s", "loss", "bpp", "psnr"].allSatisfy { first[$0] != nil })

        // Resume continues from the checkpoint.
        let resumed = try TestSupport.run(lic, ["train", "--resume", "--data", data, "--lambda", "0.01", "--out", model,
                                                "--steps", "40", "--batch", "2", "--crop", "64", "--log-every", "10"])
        #expect(resumed.status == 0 && resumed.stderr.contains("step 40/40"), "\(resumed.stderr)")

        let eval = try TestSupport.run(lic, ["eval", "--model", model, "--data", validation, "--json", work + "/eval.json"])
        #expect(eval.status == 0, "\(eval.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: work + "/eval.json"))) as? [String: Any])
        let mean = try #require(report["mean"] as? [String: Any])
        #expect(["bpp", "bpp_estimated", "psnr", "ms_ssim", "encode_s", "decode_s"].allSatisfy { mean[$0] != nil })
        #expect((report["images"] as? [[String: Any]])?.count == 1)

        let image = validation + "/crop0.png"
        let encode = try TestSupport.run(lic, ["encode", "--model", model, image, "-o", work + "/a.lic", "--reconstruction", work + "/rec.png"])
        #expect(encode.status == 0, "\(encode.stderr)")
        let decode = try TestSupport.run(lic, ["decode", "--model", model, work + "/a.lic", "-o", work + "/dec.png"])
        #expect(decode.status == 0, "\(decode.stderr)")
        #expect(try PNGFile.read(path: work + "/dec.png") == PNGFile.read(path: work + "/rec.png"))
        // Without the model, the file says what it needs.
        let bare = try TestSupport.run(lic, ["decode", work + "/a.lic", "-o", work + "/x.png"])
        #expect(bare.exitedNormally && bare.status != 0 && bare.stderr.contains("--model"))

        // Fine-tuning the decoder on latents the trellis quantizer produces: only the synthesis changes,
        // the result names the quantizer and codes files.
        let quantizers = work + "/tcq.toml"
        try "[quantizer]\nplugin = \"lic.quantizer.tcq\"\nstates = 4\n[hyper.entropy.quantizer]\nplugin = \"lic.quantizer.uniform\"\n"
            .write(toFile: quantizers, atomically: true, encoding: .utf8)
        let tuned = work + "/tuned"
        let finetune = try TestSupport.run(lic, ["finetune", "--model", model, "--quantizer", quantizers, "--data", data, "--out", tuned,
                                                 "--steps", "3", "--batch", "2", "--crop", "64", "--log-every", "1", "--lr", "1e-3"])
        #expect(finetune.status == 0, "\(finetune.stderr)")
        let tunedLog = try String(contentsOfFile: tuned + "/train.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(tunedLog.count == 3 && tunedLog.allSatisfy { $0.contains("\"rate\"") && $0.contains("\"distortion\"") })
        #expect(try String(contentsOfFile: tuned + "/model.toml", encoding: .utf8).contains("plugin = \"lic.quantizer.tcq\""))
        // The model records the lambda it was trained for; a fine-tuned one keeps its base model's.
        #expect(try SafeTensorsFile.read(path: model + "/weights.safetensors").metadata[Codec.lambdaKey] == "0.01")
        #expect(try SafeTensorsFile.read(path: tuned + "/weights.safetensors").metadata[Codec.lambdaKey] == "0.01")
        let before = try SafeTensorsFile.read(path: model + "/weights.safetensors").tensors
        let after = try SafeTensorsFile.read(path: tuned + "/weights.safetensors").tensors
        #expect(after["analysis/0.weight"]!.values == before["analysis/0.weight"]!.values, "the encoder side is frozen")
        #expect(after["hyper.synthesis/0.weight"]!.values == before["hyper.synthesis/0.weight"]!.values)
        #expect(after["synthesis/0.weight"]!.values != before["synthesis/0.weight"]!.values, "the synthesis was trained")
        let resumedTuning = try TestSupport.run(lic, ["finetune", "--resume", "--data", data, "--out", tuned, "--steps", "4", "--batch", "2",
                                                      "--crop", "64", "--log-every", "1", "--lr", "1e-3"])
        #expect(resumedTuning.status == 0 && resumedTuning.stderr.contains("step 4/4"), "\(resumedTuning.stderr)")
        let tunedEncode = try TestSupport.run(lic, ["encode", "--model", tuned, image, "-o", work + "/t.lic", "--reconstruction", work + "/trec.png"])
        let tunedDecode = try TestSupport.run(lic, ["decode", "--model", tuned, work + "/t.lic", "-o", work + "/tdec.png"])
        #expect(tunedEncode.status == 0 && tunedDecode.status == 0, "\(tunedEncode.stderr)\(tunedDecode.stderr)")
        #expect(try PNGFile.read(path: work + "/tdec.png") == PNGFile.read(path: work + "/trec.png"))
        let wrongStage = try TestSupport.run(lic, ["finetune", "--model", model, "--stages", "analysis", "--data", data, "--out", work + "/bad",
                                                   "--steps", "1", "--batch", "1", "--crop", "64"])
        #expect(wrongStage.status != 0 && wrongStage.stderr.contains("not a decoder-side transform"), "\(wrongStage.stderr)")
    }

    /// The example C regularizer (examples/c-regularizer) and a test one with
    /// its own parameter and alternating updates, used from a descriptor: each
    /// term is logged by name, the trained weights differ from a run without
    /// them, the regularizer's own parameter is fitted, and the model
    /// directory (model.toml, weights) carries no trace of them.
    @Test func regularizerPluginsTrainFromTheDescriptor() throws {
        let data = try Self.imageFolder(count: 2, side: 128, offset: 40)
        let work = try TestSupport.temporaryDirectory()
        try TestSupport.compileC([TestSupport.packageRoot + "/examples/c-regularizer/latent_energy.c"], output: work + "/libenergy.so", shared: true)
        try TestSupport.compileC([TestSupport.packageRoot + "/Tests/LICCoreTests/Fixtures/plugins/spread_regularizer.c"],
                                 output: work + "/libspread.so", shared: true)
        let base = try String(contentsOfFile: TestSupport.packageRoot + "/examples/pipelines/mbt2018-mean.toml", encoding: .utf8)
            .replacingOccurrences(of: "channels = 128", with: "channels = 8")
            .replacingOccurrences(of: "latent = 192", with: "latent = 12")
        let regularized = base.replacingOccurrences(of: "name = \"mbt2018-mean\"", with: "name = \"mbt2018-mean\"\nplugins = [\"libenergy.so\", \"libspread.so\"]")
            + "\n[[regularizer]]\nplugin = \"org.example.regularizer.energy\"\nweight = 0.5\n"
            + "\n[[regularizer]]\nplugin = \"org.test.regularizer.spread\"\nweight = 0.2\nlearning_rate = 0.05\n"
        try base.write(toFile: work + "/plain.toml", atomically: true, encoding: .utf8)
        try regularized.write(toFile: work + "/regularized.toml", atomically: true, encoding: .utf8)
        func train(_ descriptor: String, _ out: String, steps: Int = 3, resume: Bool = false) throws -> TestSupport.Outcome {
            try TestSupport.run(lic, ["train"] + (resume ? ["--resume"] : ["--pipeline", work + "/" + descriptor])
                                + ["--data", data, "--lambda", "0.01", "--out", work + "/" + out, "--steps", "\(steps)",
                                   "--batch", "1", "--crop", "64", "--log-every", "1"])
        }
        let plain = try train("plain.toml", "plain"), withTerms = try train("regularized.toml", "regularized")
        #expect(plain.status == 0 && withTerms.status == 0, "\(plain.stderr)\n\(withTerms.stderr)")
        let log = try String(contentsOfFile: work + "/regularized/train.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(log.count == 3)
        for line in log {
            let record = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let terms = try #require(record["terms"] as? [String: Double], "\(line)")
            #expect(Set(terms.keys) == ["rate", "distortion", "energy", "spread"], "\(line)")
            #expect(terms["energy"]! > 0 && terms["spread"]! > 0)
        }
        let plainWeights = try SafeTensorsFile.read(path: work + "/plain/weights.safetensors").tensors
        let trained = try SafeTensorsFile.read(path: work + "/regularized/weights.safetensors").tensors
        #expect(Set(trained.keys) == Set(plainWeights.keys), "the model's weights hold no regularizer parameter")
        #expect(trained["analysis/0.weight"]!.values != plainWeights["analysis/0.weight"]!.values,
                "the regularizer terms changed the trained weights")
        let own = try SafeTensorsFile.read(path: work + "/regularized/regularizers.safetensors").tensors
        #expect(own["regularizer.spread/centre"].map { $0.values[0] != 0 } == true, "the alternating fit moved the centre")
        let modelText = try String(contentsOfFile: work + "/regularized/model.toml", encoding: .utf8)
        #expect(!modelText.contains("regularizer") && !modelText.contains("plugins"))
        // Resuming keeps the regularizers (from the saved training descriptor) and their state.
        let resumed = try train("regularized.toml", "regularized", steps: 4, resume: true)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let last = try String(contentsOfFile: work + "/regularized/train.jsonl", encoding: .utf8).split(separator: "\n").last.map(String.init) ?? ""
        #expect(last.contains("\"spread\"") && last.contains("\"step\":4"), "\(last)")
        // `lic plugins --json` lists the regularizer with its interface; the built-in quantizer speaks lic.quantizer/2.
        let listing = try TestSupport.run(lic, ["plugins", "--json"], environment: ["LIC_PLUGIN_PATH": work])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(listing.stdout.utf8)) as? [String: Any])
        let components = try #require(document["components"] as? [[String: Any]])
        let interfaces = Dictionary(uniqueKeysWithValues: components.compactMap { c in (c["id"] as? String).map { ($0, c["interface"] as? String ?? "") } })
        #expect(interfaces["org.example.regularizer.energy"] == "lic.regularizer/1")
        #expect(interfaces["lic.quantizer.uniform"] == "lic.quantizer/2")
        #expect(interfaces["lic.entropy.gaussian"] == "lic.entropy-model/3" && interfaces["lic.transform.gdn"] == "lic.transform/3")
    }

    /// The built-in regularizers (examples/pipelines/mbt2018-mean-correlation.toml
    /// and -conditional-entropy.toml, tiny): both terms are logged by name
    /// with their signs, they change the trained weights, the conditional-
    /// entropy source model is fitted (its zero-initialized last layer moves)
    /// and kept beside the model, and `lic plugins` lists both with schemas.
    @Test func builtInRegularizersTrainFromTheDescriptor() throws {
        let data = try Self.imageFolder(count: 2, side: 128, offset: 60)
        let work = try TestSupport.temporaryDirectory()
        func tiny(_ name: String) throws -> String {
            try String(contentsOfFile: TestSupport.packageRoot + "/examples/pipelines/\(name).toml", encoding: .utf8)
                .replacingOccurrences(of: "channels = 128", with: "channels = 8")
                .replacingOccurrences(of: "latent = 192", with: "latent = 12")
        }
        let plain = try tiny("mbt2018-mean")
        let correlation = try tiny("mbt2018-mean-correlation")
        let entropy = try tiny("mbt2018-mean-conditional-entropy").replacingOccurrences(of: "channels = 32", with: "channels = 4")
        // Both regularizers in one descriptor: the base with each example's [[regularizer]] section.
        func section(_ text: String) throws -> String { String(text[try #require(text.range(of: "[[regularizer]]")).lowerBound...]) }
        let both = plain + "\n" + (try section(correlation)) + "\n" + (try section(entropy))
        try plain.write(toFile: work + "/plain.toml", atomically: true, encoding: .utf8)
        try both.write(toFile: work + "/both.toml", atomically: true, encoding: .utf8)
        func train(_ descriptor: String, _ out: String) throws -> TestSupport.Outcome {
            try TestSupport.run(lic, ["train", "--pipeline", work + "/" + descriptor, "--data", data, "--lambda", "0.01", "--out", work + "/" + out,
                                      "--steps", "3", "--batch", "1", "--crop", "64", "--log-every", "1"])
        }
        let plainRun = try train("plain.toml", "plain"), bothRun = try train("both.toml", "both")
        #expect(plainRun.status == 0 && bothRun.status == 0, "\(plainRun.stderr)\n\(bothRun.stderr)")
        let log = try String(contentsOfFile: work + "/both/train.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(log.count == 3)
        for line in log {
            let record = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let terms = try #require(record["terms"] as? [String: Double], "\(line)")
            #expect(Set(terms.keys) == ["rate", "distortion", "correlation", "conditional-entropy"], "\(line)")
            // The correlation term is a squared norm; the other is -H_hat, negative bits per pixel.
            #expect(terms["correlation"]! > 0 && terms["conditional-entropy"]! < 0, "\(line)")
        }
        let plainWeights = try SafeTensorsFile.read(path: work + "/plain/weights.safetensors").tensors
        let trained = try SafeTensorsFile.read(path: work + "/both/weights.safetensors").tensors
        #expect(Set(trained.keys) == Set(plainWeights.keys), "the model's weights hold no regularizer parameter")
        #expect(trained["analysis/0.weight"]!.values != plainWeights["analysis/0.weight"]!.values, "the terms changed the encoder")
        #expect(trained["synthesis/0.weight"]!.values != plainWeights["synthesis/0.weight"]!.values, "the terms changed the decoder")
        let own = try SafeTensorsFile.read(path: work + "/both/regularizers.safetensors").tensors
        #expect(Set(own.keys) == Set((0..<3).flatMap { ["regularizer.conditional-entropy/\($0).weight", "regularizer.conditional-entropy/\($0).bias"] }),
                "\(own.keys.sorted())")
        #expect(own["regularizer.conditional-entropy/2.weight"].map { $0.values.contains { $0 != 0 } } == true, "the fit moved q's last layer")
        let listing = try TestSupport.run(lic, ["plugins", "--json"])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(listing.stdout.utf8)) as? [String: Any])
        let components = try #require(document["components"] as? [[String: Any]])
        for (id, keys) in [("lic.regularizer.correlation", ["latent", "window", "border", "channels", "mask"]),
                           ("lic.regularizer.conditional-entropy", ["channels", "layers", "kernel", "scale_bound", "unit", "context"])] {
            let component = try #require(components.first { $0["id"] as? String == id }, "\(id) is not listed")
            #expect(component["interface"] as? String == "lic.regularizer/1")
            let names = (component["params"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
            #expect(Set(keys).isSubset(of: names), "\(id): \(names)")
        }
    }

    @Test func trainingErrorsAreOneLine() throws {
        let work = try TestSupport.temporaryDirectory()
        let missing = try TestSupport.run(lic, ["train", "--pipeline", TestSupport.packageRoot + "/examples/pipelines/mbt2018-mean.toml",
                                                "--data", work + "/nothing", "--lambda", "0.01", "--out", work + "/m", "--steps", "1"])
        #expect(missing.exitedNormally && missing.status != 0 && missing.stderr.contains("nothing"))
        let noStop = try TestSupport.run(lic, ["train", "--pipeline", "x.toml", "--data", work, "--lambda", "0.01", "--out", work + "/m"])
        #expect(noStop.status != 0 && noStop.stderr.contains("--steps or --time-budget"))
    }
}
