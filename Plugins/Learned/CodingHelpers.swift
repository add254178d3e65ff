import LICPluginKit

/// The symbol plumbing both learned entropy models share: quantize around
/// per-element means, code with per-element table indexes, dequantize.
enum CodingHelpers {
    static func quantizeAndEncode(_ values: [Float], means: [Float], indexes: [Int32], tables: [CDFTable], quantizer: Quantizer,
                                  context: CodingContext, symbols: inout [Int32], yHat: inout [Float]) throws {
        let encoder = try context.openEncoder()
        try values.withUnsafeBufferPointer { v in
            try means.withUnsafeBufferPointer { m in
                try symbols.withUnsafeMutableBufferPointer { s in
                    try quantizer.quantize(v, means: m, into: s)
                    try indexes.withUnsafeBufferPointer { try encoder.encode(UnsafeBufferPointer(s), indexes: $0, tables: tables) }
                    try yHat.withUnsafeMutableBufferPointer { try quantizer.dequantize(UnsafeBufferPointer(s), means: m, into: $0) }
                }
            }
        }
    }

    static func decodeAndDequantize(means: [Float], indexes: [Int32], tables: [CDFTable], quantizer: Quantizer,
                                    context: CodingContext) throws -> [Float] {
        let decoder = try context.openDecoder()
        var symbols = [Int32](repeating: 0, count: means.count)
        var yHat = [Float](repeating: 0, count: means.count)
        try symbols.withUnsafeMutableBufferPointer { s in
            try indexes.withUnsafeBufferPointer { try decoder.decode(into: s, indexes: $0, tables: tables) }
            try means.withUnsafeBufferPointer { m in
                try yHat.withUnsafeMutableBufferPointer { try quantizer.dequantize(UnsafeBufferPointer(s), means: m, into: $0) }
            }
        }
        return yHat
    }
}
