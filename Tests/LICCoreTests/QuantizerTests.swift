import CLIC
import Foundation
import LICTensor
import Testing
@testable import LICCore

/// lic.quantizer.tcq: the trellis search against exhaustive search, its
/// levels and transitions against the VVC / ECM tables, and coding with it.
@Suite struct QuantizerTests {
    /// The tables of ../shared/references/algorithms.md section 3, written here independently.
    static func quantizer(_ s: Int, states: Int) -> Int { states == 4 ? s >> 1 : s & 1 }
    static func next(_ s: Int, _ k: Int32, states: Int) -> Int {
        let odd = Int(k & 1)
        let four = [[0, 2], [2, 0], [1, 3], [3, 1]]
        let eight = [[0, 2], [5, 7], [1, 3], [6, 4], [2, 0], [4, 6], [3, 1], [7, 5]]
        return (states == 4 ? four : eight)[s][odd]
    }
    static func level(_ k: Int32, _ q: Int, step: Double) -> Double { Double(2 * Int(k) - Int(k.signum()) * q) * step }

    /// A built-in quantizer through the host, as an entropy model calls it.
    final class Quantizer {
        let node: QuantizerNode
        init(_ id: String, _ params: [(String, ParamValue)]) throws {
            let registry = try LearnedPluginTests.registry()
            let entry = try #require(registry.entry(id))
            let position = TOMLPosition(line: 0, column: 0)
            let stage = PipelineDescriptor.Stage(name: "quantizer", componentID: id, params: params.map { ($0.0, $0.1, position) }, position: position)
            node = try QuantizerNode(entry, params: ParamSetStorage(Codec.bind(stage, to: entry.info, source: "t")), prefix: "quantizer",
                                     store: ParameterStore())
        }

        convenience init(states: Int, step: Double, lambda: Double) throws {
            try self.init("lic.quantizer.tcq", [("states", .int(Int64(states))), ("step", .float(step)), ("lambda", .float(lambda))])
        }

        /// Symbols and reconstruction of one batch in a fresh scope.
        func quantize(_ values: [Float], scales: [Float]?) throws -> (symbols: [Int32], reconstruction: [Float]) {
            var symbols = [Int32](repeating: 0, count: values.count), reconstruction = [Float](repeating: 0, count: values.count)
            try node.withHandle { handle in
                let table = handle.pointee.quantizer.pointee
                try CallContext(mode: .encode).withC { context in
                    var scope: UnsafeMutableRawPointer?
                    try callPlugin("tcq", "begin_scope") { table.begin_scope(handle.pointee.instance, context, &scope, $0) }
                    defer { table.end_scope(handle.pointee.instance, scope) }
                    try values.withUnsafeBufferPointer { v in
                        try symbols.withUnsafeMutableBufferPointer { s in
                            try reconstruction.withUnsafeMutableBufferPointer { r in
                                let (symbolOut, reconstructionOut) = (s.baseAddress, r.baseAddress)
                                let run = { (scalePointer: UnsafePointer<Float>?) throws in
                                    var batch = lic_quantize_batch()
                                    batch.struct_size = UInt32(MemoryLayout<lic_quantize_batch>.size)
                                    (batch.count, batch.values, batch.scales, batch.symbols, batch.reconstruction) =
                                        (v.count, v.baseAddress, scalePointer, symbolOut, reconstructionOut)
                                    try callPlugin("tcq", "quantize") { table.quantize(handle.pointee.instance, scope, context, &batch, $0) }
                                }
                                if let scales { try scales.withUnsafeBufferPointer { try run($0.baseAddress) } } else { try run(nil) }
                            }
                        }
                    }
                }
            }
            return (symbols, reconstruction)
        }
    }

    /// Distortion + lambda * Gaussian cell bits of an index sequence from state 0, or nil if it is not a path.
    static func cost(_ ks: [Int32], _ values: [Float], _ scales: [Float]?, states: Int, step: Double, lambda: Double) -> Double {
        var (s, total) = (0, 0.0)
        for (i, k) in ks.enumerated() {
            let q = quantizer(s, states: states)
            let t = level(k, q, step: step)
            total += (Double(values[i]) - t) * (Double(values[i]) - t)
            if let scales {
                let p = GaussianCellReference.probability(lower: (level(k - 1, q, step: step) + t) / 2, upper: (t + level(k + 1, q, step: step)) / 2,
                                                         scale: Double(scales[i]))
                total += lambda * -log2(p)
            }
            s = next(s, k, states: states)
        }
        return total
    }

    @Test(arguments: [4, 8])
    func theTrellisFindsTheBestPathOfAllIndexSequences(states: Int) throws {
        // lambda = 0: the nearest level of each parity dominates, so the search is exact over every sequence.
        let step = 0.75
        let tcq = try Quantizer(states: states, step: step, lambda: 0)
        var rng = SplitMix64(state: UInt64(states))
        for _ in 0..<12 {
            let values = (0..<5).map { _ in Float(rng.unit() * 6 - 3) }
            let (symbols, reconstruction) = try tcq.quantize(values, scales: nil)
            var best = Double.infinity
            let range: [Int32] = Array(-3...3)   // levels up to +-4.5 D cover values in [-3, 3) with D = 0.75
            var ks = [Int32](repeating: 0, count: values.count)
            func search(_ i: Int) {
                if i == values.count { best = min(best, Self.cost(ks, values, nil, states: states, step: step, lambda: 0)); return }
                for k in range { ks[i] = k; search(i + 1) }
            }
            search(0)
            let found = Self.cost(symbols, values, nil, states: states, step: step, lambda: 0)
            #expect(Swift.abs(found - best) <= 1e-9 * max(1, best), "\(values): trellis \(found), exhaustive \(best)")
            // The reconstruction is the levels of the path the symbols take (the tables above).
            var s = 0
            for (i, k) in symbols.enumerated() {
                #expect(Swift.abs(Double(reconstruction[i]) - Self.level(k, Self.quantizer(s, states: states), step: step)) < 1e-5)
                s = Self.next(s, k, states: states)
            }
        }
    }

    @Test(arguments: [4, 8])
    func withRatesTheTrellisIsExactOverItsCandidates(states: Int) throws {
        // lambda > 0: exhaustive over the candidates the search declares (zero and the levels either side of y).
        let (step, lambda) = (0.75, 0.3)
        let tcq = try Quantizer(states: states, step: step, lambda: lambda)
        var rng = SplitMix64(state: 40 + UInt64(states))
        for _ in 0..<20 {
            let values = (0..<6).map { _ in Float(rng.unit() * 8 - 4) }
            let scales = (0..<6).map { _ in Float(0.3 + rng.unit() * 3) }
            let (symbols, _) = try tcq.quantize(values, scales: scales)
            func candidates(_ r: Double, _ q: Int) -> [Int32] {
                let m = r / step
                if q == 0 { let k = Int32((m / 2).rounded(.down)); return Array(Set<Int32>([0, k, k + 1])) }
                let odd: Int32 = 2 * Int32(((m - 1) / 2).rounded(.down)) + 1
                let index = { (o: Int32) -> Int32 in o > 0 ? (o + 1) / 2 : (o - 1) / 2 }
                return Array(Set<Int32>([0, index(odd), index(odd + 2)]))
            }
            var best = Double.infinity
            var ks = [Int32](repeating: 0, count: values.count)
            func search(_ i: Int, _ s: Int) {
                if i == values.count { best = min(best, Self.cost(ks, values, scales, states: states, step: step, lambda: lambda)); return }
                for k in candidates(Double(values[i]), Self.quantizer(s, states: states)) {
                    ks[i] = k
                    search(i + 1, Self.next(s, k, states: states))
                }
            }
            search(0, 0)
            let found = Self.cost(symbols, values, scales, states: states, step: step, lambda: lambda)
            #expect(Swift.abs(found - best) <= 1e-6 * max(1, best), "trellis \(found), exhaustive \(best)")
        }
    }

    /// An imported CompressAI model switched to the trellis by editing its
    /// model.toml: files decode to the encoder's reconstruction.
    @Test(arguments: [4, 8])
    func anImportedModelCodesWithTheTrellis(states: Int) throws {
        let fixture = TestSupport.packageRoot + "/Tests/LICCoreTests/Fixtures/compressai/mbt2018-mean-small"
        let directory = try TestSupport.temporaryDirectory()
        let text = try String(contentsOfFile: fixture + "/model.toml", encoding: .utf8)
            + "\n[quantizer]\nplugin = \"lic.quantizer.tcq\"\nstates = \(states)\n"
        try text.write(toFile: directory + "/model.toml", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: directory + "/weights.safetensors", withDestinationPath: fixture + "/weights.safetensors")
        let codec = try Codec.load(directory: directory)
        let image = try TestSupport.syntheticImage(width: 131, height: 77, channels: 3, seed: 9)
        let encoded = try codec.encode(image)
        #expect(try codec.decode(encoded.bytes, source: "imported.lic") == encoded.reconstruction)
        // lambda_q follows the model's lambda (context.lambda): a much larger one spends fewer bits.
        codec.modelLambda = 2
        let cheaper = try codec.encode(image)
        #expect(cheaper.bytes.count < encoded.bytes.count, "\(cheaper.bytes.count) vs \(encoded.bytes.count) bytes")
        #expect(try codec.decode(cheaper.bytes, source: "cheaper.lic") == cheaper.reconstruction)
    }

    @Test func rdoRoundingNeverCostsMoreThanRounding() throws {
        let lambda = 0.5
        let rdo = try Quantizer("lic.quantizer.uniform", [("rdo", .bool(true)), ("lambda", .float(lambda))])
        let plain = try Quantizer("lic.quantizer.uniform", [("rdo", .bool(true)), ("lambda", .float(0))])
        var rng = SplitMix64(state: 77)
        let values = (0..<400).map { _ in Float(rng.unit() * 8 - 4) }
        let scales = (0..<400).map { _ in Float(0.2 + rng.unit() * 3) }
        let chosen = try rdo.quantize(values, scales: scales).symbols
        #expect(try plain.quantize(values, scales: scales).symbols == values.map { Int32($0.rounded(.toNearestOrEven)) }, "lambda 0 rounds")
        func cost(_ k: Int32, _ i: Int) -> Double {
            let d = Double(values[i]) - Double(k)
            let p = GaussianCellReference.probability(lower: Double(k) - 0.5, upper: Double(k) + 0.5, scale: Double(scales[i]))
            return d * d + lambda * -log2(p)
        }
        var changed = 0
        for i in values.indices {
            let rounded = Int32(values[i].rounded(.toNearestOrEven))
            #expect(cost(chosen[i], i) <= cost(rounded, i) + 1e-9)
            if chosen[i] != rounded { changed += 1; #expect(Swift.abs(chosen[i]) < Swift.abs(rounded) || chosen[i] == 0) }
        }
        #expect(changed > 0, "with lambda \(lambda), some values move toward zero")
    }

    /// mbt2018-mean with a trellis for y (and rounding for z): files decode
    /// to the encoder's reconstruction; damaged streams fail cleanly.
    @Test(arguments: [4, 8, 0])
    func learnedModelsCodeWithTheTrellis(states: Int) throws {
        let text = try String(contentsOfFile: TestSupport.packageRoot + "/examples/pipelines/mbt2018-mean.toml", encoding: .utf8)
            .replacingOccurrences(of: "channels = 128", with: "channels = 8")
            .replacingOccurrences(of: "latent = 192", with: "latent = 12")
        // states 0: RDO rounding instead of the trellis.
        let tcq = states == 0 ? "\n[quantizer]\nplugin = \"lic.quantizer.uniform\"\nrdo = true\n"
            : "\n[quantizer]\nplugin = \"lic.quantizer.tcq\"\nstates = \(states)\n"
        let rounding = "\n[hyper.entropy.quantizer]\nplugin = \"lic.quantizer.uniform\"\n"
        let codec = try Codec(descriptor: PipelineDescriptor.parse(text + tcq + rounding, source: "tcq.toml", baseDirectory: nil))
        #expect(codec.canonicalText.contains("[hyper.entropy.quantizer]\nplugin = \"lic.quantizer.uniform\""))
        let image = try TestSupport.syntheticImage(width: 70, height: 45, channels: 3)
        let encoded = try codec.encode(image)
        #expect(try codec.decode(encoded.bytes, source: "tcq.lic") == encoded.reconstruction)
        let container = try Container(parsing: encoded.bytes)
        for index in container.streams.indices {
            var damaged = container
            damaged.streams[index].bytes = Array(damaged.streams[index].bytes.dropLast(max(1, damaged.streams[index].bytes.count / 3)))
            #expect(throws: (any Error).self) { try codec.decode(try damaged.serialized(), source: "damaged.lic") }
        }
        // One [quantizer] edit is enough: the factorized prior of z codes trellis indices too.
        guard states != 0 else { return }
        let single = try Codec(descriptor: PipelineDescriptor.parse(text + tcq, source: "tcq.toml", baseDirectory: nil))
        let coded = try single.encode(image)
        #expect(try single.decode(coded.bytes, source: "single.lic") == coded.reconstruction)
    }
}

/// The Gaussian cell probability, written here from the definition (not the SDK's).
enum GaussianCellReference {
    static func probability(lower: Double, upper: Double, scale: Double) -> Double {
        let phi = { (x: Double) in 0.5 * erfc(-x / 2.0.squareRoot()) }
        return max(phi(upper / scale) - phi(lower / scale), 1e-9)
    }
}
