import Foundation
import Testing
@testable import LICCore

/// `lic` as a user runs it: real files, exit codes, one-line errors, no signals.
@Suite struct CommandLineTests {
    let lic = TestSupport.licExecutable

    func writePNG(_ image: Image, in directory: String, name: String = "in.png") throws -> String {
        let path = directory + "/" + name
        try PNGFile.write(image, to: path)
        return path
    }

    /// A failed command: non-zero exit, no signal, exactly one line on stderr containing `fragment`.
    func expectFailure(_ outcome: TestSupport.Outcome, mentioning fragment: String,
                       sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(outcome.exitedNormally, "killed by a signal: \(outcome.stderr)", sourceLocation: sourceLocation)
        #expect(outcome.status != 0, sourceLocation: sourceLocation)
        let lines = outcome.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(outcome.stderr)", sourceLocation: sourceLocation)
        #expect(outcome.stderr.contains(fragment), "stderr: \(outcome.stderr)", sourceLocation: sourceLocation)
    }

    /// Without --psnr or --reconstruction the encoder skips the reconstruction (no PSNR printed); the bytes are the same.
    @Test func encodeReportsThePSNROnlyWhenItReconstructs() throws {
        let directory = try TestSupport.temporaryDirectory()
        let input = try writePNG(try TestSupport.syntheticImage(width: 40, height: 30, channels: 3), in: directory)
        let plain = try TestSupport.run(lic, ["encode", input, "-o", directory + "/a.lic"])
        let measured = try TestSupport.run(lic, ["encode", input, "-o", directory + "/b.lic", "--psnr"])
        #expect(plain.status == 0 && measured.status == 0, "\(plain.stderr) \(measured.stderr)")
        #expect(plain.stdout.contains("bpp") && !plain.stdout.contains("PSNR"), "\(plain.stdout)")
        #expect(measured.stdout.contains("PSNR"), "\(measured.stdout)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: directory + "/a.lic")) == Data(contentsOf: URL(fileURLWithPath: directory + "/b.lic")))
    }

    @Test(arguments: [(1, 1, 1), (13, 7, 3), (31, 9, 4)])
    func encodeDecodeRoundTripsOddSizes(size: (Int, Int, Int)) throws {
        let directory = try TestSupport.temporaryDirectory()
        let image = try TestSupport.syntheticImage(width: size.0, height: size.1, channels: size.2)
        let input = try writePNG(image, in: directory)
        let encode = try TestSupport.run(lic, ["encode", input, "-o", directory + "/a.lic", "--reconstruction", directory + "/rec.png"])
        #expect(encode.status == 0, "\(encode.stderr)")
        #expect(encode.stdout.contains("bpp") && encode.stdout.contains("PSNR"))
        let decode = try TestSupport.run(lic, ["decode", directory + "/a.lic", "-o", directory + "/out.png", "--reference", input])
        #expect(decode.status == 0, "\(decode.stderr)")
        #expect(decode.stdout.contains("PSNR"))
        let decoded = try PNGFile.read(path: directory + "/out.png")
        #expect(decoded == (try PNGFile.read(path: directory + "/rec.png")))
        #expect(decoded.width == size.0 && decoded.height == size.1 && decoded.channels == size.2)
    }

    @Test func damagedFilesGiveOneLineReasons() throws {
        let directory = try TestSupport.temporaryDirectory()
        let input = try writePNG(try TestSupport.syntheticImage(width: 20, height: 12, channels: 3), in: directory)
        _ = try TestSupport.run(lic, ["encode", input, "-o", directory + "/a.lic"])
        let bytes = try Data(contentsOf: URL(fileURLWithPath: directory + "/a.lic"))
        try bytes.prefix(bytes.count - 5).write(to: URL(fileURLWithPath: directory + "/truncated.lic"))
        var flipped = bytes
        flipped[bytes.count - 3] ^= 0x10
        try flipped.write(to: URL(fileURLWithPath: directory + "/flipped.lic"))
        expectFailure(try TestSupport.run(lic, ["decode", directory + "/truncated.lic", "-o", directory + "/x.png"]), mentioning: "truncated.lic")
        expectFailure(try TestSupport.run(lic, ["decode", directory + "/flipped.lic", "-o", directory + "/x.png"]), mentioning: "CRC32C mismatch")
        expectFailure(try TestSupport.run(lic, ["decode", input, "-o", directory + "/x.png"]), mentioning: "PNG")
        #expect(!FileManager.default.fileExists(atPath: directory + "/x.png"))
        expectFailure(try TestSupport.run(lic, ["encode", directory + "/a.lic", "-o", directory + "/b.lic"]), mentioning: "a.lic")
        expectFailure(try TestSupport.run(lic, ["encode", directory + "/missing.png", "-o", directory + "/b.lic"]), mentioning: "missing.png")
    }

    @Test func badDescriptorNamesFileLineAndKey() throws {
        let directory = try TestSupport.temporaryDirectory()
        let input = try writePNG(try TestSupport.syntheticImage(width: 8, height: 8, channels: 3), in: directory)
        let descriptor = directory + "/bad.toml"
        try DefaultPipeline.text.replacingOccurrences(of: "step = 0.05", with: "step = 0.05\nstpe = 2")
            .write(toFile: descriptor, atomically: true, encoding: .utf8)
        expectFailure(try TestSupport.run(lic, ["encode", "--pipeline", descriptor, input, "-o", directory + "/a.lic"]),
                      mentioning: "bad.toml:16: [quantizer] key 'stpe'")
    }

    @Test func bogusPluginGivesOneLineReason() throws {
        let directory = try TestSupport.temporaryDirectory()
        let plugin = directory + "/libbogus.so"
        try TestSupport.compileC([TestSupport.fixtures + "/plugins/bogus_plugin.c"], output: plugin, shared: true, flags: ["-DABI_MAJOR_2"])
        expectFailure(try TestSupport.run(lic, ["plugins"], environment: ["LIC_PLUGIN_PATH": plugin]), mentioning: "libbogus.so")
        expectFailure(try TestSupport.run(lic, ["plugins", "--check", plugin]), mentioning: "built for ABI 2.0")
    }

    @Test func pluginsJSONListsBuiltinsAndTheCPlugin() throws {
        let directory = try TestSupport.temporaryDirectory()
        let plugin = directory + "/libexample-deadzone.so"
        try TestSupport.compileC([TestSupport.packageRoot + "/examples/c-plugin/deadzone_quantizer.c"], output: plugin, shared: true)
        let outcome = try TestSupport.run(lic, ["plugins", "--json"], environment: ["LIC_PLUGIN_PATH": directory])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
        let components = try #require(document["components"] as? [[String: Any]])
        let ids = Set(components.compactMap { $0["id"] as? String })
        #expect(ids.isSuperset(of: ["lic.transform.dct", "lic.quantizer.uniform", "lic.entropy.laplace", "org.example.quantizer.deadzone"]))
        let deadzone = try #require(components.first { $0["id"] as? String == "org.example.quantizer.deadzone" })
        let params = try #require(deadzone["params"] as? [[String: Any]])
        #expect(params.map { $0["name"] as? String } == ["step", "rounding"])
        #expect(params[0]["required"] as? Bool == true && params[1]["default"] as? Double == 0.35)
        #expect(deadzone["runtime"] as? String == "c")
    }

    @Test func cPluginPipelineEncodesAndDecodes() throws {
        let directory = try TestSupport.temporaryDirectory()
        try TestSupport.compileC([TestSupport.packageRoot + "/examples/c-plugin/deadzone_quantizer.c"],
                                 output: directory + "/libexample-deadzone.so", shared: true)
        try FileManager.default.copyItem(atPath: TestSupport.packageRoot + "/examples/c-plugin/deadzone.toml", toPath: directory + "/deadzone.toml")
        let input = try writePNG(try TestSupport.syntheticImage(width: 21, height: 14, channels: 3), in: directory)
        let encode = try TestSupport.run(lic, ["encode", "--pipeline", directory + "/deadzone.toml", input, "-o", directory + "/a.lic",
                                               "--reconstruction", directory + "/rec.png"])
        #expect(encode.status == 0, "\(encode.stderr)")
        // The file embeds its pipeline, but the C plugin is not on the default search path.
        expectFailure(try TestSupport.run(lic, ["decode", directory + "/a.lic", "-o", directory + "/x.png"]),
                      mentioning: "org.example.quantizer.deadzone")
        let decode = try TestSupport.run(lic, ["decode", directory + "/a.lic", "-o", directory + "/x.png"],
                                         environment: ["LIC_PLUGIN_PATH": directory])
        #expect(decode.status == 0, "\(decode.stderr)")
        #expect(try PNGFile.read(path: directory + "/x.png") == PNGFile.read(path: directory + "/rec.png"))
    }
}
