import Foundation

/// A pipeline descriptor file, parsed and structurally checked (component
/// parameters are checked later, against the schemas of loaded plugins).
///
///     format = 1
///     name = "mbt2018-mean"
///     plugins = ["../plugins"]          # optional, relative to this file
///     [analysis]        plugin = "lic.transform.gdn" ...           # x -> y
///     [hyper.analysis]  plugin = "lic.transform.hyper" ...         # y -> z
///     [hyper.entropy]   plugin = "lic.entropy.factorized" ...      # z -> z_hat
///     [hyper.synthesis] plugin = "lic.transform.hyper" inverse = true   # z_hat -> params
///     [entropy]         plugin = "lic.entropy.gaussian"            # y, params -> y_hat
///     [synthesis]       plugin = "lic.transform.gdn" inverse = true     # y_hat -> x_hat
///     [quantizer]       plugin = "lic.quantizer.uniform"          # serves every entropy stage
///     [[regularizer]]   plugin = "..."  weight = 0.1              # training loss terms
///
/// Every table with a `plugin` key is a stage of the codec graph (one
/// level of nesting, as [hyper.analysis], names a stage "hyper.analysis").
/// A stage reads and writes named tensors: the sections above have default
/// `inputs` / `outputs` (shown); any stage may set them, and a stage with
/// another name must (e.g. a second hyperprior level:
/// `[hyper2.analysis] inputs = ["z"] outputs = ["w"]`). The host orders the
/// stages from what they read and write. The keys `plugin`, `inputs`,
/// `outputs` (and in [[regularizer]]: `name`, `weight`, `learning_rate`)
/// belong to the host; every other key is a parameter of the component. An
/// entropy stage may have a quantizer of its own, e.g. [hyper.entropy.quantizer]
/// (rounding for z while y uses a trellis).
public struct PipelineDescriptor: Sendable {
    public struct Stage: Sendable {
        /// The section name, e.g. "analysis", "hyper.entropy".
        public var name: String
        public var componentID: String
        /// Parameter values as written, with where they were written.
        public var params: [(key: String, value: ParamValue, position: TOMLPosition)]
        public var position: TOMLPosition
        /// Named tensors read and written, as written (nil: the section's default).
        public var inputs: [String]?
        public var outputs: [String]?
        /// An entropy stage's own quantizer ([STAGE.quantizer]), at most one
        /// (an array because a struct cannot hold an optional of itself).
        public var ownQuantizer: [Stage] = []
    }

    /// One [[regularizer]]: a weighted term of the training loss.
    public struct Regularizer: Sendable {
        public var stage: Stage
        /// The term's name in train.jsonl (default: the last part of the component id).
        public var name: String
        public var weight: Double
        /// For the regularizer's own parameters, if it has any.
        public var learningRate: Double
    }

    /// Default wiring of the well-known sections: (inputs, outputs).
    /// The entropy model's second input, the condition, is optional: it is
    /// read only when some stage produces it.
    public static let defaultWiring: [String: (inputs: [String], outputs: [String])] = [
        "analysis": (["x"], ["y"]),
        "hyper.analysis": (["y"], ["z"]),
        "hyper.entropy": (["z"], ["z_hat"]),
        "hyper.synthesis": (["z_hat"], ["params"]),
        "entropy": (["y", "params"], ["y_hat"]),
        "synthesis": (["y_hat"], ["x_hat"]),
    ]

    /// The section of the pipeline's quantizer (not a graph stage: it serves the entropy stages).
    public static let quantizerSection = "quantizer"

    public static let supportedFormat: Int64 = 1

    /// Where the descriptor came from, for messages ("pipeline.toml", "<embedded>").
    public var source: String
    public var name: String
    /// Absolute plugin paths (files or directories) named by the descriptor.
    public var pluginPaths: [String]
    /// The graph's stages, in the order written.
    public var stages: [Stage]
    public var quantizer: Stage?
    public var regularizers: [Regularizer]

    public func stage(_ name: String) -> Stage? { stages.first { $0.name == name } }

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
        var descriptor = PipelineDescriptor(source: source, name: "", pluginPaths: [], stages: [], quantizer: nil, regularizers: [])
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
            case "regularizer":
                guard let entries = node.arrayValue, entries.allSatisfy({ $0.tableValue != nil }) else {
                    throw fail(position, "'regularizer' must be an array of tables: [[regularizer]]")
                }
                for entry in entries { descriptor.regularizers.append(try regularizer(entry.tableValue!, fail: fail)) }
            case quantizerSection:
                guard let table = node.tableValue else { throw fail(position, "'quantizer' must be a table: [quantizer]") }
                descriptor.quantizer = try stage(quantizerSection, table, fail: fail, wired: false)
            default:
                guard let table = node.tableValue else {
                    throw fail(position, "unknown key '\(key)' (expected format, name, plugins, or a section such as [analysis])")
                }
                if table["plugin"] != nil {
                    descriptor.stages.append(try stage(key, table, fail: fail, wired: true))
                    continue
                }
                guard !table.isEmpty, table.keys.allSatisfy({ table[$0]?.tableValue?["plugin"] != nil }) else {
                    throw fail(position, "[\(key)]: missing key 'plugin' (the component id, e.g. \"lic.transform.gdn\"), or sub-sections like [\(key).analysis]")
                }
                for sub in table.keys {
                    descriptor.stages.append(try stage("\(key).\(sub)", table[sub]!.tableValue!, fail: fail, wired: true))
                }
            }
        }
        guard !descriptor.stages.isEmpty else { throw fail(nil, "no stages: a pipeline needs sections such as [analysis], [entropy], [synthesis]") }
        return descriptor
    }

    /// Host keys of a stage section; every other key is a component parameter.
    static let stageKeys: Set<String> = ["plugin", "inputs", "outputs"]
    static let regularizerKeys: Set<String> = ["plugin", "name", "weight", "learning_rate"]

    private static func stage(_ name: String, _ table: TOMLTable, fail: (TOMLPosition?, String) -> LICError, wired: Bool,
                              hostKeys: Set<String> = stageKeys) throws -> Stage {
        guard let plugin = table["plugin"] else {
            throw fail(table.position, "[\(name)]: missing key 'plugin' (the component id, e.g. \"lic.transform.dct\")")
        }
        guard let id = plugin.stringValue else { throw fail(plugin.position, "[\(name)] key 'plugin' must be a string") }
        var stage = Stage(name: name, componentID: id, params: [], position: table.position)
        for key in table.keys where key != "plugin" {
            let node = table[key]!
            let position = table.keyPositions[key] ?? node.position
            if wired && key == quantizerSection, let sub = node.tableValue {
                stage.ownQuantizer = [try Self.stage("\(name).\(quantizerSection)", sub, fail: fail, wired: false)]
                continue
            }
            if wired && (key == "inputs" || key == "outputs") {
                let names = node.stringValue.map { [$0] } ?? node.arrayValue?.compactMap(\.stringValue)
                guard let names, names.count == (node.arrayValue?.count ?? 1), !names.isEmpty,
                      names.allSatisfy({ isTensorName($0) }) else {
                    throw fail(position, "[\(name)] key '\(key)': a tensor name or an array of them (letters, digits, _ and .)")
                }
                if key == "inputs" { stage.inputs = names } else { stage.outputs = names }
                continue
            }
            if hostKeys.contains(key) && hostKeys != stageKeys { continue }  // read by the caller
            let value: ParamValue
            switch node.value {
            case .bool(let v): value = .bool(v)
            case .integer(let v): value = .int(v)
            case .float(let v): value = .float(v)
            case .string(let v): value = .string(v)
            default:
                throw fail(position, "[\(name)] key '\(key)': a parameter is a boolean, integer, float or string, not \(node.typeName == "array" ? "an" : "a") \(node.typeName)")
            }
            stage.params.append((key, value, position))
        }
        if wired {
            let wiring = defaultWiring[name]
            guard stage.inputs != nil || wiring != nil, stage.outputs != nil || wiring != nil else {
                let known = defaultWiring.keys.sorted().map { "[\($0)]" }.joined(separator: ", ")
                throw fail(table.position, "[\(name)]: not a known section (\(known), [quantizer], [[regularizer]]); a stage of another name needs 'inputs' and 'outputs' (the tensors it reads and writes)")
            }
        }
        return stage
    }

    private static func regularizer(_ table: TOMLTable, fail: (TOMLPosition?, String) -> LICError) throws -> Regularizer {
        let stage = try stage("regularizer", table, fail: fail, wired: false, hostKeys: regularizerKeys)
        func number(_ key: String, default value: Double, range: ClosedRange<Double>) throws -> Double {
            guard let node = table[key] else { return value }
            guard let number = node.numberValue, range.contains(number) else {
                throw fail(table.keyPositions[key] ?? node.position, "[[regularizer]] key '\(key)': a number in \(range.lowerBound)...\(range.upperBound)")
            }
            return number
        }
        let weight = try number("weight", default: 1, range: -1e6...1e6)
        let learningRate = try number("learning_rate", default: 1e-3, range: 0...10)
        var name = String(stage.componentID.split(separator: ".").last ?? "")
        if let node = table["name"] {
            guard let given = node.stringValue, isTensorName(given) else {
                throw fail(table.keyPositions["name"] ?? node.position, "[[regularizer]] key 'name': letters, digits, _ and . only")
            }
            name = given
        }
        return Regularizer(stage: stage, name: name, weight: weight, learningRate: learningRate)
    }

    static func isTensorName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-")
            || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }
}
