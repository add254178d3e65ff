import CDNNL

/// Splits loops over `0..<count` into fixed chunks and runs them on up to
/// `Threads.count` threads.
///
/// Chunk boundaries depend only on `count` and `chunk`, never on the thread
/// count, so a kernel that computes each chunk on its own (and combines
/// per-chunk results in chunk order) gives bit-identical results for any
/// number of threads.
public enum Parallel {
    /// Calls `body(k)` for k in 0..<count, spread over the engine's threads
    /// (each k once; `body` writes only what belongs to k). For coarse work
    /// outside the tensor kernels, such as a stream's segments.
    public static func forEach(count: Int, _ body: (Int) -> Void) {
        forEachChunk(count: count, chunk: 1) { range in for k in range { body(k) } }
    }

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
        // The workers are OpenMP's (the pool oneDNN runs on): a second pool
        // would fight oneDNN's spin-waiting threads for the same cores.
        withoutActuallyEscaping(body) { body in
            var job = ChunkJob(body: body, count: count, chunk: chunk, chunks: chunks)
            withUnsafeMutablePointer(to: &job) { pointer in
                GOMP_parallel({ raw in
                    let job = raw!.assumingMemoryBound(to: ChunkJob.self).pointee
                    let workers = Int(omp_get_num_threads())
                    var k = Int(omp_get_thread_num())
                    while k < job.chunks {
                        let start = k * job.chunk
                        let end = job.count - start > job.chunk ? start + job.chunk : job.count
                        job.body(start ..< end)
                        k += workers
                    }
                }, pointer, UInt32(workers), 0)
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

/// One parallel loop, handed to the OpenMP workers through a raw pointer.
private struct ChunkJob {
    let body: (Range<Int>) -> Void
    let count: Int
    let chunk: Int
    let chunks: Int
}
