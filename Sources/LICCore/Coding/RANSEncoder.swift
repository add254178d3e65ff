import LICTensor

/// Stream format and constants shared by `RANSEncoder` and `RANSDecoder`.
///
/// rANS with 64-bit states, 32-bit renormalization words and 16-bit probability
/// precision (the scheme of ryg_rans' `rans64.h`), with two interleaved states:
/// coding step i uses state i % 2, which gives the decoder two independent
/// dependency chains (~1.5x faster decoding) while both share one word stream.
/// The stream is
///
///     [state 0: 8 bytes][state 1: 8 bytes][32-bit words in decode order]
///
/// every word little-endian, each state as its low word then its high word, so the
/// length is always 16 + 4k bytes. The encoder starts both states at `lowerBound`;
/// a fully decoded valid stream ends exactly there with every byte consumed.
///
/// Every coding step — table symbols and bypass bits alike — is one rANS step with
/// 16-bit precision, stored as a packed entry `start | freq << 16`. A bypass chunk of
/// `k` bits (1...16) with value `v` is the symbol `start = v << (16-k)`,
/// `freq = 1 << (16-k)`, i.e. probability 2^-k, so bypass bits interleave with table
/// symbols in the same coding sequence and keep their order.
///
/// Segments (large streams decode in parallel): every `segmentItems` items
/// (a table symbol, escaped or not, or one `encodeBits` call) the encoder
/// starts a new segment with its own pair of states, so a decoder can code the
/// segments of one bulk call on different threads. A stream of one segment
/// has the layout above; a stream of several is
///
///     [8 zero bytes][u32 segment count K][K x (u32 items, u32 bytes)][segment 0]...[segment K-1]
///
/// each segment laid out as a one-segment stream. The zero bytes cannot start a
/// one-segment stream (its first state is at least `lowerBound`), and files
/// holding such streams say so in the container (a flag), so older readers
/// refuse them instead of misreading them.
///
/// Escape: a value outside a table's regular range is coded as the escape symbol,
/// then (all bypass except the length):
///   1. side bit: 0 = above the range, 1 = below it;
///   2. distance `d >= 1` from the nearest end of the range, Elias-gamma style:
///      its bit length `n` (1...32) as one symbol of the fixed table `escapeLengthEntries`
///      (probability 2^-n for n <= 11 — exactly the gamma prefix cost), then the
///      low `n-1` bits of `d` (its leading 1 is implicit) in chunks of at most 16 bits.
///   The range check keeps any `Int32` within 32-bit distance of the range, so `n <= 32`
///   holds by construction; a decoded value that falls outside `Int32` is a corrupt stream.
enum RANS {
    static let precisionBits: UInt64 = 16
    static let slotMask: UInt64 = 0xFFFF
    /// Lower bound of the normalized state interval [L, L << 32).
    static let lowerBound: UInt64 = 1 << 31
    /// Bytes in the initial/final state header (two 64-bit states).
    static let headerBytes = 16
    /// Maximum number of entries one escaped symbol adds (escape, side, length, 2 payload chunks).
    static let maxEscapeEntries = 5
    /// Items per segment (a Kodak latent of 192 x 48 x 32 is two segments).
    static let segmentItems = 1 << 18
    /// Bytes before the segment table of a segmented stream: the zero marker and the count.
    static let segmentedHeaderBytes = 12

    /// Whether `stream` has the segmented layout (starts with the zero marker).
    static func isSegmented(_ stream: [UInt8]) -> Bool { stream.count >= 8 && stream.prefix(8).allSatisfy { $0 == 0 } }

    /// Frequencies of the escape bit-length symbol `n - 1` for n = 1...32; sum 2^16.
    static let escapeLengthFrequencies: [UInt32] = {
        var f = (0...10).map { UInt32(1) << (15 - $0) }  // 32768 ... 32: sum 65504
        f.append(12)                                     // n = 12
        f += Array(repeating: 1, count: 20)              // n = 13...32
        return f
    }()

    /// Packed entries `start | freq << 16` for `escapeLengthFrequencies`.
    static let escapeLengthEntries: [UInt32] = {
        var start: UInt32 = 0
        return escapeLengthFrequencies.map { f in
            defer { start += f }
            return start | f << 16
        }
    }()

    /// Packed entry for a bypass chunk of `bits` bits (1...16) holding `value`.
    @inline(__always)
    static func bypassEntry(_ value: UInt32, bits: Int) -> UInt32 {
        let shift = UInt32(16 - bits)
        return (value << shift) | ((1 << shift) << 16)
    }
}

/// Buffering rANS encoder.
///
/// rANS is LIFO, so symbols are buffered as packed (start, freq) entries in the order
/// they are pushed and coded in reverse by `finish()` (like CompressAI's
/// `BufferedRansEncoder`); the decoder then yields them in push order, which lets a
/// context model decode incrementally.
///
/// `~Copyable` struct: it owns a growable raw buffer (freed in `deinit`), so it
/// cannot be copied by accident, and as a struct it avoids class exclusivity
/// checks in the hot loops. Pass it `inout` to helpers.
public struct RANSEncoder: ~Copyable {
    private var buffer: UnsafeMutablePointer<UInt32>
    private var count = 0
    private var capacity: Int
    /// The coding step each segment after the first starts at, the items of
    /// each closed segment, and the items of the open one.
    private var segmentStarts: [Int] = []
    private var segmentItemCounts: [Int] = []
    private var itemsInSegment = 0
    private let segmentItems: Int

    /// `segmentItems`: items per segment (`RANS.segmentItems`; tests use small ones).
    public init(segmentItems: Int = 1 << 18) {
        self.segmentItems = max(1, segmentItems)
        capacity = 1024
        buffer = .allocate(capacity: capacity)
    }

    deinit { buffer.deallocate() }

    /// Number of buffered coding steps (table symbols and bypass chunks).
    public var bufferedSteps: Int { count }

    /// Segments the stream will have.
    public var segmentCount: Int { segmentStarts.count + 1 }

    /// How many of `wanted` items fit in the open segment, opening a new one
    /// when it is full; the caller then codes that many and adds them.
    @inline(__always)
    private mutating func itemsToCode(_ wanted: Int) -> Int {
        if itemsInSegment == segmentItems {
            segmentItemCounts.append(itemsInSegment)
            segmentStarts.append(count)
            itemsInSegment = 0
        }
        return min(wanted, segmentItems - itemsInSegment)
    }

    // MARK: - Table symbols

    /// Buffer one symbol coded with `table` (out-of-range values are escaped).
    public mutating func encode(_ symbol: Int32, with table: CDFTable) {
        itemsInSegment += itemsToCode(1)
        let view = EncodeView(table)
        let offset = UInt32(bitPattern: symbol &- view.first)
        if offset < view.count {
            reserve(1)
            buffer[count] = view.entries[Int(offset)]
            count += 1
        } else {
            pushEscape(symbol, view, thenReserve: 0)
        }
    }

    /// Buffer `symbols`, all coded with `table`.
    public mutating func encode(_ symbols: UnsafeBufferPointer<Int32>, with table: CDFTable) {
        let view = EncodeView(table)
        var done = 0
        while done < symbols.count {
            let take = itemsToCode(symbols.count - done)
            encodeRun(UnsafeBufferPointer(rebasing: symbols[done ..< done + take]), view)
            itemsInSegment += take
            done += take
        }
    }

    private mutating func encodeRun(_ symbols: UnsafeBufferPointer<Int32>, _ view: EncodeView) {
        reserve(symbols.count)
        var out = buffer
        var n = count
        for i in 0..<symbols.count {
            let symbol = symbols[i]
            let offset = UInt32(bitPattern: symbol &- view.first)
            if offset < view.count {
                out[n] = view.entries[Int(offset)]
                n &+= 1
            } else {
                count = n
                pushEscape(symbol, view, thenReserve: symbols.count - i - 1)
                out = buffer
                n = count
            }
        }
        count = n
    }

    /// Buffer `symbols` where `tables[indexes[i]]` codes `symbols[i]` (the layout of a
    /// Gaussian conditional). Throws `invalidArgument` for mismatched lengths or an
    /// index out of range; nothing is buffered in that case.
    public mutating func encode(
        _ symbols: UnsafeBufferPointer<Int32>, indexes: UnsafeBufferPointer<Int32>, tables: [CDFTable]
    ) throws(CodingError) {
        try validateIndexes(indexes, symbolCount: symbols.count, tableCount: tables.count)
        guard !symbols.isEmpty else { return }
        // Resolve the tables once into a flat array of plain structs: no ARC or
        // bounds checks per symbol. `tables` keeps them alive for this call.
        let views = UnsafeMutablePointer<EncodeView>.allocate(capacity: tables.count)
        defer { views.deallocate() }
        for (i, table) in tables.enumerated() { (views + i).initialize(to: EncodeView(table)) }

        var done = 0
        while done < symbols.count {
            let take = itemsToCode(symbols.count - done)
            encodeRun(UnsafeBufferPointer(rebasing: symbols[done ..< done + take]),
                      indexes: UnsafeBufferPointer(rebasing: indexes[done ..< done + take]), views: views)
            itemsInSegment += take
            done += take
        }
    }

    private mutating func encodeRun(_ symbols: UnsafeBufferPointer<Int32>, indexes: UnsafeBufferPointer<Int32>,
                                    views: UnsafeMutablePointer<EncodeView>) {
        reserve(symbols.count)
        var out = buffer
        var n = count
        for i in 0..<symbols.count {
            let symbol = symbols[i]
            let view = views[Int(indexes[i])]
            let offset = UInt32(bitPattern: symbol &- view.first)
            if offset < view.count {
                out[n] = view.entries[Int(offset)]
                n &+= 1
            } else {
                count = n
                pushEscape(symbol, view, thenReserve: symbols.count - i - 1)
                out = buffer
                n = count
            }
        }
        count = n
    }

    // MARK: - Bypass bits

    /// Buffer the low `count` bits of `value` as equiprobable bits (`count` in 0...32).
    /// Precondition: `value < 1 << count`.
    public mutating func encodeBits(_ value: UInt32, count bits: Int) {
        precondition((0...32).contains(bits), "encodeBits: bit count \(bits) is outside 0...32")
        precondition(bits == 32 || value >> UInt32(bits) == 0, "encodeBits: \(value) does not fit in \(bits) bits")
        itemsInSegment += itemsToCode(1)
        reserve(2)
        pushBits(value, bits)
    }

    // MARK: - Finish

    /// Code everything buffered and return the stream (segments coded in
    /// parallel). The encoder is empty afterwards (keeping its buffer
    /// capacity) and can be reused.
    public mutating func finish() -> [UInt8] {
        defer {
            count = 0
            segmentStarts = []
            segmentItemCounts = []
            itemsInSegment = 0
        }
        guard !segmentStarts.isEmpty else { return Self.codeSegment(buffer, count) }
        let starts = [0] + segmentStarts, ends = segmentStarts + [count]
        var segments = [[UInt8]](repeating: [], count: starts.count)
        let steps = buffer
        segments.withUnsafeMutableBufferPointer { out in
            let out = SendableSegments(out)
            Parallel.forEach(count: starts.count) { k in out[k] = Self.codeSegment(steps + starts[k], ends[k] - starts[k]) }
        }
        let items = segmentItemCounts + [itemsInSegment]
        var stream = [UInt8](repeating: 0, count: 8)
        stream.reserveCapacity(RANS.segmentedHeaderBytes + 8 * segments.count + segments.reduce(0) { $0 + $1.count })
        func u32(_ value: Int) { withUnsafeBytes(of: UInt32(value).littleEndian) { stream += $0 } }
        u32(segments.count)
        for (itemCount, segment) in zip(items, segments) { u32(itemCount); u32(segment.count) }
        for segment in segments { stream += segment }
        return stream
    }

    /// One segment: `steps` coded in reverse with two fresh states.
    private static func codeSegment(_ steps: UnsafeMutablePointer<UInt32>, _ count: Int) -> [UInt8] {
        // Each step emits at most one 32-bit word (16-bit precision, 32-bit renormalization).
        let capacityBytes = RANS.headerBytes + 4 * count
        let bytes = UnsafeMutableRawPointer.allocate(byteCount: capacityBytes, alignment: 8)
        defer { bytes.deallocate() }

        // Step i uses state i % 2. Walk backwards; the pair loop keeps the parity static.
        var even = RANS.lowerBound, odd = RANS.lowerBound
        var position = capacityBytes
        var i = count
        if i & 1 == 1 {
            i -= 1
            Self.encodeStep(steps[i], state: &even, into: bytes, at: &position)
        }
        while i > 0 {
            Self.encodeStep(steps[i &- 1], state: &odd, into: bytes, at: &position)
            Self.encodeStep(steps[i &- 2], state: &even, into: bytes, at: &position)
            i &-= 2
        }
        position -= RANS.headerBytes
        Self.storeWord(even, bytes, position)
        Self.storeWord(even >> 32, bytes, position + 4)
        Self.storeWord(odd, bytes, position + 8)
        Self.storeWord(odd >> 32, bytes, position + 12)
        return Array(UnsafeRawBufferPointer(start: bytes + position, count: capacityBytes - position))
    }

    @inline(__always)
    private static func encodeStep(
        _ entry: UInt32, state x: inout UInt64, into bytes: UnsafeMutableRawPointer, at position: inout Int
    ) {
        let freq = UInt64(entry >> 16)
        // Renormalize so that the state after coding stays below L << 32.
        if x >= freq << (63 - RANS.precisionBits) {
            position &-= 4
            storeWord(x, bytes, position)
            x >>= 32
        }
        let quotient = x / freq
        x = (quotient << RANS.precisionBits) &+ (x &- quotient &* freq) &+ UInt64(entry & 0xFFFF)
    }

    /// Low 32 bits of `value`, little-endian.
    @inline(__always)
    private static func storeWord(_ value: UInt64, _ bytes: UnsafeMutableRawPointer, _ offset: Int) {
        bytes.storeBytes(of: UInt32(truncatingIfNeeded: value).littleEndian, toByteOffset: offset, as: UInt32.self)
    }

    // MARK: - Internals

    @inline(__always)
    private mutating func reserve(_ extra: Int) {
        if capacity - count < extra { grow(minimumExtra: extra) }
    }

    @inline(never)
    private mutating func grow(minimumExtra extra: Int) {
        let newCapacity = max(capacity * 2, count + extra)
        let newBuffer = UnsafeMutablePointer<UInt32>.allocate(capacity: newCapacity)
        newBuffer.initialize(from: buffer, count: count)
        buffer.deallocate()
        buffer = newBuffer
        capacity = newCapacity
    }

    /// Appends bypass chunks (low 16 bits first); capacity for 2 entries must be reserved.
    @inline(__always)
    private mutating func pushBits(_ value: UInt32, _ bits: Int) {
        if bits > 16 {
            buffer[count] = RANS.bypassEntry(value & 0xFFFF, bits: 16)
            buffer[count + 1] = RANS.bypassEntry(value >> 16, bits: bits - 16)
            count += 2
        } else if bits > 0 {
            buffer[count] = RANS.bypassEntry(value, bits: bits)
            count += 1
        }
    }

    /// Escape symbol + side bit + gamma-coded distance (see `RANS`), then makes sure
    /// `extra` more entries fit so the caller's bulk reservation still holds.
    @inline(never)
    private mutating func pushEscape(_ value: Int32, _ view: EncodeView, thenReserve extra: Int) {
        reserve(RANS.maxEscapeEntries + extra)
        buffer[count] = view.entries[Int(view.count)]
        count += 1
        let last = Int64(view.first) + Int64(view.count) - 1
        let above = Int64(value) > last
        let distance = UInt32(above ? Int64(value) - last : Int64(view.first) - Int64(value))
        let bitLength = 32 - distance.leadingZeroBitCount  // 1...32
        pushBits(above ? 0 : 1, 1)
        buffer[count] = RANS.escapeLengthEntries[bitLength - 1]
        count += 1
        pushBits(distance & ~(1 << UInt32(bitLength - 1)), bitLength - 1)
    }

    private func validateIndexes(
        _ indexes: UnsafeBufferPointer<Int32>, symbolCount: Int, tableCount: Int
    ) throws(CodingError) {
        guard indexes.count == symbolCount else {
            throw .invalidArgument("\(symbolCount) symbols but \(indexes.count) indexes")
        }
        try checkTableIndexes(indexes, tableCount: tableCount)
    }
}

/// The segments' output slots, written by one worker each.
private struct SendableSegments: @unchecked Sendable {
    let base: UnsafeMutableBufferPointer<[UInt8]>
    init(_ base: UnsafeMutableBufferPointer<[UInt8]>) { self.base = base }
    subscript(index: Int) -> [UInt8] {
        get { base[index] }
        nonmutating set { base[index] = newValue }
    }
}

/// Per-call, ARC-free view of a table's encoder data.
struct EncodeView {
    let entries: UnsafePointer<UInt32>
    let first: Int32
    /// Regular symbol count; `entries[count]` is the escape.
    let count: UInt32

    @inline(__always)
    init(_ table: CDFTable) {
        entries = UnsafePointer(table.entries)
        first = table.firstSymbol
        count = UInt32(table.symbolCount)
    }
}

/// Throws `invalidArgument` naming the first index outside `0 ..< tableCount`.
func checkTableIndexes(_ indexes: UnsafeBufferPointer<Int32>, tableCount: Int) throws(CodingError) {
    // Branch-free scan first (negative indexes map to huge unsigned values).
    var largest: UInt32 = 0
    for index in indexes { largest = max(largest, UInt32(bitPattern: index)) }
    guard !indexes.isEmpty, largest >= UInt32(tableCount) else { return }
    let limit = UInt32(tableCount)
    for (position, index) in indexes.enumerated() where UInt32(bitPattern: index) >= limit {
        throw .invalidArgument("table index \(index) at position \(position) is outside 0..<\(tableCount)")
    }
}
