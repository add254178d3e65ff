import CLIC

/// The C interface tables shared by every Swift component of a kind. An
/// instance pointer is a retained `Unmanaged` reference to the Swift object;
/// `component_data` points at the component's factory. Every entry point
/// catches Swift errors and reports them through the caller's lic_error.
enum Bridge {
    final class Factory {
        let make: (Params, Host) throws -> AnyObject
        init(_ make: @escaping (Params, Host) throws -> AnyObject) { self.make = make }
    }

    static func object<T>(_ instance: UnsafeMutableRawPointer?, as type: T.Type) throws -> T {
        guard let instance, let object = Unmanaged<AnyObject>.fromOpaque(instance).takeUnretainedValue() as? T else {
            throw PluginError(.invalidArgument, "instance is not a \(T.self)")
        }
        return object
    }

    static let create: lic_create_fn = { component, host, params, instance, error in
        reportingErrors(error) {
            guard let component, let host, let instance, let data = component.pointee.component_data else {
                throw PluginError(.invalidArgument, "create: missing component, host or output")
            }
            let factory = Unmanaged<Factory>.fromOpaque(data).takeUnretainedValue()
            let object = try factory.make(Params(params), Host(services: host))
            instance.pointee = Unmanaged.passRetained(object).toOpaque()
        }
    }

    static let destroy: lic_destroy_fn = { instance in
        guard let instance else { return }
        Unmanaged<AnyObject>.fromOpaque(instance).release()
    }

    nonisolated(unsafe) static let transformInterface: UnsafeRawPointer = {
        let table = UnsafeMutablePointer<lic_transform_v1>.allocate(capacity: 1)
        table.initialize(to: lic_transform_v1(
            struct_size: UInt32(MemoryLayout<lic_transform_v1>.size),
            create: create, destroy: destroy,
            alignment: { instance in
                guard let transform = try? object(instance, as: (any TransformComponent).self) else { return 1 }
                return UInt32(clamping: transform.alignment)
            },
            output_shape: { instance, rank, input, output, error in
                reportingErrors(error) {
                    let transform = try object(instance, as: (any TransformComponent).self)
                    try fillShape(rank, input, output) { try transform.outputShape(for: $0) }
                }
            },
            forward: { instance, input, output, error in
                reportingErrors(error) {
                    let transform = try object(instance, as: (any TransformComponent).self)
                    try transform.forward(TensorView(input), into: TensorView(output))
                }
            }))
        return UnsafeRawPointer(table)
    }()

    nonisolated(unsafe) static let quantizerInterface: UnsafeRawPointer = {
        let table = UnsafeMutablePointer<lic_quantizer_v1>.allocate(capacity: 1)
        table.initialize(to: lic_quantizer_v1(
            struct_size: UInt32(MemoryLayout<lic_quantizer_v1>.size),
            create: create, destroy: destroy,
            quantize: { instance, values, means, symbols, count, error in
                reportingErrors(error) {
                    let quantizer = try object(instance, as: (any QuantizerComponent).self)
                    try quantizer.quantize(UnsafeBufferPointer(start: values, count: count),
                                           means: means.map { UnsafeBufferPointer(start: $0, count: count) },
                                           into: UnsafeMutableBufferPointer(start: symbols, count: count))
                }
            },
            dequantize: { instance, symbols, means, values, count, error in
                reportingErrors(error) {
                    let quantizer = try object(instance, as: (any QuantizerComponent).self)
                    try quantizer.dequantize(UnsafeBufferPointer(start: symbols, count: count),
                                             means: means.map { UnsafeBufferPointer(start: $0, count: count) },
                                             into: UnsafeMutableBufferPointer(start: values, count: count))
                }
            }))
        return UnsafeRawPointer(table)
    }()

    nonisolated(unsafe) static let entropyModelInterface: UnsafeRawPointer = {
        let table = UnsafeMutablePointer<lic_entropy_model_v1>.allocate(capacity: 1)
        table.initialize(to: lic_entropy_model_v1(
            struct_size: UInt32(MemoryLayout<lic_entropy_model_v1>.size),
            create: create, destroy: destroy,
            encode: { instance, y, yHat, quantizer, context, error in
                reportingErrors(error) {
                    let model = try object(instance, as: (any EntropyModelComponent).self)
                    guard let quantizer, let context, let host = Bridge.host else {
                        throw PluginError(.invalidArgument, "encode: missing quantizer or context")
                    }
                    try model.encode(TensorView(y), yHat: TensorView(yHat), quantizer: Quantizer(binding: quantizer),
                                     context: CodingContext(pointer: context, host: host))
                }
            },
            decode: { instance, yHat, quantizer, context, error in
                reportingErrors(error) {
                    let model = try object(instance, as: (any EntropyModelComponent).self)
                    guard let quantizer, let context, let host = Bridge.host else {
                        throw PluginError(.invalidArgument, "decode: missing quantizer or context")
                    }
                    try model.decode(yHat: TensorView(yHat), quantizer: Quantizer(binding: quantizer),
                                     context: CodingContext(pointer: context, host: host))
                }
            }))
        return UnsafeRawPointer(table)
    }()

    /// Maps a C input shape to a C output shape of the same rank.
    static func fillShape(_ rank: UInt32, _ input: UnsafePointer<Int64>?, _ output: UnsafeMutablePointer<Int64>?,
                          _ compute: ([Int]) throws -> [Int]) throws {
        guard let input, let output, rank >= 1, rank <= LIC_MAX_RANK else {
            throw PluginError(.invalidArgument, "output_shape: bad rank or buffers")
        }
        let shape = try compute((0..<Int(rank)).map { Int(input[$0]) })
        guard shape.count == Int(rank) else { throw PluginError(.internalError, "output_shape changed the rank") }
        for (axis, size) in shape.enumerated() { output[axis] = Int64(size) }
    }

    /// Wraps a borrowed tensor handle (taking a reference of our own).
    static func borrowed(_ handle: OpaquePointer?, _ ops: UnsafePointer<lic_tensor_ops>) -> Tensor? {
        guard let handle else { return nil }
        ops.pointee.retain(handle)
        return Tensor(owning: handle, ops: ops)
    }

    /// Hands a result to the caller: one new reference.
    static func give(_ tensor: Tensor, to out: UnsafeMutablePointer<OpaquePointer?>) {
        tensor.ops.pointee.retain(tensor.handle)
        out.pointee = tensor.handle
    }

    static func ops() throws -> UnsafePointer<lic_tensor_ops> {
        guard let host = Bridge.host else { throw PluginError(.internalError, "no host services") }
        return try host.tensorOps()
    }

    /// The host services given to the entry function (set once, under the host's loader lock).
    nonisolated(unsafe) static var host: Host?
}
