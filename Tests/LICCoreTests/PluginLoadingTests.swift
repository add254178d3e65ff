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
            ("DECLINE", "declined ABI 1.1"),
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

    @Test func aPluginThatFailsWithoutAMessageIsStillReported() throws {
        let path = try bogus("FAIL_SILENTLY")
        let text = DefaultPipeline.text
            .replacingOccurrences(of: "name = \"classical-dct\"", with: "name = \"x\"\nplugins = [\"\(path)\"]")
            .replacingOccurrences(of: "plugin = \"lic.quantizer.uniform\"\nstep = 0.05", with: "plugin = \"org.test.quantizer.round\"")
        let pipeline = try Pipeline(descriptor: PipelineDescriptor.parse(text, source: "t.toml", baseDirectory: "/"))
        let image = try TestSupport.syntheticImage(width: 8, height: 8, channels: 1)
        let error = #expect(throws: LICError.self) { try ImageCodec.encode(image, with: pipeline) }
        #expect(error?.message.contains("without a message") == true)
    }

    @Test func theBuiltinSwiftPluginReportsTheHostsRuntime() throws {
        let registry = PluginRegistry()
        try registry.load(PluginSearchPath(locations: PluginSearchPath.builtinDirectories().map { .directory($0, .builtinPlugins) }))
        #expect(registry.component("lic.transform.dct")?.runtime == DescriptorReader.hostSwiftRuntime)
        #expect(DescriptorReader.hostSwiftRuntime == "swift-6.3")
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
        let pipeline = try Pipeline(descriptor: PipelineDescriptor.parse(text, source: "scaled.toml", baseDirectory: directory))
        let image = try TestSupport.syntheticImage(width: 12, height: 8, channels: 3)
        let encoded = try ImageCodec.encode(image, with: pipeline)
        let decoded = try ImageCodec.decode(encoded.bytes, source: "scaled.lic", pipeline: pipeline)
        #expect(decoded.image == encoded.reconstruction)
        // step 0.2 on 4x-scaled pixels is a step of 0.05 in [0, 1]: error at most 0.025 * 255 per pixel.
        #expect(try ImageMetrics.psnr(image, decoded.image) > 30)
    }
}
