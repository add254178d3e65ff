import CLIC
import Foundation
import Testing
@testable import LICCore

/// The loader refuses broken libraries with a reason naming the file, and
/// loads plugins written in plain C through the same ABI.
@Suite struct PluginLoadingTests {
    static let bogusSource = TestSupport.fixtures + "/plugins/bogus_plugin.c"

    /// Builds the bogus plugin with one defect switched on.
    func bogus(_ defect: String?) throws -> String {
        let directory = try TestSupport.temporaryDirectory()
        let output = directory + "/libbogus-\(defect ?? "valid").so"
        try TestSupport.compileC([Self.bogusSource], output: output, shared: true, flags: defect.map { ["-D\($0)"] } ?? [])
        return output
    }

    func refusal(_ path: String, registry: PluginRegistry = PluginRegistry()) -> String {
        do {
            try registry.loadLibrary(at: path)
            return "loaded"
        } catch {
            return "\(error)"
        }
    }

    @Test func validCPluginLoads() throws {
        let registry = PluginRegistry()
        try registry.loadLibrary(at: try bogus(nil))
        let info = try #require(registry.component("org.test.quantizer.round"))
        #expect(info.kind == .quantizer && info.runtime == "c" && info.params.first?.name == "level")
    }

    @Test func refusalsNameTheFileAndTheReason() throws {
        let cases: [(String, String)] = [
            ("NO_ENTRY", "does not export lic_plugin_entry"),
            ("ABI_MAJOR_2", "built for ABI 2.0"),
            ("SWIFT_MISMATCH", "Swift runtime mismatch"),
            ("DECLINE", "declined ABI 1.3"),
            ("BAD_DEFAULT", "default of parameter 'level'"),
        ]
        for (defect, reason) in cases {
            let path = try bogus(defect)
            let message = refusal(path)
            #expect(message.contains(path), "\(defect): \(message)")
            #expect(message.contains(reason), "\(defect): \(message)")
        }
    }

    @Test func missingAndNonLibraryFiles() throws {
        let directory = try TestSupport.temporaryDirectory()
        #expect(refusal(directory + "/libnothing.so").contains("no such file"))
        let garbage = directory + "/libgarbage.so"
        try Data("not an ELF file".utf8).write(to: URL(fileURLWithPath: garbage))
        #expect(refusal(garbage).contains("cannot load"))
    }

    @Test func duplicateComponentIDIsRefused() throws {
        let registry = PluginRegistry()
        try registry.load(PluginSearchPath(locations: PluginSearchPath.builtinDirectories().map { .directory($0, .builtinPlugins) }))
        let builtin = try #require(registry.component("lic.quantizer.uniform"))
        let message = refusal(try bogus("DUPLICATE_ID"), registry: registry)
        #expect(message.contains("'lic.quantizer.uniform' is already provided by \(builtin.libraryPath)"))
    }

    @Test func directoryScansRecordRefusalsInsteadOfFailing() throws {
        let directory = try TestSupport.temporaryDirectory()
        try TestSupport.compileC([Self.bogusSource], output: directory + "/liba-good.so", shared: true)
        try TestSupport.compileC([Self.bogusSource], output: directory + "/libb-bad.so", shared: true, flags: ["-DNO_ENTRY"])
        let registry = PluginRegistry()
        try registry.load(PluginSearchPath(locations: [.directory(directory, .anyLibrary)]))
        #expect(registry.component("org.test.quantizer.round") != nil)
        #expect(registry.refusals.count == 1 && registry.refusals[0].path.hasSuffix("libb-bad.so"))
    }

    /// The line of [quantizer] in the default pipeline (errors name it).
    var quantizerLine: Int { DefaultPipeline.text.components(separatedBy: "\n").firstIndex(of: "[quantizer]")! + 2 }

    /// The default pipeline with the bogus quantizer from `path` in place of the uniform one.
    func bogusQuantizerPipeline(_ path: String) throws -> PipelineDescriptor {
        let text = DefaultPipeline.text
            .replacingOccurrences(of: "name = \"classical-dct\"", with: "name = \"x\"\nplugins = [\"\(path)\"]")
            .replacingOccurrences(of: "plugin = \"lic.quantizer.uniform\"\nstep = 0.05", with: "plugin = \"org.test.quantizer.round\"")
        return try PipelineDescriptor.parse(text, source: "t.toml", baseDirectory: "/")
    }

    @Test func aPluginThatFailsWithoutAMessageIsStillReported() throws {
        let pipeline = try Codec(descriptor: bogusQuantizerPipeline(try bogus("FAIL_SILENTLY")))
        let image = try TestSupport.syntheticImage(width: 8, height: 8, channels: 1)
        let error = #expect(throws: LICError.self) { try pipeline.encode(image) }
        #expect(error?.message.contains("without a message") == true)
    }

    /// A create that reports three times: the first report is kept and the
    /// broken fill-once rule is named. (Fresh registries: the variants share a component id.)
    @Test func aPluginThatReportsMoreThanOnceIsNamedForIt() throws {
        let descriptor = try bogusQuantizerPipeline(try bogus("FILL_THRICE"))
        let error = #expect(throws: LICError.self) { try Codec(descriptor: descriptor, registry: PluginRegistry()) }
        #expect(error?.message == "t.toml:\(quantizerLine): [quantizer]: org.test.quantizer.round: create: first report "
            + "(the component reported 3 errors for one failure, breaking the fill-once rule)")
    }

    /// A create that reports an error and returns LIC_OK is not trusted as a success.
    @Test func aPluginThatReportsAnErrorButReturnsOKIsRefused() throws {
        let descriptor = try bogusQuantizerPipeline(try bogus("FILL_ON_SUCCESS"))
        let error = #expect(throws: LICError.self) { try Codec(descriptor: descriptor, registry: PluginRegistry()) }
        #expect(error?.message == "t.toml:\(quantizerLine): [quantizer]: org.test.quantizer.round: create: the component reported an error but returned LIC_OK: report on success")
        // The same library built without the defect makes a working pipeline.
        _ = try Codec(descriptor: bogusQuantizerPipeline(try bogus(nil)), registry: PluginRegistry())
    }

    @Test func theBuiltinSwiftPluginReportsTheHostsRuntime() throws {
        let registry = PluginRegistry()
        try registry.load(PluginSearchPath(locations: PluginSearchPath.builtinDirectories().map { .directory($0, .builtinPlugins) }))
        #expect(registry.component("lic.transform.dct")?.runtime == DescriptorReader.hostSwiftRuntime)
        #expect(DescriptorReader.hostSwiftRuntime == "swift-6.3")
    }
}

/// callPlugin against callees that keep or break the error rules of lic_plugin.h.
@Suite struct PluginCallTests {
    /// The error callPlugin throws, or nil if it returned.
    func outcome(_ body: (UnsafeMutablePointer<lic_error>) -> lic_status) -> String? {
        do {
            try callPlugin("org.test.c", "forward", body)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func successAndSingleReportsPassThrough() {
        #expect(outcome { _ in LIC_OK } == nil)
        #expect(outcome { lic_error_set($0, LIC_ERROR_CORRUPT_DATA, "bad stream") } == "org.test.c: forward: bad stream")
    }

    @Test func brokenRulesAreNamed() {
        #expect(outcome { _ in LIC_ERROR_INTERNAL } == "org.test.c: forward: failed with status 5 without a message")
        #expect(outcome { lic_error_set($0, LIC_ERROR_INTERNAL, nil) } == "org.test.c: forward: failed with status 5 without a message")
        #expect(outcome { error in
            lic_error_set(error, LIC_ERROR_UNSUPPORTED, "first")
            return lic_error_set(error, LIC_ERROR_INTERNAL, "second")
        } == "org.test.c: forward: first (the component reported 2 errors for one failure, breaking the fill-once rule)")
        #expect(outcome { error in
            lic_error_set(error, LIC_ERROR_INTERNAL, "oops")
            return LIC_OK
        } == "org.test.c: forward: the component reported an error but returned LIC_OK: oops")
        #expect(outcome { error in
            lic_error_set(error, LIC_ERROR_INTERNAL, "oops")
            lic_error_set(error, LIC_ERROR_INTERNAL, "again")
            return LIC_OK
        } == "org.test.c: forward: the component reported an error but returned LIC_OK: oops "
            + "(the component reported 2 errors for one call, breaking the fill-once rule)")
    }
}

/// A plain C plugin computing through the host's tensor op table, in a real pipeline.
@Suite struct CTensorPluginTests {
    @Test func aCTransformUsingHostOpsRoundTrips() throws {
        let directory = try TestSupport.temporaryDirectory()
        let library = directory + "/libtensor-scale.so"
        try TestSupport.compileC([TestSupport.fixtures + "/plugins/tensor_scale_plugin.c"], output: library, shared: true)
        // The DCT's bands scaled by 4 on the way in and by 1/4 on the way out: same image, other coefficients.
        let text = """
            format = 1
            name = "scaled"
            plugins = ["\(library)"]
            [analysis]
            plugin = "org.test.transform.scale"
            [quantizer]
            plugin = "lic.quantizer.uniform"
            step = 0.2
            [entropy]
            plugin = "lic.entropy.laplace"
            [synthesis]
            plugin = "org.test.transform.scale"
            inverse = true
            """
        let pipeline = try Codec(descriptor: PipelineDescriptor.parse(text, source: "scaled.toml", baseDirectory: directory))
        let image = try TestSupport.syntheticImage(width: 12, height: 8, channels: 3)
        let encoded = try pipeline.encode(image)
        let decoded = try Codec.decode(encoded.bytes, source: "scaled.lic", codec: pipeline)
        #expect(decoded.image == encoded.reconstruction)
        // step 0.2 on 4x-scaled pixels is a step of 0.05 in [0, 1]: error at most 0.025 * 255 per pixel.
        #expect(try ImageMetrics.psnr(image, decoded.image) > 30)
    }
}
