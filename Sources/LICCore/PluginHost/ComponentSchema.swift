import CLIC

/// The Swift-side copy of a component's declaration, read once from the
/// plugin's static descriptor and validated.
public struct ComponentInfo: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case transform, entropyModel = "entropy-model", quantizer, regularizer
    }

    public var id: String
    public var kind: Kind
    public var interfaceID: String
    public var version: UInt32
    public var description: String
    public var params: [ParamSchema]
    /// The library that provides it, and that library's name and runtime.
    public var libraryPath: String
    public var libraryName: String
    public var runtime: String
}

public enum ParamValue: Sendable, Equatable, CustomStringConvertible {
    case bool(Bool), int(Int64), float(Double), string(String)

    public var description: String {
        switch self {
        case .bool(let v): "\(v)"
        case .int(let v): "\(v)"
        case .float(let v): "\(v)"
        case .string(let v): "\"\(v)\""
        }
    }
}

public struct ParamSchema: Sendable {
    public enum ValueType: String, Sendable {
        case bool, int, float, string, enumeration = "enum"

        var article: String {
            switch self {
            case .bool: "a boolean"
            case .int: "an integer"
            case .float: "a number"
            case .string, .enumeration: "a string"
            }
        }
    }

    public var name: String
    public var type: ValueType
    public var description: String
    public var required: Bool
    public var defaultValue: ParamValue?
    public var minimum: Double?
    public var maximum: Double?
    public var enumValues: [String]

    var cType: UInt32 {
        let value: lic_param_type = switch type {
        case .bool: LIC_PARAM_BOOL
        case .int: LIC_PARAM_INT
        case .float: LIC_PARAM_FLOAT
        case .string: LIC_PARAM_STRING
        case .enumeration: LIC_PARAM_ENUM
        }
        return value.rawValue
    }

    /// Checks a value against type, range and enum; returns the reason it fails.
    func violation(of value: ParamValue) -> String? {
        switch (type, value) {
        case (.bool, .bool), (.string, .string): return nil
        case (.enumeration, .string(let s)):
            return enumValues.contains(s) ? nil : "must be one of \(enumValues.map { "\"\($0)\"" }.joined(separator: ", "))"
        case (.int, .int(let v)): return rangeViolation(Double(v))
        case (.float, .float(let v)): return rangeViolation(v)
        default: return "must be \(type.article), not \(value)"
        }
    }

    private func rangeViolation(_ v: Double) -> String? {
        if let minimum, v < minimum { return "must be >= \(Self.format(minimum, type))" }
        if let maximum, v > maximum { return "must be <= \(Self.format(maximum, type))" }
        if v.isNaN { return "must be a number, not nan" }
        return nil
    }

    static func format(_ v: Double, _ type: ValueType) -> String {
        type == .int ? "\(Int64(v))" : "\(v)"
    }
}
