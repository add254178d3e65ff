import Foundation
#if canImport(Glibc)
import Glibc
#endif
import LICTensor

/// Data-parallel training across worker processes (`lic train --workers N`).
///
/// Every worker builds the same model from the same files and trains on its
/// share of each batch; before each optimizer step the workers average their
/// gradients and loss terms through one shared-memory file, and all of them
/// take the identical step, so their parameters stay bit-identical (compared
/// every `fingerprintEvery` steps). Worker 0 - the process the user started -
/// averages, picks the learning rate, decides when to stop, and alone writes
/// checkpoints and logs.
///
/// Why processes: on these 2-core machines two single-threaded processes
/// train faster than one process on two threads (most layers of a 128-pixel
/// batch are too small to split well across threads), and separate
/// processes share no engine state.
///
/// Signals: one byte per step over pipes. A worker writes `ready` once its
/// gradients are in its slot; worker 0 answers `go` (or `last`: this is the
/// final step) once the average is in place. A pipe that closes means the
/// other process ended: an error, never a hang.
public final class GradientExchange {
    /// The parameters exchanged, in order (the main group's trained tensors).
    public let entries: [ParameterStore.Entry]
    public let rank: Int
    public let workers: Int
    /// Loss terms per step (the loss first); more are an error.
    public static let termCapacity = 32
    /// Steps between comparisons of the workers' parameters.
    public static let fingerprintEvery = 10

    private let base: UnsafeMutableRawPointer
    private let length: Int
    private let floats: Int
    private let slotBytes: Int
    /// Worker 0: to and from each other worker (index rank - 1). Others: to and from worker 0.
    private let outgoing: [FileHandle]
    private let incoming: [FileHandle]

    static let magic: UInt64 = 0x4C49_4344_5031_0001  // "LICDP1" + version
    static let headerBytes = 64
    static let ready: UInt8 = 0x52, go: UInt8 = 0x47, last: UInt8 = 0x4C

    /// The file's size for `workers` workers exchanging `entries`.
    public static func layout(workers: Int, entries: [ParameterStore.Entry]) -> (floats: Int, slotBytes: Int, length: Int) {
        let floats = entries.reduce(0) { $0 + $1.tensor.count }
        let round = { (bytes: Int) in (bytes + 63) / 64 * 64 }
        let slot = round(8 * (termCapacity + 2)) + round(entries.count) + round(4 * floats)
        return (floats, slot, headerBytes + slot * (workers + 1))
    }

    /// Where worker 0 puts the exchange file: /dev/shm when it has room
    /// (memory, no disk writes), else `fallback` (the model directory).
    public static func chooseDirectory(bytes: Int, fallback: String) -> String {
        var stats = statvfs()
        if statvfs("/dev/shm", &stats) == 0, Int(stats.f_bavail) * Int(stats.f_frsize) > 2 * bytes { return "/dev/shm" }
        return fallback
    }

    /// Maps the exchange file at `path`: worker 0 creates it (`create`), the
    /// others open it and check that it was made for the same model.
    /// `outgoing`/`incoming`: the pipes described above.
    public init(path: String, create: Bool, rank: Int, workers: Int, entries: [ParameterStore.Entry],
                outgoing: [FileHandle], incoming: [FileHandle]) throws {
        guard workers >= 2, (0..<workers).contains(rank) else { throw LICError("data-parallel training: rank \(rank) of \(workers) workers") }
        let (floats, slotBytes, length) = Self.layout(workers: workers, entries: entries)
        let fd = create ? open(path, O_RDWR | O_CREAT | O_EXCL, 0o600) : open(path, O_RDWR)
        guard fd >= 0 else { throw LICError("\(path): cannot \(create ? "create" : "open") the gradient exchange file: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        if create, ftruncate(fd, off_t(length)) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(path)
            throw LICError("\(path): cannot size the gradient exchange file to \(length) bytes: \(reason)")
        }
        var info = stat()
        guard fstat(fd, &info) == 0, Int(info.st_size) == length else {
            throw LICError("\(path): the gradient exchange file has \(info.st_size) bytes, this model needs \(length) (a different model?)")
        }
        guard let mapped = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), mapped != MAP_FAILED else {
            throw LICError("\(path): cannot map the gradient exchange file: \(String(cString: strerror(errno)))")
        }
        (base, self.length, self.floats, self.slotBytes) = (mapped, length, floats, slotBytes)
        (self.entries, self.rank, self.workers, self.outgoing, self.incoming) = (entries, rank, workers, outgoing, incoming)
        let header = base.assumingMemoryBound(to: UInt64.self)
        if create {
            (header[1], header[2], header[3]) = (UInt64(workers), UInt64(floats), UInt64(entries.count))
            header[0] = Self.magic
        } else if header[0] != Self.magic || header[1] != UInt64(workers) || header[2] != UInt64(floats) || header[3] != UInt64(entries.count) {
            throw LICError("\(path): the gradient exchange file was made for another model or worker count")
        }
    }

    deinit { munmap(base, length) }

    /// Worker 0: waits until every worker has mapped the file (after which
    /// it can be unlinked). Others: says they have.
    public func handshake() throws {
        if rank == 0 {
            for worker in 1..<workers { try receive(from: worker - 1, expecting: [Self.ready]) }
        } else {
            try send(Self.ready, to: 0)
        }
    }

    /// One step's exchange: this worker's loss terms (the loss first), the
    /// learning rate and stop decision it would use (worker 0's count);
    /// returns the average terms, worker 0's learning rate, and whether this
    /// is the last step. Gradients are replaced by the average, in place.
    public func average(store: ParameterStore, terms: [Double], learningRate: Double, stop: Bool,
                        step: Int) throws -> (terms: [Double], learningRate: Double, stop: Bool) {
        guard terms.count <= Self.termCapacity else { throw LICError("data-parallel training: \(terms.count) loss terms, at most \(Self.termCapacity)") }
        let checkFingerprint = step % Self.fingerprintEvery == 0
        write(store: store, terms: terms, fingerprint: checkFingerprint ? store.fingerprint(of: entries) : 0, slot: rank)
        let header = base.assumingMemoryBound(to: UInt64.self)
        var isLast = stop
        if rank == 0 {
            for worker in 1..<workers { try receive(from: worker - 1, expecting: [Self.ready]) }
            if checkFingerprint {
                let own = self.terms(slot: 0).fingerprint
                for worker in 1..<workers where self.terms(slot: worker).fingerprint != own {
                    throw LICError("data-parallel training: worker \(worker)'s parameters differ from worker 0's at step \(step) (the workers diverged)")
                }
            }
            sumSlots(termCount: terms.count)
            header[4] = learningRate.bitPattern
            header[5] = stop ? 1 : 0
            for worker in 1..<workers { try send(stop ? Self.last : Self.go, to: worker - 1) }
        } else {
            try send(Self.ready, to: 0)
            isLast = try receive(from: 0, expecting: [Self.go, Self.last]) == Self.last
        }
        let result = self.terms(slot: workers)
        let present = presence(slot: workers).map { $0 != 0 }
        try store.setGradients(of: entries, from: UnsafeBufferPointer(gradients(slot: workers)), present: present)
        return (Array(result.values.prefix(terms.count)), Double(bitPattern: header[4]), isLast)
    }

    // MARK: Slots

    private func slot(_ index: Int) -> UnsafeMutableRawPointer { base + Self.headerBytes + index * slotBytes }

    private func termsPointer(_ index: Int) -> UnsafeMutablePointer<UInt64> { slot(index).assumingMemoryBound(to: UInt64.self) }

    private func presence(slot index: Int) -> UnsafeMutableBufferPointer<UInt8> {
        let offset = (8 * (Self.termCapacity + 2) + 63) / 64 * 64
        return UnsafeMutableBufferPointer(start: (slot(index) + offset).assumingMemoryBound(to: UInt8.self), count: entries.count)
    }

    private func gradients(slot index: Int) -> UnsafeMutableBufferPointer<Float> {
        let offset = (8 * (Self.termCapacity + 2) + 63) / 64 * 64 + (entries.count + 63) / 64 * 64
        return UnsafeMutableBufferPointer(start: (slot(index) + offset).assumingMemoryBound(to: Float.self), count: floats)
    }

    private func terms(slot index: Int) -> (values: [Double], fingerprint: UInt64) {
        let words = termsPointer(index)
        return ((0..<Self.termCapacity).map { Double(bitPattern: words[$0]) }, words[Self.termCapacity])
    }

    private func write(store: ParameterStore, terms: [Double], fingerprint: UInt64, slot index: Int) {
        let words = termsPointer(index)
        for (i, value) in terms.enumerated() { words[i] = value.bitPattern }
        words[Self.termCapacity] = fingerprint
        let present = store.copyGradients(of: entries, into: gradients(slot: index))
        let flags = presence(slot: index)
        for (i, has) in present.enumerated() { flags[i] = has ? 1 : 0 }
    }

    /// The average slot = the mean of the workers' slots, summed in worker
    /// order (the same arithmetic whoever computes it).
    private func sumSlots(termCount: Int) {
        let scale = 1 / Float(workers)
        let target = gradients(slot: workers)
        let first = gradients(slot: 0)
        for i in 0..<floats { target[i] = first[i] }
        for worker in 1..<workers {
            let other = gradients(slot: worker)
            for i in 0..<floats { target[i] += other[i] }
        }
        for i in 0..<floats { target[i] *= scale }
        let flags = presence(slot: workers)
        for i in 0..<entries.count { flags[i] = (0..<workers).contains { presence(slot: $0)[i] != 0 } ? 1 : 0 }
        let words = termsPointer(workers)
        for t in 0..<termCount {
            words[t] = ((0..<workers).reduce(0.0) { $0 + terms(slot: $1).values[t] } / Double(workers)).bitPattern
        }
    }

    // MARK: Pipes

    private func send(_ byte: UInt8, to index: Int) throws {
        do { try outgoing[index].write(contentsOf: [byte]) } catch {
            throw LICError("data-parallel training: worker \(rank == 0 ? index + 1 : 0) is gone (\(error.localizedDescription))")
        }
    }

    @discardableResult
    private func receive(from index: Int, expecting bytes: [UInt8]) throws -> UInt8 {
        let peer = rank == 0 ? index + 1 : 0
        let data: Data?
        do { data = try incoming[index].read(upToCount: 1) } catch {
            throw LICError("data-parallel training: reading from worker \(peer) failed: \(error.localizedDescription)")
        }
        guard let byte = data?.first else { throw LICError("data-parallel training: worker \(peer) ended (see its messages above)") }
        guard bytes.contains(byte) else { throw LICError("data-parallel training: worker \(peer) sent \(byte), expected one of \(bytes)") }
        return byte
    }
}
