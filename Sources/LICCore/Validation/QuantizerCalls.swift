import CLIC
import LICTensor

/// Direct calls to a quantizer's own table (/1 or /2, never the host's
/// adapters, so a broken error-sink rule is charged to the component). A /2
/// quantizer gets a fresh scope per call: the encoder's and the decoder's
/// scopes start in the same state.
struct QuantizerCalls {
    private enum Table {
        case v1(UnsafePointer<lic_quantizer_v1>)
        case v2(UnsafePointer<lic_quantizer_v2>)
    }

    let node: QuantizerNode
    private let table: Table
    private var id: String { node.info.id }

    init(_ node: QuantizerNode, entry: PluginRegistry.Entry) {
        self.node = node
        table = entry.info.interfaceID == LIC_INTERFACE_QUANTIZER_1
            ? .v1(ComponentInstance.table(entry, as: lic_quantizer_v1.self))
            : .v2(ComponentInstance.table(entry, as: lic_quantizer_v2.self))
    }

    var isV2: Bool { if case .v2 = table { true } else { false } }

    static let context = CallContext(mode: .encode, seed: 9)

    /// The rate callback handed to RD quantizers: |symbol| + 1 bits (+ 0.5 in level set 1).
    private static let rate: @convention(c) (UnsafeMutableRawPointer?, Int, Int32, UInt32) -> Double = { _, _, symbol, set in
        Double(symbol.magnitude) + 1 + (set == 0 ? 0 : 0.5)
    }

    /// Symbols and, for /2, the reconstruction the decoder must reproduce.
    func quantize(_ values: [Float], means: [Float]? = nil, scales: [Float]? = nil, withRate: Bool = false) throws -> (symbols: [Int32], reconstruction: [Float]?) {
        var symbols = [Int32](repeating: 0, count: values.count)
        switch table {
        case .v1(let t):
            try callPlugin(id, "quantize") { error in
                symbols.withUnsafeMutableBufferPointer { out in
                    optionalPointer(means) { m in t.pointee.quantize(node.instance, values, m, out.baseAddress, values.count, error) }
                }
            }
            return (symbols, nil)
        case .v2(let t):
            var reconstruction = [Float](repeating: 0, count: values.count)
            try inScope(t) { scope, c in
                try callPlugin(id, "quantize") { error in
                    symbols.withUnsafeMutableBufferPointer { out in
                        reconstruction.withUnsafeMutableBufferPointer { rec in
                            optionalPointer(means) { m in
                                optionalPointer(scales) { s in
                                    values.withUnsafeBufferPointer { v in
                                        var batch = lic_quantize_batch()
                                        batch.struct_size = UInt32(MemoryLayout<lic_quantize_batch>.size)
                                        (batch.count, batch.values, batch.means, batch.scales) = (values.count, v.baseAddress, m, s)
                                        (batch.symbols, batch.reconstruction) = (out.baseAddress, rec.baseAddress)
                                        if withRate { batch.rate = Self.rate }
                                        return t.pointee.quantize(node.instance, scope, c, &batch, error)
                                    }
                                }
                            }
                        }
                    }
                }
            }
            return (symbols, reconstruction)
        }
    }

    func dequantize(_ symbols: [Int32], means: [Float]? = nil) throws -> [Float] {
        var values = [Float](repeating: 0, count: symbols.count)
        switch table {
        case .v1(let t):
            try callPlugin(id, "dequantize") { error in
                values.withUnsafeMutableBufferPointer { out in
                    optionalPointer(means) { m in t.pointee.dequantize(node.instance, symbols, m, out.baseAddress, symbols.count, error) }
                }
            }
        case .v2(let t):
            try inScope(t) { scope, c in
                try callPlugin(id, "dequantize") { error in
                    values.withUnsafeMutableBufferPointer { out in
                        optionalPointer(means) { m in t.pointee.dequantize(node.instance, scope, c, symbols, m, symbols.count, out.baseAddress, error) }
                    }
                }
            }
        }
        return values
    }

    /// /2: the levels of indices first ..< first + count in a fresh scope's state.
    func levels(first: Int32, count: Int) throws -> [Float] {
        guard case .v2(let t) = table else { return [] }
        var values = [Float](repeating: 0, count: count)
        try inScope(t) { scope, _ in
            try callPlugin(id, "levels") { error in
                values.withUnsafeMutableBufferPointer { t.pointee.levels(node.instance, scope, first, UInt32(count), $0.baseAddress, error) }
            }
        }
        return values
    }

    /// /2: the training or evaluation surrogate.
    func surrogate(_ y: Tensor, means: Tensor?, mode: CallContext.Mode) throws -> Tensor {
        guard case .v2(let t) = table else { throw CheckFailure("not a lic.quantizer/2") }
        var output: OpaquePointer?
        try withHandle(y) { yHandle in
            try withHandle(means) { meansHandle in
                try CallContext(mode: mode, seed: 13).withC { c in
                    try withUnsafeMutablePointer(to: &output) { out in
                        try callPluginReturning(id, "surrogate", [out]) { t.pointee.surrogate(node.instance, c, yHandle, meansHandle, out, $0) }
                    }
                }
            }
        }
        return try adopt(output, id, "surrogate")
    }

    private func inScope(_ t: UnsafePointer<lic_quantizer_v2>, _ body: (UnsafeMutableRawPointer?, UnsafePointer<lic_call_context>) throws -> Void) throws {
        try Self.context.withC { c in
            var scope: UnsafeMutableRawPointer?
            try callPlugin(id, "begin_scope") { t.pointee.begin_scope(node.instance, c, &scope, $0) }
            defer { t.pointee.end_scope(node.instance, scope) }
            try body(scope, c)
        }
    }
}

/// `array`'s storage for one call, or NULL.
private func optionalPointer<R>(_ array: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let array else { return body(nil) }
    return array.withUnsafeBufferPointer { body($0.baseAddress) }
}
