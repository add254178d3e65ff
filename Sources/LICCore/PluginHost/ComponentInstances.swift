import CLIC

/// A live component instance created through its interface table; destroyed
/// (once) when the Swift object goes.
class ComponentInstance {
    let info: ComponentInfo
    let instance: UnsafeMutableRawPointer
    private let destroy: lic_destroy_fn

    init(_ entry: PluginRegistry.Entry, params: ParamSetStorage, create: lic_create_fn, destroy: @escaping lic_destroy_fn) throws {
        info = entry.info
        var created: UnsafeMutableRawPointer?
        try params.withParamSet { set in
            try callPlugin(entry.info.id, "create") { create(entry.descriptor, HostServices.table, set, &created, $0) }
        }
        guard let created else { throw LICError("\(entry.info.id): create succeeded but returned no instance") }
        instance = created
        self.destroy = destroy
    }

    deinit { destroy(instance) }
}

final class TransformInstance: ComponentInstance {
    private let table: lic_transform_v1

    init(_ entry: PluginRegistry.Entry, params: ParamSetStorage) throws {
        table = entry.descriptor.pointee.interface.load(as: lic_transform_v1.self)
        try super.init(entry, params: params, create: table.create, destroy: table.destroy)
    }

    var alignment: Int { max(1, Int(table.alignment(instance))) }

    func outputShape(for input: [Int]) throws -> [Int] {
        var output = [Int64](repeating: -1, count: input.count)
        let shape = input.map(Int64.init)
        try callPlugin(info.id, "output_shape") { error in
            output.withUnsafeMutableBufferPointer { out in table.output_shape(instance, UInt32(shape.count), shape, out.baseAddress, error) }
        }
        guard output.allSatisfy({ $0 >= 0 && $0 <= Int64(HostTensor.maxElements) }) else {
            throw LICError("\(info.id): output_shape gave an invalid shape \(output) for input \(input)")
        }
        return output.map { Int($0) }
    }

    func forward(_ input: HostTensor, into output: HostTensor) throws {
        var inputView = input.view, outputView = output.view
        try callPlugin(info.id, "forward") { table.forward(instance, &inputView, &outputView, $0) }
    }
}

final class QuantizerInstance: ComponentInstance {
    /// The plugin's own (static) table, which may be larger than ABI 1.0's.
    private let table: UnsafePointer<lic_quantizer_v1>

    init(_ entry: PluginRegistry.Entry, params: ParamSetStorage) throws {
        table = entry.descriptor.pointee.interface.assumingMemoryBound(to: lic_quantizer_v1.self)
        try super.init(entry, params: params, create: table.pointee.create, destroy: table.pointee.destroy)
    }

    /// The binding handed to the entropy model, valid during `body`.
    func withBinding<R>(_ body: (UnsafePointer<lic_quantizer_binding>) throws -> R) rethrows -> R {
        var binding = lic_quantizer_binding(struct_size: UInt32(MemoryLayout<lic_quantizer_binding>.size),
                                            quantizer: table, instance: instance)
        return try body(&binding)
    }
}

final class EntropyModelInstance: ComponentInstance {
    private let table: lic_entropy_model_v1

    init(_ entry: PluginRegistry.Entry, params: ParamSetStorage) throws {
        table = entry.descriptor.pointee.interface.load(as: lic_entropy_model_v1.self)
        try super.init(entry, params: params, create: table.create, destroy: table.destroy)
    }

    func encode(_ y: HostTensor, yHat: HostTensor, quantizer: QuantizerInstance, session: CodingSession) throws {
        var yView = y.view, yHatView = yHat.view
        try quantizer.withBinding { binding in
            try session.withContext { context in
                try callPlugin(info.id, "encode") { table.encode(instance, &yView, &yHatView, binding, context, $0) }
            }
        }
    }

    func decode(yHat: HostTensor, quantizer: QuantizerInstance, session: CodingSession) throws {
        var yHatView = yHat.view
        try quantizer.withBinding { binding in
            try session.withContext { context in
                try callPlugin(info.id, "decode") { table.decode(instance, &yHatView, binding, context, $0) }
            }
        }
    }
}
