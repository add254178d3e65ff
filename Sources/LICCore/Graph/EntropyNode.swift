import CLIC
import LICTensor

/// What an entropy stage produced: y_hat, and (when the model gives them)
/// likelihoods and the per-element distribution parameters.
struct EntropyResult {
    var yHat: Tensor
    var likelihoods: Tensor?
    var means: Tensor?
    var scales: Tensor?
}

/// An entropy stage: "lic.entropy-model/1" (codes host buffers; cannot be
/// trained) or "lic.entropy-model/3" (learned, on host tensors).
final class EntropyNode: ComponentInstance {
    private enum Table {
        case v1(UnsafePointer<lic_entropy_model_v1>)
        case v3(UnsafePointer<lic_entropy_model_v3>)
    }
    private let table: Table

    init(_ entry: PluginRegistry.Entry, params: ParamSetStorage, prefix: String, store: ParameterStore) throws {
        // The interface generation the component speaks, and its life cycle.
        let creation: (create: lic_create_fn, destroy: lic_destroy_fn)
        if entry.info.interfaceID == LIC_INTERFACE_ENTROPY_MODEL_1 {
            let t = Self.table(entry, as: lic_entropy_model_v1.self)
            (table, creation) = (.v1(t), (t.pointee.create, t.pointee.destroy))
        } else {
            let t = Self.table(entry, as: lic_entropy_model_v3.self)
            (table, creation) = (.v3(t), (t.pointee.create, t.pointee.destroy))
        }
        try super.init(entry, params: params, prefix: prefix, store: store, create: creation.create, destroy: creation.destroy)
    }

    var isTrainable: Bool { if case .v3 = table { true } else { false } }

    /// Calls a /3 function that fills a lic_entropy_outputs; takes over what it returned.
    private func outputs(_ operation: String, _ body: (UnsafeMutablePointer<lic_entropy_outputs>, UnsafeMutablePointer<lic_error>) -> lic_status) throws -> EntropyResult {
        var out = lic_entropy_outputs()
        out.struct_size = UInt32(MemoryLayout<lic_entropy_outputs>.size)
        let status: Result<Void, Error> = Result { try callPlugin(info.id, operation) { body(&out, $0) } }
        let taken = [out.y_hat, out.likelihoods, out.means, out.scales].map { handle in handle.map { try? adopt($0, info.id, operation) } ?? nil }
        try status.get()
        guard let yHat = taken[0] else { throw LICError("\(info.id): \(operation) returned no y_hat", brokenRule: true) }
        return EntropyResult(yHat: yHat, likelihoods: taken[1], means: taken[2], scales: taken[3])
    }

    private func v3(_ operation: String) throws -> UnsafePointer<lic_entropy_model_v3> {
        guard case .v3(let t) = table else {
            throw LICError("\(info.id) is a lic.entropy-model/1 component: it codes files but cannot \(operation) (use a lic.entropy-model/3 one)")
        }
        return t
    }

    /// Training or evaluation forward pass.
    func forward(_ y: Tensor, condition: Tensor?, quantizer: QuantizerNode, context: CallContext) throws -> EntropyResult {
        let t = try v3("train or evaluate")
        return try withHandle(y) { yHandle in
            try withHandle(condition) { conditionHandle in
                try quantizer.withHandle { q in
                    try context.withC { c in
                        try outputs("forward") { out, error in t.pointee.forward(instance, c, yHandle, conditionHandle, q, out, error) }
                    }
                }
            }
        }
    }

    func auxiliaryLoss(context: CallContext) throws -> Tensor? {
        guard case .v3(let t) = table else { return nil }
        var loss: OpaquePointer?
        try context.withC { c in
            try withUnsafeMutablePointer(to: &loss) { out in
                try callPluginReturning(info.id, "auxiliary_loss", [out]) { t.pointee.auxiliary_loss(instance, c, out, $0) }
            }
        }
        return loss == nil ? nil : try adopt(loss, info.id, "auxiliary_loss")
    }

    // Coding calls run in exact mode (LICTensor's ExactArithmetic): the
    // tables, scales and contexts they compute through the op table are the
    // same bits on every machine, so a file decodes anywhere.

    /// Builds the plugin's coding tables, or hands it `stored` ones (a model
    /// directory's); returns the tables it built or was handed.
    func prepareCoding(stage: String, stored: CodingTableSet?) throws -> CodingTableSet {
        guard case .v3(let t) = table else { return CodingTableSet(entries: []) }
        let session = CodingTableSession(stage: stage, stored: stored)
        try CodingTableSession.$current.withValue(session) {
            try ExactArithmetic.with {
                try GradientMode.withoutGradients { try callPlugin(info.id, "prepare_coding") { t.pointee.prepare_coding(instance, $0) } }
            }
        }
        try session.finish()
        return CodingTableSet(entries: session.entries)
    }

    func encode(_ y: Tensor, condition: Tensor?, quantizer: QuantizerNode, session: CodingSession, context: CallContext) throws -> EntropyResult {
        try ExactArithmetic.with { try encodeCall(y, condition: condition, quantizer: quantizer, session: session, context: context) }
    }

    func decode(shape: [Int], condition: Tensor?, quantizer: QuantizerNode, session: CodingSession, context: CallContext) throws -> EntropyResult {
        try ExactArithmetic.with { try decodeCall(shape: shape, condition: condition, quantizer: quantizer, session: session, context: context) }
    }

    private func encodeCall(_ y: Tensor, condition: Tensor?, quantizer: QuantizerNode, session: CodingSession, context: CallContext) throws -> EntropyResult {
        switch table {
        case .v1(let t):
            let yHat = try Tensor(zeros: y.shape)
            var yView = y.cView, yHatView = yHat.cView
            try quantizer.withBinding(context: context) { binding in
                try session.withContext { coding in
                    try callPlugin(info.id, "encode") { t.pointee.encode(instance, &yView, &yHatView, binding, coding, $0) }
                }
            }
            return EntropyResult(yHat: yHat)
        case .v3(let t):
            return try withHandle(y) { yHandle in
                try withHandle(condition) { conditionHandle in
                    try quantizer.withHandle { q in
                        try session.withContext { coding in
                            try context.withC { c in
                                try outputs("encode") { out, error in t.pointee.encode(instance, c, yHandle, conditionHandle, q, coding, out, error) }
                            }
                        }
                    }
                }
            }
        }
    }

    private func decodeCall(shape: [Int], condition: Tensor?, quantizer: QuantizerNode, session: CodingSession,
                            context: CallContext) throws -> EntropyResult {
        let result: EntropyResult
        switch table {
        case .v1(let t):
            let yHat = try Tensor(zeros: shape)
            var yHatView = yHat.cView
            try quantizer.withBinding(context: context) { binding in
                try session.withContext { coding in
                    try callPlugin(info.id, "decode") { t.pointee.decode(instance, &yHatView, binding, coding, $0) }
                }
            }
            result = EntropyResult(yHat: yHat)
        case .v3(let t):
            let dims = shape.map(Int64.init)
            result = try withHandle(condition) { conditionHandle in
                try quantizer.withHandle { q in
                    try session.withContext { coding in
                        try context.withC { c in
                            try outputs("decode") { out, error in
                                t.pointee.decode(instance, c, UInt32(dims.count), dims, conditionHandle, q, coding, out, error)
                            }
                        }
                    }
                }
            }
        }
        guard result.yHat.shape == shape else { throw LICError("\(info.id): decode gave \(result.yHat.shape), expected \(shape)", brokenRule: true) }
        return result
    }
}
