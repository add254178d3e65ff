/// Fixed-order direct convolutions for exact mode (see `ExactArithmetic`):
/// output element = bias, then + w * x for each tap in the order input
/// channel, kernel row, kernel column. Lanes of a SIMD vector hold different
/// output channels, so no sum is ever split; threads take whole output rows.
///
/// Both convolutions reduce to one gather: along each spatial axis an output
/// index has a base position in a zero-padded copy of the input and a phase;
/// a phase lists its kernel taps with their offsets from the base (one phase
/// for a convolution, `stride` phases for a transposed one, whose taps skip
/// the kernel rows that land between input pixels). Padding taps read zeros.
/// The innermost loop is C (CLicExact): AVX2 where the CPU has it, SSE2
/// otherwise, the same bits either way.
import CLicExact

enum ExactConvolution {
    /// Output channels per block: two vectors.
    static let blockChannels = 16
    /// Output columns computed together (they share the weight loads).
    static let tileColumns = 4

    /// One spatial axis of the gather.
    struct Axis {
        /// Per output index: position in the padded input, and phase.
        var base: [Int], phase: [Int]
        /// Per phase, the kernel indexes in ascending order with their offsets from the base.
        var taps: [[(kernel: Int, delta: Int)]]
        /// Zeros before the input, and the padded length.
        var padLow: Int, padded: Int

        /// A convolution axis: output o reads input o * stride - padLow + k.
        static func convolution(input: Int, output: Int, kernel: Int, stride: Int, padLow: Int) -> Axis {
            let padded = max(padLow + input, (output - 1) * stride + kernel)
            return Axis(base: (0..<output).map { $0 * stride }, phase: [Int](repeating: 0, count: output),
                        taps: [(0..<kernel).map { ($0, $0) }], padLow: padLow, padded: padded)
        }

        /// A transposed-convolution axis: output o receives input i through kernel
        /// index k when o = i * stride - padLow + k.
        static func transposed(input: Int, output: Int, kernel: Int, stride: Int, padLow: Int) -> Axis {
            // For t = o + padLow: phase r = t % stride, taps k = r + j * stride at input t / stride - j.
            let taps = (0..<stride).map { r in
                Array(Swift.stride(from: r, to: kernel, by: stride)).map { (kernel: $0, delta: -($0 - r) / stride) }
            }
            var lowest = 0, highest = input - 1
            for o in 0..<output {
                let t = o + padLow, q = t / stride
                let reach = taps[t % stride].last.map { -$0.delta } ?? 0
                lowest = min(lowest, q - reach)
                highest = max(highest, q)
            }
            let shift = -lowest
            return Axis(base: (0..<output).map { ($0 + padLow) / stride + shift }, phase: (0..<output).map { ($0 + padLow) % stride },
                        taps: taps, padLow: shift, padded: highest + shift + 1)
        }
    }

    /// What a gather needs besides the buffers.
    struct Shape {
        var batch, groups, inPerGroup, outPerGroup, inHeight, inWidth, outHeight, outWidth, kernelHeight, kernelWidth: Int
        var rows: Axis, columns: Axis
    }

    /// Where weight (group, out, in, kernel position) is: group * groupStride + out * outStride + in * inStride + position.
    struct WeightLayout { var groupStride, outStride, inStride: Int }

    /// dst [batch, groups * outPerGroup, outHeight, outWidth] = bias + gather.
    static func gather(_ s: Shape, src: UnsafePointer<Float>, weights: UnsafePointer<Float>, layout: WeightLayout,
                       bias: UnsafePointer<Float>?, dst: UnsafeMutablePointer<Float>) throws {
        let (ph, pw) = (s.rows.padded, s.columns.padded)
        let inChannels = s.groups * s.inPerGroup, outChannels = s.groups * s.outPerGroup
        // The zero-padded input, all images and channels.
        let padded = try TensorStorage(count: s.batch * inChannels * ph * pw)
        for plane in 0..<(s.batch * inChannels) {
            for y in 0..<s.inHeight {
                (padded.pointer + (plane * ph + y + s.rows.padLow) * pw + s.columns.padLow)
                    .update(from: src + (plane * s.inHeight + y) * s.inWidth, count: s.inWidth)
            }
        }
        // Weights per group and block of output channels: [tap weight index][16 channels], zero beyond the last channel.
        let kernelArea = s.kernelHeight * s.kernelWidth, perBlock = s.inPerGroup * kernelArea
        let blocks = (s.outPerGroup + blockChannels - 1) / blockChannels
        func pack() throws -> TensorStorage {
            let packed = try TensorStorage(count: s.groups * blocks * perBlock * blockChannels)
            lic_exact_pack_weights(weights, packed.pointer, s.groups, s.outPerGroup, s.inPerGroup, kernelArea,
                                   layout.groupStride, layout.outStride, layout.inStride)
            return packed
        }
        let key = ExactArithmetic.PackedWeights.Key(address: UInt(bitPattern: weights), count: s.groups * s.outPerGroup * perBlock,
                                                    layout: [s.groups, s.outPerGroup, s.inPerGroup, kernelArea, layout.groupStride, layout.outStride, layout.inStride])
        let packed = try ExactArithmetic.packedWeights?.packed(key, weights: weights, make: pack) ?? pack()
        // Tap lists per (row phase, column phase), in the fixed summation order.
        var tapLists: [[Int: [Tap]]] = []
        for rowTaps in s.rows.taps {
            var byColumn: [Int: [Tap]] = [:]
            for (columnPhase, columnTaps) in s.columns.taps.enumerated() {
                var list: [Tap] = []
                for i in 0..<s.inPerGroup {
                    for (ky, dy) in rowTaps {
                        for (kx, dx) in columnTaps {
                            list.append(Tap(weight: (i * s.kernelHeight + ky) * s.kernelWidth + kx, offset: (i * ph + dy) * pw + dx))
                        }
                    }
                }
                byColumn[columnPhase] = list
            }
            tapLists.append(byColumn)
        }
        // Output columns grouped by phase, so a tile shares one tap list.
        let columnsByPhase = Dictionary(grouping: 0..<s.outWidth, by: { s.columns.phase[$0] }).sorted { $0.key < $1.key }
        let padPointer = UnsafePointer(padded.pointer), packedPointer = UnsafePointer(packed.pointer)
        let rows = s.batch * s.groups * blocks * s.outHeight
        let rowCost = s.outWidth * perBlock * blockChannels
        Parallel.forEachChunk(count: rows, chunk: Parallel.chunk(itemCost: rowCost, work: 1 << 18)) { range in
            for item in range {
                let oy = item % s.outHeight
                let block = (item / s.outHeight) % blocks
                let g = (item / (s.outHeight * blocks)) % s.groups
                let n = item / (s.outHeight * blocks * s.groups)
                let firstOut = g * s.outPerGroup + block * blockChannels
                let validOut = min(blockChannels, s.outPerGroup - block * blockChannels)
                var biasValues = [Float](repeating: 0, count: blockChannels)
                if let bias { for c in 0..<validOut { biasValues[c] = bias[firstOut + c] } }
                let input = padPointer + ((n * inChannels + g * s.inPerGroup) * ph + s.rows.base[oy]) * pw
                let weights = packedPointer + ((g * blocks + block) * perBlock) * blockChannels
                let output = dst + ((n * outChannels + firstOut) * s.outHeight + oy) * s.outWidth
                let plane = s.outHeight * s.outWidth
                var bases = [Int](repeating: 0, count: tileColumns)
                var results = [Float](repeating: 0, count: tileColumns * blockChannels)
                for (columnPhase, columns) in columnsByPhase {
                    tapLists[s.rows.phase[oy]][columnPhase]!.withUnsafeBufferPointer { taps in
                        var start = 0
                        while start < columns.count {
                            let count = min(tileColumns, columns.count - start)
                            // A short last tile repeats its last column (computed, not stored).
                            for p in 0..<tileColumns { bases[p] = s.columns.base[columns[start + min(p, count - 1)]] }
                            lic_exact_tile(taps.baseAddress, taps.count, weights, input, bases, biasValues, &results)
                            results.withUnsafeBufferPointer { r in
                                for p in 0..<count {
                                    store(r.baseAddress! + p * blockChannels, at: output + columns[start + p], valid: validOut, plane: plane)
                                }
                            }
                            start += count
                        }
                    }
                }
            }
        }
    }

    typealias Tap = lic_exact_tap

    /// Writes one column's sixteen channels (the first `valid`) to their planes.
    @inline(__always)
    static func store(_ values: UnsafePointer<Float>, at output: UnsafeMutablePointer<Float>, valid: Int, plane: Int) {
        for lane in 0..<valid { output[lane * plane] = values[lane] }
    }

    /// Exact `Convolution.forward`.
    static func forward(_ g: ConvGeometry, src: UnsafePointer<Float>, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                        dst: UnsafeMutablePointer<Float>) throws {
        let (inPer, outPer, kh, kw) = (g.inChannels / g.groups, g.outChannels / g.groups, g.kernelHeight, g.kernelWidth)
        let shape = Shape(batch: g.batch, groups: g.groups, inPerGroup: inPer, outPerGroup: outPer, inHeight: g.inHeight,
                          inWidth: g.inWidth, outHeight: g.outHeight, outWidth: g.outWidth, kernelHeight: kh, kernelWidth: kw,
                          rows: .convolution(input: g.inHeight, output: g.outHeight, kernel: kh, stride: g.strideH, padLow: g.padTop),
                          columns: .convolution(input: g.inWidth, output: g.outWidth, kernel: kw, stride: g.strideW, padLow: g.padLeft))
        // [OC, IC/groups, kH, kW]
        try gather(shape, src: src, weights: weights, layout: WeightLayout(groupStride: outPer * inPer * kh * kw, outStride: inPer * kh * kw,
                                                                           inStride: kh * kw), bias: bias, dst: dst)
    }

    /// Exact `TransposedConvolution.forward`.
    static func forward(_ g: TransposedConvGeometry, src: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                        bias: UnsafePointer<Float>?, dst: UnsafeMutablePointer<Float>) throws {
        let (inPer, outPer, kh, kw) = (g.inChannels / g.groups, g.outChannels / g.groups, g.kernelHeight, g.kernelWidth)
        let shape = Shape(batch: g.batch, groups: g.groups, inPerGroup: inPer, outPerGroup: outPer, inHeight: g.inHeight,
                          inWidth: g.inWidth, outHeight: g.outHeight, outWidth: g.outWidth, kernelHeight: kh, kernelWidth: kw,
                          rows: .transposed(input: g.inHeight, output: g.outHeight, kernel: kh, stride: g.strideH, padLow: g.padTop),
                          columns: .transposed(input: g.inWidth, output: g.outWidth, kernel: kw, stride: g.strideW, padLow: g.padLeft))
        // [IC, OC/groups, kH, kW]
        try gather(shape, src: src, weights: weights, layout: WeightLayout(groupStride: inPer * outPer * kh * kw, outStride: kh * kw,
                                                                           inStride: outPer * kh * kw), bias: bias, dst: dst)
    }
}
