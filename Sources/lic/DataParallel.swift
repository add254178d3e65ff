import Foundation
#if canImport(Glibc)
import Glibc
#endif
import LICCore
import LICTensor

/// The processes of `lic train --workers N`: worker 0 (this process) makes
/// the gradient exchange file, starts workers 1 ... N-1 as copies of its own
/// command line plus `--worker-rank R --exchange PATH`, and removes the file
/// once every worker has mapped it. A worker's stdin and stdout are its pipes
/// to worker 0 (its stderr is worker 0's, so its errors reach the user).
enum DataParallel {
    /// Worker 0's side: the exchange, wired into `trainer`, and the started workers.
    static func start(_ trainer: Trainer, workers: Int, output: String) throws -> [Process] {
        let entries = trainer.model.store.trainable(.main)
        let bytes = GradientExchange.layout(workers: workers, entries: entries).length
        let directory = GradientExchange.chooseDirectory(bytes: bytes, fallback: output)
        let path = "\(directory)/lic-train-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).exchange"
        let toWorkers = (1..<workers).map { _ in Pipe() }, fromWorkers = (1..<workers).map { _ in Pipe() }
        // Removed whatever happens: the workers hold their mappings, nothing else needs the name.
        defer { unlink(path) }
        let exchange = try GradientExchange(path: path, create: true, rank: 0, workers: workers, entries: entries,
                                            outgoing: toWorkers.map(\.fileHandleForWriting),
                                            incoming: fromWorkers.map(\.fileHandleForReading))
        var processes: [Process] = []
        for rank in 1..<workers {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
            process.arguments = Array(CommandLine.arguments.dropFirst()) + ["--worker-rank", "\(rank)", "--exchange", path]
            process.standardInput = toWorkers[rank - 1]
            process.standardOutput = fromWorkers[rank - 1]
            do { try process.run() } catch {
                processes.forEach { $0.terminate() }
                throw LICError("lic train: cannot start data-parallel worker \(rank): \(error.localizedDescription)")
            }
            processes.append(process)
        }
        // Our copies of the workers' ends: a worker that dies then closes its pipe for good.
        for pipe in toWorkers { try? pipe.fileHandleForReading.close() }
        for pipe in fromWorkers { try? pipe.fileHandleForWriting.close() }
        try exchange.handshake()
        trainer.exchange = exchange
        return processes
    }

    /// After worker 0's run: the workers end with it (they stop at the same
    /// step); a worker that failed is an error.
    static func finish(_ processes: [Process]) throws {
        for (index, process) in processes.enumerated() {
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw LICError("lic train: data-parallel worker \(index + 1) exited with status \(process.terminationStatus)")
            }
        }
    }

    /// A worker's side: trains in step with worker 0 and writes nothing.
    static func work(_ configuration: Trainer.Configuration, exchangePath: String) throws {
        // stdout is the pipe to worker 0: keep it for the signals, and send anything else printed to stderr.
        let signals = dup(STDOUT_FILENO)
        guard signals >= 0, dup2(STDERR_FILENO, STDOUT_FILENO) >= 0 else { throw LICError("data-parallel worker: cannot set up its pipes") }
        let trainer = try Trainer(configuration)
        let exchange = try GradientExchange(path: exchangePath, create: false, rank: configuration.workerRank, workers: configuration.workers,
                                            entries: trainer.model.store.trainable(.main),
                                            outgoing: [FileHandle(fileDescriptor: signals, closeOnDealloc: true)],
                                            incoming: [FileHandle.standardInput])
        try exchange.handshake()
        trainer.exchange = exchange
        try trainer.run()
    }
}
