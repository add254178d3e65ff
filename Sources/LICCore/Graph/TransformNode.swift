import CLIC
import LICTensor

/// A transform stage: "lic.transform/1" (fills a host buffer; not
/// differentiable, so gradients stop there) or "lic.transform/3"
/// (computes with host ops on the tape, with the call context).
final class TransformNode: ComponentInstance {
    private enum Table {
        case v1(UnsafePointer<lic_transform_v1>)
        case v3(UnsafePointer<lic_transform_v3>)
    }
    private let table: Table

    init(_ entry: PluginRegistry.Entry, params: ParamSetStorage, prefix: String, store: ParameterStore) throws {
        // The interface generation the component speaks, and its life cycle.
        let creation: (create: lic_create_fn, destroy: lic_destroy_fn)
        if entry.info.interfaceID == LIC_INTERFACE_TRANSFORM_1 {
            let t = Self.table(entry, as: lic_transform_v1.self)
            (table, creation) = (.v1(t), (t.pointee.create, t.pointee.destroy))
        } else {
            let t = Self.table(entry, as: lic_transform_v3.self)
            (table, creation) = (.v3(t), (t.pointee.create, t.pointee.destroy))
        }
        try super.init(entry, params: params, prefix: prefix, store: store, create: creation.create, destroy: creation.destroy)
    }

    /// Creates component `id` from `registry` with `params` (written values; defaults filled).
    static func make(_ id: String, params: [String: ParamValue] = [:], prefix: String, store: ParameterStore,
                     registry: PluginRegistry = .shared) throws -> TransformNode {
        guard let entry = registry.entry(id) else { throw LICError("no plugin provides component '\(id)'") }
        let position = TOMLPosition(line: 0, column: 0)
        let written = PipelineDescriptor.Stage(name: prefix, componentID: id,
                                               params: params.sorted { $0.key < $1.key }.map { ($0.key, $0.value, position) }, position: position)
        return try TransformNode(entry, params: ParamSetStorage(try Codec.bind(written, to: entry.info, source: prefix)), prefix: prefix, store: store)
    }

    var alignment: Int {
        switch table {
        case .v1(let t): max(1, Int(t.pointee.alignment(instance)))
        case .v3(let t): max(1, Int(t.pointee.alignment(instance)))
        }
    }

    /// The transform's halo (lic_transform_v3.halo, ABI 1.3): nil when it
    /// must see the whole image - a /1 component, a 1.2 table, or no answer.
    var halo: Int? {
        guard case .v3(let t) = table else { return nil }
        let offset = MemoryLayout<lic_transform_v3>.offset(of: \.halo)!
        // Read the field only if the plugin's table has it (its struct_size says how long the table is).
        guard Int(t.pointee.struct_size) >= offset + MemoryLayout<Int>.size,
              let function = UnsafeRawPointer(t).load(fromByteOffset: offset, as: (@convention(c) (UnsafeMutableRawPointer?) -> Int64)?.self)
        else { return nil }
        let halo = function(instance)
        return halo >= 0 && halo <= 1 << 16 ? Int(halo) : nil
    }

    func outputShape(for input: [Int]) throws -> [Int] {
        var output = [Int64](repeating: -1, count: input.count)
        let shape = input.map(Int64.init)
        try callPlugin(info.id, "output_shape") { error in
            output.withUnsafeMutableBufferPointer { out in
                switch table {
                case .v1(let t): t.pointee.output_shape(instance, UInt32(shape.count), shape, out.baseAddress, error)
                case .v3(let t): t.pointee.output_shape(instance, UInt32(shape.count), shape, out.baseAddress, error)
                }
            }
        }
        guard output.allSatisfy({ $0 >= 0 }) else {
            throw LICError("\(info.id): output_shape gave an invalid shape \(output) for input \(input)", brokenRule: true)
        }
        // A valid answer for a huge input, but more than the host will allocate.
        guard output.allSatisfy({ $0 <= Int64(Image.maxPixels * 4) }) else {
            throw LICError("\(info.id): output_shape gives \(output) for input \(input), beyond the host's limits")
        }
        return output.map { Int($0) }
    }

    func apply(_ inputs: [Tensor], context: CallContext) throws -> Tensor {
        switch table {
        case .v1(let t):
            guard inputs.count == 1 else { throw LICError("\(info.id): a lic.transform/1 component takes one input, the stage gives \(inputs.count)") }
            let output = try Tensor(zeros: try outputShape(for: inputs[0].shape))
            var inputView = inputs[0].cView, outputView = output.cView
            try callPlugin(info.id, "forward") { t.pointee.forward(instance, &inputView, &outputView, $0) }
            return output
        case .v3(let t):
            var output: OpaquePointer?
            try withHandles(inputs) { handles in
                try context.withC { c in
                    try withUnsafeMutablePointer(to: &output) { out in
                        try callPluginReturning(info.id, "apply", [out]) { t.pointee.apply(instance, c, handles, UInt32(handles.count), out, $0) }
                    }
                }
            }
            return try adopt(output, info.id, "apply")
        }
    }
}
