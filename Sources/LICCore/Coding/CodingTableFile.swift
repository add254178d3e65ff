import Foundation

/// `coding-tables.bin` in a model directory: every entropy stage's integer
/// coding tables (CodingTableSet), written when the weights are saved.
///
/// Little-endian: "LICTABLE", u32 version (1), u32 stage count; per stage a
/// u16-length UTF-8 name and u32 entry count; an entry is u8 kind, then for a
/// table (1) i32 first symbol, u32 frequency count, u16 frequencies; for a
/// Gaussian coder (2) u32 scale count, the scales as u32 float bits, and one
/// table per scale. A CRC32C of everything before it ends the file.
enum CodingTableFile {
    static let name = "coding-tables.bin"
    static let magic = Array("LICTABLE".utf8)
    static let version: UInt32 = 1

    static func serialize(_ stages: [(name: String, tables: CodingTableSet)]) -> [UInt8] {
        var out = magic
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
        func table(_ t: CodingTableSet.Table) {
            u32(UInt32(bitPattern: t.firstSymbol))
            u32(UInt32(t.frequencies.count))
            for f in t.frequencies { withUnsafeBytes(of: f.littleEndian) { out += $0 } }
        }
        u32(version)
        u32(UInt32(stages.count))
        for (name, set) in stages {
            let bytes = Array(name.utf8)
            withUnsafeBytes(of: UInt16(bytes.count).littleEndian) { out += $0 }
            out += bytes
            u32(UInt32(set.entries.count))
            for entry in set.entries {
                switch entry {
                case .table(let t):
                    out.append(1)
                    table(t)
                case .gaussian(let scales, let tables):
                    out.append(2)
                    u32(UInt32(scales.count))
                    for s in scales { u32(s.bitPattern) }
                    tables.forEach(table)
                }
            }
        }
        u32(CRC32C.checksum(out))
        return out
    }

    /// Parses the file; errors name the path and the byte offset.
    static func parse(_ bytes: [UInt8], path: String) throws -> [String: CodingTableSet] {
        var reader = Reader(bytes: bytes, path: path)
        guard bytes.count >= magic.count + 12, Array(bytes.prefix(magic.count)) == magic else {
            throw LICError("\(path): not a coding tables file")
        }
        let crcOffset = bytes.count - 4
        let crc = bytes[crcOffset...].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
        guard CRC32C.checksum(Array(bytes[..<crcOffset])) == crc else { throw LICError("\(path): checksum mismatch (damaged file)") }
        reader.limit = crcOffset
        reader.offset = magic.count
        let fileVersion = try reader.u32()
        guard fileVersion == version else { throw LICError("\(path): version \(fileVersion) (this build reads \(version))") }
        var stages: [String: CodingTableSet] = [:]
        for _ in 0..<(try reader.count(max: 1024)) {
            let nameLength = Int(try reader.u16())
            let name = String(decoding: try reader.bytes(nameLength), as: UTF8.self)
            var entries: [CodingTableSet.Entry] = []
            for _ in 0..<(try reader.count(max: 1 << 20)) {
                switch try reader.u8() {
                case 1: entries.append(.table(try reader.table()))
                case 2:
                    let count = try reader.count(max: 4096)
                    let scales = try (0..<count).map { _ in Float(bitPattern: try reader.u32()) }
                    entries.append(.gaussian(scales: scales, tables: try (0..<count).map { _ in try reader.table() }))
                case let kind: throw reader.error("unknown entry kind \(kind)")
                }
            }
            guard stages.updateValue(CodingTableSet(entries: entries), forKey: name) == nil else { throw reader.error("stage '\(name)' twice") }
        }
        guard reader.offset == crcOffset else { throw reader.error("\(crcOffset - reader.offset) bytes after the last stage") }
        return stages
    }

    /// Bounds-checked little-endian reads.
    struct Reader {
        let bytes: [UInt8]
        let path: String
        var offset = 0
        var limit = 0

        func error(_ message: String) -> LICError { LICError("\(path): byte \(offset): \(message)") }

        mutating func bytes(_ n: Int) throws -> ArraySlice<UInt8> {
            guard n >= 0, limit - offset >= n else { throw error("truncated (\(n) bytes needed)") }
            defer { offset += n }
            return bytes[offset..<(offset + n)]
        }

        mutating func u8() throws -> UInt8 { try bytes(1).first! }
        mutating func u16() throws -> UInt16 { try bytes(2).enumerated().reduce(0) { $0 | UInt16($1.element) << (8 * UInt16($1.offset)) } }
        mutating func u32() throws -> UInt32 { try bytes(4).enumerated().reduce(0) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) } }

        /// A count, refused above `max` and above what the remaining bytes could hold.
        mutating func count(max: Int) throws -> Int {
            let n = Int(try u32())
            guard n <= max, n <= limit - offset else { throw error("count \(n) is out of range") }
            return n
        }

        mutating func table() throws -> CodingTableSet.Table {
            let first = Int32(bitPattern: try u32())
            let n = try count(max: 65535)
            guard n >= 2 else { throw error("a table of \(n) frequencies (at least 2)") }
            let raw = try bytes(2 * n)
            let frequencies = stride(from: raw.startIndex, to: raw.endIndex, by: 2).map { UInt16(raw[$0]) | UInt16(raw[$0 + 1]) << 8 }
            return CodingTableSet.Table(firstSymbol: first, frequencies: frequencies)
        }
    }
}
