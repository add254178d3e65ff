import CLIC
import LICTensor

/// Coding passes over tiles: a transform that declares a halo
/// (lic_transform_v3.halo) computes a large image's output tile by tile, each
/// from its input region plus the halo (the image's own zero padding only at
/// the image's borders), and the tiles are stitched. Peak memory follows the
/// tile, not the image; the result is the untiled one (the halo covers the
/// receptive field; tests compare). Tiles are planned from the image size and
/// the tile side alone; a file coded in tiles records the side, so the
/// decoder tiles alike and reproduces the encoder's reconstruction bit for
/// bit (oneDNN's arithmetic may differ in the last bits between tile shapes).
public struct TilePlan: Sendable, Equatable {
    /// The largest tile side, in pixels of the transform's higher-resolution
    /// side (the image for analysis and synthesis): a multiple of 16.
    public let side: Int

    /// `side` rounded down to a multiple of 16, at least 16.
    public init(side: Int) { self.side = max(16, side / 16 * 16) }

    /// The default: Kodak-sized images (768 x 512) are one tile; a 4K image
    /// is 15 (analysis: about 350 MB of activations per tile for N = 128).
    public static let standard = TilePlan(side: 768)

    /// Splits 0 ..< extent (coarse pixels) into pieces of at most `tile`, as equal as possible.
    public static func ranges(extent: Int, tile: Int) -> [Range<Int>] {
        let count = max(1, (extent + tile - 1) / max(tile, 1))
        return (0..<count).map { index in (extent * index / count)..<(extent * (index + 1) / count) }
    }
}

extension TransformNode {
    /// Applies the stage over tiles where the transform allows it and the
    /// input is larger than one tile; otherwise as a whole.
    func apply(_ inputs: [Tensor], context: CallContext, tiles plan: TilePlan?) throws -> Tensor {
        guard let plan, inputs.count == 1, inputs[0].rank == 4, let halo, halo >= 0 else { return try apply(inputs, context: context) }
        let input = inputs[0]
        let (height, width) = (input.shape[2], input.shape[3])
        let outputShape = try outputShape(for: input.shape)
        // The scale between input and output: r input pixels per output pixel (down), or r output pixels per input pixel (up).
        let down = outputShape[2] < height
        let ratio = down ? height / max(outputShape[2], 1) : outputShape[2] / height
        guard ratio >= 1, down ? (outputShape[2] * ratio == height && outputShape[3] * ratio == width)
                               : (height * ratio == outputShape[2] && width * ratio == outputShape[3]) else {
            return try apply(inputs, context: context)
        }
        // Tiles are planned on the coarse grid (output pixels going down, input pixels going up).
        let (coarseHeight, coarseWidth) = down ? (outputShape[2], outputShape[3]) : (height, width)
        let coarseTile = max(1, plan.side / ratio)
        guard coarseHeight > coarseTile || coarseWidth > coarseTile else { return try apply(inputs, context: context) }
        // The halo in input pixels, whole coarse pixels when going down, so each tile keeps the stride phase.
        let inputHalo = down ? (halo + ratio - 1) / ratio * ratio : halo

        let output = try Tensor(zeros: outputShape)
        for rows in TilePlan.ranges(extent: coarseHeight, tile: coarseTile) {
            for columns in TilePlan.ranges(extent: coarseWidth, tile: coarseTile) {
                // The tile's input region: its footprint plus the halo, clipped to the image.
                let footprint = down ? (rows.lowerBound * ratio, rows.upperBound * ratio, columns.lowerBound * ratio, columns.upperBound * ratio)
                                     : (rows.lowerBound, rows.upperBound, columns.lowerBound, columns.upperBound)
                let top = max(0, footprint.0 - inputHalo), bottom = min(height, footprint.1 + inputHalo)
                let left = max(0, footprint.2 - inputHalo), right = min(width, footprint.3 + inputHalo)
                var tileContext = context
                (tileContext.tileX, tileContext.tileY, tileContext.width, tileContext.height, tileContext.halo) =
                    (left, top, right - left, bottom - top, inputHalo)
                let tileOutput = try apply([input.cropped(top: top, left: left, height: bottom - top, width: right - left)], context: tileContext)
                // Where the tile's own output sits inside what it computed.
                let scale = down ? 1 : ratio, shrink = down ? ratio : 1
                let outTop = rows.lowerBound * (down ? 1 : ratio), outLeft = columns.lowerBound * (down ? 1 : ratio)
                try Self.paste(tileOutput, from: (outTop - top * scale / shrink, outLeft - left * scale / shrink),
                               size: (rows.count * scale, columns.count * scale), into: output, at: (outTop, outLeft))
            }
        }
        return output
    }

    /// Copies the window [origin, origin + size) of every plane of `tile` into `output` at `at`.
    static func paste(_ tile: Tensor, from origin: (Int, Int), size: (Int, Int), into output: Tensor, at: (Int, Int)) throws {
        guard tile.rank == 4, tile.shape[0] == output.shape[0], tile.shape[1] == output.shape[1],
              origin.0 >= 0, origin.1 >= 0, origin.0 + size.0 <= tile.shape[2], origin.1 + size.1 <= tile.shape[3],
              at.0 + size.0 <= output.shape[2], at.1 + size.1 <= output.shape[3] else {
            throw LICError("tiling: a tile of shape \(tile.shape) does not hold the window \(origin) + \(size) for \(output.shape)")
        }
        let planes = tile.shape[0] * tile.shape[1]
        let (tileHeight, tileWidth) = (tile.shape[2], tile.shape[3])
        let (outputHeight, outputWidth) = (output.shape[2], output.shape[3])
        tile.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                for plane in 0..<planes {
                    for row in 0..<size.0 {
                        let from = (plane * tileHeight + origin.0 + row) * tileWidth + origin.1
                        let to = (plane * outputHeight + at.0 + row) * outputWidth + at.1
                        (target.baseAddress! + to).update(from: source.baseAddress! + from, count: size.1)
                    }
                }
            }
        }
    }
}
