import Foundation
import LICTensor
import Testing
@testable import LICCore

// MARK: - Helpers


/// One step pushed into the encoder; the decoder replays the same sequence.
private enum Step {
    case single(Int32, table: Int)
    case bulk([Int32], table: Int)
    case indexed([Int32], indexes: [Int32])
    case bits(UInt32, count: Int)
}

private func encode(_ steps: [Step], tables: [CDFTable], segmentItems: Int = RANS.segmentItems) throws -> [UInt8] {
    var encoder = RANSEncoder(segmentItems: segmentItems)
    for step in steps {
        switch step {
        case .single(let symbol, let table):
            encoder.encode(symbol, with: tables[table])
        case .bulk(let symbols, let table):
            symbols.withUnsafeBufferPointer { encoder.encode($0, with: tables[table]) }
        case .indexed(let symbols, let indexes):
            try symbols.withUnsafeBufferPointer { symbolBuffer in
                try indexes.withUnsafeBufferPointer { try encoder.encode(symbolBuffer, indexes: $0, tables: tables) }
            }
        case .bits(let value, let count):
            encoder.encodeBits(value, count: count)
        }
    }
    return encoder.finish()
}

/// Replays `steps` against `decoder`; returns false at the first mismatch.
private func decodeMatches(_ steps: [Step], tables: [CDFTable], decoder: inout RANSDecoder) throws -> Bool {
    for step in steps {
        switch step {
        case .single(let symbol, let table):
            guard try decoder.decode(with: tables[table]) == symbol else { return false }
        case .bulk(let symbols, let table):
            var out = [Int32](repeating: 0, count: symbols.count)
            try out.withUnsafeMutableBufferPointer { try decoder.decode(into: $0, with: tables[table]) }
            guard out == symbols else { return false }
        case .indexed(let symbols, let indexes):
            var out = [Int32](repeating: 0, count: symbols.count)
            try out.withUnsafeMutableBufferPointer { outBuffer in
                try indexes.withUnsafeBufferPointer { try decoder.decode(into: outBuffer, indexes: $0, tables: tables) }
            }
            guard out == symbols else { return false }
        case .bits(let value, let count):
            guard try decoder.decodeBits(count: count) == value else { return false }
        }
    }
    return true
}

/// Random PMF of the given size, from a mix of shapes (including very skewed ones,
/// zeros, and sums above and below 1).
private func randomPMF(count: Int, rng: inout SplitMix64) -> [Double] {
    var pmf: [Double]
    switch rng.below(6) {
    case 0:  // uniform noise
        pmf = (0..<count).map { _ in rng.unit() }
    case 1:  // one dominant symbol, the rest nearly impossible
        pmf = (0..<count).map { _ in rng.unit() * 1e-12 }
        pmf[rng.below(count)] = 1
    case 2:  // two-sided geometric (discretized Laplacian) with random width
        let center = rng.below(count), decay = 0.05 + 5 * rng.unit()
        pmf = (0..<count).map { exp(-decay * Double(abs($0 - center))) }
    case 3:  // sparse: many exact zeros
        pmf = (0..<count).map { _ in rng.chance(0.7) ? 0 : rng.unit() }
        pmf[rng.below(count)] += 0.5
    case 4:  // heavy-tailed powers
        pmf = (0..<count).map { _ in pow(rng.unit(), 8) }
        pmf[0] += 1e-3
    default:  // geometric
        let ratio = 0.3 + 0.69 * rng.unit()
        pmf = (0..<count).map { pow(ratio, Double($0)) }
    }
    let sum = pmf.reduce(0, +)
    // Normalize to 1, or leave tail mass for the escape, or overshoot.
    let target = [1.0, 1.0, 0.97, 0.5, 3.0][rng.below(5)]
    return pmf.map { $0 / sum * target }
}

private func randomTable(rng: inout SplitMix64) throws -> CDFTable {
    let count = 1 + rng.below(300)
    let first: Int32
    switch rng.below(8) {
    case 0: first = Int32.min
    case 1: first = Int32.max - Int32(count) + 1
    default: first = Int32(rng.below(401)) - 200
    }
    return try CDFTable(pmf: randomPMF(count: count, rng: &rng), firstSymbol: first)
}

/// Mostly symbols drawn from the table, plus out-of-range values near and far.
private func randomSymbol(for table: CDFTable, rng: inout SplitMix64) -> Int32 {
    let first = Int64(table.firstSymbol), last = first + Int64(table.symbolCount) - 1
    let roll = rng.unit()
    if roll < 0.45 {  // by the table's own distribution
        var target = UInt32(rng.below(1 << 16)), index = 0
        while index < table.symbolCount && target >= table.frequencies[index] {
            target -= table.frequencies[index]
            index += 1
        }
        return Int32(first + Int64(min(index, table.symbolCount - 1)))
    } else if roll < 0.8 {  // uniform in range
        return Int32(first + Int64(rng.below(table.symbolCount)))
    } else if roll < 0.9 {  // just outside
        let offset = Int64(1 + rng.below(40))
        return Int32(clamping: rng.chance(0.5) ? first - offset : last + offset)
    } else if roll < 0.95 {  // the extremes
        return rng.chance(0.5) ? .min : .max
    }
    return Int32(truncatingIfNeeded: rng.next())
}

private func randomBits(rng: inout SplitMix64) -> Step {
    let count = rng.below(33)
    let value = count == 0 ? 0 : UInt32(truncatingIfNeeded: rng.next()) >> UInt32(32 - count)
    return .bits(value, count: count)
}

/// A random mix of every kind of step over `tables`.
private func randomSteps(tables: [CDFTable], count: Int, rng: inout SplitMix64) -> [Step] {
    (0..<count).map { _ in
        switch rng.below(4) {
        case 0:
            let table = rng.below(tables.count)
            return .single(randomSymbol(for: tables[table], rng: &rng), table: table)
        case 1:
            let table = rng.below(tables.count)
            return .bulk((0..<rng.below(50)).map { _ in randomSymbol(for: tables[table], rng: &rng) }, table: table)
        case 2:
            let indexes = (0..<rng.below(50)).map { _ in Int32(rng.below(tables.count)) }
            return .indexed(indexes.map { randomSymbol(for: tables[Int($0)], rng: &rng) }, indexes: indexes)
        default:
            return randomBits(rng: &rng)
        }
    }
}

/// A discretized Laplacian over -20...19 (40 symbols), summing to 1.
private func laplacianPMF(scale: Double = 3) -> [Double] {
    let weights = (-20...19).map { exp(-abs(Double($0)) / scale) }
    let sum = weights.reduce(0, +)
    return weights.map { $0 / sum }
}

// MARK: - Tests

@Suite struct RANSCoderTests {
    @Test func randomRoundTrips() throws {
        var rng = SplitMix64(state: 0x5EED_0001)
        for round in 0..<60 {
            let tables = try (0..<(1 + rng.below(6))).map { _ in try randomTable(rng: &rng) }
            let steps = randomSteps(tables: tables, count: 1 + rng.below(120), rng: &rng)
            let bytes = try encode(steps, tables: tables)
            var decoder = try RANSDecoder(bytes: bytes)
            #expect(try decodeMatches(steps, tables: tables, decoder: &decoder), "round \(round)")
            #expect(decoder.isFullyConsumed, "round \(round)")
        }
    }

    @Test func quantizedTablesAreValid() throws {
        var rng = SplitMix64(state: 0x5EED_0002)
        for _ in 0..<200 {
            let table = try randomTable(rng: &rng)
            #expect(table.frequencies.count == table.symbolCount + 1)
            #expect(table.frequencies.allSatisfy { $0 >= 1 })
            #expect(table.frequencies.reduce(0, +) == 1 << CDFTable.precisionBits)
        }
        // Tail mass goes to the escape.
        let withTail = try CDFTable(pmf: [0.25, 0.25], firstSymbol: 0)
        #expect(withTail.frequencies == [16384, 16384, 32768])
        // Over-full PMFs are normalized; the escape keeps its minimum of 1.
        let overFull = try CDFTable(pmf: [3, 1], firstSymbol: 0)
        #expect(overFull.frequencies.last == 1)
        #expect(overFull.frequencies.reduce(0, +) == 65536)
    }

    @Test func bypassBitsOfEveryWidth() throws {
        var rng = SplitMix64(state: 0x5EED_0003)
        let table = try CDFTable(pmf: laplacianPMF(), firstSymbol: -20)
        var steps: [Step] = []
        for count in 0...32 {
            for value: UInt32 in [0, 1, UInt32(truncatingIfNeeded: rng.next())] {
                let masked = count == 32 ? value : value & ((1 << UInt32(count)) &- 1)
                steps.append(.bits(masked, count: count))
                steps.append(.single(Int32(rng.below(40)) - 20, table: 0))
            }
            steps.append(.bits(count == 32 ? .max : (1 << UInt32(count)) &- 1, count: count))
        }
        var decoder = try RANSDecoder(bytes: try encode(steps, tables: [table]))
        #expect(try decodeMatches(steps, tables: [table], decoder: &decoder))
        #expect(decoder.isFullyConsumed)
    }

    @Test func escapesCoverAllOfInt32() throws {
        let low = try CDFTable(pmf: [0.5, 0.5], firstSymbol: .min)
        let high = try CDFTable(pmf: [0.5, 0.5], firstSymbol: .max - 1)
        let middle = try CDFTable(pmf: laplacianPMF(), firstSymbol: -20)
        let tables = [low, high, middle]
        let values: [Int32] = [.min, .min + 1, .min + 2, -21, -20, 0, 19, 20, 21, .max - 2, .max - 1, .max]
        var steps: [Step] = []
        for (table, _) in tables.enumerated() {
            steps.append(.bulk(values, table: table))
            steps += values.map { .single($0, table: table) }
        }
        var decoder = try RANSDecoder(bytes: try encode(steps, tables: tables))
        #expect(try decodeMatches(steps, tables: tables, decoder: &decoder))
        #expect(decoder.isFullyConsumed)
    }

    /// 1M symbols from a fixed Laplacian: the coded size must be within 0.5% of the
    /// ideal size under the true PMF.
    @Test func codedSizeIsNearIdeal() throws {
        let pmf = laplacianPMF()
        let table = try CDFTable(pmf: pmf, firstSymbol: -20)
        var cumulative: [Double] = []
        var running = 0.0
        for p in pmf { running += p; cumulative.append(running) }

        var rng = SplitMix64(state: 0x5EED_0004)
        var idealBits = 0.0
        let symbols: [Int32] = (0..<1_000_000).map { _ in
            let u = rng.unit()
            let index = cumulative.firstIndex { u < $0 } ?? pmf.count - 1
            idealBits -= log2(pmf[index])
            return Int32(index) - 20
        }
        var encoder = RANSEncoder()
        symbols.withUnsafeBufferPointer { encoder.encode($0, with: table) }
        let bytes = encoder.finish()
        let ratio = Double(bytes.count * 8) / idealBits
        print("rANS size test: \(bytes.count) bytes, ideal \(Int(idealBits / 8)) bytes, ratio \(ratio)")
        #expect(ratio < 1.005)
        #expect(ratio > 0.99)

        var decoded = [Int32](repeating: 0, count: symbols.count)
        var decoder = try RANSDecoder(bytes: bytes)
        try decoded.withUnsafeMutableBufferPointer { try decoder.decode(into: $0, with: table) }
        #expect(decoded == symbols)
        #expect(decoder.isFullyConsumed)
    }

    @Test func randomBytesNeverCrash() throws {
        var rng = SplitMix64(state: 0x5EED_0005)
        let tables = try (0..<4).map { _ in try randomTable(rng: &rng) }
        var accepted = 0
        for _ in 0..<2000 {
            let bytes = (0..<rng.below(120)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            guard var decoder = try? RANSDecoder(bytes: bytes) else { continue }
            accepted += 1
            // Decode a random mix until an error; every call must terminate.
            do {
                for _ in 0..<200 {
                    switch rng.below(4) {
                    case 0: _ = try decoder.decode(with: tables[rng.below(tables.count)])
                    case 1: _ = try decoder.decodeBits(count: rng.below(33))
                    case 2:
                        var out = [Int32](repeating: 0, count: 16)
                        try out.withUnsafeMutableBufferPointer { try decoder.decode(into: $0, with: tables[0]) }
                    default:
                        let indexes = (0..<16).map { _ in Int32(rng.below(tables.count)) }
                        var out = [Int32](repeating: 0, count: 16)
                        try out.withUnsafeMutableBufferPointer { outBuffer in
                            try indexes.withUnsafeBufferPointer { try decoder.decode(into: outBuffer, indexes: $0, tables: tables) }
                        }
                    }
                }
                #expect(!decoder.isFullyConsumed)
            } catch let error as CodingError {
                guard case .corruptStream = error else {
                    Issue.record("unexpected error \(error)")
                    continue
                }
            }
        }
        #expect(accepted > 0)
    }

    /// Truncations and single-bit flips of a valid stream are always detected: the
    /// decoder throws, reports leftover state, or yields different values.
    @Test func damagedStreamsAreDetected() throws {
        var rng = SplitMix64(state: 0x5EED_0006)
        let tables = try (0..<3).map { _ in try randomTable(rng: &rng) }
        let steps = randomSteps(tables: tables, count: 80, rng: &rng)
        let bytes = try encode(steps, tables: tables)

        func detected(_ damaged: [UInt8]) -> Bool {
            guard var decoder = try? RANSDecoder(bytes: damaged) else { return true }
            guard let same = try? decodeMatches(steps, tables: tables, decoder: &decoder) else { return true }
            return !same || !decoder.isFullyConsumed
        }

        for length in 0..<bytes.count {
            #expect(detected(Array(bytes[..<length])), "truncated to \(length) bytes")
        }
        #expect(detected(bytes + [0, 0, 0, 0]), "trailing word")
        for bit in 0..<(bytes.count * 8) {
            var flipped = bytes
            flipped[bit / 8] ^= 1 << UInt8(bit % 8)
            #expect(detected(flipped), "bit \(bit) flipped")
        }
    }

    @Test func errorsNameTheByteOffset() throws {
        let table = try CDFTable(pmf: laplacianPMF(), firstSymbol: -20)
        var encoder = RANSEncoder()
        for i in 0..<200 { encoder.encode(Int32(i % 40) - 20, with: table) }
        let bytes = encoder.finish()
        var decoder = try RANSDecoder(bytes: Array(bytes[..<32]))
        #expect {
            for _ in 0..<200 { _ = try decoder.decode(with: table) }
        } throws: { error in
            "\(error)".contains("byte offset 32")
        }
        #expect(throws: CodingError.self) { try RANSDecoder(bytes: Array(repeating: 0xFF, count: 12)) }
        #expect(throws: CodingError.self) { try RANSDecoder(bytes: Array(bytes.dropLast())) }
        #expect(throws: CodingError.self) { try RANSDecoder(bytes: []) }
    }

    @Test func invalidTablesThrow() {
        func rejected(_ pmf: [Double], first: Int32 = 0) -> Bool {
            do { _ = try CDFTable(pmf: pmf, firstSymbol: first); return false } catch {
                if case .invalidTable = error { return true }
                return false
            }
        }
        #expect(rejected([]))
        #expect(rejected([0.5, .nan]))
        #expect(rejected([0.5, -0.1]))
        #expect(rejected([0.5, .infinity]))
        #expect(rejected([0, 0, 0]))
        #expect(rejected([.greatestFiniteMagnitude, .greatestFiniteMagnitude]))
        #expect(rejected(Array(repeating: 1, count: 65535)))
        #expect(rejected([0.5, 0.5], first: .max))
        #expect(!rejected(Array(repeating: 1, count: 65534)))

        func rejected(frequencies: [UInt32], first: Int32 = 0) -> Bool {
            do { _ = try CDFTable(frequencies: frequencies, firstSymbol: first); return false } catch {
                if case .invalidTable = error { return true }
                return false
            }
        }
        #expect(rejected(frequencies: [65536]))
        #expect(rejected(frequencies: [65535, 0, 1]))
        #expect(rejected(frequencies: [65535, 2]))
        #expect(rejected(frequencies: [UInt32.max, 65537]))
        #expect(rejected(frequencies: [65534, 1, 1], first: .max))
        #expect(!rejected(frequencies: [65534, 1, 1], first: .max - 1))
        #expect(!rejected(frequencies: [65535, 1], first: .max))
    }

    @Test func invalidArgumentsThrowWithoutSideEffects() throws {
        let tables = [try CDFTable(pmf: laplacianPMF(), firstSymbol: -20)]
        var encoder = RANSEncoder()
        let symbols: [Int32] = [1, 2, 3]
        for badIndexes: [Int32] in [[0, 1, 0], [0, -1, 0], [0, 0]] {
            #expect(throws: CodingError.self) {
                try symbols.withUnsafeBufferPointer { symbolBuffer in
                    try badIndexes.withUnsafeBufferPointer { try encoder.encode(symbolBuffer, indexes: $0, tables: tables) }
                }
            }
        }
        #expect(encoder.bufferedSteps == 0)

        var decoder = try RANSDecoder(bytes: encoder.finish())
        var out = [Int32](repeating: 0, count: 3)
        #expect(throws: CodingError.self) {
            try out.withUnsafeMutableBufferPointer { outBuffer in
                try [Int32(0), 5, 0].withUnsafeBufferPointer { try decoder.decode(into: outBuffer, indexes: $0, tables: tables) }
            }
        }
        #expect(throws: CodingError.self) { try decoder.decodeBits(count: 33) }
        #expect(throws: CodingError.self) { try decoder.decodeBits(count: -1) }
        #expect(decoder.isFullyConsumed)
    }

    /// Segments: random call mixes coded with small segments decode alike
    /// with 1 and 2 threads (bulk calls spanning segments run them in
    /// parallel), and end exactly.
    @Test func segmentedStreamsRoundTrip() throws {
        var rng = SplitMix64(state: 0x5EED_0011)
        for round in 0..<40 {
            let tables = try (0..<(1 + rng.below(4))).map { _ in try randomTable(rng: &rng) }
            let steps = randomSteps(tables: tables, count: 1 + rng.below(120), rng: &rng)
            let segmentItems = 1 + rng.below(40)
            let bytes = try encode(steps, tables: tables, segmentItems: segmentItems)
            for threads in [1, 2] {
                var decoder = try RANSDecoder(bytes: bytes)
                let matches = try Threads.withCount(threads) { try decodeMatches(steps, tables: tables, decoder: &decoder) }
                #expect(matches, "round \(round), segments of \(segmentItems), \(threads) thread(s)")
                #expect(decoder.isFullyConsumed, "round \(round)")
            }
        }
    }

    @Test func segmentedStreamLayoutAndChecks() throws {
        let table = try CDFTable(pmf: laplacianPMF(), firstSymbol: -20)
        let symbols = (0..<1000).map { Int32($0 % 31) - 15 }
        var encoder = RANSEncoder(segmentItems: 300)
        symbols.withUnsafeBufferPointer { encoder.encode($0, with: table) }
        #expect(encoder.segmentCount == 4)
        let bytes = encoder.finish()
        #expect(RANS.isSegmented(bytes))
        // [8 zero bytes][count 4][items, bytes] x 4: 300, 300, 300, 100 items.
        let word = { (offset: Int) in bytes[offset ..< offset + 4].reversed().reduce(0) { $0 << 8 | Int($1) } }
        #expect(word(8) == 4)
        #expect([12, 20, 28, 36].map(word) == [300, 300, 300, 100])
        // One bulk call over every segment.
        var decoder = try RANSDecoder(bytes: bytes)
        var out = [Int32](repeating: 0, count: symbols.count)
        try out.withUnsafeMutableBufferPointer { try decoder.decode(into: $0, with: table) }
        #expect(out == symbols)
        #expect(decoder.isFullyConsumed)
        // A file that does not declare segments refuses them.
        #expect(throws: CodingError.self) { try RANSDecoder(bytes: bytes, segmented: false) }
        // A damaged table or a stray byte is refused, never a crash.
        for offset in [8, 12, 16, 40] {
            var damaged = bytes
            damaged[offset] ^= 0x40
            #expect(throws: CodingError.self) {
                var decoder = try RANSDecoder(bytes: damaged)
                try out.withUnsafeMutableBufferPointer { try decoder.decode(into: $0, with: table) }
                if !decoder.isFullyConsumed { throw CodingError.corruptStream("not consumed") }
            }
        }
        #expect(throws: CodingError.self) { try RANSDecoder(bytes: bytes + [0, 0, 0, 0]) }
        // Asking for more items than the stream holds fails at the end of the last segment.
        var tooMany = [Int32](repeating: 0, count: symbols.count + 1)
        var short = try RANSDecoder(bytes: bytes)
        #expect(throws: CodingError.self) { try tooMany.withUnsafeMutableBufferPointer { try short.decode(into: $0, with: table) } }
    }

    @Test func emptyStreamDecodes() throws {
        var encoder = RANSEncoder()
        let bytes = encoder.finish()
        #expect(bytes.count == 16)
        let decoder = try RANSDecoder(bytes: bytes)
        #expect(decoder.isFullyConsumed)
    }

    @Test func encodingIsDeterministicAndReusable() throws {
        var rng = SplitMix64(state: 0x5EED_0007)
        let tables = try (0..<3).map { _ in try randomTable(rng: &rng) }
        let steps = randomSteps(tables: tables, count: 100, rng: &rng)
        let first = try encode(steps, tables: tables)
        #expect(try encode(steps, tables: tables) == first)
        // Same tables rebuilt from the same PMF quantize identically.
        var rebuildRNG = SplitMix64(state: 0x5EED_0007)
        let rebuilt = try (0..<3).map { _ in try randomTable(rng: &rebuildRNG) }
        #expect(rebuilt.map(\.frequencies) == tables.map(\.frequencies))

        // A reused encoder produces the same bytes again.
        var encoder = RANSEncoder()
        for _ in 0..<2 {
            encoder.encode(3, with: tables[0])
            encoder.encodeBits(0x1234_5678, count: 31)
            encoder.encode(Int32.min, with: tables[1])
        }
        let once = encoder.finish()
        for _ in 0..<2 {
            encoder.encode(3, with: tables[0])
            encoder.encodeBits(0x1234_5678, count: 31)
            encoder.encode(Int32.min, with: tables[1])
        }
        #expect(encoder.finish() == once)
    }

    /// Pins the byte format (explicit little-endian, two interleaved states), so any
    /// machine must produce exactly these bytes.
    @Test func knownAnswer() throws {
        let table = try CDFTable(frequencies: [30000, 20000, 15000, 536], firstSymbol: -1)
        var encoder = RANSEncoder()
        [Int32(-1), 0, 1, 1, 0, -1, 7, -9].withUnsafeBufferPointer { encoder.encode($0, with: table) }
        encoder.encodeBits(0xABCDE, count: 20)
        encoder.encode(0, with: table)
        let tail = (0..<40).map { Int32($0 * 7 % 3) - 1 } + [.min, .max]
        tail.withUnsafeBufferPointer { encoder.encode($0, with: table) }
        let bytes = encoder.finish()
        #expect(bytes == Self.knownAnswerBytes)

        var decoder = try RANSDecoder(bytes: bytes)
        var out = [Int32](repeating: 0, count: 8)
        try out.withUnsafeMutableBufferPointer { try decoder.decode(into: $0, with: table) }
        #expect(out == [-1, 0, 1, 1, 0, -1, 7, -9])
        #expect(try decoder.decodeBits(count: 20) == 0xABCDE)
        #expect(try decoder.decode(with: table) == 0)
        var tailOut = [Int32](repeating: 0, count: tail.count)
        try tailOut.withUnsafeMutableBufferPointer { try decoder.decode(into: $0, with: table) }
        #expect(tailOut == tail)
        #expect(decoder.isFullyConsumed)
    }

    /// Produced by an independent Python model of the format (not by this encoder).
    static let knownAnswerBytes: [UInt8] = [
        224, 52, 66, 45, 2, 0, 0, 0, 204, 130, 52, 32, 62, 0, 0, 0,
        118, 154, 63, 237, 250, 131, 90, 205, 23, 121, 120, 135, 22, 194, 194, 174,
        63, 203, 129, 111, 254, 255, 255, 95, 254, 255, 252, 255,
    ]
}
