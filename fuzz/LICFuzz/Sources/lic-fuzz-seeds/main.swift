import Foundation
import LICCore
import LICFuzzSupport

// lic-fuzz-seeds OUT_DIR: writes the seed corpora of every fuzz target
// (fuzz/corpus/TARGET, committed; run it again after a format change):
//   decode-PIPELINE  valid files of small images coded by each fuzz pipeline
//   container        one file of each pipeline
//   toml             the example descriptors and each pipeline's canonical text
//   png              the test suite's PNG fixtures and small PNGs of each channel count

guard CommandLine.arguments.count == 2 else {
    FileHandle.standardError.write(Data("usage: lic-fuzz-seeds OUT_DIR\n".utf8))
    exit(2)
}
let out = CommandLine.arguments[1]
let root = FuzzPipeline.root
let files = FileManager.default

func write(_ bytes: [UInt8], _ target: String, _ name: String) throws {
    let directory = out + "/" + target
    try files.createDirectory(atPath: directory, withIntermediateDirectories: true)
    try Data(bytes).write(to: URL(fileURLWithPath: directory + "/" + name))
}

do {
    // Sizes around the alignments (8 for the DCT, 16 and 64 for the learned
    // pipelines) and every channel count the container allows.
    let shapes = [(16, 16, 3), (23, 9, 3), (40, 24, 1), (17, 33, 4), (64, 64, 3)]
    for pipeline in FuzzPipeline.allCases {
        let harness = DecodeHarness(pipeline)
        for (index, (width, height, channels)) in shapes.enumerated() {
            let image = try FuzzImages.synthetic(width: width, height: height, channels: channels, seed: UInt64(index + 1))
            let bytes = try harness.encode(image)
            try write(bytes, "decode-\(pipeline.rawValue)", "\(width)x\(height)x\(channels).lic")
            if index == 1 { try write(bytes, "container", "\(pipeline.rawValue).lic") }
        }
        try write(Array(harness.codec.canonicalText.utf8), "toml", "canonical-\(pipeline.rawValue).toml")
    }
    for name in try files.contentsOfDirectory(atPath: root + "/examples/pipelines").sorted() where name.hasSuffix(".toml") {
        try write(Array(try Data(contentsOf: URL(fileURLWithPath: root + "/examples/pipelines/" + name))), "toml", name)
    }
    let fixtures = root + "/Tests/LICCoreTests/Fixtures"
    for name in try files.contentsOfDirectory(atPath: fixtures).sorted() where name.hasSuffix(".png") {
        try write(Array(try Data(contentsOf: URL(fileURLWithPath: fixtures + "/" + name))), "png", name)
    }
    for channels in [1, 3, 4] {
        let path = NSTemporaryDirectory() + "/lic-fuzz-seed-\(getpid()).png"
        try PNGFile.write(try FuzzImages.synthetic(width: 7, height: 5, channels: channels, seed: 3), to: path)
        try write(Array(try Data(contentsOf: URL(fileURLWithPath: path))), "png", "synthetic-7x5x\(channels).png")
        try files.removeItem(atPath: path)
    }
} catch {
    FileHandle.standardError.write(Data("lic-fuzz-seeds: \(error)\n".utf8))
    exit(1)
}
