internal import Crypto

/// SHA-256 (FIPS 180-4), incremental.
///
///     var h = SHA256()
///     h.update(part1); h.update(part2)
///     let digest = h.finalize()   // 32 bytes
///
/// `finalize()` pads and returns the digest; the hasher is then reset, so
/// further updates start a new message.
///
/// A thin wrapper over swift-crypto's `Crypto.SHA256` (BoringSSL's assembly
/// with the SHA extensions where the CPU has them): the model identity hashes
/// every weight on each `--model` encode and decode, tens of megabytes.
/// This type keeps the project's byte-array API, and its reset-on-finalize.
///
/// `@unchecked Sendable`: swift-crypto 3.x does not mark its hasher
/// `Sendable`, but it is a value type with copy-on-write storage (a copy is
/// made before any update to shared state), so copies are independent.
public struct SHA256: @unchecked Sendable {
    public static let digestSize = 32

    private var hasher = Crypto.SHA256()

    public init() {}

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        hasher.update(bufferPointer: bytes)
    }

    /// Pads the message, returns the 32-byte digest and resets the hasher.
    public mutating func finalize() -> [UInt8] {
        let digest = Array(hasher.finalize())
        self = SHA256()
        return digest
    }

    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// Lowercase hexadecimal, two digits per byte.
    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
