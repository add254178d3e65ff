import CLIC
import Foundation

/// The lic_host_services table handed to every plugin: logging, memory and
/// the entropy coder. Opaque ABI handles are retained Swift objects:
/// lic_cdf_table* is a CDFTable, lic_symbol_encoder* a SymbolEncoderBox,
/// lic_symbol_decoder* a SymbolDecoderBox (the last two owned by a CodingSession),
/// lic_gaussian_coder* a GaussianTables.
enum HostServices {
    /// Receives plugin log lines; the CLI routes them to stderr.
    nonisolated(unsafe) static var logSink: @Sendable (lic_log_level, String, String) -> Void = { level, component, message in
        guard level.rawValue >= LIC_LOG_WARNING.rawValue else { return }
        FileHandle.standardError.write(Data("lic: \(component): \(message)\n".utf8))
    }

    nonisolated(unsafe) static let table: UnsafePointer<lic_host_services> = {
        let table = UnsafeMutablePointer<lic_host_services>.allocate(capacity: 1)
        table.initialize(to: lic_host_services(
            struct_size: UInt32(MemoryLayout<lic_host_services>.size),
            abi_version: LIC_ABI_VERSION,
            log: { level, component, message in
                logSink(level, component.map { String(cString: $0) } ?? "plugin", message.map { String(cString: $0) } ?? "")
            },
            alloc: { size, alignment in
                var pointer: UnsafeMutableRawPointer?
                let align = max(alignment, MemoryLayout<UnsafeRawPointer>.size)
                guard align & (align - 1) == 0, posix_memalign(&pointer, align, max(size, 1)) == 0 else { return nil }
                return pointer
            },
            free_memory: { pointer in free(pointer) },
            cdf_table_create: { pmf, count, firstSymbol, out, error in
                hostCall(error) {
                    guard let out, let pmf, count > 0, count < 65535 else {
                        throw CodingError.invalidArgument("cdf_table_create: \(count) symbols (1...65534) or no output")
                    }
                    let values = Array(UnsafeBufferPointer(start: pmf, count: Int(count)))
                    // Inside prepare_coding the session records the table, or hands out the model directory's stored one.
                    let table = try CodingTableSession.current?.cdfTable(pmf: values, firstSymbol: firstSymbol)
                        ?? CDFTable(pmf: values, firstSymbol: firstSymbol)
                    out.pointee = OpaquePointer(Unmanaged.passRetained(table).toOpaque())
                }
            },
            cdf_table_release: { table in
                guard let table else { return }
                Unmanaged<CDFTable>.fromOpaque(UnsafeRawPointer(table)).release()
            },
            encode_symbols: { encoder, table, symbols, count, error in
                hostCall(error) {
                    let box = try SymbolEncoderBox.from(encoder), table = try cdfTable(table)
                    box.encoder.encode(try buffer(symbols, count), with: table)
                }
            },
            encode_symbols_indexed: { encoder, tables, tableCount, indexes, symbols, count, error in
                hostCall(error) {
                    let box = try SymbolEncoderBox.from(encoder)
                    try box.encoder.encode(try buffer(symbols, count), indexes: try buffer(indexes, count),
                                           tables: try cdfTables(tables, tableCount))
                }
            },
            encode_bits: { encoder, value, bits, error in
                hostCall(error) {
                    guard bits <= 32 else { throw CodingError.invalidArgument("encode_bits: \(bits) bits (at most 32)") }
                    // The coder treats a value wider than its bit count as a programming error; a plugin's is an argument error.
                    guard bits == 32 || value >> bits == 0 else {
                        throw CodingError.invalidArgument("encode_bits: value \(value) does not fit in \(bits) bits")
                    }
                    try SymbolEncoderBox.from(encoder).encoder.encodeBits(value, count: Int(bits))
                }
            },
            decode_symbols: { decoder, table, symbols, count, error in
                hostCall(error) {
                    let box = try SymbolDecoderBox.from(decoder)
                    try box.decoder.decode(into: try mutableBuffer(symbols, count), with: try cdfTable(table))
                }
            },
            decode_symbols_indexed: { decoder, tables, tableCount, indexes, symbols, count, error in
                hostCall(error) {
                    let box = try SymbolDecoderBox.from(decoder)
                    try box.decoder.decode(into: try mutableBuffer(symbols, count), indexes: try buffer(indexes, count),
                                           tables: try cdfTables(tables, tableCount))
                }
            },
            decode_bits: { decoder, bits, value, error in
                hostCall(error) {
                    guard bits <= 32, let value else { throw CodingError.invalidArgument("decode_bits: bad bit count or no output") }
                    value.pointee = try SymbolDecoderBox.from(decoder).decoder.decodeBits(count: Int(bits))
                }
            },
            tensor_ops: TensorOpsTable.table,
            gaussian_coder_create: { scales, count, tailMass, out, error in
                hostCall(error) {
                    guard let out, let scales, count > 0 else { throw CodingError.invalidArgument("gaussian_coder_create: no scales or output") }
                    let ladder = Array(UnsafeBufferPointer(start: scales, count: Int(count)))
                    let tables = try CodingTableSession.current?.gaussianTables(scales: ladder, tailMass: tailMass)
                        ?? GaussianTables(scales: ladder, tailMass: tailMass)
                    out.pointee = OpaquePointer(Unmanaged.passRetained(tables).toOpaque())
                }
            },
            gaussian_coder_release: { coder in
                guard let coder else { return }
                Unmanaged<GaussianTables>.fromOpaque(UnsafeRawPointer(coder)).release()
            },
            gaussian_encode: { encoder, coder, scales, symbols, mask, count, error in
                hostCall(error) {
                    let box = try SymbolEncoderBox.from(encoder)
                    try gaussianTables(coder).encode(try buffer(symbols, count), scales: try buffer(scales, count),
                                                     mask: mask.map { UnsafeBufferPointer(start: $0, count: count) }, into: &box.encoder)
                }
            },
            gaussian_decode: { decoder, coder, scales, symbols, mask, count, error in
                hostCall(error) {
                    let box = try SymbolDecoderBox.from(decoder)
                    try gaussianTables(coder).decode(into: try mutableBuffer(symbols, count), scales: try buffer(scales, count),
                                                     mask: mask.map { UnsafeBufferPointer(start: $0, count: count) }, from: &box.decoder)
                }
            },
            gaussian_bits: { coder, scale, symbol in
                guard let coder else { return .infinity }
                return Unmanaged<GaussianTables>.fromOpaque(UnsafeRawPointer(coder)).takeUnretainedValue().bits(scale: scale, symbol: symbol)
            }))
        return UnsafePointer(table)
    }()

    /// Runs a service body and reports a thrown error into the plugin's lic_error.
    static func hostCall(_ sink: UnsafeMutablePointer<lic_error>?, _ body: () throws -> Void) -> lic_status {
        do {
            try body()
            return LIC_OK
        } catch let error as CodingError {
            if case .corruptStream = error { return lic_error_set(sink, LIC_ERROR_CORRUPT_DATA, error.description) }
            return lic_error_set(sink, LIC_ERROR_INVALID_ARGUMENT, error.description)
        } catch {
            return lic_error_set(sink, LIC_ERROR_INTERNAL, "\(error)")
        }
    }

    private static func cdfTable(_ pointer: OpaquePointer?) throws -> CDFTable {
        guard let pointer else { throw CodingError.invalidArgument("NULL probability table") }
        return Unmanaged<CDFTable>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
    }

    private static func gaussianTables(_ pointer: OpaquePointer?) throws -> GaussianTables {
        guard let pointer else { throw CodingError.invalidArgument("NULL Gaussian coder") }
        return Unmanaged<GaussianTables>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
    }

    private static func cdfTables(_ pointers: UnsafePointer<OpaquePointer?>?, _ count: UInt32) throws -> [CDFTable] {
        guard let pointers, count > 0 else { throw CodingError.invalidArgument("no probability tables") }
        return try (0..<Int(count)).map { try cdfTable(pointers[$0]) }
    }

    private static func buffer<T>(_ pointer: UnsafePointer<T>?, _ count: Int) throws -> UnsafeBufferPointer<T> {
        guard pointer != nil || count == 0 else { throw CodingError.invalidArgument("NULL array of \(count) elements") }
        return UnsafeBufferPointer(start: pointer, count: count)
    }

    private static func mutableBuffer<T>(_ pointer: UnsafeMutablePointer<T>?, _ count: Int) throws -> UnsafeMutableBufferPointer<T> {
        guard pointer != nil || count == 0 else { throw CodingError.invalidArgument("NULL array of \(count) elements") }
        return UnsafeMutableBufferPointer(start: pointer, count: count)
    }
}

/// A stream being encoded; its address is the lic_symbol_encoder handle.
final class SymbolEncoderBox {
    var encoder = RANSEncoder()

    static func from(_ handle: OpaquePointer?) throws -> SymbolEncoderBox {
        guard let handle else { throw CodingError.invalidArgument("NULL encoder") }
        return Unmanaged<SymbolEncoderBox>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
    }
}

/// A stream being decoded; its address is the lic_symbol_decoder handle.
final class SymbolDecoderBox {
    var decoder: RANSDecoder

    init(bytes: [UInt8], segmented: Bool) throws { decoder = try RANSDecoder(bytes: bytes, segmented: segmented) }

    static func from(_ handle: OpaquePointer?) throws -> SymbolDecoderBox {
        guard let handle else { throw CodingError.invalidArgument("NULL decoder") }
        return Unmanaged<SymbolDecoderBox>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
    }
}
