import LICTensor

/// Down-scaling of a training crop by area averaging (a box filter): output
/// pixel (i, j) of a `side` x `side` crop is the mean of the source image over
/// the square [x0 + j/f, x0 + (j+1)/f) x [y0 + i/f, y0 + (i+1)/f), pixels
/// weighted by how much of them the square covers. Sources past the image's
/// edge repeat its last row or column, as undown-scaled crops do.
enum AreaResampling {
    /// One output position's source taps: indices and weights summing to 1.
    struct Taps {
        var first: Int
        var weights: [Float]
    }

    /// The taps of each of `side` outputs along one axis starting at `origin`,
    /// for a factor `factor` in (0, 1]; indices clamped to `0..<length` by the caller.
    static func taps(origin: Int, side: Int, factor: Double) -> [Taps] {
        let width = 1 / factor
        return (0..<side).map { j in
            let start = Double(origin) + Double(j) * width
            let end = start + width
            let first = Int(start.rounded(.down))
            let last = Int(end.rounded(.up)) - 1
            let weights = (first...last).map { k -> Float in
                let covered = min(end, Double(k + 1)) - max(start, Double(k))
                return Float(max(covered, 0) / width)
            }
            return Taps(first: first, weights: weights)
        }
    }

    /// Writes the 3 planes of the crop (channel-planar, `side * side` each)
    /// to `destination`, values mapped through `scale` (8-bit value -> [0, 1]);
    /// `flip` mirrors the crop horizontally.
    static func crop(_ image: Image, x0: Int, y0: Int, side: Int, factor: Double, flip: Bool, scale: [Float],
                     into destination: UnsafeMutablePointer<Float>) {
        let columns = taps(origin: x0, side: side, factor: factor)
        let rows = taps(origin: y0, side: side, factor: factor)
        let plane = side * side
        let stride = image.width * 3
        image.pixels.withUnsafeBufferPointer { px in
            for i in 0..<side {
                let row = rows[i]
                for j in 0..<side {
                    let column = columns[flip ? side - 1 - j : j]
                    var sums: (Float, Float, Float) = (0, 0, 0)
                    for (dy, wy) in row.weights.enumerated() {
                        let y = min(row.first + dy, image.height - 1)
                        for (dx, wx) in column.weights.enumerated() {
                            let x = min(column.first + dx, image.width - 1)
                            let w = wy * wx
                            let p = y * stride + x * 3
                            sums.0 += w * scale[Int(px[p])]
                            sums.1 += w * scale[Int(px[p + 1])]
                            sums.2 += w * scale[Int(px[p + 2])]
                        }
                    }
                    let o = i * side + j
                    // The weights sum to 1 up to rounding: keep samples inside [0, 1].
                    destination[o] = min(sums.0, 1)
                    destination[plane + o] = min(sums.1, 1)
                    destination[2 * plane + o] = min(sums.2, 1)
                }
            }
        }
    }
}
