/// Why a byte sequence is not a valid LIC container, or why a `Container`
/// value cannot be serialized. Messages name the byte offset of the
/// offending field (for serialization: its offset in the would-be output).
public enum ContainerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The first bytes are not the LIC magic.
    case notALicFile(looksLikePNG: Bool)
    case unsupportedVersion(found: UInt16)
    /// Flags are reserved and must be 0 in format version 1.
    case unsupportedFlags(found: UInt16)
    /// `needed` bytes were required at `offset`, but the input ends sooner.
    case truncated(offset: Int, needed: Int)
    case headerChecksumMismatch(stored: UInt32, computed: UInt32)
    /// `offset` is where the stream's record (its tag) starts.
    case streamChecksumMismatch(tag: String, index: Int, offset: Int)
    case absurdDimensions(width: Int, height: Int)
    case badChannels(Int)
    case unsupportedBitDepth(Int)
    case badModelID(length: Int)
    case trailingBytes(offset: Int)
    case tooManyStreams(Int)
    /// The tag at `offset` is not exactly 4 printable ASCII characters.
    case badTag(offset: Int)
    /// A stream is longer than its u32 length field can express.
    case streamTooLarge(index: Int, length: Int)

    public var description: String {
        typealias L = Container.Layout
        switch self {
        case let .notALicFile(looksLikePNG):
            return "not a LIC container: bad magic at byte offset 0"
                + (looksLikePNG ? " (this looks like a PNG image, not a compressed LIC file)" : "")
        case let .unsupportedVersion(found):
            return "unsupported LIC format version \(found) at byte offset \(L.versionOffset) "
                + "(this build reads version \(Container.formatVersion))"
        case let .unsupportedFlags(found):
            return "unsupported header flags 0x\(String(found, radix: 16)) at byte offset \(L.flagsOffset)"
        case let .truncated(offset, needed):
            return "truncated container: \(needed) bytes needed at byte offset \(offset) run past the end of the data"
        case let .headerChecksumMismatch(stored, computed):
            return "corrupt header: CRC32C at byte offset \(L.headerCRCOffset) is 0x\(hex(stored)), "
                + "but the header bytes give 0x\(hex(computed))"
        case let .streamChecksumMismatch(tag, index, offset):
            return "corrupt stream #\(index) '\(tag)' at byte offset \(offset): CRC32C mismatch"
        case let .absurdDimensions(width, height):
            return "unsupported image size \(width)x\(height) at byte offset \(L.widthOffset) "
                + "(each side 1...\(Container.maxSide), at most \(Container.maxPixels) pixels)"
        case let .badChannels(channels):
            return "unsupported channel count \(channels) at byte offset \(L.channelsOffset) (expected 1, 3 or 4)"
        case let .unsupportedBitDepth(depth):
            return "unsupported bit depth \(depth) at byte offset \(L.bitDepthOffset) (expected 8)"
        case let .badModelID(length):
            return "model id at byte offset \(L.modelIDOffset) must be \(L.modelIDSize) bytes, got \(length)"
        case let .trailingBytes(offset):
            return "unexpected bytes after the last stream, starting at byte offset \(offset)"
        case let .tooManyStreams(count):
            return "stream count \(count) at byte offset \(L.streamCountOffset) exceeds the limit of \(Container.maxStreams)"
        case let .badTag(offset):
            return "invalid stream tag at byte offset \(offset): expected 4 printable ASCII characters"
        case let .streamTooLarge(index, length):
            return "stream #\(index) is \(length) bytes, more than a u32 length can express"
        }
    }

    private func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }
}
