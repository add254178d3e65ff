import Foundation
import Testing
@testable import LICTensor

// Shared by the CPU kernel tests (KernelTests*.swift; Sources/LICTensor/Kernels) on raw buffers:
// derivatives against central differences of double-precision references,
// broadcasting and reductions against naive index formulas, data movement
// against PyTorch's index formulas, and determinism under different chunkings.

/// Deterministic draws so failures reproduce.
typealias KernelRNG = SplitMix64

extension SplitMix64 {
    /// Uniform in [low, high).
    mutating func uniform(_ low: Double, _ high: Double) -> Float {
        Float(low + (high - low) * Double(next() >> 11) * 0x1p-53)
    }

    mutating func floats(_ count: Int, _ low: Double, _ high: Double) -> [Float] {
        (0..<count).map { _ in uniform(low, high) }
    }

    /// Values with |x| in [low, high) and a random sign (keeps away from 0).
    mutating func signedAway(_ count: Int, _ low: Double, _ high: Double) -> [Float] {
        (0..<count).map { _ in
            let v = uniform(low, high)
            return next() & 1 == 0 ? v : -v
        }
    }
}

// MARK: Buffer helpers

func count(_ shape: [Int]) -> Int { shape.reduce(1, *) }

/// Row-major strides (the kernels' own helper; index formulas in the tests are checked against it elsewhere).
func strides(_ shape: [Int]) -> [Int] { ShapeKernels.contiguousStrides(shape) }

/// The multi-index of flat index i in `shape`.
func unflatten(_ i: Int, _ shape: [Int]) -> [Int] {
    var rest = i
    var index = [Int](repeating: 0, count: shape.count)
    for d in stride(from: shape.count - 1, through: 0, by: -1) {
        index[d] = rest % shape[d]
        rest /= shape[d]
    }
    return index
}

func flatten(_ index: [Int], _ shape: [Int]) -> Int {
    zip(index, strides(shape)).reduce(0) { $0 + $1.0 * $1.1 }
}

/// The flat index in `shape` (numpy-broadcast to `outShape`) that output index `index` reads.
func broadcastIndex(_ index: [Int], _ shape: [Int], _ outShape: [Int]) -> Int {
    let lead = outShape.count - shape.count
    var flat = 0
    for d in 0..<shape.count {
        flat = flat * shape[d] + (shape[d] == 1 ? 0 : index[lead + d])
    }
    return flat
}

func output(_ n: Int, _ body: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
    var out = [Float](repeating: .nan, count: max(n, 1))
    out.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
    return Array(out.prefix(n))
}

func ptr<R>(_ a: [Float], _ body: (UnsafePointer<Float>) -> R) -> R {
    a.withUnsafeBufferPointer { body($0.baseAddress!) }
}

func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

/// A fresh file path in a fresh temporary directory (checkpoint and optimizer-state tests).
func temporaryPath(_ name: String) throws -> String {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("lic-training-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory.appendingPathComponent(name).path
}
