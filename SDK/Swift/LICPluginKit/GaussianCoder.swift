import CLIC

/// The host's Gaussian coding tables for a ladder of scales, built once
/// (per model, not per image): codes integer symbols centred on their means
/// with the table of the first ladder scale >= each element's scale.
public final class GaussianCoder: @unchecked Sendable {
    let pointer: OpaquePointer
    let host: Host

    public init(scales: [Double], tailMass: Double, host: Host) throws {
        guard host.services.pointee.struct_size >= UInt32(MemoryLayout<lic_host_services>.offset(of: \.gaussian_bits)!),
              let create = host.services.pointee.gaussian_coder_create else {
            throw PluginError(.unsupported, "the host has no Gaussian coder (ABI 1.2 needed)")
        }
        var coder: OpaquePointer?
        try callHost { error in scales.withUnsafeBufferPointer { create($0.baseAddress, UInt32($0.count), tailMass, &coder, error) } }
        guard let coder else { throw PluginError(.internalError, "the host returned no Gaussian coder") }
        (pointer, self.host) = (coder, host)
    }

    deinit { host.services.pointee.gaussian_coder_release(pointer) }

    /// Codes symbols[i] where mask[i] != 0 (every element when mask is nil).
    public func encode(_ symbols: UnsafeBufferPointer<Int32>, scales: UnsafeBufferPointer<Float>, mask: UnsafeBufferPointer<UInt8>? = nil,
                       into encoder: SymbolEncoder) throws {
        guard scales.count == symbols.count, mask.map({ $0.count == symbols.count }) ?? true else {
            throw PluginError(.invalidArgument, "gaussian encode: buffer lengths differ")
        }
        try callHost {
            host.services.pointee.gaussian_encode(encoder.pointer, pointer, scales.baseAddress, symbols.baseAddress, mask?.baseAddress,
                                                  symbols.count, $0)
        }
    }

    /// Reads symbols[i] where mask[i] != 0 (every element when mask is nil).
    public func decode(into symbols: UnsafeMutableBufferPointer<Int32>, scales: UnsafeBufferPointer<Float>,
                       mask: UnsafeBufferPointer<UInt8>? = nil, from decoder: SymbolDecoder) throws {
        guard scales.count == symbols.count, mask.map({ $0.count == symbols.count }) ?? true else {
            throw PluginError(.invalidArgument, "gaussian decode: buffer lengths differ")
        }
        try callHost {
            host.services.pointee.gaussian_decode(decoder.pointer, pointer, scales.baseAddress, symbols.baseAddress, mask?.baseAddress,
                                                  symbols.count, $0)
        }
    }

    /// -log2 P(symbol) with the table for `scale`, as the coder pays it.
    public func bits(scale: Float, symbol: Int32) -> Double {
        host.services.pointee.gaussian_bits(pointer, scale, symbol)
    }
}
