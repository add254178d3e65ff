import Foundation
import Testing
@testable import LICCore

/// A model directory stores its coding tables as integers
/// (coding-tables.bin) and coding uses the stored tables, not rebuilt ones.
@Suite struct CodingTableTests {
    static let image = { try! TestSupport.syntheticImage(width: 64, height: 48, channels: 3, seed: 5) }()

    @Test(arguments: ["bmshj2018-factorized", "mbt2018-mean"])
    func savedTablesAreTheOnesBuiltAndRoundTrip(_ name: String) throws {
        let model = try LearnedCodecTests.tiny(name)
        let directory = try TestSupport.temporaryDirectory()
        try model.save(to: directory)
        let bytes = try #require(FileManager.default.contents(atPath: directory + "/" + CodingTableFile.name))
        let stored = try CodingTableFile.parse(Array(bytes), path: "t")
        #expect(stored == model.codingTables && !stored.isEmpty)
        let loaded = try Codec.load(directory: directory)
        let encoded = try model.encode(Self.image)
        #expect(try loaded.decode(encoded.bytes, source: "a.lic") == encoded.reconstruction)
        #expect(loaded.codingTables == model.codingTables)
    }

    @Test func codingUsesTheStoredTables() throws {
        let model = try LearnedCodecTests.tiny("mbt2018-mean")
        let directory = try TestSupport.temporaryDirectory()
        try model.save(to: directory)
        let path = directory + "/" + CodingTableFile.name
        var sets = try CodingTableFile.parse(Array(FileManager.default.contents(atPath: path)!), path: path)
        // Move half the probability of each z table's likeliest symbol to another symbol: still valid tables, other codes.
        var hyper = try #require(sets["hyper.entropy"])
        hyper.entries = hyper.entries.map { entry in
            guard case .table(var t) = entry, let top = t.frequencies.max(), let big = t.frequencies.firstIndex(of: top) else { return entry }
            let other = big == 0 ? 1 : 0
            t.frequencies[big] -= top / 2
            t.frequencies[other] += top / 2
            return .table(t)
        }
        sets["hyper.entropy"] = hyper
        try Data(CodingTableFile.serialize(model.stages.map(\.name).compactMap { n in sets[n].map { (n, $0) } }))
            .write(to: URL(fileURLWithPath: path))
        let tampered = try Codec.load(directory: directory)
        let original = try model.encode(Self.image), changed = try tampered.encode(Self.image)
        #expect(original.bytes != changed.bytes)
        #expect(try tampered.decode(changed.bytes, source: "b.lic") == changed.reconstruction)
    }

    @Test func tablesOfAnotherModelAreRefusedByName() throws {
        let directory = try TestSupport.temporaryDirectory(), other = try TestSupport.temporaryDirectory()
        try LearnedCodecTests.tiny("mbt2018-mean").save(to: directory)
        try LearnedCodecTests.tiny("mbt2018-mean", n: 6, m: 10).save(to: other)
        try FileManager.default.removeItem(atPath: directory + "/" + CodingTableFile.name)
        try FileManager.default.copyItem(atPath: other + "/" + CodingTableFile.name, toPath: directory + "/" + CodingTableFile.name)
        let loaded = try Codec.load(directory: directory)
        let error = try #require(throws: LICError.self) { try loaded.encode(Self.image) }
        #expect("\(error)".contains(CodingTableFile.name))
    }

    @Test func damagedFilesAreRefusedWithThePath() throws {
        let directory = try TestSupport.temporaryDirectory()
        try LearnedCodecTests.tiny("bmshj2018-hyperprior").save(to: directory)
        let path = directory + "/" + CodingTableFile.name
        let good = Array(FileManager.default.contents(atPath: path)!)
        var flipped = good
        flipped[good.count / 2] ^= 0x10
        for bad in [flipped, Array(good.prefix(good.count - 9)), Array(good.prefix(5))] {
            try Data(bad).write(to: URL(fileURLWithPath: path))
            let error = try #require(throws: LICError.self) { try Codec.load(directory: directory) }
            #expect("\(error)".contains(path))
        }
        // Truncations with a valid checksum are refused, never a crash.
        for cut in stride(from: 0, to: good.count - 4, by: max(1, good.count / 200)) {
            var body = Array(good.prefix(cut)) + Array(good[(good.count - 4)...])
            body.removeLast(4)
            let crc = CRC32C.checksum(body)
            #expect(throws: LICError.self) { try CodingTableFile.parse(body + withUnsafeBytes(of: crc.littleEndian, Array.init), path: "t") }
        }
    }
}
