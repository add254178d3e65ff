import Foundation
import Testing
@testable import LICTensor

// MARK: Parallel

@Suite struct ParallelTests {
    @Test func chunksCoverEachIndexOnceAtFixedBoundaries() {
        for (total, chunk) in [(0, 4), (1, 4), (10, 3), (100_000, 32768), (65536, 32768), (7, 100)] {
            var hits = [Int](repeating: 0, count: total)
            let chunks = (total + chunk - 1) / chunk
            var starts = [Int](repeating: -1, count: max(chunks, 1))
            hits.withUnsafeMutableBufferPointer { h in
                starts.withUnsafeMutableBufferPointer { s in
                    let hp = h.baseAddress, sp = s.baseAddress!
                    Parallel.forEachChunk(count: total, chunk: chunk) { range in
                        sp[range.lowerBound / chunk] = range.lowerBound
                        for i in range { hp![i] += 1 }
                    }
                }
            }
            #expect(hits.allSatisfy { $0 == 1 })
            if total > 0 {
                #expect(starts == (0..<chunks).map { $0 * chunk })
            }
        }
    }
}
