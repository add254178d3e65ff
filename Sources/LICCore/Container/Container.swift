/// One named payload inside a container, e.g. the pipeline description
/// ("PIPE") or an entropy-coded symbol stream ("SYM0").
public struct ContainerStream: Sendable, Equatable {
    /// Exactly 4 printable ASCII characters (checked when serializing).
    public var tag: String
    public var bytes: [UInt8]

    public init(tag: String, bytes: [UInt8]) {
        self.tag = tag
        self.bytes = bytes
    }
}

/// The LIC file format: a checksummed header describing the image and the
/// model that coded it, followed by tagged, checksummed streams. See
/// `Container.Layout` for the byte layout. Parsing never traps and never
/// allocates based on a length it has not checked against the input size.
public struct Container: Sendable, Equatable {
    public static let formatVersion: UInt16 = 1
    public static let maxSide = Image.maxSide
    public static let maxPixels = Image.maxPixels
    public static let maxStreams = 64
    public static let supportedChannels: Set<Int> = [1, 3, 4]
    public static let supportedBitDepth = 8

    /// 32 bytes: SHA-256 of the model descriptor and weights.
    public var modelID: [UInt8]
    public var width: Int
    public var height: Int
    public var channels: Int
    public var bitDepth: Int
    public var streams: [ContainerStream]

    public init(modelID: [UInt8], width: Int, height: Int, channels: Int, bitDepth: Int,
                streams: [ContainerStream]) {
        self.modelID = modelID
        self.width = width
        self.height = height
        self.channels = channels
        self.bitDepth = bitDepth
        self.streams = streams
    }

    // MARK: Serializing

    /// The container's bytes. Throws if any field is outside the format's
    /// limits, so that everything written can be parsed back.
    public func serialized() throws(ContainerError) -> [UInt8] {
        guard modelID.count == Layout.modelIDSize else { throw .badModelID(length: modelID.count) }
        try Container.validate(width: width, height: height, channels: channels, bitDepth: bitDepth)
        guard streams.count <= Container.maxStreams else { throw .tooManyStreams(streams.count) }

        var total = Layout.headerSize
        for (index, stream) in streams.enumerated() {
            guard stream.bytes.count <= Int(UInt32.max) else {
                throw .streamTooLarge(index: index, length: stream.bytes.count)
            }
            total += Layout.streamHeaderSize + stream.bytes.count
        }

        var out = Writer(capacity: total)
        out.append(Layout.magic)
        out.u16(Container.formatVersion)
        out.u16(0) // flags
        out.append(modelID)
        out.u32(UInt32(width))
        out.u32(UInt32(height))
        out.u8(UInt8(channels))
        out.u8(UInt8(bitDepth))
        out.u16(UInt16(streams.count))
        out.u32(out.crc32c(of: 0..<out.count))

        for stream in streams {
            let start = out.count
            let tag = Array(stream.tag.utf8)
            guard Container.isValidTag(tag) else { throw .badTag(offset: start) }
            out.append(tag)
            out.u32(UInt32(stream.bytes.count))
            let crc = stream.bytes.withUnsafeBytes {
                CRC32C.update(out.crc32c(of: start..<out.count), $0)
            }
            out.u32(crc)
            out.append(stream.bytes)
        }
        return out.bytes
    }

    // MARK: Parsing

    public init(parsing bytes: [UInt8]) throws(ContainerError) {
        // Magic first, so that other file types get a helpful message.
        let magicLength = min(bytes.count, Layout.magic.count)
        guard !bytes.isEmpty, bytes[0..<magicLength].elementsEqual(Layout.magic[0..<magicLength]) else {
            throw .notALicFile(looksLikePNG: bytes.starts(with: Layout.pngMagicPrefix))
        }
        var reader = Reader(bytes)
        _ = try reader.take(Layout.magic.count)

        // Version before the checksum: another version may lay out its header differently.
        let version = try reader.u16()
        guard version == Container.formatVersion else { throw .unsupportedVersion(found: version) }

        // Read the rest of the header, but believe none of it until its
        // checksum has been verified.
        try reader.require(Layout.headerSize - reader.offset)
        let flags = try reader.u16()
        let modelID = Array(try reader.take(Layout.modelIDSize))
        let width = Int(try reader.u32())
        let height = Int(try reader.u32())
        let channels = Int(try reader.u8())
        let bitDepth = Int(try reader.u8())
        let streamCount = Int(try reader.u16())
        let stored = try reader.u32()
        let computed = bytes.withUnsafeBytes {
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<Layout.headerCRCOffset]))
        }
        guard stored == computed else { throw .headerChecksumMismatch(stored: stored, computed: computed) }

        guard flags == 0 else { throw .unsupportedFlags(found: flags) }
        try Container.validate(width: width, height: height, channels: channels, bitDepth: bitDepth)
        guard streamCount <= Container.maxStreams else { throw .tooManyStreams(streamCount) }

        var streams: [ContainerStream] = []
        streams.reserveCapacity(streamCount)
        for index in 0..<streamCount {
            streams.append(try Container.parseStream(&reader, index: index))
        }
        guard reader.remaining == 0 else { throw .trailingBytes(offset: reader.offset) }

        self.init(modelID: modelID, width: width, height: height, channels: channels,
                  bitDepth: bitDepth, streams: streams)
    }

    private static func parseStream(_ reader: inout Reader, index: Int) throws(ContainerError) -> ContainerStream {
        let start = reader.offset
        try reader.require(Layout.streamHeaderSize)
        let tag = Array(try reader.take(Layout.tagSize))
        guard isValidTag(tag) else { throw .badTag(offset: start) }
        let length = Int(try reader.u32())
        let stored = try reader.u32()
        // `take` checks `length` against the remaining input before slicing.
        let data = try reader.take(length)
        let tagString = String(decoding: tag, as: UTF8.self)

        let computed = reader.bytes.withUnsafeBytes { raw in
            let tagAndLength = UnsafeRawBufferPointer(rebasing: raw[start..<start + 8])
            let payload = UnsafeRawBufferPointer(rebasing: raw[data.startIndex..<data.endIndex])
            return CRC32C.update(CRC32C.checksum(tagAndLength), payload)
        }
        guard stored == computed else {
            throw .streamChecksumMismatch(tag: tagString, index: index, offset: start)
        }
        return ContainerStream(tag: tagString, bytes: Array(data))
    }

    // MARK: Limits

    static func validate(width: Int, height: Int, channels: Int, bitDepth: Int) throws(ContainerError) {
        guard (1...maxSide).contains(width), (1...maxSide).contains(height), width * height <= maxPixels else {
            throw .absurdDimensions(width: width, height: height)
        }
        guard supportedChannels.contains(channels) else { throw .badChannels(channels) }
        guard bitDepth == supportedBitDepth else { throw .unsupportedBitDepth(bitDepth) }
    }

    /// Exactly 4 bytes, each printable ASCII (space through tilde).
    static func isValidTag(_ tag: [UInt8]) -> Bool {
        tag.count == Layout.tagSize && tag.allSatisfy { (0x20...0x7E).contains($0) }
    }
}
