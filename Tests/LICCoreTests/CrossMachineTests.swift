import Foundation
import Testing
@testable import LICCore

/// Files decode on any machine: encoded with oneDNN restricted to SSE4.1 on
/// one thread (and the exact kernels' portable C loop), decoded with the
/// default kernels (AVX2 or AVX-512 here) on two,
/// and the other way round, for every learned pipeline. The decoder must read
/// the same symbols (it fails loudly otherwise: a different table desyncs the
/// stream); pixels may differ from the encoder's reconstruction by one level,
/// since the synthesis transform stays on oneDNN.
@Suite struct CrossMachineTests {
    /// The other machine: oneDNN's SSE4.1 kernels, one thread, and the portable C loop of the exact kernels (what a
    /// machine without AVX2 or SSE, e.g. ARM, runs) instead of AVX2.
    static let sse = ["DNNL_MAX_CPU_ISA": "SSE41", "LIC_THREADS": "1", "LIC_EXACT_KERNEL": "portable"]
    static let native = ["LIC_THREADS": "2"]

    static let pipelines: [(name: String, quantizer: String)] = [
        ("bmshj2018-factorized", ""), ("bmshj2018-hyperprior", ""), ("mbt2018-mean", ""), ("mbt2018-checkerboard", ""),
        ("mbt2018-mean", "\n[quantizer]\nplugin = \"lic.quantizer.tcq\"\nstates = 8\n"),  // trellis-coded
        ("channelwise-power", ""), ("mbt2018", ""), ("cheng2020-anchor-checkerboard", ""),
        ("channelwise-elic", ""), ("elic2022", ""), ("elic2022-official", ""),
    ]

    /// Every learned pipeline, untrained and small: the coding paths (factorized tables, Gaussian scales, checkerboard
    /// contexts, trellis level sets, channel-wise slices with LRP, autoregressive wavefronts) under both instruction sets.
    @Test(arguments: CrossMachineTests.pipelines.indices)
    func filesDecodeUnderAnotherInstructionSetAndThreadCount(_ index: Int) throws {
        let (name, quantizer) = Self.pipelines[index]
        let text = try LearnedCodecTests.tinyText(name, n: 16, m: 24) + quantizer
        let codec = try Codec(descriptor: PipelineDescriptor.parse(text, source: "\(name).toml", baseDirectory: nil))
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try codec.save(to: directory + "/model")
        try Self.check(model: directory + "/model", image: TestSupport.packageRoot + "/examples/images/kodim23.png", in: directory, name: name)
    }

    /// A trained model (Fixtures/models/README.md) on an image that failed to decode across instruction sets before
    /// the entropy parameters were computed exactly.
    @Test func aTrainedModelsFilesDecodeUnderAnotherInstructionSet() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let original = try PNGFile.read(path: TestSupport.packageRoot + "/examples/images/kodim23.png")
        var mirrored = original.pixels
        for y in 0..<original.height {
            for x in 0..<original.width {
                for c in 0..<original.channels {
                    mirrored[(y * original.width + x) * original.channels + c] =
                        original.pixels[(y * original.width + original.width - 1 - x) * original.channels + c]
                }
            }
        }
        try PNGFile.write(try Image(width: original.width, height: original.height, channels: original.channels, pixels: mirrored),
                          to: directory + "/mirrored.png")
        try Self.check(model: TestSupport.fixtures + "/models/mbt2018-mean-16x32", image: directory + "/mirrored.png", in: directory,
                       name: "mbt2018-mean-16x32")
    }

    /// The shipped trained model (models/mbt2018-mean-vr, full size) at its lowest and highest quality.
    @Test(arguments: ["1", "8"])
    func theShippedModelsFilesDecodeUnderAnotherInstructionSet(quality: String) throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.check(model: TestSupport.packageRoot + "/models/mbt2018-mean-vr", image: TestSupport.packageRoot + "/examples/images/kodim23.png",
                       in: directory, name: "mbt2018-mean-vr, quality \(quality)", options: ["--quality", quality])
    }

    static func check(model: String, image: String, in directory: String, name: String, options: [String] = []) throws {
        for (encoder, decoder) in [(Self.sse, Self.native), (Self.native, Self.sse)] {
            let (file, reconstruction, decoded) = (directory + "/a.lic", directory + "/rec.png", directory + "/dec.png")
            let encoding = try TestSupport.run(TestSupport.licExecutable, ["encode", "--model", model, image, "-o", file,
                                                                           "--reconstruction", reconstruction] + options, environment: encoder)
            #expect(encoding.status == 0, "\(name) encode \(encoder): \(encoding.stderr)")
            let decoding = try TestSupport.run(TestSupport.licExecutable, ["decode", "--model", model, file, "-o", decoded],
                                               environment: decoder)
            #expect(decoding.status == 0, "\(name) encoded with \(encoder), decoded with \(decoder): \(decoding.stderr)")
            guard encoding.status == 0, decoding.status == 0 else { continue }
            let (a, b) = (try PNGFile.read(path: reconstruction), try PNGFile.read(path: decoded))
            #expect(a.width == b.width && a.height == b.height)
            let worst = zip(a.pixels, b.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
            #expect(worst <= 1, "\(name): pixels differ by up to \(worst) levels from the encoder's reconstruction")
        }
    }
}
