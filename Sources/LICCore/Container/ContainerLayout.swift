/// Byte layout of a LIC container (format version 2) and the little-endian
/// read/write helpers.
///
///     offset  size   field
///          0     4   magic 0x89 'L' 'I' 'C'
///          4     1   format version (2)
///          5     1   flags: bit 0 = stream 0 is the embedded pipeline ("PIPE");
///                    bit 1 = a rate level follows the format byte;
///                    bit 2 = a tile side follows (after the rate level); bits 3-7 are 0
///          6    16   model id (the first 16 bytes of the model's SHA-256)
///         22   1-3   width, unsigned LEB128
///          .   1-3   height, unsigned LEB128
///          .     1   (bit depth - 1) << 4 | channels        (0x73: 8-bit, 3 channels)
///          .    (2)  with flag bit 1: the rate level of a variable-rate model, u16 in units of 1/256
///          .    (2)  with flag bit 2: the tile side the coding passes used, u16 in units of 16 pixels
///          .   1-3   stream count n, unsigned LEB128 (n <= 64, so 1 byte in practice)
///          .   1-5   n times: stream length, unsigned LEB128 (each <= 2^32 - 1)
///          h     4   CRC32C of bytes 0..<h (u32)
///        h+4         n times: the stream's bytes, then the CRC32C of those bytes (u32)
///
/// Multi-byte integers are little-endian. Varints (LEB128) carry 7 bits per
/// byte, least significant group first, high bit set on every byte but the
/// last; only the shortest encoding is accepted (a multi-byte varint may not
/// end in a zero byte), and width, height and count take at most 3 bytes,
/// stream lengths at most 5.
///
/// Streams carry no tags on disk: with flag bit 0 the first stream is "PIPE",
/// and the others are "S000", "S001", ... in order. Every header bit is covered
/// by the magic, the version check or the header CRC; stream bytes by their
/// own CRC, which follows them. The overhead over the streams' bytes is
/// 28 + |width| + |height| + sum of |length_i| + 4 n bytes (|x| the varint
/// size), 2 more with a rate level: 45 bytes for a 768x512 image with streams of 2,000 and 30,000 bytes,
/// and at most 51 for 2 streams and 60 for 3 streams of any size.
///
/// Format 1 (before this release) began with the 8-byte magic
/// 0x89 'L' 'I' 'C' 0x0D 0x0A 0x1A 0x0A followed by a u16 version of 1; such
/// files are recognised and refused with `ContainerError.formatVersion1`.
extension Container {
    enum Layout {
        static let magic: [UInt8] = [0x89, 0x4C, 0x49, 0x43]
        static let pngMagicPrefix: [UInt8] = [0x89, 0x50, 0x4E, 0x47]
        /// The 8-byte magic of format 1; its first 4 bytes are `magic`.
        static let format1Magic: [UInt8] = [0x89, 0x4C, 0x49, 0x43, 0x0D, 0x0A, 0x1A, 0x0A]
        static let format1VersionOffset = 8

        static let versionOffset = 4
        static let flagsOffset = 5
        static let modelIDOffset = 6
        static let widthOffset = 22

        /// Flag bit 0: the first stream is the embedded pipeline descriptor.
        static let pipelineFlag: UInt8 = 0x01
        /// Flag bit 1: a u16 rate level (units of 1/256) follows the format byte.
        static let rateLevelFlag: UInt8 = 0x02
        static let rateLevelUnits = 256.0
        /// Flag bit 2: a u16 tile side (units of 16 pixels) follows.
        static let tileSideFlag: UInt8 = 0x04
        static let tileSideUnit = 16
        /// Flag bit 3: streams may be segmented (RANS: several independently
        /// decodable parts); no field. Readers without segments refuse the file.
        static let segmentedStreamsFlag: UInt8 = 0x08

        /// Longest accepted varints: 3 bytes hold 21 bits (sides up to 65535 and
        /// counts up to 64 need at most 3 and 1), 5 bytes hold a u32 length.
        static let smallVarintBytes = 3
        static let lengthVarintBytes = 5
        static let maxStreamLength = UInt64(UInt32.max)

        /// Size of each stream's trailing CRC32C.
        static let crcSize = 4
    }

    /// Bounds-checked little-endian reader. Every read checks the remaining
    /// length first and throws `.truncated` rather than trapping.
    struct Reader {
        let bytes: [UInt8]
        private(set) var offset = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var remaining: Int { bytes.count - offset }

        func require(_ count: Int) throws(ContainerError) {
            guard count <= remaining else { throw .truncated(offset: offset, needed: count) }
        }

        mutating func u8() throws(ContainerError) -> UInt8 {
            try require(1)
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func u16() throws(ContainerError) -> UInt16 {
            try require(2)
            defer { offset += 2 }
            return UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
        }

        mutating func u32() throws(ContainerError) -> UInt32 {
            try require(4)
            defer { offset += 4 }
            return UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8
                | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
        }

        /// An unsigned LEB128 varint of at most `maxBytes` bytes (at most 9),
        /// in its shortest encoding; `field` names it in the error.
        mutating func varint(maxBytes: Int, field: String) throws(ContainerError) -> UInt64 {
            let start = offset
            var value: UInt64 = 0
            for index in 0..<maxBytes {
                let byte = try u8()
                value |= UInt64(byte & 0x7F) << UInt64(7 * index)
                if byte & 0x80 == 0 {
                    // A zero final group means a shorter encoding existed.
                    guard index == 0 || byte != 0 else { throw .malformedVarint(field: field, offset: start) }
                    return value
                }
            }
            throw .malformedVarint(field: field, offset: start)
        }

        /// The next `count` bytes; checked before any slicing or copying.
        mutating func take(_ count: Int) throws(ContainerError) -> ArraySlice<UInt8> {
            try require(count)
            defer { offset += count }
            return bytes[offset..<offset + count]
        }
    }

    /// Little-endian writer, byte by byte so host byte order never matters.
    struct Writer {
        private(set) var bytes: [UInt8] = []

        init(capacity: Int) { bytes.reserveCapacity(capacity) }

        var count: Int { bytes.count }

        mutating func u8(_ value: UInt8) { bytes.append(value) }

        mutating func u16(_ value: UInt16) {
            bytes.append(UInt8(truncatingIfNeeded: value))
            bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        }

        mutating func u32(_ value: UInt32) {
            for shift in stride(from: 0, to: 32, by: 8) {
                bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift)))
            }
        }

        /// Unsigned LEB128, shortest encoding.
        mutating func varint(_ value: UInt64) {
            var rest = value
            while rest >= 0x80 {
                bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
                rest >>= 7
            }
            bytes.append(UInt8(rest))
        }

        /// Bytes `varint(value)` appends.
        static func varintSize(_ value: UInt64) -> Int {
            var size = 1
            var rest = value >> 7
            while rest != 0 {
                size += 1
                rest >>= 7
            }
            return size
        }

        mutating func append<S: Sequence>(_ data: S) where S.Element == UInt8 {
            bytes.append(contentsOf: data)
        }

        /// CRC32C of `bytes[range]` as written so far.
        func crc32c(of range: Range<Int>) -> UInt32 {
            bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[range])) }
        }
    }
}
