import CLIC

/// A host tensor as a Swift plugin sees it: a reference to an opaque
/// lic_tensor that the host computes with (and differentiates through).
/// Ops throw on shape errors; the code reads like the math:
///
///     let y = try x.conv2d(weight, bias: bias, stride: 2, padding: 2).gdn(beta: beta, gamma: gamma)
public final class Tensor: @unchecked Sendable {
    let handle: OpaquePointer
    let ops: UnsafePointer<lic_tensor_ops>

    /// Takes over one reference.
    init(owning handle: OpaquePointer, ops: UnsafePointer<lic_tensor_ops>) {
        self.handle = handle
        self.ops = ops
    }

    deinit { ops.pointee.release(handle) }

    static func make(_ ops: UnsafePointer<lic_tensor_ops>,
                     _ body: (UnsafeMutablePointer<OpaquePointer?>, UnsafeMutablePointer<lic_error>) -> lic_status) throws -> Tensor {
        var out: OpaquePointer?
        try callHost { body(&out, $0) }
        guard let out else { throw PluginError(.internalError, "a tensor op returned no tensor") }
        return Tensor(owning: out, ops: ops)
    }

    private func make(_ body: (UnsafeMutablePointer<OpaquePointer?>, UnsafeMutablePointer<lic_error>) -> lic_status) throws -> Tensor {
        try Tensor.make(ops, body)
    }

    /// The raw CPU view, valid while this object lives.
    public func view() throws -> TensorView {
        var view = lic_tensor_view()
        try callHost { ops.pointee.view(handle, &view, $0) }
        return try withUnsafePointer(to: &view) { try TensorView($0) }
    }

    public var shape: [Int] { get throws { try view().shape } }

    /// A copy of the elements (row-major).
    public func floats() throws -> [Float] {
        let view = try view()
        return Array(try view.contiguousBuffer())
    }

    // MARK: Creation (through a Host)

    public static func zeros(_ shape: [Int], host: Host) throws -> Tensor {
        let ops = try host.tensorOps()
        let dims = shape.map(Int64.init)
        return try make(ops) { out, error in ops.pointee.create(UInt32(dims.count), dims, nil, out, error) }
    }

    public static func values(_ values: [Float], shape: [Int], host: Host) throws -> Tensor {
        let ops = try host.tensorOps()
        guard values.count == shape.reduce(1, *) else { throw PluginError(.invalidArgument, "\(values.count) values for shape \(shape)") }
        let dims = shape.map(Int64.init)
        return try make(ops) { out, error in ops.pointee.create(UInt32(dims.count), dims, values, out, error) }
    }

    public static func uniformNoise(_ shape: [Int], seed: UInt64, offset: UInt64 = 0, low: Float = -0.5, high: Float = 0.5,
                                    host: Host) throws -> Tensor {
        let ops = try host.tensorOps()
        let dims = shape.map(Int64.init)
        return try make(ops) { out, error in ops.pointee.uniform_noise(UInt32(dims.count), dims, seed, offset, low, high, out, error) }
    }

    // MARK: Elementwise

    public func unary(_ op: lic_unary_op, parameter: Float = 0) throws -> Tensor {
        try make { out, error in ops.pointee.unary(op, parameter, handle, out, error) }
    }

    public func binary(_ op: lic_binary_op, _ other: Tensor) throws -> Tensor {
        try make { out, error in ops.pointee.binary(op, handle, other.handle, out, error) }
    }

    public func scalar(_ value: Float) throws -> Tensor {
        let ops = self.ops
        return try Tensor.make(ops) { out, error in ops.pointee.create(1, [1], [value], out, error) }
    }

    public static func + (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(LIC_BINARY_ADD, b) }
    public static func - (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(LIC_BINARY_SUBTRACT, b) }
    public static func * (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(LIC_BINARY_MULTIPLY, b) }
    public static func / (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(LIC_BINARY_DIVIDE, b) }
    public static func + (a: Tensor, b: Float) throws -> Tensor { try a.binary(LIC_BINARY_ADD, a.scalar(b)) }
    public static func - (a: Tensor, b: Float) throws -> Tensor { try a.binary(LIC_BINARY_SUBTRACT, a.scalar(b)) }
    public static func * (a: Tensor, b: Float) throws -> Tensor { try a.binary(LIC_BINARY_MULTIPLY, a.scalar(b)) }
    public static func / (a: Tensor, b: Float) throws -> Tensor { try a.binary(LIC_BINARY_DIVIDE, a.scalar(b)) }

    public func abs() throws -> Tensor { try unary(LIC_UNARY_ABS) }
    public func exp() throws -> Tensor { try unary(LIC_UNARY_EXP) }
    public func log() throws -> Tensor { try unary(LIC_UNARY_LOG) }
    public func sqrt() throws -> Tensor { try unary(LIC_UNARY_SQRT) }
    public func squared() throws -> Tensor { try unary(LIC_UNARY_SQUARE) }
    public func tanh() throws -> Tensor { try unary(LIC_UNARY_TANH) }
    public func sigmoid() throws -> Tensor { try unary(LIC_UNARY_SIGMOID) }
    public func relu() throws -> Tensor { try unary(LIC_UNARY_RELU) }
    public func leakyRelu(slope: Float = 0.01) throws -> Tensor { try unary(LIC_UNARY_LEAKY_RELU, parameter: slope) }
    public func softplus() throws -> Tensor { try unary(LIC_UNARY_SOFTPLUS) }
    public func gaussianCDF() throws -> Tensor { try unary(LIC_UNARY_GAUSSIAN_CDF) }
    public func roundedStraightThrough() throws -> Tensor { try unary(LIC_UNARY_ROUND_STE) }
    public func detached() throws -> Tensor { try unary(LIC_UNARY_STOP_GRADIENT) }

    public func clamped(min: Float, max: Float) throws -> Tensor {
        try make { out, error in ops.pointee.clamp(handle, min, max, out, error) }
    }

    public func lowerBounded(_ bound: Float) throws -> Tensor {
        try make { out, error in ops.pointee.lower_bound(handle, bound, out, error) }
    }

    // MARK: Linear algebra

    public func conv2d(_ weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0, groups: Int = 1,
                       mask: Tensor? = nil) throws -> Tensor {
        var params = Tensor.convParams(stride: stride, padding: padding, groups: groups, outputPadding: 0, mask: mask)
        return try make { out, error in ops.pointee.conv2d(handle, weight.handle, bias?.handle, &params, out, error) }
    }

    public func convTranspose2d(_ weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0,
                                outputPadding: Int = 0, groups: Int = 1) throws -> Tensor {
        var params = Tensor.convParams(stride: stride, padding: padding, groups: groups, outputPadding: outputPadding, mask: nil)
        return try make { out, error in ops.pointee.conv_transpose2d(handle, weight.handle, bias?.handle, &params, out, error) }
    }

    static func convParams(stride: Int, padding: Int, groups: Int, outputPadding: Int, mask: Tensor?) -> lic_conv_params {
        let p = UInt32(padding)
        return lic_conv_params(struct_size: UInt32(MemoryLayout<lic_conv_params>.size), stride: UInt32(stride),
                               pad_top: p, pad_left: p, pad_bottom: p, pad_right: p, groups: UInt32(groups),
                               output_padding: UInt32(outputPadding), mask: mask?.handle)
    }

    public func matmul(_ other: Tensor) throws -> Tensor {
        try make { out, error in ops.pointee.matmul(handle, other.handle, out, error) }
    }

    public func gdn(beta: Tensor, gamma: Tensor, inverse: Bool = false) throws -> Tensor {
        try make { out, error in ops.pointee.gdn(handle, beta.handle, gamma.handle, inverse ? 1 : 0, out, error) }
    }

    // MARK: Reductions and shapes

    public func sum(axes: [Int] = [], keepDimensions: Bool = true) throws -> Tensor {
        let list = axes.map(Int32.init)
        return try make { out, error in ops.pointee.sum(handle, list, UInt32(list.count), keepDimensions ? 1 : 0, out, error) }
    }

    public func mean(axes: [Int] = [], keepDimensions: Bool = true) throws -> Tensor {
        let list = axes.map(Int32.init)
        return try make { out, error in ops.pointee.mean(handle, list, UInt32(list.count), keepDimensions ? 1 : 0, out, error) }
    }

    public static func concatenate(_ tensors: [Tensor], axis: Int) throws -> Tensor {
        guard let first = tensors.first else { throw PluginError(.invalidArgument, "concatenate: no tensors") }
        let handles: [OpaquePointer?] = tensors.map { $0.handle }
        return try make(first.ops) { out, error in
            handles.withUnsafeBufferPointer { first.ops.pointee.concat($0.baseAddress, UInt32($0.count), Int32(axis), out, error) }
        }
    }

    public func sliced(axis: Int, start: Int, length: Int) throws -> Tensor {
        try make { out, error in ops.pointee.slice(handle, Int32(axis), Int64(start), Int64(length), out, error) }
    }

    public func reshaped(_ shape: [Int]) throws -> Tensor {
        let dims = shape.map(Int64.init)
        return try make { out, error in ops.pointee.reshape(handle, UInt32(dims.count), dims, out, error) }
    }

    public func permuted(_ permutation: [Int]) throws -> Tensor {
        let list = permutation.map(UInt32.init)
        return try make { out, error in ops.pointee.permute(handle, list, out, error) }
    }

    public func pixelShuffled(_ factor: Int) throws -> Tensor {
        try make { out, error in ops.pointee.pixel_shuffle(handle, UInt32(factor), 0, out, error) }
    }

    public func pixelUnshuffled(_ factor: Int) throws -> Tensor {
        try make { out, error in ops.pointee.pixel_shuffle(handle, UInt32(factor), 1, out, error) }
    }

    /// (before, after) per axis; negative values crop.
    public func padded(_ padding: [(Int, Int)], value: Float = 0) throws -> Tensor {
        let flat = padding.flatMap { [Int64($0.0), Int64($0.1)] }
        return try make { out, error in ops.pointee.pad(handle, flat, value, out, error) }
    }
}

extension Host {
    /// The op table; throws on a host older than ABI 1.1.
    func tensorOps() throws -> UnsafePointer<lic_tensor_ops> {
        guard services.pointee.abi_version & 0xFFFF >= 1, let ops = services.pointee.tensor_ops else {
            throw PluginError(.unsupported, "the host has no tensor op table (ABI 1.1 needed)")
        }
        return ops
    }

    /// Registers a parameter of the component being created ("<stage>/<name>").
    public func parameter(_ name: String, shape: [Int], initializer: lic_initializer = LIC_INIT_ZEROS, a: Float = 0, b: Float = 0,
                          seed: UInt64 = 0, values: [Float]? = nil, group: lic_parameter_group = LIC_GROUP_MAIN) throws -> Tensor {
        let ops = try tensorOps()
        let dims = shape.map(Int64.init)
        return try Tensor.make(ops) { out, error in
            ops.pointee.parameter(name, UInt32(dims.count), dims, initializer, a, b, seed, values, group, out, error)
        }
    }
}
