import CDNNL
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The number of threads the tensor engine computes with.
///
/// Default: every core this process may run on (OpenMP's `omp_get_num_procs`,
/// which honours the CPU affinity mask), or the positive integer in the
/// environment variable `LIC_THREADS`. `OMP_NUM_THREADS` is not consulted.
///
/// Debian's oneDNN is threaded with OpenMP (libgomp), whose thread count is a
/// per-thread setting: `set` applies it to the calling thread at once, and
/// every oneDNN call applies it to its own calling thread first
/// (`applyToCurrentThread`), so a count set on one thread holds for work
/// started on any other. oneDNN splits work when it creates a primitive, so
/// the primitive cache is keyed by the thread count too.
public enum Threads {
    private static let storage = Atomic<Int>(defaultCount())

    /// A scoped count for the current task (see `withCount`).
    @TaskLocal private static var scopedCount: Int?

    /// The current thread count (at least 1).
    public static var count: Int { scopedCount ?? storage.load(ordering: .relaxed) }

    /// Runs `body` with `n` threads for the current task only, leaving the
    /// process-wide count (and concurrent work) alone.
    public static func withCount<R>(_ n: Int, _ body: () throws -> R) rethrows -> R {
        try $scopedCount.withValue(max(1, min(n, Int(Int32.max)))) { try body() }
    }

    /// Sets the thread count (values below 1 count as 1).
    public static func set(_ n: Int) {
        let value = max(1, min(n, Int(Int32.max)))
        storage.store(value, ordering: .relaxed)
        omp_set_num_threads(Int32(value))
    }

    /// The count used when nothing was set: `LIC_THREADS` if it holds a
    /// positive integer, else the cores available to this process.
    static func defaultCount() -> Int {
        if let raw = getenv("LIC_THREADS"), let value = Int(String(cString: raw).filter { !$0.isWhitespace }), value > 0 {
            return min(value, Int(Int32.max))
        }
        return max(1, Int(omp_get_num_procs()))
    }

    /// Makes OpenMP on the calling thread use `count` threads; returns the count.
    @discardableResult
    static func applyToCurrentThread() -> Int {
        let n = count
        if Int(omp_get_max_threads()) != n { omp_set_num_threads(Int32(n)) }
        return n
    }
}
