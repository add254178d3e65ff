import CLIC
import Foundation

/// A descriptor bound to loaded components: every parameter checked against
/// its component's schema, every stage instantiated. Its canonical text (all
/// parameters resolved, no plugin paths, no comments) is what a container
/// embeds and what the model identity hashes.
public final class Pipeline {
    public let descriptor: PipelineDescriptor
    public let canonicalText: String
    /// SHA-256 of the canonical text and the weights (none in ABI 1 pipelines).
    public let modelID: [UInt8]
    public let components: [PipelineDescriptor.Role: ComponentInfo]

    /// A stage in execution order, with the named tensors it reads and writes.
    public struct Stage: Sendable {
        public var role: PipelineDescriptor.Role
        public var inputs: [String] { role.inputs }
        public var outputs: [String] { role.outputs }
    }

    public var stages: [Stage] { descriptor.stages.map { Stage(role: $0.role) } }

    func transform(for role: PipelineDescriptor.Role) -> TransformInstance {
        role == .synthesis ? synthesis : analysis
    }

    let analysis: TransformInstance
    let quantizer: QuantizerInstance
    let entropy: EntropyModelInstance
    let synthesis: TransformInstance

    /// Loads the plugins the descriptor's search path reaches and binds it.
    public convenience init(descriptor: PipelineDescriptor, registry: PluginRegistry = .shared) throws {
        try registry.load(PluginSearchPath.standard(descriptorPaths: descriptor.pluginPaths))
        try self.init(bound: descriptor, registry: registry)
    }

    private init(bound descriptor: PipelineDescriptor, registry: PluginRegistry) throws {
        guard descriptor.stage(.quantizer) != nil else {
            throw LICError("\(descriptor.source): missing section [quantizer] (a codec pipeline needs one)")
        }
        guard !descriptor.hasHyperprior else {
            throw LICError("\(descriptor.source): this is a learned model's pipeline ([hyper.*] stages); use the model directory (--model DIR)")
        }
        self.descriptor = descriptor
        var resolved: [(PipelineDescriptor.Stage, PluginRegistry.Entry, [(schema: ParamSchema, value: ParamValue)])] = []
        for stage in descriptor.stages {
            let entry = try Self.component(for: stage, in: descriptor, registry: registry)
            resolved.append((stage, entry, try Self.bind(stage, to: entry.info, source: descriptor.source)))
        }
        func instance<T>(_ role: PipelineDescriptor.Role, _ make: (PluginRegistry.Entry, ParamSetStorage) throws -> T) throws -> T {
            let (_, entry, params) = resolved.first { $0.0.role == role }!
            return try make(entry, ParamSetStorage(params))
        }
        analysis = try instance(.analysis, TransformInstance.init)
        quantizer = try instance(.quantizer, QuantizerInstance.init)
        entropy = try instance(.entropy, EntropyModelInstance.init)
        synthesis = try instance(.synthesis, TransformInstance.init)
        components = Dictionary(uniqueKeysWithValues: resolved.map { ($0.0.role, $0.1.info) })
        canonicalText = CanonicalDescriptor.text(name: descriptor.name, stages: resolved.map { ($0.0.role, $0.1.info.id, $0.2) })
        var hash = SHA256()
        hash.update(Array("lic-model-v1\u{0}".utf8))
        hash.update(Array(canonicalText.utf8))
        modelID = hash.finalize()
    }

    private static func component(for stage: PipelineDescriptor.Stage, in descriptor: PipelineDescriptor,
                                  registry: PluginRegistry) throws -> PluginRegistry.Entry {
        let at = "\(descriptor.source):\(stage.position.line): [\(stage.role.rawValue)]"
        guard let entry = registry.entry(stage.componentID) else {
            let known = registry.allComponents.filter { $0.kind == stage.role.kind }.map(\.id)
            var message = "\(at): no plugin provides component '\(stage.componentID)'"
            message += known.isEmpty ? "" : " (known \(stage.role.kind.rawValue)s: \(known.joined(separator: ", ")))"
            if descriptor.source.hasSuffix("(embedded pipeline)") {
                message += "; put its plugin on LIC_PLUGIN_PATH or decode with --pipeline"
            }
            if let refusal = registry.refusals.first {
                message += "; \(registry.refusals.count) plugin librar\(registry.refusals.count == 1 ? "y was" : "ies were") refused, first: \(refusal.path): \(refusal.reason)"
            }
            throw LICError(message)
        }
        guard entry.info.kind == stage.role.kind else {
            throw LICError("\(at): '\(stage.componentID)' is a \(entry.info.kind.rawValue), this stage needs a \(stage.role.kind.rawValue)")
        }
        let classical = [LIC_INTERFACE_TRANSFORM_1, LIC_INTERFACE_QUANTIZER_1, LIC_INTERFACE_ENTROPY_MODEL_1]
        if !classical.contains(entry.info.interfaceID) {
            throw LICError("\(at): '\(stage.componentID)' implements \(entry.info.interfaceID), a learned component: use it in a learned model (lic train / --model)")
        }
        return entry
    }

    /// Checks the written parameters against the schema and fills defaults.
    static func bind(_ stage: PipelineDescriptor.Stage, to info: ComponentInfo, source: String) throws -> [(schema: ParamSchema, value: ParamValue)] {
        for (key, value, position) in stage.params {
            let at = "\(source):\(position.line): [\(stage.role.rawValue)] key '\(key)'"
            guard let schema = info.params.first(where: { $0.name == key }) else {
                let known = info.params.map(\.name)
                throw LICError("\(at): unknown parameter for \(info.id) (its parameters: \(known.isEmpty ? "none" : known.joined(separator: ", ")))")
            }
            if let problem = schema.violation(of: promoted(value, for: schema)) { throw LICError("\(at): \(problem)") }
        }
        return try info.params.map { schema in
            if let written = stage.params.first(where: { $0.key == schema.name }) {
                return (schema, promoted(written.value, for: schema))
            }
            guard let value = schema.defaultValue else {
                throw LICError("\(source):\(stage.position.line): [\(stage.role.rawValue)]: missing required parameter '\(schema.name)' of \(info.id) (\(schema.description))")
            }
            return (schema, value)
        }
    }

    /// An integer written where a float is declared is the same number.
    private static func promoted(_ value: ParamValue, for schema: ParamSchema) -> ParamValue {
        if schema.type == .float, case .int(let i) = value { return .float(Double(i)) }
        return value
    }
}

/// The canonical form of a bound descriptor.
enum CanonicalDescriptor {
    static func text(name: String, stages: [(PipelineDescriptor.Role, String, [(schema: ParamSchema, value: ParamValue)])]) -> String {
        var lines = ["format = \(PipelineDescriptor.supportedFormat)", "name = \(quoted(name))"]
        for (role, id, params) in stages {
            lines.append("[\(role.rawValue)]")
            lines.append("plugin = \(quoted(id))")
            for (schema, value) in params { lines.append("\(schema.name) = \(literal(value))") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func literal(_ value: ParamValue) -> String {
        switch value {
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return "\(i)"
        case .float(let f):
            if f.isNaN { return "nan" }
            if f.isInfinite { return f > 0 ? "inf" : "-inf" }
            let text = "\(f)"   // shortest round-tripping form
            return text.contains(".") || text.contains("e") ? text : text + ".0"
        case .string(let s): return quoted(s)
        }
    }

    static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += String(format: "\\u%04X", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
