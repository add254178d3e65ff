import CLIC
import LICTensor

/// The lic_tensor_ops table (ABI 1.1): every op a plugin calls runs on the
/// host's tensor engine. A lic_tensor* is a retained LICTensor.Tensor.
enum TensorOpsTable {
    /// Where `parameter` registers: the pipeline's store and the stage name,
    /// set by the host around a component's create.
    struct Scope: Sendable {
        var store: ParameterStore
        var prefix: String
    }

    @TaskLocal static var parameterScope: Scope?
    /// Set while building a pipeline embedded in a file: such a pipeline is
    /// weightless, so a component asking for a parameter is refused before
    /// anything is allocated (a small file cannot make the decoder build weights).
    @TaskLocal static var refusesParameters = false
    /// Set while building a codec whose every parameter a weights file is
    /// about to overwrite (Codec.load, which loads strictly): random
    /// initializers then give zeros, skipping work that would be thrown away.
    @TaskLocal static var weightsFollow = false

    static func handle(_ tensor: Tensor) -> OpaquePointer {
        OpaquePointer(Unmanaged.passRetained(tensor).toOpaque())
    }

    static func tensor(_ handle: OpaquePointer?) throws -> Tensor {
        guard let handle else { throw TensorError.invalidArgument("NULL tensor") }
        return Unmanaged<Tensor>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
    }

    static func shape(_ rank: UInt32, _ dims: UnsafePointer<Int64>?) throws -> [Int] {
        guard rank >= 1, rank <= LIC_MAX_RANK, let dims else { throw TensorError.shape("rank \(rank) is outside 1...\(LIC_MAX_RANK)") }
        return (0..<Int(rank)).map { Int(clamping: dims[$0]) }
    }

    /// Runs `body`, storing its tensor in *out, or reports the error.
    static func produce(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ sink: UnsafeMutablePointer<lic_error>?,
                        _ body: () throws -> Tensor) -> lic_status {
        guard let out else { return lic_error_set(sink, LIC_ERROR_INVALID_ARGUMENT, "tensor op: NULL output pointer") }
        out.pointee = nil
        do {
            out.pointee = handle(try body())
            return LIC_OK
        } catch {
            return lic_error_set(sink, status(for: error), "\(error)")
        }
    }

    /// The status a plugin gets for a failed op: a refused allocation is
    /// LIC_ERROR_OUT_OF_MEMORY (the caller may retry smaller), a bad shape or
    /// argument is the caller's LIC_ERROR_INVALID_ARGUMENT, and anything else
    /// (the backend, an error from another plugin's custom op) is INTERNAL.
    static func status(for error: any Error) -> lic_status {
        switch error as? TensorError {
        case .outOfMemory: LIC_ERROR_OUT_OF_MEMORY
        case .shape, .invalidArgument: LIC_ERROR_INVALID_ARGUMENT
        case .backend, nil: LIC_ERROR_INTERNAL
        }
    }

    static func convParameters(_ params: UnsafePointer<lic_conv_params>?) throws -> (stride: Int, padding: Padding2D, groups: Int, outputPadding: Int, mask: Tensor?) {
        guard let p = params?.pointee, p.struct_size >= UInt32(MemoryLayout<lic_conv_params>.size) else {
            throw TensorError.invalidArgument("conv: missing or short lic_conv_params")
        }
        let padding = Padding2D(top: Int(p.pad_top), left: Int(p.pad_left), bottom: Int(p.pad_bottom), right: Int(p.pad_right))
        return (Int(max(p.stride, 1)), padding, Int(max(p.groups, 1)), Int(p.output_padding), try p.mask.map { try tensor($0) })
    }

    static func unaryOp(_ op: lic_unary_op, _ parameter: Float) throws -> UnaryOp? {
        switch op {
        case LIC_UNARY_NEGATE: .negate
        case LIC_UNARY_SQUARE: .square
        case LIC_UNARY_SQRT: .sqrt
        case LIC_UNARY_RSQRT: .rsqrt
        case LIC_UNARY_RECIPROCAL: .reciprocal
        case LIC_UNARY_EXP: .exp
        case LIC_UNARY_LOG: .log
        case LIC_UNARY_ABS: .abs
        case LIC_UNARY_TANH: .tanh
        case LIC_UNARY_SIGMOID: .sigmoid
        case LIC_UNARY_RELU: .relu
        case LIC_UNARY_LEAKY_RELU: .leakyRelu(slope: parameter)
        case LIC_UNARY_GELU: .gelu
        case LIC_UNARY_SOFTPLUS: .softplus
        case LIC_UNARY_ERFC: .erfc
        case LIC_UNARY_GAUSSIAN_CDF: .gaussianCDF
        case LIC_UNARY_ROUND_STE, LIC_UNARY_STOP_GRADIENT: nil
        default: throw TensorError.invalidArgument("unknown unary op \(op.rawValue)")
        }
    }

    static func binaryOp(_ op: lic_binary_op) throws -> BinaryOp {
        switch op {
        case LIC_BINARY_ADD: .add
        case LIC_BINARY_SUBTRACT: .subtract
        case LIC_BINARY_MULTIPLY: .multiply
        case LIC_BINARY_DIVIDE: .divide
        case LIC_BINARY_POWER: .power
        case LIC_BINARY_MAXIMUM: .maximum
        case LIC_BINARY_MINIMUM: .minimum
        default: throw TensorError.invalidArgument("unknown binary op \(op.rawValue)")
        }
    }

    static func axes(_ pointer: UnsafePointer<Int32>?, _ count: UInt32) -> [Int]? {
        guard count > 0, let pointer else { return nil }
        return (0..<Int(count)).map { Int(pointer[$0]) }
    }

    nonisolated(unsafe) static let table: UnsafePointer<lic_tensor_ops> = {
        let table = UnsafeMutablePointer<lic_tensor_ops>.allocate(capacity: 1)
        table.initialize(to: lic_tensor_ops(
            struct_size: UInt32(MemoryLayout<lic_tensor_ops>.size),
            retain: { handle in if let handle { _ = Unmanaged<Tensor>.fromOpaque(UnsafeRawPointer(handle)).retain() } },
            release: { handle in if let handle { Unmanaged<Tensor>.fromOpaque(UnsafeRawPointer(handle)).release() } },
            create: { rank, dims, data, out, error in
                produce(out, error) {
                    let shape = try shape(rank, dims)
                    let result = try Tensor(zeros: shape)
                    if let data { result.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: data, count: $0.count) } }
                    return result
                }
            },
            view: { handle, view, sink in
                do {
                    guard let view else { throw TensorError.invalidArgument("view: NULL output") }
                    view.pointee = try tensor(handle).cView
                    return LIC_OK
                } catch {
                    return lic_error_set(sink, status(for: error), "\(error)")
                }
            },
            unary: { op, parameter, x, out, error in
                produce(out, error) {
                    let input = try tensor(x)
                    switch op {
                    case LIC_UNARY_ROUND_STE: return try input.roundedStraightThrough()
                    case LIC_UNARY_STOP_GRADIENT: return input.detached()
                    default: return try input.unary(unaryOp(op, parameter)!)
                    }
                }
            },
            binary: { op, a, b, out, error in
                produce(out, error) { try tensor(a).binary(binaryOp(op), tensor(b)) }
            },
            conv2d: { x, w, bias, params, out, error in
                produce(out, error) {
                    let p = try convParameters(params)
                    return try tensor(x).conv2d(tensor(w), bias: bias.map { try tensor($0) },
                                                               stride: p.stride, padding: p.padding, groups: p.groups, mask: p.mask)
                }
            },
            conv_transpose2d: { x, w, bias, params, out, error in
                produce(out, error) {
                    let p = try convParameters(params)
                    return try tensor(x).convTranspose2d(tensor(w), bias: bias.map { try tensor($0) },
                                                                        stride: p.stride, padding: p.padding,
                                                                        outputPadding: p.outputPadding, groups: p.groups)
                }
            },
            matmul: { a, b, out, error in produce(out, error) { try tensor(a).matmul(tensor(b)) } },
            clamp: { x, low, high, out, error in produce(out, error) { try tensor(x).clamped(min: low, max: high) } },
            lower_bound: { x, bound, out, error in produce(out, error) { try tensor(x).lowerBounded(bound) } },
            uniform_noise: { rank, dims, seed, offset, low, high, out, error in
                produce(out, error) { try Tensor.uniformNoise(shape: shape(rank, dims), seed: seed, offset: offset, low: low, high: high) }
            },
            sum: { x, axisList, axisCount, keep, out, error in
                produce(out, error) { try tensor(x).sum(axes: axes(axisList, axisCount), keepDimensions: keep != 0) }
            },
            mean: { x, axisList, axisCount, keep, out, error in
                produce(out, error) { try tensor(x).mean(axes: axes(axisList, axisCount), keepDimensions: keep != 0) }
            },
            concat: { list, count, axis, out, error in
                produce(out, error) {
                    guard let list, count > 0 else { throw TensorError.invalidArgument("concat: no tensors") }
                    return try Tensor.concatenate((0..<Int(count)).map { try tensor(list[$0]) }, axis: Int(axis))
                }
            },
            slice: { x, axis, start, length, out, error in
                produce(out, error) { try tensor(x).sliced(axis: Int(axis), start: Int(clamping: start), length: Int(clamping: length)) }
            },
            reshape: { x, rank, dims, out, error in produce(out, error) { try tensor(x).reshaped(shape(rank, dims)) } },
            permute: { x, permutation, out, error in
                produce(out, error) {
                    let input = try tensor(x)
                    guard let permutation else { throw TensorError.invalidArgument("permute: NULL permutation") }
                    return try input.permuted((0..<input.rank).map { Int(permutation[$0]) })
                }
            },
            pixel_shuffle: { x, factor, inverse, out, error in
                produce(out, error) {
                    let input = try tensor(x)
                    return inverse != 0 ? try input.pixelUnshuffled(Int(factor)) : try input.pixelShuffled(Int(factor))
                }
            },
            pad: { x, padding, value, out, error in
                produce(out, error) {
                    let input = try tensor(x)
                    guard let padding else { throw TensorError.invalidArgument("pad: NULL padding") }
                    let pairs = (0..<input.rank).map { (before: Int(clamping: padding[2 * $0]), after: Int(clamping: padding[2 * $0 + 1])) }
                    return try input.padded(pairs, value: value)
                }
            },
            gdn: { x, beta, gamma, inverse, out, error in
                produce(out, error) {
                    try tensor(x).gdn(beta: tensor(beta), gamma: tensor(gamma), inverse: inverse != 0)
                }
            },
            custom: { name, inputs, inputCount, outRank, outShape, forward, backward, userData, releaseUserData, out, error in
                produce(out, error) {
                    guard let forward, let backward, inputCount == 0 || inputs != nil else {
                        releaseUserData?(userData)  // the op never came to own it
                        throw TensorError.invalidArgument("custom op: forward, backward and the input list are required")
                    }
                    let tensors: [Tensor]
                    do {
                        tensors = try (0..<Int(inputCount)).map { try tensor(inputs![$0]) }
                    } catch {
                        releaseUserData?(userData)
                        throw error
                    }
                    let op = CustomOpBridge(name: name.map { String(cString: $0) } ?? "custom", forward: forward, backward: backward,
                                            userData: userData, releaseUserData: releaseUserData)
                    return try op.apply(tensors, outputShape: shape(outRank, outShape))
                }
            },
            parameter: { name, rank, dims, initializer, a, b, seed, values, group, out, error in
                produce(out, error) { try registerParameter(name, rank, dims, initializer, a, b, seed, values, group) }
            }))
        return UnsafePointer(table)
    }()
}

extension TensorOpsTable {
    static func registerParameter(_ name: UnsafePointer<CChar>?, _ rank: UInt32, _ dims: UnsafePointer<Int64>?,
                                  _ initializer: lic_initializer, _ a: Float, _ b: Float, _ seed: UInt64,
                                  _ values: UnsafePointer<Float>?, _ group: lic_parameter_group) throws -> Tensor {
        guard let scope = parameterScope else {
            throw TensorError.invalidArgument("parameter: only valid while the host creates a component")
        }
        guard let name else { throw TensorError.invalidArgument("parameter: NULL name") }
        guard !refusesParameters else {
            throw TensorError.invalidArgument("parameter '\(String(cString: name))': a pipeline embedded in a file cannot have weights")
        }
        let shape = try shape(rank, dims)
        let fullName = scope.prefix + "/" + String(cString: name)
        // Mix the full name into the seed: two stages with the same layer index
        // (and the plugin's same seed) must not start from identical weights.
        let seed = seed ^ fullName.utf8.reduce(UInt64(0xCBF2_9CE4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
        let parameterGroup: ParameterStore.Group
        switch group {
        case LIC_GROUP_MAIN: parameterGroup = .main
        case LIC_GROUP_AUXILIARY: parameterGroup = .auxiliary
        case LIC_GROUP_REGULARIZER: parameterGroup = .regularizer
        default: throw TensorError.invalidArgument("parameter: unknown group \(group.rawValue)")
        }
        // Only the groups Codec.load reads are overwritten by it.
        let skipsRandom = weightsFollow && (parameterGroup == .main || parameterGroup == .auxiliary)
        let initial: ParameterStore.Initializer
        switch initializer {
        case LIC_INIT_ZEROS: initial = .zeros
        case LIC_INIT_CONSTANT: initial = .constant(a)
        case LIC_INIT_UNIFORM: initial = skipsRandom ? .zeros : .uniform(low: a, high: b, seed: seed)
        case LIC_INIT_KAIMING_UNIFORM: initial = skipsRandom ? .zeros : .kaimingUniform(fanIn: Int(a), seed: seed)
        case LIC_INIT_VALUES:
            // Allocated (fallibly) as zeros, then filled from the plugin's values below.
            guard values != nil else { throw TensorError.invalidArgument("parameter: LIC_INIT_VALUES without values") }
            initial = .zeros
        default: throw TensorError.invalidArgument("parameter: unknown initializer \(initializer.rawValue)")
        }
        let tensor = try scope.store.register(fullName, shape: shape, initializer: initial, group: parameterGroup)
        if let values, initializer == LIC_INIT_VALUES {
            tensor.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: values, count: $0.count) }
        }
        return tensor
    }
}

extension Tensor {
    /// A lic_tensor_view of the tensor's (contiguous) storage.
    var cView: lic_tensor_view {
        var view = lic_tensor_view()
        view.struct_size = UInt32(MemoryLayout<lic_tensor_view>.size)
        view.rank = UInt32(rank)
        withUnsafeMutableBytes(of: &view.shape) { raw in
            let dims = raw.bindMemory(to: Int64.self)
            for (axis, size) in shape.enumerated() { dims[axis] = Int64(size) }
        }
        withUnsafeMutableBytes(of: &view.strides) { raw in
            let strides = raw.bindMemory(to: Int64.self)
            var stride = 1
            for axis in shape.indices.reversed() {
                strides[axis] = Int64(stride)
                stride *= shape[axis]
            }
        }
        view.data = withUnsafeBufferPointer { UnsafeMutablePointer(mutating: $0.baseAddress) }
        return view
    }
}
