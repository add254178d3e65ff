import Foundation
import Testing
@testable import LICCore

/// Fixtures are written by Fixtures/make_png_fixtures.py; the expected
/// pixels below mirror the formulas in that script.
private func fixture(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent(name).path
}

/// A fresh directory for one test; removed by the caller via `defer`.
private func makeTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("lic-image-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

private func readError(path: String) -> ImageError? {
    do {
        _ = try PNGFile.read(path: path)
        return nil
    } catch {
        return error
    }
}

private func readError(data: [UInt8], name: String) -> ImageError? {
    do {
        _ = try PNGFile.read(data: data, name: name)
        return nil
    } catch {
        return error
    }
}

private func pseudoRandomImage(width: Int, height: Int, channels: Int, seed: UInt64) throws -> Image {
    var state = seed
    let pixels = (0..<(width * height * channels)).map { _ -> UInt8 in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return UInt8(truncatingIfNeeded: state >> 56)
    }
    return try Image(width: width, height: height, channels: channels, pixels: pixels)
}

@Suite struct ImageValueTests {
    @Test func validatesGeometry() {
        #expect(throws: ImageError.pixelCountMismatch(expected: 6, actual: 5)) {
            try Image(width: 2, height: 1, channels: 3, pixels: [0, 0, 0, 0, 0])
        }
        #expect(throws: ImageError.invalidDimensions(width: 0, height: 1)) {
            try Image(width: 0, height: 1, channels: 1, pixels: [])
        }
        #expect(throws: ImageError.unsupportedChannels(2)) {
            try Image(width: 1, height: 1, channels: 2, pixels: [0, 0])
        }
        #expect(throws: ImageError.invalidDimensions(width: 1 << 16, height: 1 << 16)) {
            try Image(width: 1 << 16, height: 1 << 16, channels: 1)
        }
        #expect(throws: ImageError.invalidDimensions(width: Int.max, height: Int.max)) {
            try Image(width: Int.max, height: Int.max, channels: 4)
        }
    }

    @Test func filledInit() throws {
        let image = try Image(width: 3, height: 2, channels: 4, filledWith: 9)
        #expect(image.pixels == [UInt8](repeating: 9, count: 24))
        #expect(image.rowStride == 12)
    }
}

@Suite struct PNGTests {
    @Test(arguments: [1, 3, 4])
    func roundTrip(channels: Int) throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for (width, height) in [(1, 1), (7, 3), (33, 17), (1, 9), (16, 1)] {
            let image = try pseudoRandomImage(width: width, height: height, channels: channels,
                                              seed: UInt64(width * 1000 + height * 10 + channels))
            let path = dir.appendingPathComponent("img_\(width)x\(height)x\(channels).png").path
            try PNGFile.write(image, to: path)
            #expect(try PNGFile.read(path: path) == image)
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            #expect(try PNGFile.read(data: bytes, name: path) == image)
        }
    }

    @Test func sixteenBitIsRefused() {
        let path = fixture("gray16_4x3.png")
        let message = readError(path: path)?.description ?? ""
        #expect(message.contains("16-bit PNG is not supported; convert it to 8-bit"), "\(message)")
        #expect(message.contains(path))
    }

    @Test func paletteBecomesRGB() throws {
        let palette: [[UInt8]] = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]]
        let image = try PNGFile.read(path: fixture("palette_5x4.png"))
        #expect(image.width == 5 && image.height == 4 && image.channels == 3)
        var expected: [UInt8] = []
        for y in 0..<4 { for x in 0..<5 { expected += palette[(x + y) % 4] } }
        #expect(image.pixels == expected)
    }

    @Test func paletteWithTransparencyBecomesRGBA() throws {
        let palette: [[UInt8]] = [[255, 0, 0, 0], [0, 255, 0, 128], [0, 0, 255, 255], [255, 255, 255, 255]]
        let image = try PNGFile.read(path: fixture("palette_trns_3x2.png"))
        #expect(image.width == 3 && image.height == 2 && image.channels == 4)
        var expected: [UInt8] = []
        for y in 0..<2 { for x in 0..<3 { expected += palette[(x + 2 * y) % 4] } }
        #expect(image.pixels == expected)
    }

    @Test func oneBitGrayBecomesEightBit() throws {
        let image = try PNGFile.read(path: fixture("gray1_9x2.png"))
        #expect(image.width == 9 && image.height == 2 && image.channels == 1)
        var expected: [UInt8] = []
        for y in 0..<2 { for x in 0..<9 { expected.append((x + y) % 2 == 1 ? 255 : 0) } }
        #expect(image.pixels == expected)
    }

    @Test func grayAlphaBecomesRGBA() throws {
        let image = try PNGFile.read(path: fixture("graya_3x2.png"))
        #expect(image.channels == 4)
        var expected: [UInt8] = []
        for y in 0..<2 {
            for x in 0..<3 {
                let g = UInt8(40 * x + 100 * y)
                expected += [g, g, g, UInt8(255 - 50 * x)]
            }
        }
        #expect(image.pixels == expected)
    }

    @Test func rgbWithTransparentColourBecomesRGBA() throws {
        let image = try PNGFile.read(path: fixture("rgb_trns_2x2.png"))
        #expect(image.channels == 4)
        #expect(image.pixels == [10, 20, 30, 0, 1, 2, 3, 255, 4, 5, 6, 255, 10, 20, 30, 0])
    }

    @Test func interlacedIsDeinterlaced() throws {
        let image = try PNGFile.read(path: fixture("rgb_interlaced_11x7.png"))
        #expect(image.width == 11 && image.height == 7 && image.channels == 3)
        var expected: [UInt8] = []
        for y in 0..<7 {
            for x in 0..<11 {
                expected += [UInt8((17 * x + 3 * y) % 256), UInt8((5 * x + 29 * y) % 256), UInt8(x ^ y)]
            }
        }
        #expect(image.pixels == expected)
    }

    @Test func truncatedFileNamesFileAndReason() {
        let path = fixture("truncated_rgb.png")
        let message = readError(path: path)?.description ?? ""
        #expect(message.contains(path), "\(message)")
        #expect(message.contains("truncated"), "\(message)")
    }

    @Test func nonPNGNamesFile() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("notes.png").path
        try Data("definitely not a PNG".utf8).write(to: URL(fileURLWithPath: path))
        let message = readError(path: path)?.description ?? ""
        #expect(message.contains(path), "\(message)")
        #expect(message.contains("not a PNG"), "\(message)")
    }

    @Test func missingFileNamesFile() {
        let path = "/nonexistent-lic-dir/missing.png"
        let message = readError(path: path)?.description ?? ""
        #expect(message.contains(path) && message.contains("No such file"), "\(message)")
    }

    @Test func corruptChunkReportsCRCError() throws {
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: fixture("palette_5x4.png"))))
        bytes[16] ^= 0x01 // inside IHDR's width
        let message = readError(data: bytes, name: "memory.png")?.description ?? ""
        #expect(message.contains("memory.png") && message.contains("CRC"), "\(message)")
    }

    /// Damaged input must fail cleanly, never crash or hang.
    @Test func everyTruncationOfAValidFileFails() throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: fixture("palette_5x4.png"))))
        for length in 0..<bytes.count {
            #expect(readError(data: Array(bytes[..<length]), name: "cut.png") != nil, "length \(length)")
        }
    }

    /// A PNG chunk: length, type, data, CRC-32 (ISO 3309, as PNG uses it).
    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in body {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        func be(_ v: UInt32) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: v >> UInt32($0)) } }
        return be(UInt32(data.count)) + body + be(~crc)
    }

    /// A 66-byte file declaring 8192 x 8192 RGB pixels is refused before the
    /// 192 MiB image is allocated: its bytes cannot inflate to that much.
    @Test func aDeclaredSizeTheBytesCannotHoldIsRefusedBeforeAllocating() throws {
        let ihdr: [UInt8] = [0, 0, 0x20, 0, 0, 0, 0x20, 0, 8, 2, 0, 0, 0]
        let bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Self.chunk("IHDR", ihdr)
            + Self.chunk("IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]) + Self.chunk("IEND", [])
        let message = readError(data: bytes, name: "huge.png")?.description ?? ""
        #expect(message.contains("cannot hold the pixels of a 8192x8192 image"), "\(message)")
        let path = try TestSupport.temporaryDirectory() + "/huge.png"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(throws: ImageError.self) { try PNGFile.read(path: path) }
    }

    @Test func writeFailureNamesFile() throws {
        let image = try Image(width: 2, height: 2, channels: 1, filledWith: 7)
        let path = "/nonexistent-lic-dir/out.png"
        do {
            try PNGFile.write(image, to: path)
            Issue.record("write to a missing directory succeeded")
        } catch {
            #expect(error.description.contains(path), "\(error)")
        }
    }

    @Test func writeRechecksMutatedPixels() throws {
        var image = try Image(width: 2, height: 2, channels: 1)
        image.pixels.removeLast()
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: ImageError.self) {
            try PNGFile.write(image, to: dir.appendingPathComponent("x.png").path)
        }
    }
}

@Suite struct MetricsTests {
    @Test func identicalImages() throws {
        let image = try pseudoRandomImage(width: 5, height: 4, channels: 3, seed: 11)
        #expect(try ImageMetrics.mse(image, image) == 0)
        #expect(try ImageMetrics.psnr(image, image) == .infinity)
    }

    @Test func knownValues() throws {
        let a = try Image(width: 2, height: 1, channels: 1, pixels: [0, 0])
        let b = try Image(width: 2, height: 1, channels: 1, pixels: [0, 10])
        #expect(try ImageMetrics.mse(a, b) == 50)
        #expect(abs(try ImageMetrics.psnr(a, b) - 10 * log10(65025.0 / 50)) < 1e-12)

        let black = try Image(width: 1, height: 1, channels: 3, filledWith: 0)
        let white = try Image(width: 1, height: 1, channels: 3, filledWith: 255)
        #expect(try ImageMetrics.psnr(black, white) == 0)
    }

    @Test func mismatchedGeometryThrows() throws {
        let a = try Image(width: 2, height: 3, channels: 1)
        let b = try Image(width: 3, height: 2, channels: 1)
        let c = try Image(width: 2, height: 3, channels: 3)
        #expect(throws: ImageError.self) { try ImageMetrics.mse(a, b) }
        #expect(throws: ImageError.self) { try ImageMetrics.psnr(a, c) }
    }
}
