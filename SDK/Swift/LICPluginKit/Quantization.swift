import CLIC

/// The pipeline's quantizer as an entropy model sees it (lic.quantizer/2):
/// the training surrogate, and scopes that carry state across the batches of
/// one latent.
public struct QuantizerHandle {
    let handle: UnsafePointer<lic_quantizer_handle>

    init(_ handle: UnsafePointer<lic_quantizer_handle>?) throws {
        guard let handle, handle.pointee.quantizer != nil else { throw PluginError(.invalidArgument, "missing quantizer") }
        self.handle = handle
    }

    var table: lic_quantizer_v2 { handle.pointee.quantizer.pointee }

    /// y_tilde: noise, straight-through rounding ... as the quantizer does it in this mode.
    public func surrogate(_ y: Tensor, means: Tensor?, context: CallContext) throws -> Tensor {
        try Tensor.make(y.ops) { out, error in
            table.surrogate(handle.pointee.instance, context.pointer, y.handle, means?.handle, out, error)
        }
    }

    /// The surrogate for one use (see SurrogateUse).
    public func surrogate(_ y: Tensor, means: Tensor?, context: CallContext, use: SurrogateUse) throws -> Tensor {
        try context.with(surrogateUse: use) { try surrogate(y, means: means, context: $0) }
    }

    /// Both surrogates of a training call: what the likelihoods see (rate) and
    /// what the synthesis and the contexts see (reconstruction). The same
    /// values from a quantizer with one surrogate (the same seed gives the same
    /// noise), different ones from a mixed quantizer.
    /// Outside training the use changes nothing (lic_quantizer_v2.surrogate): one call.
    public func surrogates(_ y: Tensor, means: Tensor?, context: CallContext) throws -> (rate: Tensor, reconstruction: Tensor) {
        guard context.isTraining else {
            let rounded = try surrogate(y, means: means, context: context)
            return (rounded, rounded)
        }
        return (try surrogate(y, means: means, context: context, use: .rate),
                try surrogate(y, means: means, context: context, use: .reconstruction))
    }

    public func beginScope(context: CallContext) throws -> QuantizerScope {
        var scope: UnsafeMutableRawPointer?
        try callHost { table.begin_scope(handle.pointee.instance, context.pointer, &scope, $0) }
        return QuantizerScope(quantizer: self, scope: scope, context: context)
    }
}

/// One latent's quantization state (a trellis path); ended when released.
public final class QuantizerScope {
    let quantizer: QuantizerHandle
    let scope: UnsafeMutableRawPointer?
    let context: CallContext

    init(quantizer: QuantizerHandle, scope: UnsafeMutableRawPointer?, context: CallContext) {
        (self.quantizer, self.scope, self.context) = (quantizer, scope, context)
    }

    deinit { quantizer.table.end_scope(quantizer.handle.pointee.instance, scope) }

    /// Stateless quantizers (NULL scope) have one level set: one table per distribution codes every index.
    public var isStateless: Bool { scope == nil }

    /// The level set of the current state (equal ids, equal levels).
    public var levelSet: UInt32 { quantizer.table.level_set(quantizer.handle.pointee.instance, scope) }

    private final class RateBox {
        let rate: (Int, Int32, UInt32) -> Double
        init(_ rate: @escaping (Int, Int32, UInt32) -> Double) { self.rate = rate }
    }

    /// Symbols and reconstruction (y_hat) for `values`; `rate` (optional)
    /// gives the bits of coding a symbol at an index, for RD decisions.
    public func quantize(_ values: UnsafeBufferPointer<Float>, means: UnsafeBufferPointer<Float>? = nil,
                         scales: UnsafeBufferPointer<Float>? = nil, rate: ((Int, Int32, UInt32) -> Double)? = nil,
                         symbols: UnsafeMutableBufferPointer<Int32>, reconstruction: UnsafeMutableBufferPointer<Float>) throws {
        let count = values.count
        guard symbols.count == count, reconstruction.count == count, means.map({ $0.count == count }) ?? true,
              scales.map({ $0.count == count }) ?? true else {
            throw PluginError(.invalidArgument, "quantize: buffer lengths differ")
        }
        let box = rate.map(RateBox.init)
        try withExtendedLifetime(box) {
            var batch = lic_quantize_batch()
            batch.struct_size = UInt32(MemoryLayout<lic_quantize_batch>.size)
            batch.count = count
            batch.values = values.baseAddress
            batch.means = means?.baseAddress
            batch.scales = scales?.baseAddress
            if let box {
                batch.rate_data = Unmanaged.passUnretained(box).toOpaque()
                batch.rate = { data, index, symbol, set in Unmanaged<RateBox>.fromOpaque(data!).takeUnretainedValue().rate(index, symbol, set) }
            }
            batch.symbols = symbols.baseAddress
            batch.reconstruction = reconstruction.baseAddress
            try callHost { quantizer.table.quantize(quantizer.handle.pointee.instance, scope, context.pointer, &batch, $0) }
        }
    }

    /// values[i] = reconstruction of symbols[i] (+ means[i]).
    public func dequantize(_ symbols: UnsafeBufferPointer<Int32>, means: UnsafeBufferPointer<Float>? = nil,
                           into values: UnsafeMutableBufferPointer<Float>) throws {
        guard values.count == symbols.count, means.map({ $0.count == symbols.count }) ?? true else {
            throw PluginError(.invalidArgument, "dequantize: buffer lengths differ")
        }
        try callHost {
            quantizer.table.dequantize(quantizer.handle.pointee.instance, scope, context.pointer, symbols.baseAddress,
                                       means?.baseAddress, symbols.count, values.baseAddress, $0)
        }
    }

    /// One decoded index: its reconstruction, advancing the state.
    @discardableResult
    public func advance(_ symbol: Int32, mean: Float) throws -> Float {
        var value: Float = 0
        try withUnsafePointer(to: symbol) { s in
            try withUnsafePointer(to: mean) { m in
                try withUnsafeMutablePointer(to: &value) {
                    try dequantize(UnsafeBufferPointer(start: s, count: 1), means: UnsafeBufferPointer(start: m, count: 1),
                                   into: UnsafeMutableBufferPointer(start: $0, count: 1))
                }
            }
        }
        return value
    }

    /// Reconstruction levels (relative to the mean) of indices first ..< first + count in the current state.
    public func levels(first: Int32, count: Int) throws -> [Float] {
        var values = [Float](repeating: 0, count: count)
        try values.withUnsafeMutableBufferPointer { out in
            try callHost { quantizer.table.levels(quantizer.handle.pointee.instance, scope, first, UInt32(count), out.baseAddress, $0) }
        }
        return values
    }

    /// The distance between the reconstructions of indices 0 and 1: the step of a uniform quantizer.
    public func step() throws -> Float {
        let pair = try levels(first: 0, count: 2)
        return pair[1] - pair[0]
    }
}

/// One batch handed to a lic.quantizer/2 component.
public struct QuantizeBatch {
    public let values: UnsafeBufferPointer<Float>
    public let means: UnsafeBufferPointer<Float>?
    public let scales: UnsafeBufferPointer<Float>?
    /// Bits of coding `symbol` at `index` in level set `set`, when the entropy model gave a rate.
    public let rate: ((Int, Int32, UInt32) -> Double)?
    public let symbols: UnsafeMutableBufferPointer<Int32>
    public let reconstruction: UnsafeMutableBufferPointer<Float>

    init(_ batch: UnsafePointer<lic_quantize_batch>) throws {
        let b = batch.pointee
        guard b.struct_size >= UInt32(MemoryLayout<lic_quantize_batch>.size), b.values != nil || b.count == 0,
              b.symbols != nil || b.count == 0, b.reconstruction != nil || b.count == 0 else {
            throw PluginError(.invalidArgument, "quantize: short batch or missing arrays")
        }
        let count = b.count
        values = UnsafeBufferPointer(start: b.values, count: count)
        means = b.means.map { UnsafeBufferPointer(start: $0, count: count) }
        scales = b.scales.map { UnsafeBufferPointer(start: $0, count: count) }
        if let function = b.rate {
            let data = b.rate_data
            rate = { index, symbol, set in function(data, index, symbol, set) }
        } else {
            rate = nil
        }
        symbols = UnsafeMutableBufferPointer(start: b.symbols, count: count)
        reconstruction = UnsafeMutableBufferPointer(start: b.reconstruction, count: count)
    }
}
