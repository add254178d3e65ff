import LICCore
import LICFuzzSupport

// PNG input through libpng (CLicPNG) into an Image.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let image = try? PNGFile.read(data: fuzzBytes(data, size), name: "fuzz.png") else { return 0 }
    guard image.pixels.count == image.width * image.height * image.channels, [1, 3, 4].contains(image.channels) else {
        reportFinding("PNG read returned an inconsistent image: \(image.width)x\(image.height)x\(image.channels), \(image.pixels.count) samples")
    }
    return 0
}
