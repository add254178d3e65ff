import Foundation
import LICTensor
import Testing
@testable import LICCore

/// The classical pipeline end to end, in process, through the built-in plugin.
@Suite struct CodecTests {
    static func defaultPipeline() throws -> Codec {
        try Codec(descriptor: DefaultPipeline.descriptor())
    }

    @Test(arguments: [(1, 1, 1), (7, 3, 3), (33, 17, 4), (64, 48, 3), (17, 9, 1), (100, 1, 3)])
    func roundTripReproducesTheEncodersReconstruction(size: (Int, Int, Int)) throws {
        let (width, height, channels) = size
        let image = try TestSupport.syntheticImage(width: width, height: height, channels: channels)
        let pipeline = try Self.defaultPipeline()
        let encoded = try pipeline.encode(image)
        let decoded = try Codec.decode(encoded.bytes, source: "memory")
        #expect(decoded.image == encoded.reconstruction)
        #expect(decoded.image.width == width && decoded.image.height == height && decoded.image.channels == channels)
        #expect(try ImageMetrics.psnr(image, decoded.image) > 28)
    }

    /// A stream of more than 2^18 symbols is segmented: the file declares it
    /// (flag bit 3), decodes to the encoder's reconstruction on 1 and 2
    /// threads, and the same streams in a file that does not declare
    /// segments are refused as corrupt, not misread.
    @Test func longStreamsAreSegmentedAndDeclared() throws {
        let image = try TestSupport.syntheticImage(width: 520, height: 512, channels: 1, seed: 3)
        let encoded = try Self.defaultPipeline().encode(image)
        var container = try Container(parsing: encoded.bytes)
        #expect(container.segmentedStreams)
        #expect(container.streams.contains { RANS.isSegmented($0.bytes) })
        for threads in [1, 2] {
            #expect(try Threads.withCount(threads) { try Codec.decode(encoded.bytes, source: "memory").image } == encoded.reconstruction)
        }
        container.segmentedStreams = false
        let undeclared = try container.serialized()
        #expect(throws: (any Error).self) { try Codec.decode(undeclared, source: "undeclared.lic") }
    }

    @Test func encodingIsDeterministic() throws {
        let image = try TestSupport.syntheticImage(width: 40, height: 24, channels: 3)
        let pipeline = try Self.defaultPipeline()
        #expect(try pipeline.encode(image).bytes == pipeline.encode(image).bytes)
    }

    @Test func smallerStepGivesMoreBytesAndHigherPSNR() throws {
        let image = try TestSupport.syntheticImage(width: 64, height: 64, channels: 3)
        func code(step: Double) throws -> (Int, Double) {
            let text = DefaultPipeline.text.replacingOccurrences(of: "step = 0.05", with: "step = \(step)")
            let pipeline = try Codec(descriptor: PipelineDescriptor.parse(text, source: "test", baseDirectory: "/"))
            let encoded = try pipeline.encode(image)
            return (encoded.bytes.count, try ImageMetrics.psnr(image, encoded.reconstruction))
        }
        let coarse = try code(step: 0.2), fine = try code(step: 0.01)
        #expect(fine.0 > coarse.0)
        #expect(fine.1 > coarse.1 + 6)
    }

    @Test func everyTruncationAndBitFlipIsRefused() throws {
        let image = try TestSupport.syntheticImage(width: 9, height: 5, channels: 3)
        let bytes = try Self.defaultPipeline().encode(image).bytes
        for length in 0..<bytes.count {
            #expect(throws: (any Error).self) { try Codec.decode(Array(bytes[0..<length]), source: "t") }
        }
        for bit in 0..<(bytes.count * 8) {
            var damaged = bytes
            damaged[bit / 8] ^= UInt8(1 << (bit % 8))
            #expect(throws: (any Error).self) { try Codec.decode(damaged, source: "t") }
        }
    }

    @Test func aFileCodedByAnotherModelIsRefused() throws {
        let image = try TestSupport.syntheticImage(width: 16, height: 16, channels: 3)
        let bytes = try Self.defaultPipeline().encode(image).bytes
        let other = DefaultPipeline.text.replacingOccurrences(of: "step = 0.05", with: "step = 0.07")
        let pipeline = try Codec(descriptor: PipelineDescriptor.parse(other, source: "other", baseDirectory: "/"))
        let error = #expect(throws: LICError.self) { try Codec.decode(bytes, source: "a.lic", codec: pipeline) }
        #expect(error?.message.contains("wrong model") == true)
    }

    /// Streams that are well-formed containers but carry garbage symbols
    /// (valid CRCs recomputed) must fail cleanly, never crash.
    @Test func garbageStreamsWithValidChecksumsFailCleanly() throws {
        let image = try TestSupport.syntheticImage(width: 24, height: 16, channels: 3)
        let bytes = try Self.defaultPipeline().encode(image).bytes
        let container = try Container(parsing: bytes)
        var state: UInt64 = 7
        for trial in 0..<200 {
            var forged = container
            let index = forged.streams.firstIndex { $0.tag != "PIPE" }!
            var stream = forged.streams[index].bytes
            for _ in 0..<(1 + trial % 4) {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                let position = Int(state >> 33) % max(stream.count, 1)
                if trial % 3 == 0 { stream = Array(stream.prefix(position)) } else if !stream.isEmpty { stream[position] ^= UInt8(truncatingIfNeeded: state >> 20) | 1 }
            }
            forged.streams[index].bytes = stream
            // Decoding may succeed with a different image only if the model
            // read exactly all bytes; either way it must not crash.
            _ = try? Codec.decode(try forged.serialized(), source: "forged")
        }
    }

    @Test func theDefaultPipelineIsTheShippedExample() throws {
        let example = try String(contentsOfFile: TestSupport.packageRoot + "/examples/pipelines/classical-dct.toml", encoding: .utf8)
        #expect(example == DefaultPipeline.text)
    }

    @Test func canonicalTextIgnoresCommentsAndFillsDefaults() throws {
        let a = try Codec(descriptor: DefaultPipeline.descriptor())
        let commented = "# a comment\n" + DefaultPipeline.text.replacingOccurrences(of: "block = 8\n", with: "")
        let b = try Codec(descriptor: PipelineDescriptor.parse(commented, source: "b", baseDirectory: "/"))
        #expect(a.canonicalText == b.canonicalText)
        #expect(a.modelID() == b.modelID())
        #expect(a.canonicalText.contains("tail_mass = "))
    }
}
