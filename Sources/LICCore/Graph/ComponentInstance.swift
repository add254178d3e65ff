import CLIC
import LICTensor

/// A live component instance, created through its interface's `create` with
/// its parameters registered in `store` under `prefix` (e.g. "analysis/...")
/// and destroyed (once) when the Swift object goes.
class ComponentInstance {
    let info: ComponentInfo
    let instance: UnsafeMutableRawPointer
    private let destroy: lic_destroy_fn

    init(_ entry: PluginRegistry.Entry, params: ParamSetStorage, prefix: String, store: ParameterStore,
         create: lic_create_fn, destroy: @escaping lic_destroy_fn) throws {
        var created: UnsafeMutableRawPointer?
        do {
            try TensorOpsTable.$parameterScope.withValue(.init(store: store, prefix: prefix)) {
                try params.withParamSet { set in
                    try callPlugin(entry.info.id, "create") { create(entry.descriptor, HostServices.table, set, &created, $0) }
                }
            }
        } catch {
            // A create that reported an error yet made an instance must not leak it.
            if let created { destroy(created) }
            throw error
        }
        guard let created else { throw LICError("\(entry.info.id): create succeeded but returned no instance", brokenRule: true) }
        (info, instance, self.destroy) = (entry.info, created, destroy)
    }

    deinit { destroy(instance) }

    /// The component's interface table, checked for size when the plugin loaded.
    static func table<T>(_ entry: PluginRegistry.Entry, as type: T.Type) -> UnsafePointer<T> {
        entry.descriptor.pointee.interface.assumingMemoryBound(to: T.self)
    }
}

/// Borrows `tensor` as a handle for one call.
func withHandle<R>(_ tensor: Tensor?, _ body: (OpaquePointer?) throws -> R) rethrows -> R {
    guard let tensor else { return try body(nil) }
    let handle = TensorOpsTable.handle(tensor)
    defer { TensorOpsTable.table.pointee.release(handle) }
    return try body(handle)
}

/// Borrows several tensors as handles for one call.
func withHandles<R>(_ tensors: [Tensor], _ body: ([OpaquePointer?]) throws -> R) rethrows -> R {
    let handles: [OpaquePointer?] = tensors.map { TensorOpsTable.handle($0) }
    defer { handles.forEach { TensorOpsTable.table.pointee.release($0) } }
    return try body(handles)
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
    guard let handle else { throw LICError("\(component): \(what) returned no tensor", brokenRule: true) }
    defer { TensorOpsTable.table.pointee.release(handle) }
    return try TensorOpsTable.tensor(handle)
}
