import ArgumentParser
import Foundation
import LICCore

struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decompress a .lic file into a PNG.",
        discussion: """
        A classical pipeline comes from the file itself unless --pipeline names one; a learned model's file \
        names its model only by identity: --model, or else the shipped default model (the identity must match).
        """)

    @Argument(help: "The .lic file.")
    var input: String

    @Option(name: .shortAndLong, help: "Where to write the PNG.")
    var output: String

    @Option(help: "Pipeline descriptor to decode with instead of the one the file embeds.")
    var pipeline: String?

    @Option(help: "The learned model directory the file was coded with (learned models are not embedded in files).")
    var model: String?

    @Option(help: "The original image, to report PSNR against.")
    var reference: String?

    @Option(help: "Refuse images with more pixels than this (default and maximum: \(Image.maxPixels)).")
    var maxPixels: Int = Image.maxPixels

    @OptionGroup var threadOptions: ThreadOptions

    func validate() throws {
        guard pipeline == nil || model == nil else { throw ValidationError("give --pipeline or --model, not both") }
    }

    func run() throws {
        try threadOptions.apply()
        let bytes = try FileInput.read(input)
        let given = try model.map(Codec.load(directory:)) ?? pipeline.map { try Codec(descriptor: PipelineDescriptor.load(path: $0)) }
            ?? (Codec.embedsPipeline(bytes) ? nil : DefaultModel.load())
        let started = Date()
        let image = try Codec.decode(bytes, source: input, codec: given, maxPixels: maxPixels).image
        let seconds = Date().timeIntervalSince(started)
        try PNGFile.write(image, to: output)
        let psnr = try reference.map { try ImageMetrics.psnr(PNGFile.read(path: $0), image) }
        print(Report.line(input, bytes: bytes.count, image: image, psnr: psnr, seconds: seconds) + " -> \(output)")
    }
}
