import CLIC
import LICTensor

/// A "lic.transform/2" component: created with its parameters registered in
/// `store` under "<stage>/...", applied to host tensors (recorded on the tape).
public final class DifferentiableTransformInstance {
    public let info: ComponentInfo
    private let table: UnsafePointer<lic_transform_v2>
    private let instance: UnsafeMutableRawPointer

    init(_ entry: PluginRegistry.Entry, params: ParamSetStorage, stage: String, store: ParameterStore) throws {
        guard entry.info.interfaceID == LIC_INTERFACE_TRANSFORM_2 else {
            throw LICError("'\(entry.info.id)' implements \(entry.info.interfaceID), not \(LIC_INTERFACE_TRANSFORM_2)")
        }
        let table = entry.descriptor.pointee.interface.assumingMemoryBound(to: lic_transform_v2.self)
        instance = try createLearnedComponent(entry, params: params, stage: stage, store: store, create: table.pointee.create)
        self.table = table
        info = entry.info
    }

    /// Creates `id` from the registry with `params` (written values; defaults filled).
    public convenience init(_ id: String, params: [String: ParamValue] = [:], stage: String, store: ParameterStore,
                            registry: PluginRegistry = .shared) throws {
        guard let entry = registry.entry(id) else { throw LICError("no plugin provides component '\(id)'") }
        let written = PipelineDescriptor.Stage(role: .analysis, componentID: id,
                                               params: params.sorted { $0.key < $1.key }.map { ($0.key, $0.value, TOMLPosition(line: 0, column: 0)) },
                                               position: TOMLPosition(line: 0, column: 0))
        try self.init(entry, params: ParamSetStorage(try Pipeline.bind(written, to: entry.info, source: stage)), stage: stage, store: store)
    }

    deinit { table.pointee.destroy(instance) }

    public var alignment: Int { max(1, Int(table.pointee.alignment(instance))) }

    public func outputShape(for input: [Int]) throws -> [Int] {
        var output = [Int64](repeating: -1, count: input.count)
        let shape = input.map(Int64.init)
        try callPlugin(info.id, "output_shape") { error in
            output.withUnsafeMutableBufferPointer { table.pointee.output_shape(instance, UInt32(shape.count), shape, $0.baseAddress, error) }
        }
        guard output.allSatisfy({ $0 >= 0 && $0 <= Int64(HostTensor.maxElements) }) else {
            throw LICError("\(info.id): output_shape gave an invalid shape \(output) for input \(input)")
        }
        return output.map { Int($0) }
    }

    public func apply(_ x: Tensor) throws -> Tensor {
        var output: OpaquePointer?
        try withHandle(x) { input in
            try withUnsafeMutablePointer(to: &output) { out in
                try callPluginReturning(info.id, "apply", [out]) { table.pointee.apply(instance, input, out, $0) }
            }
        }
        return try adopt(output, info.id, "apply")
    }
}
