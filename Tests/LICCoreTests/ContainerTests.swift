import Testing
@testable import LICCore

/// A small valid container: 3 streams, one of them empty.
private func sampleContainer() -> Container {
    Container(
        modelID: SHA256.hash(Array("model descriptor and weights".utf8)),
        width: 7, height: 3, channels: 3, bitDepth: 8,
        streams: [
            ContainerStream(tag: "PIPE", bytes: Array("hello".utf8)),
            ContainerStream(tag: "SYM0", bytes: [0, 1, 2, 3, 250, 251]),
            ContainerStream(tag: "EMPT", bytes: []),
        ])
}

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

private func putLE32(_ value: UInt32, into bytes: inout [UInt8], at offset: Int) {
    for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
}

/// Recomputes the header CRC after a test has edited header fields, so the
/// edit reaches the field validation instead of the checksum check.
private func resealHeader(_ bytes: inout [UInt8]) {
    putLE32(CRC32C.checksum(Array(bytes[0..<56])), into: &bytes, at: 56)
}

@Suite struct ContainerTests {
    @Test func roundTrip() throws {
        let original = sampleContainer()
        let bytes = try original.serialized()
        #expect(bytes.count == 60 + 3 * 12 + 5 + 6 + 0)
        #expect(try Container(parsing: bytes) == original)
    }

    @Test func roundTripWithoutStreams() throws {
        var container = sampleContainer()
        container.streams = []
        container.channels = 4
        container.width = 65535
        container.height = 1
        let bytes = try container.serialized()
        #expect(bytes.count == 60)
        #expect(try Container(parsing: bytes) == container)
    }

    @Test func headerLayoutIsLittleEndian() throws {
        let bytes = try sampleBytes()
        #expect(Array(bytes[0..<8]) == [0x89, 0x4C, 0x49, 0x43, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(Array(bytes[8..<12]) == [1, 0, 0, 0])                       // version 1, flags 0
        #expect(Array(bytes[12..<44]) == sampleContainer().modelID)
        #expect(Array(bytes[44..<54]) == [7, 0, 0, 0, 3, 0, 0, 0, 3, 8])   // width, height, channels, depth
        #expect(Array(bytes[54..<56]) == [3, 0])                           // stream count
        let crc = CRC32C.checksum(Array(bytes[0..<56]))
        #expect(Array(bytes[56..<60]) == [0, 8, 16, 24].map { UInt8(truncatingIfNeeded: crc >> $0) })
        #expect(Array(bytes[60..<68]) == Array("PIPE".utf8) + [5, 0, 0, 0])
    }

    @Test func everyTruncationThrows() throws {
        let bytes = try sampleBytes()
        for length in 0..<bytes.count {
            #expect(parseError(Array(bytes[..<length])) != nil, "prefix of \(length) bytes parsed")
        }
    }

    @Test func truncationInsideAStreamReportsOffset() throws {
        let bytes = try sampleBytes()
        // Cut inside PIPE's data: 5 bytes needed at offset 72.
        #expect(parseError(Array(bytes[..<74])) == .truncated(offset: 72, needed: 5))
    }

    /// Every bit is covered by the magic, the version check or a CRC, so
    /// every single-bit flip must be rejected.
    @Test func everySingleBitFlipThrows() throws {
        let bytes = try sampleBytes()
        var accepted: [Int] = []
        for bit in 0..<(bytes.count * 8) {
            var damaged = bytes
            damaged[bit / 8] ^= UInt8(1 << (bit % 8))
            if parseError(damaged) == nil { accepted.append(bit) }
        }
        #expect(accepted.isEmpty, "flips accepted at bits \(accepted)")
    }

    @Test func hugeDeclaredLengthIsTruncatedNotAllocated() throws {
        var bytes = try sampleBytes()
        putLE32(0xFFFF_FFFF, into: &bytes, at: 64) // PIPE's length field
        #expect(parseError(bytes) == .truncated(offset: 72, needed: 0xFFFF_FFFF))
    }

    @Test func trailingBytesAreRejected() throws {
        let bytes = try sampleBytes()
        #expect(parseError(bytes + [0]) == .trailingBytes(offset: bytes.count))
    }

    @Test func pngIsRecognised() {
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13]
        let error = parseError(png)
        #expect(error == .notALicFile(looksLikePNG: true))
        #expect(error?.description.contains("PNG") == true)
        #expect(parseError(Array("just text".utf8)) == .notALicFile(looksLikePNG: false))
        #expect(parseError([]) == .notALicFile(looksLikePNG: false))
    }

    @Test func otherVersionIsRejected() throws {
        var bytes = try sampleBytes()
        bytes[8] = 2
        #expect(parseError(bytes) == .unsupportedVersion(found: 2))
    }

    @Test func headerDamageIsAChecksumMismatch() throws {
        var bytes = try sampleBytes()
        bytes[44] = 8 // width 7 -> 8
        guard case .headerChecksumMismatch = parseError(bytes) else {
            Issue.record("expected headerChecksumMismatch")
            return
        }
    }

    @Test func streamDamageNamesTagIndexAndOffset() throws {
        var bytes = try sampleBytes()
        // SYM0 record starts at 60 + 12 + 5 = 77; its last data byte is at 77 + 12 + 5.
        bytes[77 + 12 + 5] ^= 0x01
        let error = parseError(bytes)
        #expect(error == .streamChecksumMismatch(tag: "SYM0", index: 1, offset: 77))
        #expect(error?.description.contains("byte offset 77") == true)
    }

    @Test func forgedHeaderFieldsAreValidatedAfterTheChecksum() throws {
        let good = try sampleBytes()

        var zeroWidth = good
        putLE32(0, into: &zeroWidth, at: 44)
        resealHeader(&zeroWidth)
        #expect(parseError(zeroWidth) == .absurdDimensions(width: 0, height: 3))

        var tooManyPixels = good
        putLE32(20000, into: &tooManyPixels, at: 44)
        putLE32(20000, into: &tooManyPixels, at: 48)
        resealHeader(&tooManyPixels)
        #expect(parseError(tooManyPixels) == .absurdDimensions(width: 20000, height: 20000))

        var twoChannels = good
        twoChannels[52] = 2
        resealHeader(&twoChannels)
        #expect(parseError(twoChannels) == .badChannels(2))

        var sixteenBit = good
        sixteenBit[53] = 16
        resealHeader(&sixteenBit)
        #expect(parseError(sixteenBit) == .unsupportedBitDepth(16))

        var manyStreams = good
        manyStreams[54] = 65
        resealHeader(&manyStreams)
        #expect(parseError(manyStreams) == .tooManyStreams(65))

        var flags = good
        flags[10] = 1
        resealHeader(&flags)
        #expect(parseError(flags) == .unsupportedFlags(found: 1))

        var badTag = good
        badTag[61] = 0x07 // "P\u{7}PE"
        #expect(parseError(badTag) == .badTag(offset: 60))
    }

    @Test func serializeEnforcesTheSameLimits() {
        var c = sampleContainer()
        c.width = 0
        #expect(serializeError(c) == .absurdDimensions(width: 0, height: 3))
        c.width = 65536
        #expect(serializeError(c) == .absurdDimensions(width: 65536, height: 3))
        c.width = 20000
        c.height = 20000
        #expect(serializeError(c) == .absurdDimensions(width: 20000, height: 20000))

        c = sampleContainer()
        c.channels = 2
        #expect(serializeError(c) == .badChannels(2))

        c = sampleContainer()
        c.bitDepth = 16
        #expect(serializeError(c) == .unsupportedBitDepth(16))

        c = sampleContainer()
        c.modelID = [UInt8](repeating: 0, count: 31)
        #expect(serializeError(c) == .badModelID(length: 31))

        c = sampleContainer()
        c.streams = Array(repeating: ContainerStream(tag: "DATA", bytes: []), count: 65)
        #expect(serializeError(c) == .tooManyStreams(65))
        c.streams = Array(repeating: ContainerStream(tag: "DATA", bytes: [1]), count: 64)
        #expect(serializeError(c) == nil)

        for tag in ["ABC", "ABCDE", "AB\u{7}D", "ÄBCD", ""] {
            c = sampleContainer()
            c.streams[1].tag = tag
            #expect(serializeError(c) == .badTag(offset: 77), "tag \(tag.debugDescription)")
        }
    }

    @Test func messagesNameByteOffsets() {
        let errors: [ContainerError] = [
            .notALicFile(looksLikePNG: false), .unsupportedVersion(found: 9), .truncated(offset: 12, needed: 4),
            .headerChecksumMismatch(stored: 1, computed: 2), .streamChecksumMismatch(tag: "SYM0", index: 0, offset: 60),
            .absurdDimensions(width: 0, height: 0), .badChannels(2), .trailingBytes(offset: 99),
            .tooManyStreams(70), .badTag(offset: 60),
        ]
        for error in errors {
            #expect(error.description.contains("byte offset"), "\(error)")
        }
    }
}
