import LICCore
import LICTensor  // SplitMix64

/// Ways to damage a `.lic` file that keep every checksum valid: the damaged
/// file is re-serialized, so its CRCs (and model id) are right and only the
/// decoders can notice.
enum Damage: String, CaseIterable {
    /// One bit of one coded stream flipped.
    case bitFlip = "bit-flip"
    /// One byte of one coded stream replaced by a random value.
    case byte
    /// 2 to 16 consecutive bytes of one coded stream replaced.
    case burst
    /// One coded stream cut short by 1 to 16 bytes.
    case truncate
    /// 1 to 16 random bytes appended to one coded stream.
    case extend
    /// Two different coded streams swapped (files with two or more).
    case swap
    /// The header's width or height changed by 1 to 64 (not stream damage: the
    /// streams are intact, the declared geometry is not).
    case geometry

    var isStreamDamage: Bool { self != .geometry }

    /// `container` damaged once; nil where this damage does not apply.
    func apply(to container: Container, random: inout SplitMix64) -> Container? {
        var damaged = container
        let coded = container.streams.indices.filter { container.streams[$0].tag != Container.pipelineTag && !container.streams[$0].bytes.isEmpty }
        guard !coded.isEmpty else { return nil }
        let index = coded[random.below(coded.count)]
        var bytes = container.streams[index].bytes
        switch self {
        case .bitFlip:
            bytes[random.below(bytes.count)] ^= UInt8(1) << UInt8(random.below(8))
        case .byte:
            let position = random.below(bytes.count)
            bytes[position] = bytes[position] &+ UInt8(1 + random.below(255))
        case .burst:
            let length = min(bytes.count, 2 + random.below(15))
            let start = random.below(bytes.count - length + 1)
            for k in start..<start + length { bytes[k] = UInt8(random.below(256)) }
            if bytes == container.streams[index].bytes { bytes[start] ^= 1 }
        case .truncate:
            bytes.removeLast(min(bytes.count, 1 + random.below(16)))
        case .extend:
            bytes += (0...random.below(16)).map { _ in UInt8(random.below(256)) }
        case .swap:
            guard coded.count >= 2 else { return nil }
            let other = coded.filter { $0 != index && container.streams[$0].bytes != bytes }
            guard !other.isEmpty else { return nil }
            let second = other[random.below(other.count)]
            damaged.streams[second].bytes = bytes
            bytes = container.streams[second].bytes
        case .geometry:
            let delta = (1 + random.below(64)) * (random.below(2) == 0 ? -1 : 1)
            if random.below(2) == 0 { damaged.width = max(1, container.width + delta) } else { damaged.height = max(1, container.height + delta) }
            guard damaged.width != container.width || damaged.height != container.height else { return nil }
            return damaged
        }
        damaged.streams[index].bytes = bytes
        return damaged
    }
}
