/// An 8-bit raster image: `channels` samples per pixel, interleaved,
/// rows stored top to bottom with no padding.
///
/// Supported layouts are gray (1 channel), RGB (3) and RGBA (4).
public struct Image: Sendable, Equatable {
    /// Largest accepted width or height.
    /// The toolkit-wide limits (also in CLicPNG.h and Container): sides fit the
    /// container's fields; 2^26 pixels (e.g. 8192 x 8192) bounds every
    /// allocation a decoder makes from a header to about 1 GiB per tensor.
    public static let maxSide = 65535
    /// Largest accepted `width * height`; bounds memory use at 1 GiB for RGBA.
    public static let maxPixels = 1 << 26
    /// Channel counts the toolkit understands.
    public static let supportedChannels: Set<Int> = [1, 3, 4]

    public let width: Int
    public let height: Int
    public let channels: Int
    /// `width * height * channels` samples. Mutating the samples is fine;
    /// changing their count breaks the invariant (writers re-check it).
    public var pixels: [UInt8]

    /// Validates the geometry and that `pixels` holds exactly one sample per
    /// pixel and channel.
    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) throws(ImageError) {
        try Image.validate(width: width, height: height, channels: channels)
        let expected = width * height * channels
        guard pixels.count == expected else {
            throw .pixelCountMismatch(expected: expected, actual: pixels.count)
        }
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// An image with every sample set to `value`.
    public init(width: Int, height: Int, channels: Int, filledWith value: UInt8 = 0) throws(ImageError) {
        try Image.validate(width: width, height: height, channels: channels)
        try self.init(width: width, height: height, channels: channels,
                      pixels: [UInt8](repeating: value, count: width * height * channels))
    }

    /// Number of samples in one row.
    public var rowStride: Int { width * channels }

    /// Throws unless the geometry is within the toolkit's limits.
    public static func validate(width: Int, height: Int, channels: Int) throws(ImageError) {
        guard (1...maxSide).contains(width), (1...maxSide).contains(height),
              width * height <= maxPixels
        else {
            throw .invalidDimensions(width: width, height: height)
        }
        guard supportedChannels.contains(channels) else {
            throw .unsupportedChannels(channels)
        }
    }
}

extension Image {
    /// The image with 3 channels: gray replicated to R, G and B; alpha dropped.
    public func convertedToRGB() throws -> Image {
        guard channels != 3 else { return self }
        guard channels == 1 || channels == 4 else { throw ImageError.unsupportedChannels(channels) }
        let count = width * height
        var rgb = [UInt8](repeating: 0, count: count * 3)
        pixels.withUnsafeBufferPointer { source in
            for i in 0..<count {
                for c in 0..<3 { rgb[3 * i + c] = channels == 1 ? source[i] : source[4 * i + c] }
            }
        }
        return try Image(width: width, height: height, channels: 3, pixels: rgb)
    }
}
