import LICTensor

/// The component under check: its registry entry, the parameter values the
/// cases start from, and fresh instances made through the host's own schema
/// check (Codec.bind) and the Graph nodes, as a pipeline would make them.
final class CheckSubject {
    let entry: PluginRegistry.Entry
    let registry: PluginRegistry
    /// Defaults (a required parameter gets a value in its range), with
    /// integers above `smallInteger` lowered to it where the range allows,
    /// so channel counts stay small and the check quick.
    let base: [String: ParamValue]
    static let smallInteger: Int64 = 16

    var info: ComponentInfo { entry.info }

    init(_ entry: PluginRegistry.Entry, registry: PluginRegistry) {
        self.entry = entry
        self.registry = registry
        var base: [String: ParamValue] = [:]
        for schema in entry.info.params {
            var value = schema.defaultValue ?? Self.typicalValue(schema)
            if case .int(let v) = value, v > Self.smallInteger, (schema.minimum ?? 0) <= Double(Self.smallInteger) {
                value = .int(Self.smallInteger)
            }
            base[schema.name] = value
        }
        self.base = base
    }

    /// A value for a required parameter: 1 (or "x", false, the first enum
    /// value) moved into the declared range.
    static func typicalValue(_ schema: ParamSchema) -> ParamValue {
        let one = min(max(1, schema.minimum ?? 1), schema.maximum ?? 1)
        switch schema.type {
        case .bool: return .bool(false)
        case .int: return .int(Int64(one.rounded(.up)))
        case .float: return .float(one)
        case .string: return .string("x")
        case .enumeration: return .string(schema.enumValues.first ?? "")
        }
    }

    /// The validated parameter set for `base` with `changes` (nil removes a
    /// value): throws the host's refusal, naming the key, when the schema check fails.
    func parameters(_ changes: [String: ParamValue?] = [:], defaults: Bool = false) throws -> ParamSetStorage {
        var values = defaults ? [:] : base
        if defaults {
            for schema in info.params where schema.required { values[schema.name] = Self.typicalValue(schema) }
        }
        for (key, value) in changes { values[key] = value }
        let position = TOMLPosition(line: 0, column: 0)
        let stage = PipelineDescriptor.Stage(name: "check", componentID: info.id,
                                             params: values.sorted { $0.key < $1.key }.map { ($0.key, $0.value, position) }, position: position)
        return ParamSetStorage(try Codec.bind(stage, to: info, source: "check"))
    }

    // Fresh instances, each with its own parameter store (learned weights
    // depend only on the seed and the name, so two instances agree).

    func transform(_ params: ParamSetStorage) throws -> TransformNode {
        try TransformNode(entry, params: params, prefix: "check", store: ParameterStore())
    }

    func entropyModel(_ params: ParamSetStorage) throws -> EntropyNode {
        let node = try EntropyNode(entry, params: params, prefix: "check", store: ParameterStore())
        _ = try node.prepareCoding(stage: entry.info.id, stored: nil)
        return node
    }

    func quantizer(_ params: ParamSetStorage) throws -> QuantizerNode {
        try QuantizerNode(entry, params: params, prefix: "quantizer", store: ParameterStore())
    }

    func regularizer(_ params: ParamSetStorage) throws -> RegularizerNode {
        let position = TOMLPosition(line: 0, column: 0)
        let stage = PipelineDescriptor.Stage(name: "regularizer", componentID: info.id, params: [], position: position)
        let description = PipelineDescriptor.Regularizer(stage: stage, name: "check", weight: 1, learningRate: 1e-3)
        return try RegularizerNode(entry, params: params, regularizer: description, store: ParameterStore())
    }

    /// Creates an instance of whatever kind the component is (create and destroy only).
    func instance(_ params: ParamSetStorage) throws -> ComponentInstance {
        switch info.kind {
        case .transform: try transform(params)
        case .entropyModel: try entropyModel(params)
        case .quantizer: try quantizer(params)
        case .regularizer: try regularizer(params)
        }
    }

    /// The pipeline's default quantizer (a descriptor without [quantizer]) with its defaults.
    func defaultQuantizer() throws -> QuantizerNode {
        guard let entry = registry.entry(Codec.defaultQuantizer) else {
            throw CheckFailure("the default quantizer \(Codec.defaultQuantizer) is not available (the built-in plugins were not found)")
        }
        let position = TOMLPosition(line: 0, column: 0)
        let stage = PipelineDescriptor.Stage(name: "quantizer", componentID: entry.info.id, params: [], position: position)
        return try QuantizerNode(entry, params: ParamSetStorage(try Codec.bind(stage, to: entry.info, source: "check")),
                                 prefix: "quantizer", store: ParameterStore())
    }

    /// Integers the component's parameters suggest as channel counts for
    /// its inputs (the values, doubled, squared, ...), then small ones.
    func channelCandidates(_ params: [String: ParamValue]) -> [Int] {
        var candidates: [Int] = []
        for case .int(let v) in info.params.compactMap({ params[$0.name] }) where v >= 1 && v <= 4096 {
            let n = Int(v)
            candidates += [n, 2 * n, n * 3 / 2, n * n, 3 * n * n]
        }
        candidates += Array(1...8)
        var seen = Set<Int>()
        return candidates.filter { $0 >= 1 && $0 <= 4096 && seen.insert($0).inserted }
    }
}
