import Foundation
import LICCore
import LICFuzzSupport

// lic-mutate: a checksum-valid mutation run against learned and classical
// files (see fuzz/README.md). Codes a test image with every fuzz pipeline
// (and each --model DIR), damages each file N times per kind of damage,
// re-serializes it with valid CRCs, decodes it, and prints a Markdown table
// of how the damage ended: refused, decoded silently to another image, or
// decoded unchanged. Exit status 1 when any stream damage decoded silently.
//
//   lic-mutate [--mutants N] [--seed S] [--image PNG] [--model DIR]... [--pipeline NAME]... [--dump DIR]
//
// --dump DIR writes each file and its damaged copies that decoded without an error.

let usage = "usage: lic-mutate [--mutants N] [--seed S] [--image PNG] [--model DIR]... [--pipeline NAME]... [--dump DIR]"
var mutants = 200
var seed: UInt64 = 1
var imagePath: String?
var models: [String] = []
var pipelines: [FuzzPipeline] = []
var dumpDirectory: String?
var arguments = CommandLine.arguments.dropFirst()
@MainActor func value() -> String {
    guard let next = arguments.popFirst() else { FileHandle.standardError.write(Data("\(usage)\n".utf8)); exit(2) }
    return next
}
while let argument = arguments.popFirst() {
    switch argument {
    case "--mutants": mutants = Int(value()) ?? mutants
    case "--seed": seed = UInt64(value()) ?? seed
    case "--image": imagePath = value()
    case "--model": models.append(value())
    case "--dump": dumpDirectory = value()
    case "--pipeline":
        let name = value()
        guard let pipeline = FuzzPipeline(rawValue: name) else {
            FileHandle.standardError.write(Data("unknown pipeline \(name); known: \(FuzzPipeline.allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
            exit(2)
        }
        pipelines.append(pipeline)
    default: FileHandle.standardError.write(Data("\(usage)\n".utf8)); exit(2)
    }
}
if pipelines.isEmpty && models.isEmpty { pipelines = FuzzPipeline.allCases }

do {
    let image = try imagePath.map { try PNGFile.read(path: $0) } ?? FuzzImages.synthetic(width: 96, height: 64, channels: 3, seed: 7)
    var harnesses = pipelines.map { DecodeHarness($0) }
    for directory in models { harnesses.append(DecodeHarness(name: directory, codec: try Codec.load(directory: directory))) }
    let crashFile = NSTemporaryDirectory() + "/lic-mutate-\(getpid()).lic"
    print("lic-mutate: \(mutants) mutants per damage, seed \(seed), image \(image.width)x\(image.height)x\(image.channels); a crash leaves its input at \(crashFile)\n")
    print("| file | damage | mutants | refused | of which only at stream end | silent | unchanged |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    var streamTotal = MutationRun.Tally(), geometryTotal = MutationRun.Tally()
    for harness in harnesses {
        let file = try harness.codec.encode(image).bytes
        let start = Date()
        let results = try MutationRun(harness: harness, file: file, mutants: mutants, crashFile: crashFile,
                                      dumpDirectory: dumpDirectory).run(seed: seed)
        for (damage, tally) in results {
            print("| \(harness.name) (\(file.count) B) | \(damage.rawValue) | \(tally.mutants) | \(tally.refused) | \(tally.refusedAtEnd) | \(tally.silent) | \(tally.unchanged) |")
            if damage.isStreamDamage { streamTotal.add(tally) } else { geometryTotal.add(tally) }
        }
        FileHandle.standardError.write(Data("\(harness.name): \(String(format: "%.1f", Date().timeIntervalSince(start))) s\n".utf8))
    }
    func share(_ part: Int, _ whole: Int) -> String { String(format: "%.2f%%", whole == 0 ? 0 : 100 * Double(part) / Double(whole)) }
    print("\nstream damage: \(streamTotal.mutants) mutants, \(streamTotal.refused) refused (\(streamTotal.refusedAtEnd) only by the end-of-stream check), "
          + "\(streamTotal.silent) silent (\(share(streamTotal.silent, streamTotal.mutants))), \(streamTotal.unchanged) unchanged; crashes: 0")
    print("geometry damage: \(geometryTotal.mutants) mutants, \(geometryTotal.refused) refused, \(geometryTotal.silent) silent "
          + "(\(share(geometryTotal.silent, geometryTotal.mutants))), \(geometryTotal.unchanged) unchanged")
    exit(streamTotal.silent + streamTotal.unchanged > 0 ? 1 : 0)
} catch {
    FileHandle.standardError.write(Data("lic-mutate: \(error)\n".utf8))
    exit(2)
}
