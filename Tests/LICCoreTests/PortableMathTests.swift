import Foundation
import LICPluginKit
import Testing
@testable import LICCore

/// The portable functions coding tables are built from: accurate against the
/// C library, and the tables they give are the same on every machine (a
/// fingerprint recorded once; a machine whose arithmetic differs fails here).
@Suite struct PortableMathTests {
    static func relative(_ a: Double, _ b: Double) -> Double { a == b ? 0 : Swift.abs(a - b) / max(Swift.abs(b), 1e-300) }

    @Test func expAndLogMatchTheCLibrary() {
        var worstExp = 0.0, worstLog = 0.0
        for i in 0...20000 {
            let x = -740 + 1449.0 * Double(i) / 20000
            worstExp = max(worstExp, Self.relative(PortableMath.exp(x), Foundation.exp(x)))
            let y = Foundation.exp(-700 + 1400.0 * Double(i) / 20000)
            worstLog = max(worstLog, Self.relative(PortableMath.log(y), Foundation.log(y)))
        }
        #expect(worstExp < 1e-15 && worstLog < 1e-15, "exp \(worstExp), log \(worstLog)")
        #expect(PortableMath.exp(0) == 1 && PortableMath.log(1) == 0 && PortableMath.exp(-800) == 0 && PortableMath.exp(710) == .infinity)
        #expect(PortableMath.log(0) == -.infinity && PortableMath.log(-1).isNaN && PortableMath.log(5e-324) < -744)
    }

    @Test func erfcMatchesTheCLibrary() {
        var worst = 0.0
        for i in 0...20000 {
            let x = -6 + 32.0 * Double(i) / 20000
            let reference = Foundation.erfc(x)
            guard reference > 1e-300 else { continue }
            worst = max(worst, Self.relative(PortableMath.erfc(x), reference))
        }
        #expect(worst < 1e-12, "erfc relative error \(worst)")
    }

    /// FNV-1a over every frequency of the Gaussian tables of lic.entropy.gaussian's default ladder.
    @Test func gaussianTablesAreTheSameOnEveryMachine() throws {
        let (low, high) = (PortableMath.log(0.11), PortableMath.log(256))
        let ladder = (0..<64).map { Double(Float(PortableMath.exp(low + (high - low) * Double($0) / 63))) }
        let tables = try GaussianTables(scales: ladder, tailMass: 1e-9)
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for table in tables.tables {
            for value in [Int(table.firstSymbol)] + table.frequencies.map(Int.init) {
                for byte in withUnsafeBytes(of: Int32(truncatingIfNeeded: value).littleEndian, Array.init) {
                    hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
                }
            }
        }
        #expect(String(hash, radix: 16) == "dacc8c3421055e4f", "Gaussian tables fingerprint \(String(hash, radix: 16))")
    }
}
