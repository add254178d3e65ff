import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Large buffers (tensor storage, oneDNN scratch and blocked-layout copies)
/// straight from the system in whole pages, with a cache of freed blocks.
///
/// Why not malloc: activations are tens of MB and come and go in sizes that
/// differ by layer, tile and batch. Kept in malloc's heap they fragment it
/// (a 4K image's encode held twice its peak live bytes); served by malloc's
/// own mmap they fault in fresh pages on every call (training spent a third
/// of its time in the kernel). Here a freed block waits in a cache and the
/// next request it fits takes it back (the smallest cached block that fits:
/// training steps repeat their sizes exactly, and an image's edge tiles, which
/// are smaller than its inner ones, reuse theirs). On a miss, cached
/// blocks of at least the requested size are unmapped first (least recently
/// freed first), so live plus cached bytes never exceed the most ever live
/// at once: the cache costs no peak memory.
public final class PageBlocks: Sendable {
    /// The process-wide cache the tensor engine allocates from.
    public static let shared = PageBlocks()

    /// Requests below this go to malloc (64-byte aligned), in the tensor engine.
    static let minimumBytes = 256 << 10

    /// A cached block; the address as an integer keeps the state Sendable.
    private struct Cached {
        let address: UInt
        let bytes: Int
        let freedAt: UInt64
    }

    private struct State {
        /// Size of every block handed out, by address.
        var lent: [UInt: Int] = [:]
        var cached: [Cached] = []
        var cachedBytes = 0
        var clock: UInt64 = 0
        /// Bytes lent now, and the most since `resetPeak`.
        var lentNow = 0
        var peakLent = 0

        mutating func lend(_ address: UInt, _ bytes: Int) {
            lent[address] = bytes
            lentNow += bytes
            peakLent = max(peakLent, lentNow)
        }
    }

    private let state = Mutex(State())
    private static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    init() {}

    /// Page-rounded size of a block for `bytes`.
    static func blockBytes(_ bytes: Int) -> Int { (bytes + pageSize - 1) / pageSize * pageSize }

    /// A page-aligned block of at least `bytes` bytes (contents undefined), or
    /// nil when the system refuses.
    func allocate(_ bytes: Int) -> UnsafeMutableRawPointer? {
        let size = Self.blockBytes(bytes)
        let (reused, release) = state.withLock { state -> (UInt?, [Cached]) in
            let fits = state.cached.indices.filter { state.cached[$0].bytes >= size }
            if let index = fits.min(by: { state.cached[$0].bytes < state.cached[$1].bytes }) {
                let block = state.cached.remove(at: index)
                state.cachedBytes -= block.bytes
                state.lend(block.address, block.bytes)
                return (block.address, [])
            }
            // A miss: give back at least as much as is about to be mapped.
            var release: [Cached] = []
            var freed = 0
            state.cached.sort { $0.freedAt < $1.freedAt }
            while freed < size, !state.cached.isEmpty {
                let block = state.cached.removeFirst()
                freed += block.bytes
                release.append(block)
            }
            state.cachedBytes -= freed
            return (nil, release)
        }
        if let reused { return UnsafeMutableRawPointer(bitPattern: reused) }
        for block in release { unmap(block) }
        let mapped = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let mapped, mapped != UnsafeMutableRawPointer(bitPattern: -1) else { return nil }  // MAP_FAILED
        // No madvise(MADV_HUGEPAGE): measured here (THP "madvise", defrag "madvise"), it cut the median kodim01
        // decode from 0.70 to 0.53 s but 2 of 6 runs then spent 0.5-0.75 s in the kernel (1.0 s decodes), and the
        // mean did not move; steady times were preferred. Systems with THP "always" get huge pages anyway.
        state.withLock { $0.lend(UInt(bitPattern: mapped), size) }
        return mapped
    }

    /// Returns a block from `allocate` to the cache.
    func free(_ pointer: UnsafeMutableRawPointer) {
        state.withLock { state in
            guard let size = state.lent.removeValue(forKey: UInt(bitPattern: pointer)) else {
                preconditionFailure("PageBlocks.free: \(pointer) was not allocated here")
            }
            state.lentNow -= size
            state.clock += 1
            state.cached.append(Cached(address: UInt(bitPattern: pointer), bytes: size, freedAt: state.clock))
            state.cachedBytes += size
        }
    }

    /// Bytes of the blocks lent out now, and mapped now (lent and cached).
    public var lentBytes: Int { state.withLock { $0.lentNow } }
    var mappedBytes: Int { state.withLock { $0.lentNow + $0.cachedBytes } }

    /// The most bytes lent at once since the last `resetPeak` (or since the start).
    public var peakLentBytes: Int { state.withLock { $0.peakLent } }

    /// Starts a new peak measurement from what is lent now.
    public func resetPeak() { state.withLock { $0.peakLent = $0.lentNow } }

    /// Unmaps every cached block (tests; a service between jobs).
    func releaseCached() {
        let blocks = state.withLock { state -> [Cached] in
            defer { state.cached = []; state.cachedBytes = 0 }
            return state.cached
        }
        for block in blocks { unmap(block) }
    }

    private func unmap(_ block: Cached) {
        munmap(UnsafeMutableRawPointer(bitPattern: block.address), block.bytes)
    }

    /// Blocks and bytes waiting in the cache.
    var cached: (count: Int, bytes: Int) { state.withLock { ($0.cached.count, $0.cachedBytes) } }
}
