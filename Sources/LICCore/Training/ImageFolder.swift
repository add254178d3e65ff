import Foundation
import LICTensor

/// Training images: every `.png` file in a folder (not its subfolders),
/// sorted by file name, decoded once at `init` and kept in memory as RGB:
/// gray images get their one channel copied to all three, RGBA images lose
/// their alpha. File names starting with "." (hidden files, such as macOS's
/// "._name.png" companions) are skipped; the extension is matched without
/// regard to case.
///
/// Batches are random crops drawn from a counter-based generator keyed by
/// (seed, step), so a training run can be resumed at any step and see exactly
/// the batches it would have seen without the interruption.
public final class ImageFolder: Sendable {
    /// The folder, as given to `init`.
    public let path: String
    /// File names (not paths) of the images, in order: `image(at: i)` was read from `names[i]`.
    public let names: [String]
    /// The decoded images, all with 3 channels.
    private let images: [Image]

    /// Reads every PNG in `path`. Throws a `LICError` naming the folder when
    /// it does not exist, is not a folder, cannot be listed or holds no PNG
    /// file, and naming the file (with the decoder's reason) when one fails to
    /// decode.
    public init(path: String) throws {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw LICError("training image folder '\(path)' does not exist")
        }
        guard isDirectory.boolValue else {
            throw LICError("training image folder '\(path)' is not a folder")
        }
        let entries: [String]
        do {
            entries = try manager.contentsOfDirectory(atPath: path)
        } catch {
            throw LICError("cannot list training image folder '\(path)': \(error.localizedDescription)")
        }
        let base = URL(fileURLWithPath: path)
        var names: [String] = []
        for name in entries.sorted() where !name.hasPrefix(".") && name.lowercased().hasSuffix(".png") {
            var entryIsDirectory: ObjCBool = false
            let full = base.appendingPathComponent(name).path
            if manager.fileExists(atPath: full, isDirectory: &entryIsDirectory), !entryIsDirectory.boolValue {
                names.append(name)
            }
        }
        guard !names.isEmpty else {
            throw LICError("training image folder '\(path)' holds no .png file")
        }
        var images: [Image] = []
        images.reserveCapacity(names.count)
        for name in names {
            let full = base.appendingPathComponent(name).path
            let image: Image
            do {
                image = try PNGFile.read(path: full)
            } catch {
                // ImageError.readFailed names the file and gives the decoder's reason.
                throw LICError("training image folder '\(path)': \(error)")
            }
            images.append(try ImageFolder.rgb(image, path: full))
        }
        self.path = path
        self.names = names
        self.images = images
    }

    /// The smallest down-scaling factor: 1/16, so a crop's source window
    /// (side crop / factor) and each output pixel's taps stay bounded.
    public static let smallestScale = 1.0 / 16

    /// The number of images (at least 1).
    public var count: Int { images.count }

    /// Image `index` (in `0..<count`) as RGB.
    public func image(at index: Int) -> Image {
        precondition(images.indices.contains(index), "image index \(index) outside 0..<\(count)")
        return images[index]
    }

    /// A batch `[size, 3, crop, crop]` of crops with samples in [0, 1]
    /// (8-bit value / 255), channel-planar (NCHW).
    ///
    /// Each crop independently picks an image uniformly at random (with
    /// replacement), a top-left corner uniformly among the positions where the
    /// crop fits, and a horizontal flip with probability 1/2. A side of an
    /// image shorter than `crop` is padded by edge replication: the image sits
    /// at the crop's top-left (before flipping) and its last column / row is
    /// repeated to fill the rest.
    ///
    /// With `scales` other than 1...1 each crop is also down-scaled: a factor
    /// s drawn uniformly from `scales` (1/16 <= s <= 1), a source window of
    /// ceil(crop / s) pixels placed as above, and each output pixel the area
    /// average (box filter) of the source square of side 1/s it covers - the
    /// training photos seen at the scale of smaller photos, such as Kodak's,
    /// without aliasing. 1...1 gives exactly the pixels (no filtering).
    ///
    /// The result depends only on the images, `size`, `crop`, `scales`, `seed`
    /// and `step`: the same arguments always give the same batch, whatever was
    /// drawn before, and crop `b` of a batch is the same for any `size > b`.
    /// Throws if `size` or `crop` is below 1, a scale is outside (0, 1], or the
    /// batch is too large to allocate.
    public func batch(size: Int, crop: Int, scales: ClosedRange<Double> = 1...1, seed: UInt64, step: Int) throws -> Tensor {
        guard size >= 1 else { throw LICError("batch size must be at least 1, got \(size)") }
        guard crop >= 1 else { throw LICError("crop size must be at least 1, got \(crop)") }
        guard scales.lowerBound >= Self.smallestScale, scales.upperBound <= 1 else {
            throw LICError("down-scaling factors must lie in [\(Self.smallestScale), 1], got \(scales.lowerBound)...\(scales.upperBound)")
        }
        let tensor: Tensor
        do {
            tensor = try Tensor(zeros: [size, 3, crop, crop])
        } catch {
            throw LICError("cannot allocate a batch of \(size) crops of \(crop)x\(crop): \(error)")
        }
        let key = CropRandom.key(seed: seed, step: step)
        let plane = crop * crop
        let scale = ImageFolder.unitScale
        var columns = [Int](repeating: 0, count: crop)
        var rows = [Int](repeating: 0, count: crop)
        tensor.withUnsafeMutableBufferPointer { out in
            for b in 0..<size {
                // Four draws per crop, at fixed counters: crop b never depends on crops before it.
                var random = CropRandom(key: key, counter: UInt64(b) &* 4)
                let image = images[random.below(images.count)]
                // The scale has counters of its own, far from the four above: crops without it stay as they were.
                var scaleRandom = CropRandom(key: key, counter: (1 << 40) &+ UInt64(b))
                let factor = scales.lowerBound == scales.upperBound
                    ? scales.lowerBound : scales.lowerBound + (scales.upperBound - scales.lowerBound) * scaleRandom.unit()
                let window = factor == 1 ? crop : Int((Double(crop) / factor).rounded(.up))
                let x0 = random.below(max(image.width - window, 0) + 1)
                let y0 = random.below(max(image.height - window, 0) + 1)
                let flip = random.below(2) == 1
                if factor != 1 {
                    let dst = out.baseAddress! + b * 3 * plane
                    AreaResampling.crop(image, x0: x0, y0: y0, side: crop, factor: factor, flip: flip, scale: scale, into: dst)
                    continue
                }
                for j in 0..<crop {
                    let column = flip ? crop - 1 - j : j
                    columns[j] = min(x0 + column, image.width - 1)
                    rows[j] = min(y0 + j, image.height - 1)
                }
                image.pixels.withUnsafeBufferPointer { px in
                    let stride = image.width * 3
                    for c in 0..<3 {
                        let dst = out.baseAddress! + (b * 3 + c) * plane
                        for i in 0..<crop {
                            let row = dst + i * crop
                            let src = rows[i] * stride + c
                            for j in 0..<crop { row[j] = scale[Int(px[src + columns[j] * 3])] }
                        }
                    }
                }
            }
        }
        return tensor
    }

    /// Image `index` (in `0..<count`) as `[1, 3, height, width]` in [0, 1].
    public func tensor(at index: Int) throws -> Tensor {
        let image = image(at: index)
        let plane = image.width * image.height
        let tensor = try Tensor(zeros: [1, 3, image.height, image.width])
        let scale = ImageFolder.unitScale
        tensor.withUnsafeMutableBufferPointer { out in
            image.pixels.withUnsafeBufferPointer { px in
                for i in 0..<plane {
                    out[i] = scale[Int(px[3 * i])]
                    out[plane + i] = scale[Int(px[3 * i + 1])]
                    out[2 * plane + i] = scale[Int(px[3 * i + 2])]
                }
            }
        }
        return tensor
    }

    // MARK: - Internals

    /// `Float(v) / 255` for every 8-bit value.
    private static let unitScale: [Float] = (0..<256).map { Float($0) / 255 }

    /// `image` with 3 channels (see Image.convertedToRGB).
    private static func rgb(_ image: Image, path: String) throws -> Image {
        do {
            return try image.convertedToRGB()
        } catch {
            throw LICError("training image '\(path)': \(error)")
        }
    }
}

/// SplitMix64 from a key derived from (seed, step), addressed by a counter,
/// so any draw can be reproduced without replaying the ones before it.
struct CropRandom {
    let key: UInt64
    var counter: UInt64

    static func key(seed: UInt64, step: Int) -> UInt64 {
        SplitMix64.mix(SplitMix64.mix(seed &+ 0x6A09_E667_F3BC_C908) ^ (UInt64(bitPattern: Int64(step)) &* 0x9E37_79B9_7F4A_7C15))
    }

    /// The next 64 random bits.
    mutating func next() -> UInt64 {
        counter &+= 1
        return SplitMix64.mix(key &+ counter &* 0x9E37_79B9_7F4A_7C15)
    }

    /// Uniform in `0..<bound` (bound >= 1), by multiply-high; the bias is below bound / 2^64.
    mutating func below(_ bound: Int) -> Int {
        Int(truncatingIfNeeded: next().multipliedFullWidth(by: UInt64(bound)).high)
    }

    /// Uniform in [0, 1), from the top 53 bits.
    mutating func unit() -> Double {
        Double(next() >> 11) * 0x1p-53
    }
}
