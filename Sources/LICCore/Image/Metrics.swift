import Foundation

/// Distortion measures between two images of identical geometry.
public enum ImageMetrics {
    /// Mean squared error over every sample of every channel.
    public static func mse(_ a: Image, _ b: Image) throws(ImageError) -> Double {
        guard a.width == b.width, a.height == b.height, a.channels == b.channels,
              a.pixels.count == b.pixels.count
        else {
            throw .geometryMismatch(describe(a), describe(b))
        }
        guard !a.pixels.isEmpty else { return 0 }
        // Integer accumulation is exact: at most 2^30 samples * 255^2 < 2^46.
        var sum = 0
        a.pixels.withUnsafeBufferPointer { pa in
            b.pixels.withUnsafeBufferPointer { pb in
                for i in 0..<pa.count {
                    let d = Int(pa[i]) - Int(pb[i])
                    sum &+= d * d
                }
            }
        }
        return Double(sum) / Double(a.pixels.count)
    }

    /// Peak signal-to-noise ratio in dB for 8-bit samples (peak 255);
    /// `+infinity` when the images are identical.
    public static func psnr(_ a: Image, _ b: Image) throws(ImageError) -> Double {
        let error = try mse(a, b)
        guard error > 0 else { return .infinity }
        return 10 * log10(255.0 * 255.0 / error)
    }

    private static func describe(_ image: Image) -> String {
        "\(image.width)x\(image.height)x\(image.channels) (\(image.pixels.count) samples)"
    }
}
