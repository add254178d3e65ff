import CLicPNG

/// Reads and writes 8-bit PNG files through the CLicPNG libpng facade.
///
/// Reading converts palette, sub-byte gray, gray+alpha and tRNS images to
/// gray, RGB or RGBA; 16-bit files are refused. Errors name the file.
public enum PNGFile {
    /// Room for the C side's one-line error message.
    private static let messageCapacity = 512

    public static func read(path: String) throws(ImageError) -> Image {
        try decode(name: path) { w, h, c, px, msg, len in
            lic_png_read_file(path, w, h, c, px, msg, len)
        }
    }

    /// Decodes PNG bytes held in memory; `name` is used in error messages.
    public static func read(data: [UInt8], name: String) throws(ImageError) -> Image {
        try data.withUnsafeBufferPointer { buffer throws(ImageError) in
            try decode(name: name) { w, h, c, px, msg, len in
                lic_png_read_memory(buffer.baseAddress, buffer.count, w, h, c, px, msg, len)
            }
        }
    }

    public static func write(_ image: Image, to path: String) throws(ImageError) {
        // `pixels` is mutable, so the invariant may have been broken since init.
        let expected = image.width * image.height * image.channels
        guard image.pixels.count == expected else {
            throw .writeFailed(path: path,
                               reason: ImageError.pixelCountMismatch(expected: expected,
                                                                     actual: image.pixels.count).description)
        }
        var message = [CChar](repeating: 0, count: messageCapacity)
        let status = image.pixels.withUnsafeBufferPointer { px in
            lic_png_write_file(path, UInt32(image.width), UInt32(image.height),
                               UInt32(image.channels), px.baseAddress, &message, message.count)
        }
        guard status == 0 else {
            throw .writeFailed(path: path, reason: text(message))
        }
    }

    /// Signature shared by the two C read functions, minus their input.
    private typealias CRead = (
        UnsafeMutablePointer<UInt32>, UnsafeMutablePointer<UInt32>, UnsafeMutablePointer<UInt32>,
        UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>, UnsafeMutablePointer<CChar>, Int
    ) -> Int32

    /// Runs a C read function and copies its malloc'ed result into an Image.
    private static func decode(name: String, _ read: CRead) throws(ImageError) -> Image {
        var width: UInt32 = 0, height: UInt32 = 0, channels: UInt32 = 0
        var pixels: UnsafeMutablePointer<UInt8>?
        var message = [CChar](repeating: 0, count: messageCapacity)
        let status = read(&width, &height, &channels, &pixels, &message, message.count)
        defer { lic_png_free(pixels) }
        guard status == 0, let pixels else {
            throw .readFailed(path: name, reason: text(message))
        }
        let count = Int(width) * Int(height) * Int(channels)
        let samples = Array(UnsafeBufferPointer(start: pixels, count: count))
        do {
            return try Image(width: Int(width), height: Int(height), channels: Int(channels),
                             pixels: samples)
        } catch {
            throw .readFailed(path: name, reason: error.description)
        }
    }

    private static func text(_ message: [CChar]) -> String {
        let bytes = message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        let reason = String(decoding: bytes, as: UTF8.self)
        return reason.isEmpty ? "unknown error" : reason
    }
}
