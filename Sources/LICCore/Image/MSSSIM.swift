import Foundation

/// Multi-scale structural similarity (Wang, Simoncelli & Bovik 2003) on
/// 8-bit images, computed exactly as `pytorch_msssim.ms_ssim(x, y,
/// data_range=255)` does it (the evaluation CompressAI reports as
/// "ms-ssim-rgb"):
///
/// - an 11-tap Gaussian window with sigma 1.5 (normalized in float32), applied
///   separably as a 'valid' convolution (no padding; each side shrinks by 10);
/// - C1 = (0.01 * 255)^2, C2 = (0.03 * 255)^2, variances as E[x^2] - mu^2;
/// - 5 scales with weights [0.0448, 0.2856, 0.3001, 0.2363, 0.1333]; between
///   scales a 2x2 average pool with stride 2, where a side of odd length is
///   zero-padded by one sample at both ends and the zeros count in the average
///   (`avg_pool2d(kernel_size=2, padding=[h % 2, w % 2])`);
/// - per channel, the contrast-structure mean `cs` of scales 1-4 and the SSIM
///   mean of scale 5, each clamped at 0 (relu), combined as
///   prod(cs_i ^ w_i) * ssim_5 ^ w_5; the result is the mean over channels.
///
/// Gray images use their one channel, RGB all three, RGBA the first three.
/// Arithmetic is in Double with pytorch_msssim's float32 window taps: the
/// result matches `ms_ssim` on float64 tensors to about 1e-10 and on float32
/// tensors (CompressAI's evaluation) to about 1e-6, float32 rounding being
/// the difference.
public enum MSSSIM {
    /// The per-scale weights of Wang et al.
    public static let weights: [Double] = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333]
    /// Side of the Gaussian window.
    public static let windowSize = 11
    /// Standard deviation of the Gaussian window, in pixels.
    public static let windowSigma = 1.5
    /// Smallest accepted length of the shorter side: the four downsamplings
    /// must leave at least one full window (pytorch_msssim asserts
    /// `min(H, W) > (win_size - 1) * 2^4`).
    public static let minimumSide = (windowSize - 1) * (1 << 4) + 1

    /// MS-SSIM of two images of identical geometry, in [0, 1]; 1 for identical
    /// images. Throws if the geometries differ or the shorter side is below
    /// `minimumSide` (161) pixels.
    public static func compute(_ a: Image, _ b: Image) throws -> Double {
        guard a.width == b.width, a.height == b.height, a.channels == b.channels,
              a.pixels.count == b.pixels.count,
              a.pixels.count == a.width * a.height * a.channels
        else {
            throw ImageError.geometryMismatch(describe(a), describe(b))
        }
        guard min(a.width, a.height) >= minimumSide else {
            throw LICError("MS-SSIM needs images at least \(minimumSide) pixels on the shorter side "
                + "(5 scales with an \(windowSize)-pixel window), got \(a.width)x\(a.height)")
        }
        let used = a.channels == 4 ? 3 : a.channels
        let window = MSSSIM.window
        var total = 0.0
        for channel in 0..<used {
            total += channelValue(plane(a, channel), plane(b, channel),
                                  width: a.width, height: a.height, window: window)
        }
        return total / Double(used)
    }

    // MARK: - Internals

    /// The window pytorch_msssim uses: `_fspecial_gauss_1d(11, 1.5)`, built in
    /// float32 on the CPU (`torch.exp`, then divided by its float32 sum), so
    /// its taps sum to 0.99999997 rather than 1. Using these exact float32 taps
    /// (rather than the ideal Gaussian in Double) is what brings agreement with
    /// the float64 reference from ~1e-6 down to ~1e-10: the missing 3e-8 of
    /// weight shifts E[x^2] - mu^2 by up to ~0.004 at 8-bit magnitudes.
    static let window: [Double] = {
        let half: [Float] = [0.0010283803567290306, 0.0075987582094967365, 0.036000773310661316,
                             0.10936068743467331, 0.21300552785396576, 0.26601171493530273]
        return (half + half.dropLast().reversed()).map { Double($0) }
    }()

    /// The ideal window: `exp(-c^2 / (2 sigma^2))` for c in -5...5, normalized
    /// to sum 1 in Double; equal to `window` to within float32 rounding.
    static func gaussianWindow() -> [Double] {
        let half = windowSize / 2
        let raw = (0..<windowSize).map { i -> Double in
            let c = Double(i - half)
            return exp(-(c * c) / (2 * windowSigma * windowSigma))
        }
        let sum = raw.reduce(0, +)
        return raw.map { $0 / sum }
    }

    /// One channel of an interleaved image as a row-major plane of Doubles.
    private static func plane(_ image: Image, _ channel: Int) -> [Double] {
        let count = image.width * image.height
        let stride = image.channels
        return image.pixels.withUnsafeBufferPointer { px in
            [Double](unsafeUninitializedCapacity: count) { out, initialized in
                for i in 0..<count { out[i] = Double(px[i * stride + channel]) }
                initialized = count
            }
        }
    }

    /// The MS-SSIM of one channel.
    private static func channelValue(_ x0: [Double], _ y0: [Double], width: Int, height: Int,
                                     window: [Double]) -> Double {
        var x = x0, y = y0, w = width, h = height
        var value = 1.0
        for level in 0..<weights.count {
            let (ssim, cs) = ssimAndContrast(x, y, width: w, height: h, window: window)
            if level < weights.count - 1 {
                value *= pow(max(cs, 0), weights[level])
                let (px, pw, ph) = averagePool(x, width: w, height: h)
                let (py, _, _) = averagePool(y, width: w, height: h)
                x = px
                y = py
                w = pw
                h = ph
            } else {
                value *= pow(max(ssim, 0), weights[level])
            }
        }
        return value
    }

    /// Mean SSIM and mean contrast-structure term over the valid positions.
    private static func ssimAndContrast(_ x: [Double], _ y: [Double], width: Int, height: Int,
                                        window: [Double]) -> (ssim: Double, cs: Double) {
        let c1 = (0.01 * 255.0) * (0.01 * 255.0)
        let c2 = (0.03 * 255.0) * (0.03 * 255.0)
        let count = width * height
        var xx = [Double](repeating: 0, count: count)
        var yy = xx, xy = xx
        for i in 0..<count {
            xx[i] = x[i] * x[i]
            yy[i] = y[i] * y[i]
            xy[i] = x[i] * y[i]
        }
        let (mu1, ow, oh) = filterValid(x, width: width, height: height, window: window)
        let mu2 = filterValid(y, width: width, height: height, window: window).0
        let exx = filterValid(xx, width: width, height: height, window: window).0
        let eyy = filterValid(yy, width: width, height: height, window: window).0
        let exy = filterValid(xy, width: width, height: height, window: window).0
        var ssimSum = 0.0, csSum = 0.0
        for i in 0..<(ow * oh) {
            let m1 = mu1[i], m2 = mu2[i]
            let m1sq = m1 * m1, m2sq = m2 * m2, m12 = m1 * m2
            let s1 = exx[i] - m1sq, s2 = eyy[i] - m2sq, s12 = exy[i] - m12
            let cs = (2 * s12 + c2) / (s1 + s2 + c2)
            csSum += cs
            ssimSum += (2 * m12 + c1) / (m1sq + m2sq + c1) * cs
        }
        let n = Double(ow * oh)
        return (ssimSum / n, csSum / n)
    }

    /// Separable 'valid' convolution: along the columns (height), then along
    /// the rows (width), as pytorch_msssim's `gaussian_filter` does. A side
    /// shorter than the window is left unfiltered, as there.
    private static func filterValid(_ input: [Double], width: Int, height: Int,
                                    window: [Double]) -> ([Double], Int, Int) {
        let k = window.count
        var data = input, w = width, h = height
        if h >= k {
            let oh = h - k + 1
            var out = [Double](repeating: 0, count: oh * w)
            data.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    for r in 0..<oh {
                        let row = r * w
                        for t in 0..<k {
                            let weight = window[t]
                            let s = (r + t) * w
                            for c in 0..<w { dst[row + c] += weight * src[s + c] }
                        }
                    }
                }
            }
            data = out
            h = oh
        }
        if w >= k {
            let ow = w - k + 1
            var out = [Double](repeating: 0, count: ow * h)
            data.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    for r in 0..<h {
                        let s = r * w, d = r * ow
                        for c in 0..<ow {
                            var sum = 0.0
                            for t in 0..<k { sum += window[t] * src[s + c + t] }
                            dst[d + c] = sum
                        }
                    }
                }
            }
            data = out
            w = ow
        }
        return (data, w, h)
    }

    /// `avg_pool2d(kernel_size=2, stride=2, padding=[h % 2, w % 2])` with
    /// `count_include_pad=True`: an odd side gains a zero at each end, and
    /// every output averages 4 samples (padding included).
    private static func averagePool(_ input: [Double], width: Int, height: Int) -> ([Double], Int, Int) {
        let padW = width % 2, padH = height % 2
        let ow = (width + 2 * padW - 2) / 2 + 1
        let oh = (height + 2 * padH - 2) / 2 + 1
        var out = [Double](repeating: 0, count: ow * oh)
        input.withUnsafeBufferPointer { src in
            func sample(_ r: Int, _ c: Int) -> Double {
                (r < 0 || r >= height || c < 0 || c >= width) ? 0 : src[r * width + c]
            }
            for r in 0..<oh {
                let r0 = 2 * r - padH
                for c in 0..<ow {
                    let c0 = 2 * c - padW
                    out[r * ow + c] = (sample(r0, c0) + sample(r0, c0 + 1)
                        + sample(r0 + 1, c0) + sample(r0 + 1, c0 + 1)) / 4
                }
            }
        }
        return (out, ow, oh)
    }

    private static func describe(_ image: Image) -> String {
        "\(image.width)x\(image.height)x\(image.channels) (\(image.pixels.count) samples)"
    }
}
