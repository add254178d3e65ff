import Foundation
import Testing
@testable import LICTensor

/// Plans are cached process-wide and run on whatever thread asks next (Swift
/// concurrency moves work between threads freely). oneDNN's library-managed
/// scratchpad is a per-thread buffer sized when a primitive is created, so a
/// plan created on one thread and run on another read or wrote scratch memory
/// the running thread does not have (NULL on a thread that never created a
/// primitive: a SIGSEGV inside libdnnl, which `plansRunOnThreadsOtherThanTheirCreator`
/// hit on every run; or a buffer sized for other primitives). Primitives now
/// have user-managed scratchpads, lent to each plan run by `DNNLScratchpads`.
@Suite struct PlanThreadTests {
    /// Geometries whose primitives need a scratchpad: the gemm convolution
    /// (im2col buffer; oneDNN picks it for tiny spatial sizes, as in the
    /// CompressAI fixtures' hyperprior), padded bias (24 channels in blocks of
    /// 16), and the backward-weights reduction.
    static let convolutions: [ConvGeometry] = [
        try! ConvGeometry(batch: 1, inChannels: 16, outChannels: 16, inHeight: 2, inWidth: 2, kernel: 5, stride: 2, padding: 2),
        try! ConvGeometry(batch: 1, inChannels: 16, outChannels: 24, inHeight: 8, inWidth: 8, kernel: 5, stride: 2, padding: 2),
        try! ConvGeometry(batch: 2, inChannels: 8, outChannels: 8, inHeight: 3, inWidth: 5, kernel: 3, padding: 1),
    ]

    /// Runs every pass of every geometry once: outputs in a fixed order.
    static func runAll() throws -> [[Float]] {
        var results: [[Float]] = []
        for g in convolutions {
            let x = values(g.inputCount, 1), w = values(g.weightCount, 2), b = values(g.outChannels, 3)
            let dy = values(g.outputCount, 4)
            var y = [Float](repeating: .nan, count: g.outputCount), dx = [Float](repeating: .nan, count: g.inputCount)
            var dw = [Float](repeating: .nan, count: g.weightCount), db = [Float](repeating: .nan, count: g.outChannels)
            try Convolution.forward(g, src: x, weights: w, bias: b, dst: &y)
            try Convolution.backwardData(g, diffDst: dy, weights: w, diffSrc: &dx)
            try Convolution.backwardWeights(g, src: x, diffDst: dy, diffWeights: &dw, diffBias: &db)
            results += [y, dx, dw, db]
        }
        let t = try TransposedConvGeometry(batch: 1, inChannels: 16, outChannels: 16, inHeight: 1, inWidth: 1, kernel: 5,
                                           stride: 2, padding: 2, outputPadding: 1)
        var ty = [Float](repeating: .nan, count: t.outputCount)
        try TransposedConvolution.forward(t, src: values(t.inputCount, 5), weights: values(t.weightCount, 6),
                                          bias: values(t.outChannels, 7), dst: &ty)
        var c = [Float](repeating: .nan, count: 3 * 7 * 5)
        try MatMul.multiply(a: values(3 * 7 * 9, 8), b: values(3 * 9 * 5, 9), c: &c, batch: 3, m: 7, n: 5, k: 9,
                            transposeA: false, transposeB: true)
        return results + [ty, c]
    }

    static func values(_ count: Int, _ seed: Int) -> [Float] {
        (0..<count).map { Float(($0 * 7919 + seed * 104_729) % 2001) / 1000 - 1 }
    }

    /// Plans made on one new thread run on another (which has never run
    /// oneDNN before) and give the same bits as on the thread that made them.
    /// (On the second thread the plans exist already, so only cached plans run there.)
    @Test func plansRunOnThreadsOtherThanTheirCreator() throws {
        let creator = try onNewThread { try Self.runAll() }
        let other = try onNewThread { try Self.runAll() }
        #expect(creator.count == other.count)
        for (index, (a, b)) in zip(creator, other).enumerated() {
            #expect(a.allSatisfy { $0.isFinite }, "result \(index)")
            #expect(a.map(\.bitPattern) == b.map(\.bitPattern), "result \(index) differs on another thread")
        }
    }

    /// A scratch buffer belongs to one run until given back, then is reused;
    /// a request no idle buffer fits replaces the largest idle one.
    @Test func scratchpadsAreLentToOneRunAtATime() throws {
        let pool = DNNLScratchpads()
        let a = try pool.borrow(bytes: 1000), b = try pool.borrow(bytes: 1000)
        #expect(a !== b && a.bytes >= 1000 && b.bytes >= 1000)
        #expect(UInt(bitPattern: a.pointer) % 4096 == 0)
        pool.giveBack(a)
        let again = try pool.borrow(bytes: 500)
        #expect(again === a)
        pool.giveBack(again)
        pool.giveBack(b)
        #expect(pool.idleBuffers.count == 2)
        let big = try pool.borrow(bytes: 5000)
        #expect(big.bytes >= 5000 && big !== a && big !== b)
        #expect(pool.idleBuffers.count == 1)
        pool.giveBack(big)
        pool.dropIdle()
        #expect(pool.idleBuffers.count == 0)
    }
}

/// Runs `body` on a new thread (one with no thread-local state of any
/// library yet) and waits for it.
func onNewThread<R>(_ body: @escaping () throws -> R) throws -> R {
    let outcome = ThreadOutcome<R>()
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) let work = body
    let thread = Thread {
        outcome.result = Result { try work() }
        done.signal()
    }
    thread.stackSize = 8 << 20
    thread.start()
    done.wait()
    return try outcome.result!.get()
}

private final class ThreadOutcome<R>: @unchecked Sendable {
    var result: Result<R, any Error>?
}
