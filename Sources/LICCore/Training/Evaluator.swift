import Foundation
import LICTensor

/// `lic eval`: codes every image of a folder with a learned model and
/// measures it. bpp comes from the real container bytes; the estimate from
/// the model's likelihoods on the same (padded) input; PSNR and MS-SSIM on
/// the 8-bit RGB result (MS-SSIM needs >= 161 pixels per side, else null).
/// Images are padded to the model's alignment by edge replication and the
/// reconstruction cropped back, so any size works.
public enum Evaluator {
    public struct Result: Codable, Sendable {
        public var name: String
        public var bpp: Double
        public var bpp_estimated: Double
        /// dB; an exact reconstruction is reported as `losslessPSNR` (JSON has no infinity).
        public var psnr: Double
        /// null where the image is too small for MS-SSIM.
        public var ms_ssim: Double?
        public var encode_s: Double
        public var decode_s: Double

        public func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(bpp, forKey: .bpp)
            try container.encode(bpp_estimated, forKey: .bpp_estimated)
            try container.encode(psnr, forKey: .psnr)
            if let ms_ssim { try container.encode(ms_ssim, forKey: .ms_ssim) } else { try container.encodeNil(forKey: .ms_ssim) }
            try container.encode(encode_s, forKey: .encode_s)
            try container.encode(decode_s, forKey: .decode_s)
        }
    }

    /// The PSNR reported for an exact reconstruction.
    public static let losslessPSNR = 100.0

    public struct Report: Codable, Sendable {
        public var images: [Result]
        public var mean: Result
    }

    /// `quality`: a variable-rate model's (default `RateLevels.defaultQuality`).
    public static func evaluate(model: Codec, folder path: String, quality: Double? = nil,
                                progress: (String) -> Void = { _ in }) throws -> Report {
        let folder = try ImageFolder(path: path)
        let rateLevel = try model.rateLevel(quality: quality)
        var results: [Result] = []
        for index in 0..<folder.count {
            let image = folder.image(at: index)
            var start = Date()
            let encoded = try model.encode(image, quality: quality)
            let encodeSeconds = Date().timeIntervalSince(start)
            start = Date()
            let decoded = try model.decode(encoded.bytes, source: folder.names[index])
            let decodeSeconds = Date().timeIntervalSince(start)
            guard decoded == encoded.reconstruction else {
                throw LICError("\(folder.names[index]): the decoder did not reproduce the encoder's reconstruction")
            }
            let pixels = Double(image.width * image.height)
            let result = Result(name: folder.names[index], bpp: Double(encoded.bytes.count * 8) / pixels,
                                bpp_estimated: try estimatedBits(model, image, rateLevel: rateLevel) / pixels,
                                psnr: min(Self.losslessPSNR, try ImageMetrics.psnr(image, decoded)),
                                ms_ssim: try? MSSSIM.compute(image, decoded), encode_s: encodeSeconds, decode_s: decodeSeconds)
            results.append(result)
            progress(String(format: "[%d/%d] %@: %.4f bpp (estimated %.4f), PSNR %.2f dB, MS-SSIM %@, encode %.3f s, decode %.3f s",
                            index + 1, folder.count, result.name, result.bpp, result.bpp_estimated, result.psnr,
                            result.ms_ssim.map { String(format: "%.4f", $0) } ?? "n/a", encodeSeconds, decodeSeconds))
        }
        return Report(images: results, mean: mean(results))
    }

    /// -sum(log2 likelihoods) of the evaluation-mode forward pass.
    static func estimatedBits(_ model: Codec, _ input: Image, rateLevel: Double?) throws -> Double {
        try GradientMode.withoutGradients {
            let image = model.codedChannels(for: input) == input.channels ? input : try input.convertedToRGB()
            let x = try ImagePlanes.tensor(from: image, alignment: try model.alignment(channels: image.channels))
            var context = CallContext(mode: .eval)
            context.rateLevel = rateLevel
            let out = try model.forward(x, context: context)
            return try out.likelihoods.reduce(0.0) { $0 - Double(try $1.log().sum().scalarValue) } / M_LN2
        }
    }

    static func mean(_ results: [Result]) -> Result {
        let n = Double(max(results.count, 1))
        func average(_ key: (Result) -> Double) -> Double { results.reduce(0) { $0 + key($1) } / n }
        let ssims = results.compactMap(\.ms_ssim)
        return Result(name: "mean", bpp: average(\.bpp), bpp_estimated: average(\.bpp_estimated), psnr: average(\.psnr),
                      ms_ssim: ssims.isEmpty ? nil : ssims.reduce(0, +) / Double(ssims.count),
                      encode_s: average(\.encode_s), decode_s: average(\.decode_s))
    }
}
