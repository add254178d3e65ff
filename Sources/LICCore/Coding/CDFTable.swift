/// A quantized probability table for the rANS coder (16-bit precision).
///
/// The table covers the regular symbols `firstSymbol ..< firstSymbol + symbolCount`
/// plus one *escape* symbol (stored last). Values outside the regular range are coded
/// as the escape symbol followed by the value in bypass bits (see `RANSEncoder`).
/// Every symbol, escape included, has frequency >= 1 and the frequencies sum to
/// exactly `1 << precisionBits`.
///
/// Tables are immutable after construction and can be shared between threads.
///
/// Decoder symbol lookup: a bucket table maps the top 12 bits of a 16-bit slot to the
/// symbol that owns the bucket's first slot; the decoder then steps forward past at
/// most 15 symbol boundaries (usually 0 or 1). This is constant-time like a full
/// 2^16-entry slot -> symbol table, but 8 KiB instead of 128 KiB per table: with 64
/// Gaussian tables a full table set (8 MiB) misses L2 on nearly every symbol and
/// decoding ran at ~10 Msym/s, while the bucket tables (512 KiB) stay cache-resident.
/// The bucket table is cheap to build, so it is built eagerly in `init`.
///
/// `@unchecked Sendable`: the raw buffers are written only in `init` and freed in `deinit`.
public final class CDFTable: @unchecked Sendable {
    public static let precisionBits = 16
    static let totalFrequency = 1 << precisionBits
    /// Regular symbols + escape must fit the 16-bit slot -> symbol lookup table.
    static let maxRegularSymbols = 65535 - 1

    public let firstSymbol: Int32
    /// Number of regular symbols (the escape symbol is not counted).
    public let symbolCount: Int
    /// Quantized frequencies, regular symbols first, escape last. Sum is `1 << 16`.
    public let frequencies: [UInt32]

    /// Packed coder entries, one per symbol (escape last): `start | freq << 16`.
    /// `start < 2^16` and `freq <= 2^16 - 1` (at least two symbols have freq >= 1).
    let entries: UnsafeMutablePointer<UInt32>
    /// Decoder lookup: `buckets[slot >> bucketShift]` = symbol owning slot `slot & ~(bucketSize-1)`.
    let buckets: UnsafeMutablePointer<UInt16>
    static let bucketShift = 4
    static let bucketCount = totalFrequency >> bucketShift

    /// Index of the escape symbol in `entries`.
    @inline(__always) var escapeIndex: Int { symbolCount }

    /// Build from a PMF over symbols `firstSymbol ..< firstSymbol + pmf.count`.
    ///
    /// The PMF need not sum to 1. With `sum = pmf.reduce(0, +)`, probabilities are
    /// `pmf[i] / max(sum, 1)`, and the escape symbol gets the tail mass
    /// `max(0, 1 - sum)` (plus the minimum frequency of 1).
    /// Throws `invalidTable` for an empty PMF, more than 65534 symbols, NaN / negative /
    /// infinite entries, an all-zero PMF, or a symbol range that overflows `Int32`.
    public convenience init(pmf: [Double], firstSymbol: Int32) throws(CodingError) {
        try Self.checkSymbolRange(count: pmf.count, firstSymbol: firstSymbol)
        let quantized = try Self.quantize(pmf: pmf)
        self.init(checkedFrequencies: quantized, firstSymbol: firstSymbol)
    }

    /// Build directly from quantized frequencies: each >= 1, sum exactly `1 << 16`,
    /// the last entry is the escape symbol (so at least 2 entries).
    public convenience init(frequencies: [UInt32], firstSymbol: Int32) throws(CodingError) {
        guard frequencies.count >= 2 else {
            throw .invalidTable("need at least one regular symbol plus the escape, got \(frequencies.count) frequencies")
        }
        try Self.checkSymbolRange(count: frequencies.count - 1, firstSymbol: firstSymbol)
        var sum: UInt64 = 0
        for (i, f) in frequencies.enumerated() {
            guard f >= 1 else { throw .invalidTable("frequency[\(i)] is 0; every symbol needs frequency >= 1") }
            sum += UInt64(f)
        }
        guard sum == UInt64(Self.totalFrequency) else {
            throw .invalidTable("frequencies sum to \(sum), expected \(Self.totalFrequency)")
        }
        self.init(checkedFrequencies: frequencies, firstSymbol: firstSymbol)
    }

    private init(checkedFrequencies: [UInt32], firstSymbol: Int32) {
        self.firstSymbol = firstSymbol
        self.symbolCount = checkedFrequencies.count - 1
        self.frequencies = checkedFrequencies
        entries = .allocate(capacity: checkedFrequencies.count)
        var start: UInt32 = 0
        for (i, f) in checkedFrequencies.enumerated() {
            entries[i] = start | (f << 16)
            start += f
        }
        buckets = .allocate(capacity: Self.bucketCount)
        var symbol = 0
        for bucket in 0..<Self.bucketCount {
            let slot = UInt32(bucket << Self.bucketShift)
            while slot - (entries[symbol] & 0xFFFF) >= entries[symbol] >> 16 { symbol += 1 }
            buckets[bucket] = UInt16(symbol)
        }
    }

    deinit {
        entries.deallocate()
        buckets.deallocate()
    }

    // MARK: - Validation and quantization

    private static func checkSymbolRange(count: Int, firstSymbol: Int32) throws(CodingError) {
        guard count >= 1 else { throw .invalidTable("empty pmf") }
        guard count <= maxRegularSymbols else {
            throw .invalidTable("\(count) symbols exceed the maximum of \(maxRegularSymbols)")
        }
        guard Int64(firstSymbol) + Int64(count) - 1 <= Int64(Int32.max) else {
            throw .invalidTable("symbol range \(firstSymbol) + \(count) overflows Int32")
        }
    }

    /// Quantize a PMF (+ escape tail mass) to integer frequencies summing to 2^16.
    ///
    /// Each symbol first gets `max(1, round(p * 2^16))`; the rounding remainder is then
    /// fixed one unit at a time, always taking from / giving to the symbol whose change
    /// costs the fewest expected bits. The marginal cost of moving one unit at frequency
    /// `f` is `p * log2(1 ± 1/f)`; we rank with `p / (f ± 0.5)`, which is monotone in
    /// it to within a tiny error and — unlike `log2` — is computed bit-identically by
    /// every IEEE platform, so encoder and decoder machines build identical tables.
    /// In practice this adjusts the largest frequencies, as they cost the least.
    static func quantize(pmf: [Double]) throws(CodingError) -> [UInt32] {
        var sum = 0.0
        for (i, p) in pmf.enumerated() {
            guard p.isFinite, p >= 0 else { throw .invalidTable("pmf[\(i)] = \(p) is not a finite non-negative number") }
            sum += p
        }
        guard sum.isFinite else { throw .invalidTable("pmf sum overflows") }
        guard sum > 0 else { throw .invalidTable("pmf is all zero") }

        let total = max(sum, 1)
        var probabilities = pmf.map { $0 / total }
        probabilities.append(max(0, 1 - sum) / total)  // escape: the tail mass

        let scale = Double(totalFrequency)
        var frequencies = probabilities.map { UInt32(max(1, ($0 * scale).rounded())) }
        var excess = frequencies.reduce(0) { $0 + Int($1) } - totalFrequency
        if excess == 0 { return frequencies }

        // Max-heap on "benefit" of the next unit move; ties broken by lower index.
        let growing = excess < 0
        func benefit(_ i: Int) -> Double {
            let f = Double(frequencies[i])
            // Growing: gain of +1. Shrinking: negated loss of -1 (symbols at 1 are excluded).
            return growing ? probabilities[i] / (f + 0.5) : -probabilities[i] / (f - 0.5)
        }
        var heap = IndexHeap()
        for i in frequencies.indices where growing || frequencies[i] > 1 {
            heap.push(benefit(i), i)
        }
        while excess != 0 {
            // Non-empty: shrinking always has some f > 1 since (symbols <= 65535) < 2^16.
            let i = heap.pop()
            if growing { frequencies[i] += 1; excess += 1 } else { frequencies[i] -= 1; excess -= 1 }
            if growing || frequencies[i] > 1 { heap.push(benefit(i), i) }
        }
        return frequencies
    }
}

/// Minimal binary max-heap of (key, index) for table quantization.
private struct IndexHeap {
    private var keys: [Double] = []
    private var items: [Int] = []

    private func above(_ a: Int, _ b: Int) -> Bool {
        keys[a] > keys[b] || (keys[a] == keys[b] && items[a] < items[b])
    }

    private mutating func swapAt(_ a: Int, _ b: Int) {
        keys.swapAt(a, b)
        items.swapAt(a, b)
    }

    mutating func push(_ key: Double, _ item: Int) {
        keys.append(key)
        items.append(item)
        var child = keys.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard above(child, parent) else { break }
            swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Int {
        let top = items[0]
        swapAt(0, keys.count - 1)
        keys.removeLast()
        items.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var best = parent
            if left < keys.count, above(left, best) { best = left }
            if right < keys.count, above(right, best) { best = right }
            if best == parent { break }
            swapAt(parent, best)
            parent = best
        }
        return top
    }
}
