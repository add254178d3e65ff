import Foundation
import Testing
@testable import LICCore

/// Reference pairs written by Fixtures/msssim/make_msssim_fixtures.py; the
/// expected values (pytorch_msssim 1.0.0, float64) are in expected.txt there.
private func msssimFixture(_ name: String) throws -> Image {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/msssim").appendingPathComponent(name).path
    return try PNGFile.read(path: path)
}

/// Smooth structure plus a fixed pseudo-random texture, so that SSIM has edges to see.
private func texturedImage(width: Int, height: Int, channels: Int, seed: UInt64 = 7) throws -> Image {
    var state = seed
    var pixels = [UInt8](repeating: 0, count: width * height * channels)
    for y in 0..<height {
        for x in 0..<width {
            for c in 0..<channels {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let noise = Double(state >> 58) - 32  // -32..<32
                let wave = 60 * sin(Double(x) / 7 + Double(c)) * cos(Double(y) / 11)
                let checker: Double = ((x / 16 + y / 12) % 2 == 0) ? 40 : -30
                let value = 120 + wave + checker + noise * 0.5
                pixels[(y * width + x) * channels + c] = UInt8(max(0, min(255, value.rounded())))
            }
        }
    }
    return try Image(width: width, height: height, channels: channels, pixels: pixels)
}

/// `image` with uniform noise of amplitude `amplitude` added (deterministic).
private func noisy(_ image: Image, amplitude: Int, seed: UInt64 = 99) throws -> Image {
    var state = seed
    var out = image
    for i in out.pixels.indices {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        let span = UInt64(2 * amplitude + 1)
        let delta = Int((state >> 33) % span) - amplitude
        out.pixels[i] = UInt8(max(0, min(255, Int(out.pixels[i]) + delta)))
    }
    return out
}

@Suite struct MSSSIMTests {
    @Test func identicalImagesScoreOne() throws {
        for channels in [1, 3, 4] {
            let image = try texturedImage(width: 170, height: 163, channels: channels)
            #expect(abs(try MSSSIM.compute(image, image) - 1) < 1e-12)
        }
    }

    @Test func decreasesWithNoise() throws {
        let image = try texturedImage(width: 192, height: 176, channels: 3)
        var previous = 1.0
        for amplitude in [4, 16, 48, 120] {
            let value = try MSSSIM.compute(image, try noisy(image, amplitude: amplitude))
            #expect(value < previous, "amplitude \(amplitude): \(value) !< \(previous)")
            #expect(value >= 0 && value <= 1)
            previous = value
        }
    }

    @Test func isSymmetric() throws {
        let a = try texturedImage(width: 181, height: 167, channels: 3)
        let b = try noisy(a, amplitude: 30)
        #expect(abs(try MSSSIM.compute(a, b) - MSSSIM.compute(b, a)) < 1e-12)
    }

    @Test func rgbaIgnoresAlphaAndGrayUsesItsChannel() throws {
        let rgb = try texturedImage(width: 161, height: 161, channels: 3)
        let rgbNoisy = try noisy(rgb, amplitude: 20)
        func withAlpha(_ image: Image, _ alpha: UInt8) throws -> Image {
            var pixels: [UInt8] = []
            for i in 0..<(image.width * image.height) {
                pixels += image.pixels[(3 * i)..<(3 * i + 3)]
                pixels.append(alpha)
            }
            return try Image(width: image.width, height: image.height, channels: 4, pixels: pixels)
        }
        let expected = try MSSSIM.compute(rgb, rgbNoisy)
        #expect(try MSSSIM.compute(withAlpha(rgb, 255), withAlpha(rgbNoisy, 0)) == expected)

        // A gray image scores like an RGB image with that gray in every channel.
        let gray = try texturedImage(width: 165, height: 170, channels: 1)
        let grayNoisy = try noisy(gray, amplitude: 20)
        func spread(_ image: Image) throws -> Image {
            try Image(width: image.width, height: image.height, channels: 3,
                      pixels: image.pixels.flatMap { [$0, $0, $0] })
        }
        #expect(abs(try MSSSIM.compute(gray, grayNoisy) - MSSSIM.compute(spread(gray), spread(grayNoisy))) < 1e-12)
    }

    @Test func refusesImagesBelow161PixelsOnASide() throws {
        #expect(MSSSIM.minimumSide == 161)
        let small = try texturedImage(width: 300, height: 160, channels: 3)
        do {
            _ = try MSSSIM.compute(small, small)
            Issue.record("a 300x160 image was accepted")
        } catch {
            let message = "\(error)"
            #expect(message.contains("161"), "\(message)")
            #expect(message.contains("300x160"), "\(message)")
        }
        let smallest = try texturedImage(width: 161, height: 400, channels: 3)
        #expect(try MSSSIM.compute(smallest, smallest) == 1)
    }

    @Test func refusesMismatchedGeometry() throws {
        let a = try texturedImage(width: 170, height: 170, channels: 3)
        let b = try texturedImage(width: 170, height: 171, channels: 3)
        let c = try texturedImage(width: 170, height: 170, channels: 4)
        #expect(throws: ImageError.self) { try MSSSIM.compute(a, b) }
        #expect(throws: ImageError.self) { try MSSSIM.compute(a, c) }
    }

    @Test func windowIsPytorchsFloat32Gaussian() {
        #expect(MSSSIM.window.count == 11)
        for (tap, ideal) in zip(MSSSIM.window, MSSSIM.gaussianWindow()) {
            #expect(abs(tap - ideal) < 1e-7)
            #expect(Double(Float(tap)) == tap)
        }
    }

    /// Values from pytorch_msssim.ms_ssim(x, y, data_range=255) in float64 (expected.txt).
    @Test(arguments: [("a.png", "b.png", 0.948011311424013), ("odd_a.png", "odd_b.png", 0.967084934567064)])
    func matchesPytorchMSSSIM(pair: (String, String, Double)) throws {
        let a = try msssimFixture(pair.0)
        let b = try msssimFixture(pair.1)
        let value = try MSSSIM.compute(a, b)
        #expect(abs(value - pair.2) < 1e-4, "\(pair.0) vs \(pair.1): \(value), pytorch_msssim \(pair.2)")
        // In float64 on both sides the agreement is far tighter than the contract.
        #expect(abs(value - pair.2) < 1e-9, "\(pair.0) vs \(pair.1): \(value), pytorch_msssim \(pair.2)")
    }
}
