/// One payload inside a container: the embedded pipeline description
/// ("PIPE") or an entropy-coded stream ("S000", "S001", ...).
public struct ContainerStream: Sendable, Equatable {
    /// `Container.pipelineTag` (first only) or `Container.streamTag(i)` for
    /// the i-th coded stream; tags are implied by position on disk, so
    /// serializing checks this order.
    public var tag: String
    public var bytes: [UInt8]

    public init(tag: String, bytes: [UInt8]) {
        self.tag = tag
        self.bytes = bytes
    }
}

/// The LIC file format: a checksummed header describing the image and the
/// model that coded it, followed by checksummed streams. See
/// `Container.Layout` for the byte layout. Parsing never traps and never
/// allocates based on a length it has not checked against the input size.
public struct Container: Sendable, Equatable {
    public static let formatVersion: UInt8 = 2
    public static let maxSide = Image.maxSide
    public static let maxPixels = Image.maxPixels
    public static let maxStreams = 64
    public static let supportedChannels: Set<Int> = [1, 3, 4]
    public static let supportedBitDepth = 8
    /// Bytes of model identity stored: the first 16 bytes of the SHA-256 of
    /// the model descriptor and weights.
    public static let modelIDSize = 16
    /// The embedded pipeline descriptor's tag; only ever the first stream.
    public static let pipelineTag = "PIPE"

    /// The tag of the `index`-th entropy-coded stream: "S000", "S001", ...
    public static func streamTag(_ index: Int) -> String {
        let digits = String(index)
        return "S" + String(repeating: "0", count: max(0, 3 - digits.count)) + digits
    }

    /// `modelIDSize` bytes (see there).
    public var modelID: [UInt8]
    public var width: Int
    public var height: Int
    public var channels: Int
    public var bitDepth: Int
    /// Optionally "PIPE" first, then "S000", "S001", ... in order.
    public var streams: [ContainerStream]
    /// A variable-rate model's rate level (a multiple of 1/256 in 0 ..< 256,
    /// see `storableRateLevel`); nil for a model with one rate.
    public var rateLevel: Double?
    /// The tile side (pixels, a multiple of 16) the coding passes used, when
    /// they tiled; the decoder tiles alike, so it reproduces the encoder's
    /// reconstruction exactly. nil: untiled.
    public var tileSide: Int?
    /// The streams may be segmented (see `RANS`): decoders run a large
    /// stream's segments in parallel.
    public var segmentedStreams: Bool

    public init(modelID: [UInt8], width: Int, height: Int, channels: Int, bitDepth: Int,
                streams: [ContainerStream], rateLevel: Double? = nil, tileSide: Int? = nil, segmentedStreams: Bool = false) {
        self.modelID = modelID
        self.width = width
        self.height = height
        self.channels = channels
        self.bitDepth = bitDepth
        self.streams = streams
        self.rateLevel = rateLevel
        self.tileSide = tileSide
        self.segmentedStreams = segmentedStreams
    }

    /// The nearest rate level a file can record (a multiple of 1/256 in
    /// 0...255.996): the encoder codes with this value, so the decoder,
    /// reading it back, uses exactly the same.
    public static func storableRateLevel(_ level: Double) -> Double? {
        guard level.isFinite, level >= 0 else { return nil }
        let units = (level * Layout.rateLevelUnits).rounded()
        return units <= Double(UInt16.max) ? units / Layout.rateLevelUnits : nil
    }

    // MARK: Serializing

    /// The container's bytes. Throws if any field is outside the format's
    /// limits or the stream tags are not in the order the format implies, so
    /// that everything written parses back to an equal value.
    public func serialized() throws(ContainerError) -> [UInt8] {
        guard modelID.count == Container.modelIDSize else { throw .badModelID(length: modelID.count) }
        try Container.validateDimensions(width: width, height: height)
        let formatOffset = Layout.widthOffset + Writer.varintSize(UInt64(width)) + Writer.varintSize(UInt64(height))
        try Container.validateFormat(channels: channels, bitDepth: bitDepth, offset: formatOffset)
        let countOffset = formatOffset + 1
        guard streams.count <= Container.maxStreams else {
            throw .tooManyStreams(streams.count, offset: countOffset)
        }
        let hasPipeline = try Container.checkStreamOrder(streams.map(\.tag))
        if let rateLevel, Container.storableRateLevel(rateLevel) != rateLevel { throw .badRateLevel(rateLevel) }
        if let tileSide, tileSide <= 0 || tileSide % Layout.tileSideUnit != 0 || tileSide / Layout.tileSideUnit > Int(UInt16.max) {
            throw .badTileSide(tileSide)
        }
        let optionalFieldsSize = (rateLevel == nil ? 0 : 2) + (tileSide == nil ? 0 : 2)

        var total = countOffset + optionalFieldsSize + Writer.varintSize(UInt64(streams.count)) + Layout.crcSize
        for (index, stream) in streams.enumerated() {
            guard UInt64(stream.bytes.count) <= Layout.maxStreamLength else {
                throw .streamTooLarge(index: index, length: stream.bytes.count)
            }
            total += Writer.varintSize(UInt64(stream.bytes.count)) + stream.bytes.count + Layout.crcSize
        }

        var out = Writer(capacity: total)
        out.append(Layout.magic)
        out.u8(Container.formatVersion)
        out.u8((hasPipeline ? Layout.pipelineFlag : 0) | (rateLevel == nil ? 0 : Layout.rateLevelFlag) | (tileSide == nil ? 0 : Layout.tileSideFlag)
               | (segmentedStreams ? Layout.segmentedStreamsFlag : 0))
        out.append(modelID)
        out.varint(UInt64(width))
        out.varint(UInt64(height))
        // Validated above: channels fit in 4 bits and bitDepth - 1 in 4 bits.
        out.u8(UInt8((bitDepth - 1) << 4 | channels))
        if let rateLevel { out.u16(UInt16(rateLevel * Layout.rateLevelUnits)) }
        if let tileSide { out.u16(UInt16(tileSide / Layout.tileSideUnit)) }
        out.varint(UInt64(streams.count))
        for stream in streams {
            out.varint(UInt64(stream.bytes.count))
        }
        out.u32(out.crc32c(of: 0..<out.count))
        for stream in streams {
            out.append(stream.bytes)
            out.u32(CRC32C.checksum(stream.bytes))
        }
        return out.bytes
    }

    /// Whether the first stream is the embedded pipeline. Throws unless the
    /// tags are an optional "PIPE" followed by "S000", "S001", ... in order.
    static func checkStreamOrder(_ tags: [String]) throws(ContainerError) -> Bool {
        let hasPipeline = tags.first == pipelineTag
        for (index, tag) in tags.enumerated() {
            let expected = hasPipeline ? (index == 0 ? pipelineTag : streamTag(index - 1)) : streamTag(index)
            guard tag == expected else { throw .badStreamOrder(index: index, tag: tag) }
        }
        return hasPipeline
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

        // Version before the checksum: another version lays out its header differently.
        let version = try reader.u8()
        if bytes.starts(with: Layout.format1Magic) {
            _ = try reader.take(Layout.format1Magic.count - reader.offset)
            let oldVersion = try reader.u16()
            guard oldVersion == 1 else {
                throw .unsupportedVersion(found: Int(oldVersion), offset: Layout.format1VersionOffset)
            }
            throw .formatVersion1
        }
        guard version == Container.formatVersion else {
            throw .unsupportedVersion(found: Int(version), offset: Layout.versionOffset)
        }

        // Read the rest of the header, but believe none of it until its
        // checksum has been verified. Only its structure is checked first:
        // varints must be short and minimal, and the stream count at most
        // `maxStreams`, since it says how many length fields precede the CRC.
        let flags = try reader.u8()
        let modelID = Array(try reader.take(Container.modelIDSize))
        let width = try reader.varint(maxBytes: Layout.smallVarintBytes, field: "width")
        let height = try reader.varint(maxBytes: Layout.smallVarintBytes, field: "height")
        let formatOffset = reader.offset
        let format = try reader.u8()
        let rateUnits = flags & Layout.rateLevelFlag != 0 ? try reader.u16() : nil
        let tileUnits = flags & Layout.tileSideFlag != 0 ? try reader.u16() : nil
        let countOffset = reader.offset
        let count = try reader.varint(maxBytes: Layout.smallVarintBytes, field: "stream count")
        guard count <= UInt64(Container.maxStreams) else { throw .tooManyStreams(Int(count), offset: countOffset) }
        var lengths: [Int] = []
        lengths.reserveCapacity(Int(count))
        for index in 0..<Int(count) {
            let lengthOffset = reader.offset
            let field = "length of stream #\(index)"
            let length = try reader.varint(maxBytes: Layout.lengthVarintBytes, field: field)
            guard length <= Layout.maxStreamLength else { throw .malformedVarint(field: field, offset: lengthOffset) }
            lengths.append(Int(length))
        }
        let crcOffset = reader.offset
        let stored = try reader.u32()
        let computed = bytes.withUnsafeBytes {
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<crcOffset]))
        }
        guard stored == computed else {
            throw .headerChecksumMismatch(stored: stored, computed: computed, offset: crcOffset)
        }

        guard flags & ~(Layout.pipelineFlag | Layout.rateLevelFlag | Layout.tileSideFlag | Layout.segmentedStreamsFlag) == 0 else { throw .unsupportedFlags(found: flags) }
        // Both are below 2^21, so the conversions and the product cannot overflow.
        try Container.validateDimensions(width: Int(width), height: Int(height))
        try Container.validateFormat(channels: Int(format & 0x0F), bitDepth: Int(format >> 4) + 1,
                                     offset: formatOffset)
        let hasPipeline = flags & Layout.pipelineFlag != 0
        guard !hasPipeline || count > 0 else { throw .pipelineFlagWithoutStream(offset: countOffset) }
        if let tileUnits, tileUnits == 0 { throw .badTileSide(0) }

        var streams: [ContainerStream] = []
        streams.reserveCapacity(lengths.count)
        for (index, length) in lengths.enumerated() {
            let tag = hasPipeline ? (index == 0 ? Container.pipelineTag : Container.streamTag(index - 1))
                                  : Container.streamTag(index)
            let start = reader.offset
            // `take` checks `length` against the remaining input before slicing.
            let data = try reader.take(length)
            let storedCRC = try reader.u32()
            let computedCRC = data.withUnsafeBytes { CRC32C.checksum($0) }
            guard storedCRC == computedCRC else {
                throw .streamChecksumMismatch(tag: tag, index: index, offset: start)
            }
            streams.append(ContainerStream(tag: tag, bytes: Array(data)))
        }
        guard reader.remaining == 0 else { throw .trailingBytes(offset: reader.offset) }

        self.init(modelID: modelID, width: Int(width), height: Int(height), channels: Int(format & 0x0F),
                  bitDepth: Int(format >> 4) + 1, streams: streams, rateLevel: rateUnits.map { Double($0) / Layout.rateLevelUnits },
                  tileSide: tileUnits.map { Int($0) * Layout.tileSideUnit },
                  segmentedStreams: flags & Layout.segmentedStreamsFlag != 0)
    }

    // MARK: Limits

    /// Each side 1...maxSide, at most maxPixels pixels.
    static func validateDimensions(width: Int, height: Int) throws(ContainerError) {
        guard (1...maxSide).contains(width), (1...maxSide).contains(height), width * height <= maxPixels else {
            throw .absurdDimensions(width: width, height: height)
        }
    }

    /// `offset`: where the byte packing channels and bit depth is (or would be).
    static func validateFormat(channels: Int, bitDepth: Int, offset: Int) throws(ContainerError) {
        guard supportedChannels.contains(channels) else { throw .badChannels(channels, offset: offset) }
        guard bitDepth == supportedBitDepth else { throw .unsupportedBitDepth(bitDepth, offset: offset) }
    }
}
