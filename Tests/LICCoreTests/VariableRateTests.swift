import Foundation
import LICTensor
import Testing
@testable import LICCore

/// Variable rate in one model: gain units (lic.transform.gain), rate levels in
/// the call context, training over a lambda ladder, `--quality`, the level in
/// the file, the default model.
@Suite struct VariableRateTests {
    let lic = TestSupport.licExecutable

    static func tinyVariableRate() throws -> Codec {
        try LearnedCodecTests.tiny("mbt2018-mean-vr", n: 8, m: 12)
    }

    @Test func containerRecordsTheRateLevel() throws {
        let streams = [ContainerStream(tag: "S000", bytes: [1, 2, 3])]
        let id = Array(repeating: UInt8(7), count: Container.modelIDSize)
        let plain = try Container(modelID: id, width: 5, height: 4, channels: 3, bitDepth: 8, streams: streams).serialized()
        let level = try #require(Container.storableRateLevel(2.71))
        #expect(level == 694.0 / 256)
        let withLevel = Container(modelID: id, width: 5, height: 4, channels: 3, bitDepth: 8, streams: streams, rateLevel: level)
        let bytes = try withLevel.serialized()
        #expect(bytes.count == plain.count + 2 && bytes[5] == 0x02)
        #expect(try Container(parsing: bytes) == withLevel)
        #expect(try Container(parsing: plain).rateLevel == nil)
        // A level a file cannot hold exactly is refused when writing, never rounded silently.
        var odd = withLevel
        odd.rateLevel = 2.7
        #expect(throws: ContainerError.badRateLevel(2.7)) { try odd.serialized() }
        #expect(Container.storableRateLevel(-1) == nil && Container.storableRateLevel(300) == nil)
        // Every bit of the level is covered by the header CRC.
        for bit in 0..<16 {
            var flipped = bytes
            flipped[24 + bit / 8] ^= UInt8(1 << (bit % 8))
            #expect(throws: (any Error).self) { try Container(parsing: flipped) }
        }
    }

    @Test func qualitiesMapOntoLevels() throws {
        let levels = try RateLevels(parsing: "standard")
        #expect(levels.count == 8)
        #expect(try levels.level(quality: 1) == 0 && levels.level(quality: 8) == 7 && levels.level(quality: 4.5) == 3.5)
        #expect(abs(levels.lambda(atLevel: 0.5) - (0.0018 * 0.0035).squareRoot()) < 1e-12)
        let four = try RateLevels(parsing: "0.001, 0.01,0.1,1")
        #expect(try four.level(quality: 8) == 3 && four.level(quality: 1) == 0)
        #expect(throws: LICError.self) { try levels.level(quality: 0.5) }
        #expect(throws: LICError.self) { try levels.level(quality: .nan) }
        #expect(throws: LICError.self) { try RateLevels(parsing: "0.1,0.01") }
        #expect(throws: LICError.self) { try RateLevels(parsing: "0.1") }
        #expect(throws: LICError.self) { try RateLevels(parsing: "fast") }
        let wide = try RateLevels(parsing: "wide")
        #expect(wide.count == 8 && wide.lambdas.first == 0.0009 && wide.lambdas.last == 0.13)
        // Geometric to five digits: every ratio within 1e-4 of (0.13 / 0.0009)^(1/7).
        let ratio = Foundation.pow(0.13 / 0.0009, 1.0 / 7)
        #expect(zip(wide.lambdas, wide.lambdas.dropFirst()).allSatisfy { abs($1 / $0 / ratio - 1) < 1e-4 })
    }

    /// The shipped model records the named ladder, so `lic train --init
    /// models/default --lambdas wide` continues it (a different list is refused).
    @Test func shippedModelTrainedOnTheWideLadder() throws {
        let weights = TestSupport.packageRoot + "/models/default/" + Codec.weightsFile
        let metadata = try SafeTensorsFile.read(path: weights).metadata
        #expect(try metadata[Codec.lambdasKey] == RateLevels(parsing: "wide").text)
    }

    /// y = exp(log_gain[level]) * y_unscaled per channel; a fractional level
    /// interpolates the logarithms (the paper's g_a^(1-t) g_b^t).
    @Test func gainsInterpolateExponentially() throws {
        let codec = try Self.tinyVariableRate()
        let logGain = try #require(codec.store.all.first { $0.name == "gain/log_gain" }?.tensor)
        let m = 12
        let values = (0..<(8 * m)).map { Float(($0 * 37) % 11) / 10 - 0.5 }
        logGain.withUnsafeMutableBufferPointer { buffer in for i in 0..<buffer.count { buffer[i] = values[i] } }
        let x = try Tensor.uniformNoise(shape: [1, 3, 64, 64], seed: 5, low: 0, high: 1)
        for level in [0.0, 2.25, 7.0] {
            var context = CallContext(mode: .eval)
            context.rateLevel = level
            let out = try GradientMode.withoutGradients { try codec.forward(x, context: context) }
            let unscaled = out.tensors["y_unscaled"]!.values, scaled = out.tensors["y"]!.values
            let plane = 16
            let lower = min(Int(level), 6), t = Float(level) - Float(lower)
            for channel in 0..<m {
                let expected = Foundation.exp((1 - t) * values[lower * m + channel] + t * values[(lower + 1) * m + channel])
                let i = channel * plane + 3
                #expect(abs(scaled[i] - unscaled[i] * expected) <= 1e-5 * max(1, abs(scaled[i])), "level \(level) channel \(channel)")
            }
        }
        var outside = CallContext(mode: .eval)
        outside.rateLevel = 7.5
        #expect(throws: (any Error).self) { try GradientMode.withoutGradients { try codec.forward(x, context: outside) } }
    }

    @Test func levelsCodeDifferentRatesAndDecodeExactly() throws {
        let codec = try Self.tinyVariableRate()
        codec.rateLevels = try RateLevels(parsing: "standard")
        // Gains far apart (e^0 ... e^7), so that even untrained weights code different amounts.
        let logGain = try #require(codec.store.all.first { $0.name == "gain/log_gain" }?.tensor)
        logGain.withUnsafeMutableBufferPointer { buffer in for i in 0..<buffer.count { buffer[i] = Float(i / 12) } }
        codec.weightsChanged()
        let image = try TestSupport.syntheticImage(width: 70, height: 37, channels: 3)
        var sizes: [Int] = []
        for quality in [1.0, 3.3, 8.0] {
            let encoded = try codec.encode(image, quality: quality)
            #expect(try Container(parsing: encoded.bytes).rateLevel == RateLevels(parsing: "standard").level(quality: quality))
            #expect(try codec.decode(encoded.bytes, source: "q\(quality).lic") == encoded.reconstruction)
            sizes.append(encoded.bytes.count)
        }
        #expect(sizes[0] < sizes[1] && sizes[1] < sizes[2], "\(sizes)")
        // A one-rate model refuses a quality; files with and without a level go only to models that match.
        let oneRate = try LearnedCodecTests.tiny("mbt2018-mean")
        #expect(throws: LICError.self) { try oneRate.encode(image, quality: 3) }
        let levelFile = try codec.encode(image, quality: 2).bytes
        codec.rateLevels = nil
        #expect(throws: LICError.self) { try codec.decode(levelFile, source: "a.lic") }
        let plainFile = try codec.encode(image).bytes
        codec.rateLevels = try RateLevels(parsing: "standard")
        #expect(throws: LICError.self) { try codec.decode(plainFile, source: "b.lic") }
    }

    /// `lic train --lambdas` as a user runs it: levels drawn per batch and
    /// logged, the ladder stored with the weights, --quality at encode time,
    /// decoding with nothing extra, resuming, the default model.
    @Test func trainEncodeDecodeFromTheCommandLine() throws {
        let data = try TrainingCommandTests.imageFolder(count: 2, side: 128, offset: 30)
        let work = try TestSupport.temporaryDirectory()
        let descriptor = work + "/tiny-vr.toml"
        try LearnedCodecTests.tinyText("mbt2018-mean-vr", n: 8, m: 12).write(toFile: descriptor, atomically: true, encoding: .utf8)
        let model = work + "/model"
        let common = ["--data", data, "--out", model, "--batch", "2", "--crop", "64", "--log-every", "1", "--lambdas", "standard"]
        let train = try TestSupport.run(lic, ["train", "--pipeline", descriptor, "--steps", "12"] + common)
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stderr.contains("(level "))
        let records = try String(contentsOfFile: model + "/train.jsonl", encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        let levels = records.compactMap { $0["rate_level"] as? Int }
        #expect(levels.count == 12 && Set(levels).count >= 4 && levels.allSatisfy { (0..<8).contains($0) })
        for record in records {
            #expect(record["lambda"] as? Double == RateLevels.standardLadder[record["rate_level"] as! Int])
        }
        #expect(try SafeTensorsFile.read(path: model + "/weights.safetensors").metadata[Codec.lambdasKey] == RateLevels(parsing: "standard").text)
        let resumed = try TestSupport.run(lic, ["train", "--resume", "--steps", "14"] + common)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let otherLadder = try TestSupport.run(lic, ["train", "--resume", "--steps", "16"] + common.dropLast() + ["0.01,0.1"])
        #expect(otherLadder.status != 0 && otherLadder.stderr.contains("lambdas"))

        // A new run from the model's weights (training continued elsewhere) starts exactly at them.
        let continued = work + "/continued"
        let initial = try TestSupport.run(lic, ["train", "--pipeline", descriptor, "--init", model, "--steps", "0", "--lambdas", "standard",
                                                "--data", data, "--out", continued, "--batch", "2", "--crop", "64"])
        #expect(initial.status == 0, "\(initial.stderr)")
        #expect(try SafeTensorsFile.read(path: continued + "/weights.safetensors").tensors
            == SafeTensorsFile.read(path: model + "/weights.safetensors").tensors)
        let mismatched = try TestSupport.run(lic, ["train", "--pipeline", descriptor, "--init", model, "--steps", "0", "--lambdas", "0.01,0.1",
                                                   "--data", data, "--out", work + "/other", "--batch", "2", "--crop", "64"])
        #expect(mismatched.status != 0 && mismatched.stderr.contains("lambdas"), "\(mismatched.stderr)")

        let image = data + "/crop0.png"
        var sizes: [Int] = []
        for quality in ["1", "4.5", "8"] {
            let file = work + "/q\(quality).lic"
            let encode = try TestSupport.run(lic, ["encode", "--model", model, "--quality", quality, image, "-o", file,
                                                   "--reconstruction", work + "/rec.png"])
            #expect(encode.status == 0, "\(encode.stderr)")
            let decode = try TestSupport.run(lic, ["decode", "--model", model, file, "-o", work + "/dec.png"])
            #expect(decode.status == 0, "\(decode.stderr)")
            #expect(try PNGFile.read(path: work + "/dec.png") == PNGFile.read(path: work + "/rec.png"))
            sizes.append(try Data(contentsOf: URL(fileURLWithPath: file)).count)
        }
        #expect(sizes[0] < sizes[2], "\(sizes)")
        let outOfRange = try TestSupport.run(lic, ["encode", "--model", model, "--quality", "9", image, "-o", work + "/x.lic"])
        #expect(outOfRange.exitedNormally && outOfRange.status != 0 && outOfRange.stderr.contains("quality 9.0 is outside 1...8"))
        let eval = try TestSupport.run(lic, ["eval", "--model", model, "--quality", "2", "--data", data, "--json", work + "/eval.json"])
        #expect(eval.status == 0, "\(eval.stderr)")

        // As the default model: `lic encode IMAGE` and `lic decode FILE` with no options.
        let environment = [DefaultModel.environmentKey: model]
        let encode = try TestSupport.run(lic, ["encode", image, "-o", work + "/default.lic", "--reconstruction", work + "/rec.png"],
                                         environment: environment)
        #expect(encode.status == 0, "\(encode.stderr)")
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: work + "/default.lic")))
        #expect(try Container(parsing: bytes).rateLevel == RateLevels(parsing: "standard").level(quality: RateLevels.defaultQuality))
        let decode = try TestSupport.run(lic, ["decode", work + "/default.lic", "-o", work + "/dec.png"], environment: environment)
        #expect(decode.status == 0, "\(decode.stderr)")
        #expect(try PNGFile.read(path: work + "/dec.png") == PNGFile.read(path: work + "/rec.png"))
        // Gray images keep their one channel: the classical pipeline codes them.
        let gray = try TestSupport.syntheticImage(width: 40, height: 30, channels: 1)
        try PNGFile.write(gray, to: work + "/gray.png")
        let grayEncode = try TestSupport.run(lic, ["encode", work + "/gray.png", "-o", work + "/gray.lic"], environment: environment)
        #expect(grayEncode.status == 0, "\(grayEncode.stderr)")
        #expect(Codec.embedsPipeline(try [UInt8](Data(contentsOf: URL(fileURLWithPath: work + "/gray.lic")))))
        let bad = try TestSupport.run(lic, ["encode", image, "-o", work + "/y.lic"], environment: [DefaultModel.environmentKey: work])
        #expect(bad.exitedNormally && bad.status != 0 && bad.stderr.contains(DefaultModel.environmentKey))
    }

    @Test func metricsCommandMeasuresLikeEval() throws {
        let work = try TestSupport.temporaryDirectory()
        let (a, b) = (work + "/ref", work + "/dist")
        try FileManager.default.createDirectory(atPath: a, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: b, withIntermediateDirectories: true)
        let images = try (0..<2).map { try TestSupport.syntheticImage(width: 170 + $0, height: 165, channels: 3, seed: UInt64($0)) }
        let noisy = try images.map { image in
            try Image(width: image.width, height: image.height, channels: 3,
                      pixels: image.pixels.enumerated().map { UInt8(clamping: Int($0.element) + ($0.offset % 7 == 0 ? 9 : 0)) })
        }
        for (index, (image, distorted)) in zip(images, noisy).enumerated() {
            try PNGFile.write(image, to: "\(a)/i\(index).png")
            try PNGFile.write(distorted, to: "\(b)/i\(index).png")
        }
        let run = try TestSupport.run(lic, ["metrics", a, b])
        #expect(run.status == 0, "\(run.stderr)")
        let lines = try run.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(lines.count == 3 && lines[2]["name"] as? String == "mean")
        for index in 0..<2 {
            #expect(abs((lines[index]["psnr"] as! Double) - (try ImageMetrics.psnr(images[index], noisy[index]))) < 1e-9)
            #expect(abs((lines[index]["ms_ssim"] as! Double) - (try MSSSIM.compute(images[index], noisy[index]))) < 1e-9)
        }
        let single = try TestSupport.run(lic, ["metrics", "\(a)/i0.png", "\(a)/i0.png"])
        #expect(single.status == 0 && single.stdout.contains("\"psnr\":100"), "\(single.stdout)")
        try PNGFile.write(images[0], to: "\(b)/extra.png")
        let unmatched = try TestSupport.run(lic, ["metrics", a, b])
        #expect(unmatched.exitedNormally && unmatched.status != 0 && unmatched.stderr.contains("extra.png"))
    }
}

/// `lic export`: a model directory with only what coding needs, optionally at half the size.
@Suite struct ModelExportTests {
    @Test func halfPrecisionExportCodesLikeTheOriginal() throws {
        let lic = TestSupport.licExecutable
        let model = TestSupport.packageRoot + "/Tests/LICCoreTests/Fixtures/models/mbt2018-mean-16x32"
        let out = try TestSupport.temporaryDirectory() + "/half"
        let export = try TestSupport.run(lic, ["export", "--model", model, "--out", out, "--half"])
        #expect(export.status == 0, "\(export.stderr)")
        let original = try SafeTensorsFile.read(path: model + "/weights.safetensors")
        let half = try SafeTensorsFile.read(path: out + "/weights.safetensors")
        #expect(Set(half.tensors.keys) == Set(original.tensors.keys) && half.metadata[Codec.lambdaKey] == original.metadata[Codec.lambdaKey])
        for (name, tensor) in half.tensors {
            #expect(tensor.values == original.tensors[name]!.values.map(SafeTensorsFile.roundedToHalf), "\(name)")
        }
        let sizes = try [model, out].map { try FileManager.default.attributesOfItem(atPath: $0 + "/weights.safetensors")[.size] as! Int }
        #expect(sizes[1] < sizes[0] * 6 / 10, "\(sizes)")
        #expect(FileManager.default.fileExists(atPath: out + "/coding-tables.bin"))
        #expect(!FileManager.default.fileExists(atPath: out + "/optimizer.safetensors"))
        // The exported model loads its stored tables and decodes its own files exactly.
        let codec = try Codec.load(directory: out)
        let image = try TestSupport.syntheticImage(width: 80, height: 64, channels: 3)
        let encoded = try codec.encode(image)
        #expect(try Codec.load(directory: out).decode(encoded.bytes, source: "half.lic") == encoded.reconstruction)
        let full = try Codec.load(directory: model).encode(image)
        #expect(abs(Double(encoded.bytes.count) / Double(full.bytes.count) - 1) < 0.05)
        // Writing F16 refuses values that are not float16 values.
        let bad = SafeTensorsFile(tensors: ["w": .init(shape: [1], values: [0.1])])
        #expect(throws: (any Error).self) { try bad.write(to: out + "/bad.safetensors", storedAs: .f16) }
    }
}
