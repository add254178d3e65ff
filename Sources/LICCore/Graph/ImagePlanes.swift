import LICTensor

/// Images <-> the codec's input and output tensors: x = [1, C, H', W'] with
/// values / 255, padded by edge replication to the codec's alignment; x_hat
/// cropped back, scaled, rounded and clamped to 8 bits.
enum ImagePlanes {
    static func paddedShape(width: Int, height: Int, channels: Int, alignment: Int) -> [Int] {
        func padded(_ n: Int) -> Int { (n + alignment - 1) / alignment * alignment }
        return [1, channels, padded(height), padded(width)]
    }

    static func tensor(from image: Image, alignment: Int) throws -> Tensor {
        let shape = paddedShape(width: image.width, height: image.height, channels: image.channels, alignment: alignment)
        let x = try Tensor(zeros: shape)
        x.withUnsafeMutableBufferPointer { fillPlanes($0.baseAddress!, from: image, paddedShape: shape) }
        return x
    }

    /// planes[0, c, i, j] = pixel(min(i, H-1), min(j, W-1), c) / 255 (edge replication).
    static func fillPlanes(_ planes: UnsafeMutablePointer<Float>, from image: Image, paddedShape shape: [Int]) {
        let (channels, height, width) = (image.channels, shape[2], shape[3])
        image.pixels.withUnsafeBufferPointer { pixels in
            for c in 0..<channels {
                let plane = planes + c * height * width
                for i in 0..<height {
                    let row = min(i, image.height - 1) * image.width
                    for j in 0..<width {
                        plane[i * width + j] = Float(pixels[(row + min(j, image.width - 1)) * channels + c]) * (1 / 255)
                    }
                }
            }
        }
    }

    /// Crops x_hat [1, C, H', W'] to width x height, scales by 255, rounds and clamps to 8 bits.
    static func image(from xHat: Tensor, width: Int, height: Int, channels: Int) throws -> Image {
        let planeShape = xHat.shape
        guard planeShape.count == 4, planeShape[0] == 1, planeShape[1] == channels, planeShape[2] >= height, planeShape[3] >= width else {
            throw LICError("the synthesis gives \(planeShape), expected [1, \(channels), >= \(height), >= \(width)]; are the analysis and synthesis mirror images?")
        }
        let (planeHeight, planeWidth) = (planeShape[2], planeShape[3])
        var pixels = [UInt8](repeating: 0, count: width * height * channels)
        xHat.withUnsafeBufferPointer { source in
            let planes = source.baseAddress!
            pixels.withUnsafeMutableBufferPointer { out in
                for c in 0..<channels {
                    let plane = planes + c * planeHeight * planeWidth
                    for i in 0..<height {
                        for j in 0..<width {
                            let value = (plane[i * planeWidth + j] * 255).rounded()
                            out[(i * width + j) * channels + c] = UInt8(value.isNaN ? 0 : max(0, min(255, value)))
                        }
                    }
                }
            }
        }
        return try Image(width: width, height: height, channels: channels, pixels: pixels)
    }
}
