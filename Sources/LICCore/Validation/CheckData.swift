import LICTensor

/// Inputs for the cases: deterministic pseudo-random values (so two runs and
/// two thread counts see the same bytes) and byte-exact comparisons.
enum CheckData {
    /// `count` values uniform in low..<high from `seed` (SplitMix64).
    static func values(_ count: Int, seed: UInt64, in range: Range<Float>) -> [Float] {
        var state = seed
        return (0..<count).map { _ in
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            let unit = Float((z ^ (z >> 31)) >> 40) * 0x1p-24
            return range.lowerBound + unit * (range.upperBound - range.lowerBound)
        }
    }

    static func tensor(_ shape: [Int], seed: UInt64, in range: Range<Float>) throws -> Tensor {
        try Tensor(shape: shape, values: values(shape.reduce(1, *), seed: seed, in: range))
    }

    /// The bit patterns, so NaNs and signed zeros compare exactly.
    static func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

    /// Throws a CheckFailure naming the first element where `a` and `b` differ bit for bit.
    static func expectIdentical(_ a: [Float], _ b: [Float], _ what: String) throws {
        guard a.count == b.count else { throw CheckFailure("\(what): \(a.count) values vs \(b.count)") }
        if let i = a.indices.first(where: { a[$0].bitPattern != b[$0].bitPattern }) {
            throw CheckFailure("\(what): element \(i) is \(a[i]) vs \(b[i]) (of \(a.count))")
        }
    }

    static func expectFinite(_ values: [Float], _ what: String) throws {
        if let i = values.firstIndex(where: { !$0.isFinite }) {
            throw CheckFailure("\(what): element \(i) of \(values.count) is \(values[i]) for finite inputs")
        }
    }

    static func shapeText(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }

    /// Runs `body` with the largest single tensor allocation lowered to
    /// `bytes`: a component working on a large input must take the op table's
    /// refusal (LIC_ERROR_OUT_OF_MEMORY) and report it, not crash.
    static func withAllocationLimit<R>(_ bytes: Int, _ body: () throws -> R) rethrows -> R {
        let saved = TensorMemory.maxAllocationBytes
        TensorMemory.maxAllocationBytes = bytes
        defer { TensorMemory.maxAllocationBytes = saved }
        return try body()
    }

    /// Runs `body` with `n` tensor-engine threads, then restores the count.
    static func withThreads<R>(_ n: Int, _ body: () throws -> R) rethrows -> R {
        let saved = Threads.count
        Threads.set(n)
        defer { Threads.set(saved) }
        return try body()
    }
}
