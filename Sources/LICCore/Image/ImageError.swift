/// Errors from building, reading, writing or comparing images.
/// Errors about files always name the file.
public enum ImageError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidDimensions(width: Int, height: Int)
    case unsupportedChannels(Int)
    case pixelCountMismatch(expected: Int, actual: Int)
    /// `reason` is the decoder's one-line explanation.
    case readFailed(path: String, reason: String)
    case writeFailed(path: String, reason: String)
    /// Two images that must have the same geometry do not.
    case geometryMismatch(String, String)

    public var description: String {
        switch self {
        case let .invalidDimensions(width, height):
            return "invalid image size \(width)x\(height): each side must be 1...\(Image.maxSide) "
                + "and width*height at most \(Image.maxPixels)"
        case let .unsupportedChannels(channels):
            return "unsupported channel count \(channels): expected 1 (gray), 3 (RGB) or 4 (RGBA)"
        case let .pixelCountMismatch(expected, actual):
            return "pixel buffer holds \(actual) samples, expected \(expected)"
        case let .readFailed(path, reason):
            return "cannot read PNG '\(path)': \(reason)"
        case let .writeFailed(path, reason):
            return "cannot write PNG '\(path)': \(reason)"
        case let .geometryMismatch(a, b):
            return "images differ in geometry: \(a) vs \(b)"
        }
    }
}
