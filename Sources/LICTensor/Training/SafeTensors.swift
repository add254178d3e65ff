import Foundation
import CLicExact
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A checkpoint file that cannot be read or written. `path` is the file (or the
/// name given to `SafeTensorsFile.read(bytes:name:)`), `tensor` the entry at
/// fault where there is one.
public struct CheckpointError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var tensor: String?
    public var message: String

    public init(path: String, tensor: String? = nil, message: String) {
        self.path = path
        self.tensor = tensor
        self.message = message
    }

    public var description: String {
        if let tensor { return "\(path): tensor '\(tensor)': \(message)" }
        return "\(path): \(message)"
    }
}

/// The safetensors format: an 8-byte little-endian header length N, N bytes of
/// UTF-8 JSON
/// `{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ..., "__metadata__": {"k": "v"}}`
/// (padded with spaces so the data starts 8-byte aligned), then the tensor data,
/// little-endian and row-major; offsets are relative to the start of the data.
///
/// Tensors are held as Float. Reading accepts F32, F16, BF16 and F64 (converted
/// to Float, F64 rounded to nearest); writing always produces F32. Reading
/// validates everything a hostile file could get wrong before allocating
/// anything sized by it, and reports every failure as a `CheckpointError`.
public struct SafeTensorsFile: Sendable {
    public struct Tensor: Sendable, Equatable {
        public var shape: [Int]
        /// Row-major values; `values.count` is the product of `shape` (1 for `[]`).
        public var values: [Float]

        public init(shape: [Int], values: [Float]) {
            self.shape = shape
            self.values = values
        }
    }

    public var tensors: [String: Tensor]
    public var metadata: [String: String]

    /// How `write` stores values: F32, or F16 (half the size; every value
    /// must already be a float16 value - see `roundedToHalf` - so that what
    /// is read back is exactly what was written).
    public enum StoredType: String, Sendable {
        case f32 = "F32", f16 = "F16"
    }

    /// `value` rounded to the nearest float16 (ties to even), as a Float:
    /// exact on every machine (IEEE 754 conversion). Beyond float16's range: infinite.
    public static func roundedToHalf(_ value: Float) -> Float {
        Float(Float16(value))
    }

    public init(tensors: [String: Tensor] = [:], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// Largest header accepted when reading (as in the reference implementation).
    public static let maximumHeaderLength = 100 << 20

    static let metadataKey = "__metadata__"

    // MARK: Writing

    /// Writes a safetensors file (F32, or F16 with `storedAs: .f16`). Tensors appear in the header and in the
    /// data in order of their names' UTF-8 bytes, the data contiguous in that
    /// order; metadata keys are sorted the same way, and `__metadata__` is left
    /// out when there is none. The file is written to a temporary file beside
    /// `path`, flushed, and renamed over `path`, so readers see either the old
    /// file or the complete new one.
    public func write(to path: String, storedAs stored: StoredType = .f32) throws {
        let elementSize = stored == .f32 ? 4 : 2
        let names = tensors.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var header = "{"
        var first = true
        if !metadata.isEmpty {
            header += Self.jsonString(Self.metadataKey) + ":{"
            let keys = metadata.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (i, key) in keys.enumerated() {
                if i > 0 { header += "," }
                header += Self.jsonString(key) + ":" + Self.jsonString(metadata[key]!)
            }
            header += "}"
            first = false
        }
        var offset = 0
        for name in names {
            let tensor = tensors[name]!
            if name == Self.metadataKey {
                throw CheckpointError(path: path, tensor: name, message: "the name '\(Self.metadataKey)' is reserved")
            }
            var count = 1
            for d in tensor.shape {
                guard d >= 0 else {
                    throw CheckpointError(path: path, tensor: name, message: "negative dimension in shape \(tensor.shape)")
                }
                let (p, o) = count.multipliedReportingOverflow(by: d)
                guard !o else {
                    throw CheckpointError(path: path, tensor: name, message: "shape \(tensor.shape) has too many elements")
                }
                count = p
            }
            guard count == tensor.values.count else {
                throw CheckpointError(path: path, tensor: name,
                                      message: "shape \(tensor.shape) needs \(count) values, has \(tensor.values.count)")
            }
            if stored == .f16, let bad = tensor.values.first(where: { Self.roundedToHalf($0) != $0 && !$0.isNaN }) {
                throw CheckpointError(path: path, tensor: name, message: "value \(bad) is not a float16 value (round the weights first)")
            }
            let end = offset + elementSize * count
            if !first { header += "," }
            first = false
            header += Self.jsonString(name) + ":{\"dtype\":\"\(stored.rawValue)\",\"shape\":["
            header += tensor.shape.map(String.init).joined(separator: ",")
            header += "],\"data_offsets\":[\(offset),\(end)]}"
            offset = end
        }
        header += "}"
        var headerBytes = Array(header.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }

        let writer = try AtomicFileWriter(path: path)
        do {
            var length = UInt64(headerBytes.count).littleEndian
            try withUnsafeBytes(of: &length) { try writer.write($0) }
            try headerBytes.withUnsafeBytes { try writer.write($0) }
            for name in names {
                if stored == .f16 {
                    try Self.writeHalvesLittleEndian(tensors[name]!.values, to: writer)
                } else {
                    try Self.writeLittleEndian(tensors[name]!.values, to: writer)
                }
            }
            try writer.commit()
        } catch {
            writer.abandon()
            throw error
        }
    }

    private static func writeHalvesLittleEndian(_ values: [Float], to writer: AtomicFileWriter) throws {
        var chunk = [UInt16](repeating: 0, count: 4096)
        var start = 0
        while start < values.count {
            let n = min(chunk.count, values.count - start)
            for i in 0..<n { chunk[i] = Float16(values[start + i]).bitPattern.littleEndian }
            try chunk.withUnsafeBytes { try writer.write(UnsafeRawBufferPointer(rebasing: $0[0..<(2 * n)])) }
            start += n
        }
    }

    private static func writeLittleEndian(_ values: [Float], to writer: AtomicFileWriter) throws {
        #if _endian(little)
        try values.withUnsafeBytes { try writer.write($0) }
        #else
        var chunk = [UInt32](repeating: 0, count: 4096)
        var start = 0
        while start < values.count {
            let n = min(chunk.count, values.count - start)
            for i in 0..<n { chunk[i] = values[start + i].bitPattern.littleEndian }
            try chunk.withUnsafeBytes { try writer.write(UnsafeRawBufferPointer(rebasing: $0[0..<(4 * n)])) }
            start += n
        }
        #endif
    }

    /// A JSON string literal (quotes, backslashes and control characters escaped;
    /// everything else as UTF-8).
    static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
        return out
    }

    // MARK: Reading

    /// Reads and validates a safetensors file (see `read(bytes:name:)`).
    public static func read(path: String) throws -> SafeTensorsFile {
        let bytes = try readWholeFile(path: path)
        return try read(bytes: bytes, name: path)
    }

    /// Parses and validates safetensors bytes; `name` stands for the file in errors.
    public static func read(bytes: [UInt8], name: String) throws -> SafeTensorsFile {
        try bytes.withUnsafeBytes { try parse($0, name: name) }
    }

    private enum DType: String {
        case f32 = "F32", f16 = "F16", bf16 = "BF16", f64 = "F64"
        var size: Int {
            switch self {
            case .f32: return 4
            case .f16, .bf16: return 2
            case .f64: return 8
            }
        }
    }

    private struct Entry {
        var name: String
        var dtype: DType
        var shape: [Int]
        var count: Int
        var begin: Int
        var end: Int
    }

    private static func parse(_ buffer: UnsafeRawBufferPointer, name file: String) throws -> SafeTensorsFile {
        func fail(_ message: String, tensor: String? = nil) -> CheckpointError {
            CheckpointError(path: file, tensor: tensor, message: message)
        }
        guard buffer.count >= 8 else {
            throw fail("file too short for a safetensors header length (\(buffer.count) bytes, need 8)")
        }
        var rawLength: UInt64 = 0
        for i in 0..<8 { rawLength |= UInt64(buffer[i]) << (8 * UInt64(i)) }
        // Checked before anything is allocated from it.
        guard rawLength <= UInt64(maximumHeaderLength) else {
            throw fail("header length \(rawLength) exceeds the limit of \(maximumHeaderLength) bytes")
        }
        guard rawLength <= UInt64(buffer.count - 8) else {
            throw fail("header length \(rawLength) exceeds the \(buffer.count - 8) bytes after the length field")
        }
        let headerLength = Int(rawLength)
        let headerBytes = UnsafeRawBufferPointer(rebasing: buffer[8..<(8 + headerLength)])
        guard isValidUTF8(headerBytes) else {
            throw fail("header is not valid UTF-8")
        }
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(headerBytes), options: [])
        } catch {
            throw fail("header is not valid JSON")
        }
        guard let object = json as? [String: Any] else {
            throw fail("header is not a JSON object")
        }

        var metadata: [String: String] = [:]
        if let rawMetadata = object[metadataKey] {
            guard let dict = rawMetadata as? [String: Any] else {
                throw fail("'\(metadataKey)' is not a JSON object")
            }
            for (key, value) in dict {
                guard !(value is NSNumber), let string = value as? String else {
                    throw fail("metadata value for '\(key)' is not a string")
                }
                metadata[key] = string
            }
        }

        let dataStart = 8 + headerLength
        let dataSize = buffer.count - dataStart
        var entries: [Entry] = []
        entries.reserveCapacity(object.count)
        for (tensorName, rawInfo) in object where tensorName != metadataKey {
            func bad(_ message: String) -> CheckpointError { fail(message, tensor: tensorName) }
            guard let info = rawInfo as? [String: Any] else { throw bad("entry is not a JSON object") }
            guard let rawDType = info["dtype"] else { throw bad("missing 'dtype'") }
            guard !(rawDType is NSNumber), let dtypeName = rawDType as? String else {
                throw bad("'dtype' is not a string")
            }
            guard let dtype = DType(rawValue: dtypeName) else {
                throw bad("unsupported dtype '\(dtypeName)' (supported: F32, F16, BF16, F64)")
            }
            guard let rawShape = info["shape"] else { throw bad("missing 'shape'") }
            guard let shapeArray = rawShape as? [Any] else { throw bad("'shape' is not an array") }
            var shape: [Int] = []
            shape.reserveCapacity(shapeArray.count)
            var count = 1
            for element in shapeArray {
                guard let d = integer(element) else { throw bad("'shape' holds a value that is not an integer") }
                guard d >= 0 else { throw bad("'shape' holds the negative dimension \(d)") }
                let (p, o) = count.multipliedReportingOverflow(by: d)
                guard !o else { throw bad("the number of elements of shape \(shape + [d]) overflows") }
                count = p
                shape.append(d)
            }
            let (byteCount, overflow) = count.multipliedReportingOverflow(by: dtype.size)
            guard !overflow else { throw bad("the byte size of shape \(shape) overflows") }
            guard let rawOffsets = info["data_offsets"] else { throw bad("missing 'data_offsets'") }
            guard let offsets = rawOffsets as? [Any], offsets.count == 2,
                  let begin = integer(offsets[0]), let end = integer(offsets[1]) else {
                throw bad("'data_offsets' is not an array of two integers")
            }
            guard begin >= 0, begin <= end else { throw bad("data_offsets [\(begin), \(end)] are not increasing") }
            guard end <= dataSize else {
                throw bad("data_offsets [\(begin), \(end)] exceed the \(dataSize) bytes of data")
            }
            guard end - begin == byteCount else {
                throw bad("data_offsets [\(begin), \(end)] span \(end - begin) bytes, but \(dtype.rawValue) shape \(shape) needs \(byteCount)")
            }
            entries.append(Entry(name: tensorName, dtype: dtype, shape: shape, count: count, begin: begin, end: end))
        }

        // Like the reference implementation: in offset order, every entry must
        // start where the previous one ended, and the last must end at the end
        // of the file (no overlaps, no holes, no trailing bytes).
        entries.sort {
            ($0.begin, $0.end) != ($1.begin, $1.end)
                ? ($0.begin, $0.end) < ($1.begin, $1.end)
                : $0.name.utf8.lexicographicallyPrecedes($1.name.utf8)
        }
        var position = 0
        var previous: String?
        for entry in entries {
            if entry.begin < position {
                throw fail("data_offsets [\(entry.begin), \(entry.end)] overlap tensor '\(previous ?? "")' (which ends at \(position))",
                           tensor: entry.name)
            }
            if entry.begin > position {
                throw fail("data_offsets [\(entry.begin), \(entry.end)] leave a hole of \(entry.begin - position) bytes at data offset \(position)",
                           tensor: entry.name)
            }
            position = entry.end
            previous = entry.name
        }
        guard position == dataSize else {
            throw fail("tensor data ends at offset \(position) but the data region holds \(dataSize) bytes"
                       + (previous.map { " (after tensor '\($0)')" } ?? ""))
        }

        var tensors: [String: Tensor] = [:]
        tensors.reserveCapacity(entries.count)
        for entry in entries {
            let source = UnsafeRawBufferPointer(rebasing: buffer[(dataStart + entry.begin)..<(dataStart + entry.end)])
            let values = [Float](unsafeUninitializedCapacity: entry.count) { out, initialized in
                decode(source, dtype: entry.dtype, into: out)
                initialized = entry.count
            }
            tensors[entry.name] = Tensor(shape: entry.shape, values: values)
        }
        return SafeTensorsFile(tensors: tensors, metadata: metadata)
    }

    private static func decode(_ source: UnsafeRawBufferPointer, dtype: DType, into out: UnsafeMutableBufferPointer<Float>) {
        switch dtype {
        case .f32:
            for i in 0..<out.count {
                out[i] = Float(bitPattern: UInt32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
            }
        case .f16:
            lic_halves_to_floats(source.baseAddress, out.baseAddress, out.count)
        case .bf16:
            for i in 0..<out.count {
                let bits = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                out[i] = Float(bitPattern: UInt32(bits) << 16)
            }
        case .f64:
            for i in 0..<out.count {
                out[i] = Float(Double(bitPattern: UInt64(littleEndian: source.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
            }
        }
    }

    private static func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    /// IEEE 754 binary16 to binary32 (exact: every half is a float; NaNs
    /// quiet, payload kept), by the portable path of lic_halves_to_floats.
    static func floatFromHalf(_ h: UInt16) -> Float {
        var value: Float = 0
        withUnsafeBytes(of: h.littleEndian) { lic_halves_to_floats($0.baseAddress, &value, 1) }
        return value
    }

    /// A JSON integer as Int; nil for numbers written with a fraction or an
    /// exponent (even 4.0, which the reference implementation rejects too),
    /// values outside Int, booleans and non-numbers. JSONSerialization gives
    /// booleans as NSNumbers of Objective-C type "c" and non-integers as "d".
    private static func integer(_ value: Any) -> Int? {
        guard let number = value as? NSNumber else { return nil }
        switch String(cString: number.objCType) {
        case "c", "d", "f": return nil
        default: return value as? Int
        }
    }

    // MARK: File access

    private static func readWholeFile(path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw CheckpointError(path: path, message: "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw CheckpointError(path: path, message: "cannot stat: \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw CheckpointError(path: path, message: "not a regular file")
        }
        let size = Int(info.st_size)
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        try bytes.withUnsafeMutableBytes { raw in
            while done < size {
                let n = systemRead(fd, raw.baseAddress! + done, size - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw CheckpointError(path: path, message: "read failed: \(String(cString: strerror(errno)))")
                }
                if n == 0 { break }
                done += n
            }
        }
        if done < size { bytes.removeLast(size - done) }  // file shrank while reading
        return bytes
    }
}

/// `read(2)`, named apart from the static `read` methods above.
@inline(__always)
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(fd, buffer, count)
}

/// Writes a file atomically: data goes to a temporary file in the same
/// directory, which `commit` flushes to disk and renames over the destination.
private final class AtomicFileWriter {
    let path: String
    let temporaryPath: String
    private var fd: Int32
    private var buffer: [UInt8] = []
    private static let bufferCapacity = 1 << 20

    init(path: String) throws {
        self.path = path
        var random = SystemRandomNumberGenerator()
        self.temporaryPath = path + ".tmp-\(getpid())-\(String(random.next() as UInt64, radix: 16))"
        fd = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw CheckpointError(path: path, message: "cannot create temporary file '\(temporaryPath)': \(String(cString: strerror(errno)))")
        }
        buffer.reserveCapacity(Self.bufferCapacity)
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        if buffer.count + bytes.count > Self.bufferCapacity { try flush() }
        if bytes.count >= Self.bufferCapacity {
            try writeAll(bytes)
        } else {
            buffer.append(contentsOf: bytes)
        }
    }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        try buffer.withUnsafeBytes { try writeAll($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let n = systemWrite(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw CheckpointError(path: path, message: "write failed: \(String(cString: strerror(errno)))")
            }
            done += n
        }
    }

    func commit() throws {
        try flush()
        guard fsync(fd) == 0 else {
            throw CheckpointError(path: path, message: "fsync failed: \(String(cString: strerror(errno)))")
        }
        let status = close(fd)
        fd = -1
        guard status == 0 else {
            throw CheckpointError(path: path, message: "close failed: \(String(cString: strerror(errno)))")
        }
        guard rename(temporaryPath, path) == 0 else {
            throw CheckpointError(path: path, message: "cannot rename '\(temporaryPath)' into place: \(String(cString: strerror(errno)))")
        }
        // Best effort: make the rename itself durable.
        let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let directoryFD = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_CLOEXEC)
        if directoryFD >= 0 {
            _ = fsync(directoryFD)
            close(directoryFD)
        }
    }

    /// Closes and removes the temporary file after a failure.
    func abandon() {
        if fd >= 0 { close(fd); fd = -1 }
        unlink(temporaryPath)
    }

    deinit {
        if fd >= 0 { close(fd); unlink(temporaryPath) }
    }
}

@inline(__always)
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}
