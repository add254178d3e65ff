import Foundation
import Testing
@testable import LICCore

/// A fresh directory for one test; the caller removes it.
private func makeFolder() throws -> String {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("lic-imagefolder-tests-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Sample `(x, y, c)` of the fixture images: distinct per position and channel,
/// and not mirror-symmetric, so crops and flips can be located exactly.
private func sample(_ x: Int, _ y: Int, _ c: Int, seed: Int) -> UInt8 {
    UInt8(truncatingIfNeeded: x * 3 + y * 17 + c * 85 + seed * 41)
}

private func makeImage(width: Int, height: Int, channels: Int, seed: Int) throws -> Image {
    var pixels: [UInt8] = []
    pixels.reserveCapacity(width * height * channels)
    for y in 0..<height {
        for x in 0..<width {
            for c in 0..<channels { pixels.append(sample(x, y, c, seed: seed)) }
        }
    }
    return try Image(width: width, height: height, channels: channels, pixels: pixels)
}

/// Writes `images` as PNGs named by the keys into `folder`.
private func write(_ images: [String: Image], to folder: String) throws {
    for (name, image) in images {
        try PNGFile.write(image, to: folder + "/" + name)
    }
}

/// Crop `b` of a batch as [channel][row][column] in 8-bit units.
private func crop(_ values: [Float], index b: Int, size: Int) -> [[[Int]]] {
    (0..<3).map { c in
        (0..<size).map { i in
            (0..<size).map { j in Int((values[((b * 3 + c) * size + i) * size + j] * 255).rounded()) }
        }
    }
}

@Suite struct ImageFolderTests {
    @Test func readsSortedPNGsAsRGB() throws {
        let folder = try makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try write([
            "b.png": makeImage(width: 5, height: 4, channels: 1, seed: 2),
            "a.png": makeImage(width: 6, height: 3, channels: 3, seed: 1),
            "c.PNG": makeImage(width: 3, height: 7, channels: 4, seed: 3),
        ], to: folder)
        try Data("not a png".utf8).write(to: URL(fileURLWithPath: folder + "/notes.txt"))
        try FileManager.default.createDirectory(atPath: folder + "/sub.png", withIntermediateDirectories: true)
        try PNGFile.write(makeImage(width: 2, height: 2, channels: 3, seed: 9), to: folder + "/sub.png/d.png")

        let images = try ImageFolder(path: folder)
        #expect(images.count == 3)
        #expect(images.names == ["a.png", "b.png", "c.PNG"])
        #expect(images.image(at: 0) == (try makeImage(width: 6, height: 3, channels: 3, seed: 1)))

        let gray = images.image(at: 1)
        #expect(gray.channels == 3 && gray.width == 5 && gray.height == 4)
        #expect(gray.pixels[(2 * 5 + 3) * 3 ..< (2 * 5 + 3) * 3 + 3].allSatisfy { $0 == sample(3, 2, 0, seed: 2) })

        let rgba = images.image(at: 2)
        #expect(rgba.channels == 3 && rgba.width == 3 && rgba.height == 7)
        #expect(Array(rgba.pixels[(4 * 3 + 1) * 3 ..< (4 * 3 + 1) * 3 + 3])
            == [sample(1, 4, 0, seed: 3), sample(1, 4, 1, seed: 3), sample(1, 4, 2, seed: 3)])
    }

    @Test func wholeImageTensor() throws {
        let folder = try makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try write(["x.png": makeImage(width: 7, height: 5, channels: 3, seed: 4)], to: folder)
        let images = try ImageFolder(path: folder)
        let tensor = try images.tensor(at: 0)
        #expect(tensor.shape == [1, 3, 5, 7])
        let values = tensor.values
        for c in 0..<3 {
            for y in 0..<5 {
                for x in 0..<7 {
                    #expect(values[(c * 5 + y) * 7 + x] == Float(sample(x, y, c, seed: 4)) / 255)
                }
            }
        }
    }

    @Test func batchShapeRangeAndContents() throws {
        let folder = try makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let sources = [
            try makeImage(width: 40, height: 30, channels: 3, seed: 1),
            try makeImage(width: 33, height: 45, channels: 3, seed: 2),
        ]
        try write(["0.png": sources[0], "1.png": sources[1]], to: folder)
        let images = try ImageFolder(path: folder)
        let size = 8, side = 16
        let batch = try images.batch(size: size, crop: side, seed: 5, step: 0)
        #expect(batch.shape == [size, 3, side, side])
        let values = batch.values
        #expect(values.allSatisfy { $0 >= 0 && $0 <= 1 })

        // Every crop is a window of one of the images, possibly mirrored.
        for b in 0..<size {
            let got = crop(values, index: b, size: side)
            var found = false
            for (seed, source) in [(1, sources[0]), (2, sources[1])] {
                for y0 in 0...(source.height - side) {
                    for x0 in 0...(source.width - side) {
                        for flip in [false, true] where !found {
                            let expected = (0..<3).map { c in
                                (0..<side).map { i in
                                    (0..<side).map { j in
                                        Int(sample(x0 + (flip ? side - 1 - j : j), y0 + i, c, seed: seed))
                                    }
                                }
                            }
                            found = expected == got
                        }
                    }
                }
            }
            #expect(found, "crop \(b) is not a (mirrored) window of a source image")
        }
    }

    @Test func batchesAreDeterministicInSeedAndStep() throws {
        let folder = try makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try write([
            "0.png": makeImage(width: 64, height: 48, channels: 3, seed: 1),
            "1.png": makeImage(width: 50, height: 70, channels: 3, seed: 2),
            "2.png": makeImage(width: 80, height: 40, channels: 3, seed: 3),
        ], to: folder)
        let images = try ImageFolder(path: folder)
        let first = try images.batch(size: 4, crop: 24, seed: 11, step: 7).values
        // Other draws in between change nothing.
        _ = try images.batch(size: 3, crop: 10, seed: 11, step: 8)
        _ = try images.batch(size: 4, crop: 24, seed: 12, step: 7)
        #expect(try images.batch(size: 4, crop: 24, seed: 11, step: 7).values == first)
        // A second folder object reading the same files agrees.
        #expect(try ImageFolder(path: folder).batch(size: 4, crop: 24, seed: 11, step: 7).values == first)
        // Crop b does not depend on the batch size.
        let larger = try images.batch(size: 6, crop: 24, seed: 11, step: 7).values
        #expect(Array(larger.prefix(first.count)) == first)

        #expect(try images.batch(size: 4, crop: 24, seed: 11, step: 8).values != first)
        #expect(try images.batch(size: 4, crop: 24, seed: 12, step: 7).values != first)
        // Distinct steps give distinct batches (compared pairwise over a run of steps).
        let runs = try (0..<20).map { try images.batch(size: 2, crop: 24, seed: 3, step: $0).values }
        #expect(Set(runs.map { $0.map(\.bitPattern) }).count == runs.count)
    }

    @Test func downScaledCropsAverageTheSquaresTheyCover() throws {
        let folder = try makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // Exactly the window of a factor 1/2: the crop starts at (0, 0), only the flip varies.
        try write(["0.png": makeImage(width: 16, height: 16, channels: 3, seed: 4)], to: folder)
        let images = try ImageFolder(path: folder)
        let side = 8, plane = 64
        var orientations = Set<Bool>()
        for step in 0..<12 {
            let values = try images.batch(size: 1, crop: side, scales: 0.5...0.5, seed: 2, step: step).values
            func expected(_ flip: Bool) -> [Float] {
                var out = [Float](repeating: 0, count: 3 * plane)
                for c in 0..<3 {
                    for i in 0..<side {
                        for j in 0..<side {
                            let x = 2 * (flip ? side - 1 - j : j)
                            var sum: Float = 0
                            for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                                sum += Float(sample(x + dx, 2 * i + dy, c, seed: 4)) / 255
                            }
                            out[c * plane + i * side + j] = sum / 4
                        }
                    }
                }
                return out
            }
            let flipped = zip(values, expected(true)).allSatisfy { abs($0 - $1) < 1e-6 }
            let straight = zip(values, expected(false)).allSatisfy { abs($0 - $1) < 1e-6 }
            #expect(flipped != straight, "step \(step): the crop is neither the 2x2 means nor their mirror")
            orientations.insert(flipped)
        }
        #expect(orientations.count == 2)
    }

    @Test func downScalingKeepsFlatImagesFlatAndStaysInTheImage() throws {
        let folder = try makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let flat = try Image(width: 90, height: 70, channels: 3, pixels: [UInt8](repeating: 200, count: 90 * 70 * 3))
        try write(["0.png": flat], to: folder)
        let images = try ImageFolder(path: folder)
        // Fractional factors: partial pixel weights must still sum to one.
        for step in 0..<8 {
            let values = try images.batch(size: 3, crop: 32, scales: 0.37...0.93, seed: 9, step: step).values
            #expect(values.allSatisfy { abs($0 - 200 / 255) < 1e-5 })
        }
        // The same seed and step give the same crops; a factor draw changes them.
        let varied = try ImageFolder(path: { () throws -> String in
            let other = try makeFolder()
            try write(["0.png": makeImage(width: 90, height: 70, channels: 3, seed: 5)], to: other)
            return other
        }())
        defer { try? FileManager.default.removeItem(atPath: varied.path) }
        let first = try varied.batch(size: 2, crop: 32, scales: 0.5...1, seed: 1, step: 3).values
        #expect(try varied.batch(size: 2, crop: 32, scales: 0.5...1, seed: 1, step: 3).values == first)
        #expect(try varied.batch(size: 2, crop: 32, seed: 1, step: 3).values != first)
        #expect(throws: LICError.self) { try varied.batch(size: 2, crop: 32, scales: 0...1, seed: 1, step: 3) }
        #expect(throws: LICError.self) { try varied.batch(size: 2, crop: 32, scales: 0.01...1, seed: 1, step: 3) }
        #expect(throws: LICError.self) { try varied.batch(size: 2, crop: 32, scales: 0.5...1.5, seed: 1, step: 3) }
    }

    @Test func bothOrientationsOccur() throws {
        let folder = try makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // Exactly the crop size: the position is fixed, only the flip varies.
        try write(["only.png": makeImage(width: 12, height: 12, channels: 3, seed: 6)], to: folder)
        let images = try ImageFolder(path: folder)
        let upright = (0..<3).map { c in (0..<12).map { i in (0..<12).map { j in Int(sample(j, i, c, seed: 6)) } } }
        let mirrored = upright.map { plane in plane.map { Array($0.reversed()) } }
        var uprightCount = 0, mirroredCount = 0
        for step in 0..<100 {
            let got = crop(try images.batch(size: 1, crop: 12, seed: 42, step: step).values, index: 0, size: 12)
            if got == upright { uprightCount += 1 } else if got == mirrored { mirroredCount += 1 }
        }
        #expect(uprightCount + mirroredCount == 100)
        #expect(uprightCount > 25 && mirroredCount > 25, "\(uprightCount) upright, \(mirroredCount) mirrored")
    }

    @Test func positionsCoverTheImage() throws {
        let folder = try makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // A gray image whose samples are all distinct: a 1x1 crop names its pixel.
        let width = 16, height = 13
        let gray = try Image(width: width, height: height, channels: 1,
                             pixels: (0..<(width * height)).map { UInt8($0) })
        try write(["only.png": gray], to: folder)
        let images = try ImageFolder(path: folder)
        var seen = Set<Int>()
        let values = try images.batch(size: 4000, crop: 1, seed: 1, step: 0).values
        for b in 0..<4000 { seen.insert(Int((values[b * 3] * 255).rounded())) }
        #expect(seen.count == width * height)
    }

    @Test func smallImagesArePaddedByEdgeReplication() throws {
        let folder = try makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try write(["tiny.png": makeImage(width: 5, height: 3, channels: 3, seed: 8)], to: folder)
        let images = try ImageFolder(path: folder)
        let side = 8
        let upright = (0..<3).map { c in
            (0..<side).map { i in (0..<side).map { j in Int(sample(min(j, 4), min(i, 2), c, seed: 8)) } }
        }
        let mirrored = upright.map { plane in plane.map { Array($0.reversed()) } }
        let values = try images.batch(size: 16, crop: side, seed: 2, step: 3).values
        for b in 0..<16 {
            let got = crop(values, index: b, size: side)
            #expect(got == upright || got == mirrored)
        }
    }

    @Test func rejectsBadArguments() throws {
        let folder = try makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try write(["x.png": makeImage(width: 8, height: 8, channels: 3, seed: 1)], to: folder)
        let images = try ImageFolder(path: folder)
        #expect(throws: LICError.self) { try images.batch(size: 0, crop: 4, seed: 0, step: 0) }
        #expect(throws: LICError.self) { try images.batch(size: 2, crop: 0, seed: 0, step: 0) }
        #expect(throws: LICError.self) { try images.batch(size: 1 << 20, crop: 1 << 20, seed: 0, step: 0) }
    }

    @Test func errorsNameTheFolderOrFile() throws {
        func message(_ path: String) -> String {
            do {
                _ = try ImageFolder(path: path)
                return ""
            } catch {
                return "\(error)"
            }
        }
        let folder = try makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }

        let missing = folder + "/missing"
        #expect(message(missing).contains(missing))
        #expect(message(missing).contains("does not exist"))

        let empty = folder + "/empty"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: empty + "/readme.txt"))
        #expect(message(empty).contains(empty))
        #expect(message(empty).contains("no .png"))

        let file = folder + "/file.png"
        try PNGFile.write(makeImage(width: 2, height: 2, channels: 3, seed: 1), to: file)
        #expect(message(file).contains(file))
        #expect(message(file).contains("not a folder"))

        let broken = folder + "/broken"
        try FileManager.default.createDirectory(atPath: broken, withIntermediateDirectories: true)
        try PNGFile.write(makeImage(width: 2, height: 2, channels: 3, seed: 1), to: broken + "/good.png")
        try Data("\u{89}PNG garbage".utf8).write(to: URL(fileURLWithPath: broken + "/bad.png"))
        let text = message(broken)
        #expect(text.contains(broken + "/bad.png"), "\(text)")
    }
}
