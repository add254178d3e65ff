import Foundation
import Testing
@testable import LICTensor

/// Tensor memory: 64-byte aligned, zeroed on request, bounded by
/// `maxElements`, and a refused allocation is an error, not an abort.
@Suite struct TensorStorageTests {
    @Test func storageIsAlignedAndZeroed() throws {
        for count in [0, 1, 3, 16, 1000, 1 << 20] {
            let zeroed = try TensorStorage(count: count)
            #expect(UInt(bitPattern: zeroed.pointer) % 64 == 0)
            #expect(UnsafeBufferPointer(start: zeroed.pointer, count: count).allSatisfy { $0 == 0 })
            let raw = try TensorStorage(uninitializedCount: count)
            #expect(UInt(bitPattern: raw.pointer) % 64 == 0 && raw.count == count)
            raw.pointer.update(repeating: 1, count: count)  // the whole range is writable
        }
    }

    @Test func countsOutsideTheLimitAreShapeErrors() {
        for count in [-1, TensorStorage.maxElements + 1, Int.max] {
            #expect {
                _ = try TensorStorage(count: count)
            } throws: { error in
                guard case TensorError.shape(let message) = error else { return false }
                return message.contains("cannot allocate \(count) elements")
            }
            #expect(throws: TensorError.self) { _ = try TensorStorage(uninitializedCount: count) }
        }
        // Through the public API: 2^31 x 2^31 passes the overflow check but not the limit.
        #expect(throws: TensorError.self) { _ = try Tensor(zeros: [1 << 31, 1 << 31]) }
    }

    /// 2^32 elements (16 GiB) is within the limit; with the address space
    /// capped below that, the allocation fails at once without touching
    /// memory, and must come back as `outOfMemory` (before, the process aborted).
    @Test func aRefusedAllocationThrowsOutOfMemory() throws {
        // Warm up, in this process, everything the child does (metadata and
        // conformance caches), so the forked child takes no runtime locks.
        _ = childOutcome { try TensorStorage(uninitializedCount: 1) }
        _ = childOutcome { throw TensorError.outOfMemory("warm-up") }
        _ = childOutcome { try TensorStorage(count: -1) }
        let outcomes = try runInMemoryLimitedChild {
            [childOutcome { try TensorStorage(uninitializedCount: TensorStorage.maxElements) },
             childOutcome { try TensorStorage(count: TensorStorage.maxElements) },
             childOutcome { try Tensor(zeros: [1 << 16, 1 << 16]) }]
        }
        #expect(outcomes == [ChildOutcome.outOfMemory.rawValue, ChildOutcome.outOfMemory.rawValue,
                             ChildOutcome.outOfMemory.rawValue])
    }
}

enum ChildOutcome: UInt8 {
    case allocated = 1, outOfMemory = 2, otherError = 3, wrongMessage = 4
}

/// What an allocation in the memory-limited child came to.
func childOutcome(_ body: () throws -> AnyObject) -> UInt8 {
    do {
        _ = try body()
        return ChildOutcome.allocated.rawValue
    } catch TensorError.outOfMemory(let message) {
        let expected = "cannot allocate \(TensorStorage.maxElements) elements (\(TensorStorage.maxElements * 4) bytes)"
        return (message == expected ? ChildOutcome.outOfMemory : ChildOutcome.wrongMessage).rawValue
    } catch {
        return ChildOutcome.otherError.rawValue
    }
}

/// Runs `body` in a forked child whose address space is capped at what this
/// process maps now plus 1 GiB, and returns the bytes it produced. The child
/// writes them to a pipe and exits with `_exit`; a child that crashes,
/// aborts or hangs (killed after 60 s) is an error.
func runInMemoryLimitedChild(_ body: () -> [UInt8]) throws -> [UInt8] {
    let statm = try String(contentsOfFile: "/proc/self/statm", encoding: .utf8)
    guard let pages = statm.split(separator: " ").first.flatMap({ Int($0) }) else {
        throw TensorError.invalidArgument("unreadable /proc/self/statm: \(statm)")
    }
    let cap = rlim_t(pages * Int(getpagesize()) + (1 << 30))
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { throw TensorError.invalidArgument("pipe failed") }
    let pid = fork()
    if pid == 0 {
        close(fds[0])
        var limit = rlimit(rlim_cur: cap, rlim_max: cap)
        guard setrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &limit) == 0 else { _exit(90) }
        let bytes = body()
        let written = bytes.withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) }
        _exit(written == bytes.count ? 0 : 91)
    }
    close(fds[1])
    defer { close(fds[0]) }
    guard pid > 0 else { throw TensorError.invalidArgument("fork failed") }
    var status: Int32 = 0
    let deadline = Date().addingTimeInterval(60)
    while waitpid(pid, &status, WNOHANG) == 0 {
        if Date() > deadline {
            kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
            throw TensorError.invalidArgument("the child did not finish within 60 s")
        }
        usleep(10_000)
    }
    // WIFEXITED / WEXITSTATUS, which Swift does not import.
    guard status & 0x7F == 0, (status >> 8) & 0xFF == 0 else {
        throw TensorError.invalidArgument("the child failed (wait status \(status))")
    }
    var output = [UInt8](repeating: 0, count: 256)
    let n = output.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
    return Array(output.prefix(max(n, 0)))
}
