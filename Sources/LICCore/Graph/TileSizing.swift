import LICTensor

/// Automatic tiles: the tile side that keeps an encode within a memory budget.
///
/// The cost of a pixel differs by pipeline (channel widths, layers, what a
/// plugin allocates), so it is measured rather than guessed: the codec encodes
/// a small probe image untiled and the tensor engine's large-block cache
/// reports the most it lent (`PageBlocks.peakLentBytes`), which gives bytes
/// per pixel of one tile. What stays image-sized while the tiles run (the
/// input and reconstruction planes, the latents, the 8-bit images) is
/// estimated at `imageBytesPerPixel`, and `reservedBytes` covers code and
/// small allocations.
public enum TileSizing {
    /// Side of the probe image.
    public static let probeSide = 256
    /// Image-sized buffers per image pixel: float input and reconstruction
    /// planes (24 B for RGB), the latents and their symbols (about 6 B for
    /// M = 192 at 1/16 resolution), the 8-bit input and output images (6 B).
    public static let imageBytesPerPixel = 40
    /// Code, libraries and small allocations.
    public static let reservedBytes = 128 << 20
    /// A tile's halo on each side, in image pixels (GDN analysis: 32).
    public static let haloAllowance = 32

    public struct Choice: Sendable {
        /// nil: the whole image fits the budget in one piece.
        public let plan: TilePlan?
        /// Measured bytes per tile pixel.
        public let bytesPerPixel: Int
    }

    /// The largest tile (a multiple of 16, at least 64) whose encode stays
    /// within `budgetBytes`, for a `width` x `height` image with `channels`.
    public static func choose(for codec: Codec, budgetBytes: Int, width: Int, height: Int, channels: Int,
                              quality: Double? = nil) throws -> Choice {
        let blocks = PageBlocks.shared
        let saved = codec.tilePlan
        defer { codec.tilePlan = saved }
        codec.tilePlan = nil
        let probe = try Image(width: probeSide, height: probeSide, channels: channels,
                              pixels: [UInt8](repeating: 128, count: probeSide * probeSide * channels))
        blocks.resetPeak()
        let before = blocks.lentBytes
        _ = try codec.encode(probe, quality: quality)
        let perPixel = max(1, (blocks.peakLentBytes - before + probeSide * probeSide - 1) / (probeSide * probeSide))

        let pixels = width * height
        if pixels * perPixel + reservedBytes <= budgetBytes { return Choice(plan: nil, bytesPerPixel: perPixel) }
        let forTiles = budgetBytes - reservedBytes - pixels * imageBytesPerPixel
        let tilePixels = max(0, forTiles / perPixel)
        let side = Int(Double(tilePixels).squareRoot()) - 2 * haloAllowance
        return Choice(plan: TilePlan(side: max(64, side)), bytesPerPixel: perPixel)
    }
}
