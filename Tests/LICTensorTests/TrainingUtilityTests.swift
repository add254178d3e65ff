import Foundation
import Testing
@testable import LICTensor

// MARK: Helpers

/// A fresh file path in a fresh temporary directory.
private func temporaryPath(_ name: String) throws -> String {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("lic-training-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory.appendingPathComponent(name).path
}

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

// MARK: SafeTensors

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

// MARK: Adam

/// Adam in Double, straight from the formula (PyTorch's form of it).
private struct ReferenceAdam {
    var lr: Double, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0.0
    var m: [Double] = [], v: [Double] = [], t = 0

    mutating func step(_ p: inout [Double], _ g: [Double]) {
        if m.isEmpty { m = Array(repeating: 0, count: p.count); v = m }
        t += 1
        for i in p.indices {
            p[i] *= 1 - lr * weightDecay
            m[i] = beta1 * m[i] + (1 - beta1) * g[i]
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
            let mHat = m[i] / (1 - pow(beta1, Double(t)))
            let vHat = v[i] / (1 - pow(beta2, Double(t)))
            p[i] -= lr * mHat / (vHat.squareRoot() + eps)
        }
    }
}

private func adamStep(_ adam: Adam, _ name: String, _ parameter: inout [Float], _ gradient: [Float]) throws {
    try parameter.withUnsafeMutableBufferPointer { p in
        try gradient.withUnsafeBufferPointer { g in
            try adam.update(name: name, parameter: p.baseAddress!, gradient: g.baseAddress!, count: p.count)
        }
    }
}

/// Gradient of sum((x - 0.5)^2), in float32 as PyTorch computes it.
private func quadraticGradient(_ x: [Float]) -> [Float] { x.map { 2 * ($0 - 0.5) } }

@Suite struct AdamTests {
    @Test(arguments: [Float(0), 0.05])
    func threeStepsMatchTheFormula(weightDecay: Float) throws {
        let gradients: [[Float]] = [[0.1, -0.3, 2.0, 0, 1e-3], [0.2, -0.3, 1.0, 0, -1e-3], [0.3, 0.6, 0.5, 0, 5e-3]]
        var parameter: [Float] = [0.5, -1.5, 2.0, 3.0, 0.0]
        var reference = parameter.map(Double.init)
        var referenceAdam = ReferenceAdam(lr: 0.01, weightDecay: Double(weightDecay))
        let adam = Adam(learningRate: 0.01, weightDecay: weightDecay)
        let b = [Float](repeating: 1, count: 2)
        var other = b
        for (step, gradient) in gradients.enumerated() {
            adam.beginStep()
            #expect(adam.stepCount == step + 1)
            try adamStep(adam, "w", &parameter, gradient)
            try adamStep(adam, "b", &other, [1, -1])
            referenceAdam.step(&reference, gradient.map(Double.init))
            for i in parameter.indices {
                #expect(abs(Double(parameter[i]) - reference[i]) <= 1e-6 * max(1, abs(reference[i])),
                        "step \(step + 1), element \(i): \(parameter[i]) vs \(reference[i])")
            }
        }
        // Without weight decay, a constant gradient moves the parameter by lr (up to ε) per step.
        if weightDecay == 0 {
            for (value, start) in zip(other, b) { #expect(abs(abs(value - start) - 0.03) < 1e-6) }
        }
    }

    /// torch.optim.Adam(lr=0.1) on sum((x - 0.5)^2) from x = [1, -2, 3, 0.25]
    /// (PyTorch 2.x, float32): x after steps 1, 2, 3, 10, 50, 200.
    @Test func matchesTorchOnAQuadratic() throws {
        let torch: [Int: [Float]] = [
            1: [0.9000000357627869, -1.899999976158142, 2.9000000953674316, 0.3499999940395355],
            2: [0.8011874556541443, -1.8001271486282349, 2.8001272678375244, 0.4457490146160126],
            3: [0.7048712968826294, -1.7004739046096802, 2.7004740238189697, 0.5302083492279053],
            10: [0.2966771423816681, -1.0180317163467407, 2.0180323123931885, 0.5234662294387817],
            50: [0.527316689491272, 0.6918773651123047, 0.30812275409698486, 0.48729169368743896],
            200: [0.49998950958251953, 0.4999811351299286, 0.500018835067749, 0.5000010132789612],
        ]
        let adam = Adam(learningRate: 0.1)
        var x: [Float] = [1, -2, 3, 0.25]
        for step in 1...200 {
            adam.beginStep()
            try adamStep(adam, "x", &x, quadraticGradient(x))
            if let expected = torch[step] {
                for i in x.indices {
                    #expect(abs(x[i] - expected[i]) <= 2e-6 * max(1, abs(expected[i])),
                            "step \(step), element \(i): \(x[i]) vs torch \(expected[i])")
                }
            }
        }
        for value in x { #expect(abs(value - 0.5) < 1e-4) }  // converged
    }

    /// torch.optim.AdamW(lr=0.1, weight_decay=0.01), same problem.
    @Test func matchesTorchAdamWOnAQuadratic() throws {
        let torch: [Int: [Float]] = [
            1: [0.8990000486373901, -1.8980000019073486, 2.8970000743865967, 0.34974998235702515],
            3: [0.702258288860321, -1.6947910785675049, 2.6917996406555176, 0.5292916297912598],
            200: [0.49967578053474426, 0.4974852502346039, 0.49750176072120667, 0.4998526871204376],
        ]
        let adam = Adam(learningRate: 0.1, weightDecay: 0.01)
        var x: [Float] = [1, -2, 3, 0.25]
        for step in 1...200 {
            adam.beginStep()
            try adamStep(adam, "x", &x, quadraticGradient(x))
            if let expected = torch[step] {
                for i in x.indices {
                    #expect(abs(x[i] - expected[i]) <= 2e-6 * max(1, abs(expected[i])),
                            "step \(step), element \(i): \(x[i]) vs torch \(expected[i])")
                }
            }
        }
    }

    @Test func exportAndImportContinueIdentically() throws {
        func gradient(_ x: [Float], _ step: Int) -> [Float] {
            x.enumerated().map { i, v in 2 * (v - 0.5) + 0.01 * Float(i) - 0.003 * Float(step) }
        }
        let start: [String: [Float]] = ["enc/w": [1, -2, 3, 0.25, 8], "dec/b": [0.1, -0.1]]
        let names = ["enc/w", "dec/b"]

        let straight = Adam(learningRate: 0.05, weightDecay: 0.01)
        var a = start
        for step in 1...6 {
            straight.beginStep()
            for name in names { try adamStep(straight, name, &a[name]!, gradient(a[name]!, step)) }
        }

        let first = Adam(learningRate: 0.05, weightDecay: 0.01)
        var b = start
        for step in 1...3 {
            first.beginStep()
            for name in names { try adamStep(first, name, &b[name]!, gradient(b[name]!, step)) }
        }
        // Through a checkpoint file, as training would.
        let state = first.exportState()
        #expect(state.metadata["adam.step"] == "3")
        #expect(Set(state.tensors.keys) == ["adam/enc/w/m", "adam/enc/w/v", "adam/dec/b/m", "adam/dec/b/v"])
        let path = try temporaryPath("resume.safetensors")
        var checkpoint = state.tensors
        for name in names { checkpoint[name] = .init(shape: [b[name]!.count], values: b[name]!) }
        try SafeTensorsFile(tensors: checkpoint, metadata: state.metadata).write(to: path)
        let loaded = try SafeTensorsFile.read(path: path)

        let resumed = Adam(learningRate: 0.05, weightDecay: 0.01)
        try resumed.importState(tensors: loaded.tensors, metadata: loaded.metadata)
        #expect(resumed.stepCount == 3)
        var c = Dictionary(uniqueKeysWithValues: names.map { ($0, loaded.tensors[$0]!.values) })
        for step in 4...6 {
            resumed.beginStep()
            for name in names { try adamStep(resumed, name, &c[name]!, gradient(c[name]!, step)) }
        }
        for name in names {
            #expect(c[name]!.map(\.bitPattern) == a[name]!.map(\.bitPattern), "\(name)")
        }
    }

    @Test func misuseThrows() throws {
        let adam = Adam(learningRate: 0.1)
        var x: [Float] = [1, 2, 3]
        #expect(throws: TensorError.self) { try adamStep(adam, "x", &x, [1, 1, 1]) }  // no beginStep()
        adam.beginStep()
        try adamStep(adam, "x", &x, [1, 1, 1])
        var y: [Float] = [1, 2]
        #expect(throws: TensorError.self) { try adamStep(adam, "x", &y, [1, 1]) }  // count changed

        let fresh = Adam(learningRate: 0.1)
        let m = SafeTensorsFile.Tensor(shape: [2], values: [0, 0])
        #expect(throws: TensorError.self) { try fresh.importState(tensors: ["adam/x/m": m, "adam/x/v": m], metadata: [:]) }
        #expect(throws: TensorError.self) {
            try fresh.importState(tensors: ["adam/x/m": m, "adam/x/v": m], metadata: ["adam.step": "-1"])
        }
        #expect(throws: TensorError.self) { try fresh.importState(tensors: ["adam/x/m": m], metadata: ["adam.step": "1"]) }
        #expect(throws: TensorError.self) {
            try fresh.importState(tensors: ["adam/x/m": m, "adam/x/v": .init(shape: [3], values: [0, 0, 0])],
                                  metadata: ["adam.step": "1"])
        }
        #expect(fresh.stepCount == 0)
        // Other tensors in a checkpoint are ignored.
        try fresh.importState(tensors: ["adam/x/m": m, "adam/x/v": m, "enc/w": m], metadata: ["adam.step": "2"])
        #expect(fresh.stepCount == 2)
        #expect(Set(fresh.exportState().tensors.keys) == ["adam/x/m", "adam/x/v"])
    }
}

// MARK: Gradient clipping

@Suite struct GradientClippingTests {
    @Test func normAndScaling() {
        var a: [Float] = [3, 4]
        var b: [Float] = [12]
        var empty: [Float] = []
        a.withUnsafeMutableBufferPointer { pa in
            b.withUnsafeMutableBufferPointer { pb in
                empty.withUnsafeMutableBufferPointer { pe in
                    let buffers = [pa, pb, pe]
                    #expect(GradientClipping.globalNorm(buffers.map { UnsafeBufferPointer($0) }) == 13)
                    // Below the limit (or no limit): untouched.
                    #expect(GradientClipping.clip(buffers, maxNorm: 20) == 13)
                    #expect(GradientClipping.clip(buffers, maxNorm: 13) == 13)
                    #expect(GradientClipping.clip(buffers, maxNorm: .infinity) == 13)
                    #expect(Array(pa) == [3, 4] && Array(pb) == [12])
                    // Above: scaled by maxNorm / (norm + 1e-6).
                    #expect(GradientClipping.clip(buffers, maxNorm: 6.5) == 13)
                    let scale = Float(6.5 / (13 + 1e-6))
                    #expect(Array(pa) == [3 * scale, 4 * scale] && Array(pb) == [12 * scale])
                    let after = GradientClipping.globalNorm(buffers.map { UnsafeBufferPointer($0) })
                    #expect(abs(after - 6.5) < 1e-5)
                }
            }
        }
    }

    @Test func normIsAccurateAndDeterministic() {
        var state: UInt64 = 12345
        let values: [Float] = (0..<10_007).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int64(bitPattern: state) >> 40) / Float(1 << 23)
        }
        let exact = values.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        let norm = values.withUnsafeBufferPointer { GradientClipping.globalNorm([$0]) }
        #expect(abs(norm - exact) <= 1e-12 * exact)
        let again = values.withUnsafeBufferPointer { GradientClipping.globalNorm([$0]) }
        #expect(norm.bitPattern == again.bitPattern)
        #expect(GradientClipping.globalNorm([]) == 0)
    }

    @Test func nonFiniteNormLeavesGradientsAlone() {
        var a: [Float] = [.infinity, 1]
        a.withUnsafeMutableBufferPointer { pa in
            #expect(GradientClipping.clip([pa], maxNorm: 1) == .infinity)
            #expect(pa[1] == 1)
        }
    }
}

// MARK: Learning-rate schedule

@Suite struct LearningRateScheduleTests {
    @Test func values() throws {
        let constant = LearningRateSchedule()
        #expect(constant.factor(atStep: 0) == 1 && constant.factor(atStep: 1_000_000) == 1)

        let step = LearningRateSchedule(decay: .step(every: 10, factor: 0.5))
        #expect(step.factor(atStep: 0) == 1)
        #expect(step.factor(atStep: 9) == 1)
        #expect(step.factor(atStep: 10) == 0.5)
        #expect(step.factor(atStep: 25) == 0.25)

        let cosine = LearningRateSchedule(decay: .cosine(totalSteps: 100, minimumFactor: 0.1))
        #expect(cosine.factor(atStep: 0) == 1)
        #expect(abs(cosine.factor(atStep: 50) - 0.55) < 1e-12)
        #expect(abs(cosine.factor(atStep: 25) - (0.1 + 0.9 * 0.5 * (1 + 0.5.squareRoot()))) < 1e-12)
        #expect(cosine.factor(atStep: 100) == 0.1)
        #expect(cosine.factor(atStep: 1000) == 0.1)
        #expect(cosine.factor(atStep: 99) > 0.1)

        let warm = LearningRateSchedule(warmupSteps: 4, decay: .cosine(totalSteps: 100, minimumFactor: 0))
        #expect(warm.factor(atStep: 0) == 0.25)
        #expect(abs(warm.factor(atStep: 3) - 0.5 * (1 + cos(Double.pi * 3 / 100))) < 1e-12)
        #expect(abs(warm.factor(atStep: 4) - 0.5 * (1 + cos(Double.pi * 4 / 100))) < 1e-12)
        #expect(warm.factor(atStep: 100) == 0)

        // Over seconds of training: the step does not matter, the elapsed time does.
        let timed = try LearningRateSchedule(parsing: "cosine-time:3600:0.05,warmup:10")
        #expect(timed.decay == .cosineTime(seconds: 3600, minimumFactor: 0.05) && timed.description == "cosine-time:3600.0:0.05,warmup:10")
        #expect(try LearningRateSchedule(parsing: timed.description) == timed)
        #expect(timed.factor(atStep: 500, elapsed: 0) == 1 && timed.factor(atStep: 5, elapsed: 0) == 0.6)
        #expect(abs(timed.factor(atStep: 500, elapsed: 1800) - 0.525) < 1e-12)
        #expect(timed.factor(atStep: 500, elapsed: 7200) == 0.05)
        #expect(throws: (any Error).self) { try LearningRateSchedule(parsing: "cosine-time:0:0.1") }
        #expect(throws: (any Error).self) { try LearningRateSchedule(parsing: "cosine-time:60:2") }
    }

    @Test func parsing() throws {
        #expect(try LearningRateSchedule(parsing: "constant") == LearningRateSchedule())
        #expect(try LearningRateSchedule(parsing: "step:1000:0.5") == LearningRateSchedule(decay: .step(every: 1000, factor: 0.5)))
        #expect(try LearningRateSchedule(parsing: "cosine:100000:0.01,warmup:500")
                == LearningRateSchedule(warmupSteps: 500, decay: .cosine(totalSteps: 100000, minimumFactor: 0.01)))
        #expect(try LearningRateSchedule(parsing: "warmup:10, step:5:0.1")
                == LearningRateSchedule(warmupSteps: 10, decay: .step(every: 5, factor: 0.1)))
        #expect(try LearningRateSchedule(parsing: "warmup:10") == LearningRateSchedule(warmupSteps: 10))
        for text in ["constant", "step:1000:0.5", "cosine:100000:0.01,warmup:500"] {
            let schedule = try LearningRateSchedule(parsing: text)
            #expect(try LearningRateSchedule(parsing: schedule.description) == schedule)
            try schedule.validate()
        }
    }

    @Test(arguments: [
        ("linear", "linear"),
        ("step:0:0.5", "0"),
        ("step:ten:0.5", "ten"),
        ("step:10", "step:10"),
        ("step:10:-1", "-1"),
        ("step:10:x", "x"),
        ("cosine:100:2", "2"),
        ("cosine:100:0.1:3", "cosine:100:0.1:3"),
        ("constant:1", "constant:1"),
        ("constant,warmup:-1", "-1"),
        ("constant,warmup", "warmup"),
        ("step:10:0.5,cosine:5:0.1", "cosine:5:0.1"),
        ("constant,warmup:1,warmup:2", "warmup:2"),
        ("constant,", ""),
        ("", ""),
    ])
    func parserErrorsNameTheToken(text: String, token: String) {
        do {
            let schedule = try LearningRateSchedule(parsing: text)
            Issue.record("'\(text)' parsed as \(schedule)")
        } catch {
            #expect("\(error)".contains("bad token '\(token)'"), "\(error)")
        }
    }

    @Test func validateRejectsOutOfRange() {
        #expect(throws: TensorError.self) { try LearningRateSchedule(warmupSteps: -1).validate() }
        #expect(throws: TensorError.self) { try LearningRateSchedule(decay: .step(every: 0, factor: 0.5)).validate() }
        #expect(throws: TensorError.self) { try LearningRateSchedule(decay: .cosine(totalSteps: 10, minimumFactor: -0.5)).validate() }
    }
}
