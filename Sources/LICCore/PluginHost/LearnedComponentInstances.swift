import CLIC
import LICTensor

/// Creates a component whose parameters (registered during create through
/// the op table) go into `store` as "<stage>/<name>".
func createLearnedComponent(_ entry: PluginRegistry.Entry, params: ParamSetStorage, stage: String, store: ParameterStore,
                            create: lic_create_fn) throws -> UnsafeMutableRawPointer {
    var created: UnsafeMutableRawPointer?
    try TensorOpsTable.$parameterScope.withValue(.init(store: store, prefix: stage)) {
        try params.withParamSet { set in
            try callPlugin(entry.info.id, "create") { create(entry.descriptor, HostServices.table, set, &created, $0) }
        }
    }
    guard let created else { throw LICError("\(entry.info.id): create succeeded but returned no instance") }
    return created
}

/// Borrows `tensor` as a handle for one call.
func withHandle<R>(_ tensor: Tensor?, _ body: (OpaquePointer?) throws -> R) rethrows -> R {
    guard let tensor else { return try body(nil) }
    let handle = TensorOpsTable.handle(tensor)
    defer { TensorOpsTable.table.pointee.release(handle) }
    return try body(handle)
}

/// Calls a plugin that returns tensors through `outputs`; if it fails after
/// setting some of them anyway, those references are released, not leaked.
func callPluginReturning(_ component: String, _ operation: String, _ outputs: [UnsafeMutablePointer<OpaquePointer?>],
                         _ body: (UnsafeMutablePointer<lic_error>) -> lic_status) throws {
    do {
        try callPlugin(component, operation, body)
    } catch {
        for output in outputs where output.pointee != nil {
            TensorOpsTable.table.pointee.release(output.pointee)
            output.pointee = nil
        }
        throw error
    }
}

/// Takes over a tensor a plugin returned (one reference).
func adopt(_ handle: OpaquePointer?, _ component: String, _ what: String) throws -> Tensor {
    guard let handle else { throw LICError("\(component): \(what) returned no tensor") }
    defer { TensorOpsTable.table.pointee.release(handle) }
    return try TensorOpsTable.tensor(handle)
}

/// A "lic.entropy-model/2" component.
final class LearnedEntropyModelInstance {
    let info: ComponentInfo
    private let table: UnsafePointer<lic_entropy_model_v2>
    private let instance: UnsafeMutableRawPointer

    init(_ entry: PluginRegistry.Entry, params: ParamSetStorage, stage: String, store: ParameterStore) throws {
        guard entry.info.interfaceID == LIC_INTERFACE_ENTROPY_MODEL_2 else {
            throw LICError("'\(entry.info.id)' implements \(entry.info.interfaceID), a learned pipeline needs \(LIC_INTERFACE_ENTROPY_MODEL_2)")
        }
        let table = entry.descriptor.pointee.interface.assumingMemoryBound(to: lic_entropy_model_v2.self)
        instance = try createLearnedComponent(entry, params: params, stage: stage, store: store, create: table.pointee.create)
        self.table = table
        info = entry.info
    }

    deinit { table.pointee.destroy(instance) }

    func forward(_ y: Tensor, condition: Tensor?, training: Bool, seed: UInt64) throws -> (yHat: Tensor, likelihoods: Tensor) {
        var yHat: OpaquePointer?, likelihoods: OpaquePointer?
        try withHandle(y) { yHandle in
            try withHandle(condition) { conditionHandle in
                try withUnsafeMutablePointer(to: &yHat) { yHatOut in
                    try withUnsafeMutablePointer(to: &likelihoods) { likelihoodsOut in
                        try callPluginReturning(info.id, "forward", [yHatOut, likelihoodsOut]) {
                            table.pointee.forward(instance, yHandle, conditionHandle, training ? 1 : 0, seed, yHatOut, likelihoodsOut, $0)
                        }
                    }
                }
            }
        }
        return (try adopt(yHat, info.id, "forward"), try adopt(likelihoods, info.id, "forward"))
    }

    func auxiliaryLoss() throws -> Tensor? {
        var loss: OpaquePointer?
        try withUnsafeMutablePointer(to: &loss) { out in
            try callPluginReturning(info.id, "auxiliary_loss", [out]) { table.pointee.auxiliary_loss(instance, out, $0) }
        }
        return loss == nil ? nil : try adopt(loss, info.id, "auxiliary_loss")
    }

    func encode(_ y: Tensor, condition: Tensor?, quantizer: QuantizerInstance, session: CodingSession) throws -> Tensor {
        var yHat: OpaquePointer?
        try withHandle(y) { yHandle in
            try withHandle(condition) { conditionHandle in
                try quantizer.withBinding { binding in
                    try session.withContext { context in
                        try withUnsafeMutablePointer(to: &yHat) { out in
                            try callPluginReturning(info.id, "encode", [out]) {
                                table.pointee.encode(instance, yHandle, conditionHandle, binding, context, out, $0)
                            }
                        }
                    }
                }
            }
        }
        return try adopt(yHat, info.id, "encode")
    }

    func decode(shape: [Int], condition: Tensor?, quantizer: QuantizerInstance, session: CodingSession) throws -> Tensor {
        var yHat: OpaquePointer?
        let dims = shape.map(Int64.init)
        try withHandle(condition) { conditionHandle in
            try quantizer.withBinding { binding in
                try session.withContext { context in
                    try withUnsafeMutablePointer(to: &yHat) { out in
                        try callPluginReturning(info.id, "decode", [out]) {
                            table.pointee.decode(instance, UInt32(dims.count), dims, conditionHandle, binding, context, out, $0)
                        }
                    }
                }
            }
        }
        let result = try adopt(yHat, info.id, "decode")
        guard result.shape == shape else { throw LICError("\(info.id): decode gave \(result.shape), expected \(shape)") }
        return result
    }
}
