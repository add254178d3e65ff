import LICPluginKit

/// The symbol plumbing of entropy models that code one latent in one pass:
/// quantize through a scope of the pipeline's quantizer, then dequantize
/// the decoded symbols through a scope that walks the same states.
enum CodingHelpers {
    /// Symbols and y_hat for `values` around `means` (scales, when known, inform RD quantizers).
    static func quantize(_ values: [Float], means: [Float], scales: [Float]?, quantizer: QuantizerHandle,
                         context: CallContext) throws -> (symbols: [Int32], yHat: [Float]) {
        var symbols = [Int32](repeating: 0, count: values.count)
        var yHat = [Float](repeating: 0, count: values.count)
        let scope = try quantizer.beginScope(context: context)
        try values.withUnsafeBufferPointer { v in
            try means.withUnsafeBufferPointer { m in
                try symbols.withUnsafeMutableBufferPointer { s in
                    try yHat.withUnsafeMutableBufferPointer { r in
                        if let scales {
                            try scales.withUnsafeBufferPointer { try scope.quantize(v, means: m, scales: $0, symbols: s, reconstruction: r) }
                        } else {
                            try scope.quantize(v, means: m, symbols: s, reconstruction: r)
                        }
                    }
                }
            }
        }
        return (symbols, yHat)
    }

    static func dequantize(_ symbols: [Int32], means: [Float], quantizer: QuantizerHandle, context: CallContext) throws -> [Float] {
        var yHat = [Float](repeating: 0, count: symbols.count)
        let scope = try quantizer.beginScope(context: context)
        try symbols.withUnsafeBufferPointer { s in
            try means.withUnsafeBufferPointer { m in try yHat.withUnsafeMutableBufferPointer { try scope.dequantize(s, means: m, into: $0) } }
        }
        return yHat
    }

    /// Codes `symbols` (from a stateful quantizer's scope) with tables that
    /// depend on the level set of each index's state: replays the decoder's
    /// walk to pick, for element i, `tables(scope)[pick(i)]`, then codes all
    /// in one indexed call. `tables` is asked once per level set.
    static func encodeByLevelSet(_ symbols: [Int32], means: [Float], quantizer: QuantizerHandle, context: CallContext,
                                 coding: CodingContext, tables: (QuantizerScope) throws -> [CDFTable], pick: (Int) -> Int) throws {
        let replay = try quantizer.beginScope(context: context)
        var all: [CDFTable] = [], offsets: [UInt32: Int] = [:]
        var indexes = [Int32](repeating: 0, count: symbols.count)
        for i in symbols.indices {
            let set = replay.levelSet
            if offsets[set] == nil {
                offsets[set] = all.count
                all += try tables(replay)
            }
            indexes[i] = Int32(offsets[set]! + pick(i))
            try replay.advance(symbols[i], mean: means[i])
        }
        let encoder = try coding.openEncoder()
        try symbols.withUnsafeBufferPointer { s in try indexes.withUnsafeBufferPointer { try encoder.encode(s, indexes: $0, tables: all) } }
    }

    /// The decoder of encodeByLevelSet: the state after each index picks the next one's tables. Returns y_hat.
    static func decodeByLevelSet(means: [Float], quantizer: QuantizerHandle, context: CallContext, coding: CodingContext,
                                 tables: (QuantizerScope) throws -> [CDFTable], pick: (Int) -> Int) throws -> [Float] {
        let scope = try quantizer.beginScope(context: context)
        let decoder = try coding.openDecoder()
        var yHat = [Float](repeating: 0, count: means.count)
        var symbol: [Int32] = [0]
        for i in yHat.indices {
            let table = try tables(scope)[pick(i)]
            try symbol.withUnsafeMutableBufferPointer { try decoder.decode(into: $0, with: table) }
            yHat[i] = try scope.advance(symbol[0], mean: means[i])
        }
        return yHat
    }

    /// Models whose tables assume one level set refuse a stateful (trellis) quantizer with a hint.
    static func requireStateless(_ quantizer: QuantizerHandle, context: CallContext, model: String, stage hint: String) throws {
        guard try quantizer.beginScope(context: context).isStateless else {
            throw PluginError(.unsupported, "\(model) codes with a stateless quantizer; give this stage one of its own, e.g. [\(hint).quantizer] plugin = \"lic.quantizer.uniform\"")
        }
    }

    /// The quantizer's step (index 0 -> 1), by which entropy models scale their distributions.
    static func step(of quantizer: QuantizerHandle, context: CallContext) throws -> Float {
        let step = try quantizer.beginScope(context: context).step()
        guard step > 0, step.isFinite else { throw PluginError(.invalidArgument, "the quantizer's step \(step) is not positive") }
        return step
    }
}
