import Foundation
import Testing
@testable import LICTensor

// Checkpoint files: round trips, layout, every kind of damage refused with the tensor named, dtype conversions.

private func readBytes(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

/// A safetensors file built by hand: length, header (unpadded), data.
private func handMadeFile(header: String, data: [UInt8]) -> [UInt8] {
    let headerBytes = Array(header.utf8)
    var bytes: [UInt8] = []
    var length = UInt64(headerBytes.count)
    for _ in 0..<8 {
        bytes.append(UInt8(length & 0xFF))
        length >>= 8
    }
    return bytes + headerBytes + data
}

private func littleEndianBytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { value -> [UInt8] in
        let bits = value.bitPattern
        return (0..<4).map { UInt8(truncatingIfNeeded: bits >> (8 * $0)) }
    }
}

private func littleEndianBytes(_ values: [UInt16]) -> [UInt8] {
    values.flatMap { [UInt8(truncatingIfNeeded: $0), UInt8(truncatingIfNeeded: $0 >> 8)] }
}

/// Reads `bytes` expecting a CheckpointError; returns it (nil, recorded as a failure, otherwise).
private func expectCheckpointError(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> CheckpointError? {
    do {
        _ = try SafeTensorsFile.read(bytes: bytes, name: "test.safetensors")
        Issue.record("expected a CheckpointError, the file was accepted", sourceLocation: sourceLocation)
    } catch let error as CheckpointError {
        #expect(error.path == "test.safetensors", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected a CheckpointError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

private func sampleFile() -> SafeTensorsFile {
    SafeTensorsFile(
        tensors: [
            "encoder/conv0/weight": .init(shape: [2, 3], values: [1, -2, 3.5, 0, .greatestFiniteMagnitude, -.leastNonzeroMagnitude]),
            "encoder/conv0/bias": .init(shape: [2], values: [0.25, -0.125]),
            "scalar": .init(shape: [], values: [42]),
            "empty": .init(shape: [0], values: []),
            "zero-size": .init(shape: [3, 0, 2], values: []),
            "name with \"quotes\" \\ and ünïcödé": .init(shape: [1], values: [7]),
        ],
        metadata: ["format": "pt", "step": "1234", "note": "line\nbreak \"quoted\""])
}

@Suite struct SafeTensorsTests {
    @Test func roundTripWithMetadataAndEmptyTensors() throws {
        let path = try temporaryPath("model.safetensors")
        let original = sampleFile()
        try original.write(to: path)
        let loaded = try SafeTensorsFile.read(path: path)
        #expect(loaded.tensors == original.tensors)
        #expect(loaded.metadata == original.metadata)

        let bytes = try readBytes(path)
        let headerLength = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect((8 + headerLength) % 8 == 0, "data must start 8-byte aligned")
        // Written atomically: nothing but the file is left in its directory.
        let directory = (path as NSString).deletingLastPathComponent
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["model.safetensors"])
        // Deterministic: writing again gives the same bytes.
        try original.write(to: path)
        #expect(try readBytes(path) == bytes)
    }

    @Test func emptyFileRoundTrips() throws {
        let path = try temporaryPath("empty.safetensors")
        try SafeTensorsFile(tensors: [:], metadata: [:]).write(to: path)
        let loaded = try SafeTensorsFile.read(path: path)
        #expect(loaded.tensors.isEmpty)
        #expect(loaded.metadata.isEmpty)
    }

    @Test func namesAreSortedAndDataContiguous() throws {
        let path = try temporaryPath("order.safetensors")
        try SafeTensorsFile(tensors: ["b": .init(shape: [1], values: [2]), "a": .init(shape: [2], values: [1, 1.5])])
            .write(to: path)
        let bytes = try readBytes(path)
        let headerLength = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = String(decoding: bytes[8..<(8 + headerLength)], as: UTF8.self)
        #expect(header.contains(#""a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#))
        #expect(header.contains(#""b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}"#))
        #expect(Array(bytes[(8 + headerLength)...]) == littleEndianBytes([1, 1.5, 2] as [Float]))
    }

    @Test func writeRejectsInconsistentTensors() throws {
        let path = try temporaryPath("bad.safetensors")
        #expect(throws: CheckpointError.self) {
            try SafeTensorsFile(tensors: ["w": .init(shape: [2, 2], values: [1, 2, 3])]).write(to: path)
        }
        #expect(throws: CheckpointError.self) {
            try SafeTensorsFile(tensors: ["w": .init(shape: [-1], values: [])]).write(to: path)
        }
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: (path as NSString).deletingLastPathComponent).isEmpty)
    }

    @Test func everyTruncationThrows() throws {
        let path = try temporaryPath("small.safetensors")
        try SafeTensorsFile(tensors: ["a": .init(shape: [2], values: [1, 2]), "b": .init(shape: [1, 1], values: [3])],
                            metadata: ["k": "v"]).write(to: path)
        let bytes = try readBytes(path)
        _ = try SafeTensorsFile.read(bytes: bytes, name: "test.safetensors")
        for length in 0..<bytes.count {
            _ = expectCheckpointError(Array(bytes[0..<length]))
        }
    }

    @Test func hugeHeaderLengthThrowsWithoutAllocating() {
        var bytes = handMadeFile(header: "{}", data: [])
        let huge: UInt64 = 1 << 62
        for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: huge >> (8 * UInt64(i))) }
        let error = expectCheckpointError(bytes)
        #expect(error?.tensor == nil)
        #expect(error?.message.contains("header length") == true)
        // Just over the 100 MiB limit, and longer than the file.
        var overLimit = handMadeFile(header: "{}", data: [])
        let limit = UInt64(100 << 20) + 1
        for i in 0..<8 { overLimit[i] = UInt8(truncatingIfNeeded: limit >> (8 * UInt64(i))) }
        _ = expectCheckpointError(overLimit)
        _ = expectCheckpointError(handMadeFile(header: "{}", data: []).dropLast(1).map { $0 })
    }

    @Test func malformedHeadersThrow() {
        _ = expectCheckpointError([])
        _ = expectCheckpointError([1, 0, 0])
        _ = expectCheckpointError(handMadeFile(header: "not json", data: []))
        _ = expectCheckpointError(handMadeFile(header: "[1, 2]", data: []))
        _ = expectCheckpointError(handMadeFile(header: "\"string\"", data: []))
        _ = expectCheckpointError(handMadeFile(header: "{\"a\": 1}", data: []))
        _ = expectCheckpointError(Array(handMadeFile(header: "{}", data: []).dropLast(2)) + [0xFF, 0xFE])  // not UTF-8
        _ = expectCheckpointError(handMadeFile(header: #"{"__metadata__": {"k": 1}}"#, data: []))
        _ = expectCheckpointError(handMadeFile(header: #"{"__metadata__": ["k"]}"#, data: []))
        // Deep nesting must not crash the parser.
        _ = expectCheckpointError(handMadeFile(header: String(repeating: "[", count: 100_000), data: []))
        // Data after the last tensor.
        let trailing = expectCheckpointError(handMadeFile(
            header: #"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}"#, data: [0, 0, 0, 0, 9]))
        #expect(trailing?.message.contains("data") == true)
        // A valid hand-made file, for contrast (no padding, extra keys ignored).
        let valid = handMadeFile(
            header: #"{"__metadata__": {"k": "v"}, "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4], "x": 1}}"#,
            data: littleEndianBytes([2.5] as [Float]))
        #expect((try? SafeTensorsFile.read(bytes: valid, name: "x"))?.tensors["a"]?.values == [2.5])
    }

    /// A hand-made file whose entry "bad" is wrong in one way must throw naming "bad".
    private func expectBadTensor(_ entries: String, dataCount: Int, mentioning words: [String] = [],
                                 sourceLocation: SourceLocation = #_sourceLocation) {
        let bytes = handMadeFile(header: "{\(entries)}", data: [UInt8](repeating: 0, count: dataCount))
        guard let error = expectCheckpointError(bytes, sourceLocation: sourceLocation) else { return }
        #expect(error.tensor == "bad", "\(error)", sourceLocation: sourceLocation)
        #expect(error.description.hasPrefix("test.safetensors: tensor 'bad': "), sourceLocation: sourceLocation)
        for word in words {
            #expect(error.message.contains(word), "\(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func badEntriesThrowNamingTheTensor() {
        let good = #""good": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}"#
        // Overlapping offsets.
        expectBadTensor(good + #", "bad": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}"#,
                        dataCount: 12, mentioning: ["overlap", "good"])
        // Byte count that does not match the shape.
        expectBadTensor(good + #", "bad": {"dtype": "F32", "shape": [3], "data_offsets": [8, 16]}"#, dataCount: 16)
        // Unknown dtype.
        expectBadTensor(good + #", "bad": {"dtype": "I32", "shape": [1], "data_offsets": [8, 12]}"#,
                        dataCount: 12, mentioning: ["I32"])
        // Negative dimension.
        expectBadTensor(good + #", "bad": {"dtype": "F32", "shape": [-1, 2], "data_offsets": [8, 16]}"#, dataCount: 16)
        // A hole between tensors.
        expectBadTensor(good + #", "bad": {"dtype": "F32", "shape": [1], "data_offsets": [12, 16]}"#,
                        dataCount: 16, mentioning: ["hole"])
        // Offsets past the data, reversed, malformed.
        expectBadTensor(#""bad": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}"#, dataCount: 2)
        expectBadTensor(#""bad": {"dtype": "F32", "shape": [0], "data_offsets": [4, 0]}"#, dataCount: 4)
        expectBadTensor(#""bad": {"dtype": "F32", "shape": [1], "data_offsets": [0]}"#, dataCount: 4)
        expectBadTensor(#""bad": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4.5]}"#, dataCount: 4)
        expectBadTensor(#""bad": {"dtype": "F32", "shape": [1], "data_offsets": [0, 18446744073709551615]}"#, dataCount: 4)
        // Shapes that are not integers or overflow.
        expectBadTensor(#""bad": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}"#, dataCount: 4)
        expectBadTensor(#""bad": {"dtype": "F32", "shape": [1.0], "data_offsets": [0, 4]}"#, dataCount: 4)
        expectBadTensor(#""bad": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4e0]}"#, dataCount: 4)
        expectBadTensor(#""bad": {"dtype": "F32", "shape": [true], "data_offsets": [0, 4]}"#, dataCount: 4)
        expectBadTensor(#""bad": {"dtype": "F32", "shape": "1", "data_offsets": [0, 4]}"#, dataCount: 4)
        expectBadTensor(#""bad": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 0]}"#,
                        dataCount: 0, mentioning: ["overflow"])
        expectBadTensor(#""bad": {"dtype": "F64", "shape": [2305843009213693952], "data_offsets": [0, 0]}"#,
                        dataCount: 0, mentioning: ["overflow"])
        // Missing fields, wrong types.
        expectBadTensor(#""bad": {"shape": [1], "data_offsets": [0, 4]}"#, dataCount: 4)
        expectBadTensor(#""bad": {"dtype": 3, "shape": [1], "data_offsets": [0, 4]}"#, dataCount: 4)
        expectBadTensor(#""bad": [1, 2]"#, dataCount: 0)
    }

    @Test func zeroSizeTensorsMayShareOffsets() throws {
        let bytes = handMadeFile(header: #"""
            {"a": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]},
             "b": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
             "c": {"dtype": "F16", "shape": [2, 0], "data_offsets": [4, 4]}}
            """#, data: littleEndianBytes([5] as [Float]))
        let file = try SafeTensorsFile.read(bytes: bytes, name: "x")
        #expect(file.tensors["a"] == .init(shape: [0], values: []))
        #expect(file.tensors["b"] == .init(shape: [1], values: [5]))
        #expect(file.tensors["c"] == .init(shape: [2, 0], values: []))
    }

    @Test func halfPrecisionIsConverted() throws {
        // 1, -2, 0.5, 65504 (largest half), 2^-24 (smallest subnormal), 2^-14 (smallest normal), -0, +inf, 1/3 rounded
        let halves: [UInt16] = [0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001, 0x0400, 0x8000, 0x7C00, 0x3555]
        let expected: [Float] = [1, -2, 0.5, 65504, 0x1p-24, 0x1p-14, -0.0, .infinity, 0x1.554p-2]
        let bytes = handMadeFile(
            header: #"{"h": {"dtype": "F16", "shape": [3, 3], "data_offsets": [0, 18]}}"#,
            data: littleEndianBytes(halves))
        let file = try SafeTensorsFile.read(bytes: bytes, name: "half.safetensors")
        let values = try #require(file.tensors["h"]).values
        #expect(file.tensors["h"]?.shape == [3, 3])
        #expect(values.map(\.bitPattern) == expected.map(\.bitPattern))
        #expect(SafeTensorsFile.floatFromHalf(0x7E00).isNaN)
    }

    /// All 65536 halves: the vector path (a whole file), the portable one (one value at a time) and Swift's
    /// Float16 agree bit for bit; NaNs stay NaN with their payload, made quiet.
    @Test func everyHalfConvertsExactlyOnEveryPath() throws {
        let halves = (0...UInt16.max).map { $0 }
        let bytes = handMadeFile(header: #"{"h": {"dtype": "F16", "shape": [65536], "data_offsets": [0, 131072]}}"#,
                                 data: littleEndianBytes(halves))
        let vector = try #require(try SafeTensorsFile.read(bytes: bytes, name: "all.safetensors").tensors["h"]).values
        for (h, value) in zip(halves, vector) {
            let single = SafeTensorsFile.floatFromHalf(h)
            let swift = Float(Float16(bitPattern: h))
            if swift.isNaN {
                #expect(value.isNaN && value.bitPattern == single.bitPattern && value.bitPattern & 0x0040_0000 != 0, "half \(h)")
                #expect(value.bitPattern & 0x003F_E000 == (UInt32(h) & 0x1FF) << 13, "half \(h): the payload")
            } else {
                #expect(value.bitPattern == swift.bitPattern && single.bitPattern == swift.bitPattern, "half \(h)")
            }
        }
    }

    @Test func bfloat16AndDoubleAreConverted() throws {
        // bfloat16: 1, -2.5, 3.140625, largest finite, -inf
        let bfloats: [UInt16] = [0x3F80, 0xC020, 0x4049, 0x7F7F, 0xFF80]
        let doubles: [Double] = [0.1, -1e300, 3]
        var data = littleEndianBytes(bfloats) + [UInt8](repeating: 0, count: 0)
        for d in doubles { data += (0..<8).map { UInt8(truncatingIfNeeded: d.bitPattern >> (8 * UInt64($0))) } }
        let bytes = handMadeFile(header: #"""
            {"b": {"dtype": "BF16", "shape": [5], "data_offsets": [0, 10]},
             "d": {"dtype": "F64", "shape": [3, 1], "data_offsets": [10, 34]}}
            """#, data: data)
        let file = try SafeTensorsFile.read(bytes: bytes, name: "bf16.safetensors")
        #expect(file.tensors["b"]?.values == [1, -2.5, 3.140625, 0x1.FEp127, -.infinity])
        #expect(file.tensors["d"]?.values == [Float(0.1), -.infinity, 3])
        #expect(file.tensors["d"]?.shape == [3, 1])
    }

    @Test func errorDescription() {
        #expect(CheckpointError(path: "m.safetensors", tensor: "w", message: "bad").description == "m.safetensors: tensor 'w': bad")
        #expect(CheckpointError(path: "m.safetensors", tensor: nil, message: "bad").description == "m.safetensors: bad")
    }

    @Test func missingFileThrows() {
        #expect(throws: CheckpointError.self) {
            try SafeTensorsFile.read(path: "/nonexistent/lic/model.safetensors")
        }
    }
}
