import Foundation
import LICCore

// The implementation of SDK/include/lic/lic.h. Handles are retained Swift
// objects; no Swift error or trap crosses the boundary (every entry point
// catches and stores the message on the context).

final class EmbedContext {
    var lastError: UnsafeMutablePointer<CChar> = strdup("")!

    func fail(_ code: Int32, _ message: String) -> Int32 {
        free(lastError)
        lastError = strdup(message)!
        return code
    }

    func succeed() -> Int32 { fail(0, "") }

    deinit { free(lastError) }
}

final class EmbedCodec {
    let context: EmbedContext
    let codec: Codec
    /// lic_codec_set_quality's value (nil: the model's default).
    var quality: Double?
    init(context: EmbedContext, codec: Codec) { self.context = context; self.codec = codec }
}

nonisolated(unsafe) private let versionString = strdup("0.1.0")!
nonisolated(unsafe) private let nullContextMessage = strdup("lic_context_error: the context is NULL")!

private func context(_ pointer: OpaquePointer?) -> EmbedContext? {
    pointer.map { Unmanaged<EmbedContext>.fromOpaque(UnsafeRawPointer($0)).takeUnretainedValue() }
}

private func codec(_ pointer: OpaquePointer?) -> EmbedCodec? {
    pointer.map { Unmanaged<EmbedCodec>.fromOpaque(UnsafeRawPointer($0)).takeUnretainedValue() }
}

/// Copies `bytes` into malloc'ed memory the caller frees with lic_free.
private func mallocCopy(_ bytes: [UInt8]) -> UnsafeMutablePointer<UInt8>? {
    guard let memory = malloc(max(bytes.count, 1))?.bindMemory(to: UInt8.self, capacity: max(bytes.count, 1)) else { return nil }
    bytes.withUnsafeBufferPointer { memory.update(from: $0.baseAddress!, count: bytes.count) }
    return memory
}

@c public func lic_version() -> UnsafePointer<CChar> { UnsafePointer(versionString) }

@c public func lic_context_create() -> OpaquePointer? {
    OpaquePointer(Unmanaged.passRetained(EmbedContext()).toOpaque())
}

@c public func lic_context_destroy(_ pointer: OpaquePointer?) {
    guard let pointer else { return }
    Unmanaged<EmbedContext>.fromOpaque(UnsafeRawPointer(pointer)).release()
}

@c public func lic_context_error(_ pointer: OpaquePointer?) -> UnsafePointer<CChar>? {
    guard let context = context(pointer) else { return UnsafePointer(nullContextMessage) }
    return UnsafePointer(context.lastError)
}

@c public func lic_codec_open(_ contextPointer: OpaquePointer?, _ descriptorPath: UnsafePointer<CChar>?,
                              _ weightsPath: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let context = context(contextPointer) else { return 1 }
    guard let out else { return context.fail(1, "lic_codec_open: codec output pointer is NULL") }
    do {
        let descriptor = try descriptorPath.map { try PipelineDescriptor.load(path: String(cString: $0)) } ?? DefaultPipeline.descriptor()
        let loaded = try Codec(descriptor: descriptor)
        if let weightsPath {
            try loaded.loadWeights(from: String(cString: weightsPath))
        } else if loaded.hasWeights {
            throw LICError("\(descriptor.source): a learned model needs its weights (weights.safetensors beside model.toml)")
        }
        let codec = EmbedCodec(context: context, codec: loaded)
        out.pointee = OpaquePointer(Unmanaged.passRetained(codec).toOpaque())
        return context.succeed()
    } catch {
        return context.fail(2, "\(error)")
    }
}

@c public func lic_codec_close(_ pointer: OpaquePointer?) {
    guard let pointer else { return }
    Unmanaged<EmbedCodec>.fromOpaque(UnsafeRawPointer(pointer)).release()
}

@c public func lic_encode(_ codecPointer: OpaquePointer?, _ pixels: UnsafePointer<UInt8>?, _ width: UInt32, _ height: UInt32,
                          _ channels: UInt32, _ bytes: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?,
                          _ size: UnsafeMutablePointer<Int>?) -> Int32 {
    guard let codec = codec(codecPointer) else { return 1 }
    let context = codec.context
    guard let pixels, let bytes, let size else { return context.fail(1, "lic_encode: NULL pixels or outputs") }
    do {
        try Image.validate(width: Int(width), height: Int(height), channels: Int(channels))
        let count = Int(width) * Int(height) * Int(channels)
        let image = try Image(width: Int(width), height: Int(height), channels: Int(channels),
                              pixels: Array(UnsafeBufferPointer(start: pixels, count: count)))
        let encoded = try codec.codec.encodeBytes(image, quality: codec.quality)
        guard let memory = mallocCopy(encoded) else { return context.fail(4, "lic_encode: out of memory") }
        bytes.pointee = memory
        size.pointee = encoded.count
        return context.succeed()
    } catch let error as ImageError {
        return context.fail(1, "lic_encode: \(error)")
    } catch {
        return context.fail(2, "lic_encode: \(error)")
    }
}

@c public func lic_codec_set_quality(_ codecPointer: OpaquePointer?, _ quality: Double) -> Int32 {
    guard let codec = codec(codecPointer) else { return 1 }
    let chosen = quality == 0 ? nil : quality
    do {
        _ = try codec.codec.rateLevel(quality: chosen)  // validates: range, and a one-rate model takes no quality
        codec.quality = chosen
        return codec.context.succeed()
    } catch {
        return codec.context.fail(1, "lic_codec_set_quality: \(error)")
    }
}

@c public func lic_decode(_ codecPointer: OpaquePointer?, _ data: UnsafePointer<UInt8>?, _ size: Int,
                          _ pixels: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?, _ width: UnsafeMutablePointer<UInt32>?,
                          _ height: UnsafeMutablePointer<UInt32>?, _ channels: UnsafeMutablePointer<UInt32>?) -> Int32 {
    guard let codec = codec(codecPointer) else { return 1 }
    let context = codec.context
    guard let data, size >= 0, let pixels, let width, let height, let channels else {
        return context.fail(1, "lic_decode: NULL data or outputs")
    }
    do {
        let decoded = try Codec.decode(Array(UnsafeBufferPointer(start: data, count: size)), source: "<memory>", codec: codec.codec)
        guard let memory = mallocCopy(decoded.image.pixels) else { return context.fail(4, "lic_decode: out of memory") }
        pixels.pointee = memory
        width.pointee = UInt32(decoded.image.width)
        height.pointee = UInt32(decoded.image.height)
        channels.pointee = UInt32(decoded.image.channels)
        return context.succeed()
    } catch {
        return context.fail(3, "lic_decode: \(error)")
    }
}

@c public func lic_free(_ memory: UnsafeMutableRawPointer?) { free(memory) }
