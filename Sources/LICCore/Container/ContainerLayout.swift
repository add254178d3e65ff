/// Byte layout of a LIC container and little-endian read/write helpers.
///
///     offset  size  field
///          0     8  magic 0x89 'L' 'I' 'C' 0x0D 0x0A 0x1A 0x0A
///          8     2  format version
///         10     2  flags (0)
///         12    32  model id
///         44     4  width
///         48     4  height
///         52     1  channels
///         53     1  bit depth
///         54     2  stream count
///         56     4  CRC32C of bytes 0..<56
///         60        streams: tag (4 ASCII), u32 length, u32 CRC32C, data
///
/// The stream CRC32C covers the tag, the length field and the data, so that
/// a damaged tag or length is detected too, not only damaged data.
extension Container {
    enum Layout {
        /// Like PNG's: a high byte catches 7-bit transfers, CR LF catches
        /// newline conversion, 0x1A stops DOS `type`, the final LF catches LF->CRLF.
        static let magic: [UInt8] = [0x89, 0x4C, 0x49, 0x43, 0x0D, 0x0A, 0x1A, 0x0A]
        static let pngMagicPrefix: [UInt8] = [0x89, 0x50, 0x4E, 0x47]

        static let versionOffset = 8
        static let flagsOffset = 10
        static let modelIDOffset = 12
        static let modelIDSize = 32
        static let widthOffset = 44
        static let heightOffset = 48
        static let channelsOffset = 52
        static let bitDepthOffset = 53
        static let streamCountOffset = 54
        static let headerCRCOffset = 56
        static let headerSize = 60

        /// Tag, length, CRC.
        static let streamHeaderSize = 12
        static let tagSize = 4
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

        mutating func append<S: Sequence>(_ data: S) where S.Element == UInt8 {
            bytes.append(contentsOf: data)
        }

        /// CRC32C of `bytes[range]` as written so far.
        func crc32c(of range: Range<Int>) -> UInt32 {
            bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[range])) }
        }
    }
}
