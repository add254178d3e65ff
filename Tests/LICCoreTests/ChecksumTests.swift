import Testing
@testable import LICCore

/// Bit-at-a-time CRC-32C, the definition the table-driven code must match.
private func referenceCRC32C(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 {
            crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1
        }
    }
    return ~crc
}

/// Deterministic pseudo-random bytes (64-bit LCG, high byte).
private func pseudoRandomBytes(_ count: Int, seed: UInt64 = 1) -> [UInt8] {
    var state = seed
    return (0..<count).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return UInt8(truncatingIfNeeded: state >> 56)
    }
}

@Suite struct CRC32CTests {
    @Test func standardCheckValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    }

    @Test func emptyInputIsZero() {
        #expect(CRC32C.checksum([]) == 0)
    }

    /// Test patterns from RFC 3720 (iSCSI), appendix B.4.
    @Test func rfc3720Vectors() {
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(CRC32C.checksum((0..<32).map { UInt8(31 - $0) }) == 0x113F_DB5C)
    }

    /// Every length and alignment, so both the 8-byte and the tail loop run.
    @Test func matchesBitwiseReference() {
        let data = pseudoRandomBytes(300)
        for start in 0..<8 {
            for length in 0...(data.count - start) where length < 80 || length % 37 == 0 {
                let slice = Array(data[start..<start + length])
                #expect(CRC32C.checksum(slice) == referenceCRC32C(slice))
            }
        }
    }

    @Test func updateComposes() {
        let data = pseudoRandomBytes(1000, seed: 7)
        let whole = CRC32C.checksum(data)
        for split in [0, 1, 7, 8, 9, 500, 999, 1000] {
            let first = CRC32C.checksum(Array(data[..<split]))
            let combined = Array(data[split...]).withUnsafeBytes { CRC32C.update(first, $0) }
            #expect(combined == whole)
        }
    }
}

@Suite struct SHA256Tests {
    private func hexDigest(_ message: String) -> String {
        SHA256.hex(SHA256.hash(Array(message.utf8)))
    }

    // FIPS 180-2 / NIST example vectors.
    @Test func abc() {
        #expect(hexDigest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func empty() {
        #expect(hexDigest("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func twoBlockMessage448Bits() {
        #expect(hexDigest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func message896Bits() {
        let message = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
            + "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"
        #expect(hexDigest(message) == "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
    }

    @Test func millionAs() {
        let expected = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        #expect(SHA256.hex(SHA256.hash([UInt8](repeating: 0x61, count: 1_000_000))) == expected)

        // Same message fed in awkward pieces.
        var hasher = SHA256()
        let chunk = [UInt8](repeating: 0x61, count: 997)
        var left = 1_000_000
        while left > 0 {
            let n = min(left, chunk.count)
            hasher.update(Array(chunk[..<n]))
            left -= n
        }
        #expect(SHA256.hex(hasher.finalize()) == expected)
    }

    /// Lengths around the padding boundaries (55, 56, 63, 64, ...), hashed
    /// whole and in two parts at every split point.
    @Test func incrementalMatchesOneShot() {
        let data = pseudoRandomBytes(130, seed: 3)
        for length in [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 130] {
            let message = Array(data[..<length])
            let oneShot = SHA256.hash(message)
            #expect(oneShot.count == 32)
            for split in 0...length {
                var hasher = SHA256()
                hasher.update(Array(message[..<split]))
                hasher.update(Array(message[split...]))
                #expect(hasher.finalize() == oneShot)
            }
        }
    }

    @Test func finalizeResets() {
        var hasher = SHA256()
        hasher.update(Array("garbage".utf8))
        _ = hasher.finalize()
        hasher.update(Array("abc".utf8))
        #expect(hasher.finalize() == SHA256.hash(Array("abc".utf8)))
    }

    @Test func hexHelper() {
        #expect(SHA256.hex([0x00, 0x0F, 0xA5, 0xFF]) == "000fa5ff")
        #expect(SHA256.hex([]) == "")
    }
}
