import CLIC

/// A failure reported by a host service; rethrown to the host unchanged.
struct HostCallError: Error, CustomStringConvertible {
    var status: lic_status
    var message: String
    var description: String { message }
}

/// Calls a host service that reports into a lic_error, throwing its report.
func callHost(_ body: (UnsafeMutablePointer<lic_error>) -> lic_status) throws {
    var error = lic_error()
    error.struct_size = UInt32(MemoryLayout<lic_error>.size)
    let status = body(&error)
    guard status != LIC_OK else { return }
    let message = withUnsafeBytes(of: error.message) { raw in
        String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
    }
    // A callee that breaks the fill-exactly-once rule still yields a usable message.
    let silent = error.fill_count == 0 || message.isEmpty
    throw HostCallError(status: status, message: silent ? "a call failed with status \(status.rawValue) without a message" : message)
}

/// The host's services as seen by a Swift component.
public struct Host: @unchecked Sendable {
    let services: UnsafePointer<lic_host_services>

    public func log(_ level: lic_log_level, component: String, _ message: String) {
        services.pointee.log?(level, component, message)
    }

    /// Runs `body` with `count` elements of uninitialized scratch memory from
    /// the host's allocator; a refused allocation throws instead of aborting.
    public func withScratch<T, R>(_ type: T.Type, count: Int, _ body: (UnsafeMutableBufferPointer<T>) throws -> R) throws -> R {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: MemoryLayout<T>.stride)
        guard count >= 0, !overflow, let alloc = services.pointee.alloc, let free = services.pointee.free_memory,
              let raw = alloc(max(bytes, 1), MemoryLayout<T>.alignment) else {
            throw PluginError(.outOfMemory, "cannot allocate \(count) x \(T.self) of scratch memory")
        }
        defer { free(raw) }
        return try body(UnsafeMutableBufferPointer(start: raw.bindMemory(to: T.self, capacity: max(count, 1)), count: count))
    }

    /// A probability table over `firstSymbol ..< firstSymbol + pmf.count` plus escape.
    public func makeCDFTable(pmf: [Double], firstSymbol: Int32) throws -> CDFTable {
        guard let create = services.pointee.cdf_table_create else {
            throw PluginError(.unsupported, "the host has no entropy coder")
        }
        var table: OpaquePointer?
        try callHost { error in pmf.withUnsafeBufferPointer { create($0.baseAddress, UInt32($0.count), firstSymbol, &table, error) } }
        guard let table else { throw PluginError(.internalError, "the host returned no table") }
        return CDFTable(pointer: table, host: self)
    }
}

/// A host-owned probability table; released when the last reference goes.
public final class CDFTable: @unchecked Sendable {
    let pointer: OpaquePointer
    let host: Host

    init(pointer: OpaquePointer, host: Host) {
        self.pointer = pointer
        self.host = host
    }

    deinit { host.services.pointee.cdf_table_release?(pointer) }
}

/// A stream being written, opened on the coding context.
public struct SymbolEncoder {
    let pointer: OpaquePointer
    let host: Host

    public func encode(_ symbols: UnsafeBufferPointer<Int32>, with table: CDFTable) throws {
        try callHost { host.services.pointee.encode_symbols(pointer, table.pointer, symbols.baseAddress, symbols.count, $0) }
    }

    /// symbols[i] is coded with tables[indexes[i]].
    public func encode(_ symbols: UnsafeBufferPointer<Int32>, indexes: UnsafeBufferPointer<Int32>,
                       tables: [CDFTable]) throws {
        guard symbols.count == indexes.count else { throw PluginError(.invalidArgument, "symbols and indexes differ in length") }
        let pointers: [OpaquePointer?] = tables.map { $0.pointer }
        try callHost { error in
            pointers.withUnsafeBufferPointer {
                host.services.pointee.encode_symbols_indexed(pointer, $0.baseAddress, UInt32($0.count),
                                                             indexes.baseAddress, symbols.baseAddress, symbols.count, error)
            }
        }
    }

    public func encodeBits(_ value: UInt32, count: Int) throws {
        try callHost { host.services.pointee.encode_bits(pointer, value, UInt32(count), $0) }
    }
}

/// A stream being read, opened on the coding context.
public struct SymbolDecoder {
    let pointer: OpaquePointer
    let host: Host

    public func decode(into symbols: UnsafeMutableBufferPointer<Int32>, with table: CDFTable) throws {
        try callHost { host.services.pointee.decode_symbols(pointer, table.pointer, symbols.baseAddress, symbols.count, $0) }
    }

    public func decode(into symbols: UnsafeMutableBufferPointer<Int32>, indexes: UnsafeBufferPointer<Int32>,
                       tables: [CDFTable]) throws {
        guard symbols.count == indexes.count else { throw PluginError(.invalidArgument, "symbols and indexes differ in length") }
        let pointers: [OpaquePointer?] = tables.map { $0.pointer }
        try callHost { error in
            pointers.withUnsafeBufferPointer {
                host.services.pointee.decode_symbols_indexed(pointer, $0.baseAddress, UInt32($0.count),
                                                             indexes.baseAddress, symbols.baseAddress, symbols.count, error)
            }
        }
    }

    public func decodeBits(count: Int) throws -> UInt32 {
        var value: UInt32 = 0
        try callHost { host.services.pointee.decode_bits(pointer, UInt32(count), &value, $0) }
        return value
    }
}

/// The coding context of one encode or decode call.
public struct CodingContext {
    let pointer: UnsafeMutablePointer<lic_coding_context>
    let host: Host

    public func openEncoder() throws -> SymbolEncoder {
        guard let open = pointer.pointee.open_encoder else { throw PluginError(.unsupported, "not an encoding context") }
        var encoder: OpaquePointer?
        try callHost { open(pointer, &encoder, $0) }
        guard let encoder else { throw PluginError(.internalError, "the host returned no encoder") }
        return SymbolEncoder(pointer: encoder, host: host)
    }

    public func openDecoder() throws -> SymbolDecoder {
        guard let open = pointer.pointee.open_decoder else { throw PluginError(.unsupported, "not a decoding context") }
        var decoder: OpaquePointer?
        try callHost { open(pointer, &decoder, $0) }
        guard let decoder else { throw PluginError(.internalError, "the host returned no decoder") }
        return SymbolDecoder(pointer: decoder, host: host)
    }
}

/// The pipeline's quantizer, as handed to an entropy model.
public struct Quantizer {
    let binding: UnsafePointer<lic_quantizer_binding>

    public func quantize(_ values: UnsafeBufferPointer<Float>, means: UnsafeBufferPointer<Float>? = nil,
                         into symbols: UnsafeMutableBufferPointer<Int32>) throws {
        guard values.count == symbols.count, means.map({ $0.count == values.count }) ?? true else {
            throw PluginError(.invalidArgument, "quantize: buffer lengths differ")
        }
        let table = binding.pointee.quantizer.pointee
        try callHost { table.quantize(binding.pointee.instance, values.baseAddress, means?.baseAddress, symbols.baseAddress, values.count, $0) }
    }

    public func dequantize(_ symbols: UnsafeBufferPointer<Int32>, means: UnsafeBufferPointer<Float>? = nil,
                           into values: UnsafeMutableBufferPointer<Float>) throws {
        guard values.count == symbols.count, means.map({ $0.count == values.count }) ?? true else {
            throw PluginError(.invalidArgument, "dequantize: buffer lengths differ")
        }
        let table = binding.pointee.quantizer.pointee
        try callHost { table.dequantize(binding.pointee.instance, symbols.baseAddress, means?.baseAddress, values.baseAddress, values.count, $0) }
    }
}
