import CLIC

/// Calls into a plugin with a fresh lic_error and turns a failure into a
/// message naming the component and the operation. A callee that breaks the
/// fill-exactly-once rule (lic_plugin.h) is named for it: a failure without a
/// report, a failure reported more than once (the first report is kept), and
/// a report with LIC_OK, which is refused rather than trusted as a success.
func callPlugin(_ component: String, _ operation: String,
                _ body: (UnsafeMutablePointer<lic_error>) -> lic_status) throws {
    var error = lic_error()
    error.struct_size = UInt32(MemoryLayout<lic_error>.size)
    let status = body(&error)
    if status == LIC_OK && error.fill_count == 0 { return }
    let reported = withUnsafeBytes(of: error.message) { raw in
        String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
    }
    var message: String
    // Anything but one report with a failing status breaks the rule.
    let broken = status == LIC_OK || error.fill_count != 1 || reported.isEmpty
    if status == LIC_OK {
        message = "the component reported an error but returned LIC_OK: \(reported.isEmpty ? "(no message)" : reported)"
    } else if error.fill_count == 0 || reported.isEmpty {
        message = "failed with status \(status.rawValue) without a message"
    } else {
        message = reported
    }
    if error.fill_count > 1 {
        message += " (the component reported \(error.fill_count) errors for one \(status == LIC_OK ? "call" : "failure"), "
            + "breaking the fill-once rule)"
    }
    throw LICError("\(component): \(operation): \(message)", brokenRule: broken)
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
