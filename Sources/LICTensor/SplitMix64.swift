/// SplitMix64 (Steele, Lea, Flood 2014): a small seeded generator whose
/// sequence is the same on every machine - the engine's noise, training
/// crops, tests and the fuzz tools all draw from it. `mix` is its output
/// function, a bijection on UInt64, also used on its own as a counter hash.
public struct SplitMix64: Sendable {
    public var state: UInt64

    public init(state: UInt64) { self.state = state }

    /// SplitMix64's output function.
    @inline(__always)
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.mix(state)
    }

    /// Uniform in 0 ..< bound (0 for bound <= 0); the modulo bias is below bound / 2^64.
    public mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(max(bound, 1))) }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// True with probability p.
    public mutating func chance(_ p: Double) -> Bool { unit() < p }
}
