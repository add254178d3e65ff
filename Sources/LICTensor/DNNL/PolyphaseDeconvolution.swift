/// A stride-2 transposed convolution computed as stride-1 convolutions and an
/// interleave (the polyphase form): output pixel (2m + py, 2l + px) only ever
/// meets kernel taps of one parity per axis, so each phase (py, px) is an
/// ordinary small convolution over the input around (m, l) with only its own
/// taps - for a 5x5 kernel 3x3, 3x2, 2x3 and 2x2, 25 taps in all, where one
/// 3x3 convolution to four times the channels multiplies 36 (the zeros). Wide
/// outputs run a convolution per phase; narrow ones (few MACs, so the input's
/// reorder dominates) one convolution for all four. The sums are the same
/// products as the transposed convolution's, in another order.
///
/// Why: oneDNN 2.6 runs deconvolution as backward-data convolution, at about
/// a third of its forward-convolution speed here (kodim01's largest synthesis
/// layer, 128 -> 128 channels at 256 x 384: 289 ms), and a 3-channel output
/// (the last synthesis layer) at a fraction of that again (121 ms). The
/// forward convolution it becomes is oneDNN's best path. Used for the
/// forward pass of CompressAI's deconvolutions (odd kernel k, stride 2,
/// padding k/2, output padding 1, one group); gradients still come from
/// the transposed convolution's own backward passes (same function).
struct PolyphaseDeconvolution {
    /// One phase along one axis: kernel taps `taps[j]` (indices into the
    /// transposed kernel) meet input offsets `first + j`.
    struct AxisPhase {
        let taps: [Int]
        let first: Int
        var last: Int { first + taps.count - 1 }
    }

    /// Phases computed by one convolution: its window covers every member's
    /// input offsets (a member's taps sit at theirs, zeros elsewhere), and its
    /// output channel co * phases.count + j is channel co of phase phases[j].
    struct PhaseGroup {
        let phases: [(py: Int, px: Int)]
        let conv: ConvGeometry
        /// Per member, for each position of the convolution's kh x kw window,
        /// the transposed kernel's tap (ky * k + kx) it takes, or -1 (a zero).
        let taps: [[Int]]
    }

    let g: TransposedConvGeometry
    /// Phases 0 and 1 of each axis (the kernel is square, so rows and columns share them).
    let axis: [AxisPhase]
    let groups: [PhaseGroup]

    /// Below this many output channels the four phases run as one convolution
    /// to four times the channels (zeros included): kodim01's last synthesis
    /// layer (128 -> 3) took 19 ms so and 33 ms as four convolutions, each
    /// reordering the 50 MB input again; its 128 -> 128 layer took 120 ms so
    /// and 55 ms as four.
    static let separatePhasesFrom = 32

    init?(_ g: TransposedConvGeometry) {
        let k = g.kernelHeight, p = k / 2
        // k = 1 leaves phase 1 without taps (bias only): oneDNN's deconvolution handles it.
        guard g.strideH == 2, g.strideW == 2, g.kernelWidth == k, k % 2 == 1, k >= 3, g.groups == 1,
              [g.padTop, g.padLeft, g.padBottom, g.padRight].allSatisfy({ $0 == p }),
              g.outputPaddingH == 1, g.outputPaddingW == 1 else { return nil }
        self.g = g
        // Output 2m + phase receives tap t from input m + d, d = (phase + p - t) / 2, for taps of the phase's parity.
        let axis = (0...1).map { phase in
            let offsets = (0..<k).filter { (phase + p - $0) % 2 == 0 }.map { (phase + p - $0) / 2 }.sorted()
            return AxisPhase(taps: offsets.map { phase + p - 2 * $0 }, first: offsets[0])
        }
        self.axis = axis
        let all = [(0, 0), (0, 1), (1, 0), (1, 1)].map { (py: $0.0, px: $0.1) }
        let members = g.outChannels >= Self.separatePhasesFrom ? all.map { [$0] } : [all]
        var groups: [PhaseGroup] = []
        for phases in members {
            let top = phases.map { axis[$0.py].first }.min()!, bottom = phases.map { axis[$0.py].last }.max()!
            let left = phases.map { axis[$0.px].first }.min()!, right = phases.map { axis[$0.px].last }.max()!
            guard top <= 0, left <= 0, bottom >= 0, right >= 0,
                  let conv = try? ConvGeometry(
                      batch: g.batch, inChannels: g.inChannels, outChannels: phases.count * g.outChannels,
                      inHeight: g.inHeight, inWidth: g.inWidth, kernelHeight: bottom - top + 1, kernelWidth: right - left + 1,
                      padTop: -top, padLeft: -left, padBottom: bottom, padRight: right),
                  conv.outHeight == g.inHeight, conv.outWidth == g.inWidth
            else { return nil }
            let taps = phases.map { phase -> [Int] in
                var window = [Int](repeating: -1, count: conv.kernelHeight * conv.kernelWidth)
                let (rows, columns) = (axis[phase.py], axis[phase.px])
                for (dy, ky) in rows.taps.enumerated() {
                    for (dx, kx) in columns.taps.enumerated() {
                        window[(rows.first + dy - top) * conv.kernelWidth + columns.first + dx - left] = ky * k + kx
                    }
                }
                return window
            }
            groups.append(PhaseGroup(phases: phases, conv: conv, taps: taps))
        }
        self.groups = groups
    }

    /// dst [N, outC, 2H, 2W] = the transposed convolution of src with weights [inC, outC, k, k] and bias.
    func forward(src: UnsafePointer<Float>, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                 dst: UnsafeMutablePointer<Float>) throws {
        let (inC, outC, k) = (g.inChannels, g.outChannels, g.kernelHeight)
        let (h, width) = (g.inHeight, g.inWidth)
        for group in groups {
            let conv = group.conv
            let count = group.phases.count
            let (kh, kw) = (conv.kernelHeight, conv.kernelWidth)
            // The group's weights [count * outC, inC, kh, kw] from the transposed kernel [inC, outC, k, k].
            let groupWeights = try TensorStorage(uninitializedCount: conv.weightCount)
            let w = groupWeights.pointer
            let window = kh * kw
            Parallel.forEachChunk(count: outC, chunk: 1) { channels in
                for co in channels {
                    for (j, taps) in group.taps.enumerated() {
                        taps.withUnsafeBufferPointer { taps in
                            for ci in 0..<inC {
                                let from = weights + (ci * outC + co) * k * k
                                let to = w + ((co * count + j) * inC + ci) * window
                                for t in 0..<window { to[t] = taps[t] >= 0 ? from[taps[t]] : 0 }
                            }
                        }
                    }
                }
            }
            let groupBias = try bias.map { bias in
                let b = try TensorStorage(uninitializedCount: count * outC)
                for c in 0..<(count * outC) { b.pointer[c] = bias[c / count] }
                return b
            }
            let output = try TensorStorage(uninitializedCount: conv.outputCount)
            // The buffers are used through raw pointers: keep them alive until the interleave is done.
            try withExtendedLifetime((groupWeights, groupBias, output)) {
                try Convolution.forward(conv, src: src, weights: w, bias: groupBias?.pointer, dst: output.pointer)
                // Interleave: dst[n, c, 2m + py, 2l + px] = output[n, c * count + j, m, l] for phase j = (py, px).
                let source = output.pointer
                Parallel.forEachChunk(count: g.batch * outC, chunk: 1) { planes in
                    for plane in planes {
                        let out = dst + plane * 4 * h * width
                        for (j, phase) in group.phases.enumerated() {
                            let from = source + (plane * count + j) * h * width
                            for m in 0..<h {
                                let row = out + (2 * m + phase.py) * 2 * width + phase.px
                                let line = from + m * width
                                for l in 0..<width { row[2 * l] = line[l] }
                            }
                        }
                    }
                }
            }
        }
    }
}
