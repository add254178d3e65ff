import CLIC

/// The host side of one entropy-model encode or decode call: hands out
/// stream encoders (kept in the order opened) or decoders for the container's
/// streams (in that same order). Used by one thread.
final class CodingSession {
    private(set) var encoders: [SymbolEncoderBox] = []
    private var decoders: [SymbolDecoderBox] = []
    private let inputStreams: [[UInt8]]
    private let segmented: Bool

    /// For encoding.
    init() { (inputStreams, segmented) = ([], false) }

    /// For decoding the given streams; `segmented`: the file declares segmented streams.
    init(decoding streams: [[UInt8]], segmented: Bool) { (inputStreams, self.segmented) = (streams, segmented) }

    /// Finishes every encoder: the bytes of each stream, in order.
    func finishedStreams() -> [[UInt8]] { encoders.map { $0.encoder.finish() } }

    /// Streams the model opened for decoding (from the `first`-th on) but did
    /// not read to the end: every byte read and the rANS states back at their
    /// initial value, as after decoding exactly what the encoder wrote.
    func unconsumedStreams(from first: Int = 0) -> [Int] {
        decoders.indices.filter { $0 >= first && !decoders[$0].decoder.isFullyConsumed }
    }
    var openedDecoderCount: Int { decoders.count }

    func withContext<R>(_ body: (UnsafeMutablePointer<lic_coding_context>) throws -> R) rethrows -> R {
        var context = lic_coding_context(
            struct_size: UInt32(MemoryLayout<lic_coding_context>.size),
            host_data: Unmanaged.passUnretained(self).toOpaque(),
            open_encoder: { context, out, error in
                HostServices.hostCall(error) {
                    guard let context, let out else { throw LICError("open_encoder: missing context or output") }
                    let session = Unmanaged<CodingSession>.fromOpaque(context.pointee.host_data).takeUnretainedValue()
                    guard session.inputStreams.isEmpty, session.decoders.isEmpty else {
                        throw LICError("open_encoder called while decoding")
                    }
                    let box = SymbolEncoderBox()
                    session.encoders.append(box)
                    out.pointee = OpaquePointer(Unmanaged.passUnretained(box).toOpaque())
                }
            },
            open_decoder: { context, out, error in
                HostServices.hostCall(error) {
                    guard let context, let out else { throw LICError("open_decoder: missing context or output") }
                    let session = Unmanaged<CodingSession>.fromOpaque(context.pointee.host_data).takeUnretainedValue()
                    let index = session.decoders.count
                    guard index < session.inputStreams.count else {
                        throw CodingError.corruptStream("the file has \(session.inputStreams.count) coded stream(s); the model asked for stream #\(index + 1)")
                    }
                    let box = try SymbolDecoderBox(bytes: session.inputStreams[index], segmented: session.segmented)
                    session.decoders.append(box)
                    out.pointee = OpaquePointer(Unmanaged.passUnretained(box).toOpaque())
                }
            })
        return try body(&context)
    }
}
