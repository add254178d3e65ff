import Foundation
import Testing
@testable import LICTensor

@Suite struct GradientClippingTests {
    @Test func normAndScaling() {
        var a: [Float] = [3, 4]
        var b: [Float] = [12]
        var empty: [Float] = []
        a.withUnsafeMutableBufferPointer { pa in
            b.withUnsafeMutableBufferPointer { pb in
                empty.withUnsafeMutableBufferPointer { pe in
                    let buffers = [pa, pb, pe]
                    #expect(GradientClipping.globalNorm(buffers.map { UnsafeBufferPointer($0) }) == 13)
                    // Below the limit (or no limit): untouched.
                    #expect(GradientClipping.clip(buffers, maxNorm: 20) == 13)
                    #expect(GradientClipping.clip(buffers, maxNorm: 13) == 13)
                    #expect(GradientClipping.clip(buffers, maxNorm: .infinity) == 13)
                    #expect(Array(pa) == [3, 4] && Array(pb) == [12])
                    // Above: scaled by maxNorm / (norm + 1e-6).
                    #expect(GradientClipping.clip(buffers, maxNorm: 6.5) == 13)
                    let scale = Float(6.5 / (13 + 1e-6))
                    #expect(Array(pa) == [3 * scale, 4 * scale] && Array(pb) == [12 * scale])
                    let after = GradientClipping.globalNorm(buffers.map { UnsafeBufferPointer($0) })
                    #expect(abs(after - 6.5) < 1e-5)
                }
            }
        }
    }

    @Test func normIsAccurateAndDeterministic() {
        var state: UInt64 = 12345
        let values: [Float] = (0..<10_007).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int64(bitPattern: state) >> 40) / Float(1 << 23)
        }
        let exact = values.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        let norm = values.withUnsafeBufferPointer { GradientClipping.globalNorm([$0]) }
        #expect(abs(norm - exact) <= 1e-12 * exact)
        let again = values.withUnsafeBufferPointer { GradientClipping.globalNorm([$0]) }
        #expect(norm.bitPattern == again.bitPattern)
        #expect(GradientClipping.globalNorm([]) == 0)
    }

    @Test func nonFiniteNormLeavesGradientsAlone() {
        var a: [Float] = [.infinity, 1]
        a.withUnsafeMutableBufferPointer { pa in
            #expect(GradientClipping.clip([pa], maxNorm: 1) == .infinity)
            #expect(pa[1] == 1)
        }
    }
}
