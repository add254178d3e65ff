import CLIC
import Foundation

/// A dense float32 NCHW tensor in host memory (64-byte aligned), the
/// currency between pipeline stages in ABI 1.
final class HostTensor {
    /// 2^28 elements (1 GiB): 4 channels of the largest image (Image.maxPixels);
    /// the most any stage may ask for.
    static let maxElements = 1 << 28

    let shape: [Int]
    let storage: UnsafeMutableBufferPointer<Float>

    init(shape: [Int]) throws {
        guard !shape.isEmpty, shape.count <= Int(LIC_MAX_RANK), shape.allSatisfy({ $0 >= 0 }) else {
            throw LICError("invalid tensor shape \(shape)")
        }
        var count = 1
        for size in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow, product <= Self.maxElements else { throw LICError("tensor shape \(shape) is too large") }
            count = product
        }
        self.shape = shape
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, 64, max(count, 1) * 4) == 0, let raw else {
            throw LICError("out of memory: cannot allocate a tensor of shape \(shape) (\(count * 4) bytes)")
        }
        storage = UnsafeMutableBufferPointer(start: raw.bindMemory(to: Float.self, capacity: max(count, 1)), count: count)
        storage.initialize(repeating: 0)
    }

    deinit { free(storage.baseAddress!) }

    /// A borrowed lic_tensor_view of the whole tensor (row-major strides).
    var view: lic_tensor_view {
        var view = lic_tensor_view()
        view.struct_size = UInt32(MemoryLayout<lic_tensor_view>.size)
        view.rank = UInt32(shape.count)
        view.data = storage.baseAddress
        var stride = 1
        withUnsafeMutableBytes(of: &view.shape) { shapes in
            let sizes = shapes.bindMemory(to: Int64.self)
            for (axis, size) in shape.enumerated() { sizes[axis] = Int64(size) }
        }
        withUnsafeMutableBytes(of: &view.strides) { strides in
            let values = strides.bindMemory(to: Int64.self)
            for axis in shape.indices.reversed() {
                values[axis] = Int64(stride)
                stride *= shape[axis]
            }
        }
        return view
    }
}
