import CDNNL
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A dense float32 tensor in logical NCHW order (row-major, contiguous).
///
/// Tensors are immutable values from the autodiff's point of view: ops make
/// new tensors; only parameters are updated in place, by optimizers, outside
/// recording. A tensor made by a recorded op remembers its `node`, which the
/// backward pass walks.
public final class Tensor: @unchecked Sendable, CustomStringConvertible {
    public let shape: [Int]
    let storage: TensorStorage
    /// True for parameters and for anything computed from them while recording.
    public internal(set) var requiresGrad: Bool
    /// Accumulated gradient (leaves only), same shape; nil until a backward pass reaches it.
    public internal(set) var grad: Tensor?
    /// How this tensor was computed; nil for leaves and for unrecorded results.
    var node: TapeNode?

    public var count: Int { storage.count }
    public var rank: Int { shape.count }

    init(shape: [Int], storage: TensorStorage, requiresGrad: Bool = false) {
        self.shape = shape
        self.storage = storage
        self.requiresGrad = requiresGrad
    }

    /// A zero-filled tensor.
    public convenience init(zeros shape: [Int]) throws {
        self.init(shape: shape, storage: try TensorStorage(count: Tensor.elementCount(shape)))
    }

    /// A tensor holding `values` (count must match the shape).
    public convenience init(shape: [Int], values: [Float], requiresGrad: Bool = false) throws {
        let count = try Tensor.elementCount(shape)
        guard values.count == count else {
            throw TensorError.shape("\(values.count) values for shape \(shape) (\(count) elements)")
        }
        let storage = try TensorStorage(count: count)
        values.withUnsafeBufferPointer { storage.pointer.update(from: $0.baseAddress!, count: count) }
        self.init(shape: shape, storage: storage, requiresGrad: requiresGrad)
    }

    public convenience init(scalar: Float) {
        try! self.init(shape: [1], values: [scalar])  // a one-element shape cannot fail
    }

    /// A tensor with the same data, marked as a leaf that needs gradients.
    public func asParameter() -> Tensor {
        Tensor(shape: shape, storage: storage, requiresGrad: true)
    }

    public var values: [Float] { Array(UnsafeBufferPointer(start: storage.pointer, count: count)) }

    /// The single value of a one-element tensor.
    public var scalarValue: Float {
        get throws {
            guard count == 1 else { throw TensorError.shape("scalarValue of a tensor with shape \(shape)") }
            return storage.pointer[0]
        }
    }

    /// Read-only access to the elements.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer, count: count))
    }

    /// In-place access: for optimizers and initializers, never while a tape needs the old values.
    public func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeMutableBufferPointer(start: storage.pointer, count: count))
    }

    public func zeroGrad() { grad = nil }

    public var description: String { "Tensor(\(shape)\(requiresGrad ? ", grad" : ""))" }

    /// The number of elements of `shape`, checked for negative sizes and overflow.
    static func elementCount(_ shape: [Int]) throws -> Int {
        guard !shape.isEmpty, shape.count <= 8 else { throw TensorError.shape("rank \(shape.count) is outside 1...8") }
        var count = 1
        for size in shape {
            guard size >= 0 else { throw TensorError.shape("negative size in \(shape)") }
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow, product <= TensorStorage.maxElements else { throw TensorError.shape("shape \(shape) is too large") }
            count = product
        }
        return count
    }
}

/// Process-wide memory policy of the tensor engine.
public enum TensorMemory {
    private static let limit = Atomic<Int>(TensorStorage.maxElements * MemoryLayout<Float>.stride)

    /// The largest single tensor allocation, in bytes (default 16 GiB, the
    /// element limit). A larger request fails with `outOfMemory` before the
    /// system is asked: a service can lower it so that one oversized request
    /// (from a plugin, or a hostile file's geometry) fails early instead of
    /// overcommitting memory it will later fault in.
    public static var maxAllocationBytes: Int {
        get { limit.load(ordering: .relaxed) }
        set { limit.store(newValue, ordering: .relaxed) }
    }
}

/// 64-byte aligned float memory, shared by tensors that are views of the same data.
final class TensorStorage: @unchecked Sendable {
    /// 2^32 elements (16 GiB) at most per tensor.
    static let maxElements = 1 << 32

    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int) throws {
        pointer = try Self.allocate(count)
        self.count = count
        pointer.initialize(repeating: 0, count: count)
    }

    /// Memory whose contents the caller overwrites completely (skips zeroing).
    init(uninitializedCount count: Int) throws {
        pointer = try Self.allocate(count)
        self.count = count
    }

    deinit {
        let bytes = Self.byteCount(count)
        if bytes >= PageBlocks.minimumBytes {
            PageBlocks.shared.free(UnsafeMutableRawPointer(pointer))
        } else {
            free(pointer)
        }
    }

    private static func byteCount(_ count: Int) -> Int { max(count, 1) * MemoryLayout<Float>.stride }

    /// Room for `count` floats, 64-byte aligned (oneDNN's preference): large
    /// blocks from `PageBlocks` (reused, never fragmenting the heap), small
    /// ones from malloc. A refusal throws `outOfMemory` instead of aborting
    /// the process, as `UnsafeMutableRawPointer.allocate` would: a plugin
    /// asking for a huge tensor gets an error status back.
    private static func allocate(_ count: Int) throws -> UnsafeMutablePointer<Float> {
        guard count >= 0, count <= Self.maxElements else { throw TensorError.shape("cannot allocate \(count) elements") }
        // At most 2^32 * 4 bytes: no overflow.
        let bytes = byteCount(count)
        guard bytes <= TensorMemory.maxAllocationBytes else {
            throw TensorError.outOfMemory("cannot allocate \(count) elements (\(bytes) bytes)")
        }
        var raw: UnsafeMutableRawPointer?
        if bytes >= PageBlocks.minimumBytes {
            raw = PageBlocks.shared.allocate(bytes)
        } else if posix_memalign(&raw, 64, bytes) != 0 {
            raw = nil
        }
        guard let raw else { throw TensorError.outOfMemory("cannot allocate \(count) elements (\(bytes) bytes)") }
        return raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }
}
