import Dispatch

/// Splits loops over `0..<count` into fixed chunks and runs them on up to
/// `Threads.count` threads.
///
/// Chunk boundaries depend only on `count` and `chunk`, never on the thread
/// count, so a kernel that computes each chunk on its own (and combines
/// per-chunk results in chunk order) gives bit-identical results for any
/// number of threads.
enum Parallel {
    /// Calls `body` once for each chunk `k * chunk ..< min((k + 1) * chunk, count)`.
    ///
    /// Chunks run concurrently when there are several chunks and more than one
    /// thread; `body` must only write memory that belongs to its own chunk. With
    /// one chunk (or one thread) everything runs on the calling thread, in order.
    static func forEachChunk(count: Int, chunk: Int = 32768, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunk = max(1, chunk)
        let chunks = count / chunk + (count % chunk == 0 ? 0 : 1)
        let workers = min(Threads.count, chunks)
        if workers <= 1 {
            var start = 0
            while start < count {
                let end = count - start > chunk ? start + chunk : count
                body(start ..< end)
                start = end
            }
            return
        }
        // Static interleaved assignment: worker w takes chunks w, w + workers, ...
        // (which worker runs a chunk never changes what the chunk computes).
        // concurrentPerform wants a @Sendable closure; `body` is only called
        // while this function runs, and on disjoint chunks.
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                var k = worker
                while k < chunks {
                    let start = k * chunk
                    let end = count - start > chunk ? start + chunk : count
                    shared.value(start ..< end)
                    k += workers
                }
            }
        }
    }

    /// A chunk size (in items) that gives each chunk about `work` units of
    /// work when one item costs `itemCost` units; at least 1.
    @inline(__always)
    static func chunk(itemCost: Int, work: Int = 32768) -> Int {
        max(1, work / max(1, itemCost))
    }
}

/// Hands a value to concurrently running code whose safety the caller ensures.
private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
