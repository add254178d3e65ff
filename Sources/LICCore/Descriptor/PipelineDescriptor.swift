import Foundation

/// A pipeline descriptor file, parsed and structurally checked (component
/// parameters are checked later, against the schemas of loaded plugins).
///
///     format = 1
///     name = "classical-dct"
///     plugins = ["../plugins"]          # optional, relative to this file
///     [analysis]  plugin = "lic.transform.dct" ...
///     [synthesis] plugin = "lic.transform.dct"  inverse = true ...
///     [quantizer] plugin = "lic.quantizer.uniform"  step = 0.02
///     [entropy]   plugin = "lic.entropy.laplace"
///
/// A learned pipeline may add a hyperprior: [hyper.analysis] (y -> z),
/// [hyper.entropy] (z -> z_hat) and [hyper.synthesis] (z_hat -> params, the
/// condition of [entropy]).
public struct PipelineDescriptor: Sendable {
    /// The stages, in execution order, with the named tensors each reads and writes.
    public enum Role: String, Sendable, CaseIterable {
        case analysis, quantizer
        case hyperAnalysis = "hyper.analysis", hyperEntropy = "hyper.entropy", hyperSynthesis = "hyper.synthesis"
        case entropy, synthesis

        /// The roles every pipeline has.
        public static let required: [Role] = [.analysis, .entropy, .synthesis]
        public static let hyperprior: [Role] = [.hyperAnalysis, .hyperEntropy, .hyperSynthesis]

        public var kind: ComponentInfo.Kind {
            switch self {
            case .analysis, .synthesis, .hyperAnalysis, .hyperSynthesis: .transform
            case .quantizer: .quantizer
            case .entropy, .hyperEntropy: .entropyModel
            }
        }

        public var inputs: [String] {
            switch self {
            case .analysis: ["x"]
            case .quantizer: []
            case .hyperAnalysis: ["y"]
            case .hyperEntropy: ["z"]
            case .hyperSynthesis: ["z_hat"]
            case .entropy: ["y", "params"]
            case .synthesis: ["y_hat"]
            }
        }

        public var outputs: [String] {
            switch self {
            case .analysis: ["y"]
            case .quantizer: []
            case .hyperAnalysis: ["z"]
            case .hyperEntropy: ["z_hat"]
            case .hyperSynthesis: ["params"]
            case .entropy: ["y_hat"]
            case .synthesis: ["x_hat"]
            }
        }
    }

    public struct Stage: Sendable {
        public var role: Role
        public var componentID: String
        /// Parameter values as written, with where they were written.
        public var params: [(key: String, value: ParamValue, position: TOMLPosition)]
        public var position: TOMLPosition
    }

    public static let supportedFormat: Int64 = 1

    /// Where the descriptor came from, for messages ("pipeline.toml", "<embedded>").
    public var source: String
    public var name: String
    /// Absolute plugin paths (files or directories) named by the descriptor.
    public var pluginPaths: [String]
    public var stages: [Stage]

    public func stage(_ role: Role) -> Stage? { stages.first { $0.role == role } }

    public var hasHyperprior: Bool { stages.contains { Role.hyperprior.contains($0.role) } }

    public static func load(path: String) throws -> PipelineDescriptor {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LICError("\(path): cannot read the pipeline descriptor")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw LICError("\(path): the descriptor is not UTF-8 text")
        }
        let base = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try parse(text, source: path, baseDirectory: base)
    }

    /// Parses descriptor text. `baseDirectory` resolves relative plugin paths;
    /// nil (a descriptor embedded in a file) refuses the `plugins` key, so
    /// data can never name a library to load.
    public static func parse(_ text: String, source: String, baseDirectory: String?) throws -> PipelineDescriptor {
        let root: TOMLTable
        do { root = try TOMLParser.parse(text) } catch { throw LICError("\(source): \(error)") }
        func fail(_ position: TOMLPosition?, _ message: String) -> LICError {
            LICError("\(source)\(position.map { ":\($0.line)" } ?? ""): \(message)")
        }

        guard let format = root["format"] else { throw fail(nil, "missing key 'format' (this host reads format = \(supportedFormat))") }
        guard format.integerValue == supportedFormat else {
            throw fail(format.position, "key 'format': unsupported descriptor format \(format.value) (this host reads \(supportedFormat))")
        }
        var descriptor = PipelineDescriptor(source: source, name: "", pluginPaths: [], stages: [])
        for key in root.keys {
            let node = root[key]!
            let position = root.keyPositions[key] ?? node.position
            switch key {
            case "format": continue
            case "name":
                guard let name = node.stringValue else { throw fail(position, "key 'name' must be a string") }
                descriptor.name = name
            case "plugins":
                guard let baseDirectory else {
                    throw fail(position, "key 'plugins' is not allowed here (an embedded pipeline cannot name plugin files)")
                }
                guard let entries = node.arrayValue, entries.allSatisfy({ $0.stringValue != nil }) else {
                    throw fail(position, "key 'plugins' must be an array of paths (strings)")
                }
                descriptor.pluginPaths = entries.map { entry in
                    let path = entry.stringValue!
                    return path.hasPrefix("/") ? path : URL(fileURLWithPath: baseDirectory).appendingPathComponent(path).standardized.path
                }
            case "hyper":
                guard let table = node.tableValue else { throw fail(position, "'hyper' must hold tables: [hyper.analysis], ...") }
                for sub in table.keys {
                    let subPosition = table.keyPositions[sub] ?? table.position
                    guard let role = Role(rawValue: "hyper.\(sub)"), let subTable = table[sub]?.tableValue else {
                        throw fail(subPosition, "unknown key 'hyper.\(sub)' (expected [hyper.analysis], [hyper.entropy], [hyper.synthesis])")
                    }
                    descriptor.stages.append(try stage(role, subTable, fail: fail))
                }
            default:
                guard let role = Role(rawValue: key), !Role.hyperprior.contains(role) else {
                    throw fail(position, "unknown key '\(key)' (expected format, name, plugins, \(Role.allCases.map { "[\($0.rawValue)]" }.joined(separator: ", ")))")
                }
                guard let table = node.tableValue else { throw fail(position, "'\(key)' must be a table: [\(key)]") }
                descriptor.stages.append(try stage(role, table, fail: fail))
            }
        }
        for role in Role.required where !descriptor.stages.contains(where: { $0.role == role }) {
            throw fail(nil, "missing section [\(role.rawValue)] (every pipeline needs \(Role.required.map { "[\($0.rawValue)]" }.joined(separator: ", ")))")
        }
        let hyper = Role.hyperprior.filter { role in descriptor.stages.contains { $0.role == role } }
        if !hyper.isEmpty && hyper.count != Role.hyperprior.count {
            throw fail(nil, "a hyperprior needs all of \(Role.hyperprior.map { "[\($0.rawValue)]" }.joined(separator: ", ")); found \(hyper.map { "[\($0.rawValue)]" }.joined(separator: ", "))")
        }
        descriptor.stages.sort { Role.allCases.firstIndex(of: $0.role)! < Role.allCases.firstIndex(of: $1.role)! }
        return descriptor
    }

    private static func stage(_ role: Role, _ table: TOMLTable, fail: (TOMLPosition?, String) -> LICError) throws -> Stage {
        guard let plugin = table["plugin"] else {
            throw fail(table.position, "[\(role.rawValue)]: missing key 'plugin' (the component id, e.g. \"lic.transform.dct\")")
        }
        guard let id = plugin.stringValue else { throw fail(plugin.position, "[\(role.rawValue)] key 'plugin' must be a string") }
        var params: [(String, ParamValue, TOMLPosition)] = []
        for key in table.keys where key != "plugin" {
            let node = table[key]!
            let position = table.keyPositions[key] ?? node.position
            let value: ParamValue
            switch node.value {
            case .bool(let v): value = .bool(v)
            case .integer(let v): value = .int(v)
            case .float(let v): value = .float(v)
            case .string(let v): value = .string(v)
            default:
                throw fail(position, "[\(role.rawValue)] key '\(key)': a parameter is a boolean, integer, float or string, not \(node.typeName == "array" ? "an" : "a") \(node.typeName)")
            }
            params.append((key, value, position))
        }
        return Stage(role: role, componentID: id, params: params, position: table.position)
    }
}
