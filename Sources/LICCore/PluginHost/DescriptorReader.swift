import CLIC
import LICPluginKit

/// Reads and validates the static tables a plugin's entry function returns.
/// Anything malformed is refused with a message naming the component.
enum DescriptorReader {
    struct Library {
        var name: String
        var runtime: String
        var components: [(info: ComponentInfo, descriptor: UnsafePointer<lic_component_descriptor>)]
    }

    static func read(_ entry: UnsafePointer<lic_plugin_library>, path: String) throws -> Library {
        let table = entry.pointee
        guard table.struct_size >= UInt32(MemoryLayout<lic_plugin_library>.size) else {
            throw LICError("entry table is \(table.struct_size) bytes, smaller than ABI 1 needs")
        }
        guard table.abi_version >> 16 == LIC_ABI_VERSION_MAJOR, table.abi_version & 0xFFFF <= LIC_ABI_VERSION_MINOR else {
            throw LICError("built for ABI \(table.abi_version >> 16).\(table.abi_version & 0xFFFF), the host speaks \(LIC_ABI_VERSION_MAJOR).\(LIC_ABI_VERSION_MINOR)")
        }
        let name = string(table.library_name) ?? "(unnamed)"
        let runtime = string(table.runtime) ?? ""
        if runtime.hasPrefix("swift"), runtime != hostSwiftRuntime {
            throw LICError("Swift runtime mismatch: the plugin was built with \(runtime), the host with \(hostSwiftRuntime); rebuild it with the host's toolchain")
        } else if runtime != "c", !runtime.hasPrefix("swift") {
            throw LICError("unknown runtime '\(runtime)' (expected \"c\" or \"\(hostSwiftRuntime)\")")
        }
        if table.component_count == 0 { return Library(name: name, runtime: runtime, components: []) }
        guard table.component_count <= 1024, let list = table.components else {
            throw LICError("entry table has \(table.component_count) components but no usable list")
        }
        var components: [(ComponentInfo, UnsafePointer<lic_component_descriptor>)] = []
        for index in 0..<Int(table.component_count) {
            guard let descriptor = list[index] else { throw LICError("component #\(index) is NULL") }
            let info = try component(descriptor, index: index, path: path, library: name, runtime: runtime)
            components.append((info, descriptor))
        }
        return Library(name: name, runtime: runtime, components: components)
    }

    private static func component(_ pointer: UnsafePointer<lic_component_descriptor>, index: Int, path: String,
                                  library: String, runtime: String) throws -> ComponentInfo {
        let d = pointer.pointee
        guard d.struct_size >= UInt32(MemoryLayout<lic_component_descriptor>.size) else {
            throw LICError("component #\(index): descriptor is \(d.struct_size) bytes, smaller than ABI 1 needs")
        }
        guard let id = string(d.id), isReverseDNS(id) else {
            throw LICError("component #\(index): id '\(string(d.id) ?? "NULL")' is not a reverse-DNS name like 'org.example.transform.foo'")
        }
        let kind: ComponentInfo.Kind
        switch lic_component_kind(rawValue: d.kind) {
        case LIC_KIND_TRANSFORM: kind = .transform
        case LIC_KIND_ENTROPY_MODEL: kind = .entropyModel
        case LIC_KIND_QUANTIZER: kind = .quantizer
        case LIC_KIND_REGULARIZER: kind = .regularizer
        default: throw LICError("\(id): unknown kind \(d.kind)")
        }
        let interfaceID = string(d.interface_id) ?? ""
        try checkInterface(interfaceID, kind: kind, table: d.interface, id: id)
        var params: [ParamSchema] = []
        if d.param_count > 0 {
            guard d.param_count <= 256, let specs = d.params else { throw LICError("\(id): \(d.param_count) parameters but no list") }
            // Elements are params[0].struct_size apart (a newer SDK may append fields).
            let stride = Int(specs.pointee.struct_size)
            guard stride >= MemoryLayout<lic_param_spec>.size else { throw LICError("\(id): parameter specs are \(stride) bytes, smaller than ABI 1 needs") }
            for i in 0..<Int(d.param_count) {
                let spec = UnsafeRawPointer(specs).advanced(by: i * stride).load(as: lic_param_spec.self)
                guard spec.struct_size == stride else { throw LICError("\(id): parameter spec #\(i) has a different struct_size") }
                params.append(try param(spec, component: id))
            }
        }
        let names = params.map(\.name)
        if let duplicate = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
            throw LICError("\(id): parameter '\(duplicate)' is declared twice")
        }
        return ComponentInfo(id: id, kind: kind, interfaceID: interfaceID, version: d.version,
                             description: string(d.description) ?? "", params: params,
                             libraryPath: path, libraryName: library, runtime: runtime)
    }

    /// The interface id must be one this host knows for the kind, and its
    /// table must be large enough with every function present.
    private static func checkInterface(_ interfaceID: String, kind: ComponentInfo.Kind, table: UnsafeRawPointer?, id: String) throws {
        guard let table else { throw LICError("\(id): interface table is NULL") }
        let size = table.load(as: UInt32.self)
        /// `minimumSize`: the table's size in the ABI that introduced it (later minors append; the host checks before reading those).
        func require<T>(_ type: T.Type, minimumSize: Int = MemoryLayout<T>.size, _ complete: (T) -> Bool) throws {
            guard size >= UInt32(minimumSize) else {
                throw LICError("\(id): \(interfaceID) table is \(size) bytes, expected at least \(minimumSize)")
            }
            // Copy only what the plugin declared; fields it lacks stay zero (NULL).
            var copy = [UInt8](repeating: 0, count: MemoryLayout<T>.size)
            copy.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(start: table, count: min(Int(size), MemoryLayout<T>.size))) }
            guard complete(copy.withUnsafeBytes { $0.load(as: T.self) }) else { throw LICError("\(id): \(interfaceID) table has a NULL function") }
        }
        switch (kind, interfaceID) {
        case (.transform, LIC_INTERFACE_TRANSFORM_1):
            try require(lic_transform_v1.self) { $0.create != nil && $0.destroy != nil && $0.alignment != nil && $0.output_shape != nil && $0.forward != nil }
        case (.transform, LIC_INTERFACE_TRANSFORM_3):
            // ABI 1.2's table ends before `halo`.
            try require(lic_transform_v3.self, minimumSize: MemoryLayout<lic_transform_v3>.offset(of: \.halo)!) { $0.create != nil && $0.destroy != nil && $0.alignment != nil && $0.output_shape != nil && $0.apply != nil }
        case (.entropyModel, LIC_INTERFACE_ENTROPY_MODEL_3):
            try require(lic_entropy_model_v3.self) {
                $0.create != nil && $0.destroy != nil && $0.forward != nil && $0.auxiliary_loss != nil && $0.prepare_coding != nil
                    && $0.encode != nil && $0.decode != nil
            }
        case (.quantizer, LIC_INTERFACE_QUANTIZER_2):
            try require(lic_quantizer_v2.self) {
                $0.create != nil && $0.destroy != nil && $0.surrogate != nil && $0.begin_scope != nil && $0.end_scope != nil
                    && $0.quantize != nil && $0.dequantize != nil && $0.levels != nil && $0.level_set != nil
            }
        case (.regularizer, LIC_INTERFACE_REGULARIZER_1):
            try require(lic_regularizer_v1.self) { $0.create != nil && $0.destroy != nil && $0.loss != nil }
        case (_, LIC_INTERFACE_TRANSFORM_2), (_, LIC_INTERFACE_ENTROPY_MODEL_2):
            // ABI 1.1's learned interfaces took no call context; their only users were the built-in plugins.
            throw LICError("\(id): interface '\(interfaceID)' (ABI 1.1) is no longer run by this host: rebuild the plugin against the ABI 1.2 SDK (lic.transform/3, lic.entropy-model/3)")
        case (.quantizer, LIC_INTERFACE_QUANTIZER_1):
            try require(lic_quantizer_v1.self) { $0.create != nil && $0.destroy != nil && $0.quantize != nil && $0.dequantize != nil }
        case (.entropyModel, LIC_INTERFACE_ENTROPY_MODEL_1):
            try require(lic_entropy_model_v1.self) { $0.create != nil && $0.destroy != nil && $0.encode != nil && $0.decode != nil }
        default:
            throw LICError("\(id): interface '\(interfaceID)' is not supported for a \(kind.rawValue) by this host (ABI \(LIC_ABI_VERSION_MAJOR).\(LIC_ABI_VERSION_MINOR))")
        }
    }

    private static func param(_ s: lic_param_spec, component id: String) throws -> ParamSchema {
        guard s.struct_size >= UInt32(MemoryLayout<lic_param_spec>.size) else {
            throw LICError("\(id): a parameter spec is \(s.struct_size) bytes, smaller than ABI 1 needs")
        }
        guard let name = string(s.name), !name.isEmpty, name != "plugin",
              name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) else {
            throw LICError("\(id): parameter name '\(string(s.name) ?? "NULL")' is not a bare TOML key (or is the reserved 'plugin')")
        }
        var schema = ParamSchema(name: name, type: .bool, description: string(s.description) ?? "", required: s.required != 0,
                                 defaultValue: nil, minimum: s.has_min != 0 ? s.min : nil, maximum: s.has_max != 0 ? s.max : nil,
                                 enumValues: [])
        switch lic_param_type(rawValue: s.type) {
        case LIC_PARAM_BOOL: schema.type = .bool; schema.defaultValue = .bool(s.default_bool != 0)
        case LIC_PARAM_INT: schema.type = .int; schema.defaultValue = .int(s.default_int)
        case LIC_PARAM_FLOAT: schema.type = .float; schema.defaultValue = .float(s.default_float)
        case LIC_PARAM_STRING: schema.type = .string; schema.defaultValue = string(s.default_string).map { .string($0) }
        case LIC_PARAM_ENUM:
            schema.type = .enumeration
            guard s.enum_count > 0, s.enum_count <= 256, let values = s.enum_values else {
                throw LICError("\(id): enum parameter '\(name)' lists no values")
            }
            schema.enumValues = try (0..<Int(s.enum_count)).map { index in
                guard let value = string(values[index]) else { throw LICError("\(id): enum parameter '\(name)' has a NULL value #\(index)") }
                return value
            }
            schema.defaultValue = string(s.default_string).map { .string($0) }
        default: throw LICError("\(id): parameter '\(name)' has unknown type \(s.type)")
        }
        if schema.required {
            schema.defaultValue = nil
        } else if let value = schema.defaultValue, let problem = schema.violation(of: value) {
            throw LICError("\(id): default of parameter '\(name)' (\(value)) \(problem)")
        } else if schema.defaultValue == nil {
            throw LICError("\(id): optional parameter '\(name)' has no default")
        }
        return schema
    }

    static func string(_ pointer: UnsafePointer<CChar>?) -> String? {
        pointer.map { String(cString: $0) }
    }

    static func isReverseDNS(_ id: String) -> Bool {
        let parts = id.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count >= 2 && parts.allSatisfy { part in
            !part.isEmpty && part.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == "_") }
        }
    }

    /// The host's Swift runtime, named by the same code that names a plugin's.
    static let hostSwiftRuntime = LICPluginKit.swiftRuntimeName
}
