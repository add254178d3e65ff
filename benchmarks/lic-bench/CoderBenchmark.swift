import Foundation
import LICCore

/// Gaussian-conditional coding as a learned codec does it: 64 tables from a
/// scale table, one table index per symbol, one indexed encode call.
enum CoderBenchmark {
    static func load<T>(_ path: String, as type: T.Type) throws -> [T] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return data.withUnsafeBytes { Array($0.bindMemory(to: T.self)) }
    }

    /// Discretized Gaussian of `scale` over [-bound, bound], CompressAI-style tail bound.
    static func table(scale: Double) throws -> CDFTable {
        let bound = Int(ceil(scale * 5.9))   // tail mass ~ 1e-9 (erfc(5.9/sqrt2))
        func cdf(_ x: Double) -> Double { 0.5 * erfc(-x / (scale * 2.0.squareRoot())) }
        let pmf = (-bound...bound).map { cdf(Double($0) + 0.5) - cdf(Double($0) - 0.5) }
        return try CDFTable(pmf: pmf, firstSymbol: Int32(-bound))
    }

    static func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

    static func run(directory: String, runs: Int) throws {
        let scales = try load(directory + "/scales.f64", as: Double.self)
        let indexes = try load(directory + "/indexes.i32", as: Int32.self)
        let symbols = try load(directory + "/symbols.i32", as: Int32.self)
        let tables = try scales.map(table)
        var encodeTimes: [Double] = [], decodeTimes: [Double] = []
        var size = 0
        var decoded = [Int32](repeating: 0, count: symbols.count)
        for _ in 0..<runs {
            var start = DispatchTime.now().uptimeNanoseconds
            var encoder = RANSEncoder()
            try symbols.withUnsafeBufferPointer { s in
                try indexes.withUnsafeBufferPointer { i in try encoder.encode(s, indexes: i, tables: tables) }
            }
            let bytes = encoder.finish()
            encodeTimes.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            size = bytes.count
            start = DispatchTime.now().uptimeNanoseconds
            var decoder = try RANSDecoder(bytes: bytes)
            try decoded.withUnsafeMutableBufferPointer { out in
                try indexes.withUnsafeBufferPointer { i in try decoder.decode(into: out, indexes: i, tables: tables) }
            }
            decodeTimes.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            guard decoded == symbols, decoder.isFullyConsumed else { throw LICError("coder benchmark: round trip failed") }
        }
        let millions = Double(symbols.count) / 1e6
        print("{\"coder\": \"lic rANS\", \"encode_msym_s\": \(millions / median(encodeTimes)), "
              + "\"decode_msym_s\": \(millions / median(decodeTimes)), \"bytes\": \(size)}")
    }
}
