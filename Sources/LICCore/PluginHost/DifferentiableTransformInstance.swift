import CLIC
import LICTensor

/// A "lic.transform/2" component: created with its parameters registered in
/// `store` under "<stage>/...", applied to host tensors (recorded on the tape).
public final class DifferentiableTransformInstance {
    public let info: ComponentInfo
    private let table: UnsafePointer<lic_transform_v2>
    private let instance: UnsafeMutableRawPointer

    /// Creates `id` from the registry with validated `params` (written values; defaults filled).
    public init(_ id: String, params: [String: ParamValue] = [:], stage: String, store: ParameterStore,
                registry: PluginRegistry = .shared) throws {
        guard let entry = registry.entry(id) else { throw LICError("no plugin provides component '\(id)'") }
        guard entry.info.interfaceID == LIC_INTERFACE_TRANSFORM_2 else {
            throw LICError("'\(id)' implements \(entry.info.interfaceID), not \(LIC_INTERFACE_TRANSFORM_2)")
        }
        let written = PipelineDescriptor.Stage(role: .analysis, componentID: id,
                                               params: params.sorted { $0.key < $1.key }.map { ($0.key, $0.value, TOMLPosition(line: 0, column: 0)) },
                                               position: TOMLPosition(line: 0, column: 0))
        let storage = ParamSetStorage(try Pipeline.bind(written, to: entry.info, source: stage))
        let table = entry.descriptor.pointee.interface.assumingMemoryBound(to: lic_transform_v2.self)
        var created: UnsafeMutableRawPointer?
        // Parameters the component registers during create land in `store` as "<stage>/<name>".
        try TensorOpsTable.$parameterScope.withValue(.init(store: store, prefix: stage)) {
            try storage.withParamSet { set in
                try callPlugin(id, "create") { table.pointee.create(entry.descriptor, HostServices.table, set, &created, $0) }
            }
        }
        guard let created else { throw LICError("\(id): create succeeded but returned no instance") }
        self.info = entry.info
        self.table = table
        self.instance = created
    }

    deinit { table.pointee.destroy(instance) }

    public var alignment: Int { max(1, Int(table.pointee.alignment(instance))) }

    public func apply(_ x: Tensor) throws -> Tensor {
        let input = TensorOpsTable.handle(x)
        defer { TensorOpsTable.table.pointee.release(input) }
        var output: OpaquePointer?
        try callPlugin(info.id, "apply") { table.pointee.apply(instance, input, &output, $0) }
        guard let output else { throw LICError("\(info.id): apply returned no tensor") }
        defer { TensorOpsTable.table.pointee.release(output) }
        return try TensorOpsTable.tensor(output)
    }
}
