import LICPluginKit
#if canImport(Glibc)
import Glibc
#endif

/// Parametric entropy model, one distribution per channel (a DCT band or a
/// latent channel): for each channel the encoder picks, from a table of
/// log-spaced discretized Laplacians, the one that codes that channel's
/// symbols in the fewest bits, and sends its index as side information.
/// Index 0 means "every symbol of the channel is zero" and codes nothing else.
final class LaplaceBands: EntropyModelComponent {
    static let schema: [ParamSpec] = [
        .int("scales", default: 64, range: 2...255, "Number of Laplacian scales in the table"),
        .float("min_scale", default: 0.04, min: 0.001, max: 1000, "Smallest scale, in quantization steps"),
        .float("max_scale", default: 256, min: 0.01, max: 10000, "Largest scale, in quantization steps"),
        .float("tail_mass", default: 1e-6, min: 1e-12, max: 0.1,
               "Probability left outside each table (coded through the escape)"),
    ]

    let host: Host
    let scales: [Double]
    /// Bits that index a table (index 0 is reserved for an all-zero channel).
    let indexBits: Int
    let tailMass: Double
    private var tables: [CDFTable?]

    init(params: Params, host: Host) throws {
        self.host = host
        let count = Int(try params.int("scales"))
        let low = try params.float("min_scale"), high = try params.float("max_scale")
        guard low < high else { throw PluginError(.invalidArgument, "min_scale must be below max_scale") }
        // Portable math here and in the tables: the decoder must build exactly the encoder's tables on any machine.
        let ratio = PortableMath.log(high / low)
        scales = (0..<count).map { low * PortableMath.exp(ratio * Double($0) / Double(max(count - 1, 1))) }
        tailMass = try params.float("tail_mass")
        indexBits = Int(ceil(log2(Double(count + 1))))
        tables = Array(repeating: nil, count: count)
    }

    /// The discretized Laplacian for scale index `index`, symmetric on [-K, K].
    private func table(_ index: Int) throws -> CDFTable {
        if let table = tables[index] { return table }
        let scale = scales[index]
        let bound = min(8192, max(1, Int((scale * PortableMath.log(1 / tailMass)).rounded(.up))))
        let cdf = { (x: Double) -> Double in x < 0 ? 0.5 * PortableMath.exp(x / scale) : 1 - 0.5 * PortableMath.exp(-x / scale) }
        let pmf = (-bound...bound).map { cdf(Double($0) + 0.5) - cdf(Double($0) - 0.5) }
        let table = try host.makeCDFTable(pmf: pmf, firstSymbol: Int32(-bound))
        tables[index] = table
        return table
    }

    func encode(_ y: TensorView, yHat: TensorView, quantizer: Quantizer, context: CodingContext) throws {
        let values = try y.contiguousBuffer(), output = try yHat.contiguousBuffer()
        try host.withScratch(Int32.self, count: values.count) { symbols in
            try encode(values, symbols, output, shape: y.shape, quantizer: quantizer, context: context)
        }
    }

    private func encode(_ values: UnsafeMutableBufferPointer<Float>, _ symbols: UnsafeMutableBufferPointer<Int32>,
                        _ output: UnsafeMutableBufferPointer<Float>, shape: [Int], quantizer: Quantizer,
                        context: CodingContext) throws {
        try quantizer.quantize(UnsafeBufferPointer(values), into: symbols)
        let encoder = try context.openEncoder()
        for channel in try channelRanges(shape) {
            let part = UnsafeBufferPointer(start: symbols.baseAddress! + channel.lowerBound, count: channel.count)
            let index = bestTableIndex(part)
            try encoder.encodeBits(UInt32(index), count: indexBits)
            if index > 0 { try encoder.encode(part, with: try table(index - 1)) }
        }
        try quantizer.dequantize(UnsafeBufferPointer(symbols), into: output)
    }

    func decode(yHat: TensorView, quantizer: Quantizer, context: CodingContext) throws {
        let output = try yHat.contiguousBuffer()
        try host.withScratch(Int32.self, count: output.count) { symbols in
            try decode(symbols, output, shape: yHat.shape, quantizer: quantizer, context: context)
        }
    }

    private func decode(_ symbols: UnsafeMutableBufferPointer<Int32>, _ output: UnsafeMutableBufferPointer<Float>,
                        shape: [Int], quantizer: Quantizer, context: CodingContext) throws {
        let decoder = try context.openDecoder()
        for channel in try channelRanges(shape) {
            let part = UnsafeMutableBufferPointer(start: symbols.baseAddress! + channel.lowerBound, count: channel.count)
            let index = Int(try decoder.decodeBits(count: indexBits))
            guard index <= scales.count else {
                throw PluginError(.corruptData, "scale index \(index) is out of range (\(scales.count) scales)")
            }
            if index == 0 {
                part.update(repeating: 0)
            } else {
                try decoder.decode(into: part, with: try table(index - 1))
            }
        }
        try quantizer.dequantize(UnsafeBufferPointer(symbols), into: output)
    }

    /// The element ranges of each channel, for an [N, C, H, W] tensor with N == 1
    /// or, for larger batches, one range per (n, c) plane.
    private func channelRanges(_ shape: [Int]) throws -> [Range<Int>] {
        guard shape.count == 4 else { throw PluginError(.invalidArgument, "expects an NCHW tensor") }
        let plane = shape[2] * shape[3]
        return (0..<(shape[0] * shape[1])).map { ($0 * plane)..<(($0 + 1) * plane) }
    }

    /// 0 for an all-zero channel, else 1 + the scale whose table costs fewest bits.
    private func bestTableIndex(_ symbols: UnsafeBufferPointer<Int32>) -> Int {
        var histogram: [Int32: Int] = [:]
        for symbol in symbols { histogram[symbol, default: 0] += 1 }
        if histogram.count == 1, histogram[0] != nil { return 0 }
        var best = (index: 1, bits: Double.infinity)
        for index in scales.indices {
            let bits = estimatedBits(histogram, scale: scales[index])
            if bits < best.bits { best = (index + 1, bits) }
        }
        return best.index
    }

    /// Ideal code length under a continuous-tail Laplacian; escapes cost ~32 bits.
    private func estimatedBits(_ histogram: [Int32: Int], scale: Double) -> Double {
        let bound = min(8192, max(1, Int(ceil(scale * log(1 / tailMass)))))
        var bits = 0.0
        for (symbol, count) in histogram {
            let magnitude = abs(Int(symbol))
            if magnitude > bound { bits += Double(count) * 40; continue }
            let m = Double(magnitude)
            let p = magnitude == 0 ? 1 - exp(-0.5 / scale)
                : 0.5 * (exp(-(m - 0.5) / scale) - exp(-(m + 0.5) / scale))
            bits -= Double(count) * log2(max(p, 1e-12))
        }
        return bits
    }
}
