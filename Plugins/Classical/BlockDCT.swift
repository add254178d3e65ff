import LICPluginKit
#if canImport(Glibc)
import Glibc
#endif

/// Block DCT-II, orthonormal, separable. Analysis maps [N, C, H, W] to
/// [N, C*B*B, H/B, W/B]: channel c*B*B + u*B + v holds frequency (u, v) of
/// colour channel c, so an entropy model can treat every band as a channel.
/// With `color = "ycbcr"`, the first three channels go through the JPEG
/// (BT.601, full range) YCbCr matrix first. Inputs are centred on 0.5.
final class BlockDCT: TransformComponent {
    static let schema: [ParamSpec] = [
        .int("block", default: 8, range: 2...32, "Block size B (the image is padded to a multiple of it)"),
        .bool("inverse", default: false, "Synthesis: map bands back to pixels"),
        .enumeration("color", ["ycbcr", "none"], default: "ycbcr", "Colour transform applied to RGB(A) input"),
    ]

    let host: Host
    let block: Int
    let inverse: Bool
    let useYCbCr: Bool
    /// basis[u * B + i] = c(u) cos((2i + 1) u pi / 2B)
    let basis: [Float]

    init(params: Params, host: Host) throws {
        self.host = host
        block = Int(try params.int("block"))
        inverse = try params.bool("inverse")
        useYCbCr = try params.string("color") == "ycbcr"
        var basis = [Float](repeating: 0, count: block * block)
        for u in 0..<block {
            let scale = u == 0 ? (1.0 / Double(block)).squareRoot() : (2.0 / Double(block)).squareRoot()
            for i in 0..<block {
                basis[u * block + i] = Float(scale * cos(Double((2 * i + 1) * u) * Double.pi / Double(2 * block)))
            }
        }
        self.basis = basis
    }

    var alignment: Int { inverse ? 1 : block }

    func outputShape(for input: [Int]) throws -> [Int] {
        guard input.count == 4 else { throw PluginError(.invalidArgument, "expects an NCHW tensor, got rank \(input.count)") }
        let area = block * block
        if inverse {
            guard input[1] % area == 0 else {
                throw PluginError(.invalidArgument, "inverse DCT: \(input[1]) channels is not a multiple of \(area) bands")
            }
            return [input[0], input[1] / area, input[2] * block, input[3] * block]
        }
        guard input[2] % block == 0, input[3] % block == 0 else {
            throw PluginError(.invalidArgument, "DCT input \(input[2])x\(input[3]) is not a multiple of block \(block)")
        }
        return [input[0], input[1] * area, input[2] / block, input[3] / block]
    }

    func forward(_ input: TensorView, into output: TensorView) throws {
        let expected = try outputShape(for: input.shape)
        guard output.shape == expected else {
            throw PluginError(.invalidArgument, "output shape \(output.shape) should be \(expected)")
        }
        let source = try input.contiguousBuffer()
        let target = try output.contiguousBuffer()
        if inverse {
            let pixels = output.shape
            try transformBlocks(bands: UnsafeMutableBufferPointer(start: source.baseAddress, count: source.count),
                                pixels: target, pixelShape: pixels, toBands: false)
            try colorTransform(target, shape: pixels, forward: false)
        } else {
            // Work on a copy so the host's input stays untouched.
            try host.withScratch(Float.self, count: source.count) { pixels in
                _ = pixels.initialize(from: source)
                try colorTransform(pixels, shape: input.shape, forward: true)
                try transformBlocks(bands: target, pixels: pixels, pixelShape: input.shape, toBands: true)
            }
        }
    }

    /// Centre on 0.5 and, for 3+ channels, rotate RGB into YCbCr (or back).
    private func colorTransform(_ data: UnsafeMutableBufferPointer<Float>, shape: [Int], forward: Bool) throws {
        let (batch, channels, plane) = (shape[0], shape[1], shape[2] * shape[3])
        for n in 0..<batch {
            let image = data.baseAddress! + n * channels * plane
            if forward { for i in 0..<(channels * plane) { image[i] -= 0.5 } }
            if useYCbCr && channels >= 3 {
                let (r, g, b) = (image, image + plane, image + 2 * plane)
                for i in 0..<plane {
                    let (x, y, z) = (r[i], g[i], b[i])
                    if forward {
                        r[i] = 0.299 * x + 0.587 * y + 0.114 * z
                        g[i] = -0.168736 * x - 0.331264 * y + 0.5 * z
                        b[i] = 0.5 * x - 0.418688 * y - 0.081312 * z
                    } else {
                        r[i] = x + 1.402 * z
                        g[i] = x - 0.344136 * y - 0.714136 * z
                        b[i] = x + 1.772 * y
                    }
                }
            }
            if !forward { for i in 0..<(channels * plane) { image[i] += 0.5 } }
        }
    }

    /// Separable 2-D DCT of every B x B block (toBands) or its inverse.
    private func transformBlocks(bands: UnsafeMutableBufferPointer<Float>, pixels: UnsafeMutableBufferPointer<Float>,
                                 pixelShape shape: [Int], toBands: Bool) throws {
        let (batch, channels, height, width) = (shape[0], shape[1], shape[2], shape[3])
        let b = block
        let (rows, cols) = (height / b, width / b)
        var tile = [Float](repeating: 0, count: b * b)
        var half = [Float](repeating: 0, count: b * b)
        for n in 0..<batch {
            for c in 0..<channels {
                let plane = pixels.baseAddress! + (n * channels + c) * height * width
                let bandBase = bands.baseAddress! + (n * channels + c) * b * b * rows * cols
                for by in 0..<rows {
                    for bx in 0..<cols {
                        let origin = plane + by * b * width + bx * b
                        let bandOffset = by * cols + bx
                        if toBands {
                            for i in 0..<b { for j in 0..<b { tile[i * b + j] = origin[i * width + j] } }
                            multiply(basis, tile, into: &half, transposeLeft: false) // B * X
                            multiplyRightTransposed(half, basis, into: &tile)         // (B X) B^T
                            for k in 0..<(b * b) { bandBase[k * rows * cols + bandOffset] = tile[k] }
                        } else {
                            for k in 0..<(b * b) { tile[k] = bandBase[k * rows * cols + bandOffset] }
                            multiply(basis, tile, into: &half, transposeLeft: true)  // B^T Y
                            multiply(half, basis, into: &tile)                       // (B^T Y) B
                            for i in 0..<b { for j in 0..<b { origin[i * width + j] = tile[i * b + j] } }
                        }
                    }
                }
            }
        }
    }

    /// out = (transposeLeft ? L^T : L) * R for B x B matrices.
    private func multiply(_ left: [Float], _ right: [Float], into out: inout [Float], transposeLeft: Bool = false) {
        let b = block
        for i in 0..<b {
            for j in 0..<b {
                var sum: Float = 0
                for k in 0..<b {
                    sum += (transposeLeft ? left[k * b + i] : left[i * b + k]) * right[k * b + j]
                }
                out[i * b + j] = sum
            }
        }
    }

    /// out = L * R^T.
    private func multiplyRightTransposed(_ left: [Float], _ right: [Float], into out: inout [Float]) {
        let b = block
        for i in 0..<b {
            for j in 0..<b {
                var sum: Float = 0
                for k in 0..<b { sum += left[i * b + k] * right[j * b + k] }
                out[i * b + j] = sum
            }
        }
    }
}
