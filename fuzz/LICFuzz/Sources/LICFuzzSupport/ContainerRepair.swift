import LICCore

/// Makes damaged `.lic` bytes checksum-valid again, so that a fuzzer's or a
/// mutation run's damage reaches the decoders instead of stopping at a CRC.
///
/// Walks the format-2 layout (see `Container.Layout` in LICCore) as far as
/// the bytes allow and rewrites the header CRC and the CRC after every stream
/// that is complete; optionally also the model id, so that inputs keep
/// matching a codec whose weights changed. Nothing else is touched: a
/// structurally broken header stays broken and is refused by the parser.
public enum ContainerRepair {
    static let modelIDRange = 6..<22
    static let widthOffset = 22
    static let maxStreams = 64

    public static func repair(_ bytes: inout [UInt8], modelID: [UInt8]? = nil) {
        guard bytes.count >= widthOffset else { return }
        if let modelID, modelID.count >= modelIDRange.count {
            bytes.replaceSubrange(modelIDRange, with: modelID.prefix(modelIDRange.count))
        }
        var offset = widthOffset
        guard varint(bytes, &offset, maxBytes: 3) != nil, varint(bytes, &offset, maxBytes: 3) != nil else { return }
        offset += 1  // channels and bit depth
        guard let count = varint(bytes, &offset, maxBytes: 3), count <= UInt64(maxStreams) else { return }
        var lengths: [Int] = []
        for _ in 0..<Int(count) {
            guard let length = varint(bytes, &offset, maxBytes: 5) else { return }
            lengths.append(Int(length))
        }
        guard write(crcOf: 0..<offset, at: offset, in: &bytes) else { return }
        offset += 4
        for length in lengths {
            guard length <= bytes.count - offset else { return }
            guard write(crcOf: offset..<offset + length, at: offset + length, in: &bytes) else { return }
            offset += length + 4
        }
    }

    /// An unsigned LEB128 value of at most `maxBytes` bytes, or nil when the
    /// bytes end first or it is longer.
    static func varint(_ bytes: [UInt8], _ offset: inout Int, maxBytes: Int) -> UInt64? {
        var value: UInt64 = 0
        for index in 0..<maxBytes {
            guard offset < bytes.count else { return nil }
            let byte = bytes[offset]
            offset += 1
            value |= UInt64(byte & 0x7F) << UInt64(7 * index)
            if byte & 0x80 == 0 { return value }
        }
        return nil
    }

    /// Stores the little-endian CRC32C of `range` at `position`, if it fits.
    static func write(crcOf range: Range<Int>, at position: Int, in bytes: inout [UInt8]) -> Bool {
        guard range.lowerBound >= 0, range.upperBound <= bytes.count, position <= bytes.count - 4 else { return false }
        let crc = bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[range])) }
        for k in 0..<4 { bytes[position + k] = UInt8(truncatingIfNeeded: crc >> UInt32(8 * k)) }
        return true
    }
}
