import CLIC

/// The declared type of a component parameter.
public enum ParamType: Sendable, Equatable {
    case bool, int, float, string
    case enumeration([String])
}

/// One entry of a component's typed parameter schema.
public struct ParamSpec: Sendable {
    public enum Default: Sendable { case none, bool(Bool), int(Int64), float(Double), string(String) }

    public var name: String
    public var type: ParamType
    public var description: String
    public var defaultValue: Default
    public var minimum: Double?
    public var maximum: Double?

    public var isRequired: Bool { if case .none = defaultValue { return true } else { return false } }

    public static func bool(_ name: String, default value: Bool, _ description: String) -> ParamSpec {
        ParamSpec(name: name, type: .bool, description: description, defaultValue: .bool(value))
    }

    /// An integer; `default: nil` makes it required.
    public static func int(_ name: String, default value: Int64?, range: ClosedRange<Int64>? = nil,
                           _ description: String) -> ParamSpec {
        ParamSpec(name: name, type: .int, description: description,
                  defaultValue: value.map { .int($0) } ?? .none,
                  minimum: range.map { Double($0.lowerBound) }, maximum: range.map { Double($0.upperBound) })
    }

    /// A float; `default: nil` makes it required.
    public static func float(_ name: String, default value: Double?, min: Double? = nil, max: Double? = nil,
                             _ description: String) -> ParamSpec {
        ParamSpec(name: name, type: .float, description: description,
                  defaultValue: value.map { .float($0) } ?? .none, minimum: min, maximum: max)
    }

    public static func string(_ name: String, default value: String?, _ description: String) -> ParamSpec {
        ParamSpec(name: name, type: .string, description: description, defaultValue: value.map { .string($0) } ?? .none)
    }

    public static func enumeration(_ name: String, _ values: [String], default value: String?,
                                   _ description: String) -> ParamSpec {
        ParamSpec(name: name, type: .enumeration(values), description: description,
                  defaultValue: value.map { .string($0) } ?? .none)
    }
}

/// The validated parameter values the host hands to `create`: every declared
/// parameter is present with the declared type, defaults filled in.
public struct Params: Sendable {
    private var values: [String: Value] = [:]

    enum Value: Sendable { case bool(Bool), int(Int64), float(Double), string(String) }

    init(_ set: UnsafePointer<lic_param_set>?) {
        guard let set, let array = set.pointee.values else { return }
        // Elements are values[0].struct_size apart (a newer host may append fields).
        let stride = Int(array.pointee.struct_size)
        guard stride >= MemoryLayout<lic_param_value>.size else { return }
        for index in 0..<Int(set.pointee.count) {
            let value = UnsafeRawPointer(array).advanced(by: index * stride).load(as: lic_param_value.self)
            guard let cName = value.name else { continue }
            let name = String(cString: cName)
            switch lic_param_type(rawValue: value.type) {
            case LIC_PARAM_BOOL: values[name] = .bool(value.bool_value != 0)
            case LIC_PARAM_INT: values[name] = .int(value.int_value)
            case LIC_PARAM_FLOAT: values[name] = .float(value.float_value)
            default: values[name] = .string(value.string_value.map { String(cString: $0) } ?? "")
            }
        }
    }

    public func bool(_ name: String) throws -> Bool {
        guard case .bool(let v)? = values[name] else { throw missing(name, "boolean") }
        return v
    }

    public func int(_ name: String) throws -> Int64 {
        guard case .int(let v)? = values[name] else { throw missing(name, "integer") }
        return v
    }

    public func float(_ name: String) throws -> Double {
        switch values[name] {
        case .float(let v)?: return v
        case .int(let v)?: return Double(v)
        default: throw missing(name, "float")
        }
    }

    public func string(_ name: String) throws -> String {
        guard case .string(let v)? = values[name] else { throw missing(name, "string") }
        return v
    }

    private func missing(_ name: String, _ type: String) -> PluginError {
        PluginError(.invalidArgument, "parameter '\(name)' was not given as a \(type) (is it declared in the schema?)")
    }
}
