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

    /// A request above the allocation limit fails with `outOfMemory`
    /// without asking the system (before, a refused allocation aborted).
    /// The limit is lowered to 1 GiB for this test; the tests running beside
    /// it allocate far less.
    @Test func aRefusedAllocationThrowsOutOfMemory() throws {
        let saved = TensorMemory.maxAllocationBytes
        TensorMemory.maxAllocationBytes = 1 << 30
        defer { TensorMemory.maxAllocationBytes = saved }
        for attempt in [{ _ = try TensorStorage(uninitializedCount: 1 << 29) }, { _ = try TensorStorage(count: 1 << 29) },
                        { _ = try Tensor(zeros: [1 << 15, 1 << 14]) }] {
            let error = #expect(throws: TensorError.self) { try attempt() }
            guard case .outOfMemory(let message)? = error else { Issue.record("expected outOfMemory, got \(String(describing: error))"); continue }
            #expect(message == "cannot allocate 536870912 elements (2147483648 bytes)")
        }
        #expect(try TensorStorage(count: 1 << 20).count == 1 << 20, "below the limit, allocations succeed")
    }
}
