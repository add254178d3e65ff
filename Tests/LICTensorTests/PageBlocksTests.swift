import Testing
@testable import LICTensor

/// The large-block cache behind tensor storage: freed blocks are reused, and
/// the memory it maps never exceeds the most ever lent at once.
@Suite struct PageBlocksTests {
    let mib = 1 << 20

    @Test func aFreedBlockServesTheNextRequestItFits() throws {
        let blocks = PageBlocks()
        defer { blocks.releaseCached() }
        let first = try #require(blocks.allocate(8 * mib))
        first.storeBytes(of: 42, as: Int.self)
        blocks.free(first)
        #expect(blocks.cached.count == 1)
        // Same size, then a smaller one: both take the cached block back.
        let again = try #require(blocks.allocate(8 * mib))
        #expect(again == first)
        blocks.free(again)
        let smaller = try #require(blocks.allocate(3 * mib + 5))
        #expect(smaller == first)
        #expect(blocks.cached.count == 0)
        blocks.free(smaller)
        #expect(blocks.mappedBytes == 8 * mib)
    }

    @Test func theSmallestFittingBlockIsTaken() throws {
        let blocks = PageBlocks()
        defer { blocks.releaseCached() }
        let big = try #require(blocks.allocate(16 * mib))
        let small = try #require(blocks.allocate(4 * mib))
        blocks.free(big)
        blocks.free(small)
        #expect(try #require(blocks.allocate(2 * mib)) == small)
        #expect(try #require(blocks.allocate(2 * mib)) == big)
    }

    /// Tiles of changing shapes: requests of varied sizes, several at once.
    /// What is mapped never exceeds the most that was lent at one time.
    @Test func mappedMemoryStaysWithinThePeakLent() throws {
        let blocks = PageBlocks()
        defer { blocks.releaseCached() }
        var generator = SplitMix64(state: 7)
        var live: [UnsafeMutableRawPointer] = []
        var peakLent = 0
        var reused = 0
        for _ in 0..<400 {
            if live.count < 4 && generator.next() % 3 != 0 {
                let cachedBefore = blocks.cached.count
                live.append(try #require(blocks.allocate(Int(generator.next() % UInt64(12 * mib)) + mib)))
                if blocks.cached.count < cachedBefore { reused += 1 }
            } else if !live.isEmpty {
                blocks.free(live.remove(at: Int(generator.next() % UInt64(live.count))))
            }
            peakLent = max(peakLent, blocks.lentBytes)
            #expect(blocks.mappedBytes <= peakLent)
        }
        for block in live { blocks.free(block) }
        #expect(blocks.mappedBytes <= peakLent)
        #expect(reused > 50)
    }
}
