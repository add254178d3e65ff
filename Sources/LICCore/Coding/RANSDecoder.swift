import LICTensor

/// rANS decoder for streams produced by `RANSEncoder` (format described at `RANS`).
///
/// Symbols come out in the order they were pushed into the encoder, one call at a
/// time, so a context model can compute the next tables from decoded values.
///
/// Hostile input is safe: every word read is bounds-checked, every call does a
/// bounded amount of work, and problems surface as `CodingError.corruptStream`
/// naming the byte offset. A stream that decodes without error may still be
/// corrupt; `isFullyConsumed` catches most of those (a valid stream ends exactly at
/// the initial state with every byte read). After an error, discard the decoder.
public struct RANSDecoder: Sendable {
    /// One segment: its bytes (two initial states, then words) and its items.
    struct Segment: Sendable {
        let start: Int
        let end: Int
        let items: Int
    }

    private let storage: ByteStorage
    private let segments: [Segment]
    /// The segment being read, and items left in it.
    private var segmentIndex = 0
    private var itemsLeft: Int
    private var position: Int
    /// State of the next step and of the one after it (steps alternate between two states).
    private var state: UInt64
    private var otherState: UInt64

    /// Decode from a copy of `bytes`. `segmented`: the container declares
    /// segmented streams (without it, a segmented stream is refused).
    public init(bytes: [UInt8], segmented: Bool = true) throws(CodingError) {
        try self.init(storage: bytes.withUnsafeBytes { ByteStorage(copying: $0) }, segmented: segmented)
    }

    /// Decode from a copy of the bytes in `bytes`.
    public init(bytes: UnsafeRawBufferPointer, segmented: Bool = true) throws(CodingError) {
        try self.init(storage: ByteStorage(copying: bytes), segmented: segmented)
    }

    private init(storage: ByteStorage, segmented: Bool) throws(CodingError) {
        let count = storage.count
        var segments: [Segment]
        if count >= 8, storage.state(at: 0) == 0 {
            guard segmented else {
                throw .corruptStream("the stream is segmented (it starts with 8 zero bytes) but the file does not declare segmented streams")
            }
            segments = try Self.segmentTable(storage)
        } else {
            segments = [Segment(start: 0, end: count, items: Int.max)]
        }
        for segment in segments {
            try Self.checkSegment(storage, segment)
        }
        self.storage = storage
        self.segments = segments
        itemsLeft = segments[0].items
        (state, otherState) = (storage.state(at: segments[0].start), storage.state(at: segments[0].start + 8))
        position = segments[0].start + RANS.headerBytes
    }

    /// The segment table of a segmented stream (layout at `RANS`), checked against the stream's length.
    private static func segmentTable(_ storage: ByteStorage) throws(CodingError) -> [Segment] {
        let count = storage.count
        guard count >= RANS.segmentedHeaderBytes else {
            throw .corruptStream("segmented stream of \(count) bytes ends inside its \(RANS.segmentedHeaderBytes)-byte header")
        }
        let segmentCount = Int(storage.word(at: 8))
        let tableEnd = RANS.segmentedHeaderBytes + 8 * segmentCount
        guard segmentCount >= 2, tableEnd + segmentCount * RANS.headerBytes <= count else {
            throw .corruptStream("segmented stream of \(count) bytes cannot hold the \(segmentCount) segments its header at byte offset 8 declares")
        }
        var segments: [Segment] = []
        var start = tableEnd
        for k in 0..<segmentCount {
            let entry = RANS.segmentedHeaderBytes + 8 * k
            let items = Int(storage.word(at: entry)), bytes = Int(storage.word(at: entry + 4))
            guard items >= 1, bytes >= RANS.headerBytes, bytes % 4 == 0, bytes <= count - start else {
                throw .corruptStream("segment \(k) of \(segmentCount) (entry at byte offset \(entry)): \(items) items in \(bytes) bytes "
                                     + "does not fit the \(count - start) bytes left at byte offset \(start)")
            }
            segments.append(Segment(start: start, end: start + bytes, items: items))
            start += bytes
        }
        guard start == count else {
            throw .corruptStream("segmented stream has \(count - start) bytes after its last segment (byte offset \(start))")
        }
        return segments
    }

    private static func checkSegment(_ storage: ByteStorage, _ segment: Segment) throws(CodingError) {
        let bytes = segment.end - segment.start
        guard bytes >= RANS.headerBytes else {
            throw .corruptStream("stream of \(bytes) bytes is shorter than the \(RANS.headerBytes)-byte initial state")
        }
        guard bytes % 4 == 0 else {
            throw .corruptStream("stream of \(bytes) bytes ends with a partial 32-bit word at byte offset \(segment.start + bytes & ~3)")
        }
        for offset in [segment.start, segment.start + 8] {
            let state = storage.state(at: offset)
            guard state >= RANS.lowerBound, state >> 32 < RANS.lowerBound else {
                throw .corruptStream("initial state 0x\(String(state, radix: 16)) at byte offset \(offset) is outside the valid range")
            }
        }
    }

    /// True when every byte has been read and the state is back at its initial
    /// value, i.e. everything the encoder wrote has been decoded. False after a
    /// partial decode, and (with high probability) for trailing garbage or corruption.
    public var isFullyConsumed: Bool {
        segmentIndex == segments.count - 1 && (segments.count == 1 || itemsLeft == 0)
            && Self.ended(makeCursor(), segments[segmentIndex])
    }

    private static func ended(_ cursor: DecodeCursor, _ segment: Segment) -> Bool {
        cursor.position == segment.end && cursor.x == RANS.lowerBound && cursor.xNext == RANS.lowerBound
    }

    // MARK: - Table symbols

    /// Decode one symbol coded with `table`.
    public mutating func decode(with table: CDFTable) throws(CodingError) -> Int32 {
        let view = DecodeView(table)
        var result: Int32 = 0
        try decodeItems(1) { (cursor, _) throws(CodingError) in result = try cursor.decodeSymbol(view) }
        return result
    }

    /// Decode `out.count` symbols, all coded with `table`.
    public mutating func decode(into out: UnsafeMutableBufferPointer<Int32>, with table: CDFTable) throws(CodingError) {
        guard !out.isEmpty else { return }
        let view = DecodeView(table)
        let target = SendablePointer(out.baseAddress!)
        try decodeItems(out.count) { (cursor, range) throws(CodingError) in
            for i in range { target.pointer[i] = try cursor.decodeSymbol(view) }
        }
    }

    /// Decode `out.count` symbols where `tables[indexes[i]]` codes `out[i]`.
    /// Throws `invalidArgument` (before decoding anything) for mismatched lengths
    /// or an index out of range.
    public mutating func decode(
        into out: UnsafeMutableBufferPointer<Int32>, indexes: UnsafeBufferPointer<Int32>, tables: [CDFTable]
    ) throws(CodingError) {
        guard indexes.count == out.count else {
            throw .invalidArgument("\(out.count) output slots but \(indexes.count) indexes")
        }
        try checkTableIndexes(indexes, tableCount: tables.count)
        guard !out.isEmpty else { return }

        let views = UnsafeMutablePointer<DecodeView>.allocate(capacity: tables.count)
        defer { views.deallocate() }
        for (i, table) in tables.enumerated() { (views + i).initialize(to: DecodeView(table)) }
        let target = SendablePointer(out.baseAddress!), shared = SendablePointer(views)
        let source = SendablePointer(UnsafeMutablePointer(mutating: indexes.baseAddress!))
        try decodeItems(out.count) { (cursor, range) throws(CodingError) in
            for i in range { target.pointer[i] = try cursor.decodeSymbol(shared.pointer[Int(source.pointer[i])]) }
        }
    }

    // MARK: - Bypass bits

    /// Decode `count` (0...32) equiprobable bits written by `RANSEncoder.encodeBits`.
    public mutating func decodeBits(count: Int) throws(CodingError) -> UInt32 {
        guard (0...32).contains(count) else {
            throw .invalidArgument("decodeBits: bit count \(count) is outside 0...32")
        }
        var result: UInt32 = 0
        try decodeItems(1) { (cursor, _) throws(CodingError) in result = try cursor.decodeBits(count) }
        return result
    }

    // MARK: - Segments

    /// Decodes `count` items with `body(cursor, range of item indexes)`,
    /// one call per segment touched; segments after the current one start
    /// fresh and run in parallel. Every segment left behind must have ended
    /// exactly (all bytes read, states back at their initial value).
    private mutating func decodeItems(
        _ count: Int, _ body: (inout DecodeCursor, Range<Int>) throws(CodingError) -> Void
    ) throws(CodingError) {
        if itemsLeft == 0, count > 0 { try advanceSegment() }
        // Plan the parts: (segment, item range) in order; the first is the current segment.
        var parts: [(segment: Int, range: Range<Int>)] = []
        var (segment, left, done) = (segmentIndex, itemsLeft, 0)
        while done < count {
            if left == 0 {
                segment += 1
                guard segment < segments.count else {
                    throw .corruptStream("the stream's \(segments.count) segments end before the \(count - done) items still asked for")
                }
                left = segments[segment].items
            }
            let take = min(count - done, left)
            parts.append((segment, done ..< done + take))
            left -= take
            done += take
        }
        guard parts.count > 1 else {
            var cursor = makeCursor()
            defer { save(cursor) }
            try body(&cursor, 0 ..< count)
            itemsLeft = left
            return
        }
        var cursors = parts.map { part in part.segment == segmentIndex ? makeCursor() : freshCursor(segments[part.segment]) }
        var errors = [CodingError?](repeating: nil, count: parts.count)
        cursors.withUnsafeMutableBufferPointer { cursorSlots in
            errors.withUnsafeMutableBufferPointer { errorSlots in
                let cursorsOut = SendablePointer(cursorSlots.baseAddress!), errorsOut = SendablePointer(errorSlots.baseAddress!)
                withoutActuallyEscaping(body) { body in
                    let work = UncheckedSendable(body)
                    Parallel.forEach(count: parts.count) { k in
                        do throws(CodingError) { try work.value(&cursorsOut.pointer[k], parts[k].range) } catch { errorsOut.pointer[k] = error }
                    }
                }
            }
        }
        for k in parts.indices {
            if let error = errors[k] { throw error }
            if k < parts.count - 1, !Self.ended(cursors[k], segments[parts[k].segment]) {
                throw .corruptStream("segment \(parts[k].segment) did not end where its \(segments[parts[k].segment].items) items did "
                                     + "(byte offset \(cursors[k].position) of \(segments[parts[k].segment].end))")
            }
        }
        segmentIndex = parts[parts.count - 1].segment
        itemsLeft = left
        save(cursors[parts.count - 1])
    }

    /// Moves to the next segment once the current one has ended exactly.
    private mutating func advanceSegment() throws(CodingError) {
        let current = segments[segmentIndex]
        guard Self.ended(makeCursor(), current) else {
            throw .corruptStream("segment \(segmentIndex) did not end where its \(current.items) items did "
                                 + "(byte offset \(position) of \(current.end))")
        }
        guard segmentIndex + 1 < segments.count else {
            throw .corruptStream("the stream's \(segments.count) segments end before the items still asked for")
        }
        segmentIndex += 1
        itemsLeft = segments[segmentIndex].items
        save(freshCursor(segments[segmentIndex]))
    }

    private func freshCursor(_ segment: Segment) -> DecodeCursor {
        DecodeCursor(x: storage.state(at: segment.start), xNext: storage.state(at: segment.start + 8),
                     position: segment.start + RANS.headerBytes, base: UnsafeRawPointer(storage.base), end: segment.end)
    }

    // MARK: - Internals

    private func makeCursor() -> DecodeCursor {
        DecodeCursor(x: state, xNext: otherState, position: position, base: UnsafeRawPointer(storage.base),
                     end: segments[segmentIndex].end)
    }

    private mutating func save(_ cursor: DecodeCursor) {
        state = cursor.x
        otherState = cursor.xNext
        position = cursor.position
    }
}

/// A pointer handed to the workers of one parallel loop (each touches its own elements).
private struct SendablePointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}

/// A closure handed to the workers of one parallel loop.
private struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// Immutable copy of the coded bytes (shared by decoder copies).
private final class ByteStorage: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let count: Int

    init(copying bytes: UnsafeRawBufferPointer) {
        count = bytes.count
        base = .allocate(byteCount: max(count, 1), alignment: 8)
        if let source = bytes.baseAddress, count > 0 {
            base.copyMemory(from: source, byteCount: count)
        }
    }

    deinit { base.deallocate() }

    /// A little-endian 32-bit word.
    func word(at offset: Int) -> UInt32 {
        UInt32(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    /// A 64-bit state stored as two little-endian words, low first.
    func state(at offset: Int) -> UInt64 {
        let low = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
        let high = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
        return UInt64(low) | UInt64(high) << 32
    }
}

/// Per-call, ARC-free view of a table's decoder data.
struct DecodeView {
    let buckets: UnsafePointer<UInt16>
    let entries: UnsafePointer<UInt32>
    let first: Int32
    /// Also the number of regular symbols.
    let escapeIndex: Int

    @inline(__always)
    init(_ table: CDFTable) {
        buckets = UnsafePointer(table.buckets)
        entries = UnsafePointer(table.entries)
        first = table.firstSymbol
        escapeIndex = table.escapeIndex
    }
}

/// The decoder's state in local variables for the hot loops.
/// Invariant: `position <= end` and `end - position` is a multiple of 4.
struct DecodeCursor {
    /// State for the current step; `xNext` for the following one (see `finishStep`).
    var x: UInt64
    var xNext: UInt64
    var position: Int
    let base: UnsafeRawPointer
    let end: Int

    /// One table symbol, escape values included.
    @inline(__always)
    mutating func decodeSymbol(_ view: DecodeView) throws(CodingError) -> Int32 {
        let slot = x & RANS.slotMask
        // Bucket lookup, then step past the (at most 15) symbols ending inside the bucket.
        // Stops at the latest at the escape, whose range ends at 2^16 > slot.
        var index = Int(view.buckets[Int(slot >> UInt64(CDFTable.bucketShift))])
        var entry = view.entries[index]
        while UInt32(truncatingIfNeeded: slot) &- (entry & 0xFFFF) >= entry >> 16 {
            index &+= 1
            entry = view.entries[index]
        }
        // slot - start < freq, so nothing here can wrap for any 64-bit state.
        x = UInt64(entry >> 16) &* (x >> RANS.precisionBits) &+ slot &- UInt64(entry & 0xFFFF)
        try finishStep()
        if index == view.escapeIndex {
            return try decodeEscapedValue(first: view.first, count: view.escapeIndex)
        }
        return view.first &+ Int32(truncatingIfNeeded: index)
    }

    /// End a coding step: renormalize the state it used, then switch to the other state.
    ///
    /// Renormalizing pulls in a 32-bit word when the state drops below L. A valid
    /// stream always lands back in [L, L << 32); anything else is corruption.
    /// The refill is branch-free: whether a word is needed is data-dependent and
    /// poorly predictable, so a word is always loaded (at a clamped, in-bounds offset)
    /// and selected; the only branch is the error check, never taken in valid streams.
    /// Alternating two states gives the CPU two independent dependency chains.
    @inline(__always)
    mutating func finishStep() throws(CodingError) {
        let refill = x < RANS.lowerBound
        let overrun = refill && position >= end
        let offset = min(position, end &- 4)  // end >= header size: always in bounds
        let word = UInt64(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        let renormalized = refill ? (x << 32) | word : x
        position &+= refill ? 4 : 0
        if overrun || renormalized < RANS.lowerBound {
            x = renormalized
            position = min(position, end)
            throw overrun ? truncated() : underflow()
        }
        x = xNext
        xNext = renormalized
    }

    /// `count` (0...32) bypass bits, low 16-bit chunk first.
    mutating func decodeBits(_ count: Int) throws(CodingError) -> UInt32 {
        if count > 16 {
            let low = try decodeChunk(16)
            return try low | decodeChunk(count - 16) << 16
        }
        return count > 0 ? try decodeChunk(count) : 0
    }

    /// A bypass chunk of `bits` (1...16): the symbol `v << (16-bits)` with frequency `1 << (16-bits)`.
    @inline(__always)
    private mutating func decodeChunk(_ bits: Int) throws(CodingError) -> UInt32 {
        let shift = UInt64(16 - bits)
        let slot = x & RANS.slotMask
        x = ((x >> RANS.precisionBits) << shift) | (slot & ((1 << shift) - 1))
        try finishStep()
        return UInt32(slot >> shift)
    }

    /// Side bit, gamma-coded distance, then the value (see `RANS`).
    @inline(never)
    private mutating func decodeEscapedValue(first: Int32, count: Int) throws(CodingError) -> Int32 {
        let below = try decodeChunk(1) == 1
        let lengthSymbol = try decodeEscapeLength()  // bit length - 1, in 0...31
        let distance = Int64(1) << lengthSymbol | Int64(try decodeBits(lengthSymbol))
        let value = below ? Int64(first) - distance : Int64(first) + Int64(count) - 1 + distance
        guard let result = Int32(exactly: value) else {
            throw .corruptStream("escaped value \(value) is outside Int32 (before byte offset \(position))")
        }
        return result
    }

    /// One symbol of the fixed escape bit-length table (linear search: 32 entries, rare).
    private mutating func decodeEscapeLength() throws(CodingError) -> Int {
        let slot = UInt32(x & RANS.slotMask)
        let entries = RANS.escapeLengthEntries
        var index = entries.count - 1
        while entries[index] & 0xFFFF > slot { index -= 1 }
        let entry = entries[index]
        x = UInt64(entry >> 16) &* (x >> RANS.precisionBits) &+ UInt64(slot - (entry & 0xFFFF))
        try finishStep()
        return index
    }

    @inline(never)
    private func truncated() -> CodingError {
        .corruptStream("unexpected end of stream at byte offset \(end)")
    }

    @inline(never)
    private func underflow() -> CodingError {
        .corruptStream("invalid rANS state after reading the word at byte offset \(position - 4)")
    }
}
