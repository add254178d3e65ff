/// The integer coding tables one entropy stage builds in prepare_coding, in
/// the order it builds them: what a model directory stores
/// (`coding-tables.bin`), so that every machine and every later version of
/// the toolkit codes with exactly the tables of the machine that finalized
/// the weights.
public struct CodingTableSet: Equatable, Sendable {
    /// One quantized table (the escape symbol's frequency last).
    public struct Table: Equatable, Sendable {
        public var firstSymbol: Int32
        public var frequencies: [UInt16]

        init(_ table: CDFTable) {
            firstSymbol = table.firstSymbol
            // Every frequency is in 1...65535 (at least two symbols share 2^16).
            frequencies = table.frequencies.map { UInt16($0) }
        }

        init(firstSymbol: Int32, frequencies: [UInt16]) { (self.firstSymbol, self.frequencies) = (firstSymbol, frequencies) }

        func cdfTable() throws -> CDFTable {
            try CDFTable(frequencies: frequencies.map(UInt32.init), firstSymbol: firstSymbol)
        }
    }

    /// What a plugin asked the host for: a table (cdf_table_create) or a
    /// Gaussian coder (gaussian_coder_create: its scales and their tables).
    public enum Entry: Equatable, Sendable {
        case table(Table)
        case gaussian(scales: [Float], tables: [Table])
    }

    public var entries: [Entry]
}

/// Records the tables an entropy stage builds in prepare_coding, or hands it
/// the stored ones instead (checked against what it asks for). The host's
/// table services consult `current`, set around one prepare_coding call.
final class CodingTableSession: @unchecked Sendable {  // used by one thread, inside one prepare_coding call
    @TaskLocal static var current: CodingTableSession?

    let stage: String
    private let stored: [CodingTableSet.Entry]?
    private(set) var entries: [CodingTableSet.Entry] = []

    /// `stored`: the tables to replay (nil: build and record them).
    init(stage: String, stored: CodingTableSet?) {
        self.stage = stage
        self.stored = stored?.entries
    }

    func cdfTable(pmf: [Double], firstSymbol: Int32) throws -> CDFTable {
        guard let stored else {
            let table = try CDFTable(pmf: pmf, firstSymbol: firstSymbol)
            entries.append(.table(CodingTableSet.Table(table)))
            return table
        }
        guard entries.count < stored.count, case .table(let table) = stored[entries.count],
              table.firstSymbol == firstSymbol, table.frequencies.count == pmf.count + 1 else {
            throw mismatch("table \(entries.count) (\(pmf.count) symbols from \(firstSymbol))")
        }
        entries.append(.table(table))
        return try table.cdfTable()
    }

    func gaussianTables(scales: [Double], tailMass: Double) throws -> GaussianTables {
        guard let stored else {
            let tables = try GaussianTables(scales: scales, tailMass: tailMass)
            entries.append(.gaussian(scales: tables.scales, tables: tables.tables.map(CodingTableSet.Table.init)))
            return tables
        }
        guard entries.count < stored.count, case .gaussian(let storedScales, let tables) = stored[entries.count],
              storedScales == scales.map(Float.init), tables.count == scales.count else {
            throw mismatch("Gaussian coder \(entries.count) (\(scales.count) scales)")
        }
        entries.append(stored[entries.count])
        return try GaussianTables(scales: scales, tables: tables.map { try $0.cdfTable() })
    }

    /// After prepare_coding: every stored table must have been asked for.
    func finish() throws {
        if let stored, stored.count != entries.count {
            throw mismatch("\(entries.count) of \(stored.count) stored tables")
        }
    }

    private func mismatch(_ what: String) -> LICError {
        LICError("\(stage): the stored coding tables (\(CodingTableFile.name)) do not match what the entropy model builds now: "
                 + "\(what); they belong to other weights or another version of the plugin (delete the file to rebuild them)")
    }
}
