import Foundation
import Synchronization

/// Exact mode: convolutions, transposed convolutions and matrix products
/// computed by the engine's own fixed-order kernels instead of oneDNN, so the
/// results are the same bits on every machine.
///
/// Why: oneDNN picks its kernels per instruction set (SSE4.1, AVX2, AVX-512,
/// ARM) and thread count, and their sums run in different orders, so outputs
/// differ in the last bits between machines. That is harmless for the
/// analysis and synthesis transforms, but the decoder must compute the
/// entropy model's tables, scales and contexts exactly as the encoder did, or
/// it selects another CDF and the stream desynchronizes (CompressAI issue
/// #279). The host runs entropy models and the stages that feed their
/// parameters in exact mode while encoding and decoding.
///
/// Why the exact kernels give the same bits everywhere: every output element
/// is the bias followed by its products added one at a time, in an order
/// fixed by the source (input channel, then kernel row, then kernel column) -
/// never split across threads or SIMD lanes (lanes run over output channels,
/// each lane its own sum). Each step is an IEEE-754 binary32 multiply or add,
/// correctly rounded on every conforming machine; Swift neither reassociates
/// nor contracts a multiply and an add into a fused one (LLVM emits no
/// `contract` or fast-math flags for Swift's `*` and `+`). The elementwise,
/// reduction and transcendental kernels of this engine are exact already:
/// they use only +, -, *, / and sqrt (FastMath), and reductions combine fixed
/// blocks in a fixed order for any thread count. Denormal flushing is off by
/// default on x86-64 and AArch64 Linux; a process that turns on FTZ/DAZ
/// gives up this guarantee.
public enum ExactArithmetic {
    @TaskLocal private static var enabled = false
    /// Weights packed for the exact kernels during one exact-mode scope.
    @TaskLocal static var packedWeights: PackedWeights?

    /// Whether the current task (or thread) computes in exact mode.
    public static var isEnabled: Bool { enabled }

    /// Runs `body` in exact mode (or out of it, with `exact: false`) on the current task or thread.
    /// Entering exact mode opens a cache of packed weights for the scope: an
    /// entropy model's call cannot change its own weights, so a layer applied
    /// again and again (a context model's per-wave layers) is packed once.
    public static func with<R>(_ exact: Bool = true, _ body: () throws -> R) rethrows -> R {
        if enabled == exact { return try body() }
        guard exact else { return try $enabled.withValue(false) { try body() } }
        return try $enabled.withValue(true) { try $packedWeights.withValue(PackedWeights()) { try body() } }
    }

    /// Packed weights by the address, size and layout of the weights they
    /// came from. A hit is used only if the weights still hold the values
    /// they were packed from (a temporary tensor may reuse a freed one's
    /// address): comparing is a sequential read, packing a strided one.
    final class PackedWeights: @unchecked Sendable {
        struct Key: Hashable { var address: UInt, count: Int, layout: [Int] }
        private var entries: [Key: (source: [Float], packed: TensorStorage)] = [:]
        private let lock = Mutex<Void>(())

        func packed(_ key: Key, weights: UnsafePointer<Float>, make: () throws -> TensorStorage) rethrows -> TensorStorage {
            let current = UnsafeBufferPointer(start: weights, count: key.count)
            // memcmp, not elementsEqual: Swift's byte-by-byte loop here was a third of an autoregressive decode.
            if let found = lock.withLock({ _ in entries[key] }),
               found.source.withUnsafeBytes({ key.count == 0 || memcmp($0.baseAddress!, weights, key.count * MemoryLayout<Float>.size) == 0 }) {
                return found.packed
            }
            let made = try make()
            lock.withLock { _ in entries[key] = (Array(current), made) }
            return made
        }
    }
}
