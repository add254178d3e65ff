import Foundation
import Synchronization
import LICTensor
import Testing
@testable import LICCore

/// Files crafted to be valid containers (correct CRCs, correct model id) that
/// still try to make the decoder misbehave.
@Suite struct HostileInputTests {
    static func validContainer() throws -> Container {
        let image = try TestSupport.syntheticImage(width: 16, height: 16, channels: 3)
        let pipeline = try Codec(descriptor: DefaultPipeline.descriptor())
        return try Container(parsing: pipeline.encode(image).bytes)
    }

    func decodeError(_ container: Container, maxPixels: Int = Image.maxPixels) throws -> String {
        do {
            _ = try Codec.decode(try container.serialized(), source: "crafted.lic", maxPixels: maxPixels)
            return "decoded"
        } catch {
            return "\(error)"
        }
    }

    @Test func anEmbeddedPipelineCannotLoadALibrary() throws {
        let directory = try TestSupport.temporaryDirectory()
        let library = directory + "/libmarker.so"
        let marker = directory + "/LOADED"
        try TestSupport.compileC([TestSupport.fixtures + "/plugins/bogus_plugin.c"], output: library, shared: true,
                                 flags: ["-DCONSTRUCTOR_MARKER"])
        setenv("LIC_TEST_MARKER", marker, 1)
        var container = try Self.validContainer()
        let text = String(decoding: container.streams[0].bytes, as: UTF8.self)
        // The canonical text (and so the model id) omits `plugins`; the key is still refused.
        container.streams[0].bytes = Array(text.replacingOccurrences(of: "name = ", with: "plugins = [\"\(library)\"]\nname = ").utf8)
        let message = try decodeError(container)
        #expect(message.contains("'plugins' is not allowed"), "\(message)")
        #expect(!FileManager.default.fileExists(atPath: marker), "the library was loaded")
    }

    /// A file whose embedded pipeline is `text`, with the model id recomputed
    /// to match it (what a forger would do; damage would not).
    static func forged(_ container: Container, pipeline text: String) -> Container {
        var forged = container
        forged.streams[0].bytes = Array(text.utf8)
        forged.modelID = Array(Codec.identity(canonicalText: text, parameters: []).prefix(Container.modelIDSize))
        return forged
    }

    @Test func aNonCanonicalEmbeddedPipelineIsRefused() throws {
        let container = try Self.validContainer()
        let text = "# comment\n" + String(decoding: container.streams[0].bytes, as: UTF8.self)
        #expect(try decodeError(Self.forged(container, pipeline: text)).contains("not in canonical form"))
    }

    @Test func aDamagedEmbeddedPipelineIsRefusedBeforeItsComponentsAreMade() throws {
        var container = try Self.validContainer()
        let text = String(decoding: container.streams[0].bytes, as: UTF8.self)
        container.streams[0].bytes = Array(text.replacingOccurrences(of: "step = 0.", with: "step = 1.").utf8)
        #expect(container.streams[0].bytes != Array(text.utf8))
        #expect(try decodeError(container).contains("does not match the file's model id"))
    }

    /// An embedded learned pipeline with 1024-channel layers would make the
    /// decoder allocate gigabytes of weights before refusing it: its first
    /// parameter is refused instead.
    @Test func anEmbeddedPipelineCannotMakeTheDecoderBuildWeights() throws {
        let container = try Self.validContainer()
        let text = """
            format = 1
            name = "forged"
            [analysis]
            plugin = "lic.transform.gdn"
            channels = 1024
            latent = 1024
            [entropy]
            plugin = "lic.entropy.laplace"
            [synthesis]
            plugin = "lic.transform.gdn"
            channels = 1024
            latent = 1024
            inverse = true

            """
        let message = try decodeError(Self.forged(container, pipeline: text))
        #expect(message.contains("cannot have weights"), "\(message)")
    }

    /// Coded streams damaged with valid checksums (the CRC is recomputed on
    /// serializing): every damage is refused, none decodes to another image.
    @Test func damagedStreamsWithValidChecksumsAreRefused() throws {
        let valid = try Self.validContainer()
        var random = SplitMix64(state: 11)
        for trial in 0..<64 {
            var damaged = valid
            var bytes = damaged.streams[1].bytes
            switch trial % 4 {
            case 0: bytes[Int(random.next() % UInt64(bytes.count))] ^= UInt8(1) << UInt8(random.next() % 8)
            case 1: bytes.removeLast(1 + Int(random.next() % 8))
            case 2: bytes += [UInt8](repeating: 0, count: 4)
            default: bytes[Int(random.next() % UInt64(bytes.count))] &+= 1
            }
            damaged.streams[1].bytes = bytes
            let message = try decodeError(damaged)
            #expect(message != "decoded", "trial \(trial) decoded silently")
        }
        var extended = valid
        extended.streams[1].bytes += [0, 0, 0, 0]
        #expect(try decodeError(extended).contains("did not end cleanly"))
    }

    @Test func streamsMustBeInTheirPlace() throws {
        let valid = try Self.validContainer()
        var swapped = valid
        swapped.streams.swapAt(0, 1)
        #expect(try decodeError(swapped).contains("unexpected stream 'PIPE'"))
        var twoPipes = valid
        twoPipes.streams.append(valid.streams[0])
        #expect(try decodeError(twoPipes).contains("unexpected stream 'PIPE'"))
        var extra = valid
        extra.streams.append(ContainerStream(tag: "S001", bytes: valid.streams[1].bytes))
        #expect(try decodeError(extra).contains("the model read 1 of 2"))
        var noStreams = valid
        noStreams.streams.removeLast()
        #expect(try decodeError(noStreams).contains("cannot decode"))
    }

    @Test func pixelBudgetIsCheckedBeforeAllocating() throws {
        var huge = try Self.validContainer()
        (huge.width, huge.height) = (8192, 8192)
        #expect(try decodeError(huge, maxPixels: 1 << 20).contains("more than the 1048576 pixels allowed"))
    }

    @Test func concurrentLoadsOfOneLibraryAllSucceed() throws {
        let registry = PluginRegistry()
        let library = PluginSearchPath.builtinDirectories()[0] + "/liblic-plugin-classical.so"
        let failures = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            do { try registry.loadLibrary(at: library) } catch { failures.withLock { $0 += 1 } }
        }
        #expect(failures.withLock { $0 } == 0)
        #expect(registry.allComponents.filter { $0.id == "lic.transform.dct" }.count == 1)
    }
}
