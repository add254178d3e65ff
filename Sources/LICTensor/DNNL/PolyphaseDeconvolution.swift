/// A stride-2 transposed convolution computed as a stride-1 convolution to
/// four times the channels followed by a pixel shuffle (the polyphase form):
/// output pixel (2m + py, 2l + px) only ever meets kernel taps of one parity
/// per axis, so each of the four phases is an ordinary small convolution
/// over the input around (m, l). The sums are the same products as the
/// transposed convolution's (plus zero taps), in another order.
///
/// Why: oneDNN 2.6 runs deconvolution as backward-data convolution, at about
/// a third of its forward-convolution speed here (kodim01's largest synthesis
/// layer, 128 -> 128 channels at 256 x 384: 289 ms), and a 3-channel output
/// (the last synthesis layer) at a fraction of that again (121 ms). The
/// forward convolution it becomes is oneDNN's best path. Used for the
/// forward pass of CompressAI's deconvolutions (odd kernel k, stride 2,
/// padding k/2, output padding 1, one group); gradients still come from
/// the transposed convolution's own backward passes (same function).
struct PolyphaseDeconvolution {
    let g: TransposedConvGeometry
    /// The phase kernels reach `radius` input pixels each way.
    let radius: Int
    let conv: ConvGeometry

    init?(_ g: TransposedConvGeometry) {
        let k = g.kernelHeight, p = k / 2
        guard g.strideH == 2, g.strideW == 2, g.kernelWidth == k, k % 2 == 1, g.groups == 1,
              [g.padTop, g.padLeft, g.padBottom, g.padRight].allSatisfy({ $0 == p }),
              g.outputPaddingH == 1, g.outputPaddingW == 1 else { return nil }
        self.g = g
        // Tap ky meets input offset d = (py + p - ky) / 2 for the phase py of its parity.
        radius = (0..<k).flatMap { ky in (0...1).filter { ($0 + p - ky) % 2 == 0 }.map { abs(($0 + p - ky) / 2) } }.max() ?? 0
        guard let conv = try? ConvGeometry(batch: g.batch, inChannels: g.inChannels, outChannels: 4 * g.outChannels,
                                           inHeight: g.inHeight, inWidth: g.inWidth, kernel: 2 * radius + 1, padding: radius)
        else { return nil }
        self.conv = conv
    }

    /// dst [N, outC, 2H, 2W] = the transposed convolution of src with weights [inC, outC, k, k] and bias.
    func forward(src: UnsafePointer<Float>, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                 dst: UnsafeMutablePointer<Float>) throws {
        let (inC, outC, k, p, side) = (g.inChannels, g.outChannels, g.kernelHeight, g.kernelHeight / 2, 2 * radius + 1)
        // Phase weights [4 outC, inC, side, side]: channel co * 4 + py * 2 + px (PixelShuffle's order).
        let phaseWeights = try TensorStorage(count: conv.weightCount)
        let w = phaseWeights.pointer
        for co in 0..<outC {
            for py in 0...1 {
                for px in 0...1 {
                    for dy in 0..<side {
                        let ky = py + p - 2 * (dy - radius)
                        guard ky >= 0, ky < k else { continue }
                        for dx in 0..<side {
                            let kx = px + p - 2 * (dx - radius)
                            guard kx >= 0, kx < k else { continue }
                            for ci in 0..<inC {
                                w[(((co * 4 + py * 2 + px) * inC + ci) * side + dy) * side + dx] = weights[((ci * outC + co) * k + ky) * k + kx]
                            }
                        }
                    }
                }
            }
        }
        let phaseBias = try bias.map { bias in
            let b = try TensorStorage(uninitializedCount: 4 * outC)
            for c in 0..<(4 * outC) { b.pointer[c] = bias[c / 4] }
            return b
        }
        let phases = try TensorStorage(uninitializedCount: conv.outputCount)
        try Convolution.forward(conv, src: src, weights: w, bias: phaseBias?.pointer, dst: phases.pointer)
        // Pixel shuffle: dst[n, c, 2m + py, 2l + px] = phases[n, 4c + 2py + px, m, l].
        let (h, width) = (g.inHeight, g.inWidth)
        let source = phases.pointer
        Parallel.forEachChunk(count: g.batch * outC, chunk: 1) { planes in
            for plane in planes {
                let out = dst + plane * 4 * h * width
                for py in 0...1 {
                    for px in 0...1 {
                        let phase = source + (plane * 4 + py * 2 + px) * h * width
                        for m in 0..<h {
                            let row = out + (2 * m + py) * 2 * width + px
                            let from = phase + m * width
                            for l in 0..<width { row[2 * l] = from[l] }
                        }
                    }
                }
            }
        }
    }
}
