import CLIC
import Foundation
import LICTensor

/// A [[regularizer]]: a "lic.regularizer/1" component, its weight in the
/// loss and its name in train.jsonl. Its own parameters are registered as
/// "regularizer.<name>/..." in group .regularizer.
final class RegularizerNode: ComponentInstance {
    let name: String
    let weight: Double
    let learningRate: Double
    private let table: UnsafePointer<lic_regularizer_v1>

    init(_ entry: PluginRegistry.Entry, params: ParamSetStorage, regularizer: PipelineDescriptor.Regularizer, store: ParameterStore) throws {
        table = Self.table(entry, as: lic_regularizer_v1.self)
        (name, weight, learningRate) = (regularizer.name, regularizer.weight, regularizer.learningRate)
        try super.init(entry, params: params, prefix: "regularizer.\(regularizer.name)", store: store,
                       create: table.pointee.create, destroy: table.pointee.destroy)
    }

    /// The component prefix of its parameters in the store.
    var parameterPrefix: String { "regularizer.\(name)" }

    var alternates: Bool { table.pointee.fit_loss != nil }

    /// The (unweighted) term from the forward pass's named tensors.
    func loss(_ tensors: [String: Tensor], context: CallContext) throws -> Tensor {
        try call("loss", tensors, context) { t, c, set, out, error in t.pointee.loss(instance, c, set, out, error) }!
    }

    /// The fitting loss of an alternating regularizer, or nil (none this step).
    func fitLoss(_ tensors: [String: Tensor], context: CallContext) throws -> Tensor? {
        guard let fit = table.pointee.fit_loss else { return nil }
        return try call("fit_loss", tensors, context, optional: true) { _, c, set, out, error in fit(instance, c, set, out, error) }
    }

    private func call(_ operation: String, _ tensors: [String: Tensor], _ context: CallContext, optional: Bool = false,
                      _ body: (UnsafePointer<lic_regularizer_v1>, UnsafePointer<lic_call_context>, UnsafePointer<lic_named_tensors>,
                               UnsafeMutablePointer<OpaquePointer?>, UnsafeMutablePointer<lic_error>) -> lic_status) throws -> Tensor? {
        let names = tensors.keys.sorted()
        let cNames = names.map { strdup($0)! }
        defer { cNames.forEach { free($0) } }
        var result: OpaquePointer?
        try withHandles(names.map { tensors[$0]! }) { handles in
            let entries = zip(cNames, handles).map { lic_named_tensor(name: UnsafePointer($0), tensor: $1) }
            try entries.withUnsafeBufferPointer { buffer in
                var set = lic_named_tensors(struct_size: UInt32(MemoryLayout<lic_named_tensors>.size), count: UInt32(buffer.count),
                                            entries: buffer.baseAddress)
                try context.withC { c in
                    try withUnsafeMutablePointer(to: &result) { out in
                        try callPluginReturning(info.id, operation, [out]) { body(table, c, &set, out, $0) }
                    }
                }
            }
        }
        if result == nil && optional { return nil }
        let term = try adopt(result, info.id, operation)
        guard term.shape.reduce(1, *) == 1 else { throw LICError("\(info.id): \(operation) returned shape \(term.shape), not a scalar", brokenRule: true) }
        return term
    }
}
