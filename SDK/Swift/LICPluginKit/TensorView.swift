import CLIC

/// A borrowed float32 NCHW tensor handed to a component by the host; valid
/// only during the call that received it.
public struct TensorView {
    public let shape: [Int]
    public let strides: [Int]
    public let data: UnsafeMutablePointer<Float>

    init(_ view: UnsafePointer<lic_tensor_view>?) throws {
        guard let view, let data = view.pointee.data else {
            throw PluginError(.invalidArgument, "missing tensor")
        }
        let rank = Int(view.pointee.rank)
        guard rank >= 1, rank <= Int(LIC_MAX_RANK) else {
            throw PluginError(.invalidArgument, "tensor rank \(rank) is outside 1...\(LIC_MAX_RANK)")
        }
        var shape: [Int] = []
        var strides: [Int] = []
        withUnsafeBytes(of: view.pointee.shape) { raw in
            shape = raw.bindMemory(to: Int64.self).prefix(rank).map { Int($0) }
        }
        withUnsafeBytes(of: view.pointee.strides) { raw in
            strides = raw.bindMemory(to: Int64.self).prefix(rank).map { Int($0) }
        }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw PluginError(.invalidArgument, "negative tensor size in \(shape)") }
        self.shape = shape
        self.strides = strides
        self.data = data
    }

    public var count: Int { shape.reduce(1, *) }

    /// True when the elements are laid out densely in row-major (NCHW) order.
    public var isContiguous: Bool {
        var expected = 1
        for axis in shape.indices.reversed() {
            if shape[axis] != 1 && strides[axis] != expected { return false }
            expected *= shape[axis]
        }
        return true
    }

    /// The elements as one dense buffer; throws for a strided view.
    public func contiguousBuffer() throws -> UnsafeMutableBufferPointer<Float> {
        guard isContiguous else { throw PluginError(.unsupported, "this component needs a contiguous tensor") }
        return UnsafeMutableBufferPointer(start: data, count: count)
    }
}
