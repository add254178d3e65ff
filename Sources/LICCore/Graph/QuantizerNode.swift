import CLIC
import LICTensor

/// The pipeline's quantizer: "lic.quantizer/2", or "lic.quantizer/1" seen
/// through a host adapter. Entropy models of either generation get the face
/// they speak: a lic_quantizer_handle (/2 table) or a lic_quantizer_binding
/// (/1 table). Used by the thread running the codec, one call at a time.
final class QuantizerNode: ComponentInstance {
    private enum Table {
        case v1(UnsafePointer<lic_quantizer_v1>)
        case v2(UnsafePointer<lic_quantizer_v2>)
    }
    private let table: Table
    /// The context of the entropy-model call in progress (for the /1 face of a /2 quantizer).
    private var currentContext: CallContext?

    init(_ entry: PluginRegistry.Entry, params: ParamSetStorage, prefix: String, store: ParameterStore) throws {
        // The interface generation the component speaks, and its life cycle.
        let creation: (create: lic_create_fn, destroy: lic_destroy_fn)
        if entry.info.interfaceID == LIC_INTERFACE_QUANTIZER_1 {
            let t = Self.table(entry, as: lic_quantizer_v1.self)
            (table, creation) = (.v1(t), (t.pointee.create, t.pointee.destroy))
        } else {
            let t = Self.table(entry, as: lic_quantizer_v2.self)
            (table, creation) = (.v2(t), (t.pointee.create, t.pointee.destroy))
        }
        try super.init(entry, params: params, prefix: prefix, store: store, create: creation.create, destroy: creation.destroy)
    }

    private var unmanaged: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    /// The /2 face, valid during `body`.
    func withHandle<R>(_ body: (UnsafePointer<lic_quantizer_handle>) throws -> R) rethrows -> R {
        var handle = lic_quantizer_handle(struct_size: UInt32(MemoryLayout<lic_quantizer_handle>.size), quantizer: nil, instance: nil)
        switch table {
        case .v2(let t): (handle.quantizer, handle.instance) = (t, instance)
        case .v1: (handle.quantizer, handle.instance) = (QuantizerAdapters.v2Face, unmanaged)
        }
        return try body(&handle)
    }

    /// The /1 face, valid during `body`.
    func withBinding<R>(context: CallContext, _ body: (UnsafePointer<lic_quantizer_binding>) throws -> R) rethrows -> R {
        var binding = lic_quantizer_binding(struct_size: UInt32(MemoryLayout<lic_quantizer_binding>.size), quantizer: nil, instance: nil)
        switch table {
        case .v1(let t): (binding.quantizer, binding.instance) = (t, instance)
        case .v2: (binding.quantizer, binding.instance) = (QuantizerAdapters.v1Face, unmanaged)
        }
        currentContext = context
        defer { currentContext = nil }
        return try body(&binding)
    }

    fileprivate static func node(_ pointer: UnsafeMutableRawPointer?) throws -> QuantizerNode {
        guard let pointer else { throw CodingError.invalidArgument("NULL quantizer instance") }
        return Unmanaged<QuantizerNode>.fromOpaque(pointer).takeUnretainedValue()
    }

    fileprivate var v1Table: UnsafePointer<lic_quantizer_v1>? { if case .v1(let t) = table { t } else { nil } }
    fileprivate var v2Table: UnsafePointer<lic_quantizer_v2>? { if case .v2(let t) = table { t } else { nil } }
    fileprivate var context: CallContext { currentContext ?? CallContext(mode: .encode) }
}

/// Host-made interface tables that present one quantizer generation as the other.
private enum QuantizerAdapters {
    /// A /1 quantizer as /2: stateless, no training surrogate.
    nonisolated(unsafe) static let v2Face: UnsafePointer<lic_quantizer_v2> = {
        let table = UnsafeMutablePointer<lic_quantizer_v2>.allocate(capacity: 1)
        table.initialize(to: lic_quantizer_v2(
            struct_size: UInt32(MemoryLayout<lic_quantizer_v2>.size), create: nil, destroy: nil,
            surrogate: { instance, _, _, _, _, error in
                let id = (try? QuantizerNode.node(instance).info.id) ?? "quantizer"
                return lic_error_set(error, LIC_ERROR_UNSUPPORTED, "\(id) is a lic.quantizer/1 component: it has no training surrogate (use a lic.quantizer/2 one to train)")
            },
            begin_scope: { _, _, scope, _ in scope?.pointee = nil; return LIC_OK },
            end_scope: { _, _ in },
            quantize: { instance, _, _, batch, error in
                HostServices.hostCall(error) {
                    let node = try QuantizerNode.node(instance)
                    guard let t = node.v1Table, let b = batch?.pointee else { throw CodingError.invalidArgument("quantize: no batch") }
                    try callPlugin(node.info.id, "quantize") { t.pointee.quantize(node.instance, b.values, b.means, b.symbols, b.count, $0) }
                    try callPlugin(node.info.id, "dequantize") { t.pointee.dequantize(node.instance, b.symbols, b.means, b.reconstruction, b.count, $0) }
                }
            },
            dequantize: { instance, _, _, symbols, means, count, values, error in
                HostServices.hostCall(error) {
                    let node = try QuantizerNode.node(instance)
                    guard let t = node.v1Table else { throw CodingError.invalidArgument("dequantize: not a /1 quantizer") }
                    try callPlugin(node.info.id, "dequantize") { t.pointee.dequantize(node.instance, symbols, means, values, count, $0) }
                }
            },
            levels: { instance, _, first, count, values, error in
                HostServices.hostCall(error) {
                    let node = try QuantizerNode.node(instance)
                    guard let t = node.v1Table else { throw CodingError.invalidArgument("levels: not a /1 quantizer") }
                    let indexes = (0..<Int32(count)).map { first &+ $0 }
                    try callPlugin(node.info.id, "dequantize") { t.pointee.dequantize(node.instance, indexes, nil, values, Int(count), $0) }
                }
            },
            level_set: { _, _ in 0 }))
        return UnsafePointer(table)
    }()

    /// A /2 quantizer as /1: one scope per call.
    nonisolated(unsafe) static let v1Face: UnsafePointer<lic_quantizer_v1> = {
        let table = UnsafeMutablePointer<lic_quantizer_v1>.allocate(capacity: 1)
        table.initialize(to: lic_quantizer_v1(
            struct_size: UInt32(MemoryLayout<lic_quantizer_v1>.size), create: nil, destroy: nil,
            quantize: { instance, values, means, symbols, count, error in
                HostServices.hostCall(error) {
                    let node = try QuantizerNode.node(instance)
                    guard let t = node.v2Table else { throw CodingError.invalidArgument("quantize: not a /2 quantizer") }
                    var reconstruction = [Float](repeating: 0, count: count)
                    try node.inScope(t) { scope, c in
                        try reconstruction.withUnsafeMutableBufferPointer { out in
                            var batch = lic_quantize_batch()
                            batch.struct_size = UInt32(MemoryLayout<lic_quantize_batch>.size)
                            (batch.count, batch.values, batch.means, batch.symbols, batch.reconstruction) = (count, values, means, symbols, out.baseAddress)
                            try callPlugin(node.info.id, "quantize") { t.pointee.quantize(node.instance, scope, c, &batch, $0) }
                        }
                    }
                }
            },
            dequantize: { instance, symbols, means, values, count, error in
                HostServices.hostCall(error) {
                    let node = try QuantizerNode.node(instance)
                    guard let t = node.v2Table else { throw CodingError.invalidArgument("dequantize: not a /2 quantizer") }
                    try node.inScope(t) { scope, c in
                        try callPlugin(node.info.id, "dequantize") { t.pointee.dequantize(node.instance, scope, c, symbols, means, count, values, $0) }
                    }
                }
            }))
        return UnsafePointer(table)
    }()
}

extension QuantizerNode {
    /// Runs `body` in a fresh scope of this /2 quantizer.
    fileprivate func inScope(_ t: UnsafePointer<lic_quantizer_v2>,
                             _ body: (UnsafeMutableRawPointer?, UnsafePointer<lic_call_context>) throws -> Void) throws {
        try context.withC { c in
            var scope: UnsafeMutableRawPointer?
            try callPlugin(info.id, "begin_scope") { t.pointee.begin_scope(instance, c, &scope, $0) }
            defer { t.pointee.end_scope(instance, scope) }
            try body(scope, c)
        }
    }
}
