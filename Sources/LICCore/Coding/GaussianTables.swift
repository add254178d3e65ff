import Foundation
import LICPluginKit

/// Coding tables for discretized Gaussians over a ladder of scales (the
/// host's Gaussian coding service, lic_host_services.gaussian_*): built once
/// per model, shared read-only. Element i is coded with the table of the
/// first ladder scale >= scales[i] (the last when none is), over integer
/// symbols centred on the element's mean; symbols outside a table's
/// +-ceil(s * Phi^-1(1 - tail/2)) range are escape-coded.
public final class GaussianTables: @unchecked Sendable {
    /// Ascending, as float: the comparisons use the caller's float scales.
    public let scales: [Float]
    public let tables: [CDFTable]

    public init(scales: [Double], tailMass: Double) throws {
        try Self.check(scales)
        guard tailMass > 0, tailMass < 1 else { throw CodingError.invalidArgument("gaussian_coder_create: tail mass \(tailMass) outside (0, 1)") }
        // The same normal CDF and quantile plugins use (LICPluginKit.GaussianCell), so host and plugin tables agree.
        let multiplier = -GaussianCell.quantile(tailMass / 2)
        let phi = GaussianCell.phi
        tables = try scales.map { s in
            let bound = min(30000, Int((s * multiplier).rounded(.up)))
            let pmf = (-bound...bound).map { k in phi((0.5 - Double(abs(k))) / s) - phi((-0.5 - Double(abs(k))) / s) }
            return try CDFTable(pmf: pmf, firstSymbol: Int32(-bound))
        }
        self.scales = scales.map { Float($0) }
    }

    /// Tables built earlier for `scales` (a model directory's stored tables).
    public init(scales: [Double], tables: [CDFTable]) throws {
        try Self.check(scales)
        guard tables.count == scales.count else {
            throw CodingError.invalidArgument("gaussian coder: \(tables.count) tables for \(scales.count) scales")
        }
        self.tables = tables
        self.scales = scales.map { Float($0) }
    }

    private static func check(_ scales: [Double]) throws {
        guard !scales.isEmpty, scales.count <= 4096, scales.allSatisfy({ $0.isFinite && $0 > 0 }),
              zip(scales, scales.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw CodingError.invalidArgument("gaussian_coder_create: scales must be 1...4096 positive values in ascending order")
        }
    }

    /// The table index for `scale` (NaN takes the widest table).
    @inline(__always)
    public func index(for scale: Float) -> Int32 {
        var (low, high) = (0, scales.count - 1)
        guard scale <= scales[high] else { return Int32(high) }
        while low < high {
            let mid = (low + high) / 2
            if scales[mid] >= scale { high = mid } else { low = mid + 1 }
        }
        return Int32(low)
    }

    /// Table indexes and the positions they apply to (the masked elements).
    private func selection(_ scales: UnsafeBufferPointer<Float>, _ mask: UnsafeBufferPointer<UInt8>?) -> (positions: [Int]?, indexes: [Int32]) {
        guard let mask else { return (nil, scales.map { index(for: $0) }) }
        let positions = mask.indices.filter { mask[$0] != 0 }
        return (positions, positions.map { index(for: scales[$0]) })
    }

    public func encode(_ symbols: UnsafeBufferPointer<Int32>, scales: UnsafeBufferPointer<Float>, mask: UnsafeBufferPointer<UInt8>?,
                       into encoder: inout RANSEncoder) throws {
        let (positions, indexes) = selection(scales, mask)
        let chosen = positions.map { $0.map { symbols[$0] } } ?? Array(symbols)
        try chosen.withUnsafeBufferPointer { s in
            try indexes.withUnsafeBufferPointer { try encoder.encode(s, indexes: $0, tables: tables) }
        }
    }

    public func decode(into symbols: UnsafeMutableBufferPointer<Int32>, scales: UnsafeBufferPointer<Float>,
                       mask: UnsafeBufferPointer<UInt8>?, from decoder: inout RANSDecoder) throws {
        let (positions, indexes) = selection(scales, mask)
        var decoded = [Int32](repeating: 0, count: indexes.count)
        try decoded.withUnsafeMutableBufferPointer { out in
            try indexes.withUnsafeBufferPointer { try decoder.decode(into: out, indexes: $0, tables: tables) }
        }
        if let positions {
            for (k, position) in positions.enumerated() { symbols[position] = decoded[k] }
        } else {
            for k in decoded.indices { symbols[k] = decoded[k] }
        }
    }

    /// -log2 P(symbol) as coded; an escaped symbol costs its escape
    /// probability plus about 2 log2(distance) + 2 raw bits.
    public func bits(scale: Float, symbol: Int32) -> Double {
        let table = tables[Int(index(for: scale))]
        let offset = Int64(symbol) - Int64(table.firstSymbol)
        let total = Double(1 << CDFTable.precisionBits)
        if offset >= 0 && offset < Int64(table.symbolCount) {
            return -log2(Double(table.frequencies[Int(offset)]) / total)
        }
        let distance = Double(offset < 0 ? -offset : offset - Int64(table.symbolCount) + 1)
        return -log2(Double(table.frequencies[table.symbolCount]) / total) + 2 * log2(distance) + 2
    }
}
