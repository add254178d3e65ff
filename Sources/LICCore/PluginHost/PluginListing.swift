import CLIC
import Foundation

/// `lic plugins` output: every component with its schema, as text or JSON.
public enum PluginListing {
    struct Document: Encodable {
        var abi: String
        var components: [Component]
        var refused: [Refused]
    }

    struct Component: Encodable {
        var id, kind, interface, description, library, libraryName, runtime: String
        var version: UInt32
        var params: [Param]
    }

    struct Param: Encodable {
        var name, type, description: String
        var required: Bool
        var `default`: JSONScalar?
        var min, max: Double?
        var values: [String]?
    }

    struct Refused: Encodable { var path, reason: String }

    enum JSONScalar: Encodable {
        case bool(Bool), int(Int64), float(Double), string(String)
        func encode(to encoder: Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .bool(let v): try container.encode(v)
            case .int(let v): try container.encode(v)
            case .float(let v): try container.encode(v)
            case .string(let v): try container.encode(v)
            }
        }
    }

    public static func json(_ components: [ComponentInfo], refusals: [PluginRegistry.Refusal]) throws -> String {
        let document = Document(
            abi: "\(LIC_ABI_VERSION_MAJOR).\(LIC_ABI_VERSION_MINOR)",
            components: components.map { info in
                Component(id: info.id, kind: info.kind.rawValue, interface: info.interfaceID, description: info.description,
                          library: info.libraryPath, libraryName: info.libraryName, runtime: info.runtime, version: info.version,
                          params: info.params.map { p in
                              Param(name: p.name, type: p.type.rawValue, description: p.description, required: p.required,
                                    default: p.defaultValue.map(scalar), min: p.minimum, max: p.maximum,
                                    values: p.type == .enumeration ? p.enumValues : nil)
                          })
            },
            refused: refusals.map { Refused(path: $0.path, reason: $0.reason) })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(document), as: UTF8.self)
    }

    private static func scalar(_ value: ParamValue) -> JSONScalar {
        switch value {
        case .bool(let v): .bool(v)
        case .int(let v): .int(v)
        case .float(let v): .float(v)
        case .string(let v): .string(v)
        }
    }

    public static func text(_ components: [ComponentInfo], refusals: [PluginRegistry.Refusal]) -> String {
        var out = ""
        for info in components {
            out += "\(info.id)  (\(info.kind.rawValue), \(info.interfaceID), v\(info.version))\n"
            out += "    \(info.description)\n"
            out += "    from \(info.libraryPath) [\(info.runtime)]\n"
            for p in info.params {
                var line = "    - \(p.name): \(p.type.rawValue)"
                if p.type == .enumeration { line += " {\(p.enumValues.joined(separator: ", "))}" }
                if let minimum = p.minimum { line += ", min \(ParamSchema.format(minimum, p.type))" }
                if let maximum = p.maximum { line += ", max \(ParamSchema.format(maximum, p.type))" }
                line += p.required ? ", required" : ", default \(p.defaultValue.map { "\($0)" } ?? "-")"
                out += line + "\n      \(p.description)\n"
            }
        }
        if components.isEmpty { out += "no plugin components found\n" }
        for refusal in refusals { out += "refused \(refusal.path): \(refusal.reason)\n" }
        return out
    }
}
