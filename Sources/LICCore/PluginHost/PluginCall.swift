import CLIC

/// Calls into a plugin with a fresh lic_error and turns a failure into a
/// message naming the component and the operation. A plugin that fails
/// without a report, or reports more than once, is still handled.
func callPlugin(_ component: String, _ operation: String,
                _ body: (UnsafeMutablePointer<lic_error>) -> lic_status) throws {
    var error = lic_error()
    error.struct_size = UInt32(MemoryLayout<lic_error>.size)
    let status = body(&error)
    if status == LIC_OK { return }
    var message = withUnsafeBytes(of: error.message) { raw in
        String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
    }
    if error.fill_count == 0 { message = "failed with status \(status.rawValue) without a message" }
    throw LICError("\(component): \(operation): \(message)")
}

/// The validated parameters of one component as the C lic_param_set; the C
/// strings live as long as this object.
final class ParamSetStorage {
    private var strings: [UnsafeMutablePointer<CChar>] = []
    private var values: [lic_param_value] = []

    init(_ params: [(schema: ParamSchema, value: ParamValue)]) {
        for (schema, value) in params {
            var v = lic_param_value()
            v.struct_size = UInt32(MemoryLayout<lic_param_value>.size)
            v.name = UnsafePointer(keep(schema.name))
            v.type = schema.cType
            switch value {
            case .bool(let b): v.bool_value = b ? 1 : 0
            case .int(let i): v.int_value = i; v.float_value = Double(i)
            case .float(let f): v.float_value = f
            case .string(let s): v.string_value = UnsafePointer(keep(s))
            }
            values.append(v)
        }
    }

    deinit { strings.forEach { free($0) } }

    private func keep(_ string: String) -> UnsafeMutablePointer<CChar> {
        let copy = strdup(string)!
        strings.append(copy)
        return copy
    }

    func withParamSet<R>(_ body: (UnsafePointer<lic_param_set>) throws -> R) rethrows -> R {
        try values.withUnsafeBufferPointer { buffer in
            var set = lic_param_set(struct_size: UInt32(MemoryLayout<lic_param_set>.size),
                                    count: UInt32(buffer.count), values: buffer.baseAddress)
            return try body(&set)
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
