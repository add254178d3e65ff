import ArgumentParser
import Foundation
import LICCore

struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compress a PNG into a .lic file.",
        discussion: """
        Prints the file size, the bits per pixel and the PSNR of the reconstruction against the input. \
        Without --model or --pipeline, RGB images are coded with the shipped learned model (models/default, \
        or the directory LIC_DEFAULT_MODEL names); gray and RGBA images, and every image where no model is \
        installed, with the built-in classical-dct pipeline (which keeps gray as gray and alpha exactly).
        """)

    @Argument(help: "The PNG to compress (8-bit gray, RGB or RGBA; palette PNGs are converted).")
    var input: String

    @Option(name: .shortAndLong, help: "Where to write the .lic file.")
    var output: String

    @Option(help: "Pipeline descriptor (TOML), e.g. examples/pipelines/classical-dct.toml.")
    var pipeline: String?

    @Option(help: "A learned model directory (from lic train). Default: the shipped model.")
    var model: String?

    @Option(help: ArgumentHelp("Quality of a variable-rate model, 1 (smallest file) to 8 (best quality), fractions allowed; the file records it.",
                               discussion: "Default \(RateLevels.defaultQuality)."))
    var quality: Double?

    @Option(help: "Also write the decoder's exact reconstruction to this PNG.")
    var reconstruction: String?

    @Option(help: ArgumentHelp("Tile side in pixels for large images (a multiple of 16; 0: never tile).",
                               discussion: "Peak memory follows the tile, not the image (default \(TilePlan.standard.side): a 4K image codes in about 2.5 GiB, smaller tiles need less); the file records it and decoding tiles alike."))
    var tile: Int?

    @OptionGroup var threadOptions: ThreadOptions

    func validate() throws {
        guard pipeline == nil || model == nil else { throw ValidationError("give --pipeline or --model, not both") }
        guard tile.map({ $0 == 0 || ($0 >= 64 && $0 % 16 == 0) }) ?? true else { throw ValidationError("--tile: 0, or a multiple of 16 of at least 64") }
    }

    func run() throws {
        try threadOptions.apply()
        let image = try PNGFile.read(path: input)
        let codec = try model.map(Codec.load(directory:)) ?? pipeline.map { try Codec(descriptor: PipelineDescriptor.load(path: $0)) }
            ?? (image.channels == 3 ? DefaultModel.load() : nil) ?? Codec(descriptor: DefaultPipeline.descriptor())
        if let tile { codec.tilePlan = tile == 0 ? nil : TilePlan(side: tile) }
        let started = Date()
        let encoded = try codec.encode(image, quality: quality)
        let seconds = Date().timeIntervalSince(started)
        try FileOutput.write(encoded.bytes, to: output)
        if let reconstruction { try PNGFile.write(encoded.reconstruction, to: reconstruction) }
        let psnr = try ImageMetrics.psnr(image, encoded.reconstruction)
        print(Report.line(output, bytes: encoded.bytes.count, image: image, psnr: psnr, seconds: seconds))
    }
}
