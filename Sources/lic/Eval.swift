import ArgumentParser
import Foundation
import LICCore

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure a learned model on a folder of PNGs.",
        discussion: """
        Per image and mean: bpp from the real .lic bytes, bpp estimated from the model's likelihoods, \
        PSNR on 8-bit RGB, MS-SSIM (images of at least 161 pixels per side), encode and decode seconds. \
        Images of any size are padded to the model's alignment by edge replication and cropped back.
        """)

    @Option(help: "Model directory (from lic train). Default: the shipped model.") var model: String?
    @Option(help: "Quality of a variable-rate model, 1 (smallest files) to 8 (best quality); default \(RateLevels.defaultQuality).")
    var quality: Double?
    @Option(help: "Folder of PNGs.") var data: String
    @Option(help: "Also write the results as JSON to this file.") var json: String?
    @OptionGroup var threadOptions: ThreadOptions

    func run() throws {
        try threadOptions.apply()
        guard let learned = try model.map(Codec.load(directory:)) ?? DefaultModel.load() else {
            throw LICError("no --model given and no default model is installed (models/default or \(DefaultModel.environmentKey))")
        }
        let report = try Evaluator.evaluate(model: learned, folder: data, quality: quality) { print($0) }
        let m = report.mean
        print(String(format: "mean of %d: %.4f bpp (estimated %.4f), PSNR %.2f dB, MS-SSIM %@, encode %.3f s, decode %.3f s",
                     report.images.count, m.bpp, m.bpp_estimated, m.psnr, m.ms_ssim.map { String(format: "%.4f", $0) } ?? "n/a",
                     m.encode_s, m.decode_s))
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            do { try encoder.encode(report).write(to: URL(fileURLWithPath: json), options: .atomic) } catch {
                throw LICError("\(json): cannot write: \(error.localizedDescription)")
            }
        }
    }
}
