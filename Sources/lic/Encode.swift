import ArgumentParser
import Foundation
import LICCore
import LICTensor

struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compress a PNG into a .lic file.",
        discussion: """
        Prints the file size, the bits per pixel and the time; with --psnr or --reconstruction also the PSNR of \
        the reconstruction against the input (the decoder's side, the synthesis, then runs too: a learned \
        model's encode takes about twice as long). \
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

    @Option(help: "Also write the decoder's exact reconstruction to this PNG (and report its PSNR).")
    var reconstruction: String?

    @Flag(help: "Report the PSNR of the reconstruction against the input (runs the synthesis).")
    var psnr = false

    @Option(help: ArgumentHelp("Tile side in pixels for large images (a multiple of 16; 0: never tile).",
                               discussion: "Peak memory follows the tile, not the image (default \(TilePlan.standard.side): a 4K image encodes in about 1 GiB with mbt2018-mean, tiles of 512 in 0.65 GiB); the file records it and decoding tiles alike."))
    var tile: Int?

    @Option(help: ArgumentHelp("Peak memory to stay within, in MiB: chooses the tile side.",
                               discussion: "The cost per pixel is measured with a small probe encode of this pipeline; the image-sized buffers are added; the chosen side and the measured peak are printed to stderr."))
    var memoryBudget: Int?

    @OptionGroup var threadOptions: ThreadOptions

    func validate() throws {
        guard pipeline == nil || model == nil else { throw ValidationError("give --pipeline or --model, not both") }
        guard tile.map({ $0 == 0 || ($0 >= 64 && $0 % 16 == 0) }) ?? true else { throw ValidationError("--tile: 0, or a multiple of 16 of at least 64") }
        guard tile == nil || memoryBudget == nil else { throw ValidationError("give --tile or --memory-budget, not both") }
        guard memoryBudget.map({ $0 >= 256 && $0 <= 1 << 24 }) ?? true else { throw ValidationError("--memory-budget: 256 MiB or more") }
    }

    func run() throws {
        try threadOptions.apply()
        let image = try PNGFile.read(path: input)
        let codec = try model.map(Codec.load(directory:)) ?? pipeline.map { try Codec(descriptor: PipelineDescriptor.load(path: $0)) }
            ?? (image.channels == 3 ? DefaultModel.load() : nil) ?? Codec(descriptor: DefaultPipeline.descriptor())
        if let tile { codec.tilePlan = tile == 0 ? nil : TilePlan(side: tile) }
        let started = Date()
        if let memoryBudget {
            let choice = try TileSizing.choose(for: codec, budgetBytes: memoryBudget << 20, width: image.width, height: image.height,
                                               channels: image.channels, quality: quality)
            codec.tilePlan = choice.plan
            PageBlocks.shared.resetPeak()
            let tiles = choice.plan.map { "tiles of \($0.side) pixels" } ?? "one piece"
            FileHandle.standardError.write(Data("lic: memory budget \(memoryBudget) MiB: \(choice.bytesPerPixel) bytes per pixel measured, \(tiles)\n".utf8))
        }
        // The reconstruction only when asked for: the file alone skips the synthesis.
        let reconstructing = psnr || reconstruction != nil
        let (bytes, reconstructed): ([UInt8], Image?)
        if reconstructing {
            let encoded = try codec.encode(image, quality: quality)
            (bytes, reconstructed) = (encoded.bytes, encoded.reconstruction)
        } else {
            (bytes, reconstructed) = (try codec.encodeBytes(image, quality: quality), nil)
        }
        let seconds = Date().timeIntervalSince(started)
        if memoryBudget != nil {
            FileHandle.standardError.write(Data("lic: peak tensor memory \(PageBlocks.shared.peakLentBytes >> 20) MiB\n".utf8))
        }
        try FileOutput.write(bytes, to: output)
        if let reconstruction, let reconstructed { try PNGFile.write(reconstructed, to: reconstruction) }
        let psnr = try reconstructed.map { try ImageMetrics.psnr(image, $0) }
        print(Report.line(output, bytes: bytes.count, image: image, psnr: psnr, seconds: seconds))
    }
}
