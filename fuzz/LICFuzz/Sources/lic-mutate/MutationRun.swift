import Foundation
import LICCore
import LICFuzzSupport
import LICTensor  // SplitMix64

/// Damages one coded file in every `Damage` way, `mutants` times each, and
/// decodes every damaged (checksum-valid) file in process. A crash ends the
/// run; the file being decoded is then at `crashFile`.
struct MutationRun {
    struct Tally {
        var mutants = 0
        /// Refused with an error.
        var refused = 0
        /// Refused only by the end-of-stream check (final rANS state, every byte read).
        var refusedAtEnd = 0
        /// Decoded without an error to a different image.
        var silent = 0
        /// Decoded without an error to the same image.
        var unchanged = 0

        mutating func add(_ other: Tally) {
            mutants += other.mutants
            refused += other.refused
            refusedAtEnd += other.refusedAtEnd
            silent += other.silent
            unchanged += other.unchanged
        }
    }

    let harness: DecodeHarness
    let file: [UInt8]
    let mutants: Int
    let crashFile: String
    /// Where silent and unchanged decodes are written (with the original), if set.
    var dumpDirectory: String?

    /// The tally of each damage, in `Damage.allCases` order (skipped ones absent).
    func run(seed: UInt64) throws -> [(Damage, Tally)] {
        let container = try Container(parsing: file)
        let original = try harness.decode(file, maxPixels: Image.maxPixels).get()
        var random = SplitMix64(state: seed)
        var results: [(Damage, Tally)] = []
        for damage in Damage.allCases {
            var tally = Tally()
            var attempts = 0
            while tally.mutants < mutants, attempts < 4 * mutants {
                attempts += 1
                guard let damaged = damage.apply(to: container, random: &random) else { continue }
                let bytes = try damaged.serialized()
                FileManager.default.createFile(atPath: crashFile, contents: Data(bytes))
                tally.mutants += 1
                switch harness.decode(bytes, maxPixels: Image.maxPixels) {
                case .success(let image):
                    if image == original { tally.unchanged += 1 } else { tally.silent += 1 }
                    if let dumpDirectory {
                        let stem = dumpDirectory + "/" + harness.name.split(separator: "/").joined(separator: "_")
                        FileManager.default.createFile(atPath: stem + ".lic", contents: Data(file))
                        FileManager.default.createFile(atPath: stem + "-\(damage.rawValue)-\(tally.mutants).lic", contents: Data(bytes))
                    }
                case .failure(let error):
                    tally.refused += 1
                    if "\(error)".contains("did not end cleanly") { tally.refusedAtEnd += 1 }
                }
            }
            if tally.mutants > 0 { results.append((damage, tally)) }
        }
        try? FileManager.default.removeItem(atPath: crashFile)
        return results
    }
}
