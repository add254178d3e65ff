import Testing
@testable import LICCore

private let sampleModelID = Array(SHA256.hash(Array("model descriptor and weights".utf8)).prefix(16))

/// A small valid container: an embedded pipeline and two coded streams, one of them empty.
private func sampleContainer() -> Container {
    Container(
        modelID: sampleModelID,
        width: 7, height: 3, channels: 3, bitDepth: 8,
        streams: [
            ContainerStream(tag: "PIPE", bytes: Array("hello".utf8)),
            ContainerStream(tag: "S000", bytes: [0, 1, 2, 3, 250, 251]),
            ContainerStream(tag: "S001", bytes: []),
        ])
}

// The sample's layout: header 0..<29, header CRC 29..<33, then
// PIPE 33..<38 + CRC 38..<42, S000 42..<48 + CRC 48..<52, S001 (empty) + CRC 52..<56.

private func sampleBytes() throws -> [UInt8] {
    try sampleContainer().serialized()
}

/// Parses and returns the error, or nil if parsing succeeded.
private func parseError(_ bytes: [UInt8]) -> ContainerError? {
    do {
        _ = try Container(parsing: bytes)
        return nil
    } catch {
        return error
    }
}

private func serializeError(_ container: Container) -> ContainerError? {
    do {
        _ = try container.serialized()
        return nil
    } catch {
        return error
    }
}

private func le32(_ value: UInt32) -> [UInt8] {
    [0, 8, 16, 24].map { UInt8(truncatingIfNeeded: value >> $0) }
}

/// A format-2 header written by hand from the layout table, field by field
/// as raw bytes (so that tests can forge any of them), with a correct CRC.
private func forgeHeader(version: UInt8 = 2, flags: UInt8 = 1, modelID: [UInt8] = sampleModelID,
                         width: [UInt8] = [7], height: [UInt8] = [3], format: UInt8 = 0x73,
                         count: [UInt8] = [3], lengths: [[UInt8]] = [[5], [6], [0]]) -> [UInt8] {
    var header: [UInt8] = [0x89, 0x4C, 0x49, 0x43, version, flags] + modelID + width + height + [format]
    header += count + lengths.flatMap { $0 }
    return header + le32(CRC32C.checksum(header))
}

/// The sample's streams as stored: each one's bytes, then their CRC32C.
private func sampleBody() -> [UInt8] {
    sampleContainer().streams.flatMap { $0.bytes + le32(CRC32C.checksum($0.bytes)) }
}

/// Deterministic filler bytes (xorshift), so that stream contents are not trivially regular.
private func filler(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed | 1
    return (0..<count).map { _ in
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return UInt8(truncatingIfNeeded: state)
    }
}

private func codedStreams(_ lengths: [Int]) -> [ContainerStream] {
    lengths.enumerated().map { ContainerStream(tag: Container.streamTag($0), bytes: filler($1, seed: UInt64($0 + 1))) }
}

@Suite struct ContainerTests {
    @Test func roundTrip() throws {
        let original = sampleContainer()
        let bytes = try original.serialized()
        #expect(bytes.count == 33 + (5 + 4) + (6 + 4) + (0 + 4))
        #expect(try Container(parsing: bytes) == original)
    }

    @Test func roundTripWithoutStreams() throws {
        var container = sampleContainer()
        container.streams = []
        container.channels = 4
        container.width = 65535
        container.height = 1
        let bytes = try container.serialized()
        #expect(bytes.count == 22 + 3 + 1 + 1 + 1 + 4)
        #expect(bytes[5] == 0) // no pipeline flag
        #expect(try Container(parsing: bytes) == container)
    }

    @Test func roundTripWithAndWithoutAnEmbeddedPipeline() throws {
        var container = sampleContainer()
        container.streams = codedStreams([3, 0, 200])
        let coded = try container.serialized()
        #expect(coded[5] == 0)
        #expect(try Container(parsing: coded) == container)

        container.streams = [ContainerStream(tag: "PIPE", bytes: Array("only a pipeline".utf8))]
        let pipelineOnly = try container.serialized()
        #expect(pipelineOnly[5] == 1)
        #expect(try Container(parsing: pipelineOnly) == container)
    }

    /// Sides, counts and lengths across the varint size boundaries.
    @Test func roundTripAcrossVarintBoundaries() throws {
        let sides = [(1, 1), (127, 128), (128, 127), (16383, 4096), (16384, 4096), (65535, 1024), (1024, 65535)]
        let lengths = [0, 1, 127, 128, 16383, 16384, 70_000]
        for (index, (width, height)) in sides.enumerated() {
            var container = sampleContainer()
            (container.width, container.height) = (width, height)
            container.channels = [1, 3, 4][index % 3]
            container.streams = codedStreams(Array(lengths[index...]))
            let bytes = try container.serialized()
            #expect(try Container(parsing: bytes) == container, "\(width)x\(height)")
        }
    }

    /// The serializer's bytes equal a header written by hand from the layout table.
    @Test func layoutMatchesTheTable() throws {
        let bytes = try sampleBytes()
        #expect(bytes == forgeHeader() + sampleBody())
        #expect(Array(bytes[0..<6]) == [0x89, 0x4C, 0x49, 0x43, 2, 1])          // magic, version 2, flags: PIPE
        #expect(Array(bytes[6..<22]) == sampleModelID)
        #expect(Array(bytes[22..<29]) == [7, 3, 0x73, 3, 5, 6, 0])              // w, h, depth|ch, count, lengths
        #expect(Array(bytes[29..<33]) == le32(CRC32C.checksum(Array(bytes[0..<29]))))
        #expect(Array(bytes[33..<42]) == Array("hello".utf8) + le32(CRC32C.checksum(Array("hello".utf8))))
        #expect(Array(bytes[52..<56]) == [0, 0, 0, 0])                          // CRC32C of no bytes

        var container = sampleContainer()
        (container.width, container.height, container.channels) = (300, 65535, 1)
        container.streams = codedStreams([130])
        let wide = try container.serialized()
        // 300 = 0b10_0101100, 65535 = 0b11_1111111_1111111, 130 = 0b1_0000010.
        #expect(Array(wide[5..<6]) == [0])
        #expect(Array(wide[22..<31]) == [0xAC, 0x02, 0xFF, 0xFF, 0x03, 0x71, 1, 0x82, 0x01])
        #expect(wide.count == 31 + 4 + 130 + 4)
    }

    /// A learned model's file: its coded streams plus at most 64 bytes.
    @Test func overheadIsAtMost64Bytes() throws {
        func overhead(width: Int, height: Int, streams: [ContainerStream]) throws -> Int {
            let container = Container(modelID: sampleModelID, width: width, height: height, channels: 3,
                                      bitDepth: 8, streams: streams)
            let bytes = try container.serialized()
            #expect(try Container(parsing: bytes) == container)
            return bytes.count - streams.reduce(0) { $0 + $1.bytes.count }
        }
        // 768x512 (Kodak): 28 + 2 + 2 + sum of length varints + 4 per stream.
        let two = try overhead(width: 768, height: 512, streams: codedStreams([2_000, 30_000]))
        #expect(two == 45)
        #expect(two <= 64)
        let three = try overhead(width: 768, height: 512, streams: codedStreams([2_000, 30_000, 5_000]))
        #expect(three == 51)
        #expect(three <= 64)
        let withPipeline = try overhead(width: 768, height: 512, streams:
            [ContainerStream(tag: "PIPE", bytes: filler(870, seed: 9))] + codedStreams([2_000, 30_000]))
        #expect(withPipeline == 51)
        // Near the worst case: a 3-byte and a 2-byte side, 4-byte lengths (2 MiB streams).
        let large = try overhead(width: 65535, height: 1024, streams: codedStreams([1 << 21, 1 << 21, 1 << 21]))
        #expect(large == 28 + 3 + 2 + 3 * 4 + 3 * 4)
        #expect(large <= 64)
    }

    @Test func everyTruncationThrows() throws {
        let bytes = try sampleBytes()
        for length in 0..<bytes.count {
            #expect(parseError(Array(bytes[..<length])) != nil, "prefix of \(length) bytes parsed")
        }
    }

    @Test func truncationReportsOffsets() throws {
        let bytes = try sampleBytes()
        #expect(parseError(Array(bytes[..<4])) == .truncated(offset: 4, needed: 1))    // no version
        #expect(parseError(Array(bytes[..<20])) == .truncated(offset: 6, needed: 16))  // inside the model id
        #expect(parseError(Array(bytes[..<31])) == .truncated(offset: 29, needed: 4))  // inside the header CRC
        #expect(parseError(Array(bytes[..<35])) == .truncated(offset: 33, needed: 5))  // inside PIPE's bytes
        #expect(parseError(Array(bytes[..<40])) == .truncated(offset: 38, needed: 4))  // inside PIPE's CRC
        #expect(parseError(Array(bytes[..<54])) == .truncated(offset: 52, needed: 4))  // inside S001's CRC

        var longWidth = forgeHeader(width: [0x80, 0x80, 0x01])
        longWidth.removeSubrange(23...)
        #expect(parseError(longWidth) == .truncated(offset: 23, needed: 1))           // inside a varint
    }

    /// Every bit is covered by the magic, the version check or a CRC, so
    /// every single-bit flip must be rejected.
    @Test func everySingleBitFlipThrows() throws {
        var multiByte = sampleContainer()
        (multiByte.width, multiByte.height) = (768, 512)
        multiByte.streams = codedStreams([200, 300])
        for bytes in [try sampleBytes(), try multiByte.serialized()] {
            var accepted: [Int] = []
            for bit in 0..<(bytes.count * 8) {
                var damaged = bytes
                damaged[bit / 8] ^= UInt8(1 << (bit % 8))
                if parseError(damaged) == nil { accepted.append(bit) }
            }
            #expect(accepted.isEmpty, "flips accepted at bits \(accepted)")
        }
    }

    @Test func hostileLengthsAreCheckedBeforeAllocating() throws {
        let body = sampleBody()
        // 2^32 - 1 bytes declared for PIPE, with a valid header CRC.
        let huge = forgeHeader(lengths: [[0xFF, 0xFF, 0xFF, 0xFF, 0x0F], [6], [0]])
        #expect(huge.count == 37)
        #expect(parseError(huge + body) == .truncated(offset: 37, needed: 0xFFFF_FFFF))
        // The last stream claims more than is left.
        #expect(parseError(forgeHeader(lengths: [[5], [6], [100]]) + body) == .truncated(offset: 52, needed: 100))
        // A length one too long shifts the CRC: caught by the stream's checksum.
        #expect(parseError(forgeHeader(lengths: [[6], [6], [0]]) + body)
            == .streamChecksumMismatch(tag: "PIPE", index: 0, offset: 33))
        // 2^32 does not fit the format's length limit; 6-byte varints are too long.
        #expect(parseError(forgeHeader(lengths: [[5], [0x80, 0x80, 0x80, 0x80, 0x10], [0]]) + body)
            == .malformedVarint(field: "length of stream #1", offset: 27))
        #expect(parseError(forgeHeader(lengths: [[5], [6], [0x80, 0x80, 0x80, 0x80, 0x80, 0x01]]) + body)
            == .malformedVarint(field: "length of stream #2", offset: 28))
    }

    @Test func nonMinimalAndOverlongVarintsAreRejected() throws {
        let body = sampleBody()
        #expect(parseError(forgeHeader(width: [0x87, 0x00]) + body) == .malformedVarint(field: "width", offset: 22))
        #expect(parseError(forgeHeader(width: [0x80, 0x80, 0x80, 0x01]) + body)
            == .malformedVarint(field: "width", offset: 22))
        #expect(parseError(forgeHeader(height: [0x83, 0x80, 0x00]) + body) == .malformedVarint(field: "height", offset: 23))
        #expect(parseError(forgeHeader(count: [0x83, 0x00]) + body) == .malformedVarint(field: "stream count", offset: 25))
        #expect(parseError(forgeHeader(lengths: [[0x85, 0x00], [6], [0]]) + body)
            == .malformedVarint(field: "length of stream #0", offset: 26))
        let error = parseError(forgeHeader(width: [0x87, 0x00]) + body)
        #expect(error?.description.contains("width at byte offset 22") == true)
    }

    @Test func trailingBytesAreRejected() throws {
        let bytes = try sampleBytes()
        #expect(parseError(bytes + [0]) == .trailingBytes(offset: 56))
    }

    @Test func pngIsRecognised() {
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13]
        let error = parseError(png)
        #expect(error == .notALicFile(looksLikePNG: true))
        #expect(error?.description.contains("PNG") == true)
        #expect(parseError(Array("just text".utf8)) == .notALicFile(looksLikePNG: false))
        #expect(parseError([]) == .notALicFile(looksLikePNG: false))
    }

    /// A file as format 1 wrote it: 8-byte magic, u16 version 1, u16 flags,
    /// 32-byte model id, u32 width and height, channels, depth, u16 count, CRC.
    @Test func format1FilesGetAClearError() {
        var header: [UInt8] = [0x89, 0x4C, 0x49, 0x43, 0x0D, 0x0A, 0x1A, 0x0A, 1, 0, 0, 0]
        header += SHA256.hash(Array("model".utf8)) + [7, 0, 0, 0, 3, 0, 0, 0, 3, 8, 0, 0]
        let format1 = header + le32(CRC32C.checksum(header))
        #expect(format1.count == 60)
        let error = parseError(format1)
        #expect(error == .formatVersion1)
        #expect(error?.description.contains("LIC container format 1") == true)
        #expect(error?.description.contains("re-encode it from the original image") == true)
        #expect(parseError(Array(format1[..<10])) == .formatVersion1)

        // Format 1's magic with another version, or cut before its version.
        var other = format1
        other[8] = 3
        #expect(parseError(other) == .unsupportedVersion(found: 3, offset: 8))
        #expect(parseError(Array(format1[..<8])) == .truncated(offset: 8, needed: 2))
    }

    @Test func otherVersionIsRejected() throws {
        for version: UInt8 in [0, 1, 3, 0x0D, 0xFF] {
            var bytes = try sampleBytes()
            bytes[4] = version
            #expect(parseError(bytes) == .unsupportedVersion(found: Int(version), offset: 4))
        }
        #expect(ContainerError.unsupportedVersion(found: 3, offset: 4).description.contains("byte offset 4"))
    }

    @Test func headerDamageIsAChecksumMismatch() throws {
        var bytes = try sampleBytes()
        bytes[22] = 8 // width 7 -> 8
        guard case let .headerChecksumMismatch(stored, computed, offset) = parseError(bytes) else {
            Issue.record("expected headerChecksumMismatch")
            return
        }
        #expect(offset == 29)
        #expect(stored != computed)
        #expect(ContainerError.headerChecksumMismatch(stored: stored, computed: computed, offset: offset)
            .description.contains("byte offset 29"))
    }

    @Test func streamDamageNamesTagIndexAndOffset() throws {
        var bytes = try sampleBytes()
        bytes[47] ^= 0x01 // the last byte of S000 (42..<48)
        let error = parseError(bytes)
        #expect(error == .streamChecksumMismatch(tag: "S000", index: 1, offset: 42))
        #expect(error?.description.contains("byte offset 42") == true)

        bytes = try sampleBytes()
        bytes[55] ^= 0x80 // the CRC of the empty S001
        #expect(parseError(bytes) == .streamChecksumMismatch(tag: "S001", index: 2, offset: 52))
    }

    @Test func tagsComeFromTheFlags() throws {
        let withoutFlag = try Container(parsing: forgeHeader(flags: 0) + sampleBody())
        #expect(withoutFlag.streams.map(\.tag) == ["S000", "S001", "S002"])
        #expect(withoutFlag.streams.map(\.bytes) == sampleContainer().streams.map(\.bytes))
        let withFlag = try Container(parsing: forgeHeader(flags: 1) + sampleBody())
        #expect(withFlag.streams.map(\.tag) == ["PIPE", "S000", "S001"])
    }

    @Test func forgedHeaderFieldsAreValidatedAfterTheChecksum() throws {
        let body = sampleBody()

        let zeroWidth = forgeHeader(width: [0]) + body
        #expect(parseError(zeroWidth) == .absurdDimensions(width: 0, height: 3))
        var unsealed = zeroWidth
        unsealed[32] ^= 0xFF // the header CRC, now at 29..<33
        guard case .headerChecksumMismatch = parseError(unsealed) else {
            Issue.record("a forged width was believed before the checksum")
            return
        }

        #expect(parseError(forgeHeader(width: [0x80, 0x80, 0x04]) + body) == .absurdDimensions(width: 65536, height: 3))
        // 20000 = 0b1_0011100_0100000
        #expect(parseError(forgeHeader(width: [0xA0, 0x9C, 0x01], height: [0xA0, 0x9C, 0x01]) + body)
            == .absurdDimensions(width: 20000, height: 20000))

        #expect(parseError(forgeHeader(format: 0x72) + body) == .badChannels(2, offset: 24))
        #expect(parseError(forgeHeader(format: 0x70) + body) == .badChannels(0, offset: 24))
        #expect(parseError(forgeHeader(format: 0xF3) + body) == .unsupportedBitDepth(16, offset: 24))
        #expect(parseError(forgeHeader(width: [0xAC, 0x02], format: 0x03) + body) == .unsupportedBitDepth(1, offset: 25))

        #expect(parseError(forgeHeader(flags: 0x11) + body) == .unsupportedFlags(found: 0x11))
        #expect(parseError(forgeHeader(flags: 0x80) + body) == .unsupportedFlags(found: 0x80))
        #expect(parseError(forgeHeader(flags: 1, count: [0], lengths: [])) == .pipelineFlagWithoutStream(offset: 25))
        #expect(try Container(parsing: forgeHeader(flags: 0, count: [0], lengths: [])).streams.isEmpty)
    }

    /// The count says how many length fields precede the header CRC, so it is
    /// bounded as soon as it is read.
    @Test func tooManyStreamsIsRefusedBeforeReadingTheirLengths() throws {
        let lengths = Array(repeating: [UInt8(0)], count: 65)
        let zeros = [UInt8](repeating: 0, count: 65 * 4)
        #expect(parseError(forgeHeader(flags: 0, count: [65], lengths: lengths) + zeros) == .tooManyStreams(65, offset: 25))
        #expect(parseError(forgeHeader(count: [0xC8, 0x01])) == .tooManyStreams(200, offset: 25))
        #expect(parseError(forgeHeader(width: [0xAC, 0x02], count: [0xFF, 0xFF, 0x7F])) == .tooManyStreams(2_097_151, offset: 26))
        // 64 empty streams are fine.
        let parsed = try Container(parsing: forgeHeader(flags: 0, count: [64], lengths: Array(lengths[..<64]))
                                   + zeros[..<(64 * 4)])
        #expect(parsed.streams.count == 64)
        #expect(parsed.streams.last?.tag == "S063")
    }

    @Test func serializeEnforcesTheSameLimits() throws {
        var c = sampleContainer()
        c.width = 0
        #expect(serializeError(c) == .absurdDimensions(width: 0, height: 3))
        c.width = 65536
        #expect(serializeError(c) == .absurdDimensions(width: 65536, height: 3))
        c.width = -1
        #expect(serializeError(c) == .absurdDimensions(width: -1, height: 3))
        c.width = 20000
        c.height = 20000
        #expect(serializeError(c) == .absurdDimensions(width: 20000, height: 20000))

        c = sampleContainer()
        c.channels = 2
        #expect(serializeError(c) == .badChannels(2, offset: 24))
        c.width = 300 // a 2-byte varint moves the field
        #expect(serializeError(c) == .badChannels(2, offset: 25))
        c.channels = 16
        #expect(serializeError(c) == .badChannels(16, offset: 25))

        c = sampleContainer()
        c.bitDepth = 16
        #expect(serializeError(c) == .unsupportedBitDepth(16, offset: 24))
        c.bitDepth = 0
        #expect(serializeError(c) == .unsupportedBitDepth(0, offset: 24))

        c = sampleContainer()
        c.modelID = SHA256.hash(Array("a whole SHA-256".utf8))
        #expect(serializeError(c) == .badModelID(length: 32))
        c.modelID = [UInt8](repeating: 0, count: 15)
        #expect(serializeError(c) == .badModelID(length: 15))
        #expect(ContainerError.badModelID(length: 15).description.contains("must be 16 bytes"))

        c = sampleContainer()
        c.streams = codedStreams(Array(repeating: 0, count: 65))
        #expect(serializeError(c) == .tooManyStreams(65, offset: 25))
        c.streams = codedStreams(Array(repeating: 1, count: 64))
        #expect(serializeError(c) == nil)
        #expect(try Container(parsing: c.serialized()) == c)
        c.streams = [ContainerStream(tag: "PIPE", bytes: [1])] + codedStreams(Array(repeating: 1, count: 63))
        #expect(try Container(parsing: c.serialized()) == c)
    }

    @Test func streamTagsMustFollowTheImpliedOrder() {
        func orderError(_ tags: [String]) -> ContainerError? {
            var c = sampleContainer()
            c.streams = tags.map { ContainerStream(tag: $0, bytes: [1, 2]) }
            return serializeError(c)
        }
        #expect(orderError(["S000", "S001", "S002"]) == nil)
        #expect(orderError(["PIPE"]) == nil)
        #expect(orderError([]) == nil)
        #expect(orderError(["S001"]) == .badStreamOrder(index: 0, tag: "S001"))
        #expect(orderError(["S000", "PIPE"]) == .badStreamOrder(index: 1, tag: "PIPE"))
        #expect(orderError(["PIPE", "PIPE"]) == .badStreamOrder(index: 1, tag: "PIPE"))
        #expect(orderError(["PIPE", "S000", "S000"]) == .badStreamOrder(index: 2, tag: "S000"))
        #expect(orderError(["PIPE", "S000", "S002"]) == .badStreamOrder(index: 2, tag: "S002"))
        for tag in ["ABC", "ABCDE", "AB\u{7}D", "ÄBCD", "", "SYM0", "s000", "S0", "S0000"] {
            #expect(orderError(["PIPE", tag]) == .badStreamOrder(index: 1, tag: tag), "tag \(tag.debugDescription)")
        }
        let message = orderError(["S000", "PIPE"])?.description ?? ""
        #expect(message.contains("unexpected stream 'PIPE' as stream #1"), "\(message)")
        #expect(message.contains("'S000', 'S001'"), "\(message)")
        #expect(Container.streamTag(0) == "S000")
        #expect(Container.streamTag(63) == "S063")
    }

    @Test func messagesNameByteOffsets() {
        let errors: [ContainerError] = [
            .notALicFile(looksLikePNG: false), .formatVersion1, .unsupportedVersion(found: 9, offset: 4),
            .unsupportedFlags(found: 2), .truncated(offset: 12, needed: 4),
            .malformedVarint(field: "width", offset: 22), .headerChecksumMismatch(stored: 1, computed: 2, offset: 29),
            .streamChecksumMismatch(tag: "S000", index: 0, offset: 60), .absurdDimensions(width: 0, height: 0),
            .badChannels(2, offset: 24), .unsupportedBitDepth(16, offset: 24), .badModelID(length: 3),
            .trailingBytes(offset: 99), .tooManyStreams(70, offset: 25), .pipelineFlagWithoutStream(offset: 25),
        ]
        for error in errors {
            #expect(error.description.contains("byte offset"), "\(error)")
        }
    }
}
