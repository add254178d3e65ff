import CLIC
import Foundation
import LICTensor

/// A codec: the graph of stages a descriptor names, bound to loaded
/// components and ordered from the tensors each stage reads and writes.
/// One object serves training (forward), encoding, decoding, `lic eval` and
/// lic.h, for classical (weightless, ABI /1) and learned (ABI /3) stages
/// alike. A learned codec lives on disk as a model directory: model.toml
/// (the canonical descriptor) and weights.safetensors.
public final class Codec {
    public static let descriptorFile = "model.toml"
    public static let weightsFile = "weights.safetensors"
    public static let codingTablesFile = CodingTableFile.name

    /// A stage in execution order.
    public struct Stage: Sendable {
        public var name: String
        public var componentID: String
        public var inputs: [String]
        public var outputs: [String]
    }

    enum Node {
        case transform(TransformNode)
        /// An entropy stage with the quantizer it uses (its own, or the pipeline's).
        case entropy(EntropyNode, QuantizerNode)
    }

    public let descriptor: PipelineDescriptor
    public let store = ParameterStore()
    /// All parameters resolved, stages in execution order, no plugin paths,
    /// no comments, no regularizers (training only): what the identity hashes.
    public let canonicalText: String
    public let stages: [Stage]
    let nodes: [Node]
    /// Created only for training (`training: true`).
    let regularizers: [RegularizerNode]

    /// The quantizer of a descriptor without a [quantizer] section.
    static let defaultQuantizer = "lic.quantizer.uniform"

    /// Loads the plugins the descriptor's search path reaches and binds it.
    /// `training` also creates the [[regularizer]] stages.
    public init(descriptor: PipelineDescriptor, training: Bool = false, registry: PluginRegistry = .shared) throws {
        try registry.load(PluginSearchPath.standard(descriptorPaths: descriptor.pluginPaths))
        self.descriptor = descriptor
        let source = descriptor.source
        let store = self.store
        func resolve(_ stage: PipelineDescriptor.Stage, kinds: [ComponentInfo.Kind]) throws -> (PluginRegistry.Entry, [(schema: ParamSchema, value: ParamValue)]) {
            let at = "\(source):\(stage.position.line): [\(stage.name)]"
            guard let entry = registry.entry(stage.componentID) else {
                let known = registry.allComponents.filter { kinds.contains($0.kind) }.map(\.id)
                var message = "\(at): no plugin provides component '\(stage.componentID)'"
                message += known.isEmpty ? "" : " (known: \(known.joined(separator: ", ")))"
                if source.hasSuffix("(embedded pipeline)") { message += "; put its plugin on LIC_PLUGIN_PATH or decode with --pipeline" }
                if let refusal = registry.refusals.first {
                    message += "; \(registry.refusals.count) plugin librar\(registry.refusals.count == 1 ? "y was" : "ies were") refused, first: \(refusal.path): \(refusal.reason)"
                }
                throw LICError(message)
            }
            guard kinds.contains(entry.info.kind) else {
                throw LICError("\(at): '\(stage.componentID)' is a \(entry.info.kind.rawValue), this section needs a \(kinds.map(\.rawValue).joined(separator: " or "))")
            }
            return (entry, try Self.bind(stage, to: entry.info, source: source))
        }
        func made<T>(_ stage: PipelineDescriptor.Stage, _ build: () throws -> T) throws -> T {
            do { return try build() } catch { throw LICError("\(source):\(stage.position.line): [\(stage.name)]: \(error)") }
        }

        // The pipeline's quantizer, then the graph: wiring, then an order in which every input is produced first.
        let quantizerStage = descriptor.quantizer ?? PipelineDescriptor.Stage(
            name: PipelineDescriptor.quantizerSection, componentID: Self.defaultQuantizer, params: [], position: TOMLPosition(line: 0, column: 0))
        let (quantizerEntry, quantizerParams) = try resolve(quantizerStage, kinds: [.quantizer])
        let quantizer = try made(quantizerStage) { try QuantizerNode(quantizerEntry, params: ParamSetStorage(quantizerParams), prefix: "quantizer", store: store) }
        let written = try descriptor.stages.map { stage in (stage, try resolve(stage, kinds: [.transform, .entropyModel])) }
        let wired = try Self.wire(written.map { ($0.0, $0.1.0.info.kind) }, source: source)
        var order: [Int] = []
        var canonical: [String] = []
        var nodes: [Node] = []
        for index in wired.order {
            let (stage, (entry, params)) = written[index]
            canonical.append(CanonicalDescriptor.section(stage.name, id: entry.info.id, params: params,
                                                         wiring: wired.wiring[index], defaultWiring: PipelineDescriptor.defaultWiring[stage.name]))
            if entry.info.kind == .transform {
                nodes.append(try made(stage) { .transform(try TransformNode(entry, params: ParamSetStorage(params), prefix: stage.name, store: store)) })
            } else {
                let entropy = try made(stage) { try EntropyNode(entry, params: ParamSetStorage(params), prefix: stage.name, store: store) }
                var own = quantizer
                if let section = stage.ownQuantizer.first {
                    let (ownEntry, ownParams) = try resolve(section, kinds: [.quantizer])
                    own = try made(section) { try QuantizerNode(ownEntry, params: ParamSetStorage(ownParams), prefix: section.name, store: store) }
                    canonical.append(CanonicalDescriptor.section(section.name, id: ownEntry.info.id, params: ownParams, wiring: nil, defaultWiring: nil))
                }
                nodes.append(.entropy(entropy, own))
            }
            order.append(index)
        }
        stages = order.map { Stage(name: written[$0].0.name, componentID: written[$0].1.0.info.id, inputs: wired.wiring[$0].inputs,
                                   outputs: wired.wiring[$0].outputs) }
        self.nodes = nodes
        canonical.append(CanonicalDescriptor.section(PipelineDescriptor.quantizerSection, id: quantizerEntry.info.id, params: quantizerParams,
                                                     wiring: nil, defaultWiring: nil))
        canonicalText = CanonicalDescriptor.header(name: descriptor.name) + canonical.joined()

        var regularizers: [RegularizerNode] = []
        if training {
            for regularizer in descriptor.regularizers {
                guard !regularizers.contains(where: { $0.name == regularizer.name }) else {
                    throw LICError("\(source):\(regularizer.stage.position.line): [[regularizer]]: two regularizers are named '\(regularizer.name)'; set `name` on one")
                }
                let (entry, params) = try resolve(regularizer.stage, kinds: [.regularizer])
                regularizers.append(try made(regularizer.stage) {
                    try RegularizerNode(entry, params: ParamSetStorage(params), regularizer: regularizer, store: store)
                })
            }
        }
        self.regularizers = regularizers
    }

    /// Each stage's tensors (written or the section's default; a default
    /// condition input nobody produces is dropped) and an execution order:
    /// ready stages by name, so the order does not depend on how the file
    /// is written. Errors name the stage and the tensor.
    static func wire(_ stages: [(PipelineDescriptor.Stage, ComponentInfo.Kind)], source: String) throws
        -> (wiring: [(inputs: [String], outputs: [String])], order: [Int]) {
        var wiring = stages.map { stage, _ in
            (inputs: stage.inputs ?? PipelineDescriptor.defaultWiring[stage.name]!.inputs,
             outputs: stage.outputs ?? PipelineDescriptor.defaultWiring[stage.name]!.outputs)
        }
        var producer: [String: Int] = [:]
        for (index, (stage, kind)) in stages.enumerated() {
            let at = "\(source):\(stage.position.line): [\(stage.name)]"
            let counts = kind == .transform ? (1...8, 1...1) : (1...2, 1...1)
            guard counts.0.contains(wiring[index].inputs.count), counts.1.contains(wiring[index].outputs.count) else {
                throw LICError("\(at): a \(kind.rawValue) stage reads \(counts.0) tensor(s) and writes one; this one reads \(wiring[index].inputs) and writes \(wiring[index].outputs)")
            }
            for output in wiring[index].outputs {
                guard output != "x" else { throw LICError("\(at): 'x' is the input image; no stage may write it") }
                if let other = producer[output] {
                    throw LICError("\(at): tensor '\(output)' is already written by [\(stages[other].0.name)]")
                }
                producer[output] = index
            }
        }
        for (index, (stage, kind)) in stages.enumerated() where kind == .entropyModel && stage.inputs == nil {
            wiring[index].inputs = wiring[index].inputs.enumerated().filter { $0.offset == 0 || producer[$0.element] != nil }.map(\.element)
        }
        for (index, (stage, _)) in stages.enumerated() {
            for input in wiring[index].inputs where input != "x" && producer[input] == nil {
                throw LICError("\(source):\(stage.position.line): [\(stage.name)]: reads tensor '\(input)', which no stage writes (written: \(producer.keys.sorted().joined(separator: ", ")))")
            }
        }
        guard producer["x_hat"] != nil else { throw LICError("\(source): no stage writes 'x_hat' (the reconstruction); a pipeline needs a [synthesis]") }
        let read = Set(wiring.flatMap(\.inputs))
        for (index, (stage, _)) in stages.enumerated() {
            for output in wiring[index].outputs where output != "x_hat" && !read.contains(output) {
                throw LICError("\(source):\(stage.position.line): [\(stage.name)]: writes tensor '\(output)', which no stage reads")
            }
        }
        var available: Set<String> = ["x"]
        var order: [Int] = []
        var pending = Set(stages.indices)
        while !pending.isEmpty {
            let ready = pending.filter { wiring[$0].inputs.allSatisfy(available.contains) }
            guard let next = ready.min(by: { stages[$0].0.name < stages[$1].0.name }) else {
                let names = pending.sorted().map { "[\(stages[$0].0.name)]" }.joined(separator: ", ")
                throw LICError("\(source): the stages \(names) read each other's tensors in a cycle")
            }
            order.append(next)
            pending.remove(next)
            available.formUnion(wiring[next].outputs)
        }
        return (wiring, order)
    }

    /// Checks the written parameters against the schema and fills defaults.
    static func bind(_ stage: PipelineDescriptor.Stage, to info: ComponentInfo, source: String) throws -> [(schema: ParamSchema, value: ParamValue)] {
        for (key, value, position) in stage.params {
            let at = "\(source):\(position.line): [\(stage.name)] key '\(key)'"
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
                throw LICError("\(source):\(stage.position.line): [\(stage.name)]: missing required parameter '\(schema.name)' of \(info.id) (\(schema.description))")
            }
            return (schema, value)
        }
    }

    /// An integer written where a float is declared is the same number.
    private static func promoted(_ value: ParamValue, for schema: ParamSchema) -> ParamValue {
        if schema.type == .float, case .int(let i) = value { return .float(Double(i)) }
        return value
    }

    // MARK: Identity

    /// Parameters that belong to the model (not to training-only regularizers).
    var modelParameters: [ParameterStore.Entry] { store.all.filter { $0.group != .regularizer } }

    /// A learned codec has weights; a classical one is its descriptor alone.
    public var hasWeights: Bool { !modelParameters.isEmpty }

    private var cachedID: [UInt8]?
    private let identityLock = NSLock()
    /// Bumped by weightsChanged(): coding tables are rebuilt when it moves.
    private var weightsVersion = 0
    private var preparedVersion = -1
    /// Per entropy stage, the tables prepareCoding last built or took.
    private(set) var codingTables: [String: CodingTableSet] = [:]
    /// A model directory's stored tables and the weights version they belong to.
    private var storedTables: (version: Int, sets: [String: CodingTableSet])?

    /// Call after changing weights (training steps, loading).
    public func weightsChanged() {
        identityLock.withLock {
            cachedID = nil
            weightsVersion += 1
        }
    }

    /// SHA-256 of the canonical descriptor and every model parameter (name, shape, values), in name order.
    public func modelID() -> [UInt8] {
        if let id = identityLock.withLock({ cachedID }) { return id }
        let id = Self.identity(canonicalText: canonicalText, parameters: modelParameters)
        identityLock.withLock { cachedID = id }
        return id
    }

    /// The model id of a canonical descriptor and parameters (none for a weightless pipeline).
    static func identity(canonicalText: String, parameters: [ParameterStore.Entry]) -> [UInt8] {
        var hash = SHA256()
        hash.update(Array("lic-model-v1\u{0}".utf8))
        hash.update(Array(canonicalText.utf8))
        for entry in parameters.sorted(by: { $0.name < $1.name }) {
            hash.update(Array("\u{0}\(entry.name)\u{0}\(entry.tensor.shape)".utf8))
            entry.tensor.withUnsafeBufferPointer { hash.update(UnsafeRawBufferPointer($0)) }
        }
        return hash.finalize()
    }

    /// Builds the entropy models' coding tables if the weights changed since
    /// the last time - or takes the ones stored with these weights.
    func prepareCoding() throws {
        let version = identityLock.withLock { weightsVersion }
        guard version != preparedVersion else { return }
        let stored = storedTables?.version == version ? storedTables?.sets : nil
        var built: [String: CodingTableSet] = [:]
        for (stage, node) in zip(stages, nodes) {
            guard case .entropy(let entropy, _) = node else { continue }
            built[stage.name] = try entropy.prepareCoding(stage: stage.name, stored: stored.map { $0[stage.name] ?? CodingTableSet(entries: []) })
        }
        (codingTables, preparedVersion) = (built, version)
    }

    // MARK: Model directories

    /// Weights-file metadata: the lambda the model was trained for.
    public static let lambdaKey = "model.lambda"

    /// The rate-distortion lambda the model was trained for (from its
    /// weights' metadata), passed to coding calls as context.lambda so that
    /// rate-distortion quantizers can scale their own lambda with it.
    public var modelLambda: Double?

    /// How encoding tiles transforms that allow it (nil: never tile); a
    /// smaller side lowers peak memory on large images. The file records the
    /// side it used; decoding follows the file.
    public var tilePlan: TilePlan? = .standard

    /// Weights-file metadata of a variable-rate model: its lambdas, one per rate level.
    public static let lambdasKey = "model.lambdas"

    /// The rate levels of a variable-rate model (from its weights' metadata); nil: one rate.
    public var rateLevels: RateLevels?

    /// Loads the model's weights (a safetensors file) and what its metadata records.
    public func loadWeights(from path: String) throws {
        let metadata = try store.load(from: path)
        modelLambda = metadata[Self.lambdaKey].flatMap(Double.init)
        do { rateLevels = try metadata[Self.lambdasKey].map(RateLevels.init(parsing:)) } catch {
            throw LICError("\(path): metadata \(Self.lambdasKey): \(error)")
        }
        weightsChanged()
    }

    /// What a model directory's weights file records besides the weights:
    /// the lambdas of a variable-rate model, or the one lambda.
    public var modelMetadata: [String: String] {
        if let rateLevels { return [Self.lambdasKey: rateLevels.text] }
        return modelLambda.map { [Self.lambdaKey: String($0)] } ?? [:]
    }

    /// Rounds every model parameter to the nearest float16 value, so the
    /// model can be saved at half the size (`save(..., storedAs: .f16)`) and
    /// loads back to exactly these weights (and this identity).
    public func roundWeightsToHalf() {
        for entry in modelParameters {
            entry.tensor.withUnsafeMutableBufferPointer { values in
                for i in values.indices { values[i] = SafeTensorsFile.roundedToHalf(values[i]) }
            }
        }
        weightsChanged()
    }

    /// The rate level a quality asks for: nil for a model with one rate (which
    /// refuses a quality), the default quality's level when none is given.
    public func rateLevel(quality: Double?) throws -> Double? {
        guard let rateLevels else {
            if quality != nil { throw LICError("this model codes at one rate; a quality needs a variable-rate model (lic train --lambdas)") }
            return nil
        }
        return try rateLevels.level(quality: quality ?? RateLevels.defaultQuality)
    }

    /// Loads DIR/model.toml, DIR/weights.safetensors and, when present,
    /// DIR/coding-tables.bin (the coding tables stored with the weights, used
    /// instead of rebuilding them; they must match what the entropy models build).
    public static func load(directory: String) throws -> Codec {
        let descriptor = try PipelineDescriptor.load(path: directory + "/" + descriptorFile)
        // The strict load below overwrites every parameter: no random initialization first.
        let codec = try TensorOpsTable.$weightsFollow.withValue(true) { try Codec(descriptor: descriptor) }
        try codec.loadWeights(from: directory + "/" + weightsFile)
        let tablesPath = directory + "/" + CodingTableFile.name
        if let data = FileManager.default.contents(atPath: tablesPath) {
            let sets = try CodingTableFile.parse(Array(data), path: tablesPath)
            codec.storedTables = (codec.identityLock.withLock { codec.weightsVersion }, sets)
        }
        return codec
    }

    /// Writes the canonical descriptor, the model's weights and their coding
    /// tables (each atomically). The tables are integers, stored so that any
    /// machine and any later version codes with exactly these; a model whose
    /// tables cannot be built yet (e.g. a diverged checkpoint) is saved without.
    public func save(to directory: String, metadata: [String: String] = [:], storedAs stored: SafeTensorsFile.StoredType = .f32) throws {
        let tablesPath = directory + "/" + CodingTableFile.name
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try Data(canonicalText.utf8).write(to: URL(fileURLWithPath: directory + "/" + Self.descriptorFile), options: .atomic)
        } catch {
            throw LICError("\(directory): cannot write the model: \(error.localizedDescription)")
        }
        try store.save(to: directory + "/" + Self.weightsFile, metadata: metadata, groups: [.main, .auxiliary], storedAs: stored)
        guard hasWeights else { return }
        do {
            try prepareCoding()
            let stages = self.stages.map(\.name).compactMap { name in codingTables[name].map { (name: name, tables: $0) } }
            try Data(CodingTableFile.serialize(stages)).write(to: URL(fileURLWithPath: tablesPath), options: .atomic)
        } catch {
            try? FileManager.default.removeItem(atPath: tablesPath)  // never leave tables of other weights behind
        }
    }
}

/// The canonical form of a bound descriptor.
enum CanonicalDescriptor {
    static func header(name: String) -> String {
        "format = \(PipelineDescriptor.supportedFormat)\nname = \(quoted(name))\n"
    }

    /// One section; inputs and outputs only where they differ from the section's default.
    static func section(_ name: String, id: String, params: [(schema: ParamSchema, value: ParamValue)],
                        wiring: (inputs: [String], outputs: [String])?, defaultWiring: (inputs: [String], outputs: [String])?) -> String {
        var lines = ["[\(name)]", "plugin = \(quoted(id))"]
        if let wiring {
            let defaults = defaultWiring.map { d in (d.inputs.filter { wiring.inputs.contains($0) || $0 == d.inputs.first }, d.outputs) }
            if wiring.inputs != defaults?.0 { lines.append("inputs = [\(wiring.inputs.map(quoted).joined(separator: ", "))]") }
            if wiring.outputs != defaults?.1 { lines.append("outputs = [\(wiring.outputs.map(quoted).joined(separator: ", "))]") }
        }
        for (schema, value) in params { lines.append("\(schema.name) = \(literal(value))") }
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
