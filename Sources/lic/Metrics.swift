import ArgumentParser
import Foundation
import LICCore

struct Metrics: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "PSNR and MS-SSIM between images, as lic eval measures them.",
        discussion: """
        REFERENCE and DISTORTED are two PNG files, or two folders whose PNGs are matched by file name \
        (every PNG of DISTORTED needs its reference). Prints one JSON object per line per image - \
        {"name", "psnr", "ms_ssim"} - and for folders a last line named "mean" (the averages). \
        Both are on 8-bit RGB (gray copied to three channels, alpha dropped); PSNR of identical images is \
        reported as \(Int(Evaluator.losslessPSNR)) dB; MS-SSIM is null for images under 161 pixels a side. \
        tools/rd_report.py measures other codecs with it, so every codec is scored by one implementation.
        """)

    @Argument(help: "The original PNG, or a folder of them.") var reference: String
    @Argument(help: "The distorted PNG, or a folder of PNGs with the same names.") var distorted: String

    struct Line: Encodable {
        var name: String
        var psnr: Double
        var ms_ssim: Double?

        enum Keys: String, CodingKey { case name, psnr, ms_ssim }

        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(name, forKey: .name)
            try container.encode(psnr, forKey: .psnr)
            if let ms_ssim { try container.encode(ms_ssim, forKey: .ms_ssim) } else { try container.encodeNil(forKey: .ms_ssim) }
        }
    }

    func run() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: distorted, isDirectory: &isDirectory) else {
            throw LICError("\(distorted): no such file or folder")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        func emit(_ line: Line) throws { print(String(decoding: try encoder.encode(line), as: UTF8.self)) }
        guard isDirectory.boolValue else {
            try emit(measure(name: URL(fileURLWithPath: distorted).lastPathComponent,
                             try PNGFile.read(path: reference).convertedToRGB(), try PNGFile.read(path: distorted).convertedToRGB()))
            return
        }
        let references = try ImageFolder(path: reference)
        let images = try ImageFolder(path: distorted)
        var lines: [Line] = []
        for (index, name) in images.names.enumerated() {
            guard let match = references.names.firstIndex(of: name) else {
                throw LICError("\(distorted)/\(name): no image of that name in \(reference)")
            }
            let line = try measure(name: name, references.image(at: match), images.image(at: index))
            try emit(line)
            lines.append(line)
        }
        let ssims = lines.compactMap(\.ms_ssim)
        try emit(Line(name: "mean", psnr: lines.reduce(0) { $0 + $1.psnr } / Double(lines.count),
                      ms_ssim: ssims.isEmpty ? nil : ssims.reduce(0, +) / Double(ssims.count)))
    }

    func measure(name: String, _ a: Image, _ b: Image) throws -> Line {
        do {
            return Line(name: name, psnr: min(Evaluator.losslessPSNR, try ImageMetrics.psnr(a, b)), ms_ssim: try? MSSSIM.compute(a, b))
        } catch {
            throw LICError("\(name): \(error)")
        }
    }
}
