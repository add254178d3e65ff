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
