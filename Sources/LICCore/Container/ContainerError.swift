/// Why a byte sequence is not a valid LIC container, or why a `Container`
/// value cannot be serialized. Messages name the byte offset of the
/// offending field (for serialization: its offset in the would-be output);
/// fields after the model id move with the varints before them, so their
/// cases carry the offset found while parsing.
public enum ContainerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The first bytes are not the LIC magic.
    case notALicFile(looksLikePNG: Bool)
    /// The file has format 1's 8-byte magic and version 1: written by an older release.
    case formatVersion1
    /// The version at `offset` (4; 8 in a header with format 1's magic) is not one this build reads.
    case unsupportedVersion(found: Int, offset: Int)
    /// Flag bits other than bit 0 are reserved and must be 0.
    case unsupportedFlags(found: UInt8)
    /// `needed` bytes were required at `offset`, but the input ends sooner.
    case truncated(offset: Int, needed: Int)
    /// The varint `field` starting at `offset` is longer than allowed, not
    /// in its shortest form, or (a stream length) above 2^32 - 1.
    case malformedVarint(field: String, offset: Int)
    /// `offset` is where the header CRC is.
    case headerChecksumMismatch(stored: UInt32, computed: UInt32, offset: Int)
    /// `offset` is where the stream's bytes start; its CRC follows them.
    case streamChecksumMismatch(tag: String, index: Int, offset: Int)
    case absurdDimensions(width: Int, height: Int)
    /// `offset` is where the byte packing channels and bit depth is.
    case badChannels(Int, offset: Int)
    case unsupportedBitDepth(Int, offset: Int)
    case badModelID(length: Int)
    case trailingBytes(offset: Int)
    /// `offset` is where the stream count is.
    case tooManyStreams(Int, offset: Int)
    /// Flag bit 0 announces an embedded pipeline, but the stream count at `offset` is 0.
    case pipelineFlagWithoutStream(offset: Int)
    /// Serializing: stream #`index` has a tag other than the one its position
    /// implies (an optional "PIPE" first, then "S000", "S001", ... in order).
    case badStreamOrder(index: Int, tag: String)
    /// A stream is longer than the format's 2^32 - 1 byte limit.
    case streamTooLarge(index: Int, length: Int)
    /// Serializing: a rate level that is not a multiple of 1/256 in 0...255.996.
    case badRateLevel(Double)
    /// A tile side that is not a positive multiple of 16 below 2^20.
    case badTileSide(Int)

    public var description: String {
        typealias L = Container.Layout
        switch self {
        case let .notALicFile(looksLikePNG):
            return "not a LIC container: bad magic at byte offset 0"
                + (looksLikePNG ? " (this looks like a PNG image, not a compressed LIC file)" : "")
        case .formatVersion1:
            return "this file uses LIC container format 1 (an older release; version 1 at byte offset "
                + "\(L.format1VersionOffset)); this build reads format \(Container.formatVersion) only: "
                + "re-encode it from the original image"
        case let .unsupportedVersion(found, offset):
            return "unsupported LIC format version \(found) at byte offset \(offset) "
                + "(this build reads version \(Container.formatVersion))"
        case let .unsupportedFlags(found):
            return "unsupported header flags 0x\(String(found, radix: 16)) at byte offset \(L.flagsOffset) "
                + "(only bit 0, an embedded pipeline, bit 1, a rate level, bit 2, a tile side, and bit 3, segmented streams, are defined)"
        case let .truncated(offset, needed):
            return "truncated container: \(needed) bytes needed at byte offset \(offset) run past the end of the data"
        case let .malformedVarint(field, offset):
            return "malformed \(field) at byte offset \(offset): the varint is too long, not in its shortest "
                + "form, or out of range"
        case let .headerChecksumMismatch(stored, computed, offset):
            return "corrupt header: CRC32C at byte offset \(offset) is 0x\(hex(stored)), "
                + "but the header bytes give 0x\(hex(computed))"
        case let .streamChecksumMismatch(tag, index, offset):
            return "corrupt stream #\(index) '\(tag)' starting at byte offset \(offset): CRC32C mismatch"
        case let .absurdDimensions(width, height):
            return "unsupported image size \(width)x\(height) at byte offset \(L.widthOffset) "
                + "(each side 1...\(Container.maxSide), at most \(Container.maxPixels) pixels)"
        case let .badChannels(channels, offset):
            return "unsupported channel count \(channels) at byte offset \(offset) (expected 1, 3 or 4)"
        case let .unsupportedBitDepth(depth, offset):
            return "unsupported bit depth \(depth) at byte offset \(offset) (expected \(Container.supportedBitDepth))"
        case let .badModelID(length):
            return "model id at byte offset \(L.modelIDOffset) must be \(Container.modelIDSize) bytes, got \(length)"
        case let .trailingBytes(offset):
            return "unexpected bytes after the last stream, starting at byte offset \(offset)"
        case let .tooManyStreams(count, offset):
            return "stream count \(count) at byte offset \(offset) exceeds the limit of \(Container.maxStreams)"
        case let .pipelineFlagWithoutStream(offset):
            return "header flags at byte offset \(L.flagsOffset) announce an embedded pipeline, "
                + "but the stream count at byte offset \(offset) is 0"
        case let .badStreamOrder(index, tag):
            return "unexpected stream '\(tag)' as stream #\(index): a LIC container holds an optional "
                + "'\(Container.pipelineTag)' first, then '\(Container.streamTag(0))', '\(Container.streamTag(1))', "
                + "... in that order"
        case let .streamTooLarge(index, length):
            return "stream #\(index) is \(length) bytes, more than the format's limit of \(L.maxStreamLength)"
        case let .badTileSide(side):
            return "tile side \(side) is not a positive multiple of \(L.tileSideUnit) pixels below \(L.tileSideUnit << 16)"
        case let .badRateLevel(level):
            return "rate level \(level) cannot be stored (a multiple of 1/256 in 0...255.996; see Container.storableRateLevel)"
        }
    }

    private func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }
}
