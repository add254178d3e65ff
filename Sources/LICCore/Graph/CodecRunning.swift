import Foundation
import LICTensor

/// Running the graph: the same stages in the same order for training,
/// evaluation, encoding and decoding.
extension Codec {
    /// The named tensors of one forward pass: "x", every stage's outputs,
    /// and for each entropy stage reading latent L: "L.likelihoods",
    /// "L.means", "L.scales" (where the model gives them).
    public struct ForwardPass {
        public var tensors: [String: Tensor]
        public var xHat: Tensor { tensors["x_hat"]! }
        /// Every entropy stage's likelihoods, in execution order.
        public var likelihoods: [Tensor]
    }

    /// Training (the quantizer's surrogate, noise from context.seed) or
    /// evaluation (hard quantization) forward pass over x [B, C, H, W].
    public func forward(_ x: Tensor, context: CallContext) throws -> ForwardPass {
        var context = context
        (context.width, context.height) = (x.shape[3], x.shape[2])
        var tensors: [String: Tensor] = ["x": x]
        var likelihoods: [Tensor] = []
        for (index, (stage, node)) in zip(stages, nodes).enumerated() {
            let stageContext = context.forStage(index)
            try run(stage) {
                switch node {
                case .transform(let transform):
                    tensors[stage.outputs[0]] = try transform.apply(stage.inputs.map { tensors[$0]! }, context: stageContext)
                case .entropy(let entropy, let quantizer):
                    let result = try entropy.forward(tensors[stage.inputs[0]]!, condition: stage.inputs.dropFirst().first.map { tensors[$0]! },
                                                     quantizer: quantizer, context: stageContext)
                    guard let stageLikelihoods = result.likelihoods else { throw LICError("forward returned no likelihoods") }
                    publish(result, of: stage, into: &tensors)
                    likelihoods.append(stageLikelihoods)
                }
            }
        }
        return ForwardPass(tensors: tensors, likelihoods: likelihoods)
    }

    private func publish(_ result: EntropyResult, of stage: Stage, into tensors: inout [String: Tensor]) {
        let latent = stage.inputs[0]
        tensors[stage.outputs[0]] = result.yHat
        tensors["\(latent).likelihoods"] = result.likelihoods
        tensors["\(latent).means"] = result.means
        tensors["\(latent).scales"] = result.scales
    }

    private func run<R>(_ stage: Stage, _ body: () throws -> R) throws -> R {
        do { return try body() } catch { throw LICError("[\(stage.name)] \(stage.componentID): \(error)") }
    }

    /// The sum of the entropy models' auxiliary losses (nil when none has one).
    public func auxiliaryLoss() throws -> Tensor? {
        var total: Tensor?
        for case .entropy(let node, _) in nodes {
            if let loss = try node.auxiliaryLoss(context: CallContext(mode: .train)) { total = try total.map { try $0 + loss } ?? loss }
        }
        return total
    }

    // MARK: Alignment

    /// Spatial sizes the image is padded to a multiple of, for `channels`
    /// image channels: every transform's alignment, scaled to image pixels.
    public func alignment(channels: Int = 3) throws -> Int {
        let probe = 1 << 12
        let shapes = try shapes(for: [1, channels, probe, probe])
        var alignment = 1
        for (stage, node) in zip(stages, nodes) {
            guard case .transform(let transform) = node, let input = shapes[stage.inputs[0]], input.count == 4, input[2] > 0 else { continue }
            let factor = max(1, probe / input[2])
            alignment = Self.lcm(alignment, transform.alignment * factor)
        }
        return alignment
    }

    private static func lcm(_ a: Int, _ b: Int) -> Int {
        func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
        return a / gcd(a, b) * b
    }

    /// Every tensor's shape for an input of `xShape`, without computing anything.
    func shapes(for xShape: [Int]) throws -> [String: [Int]] {
        var shapes: [String: [Int]] = ["x": xShape]
        for (stage, node) in zip(stages, nodes) {
            try run(stage) {
                switch node {
                case .transform(let transform): shapes[stage.outputs[0]] = try transform.outputShape(for: shapes[stage.inputs[0]]!)
                case .entropy: shapes[stage.outputs[0]] = shapes[stage.inputs[0]]!
                }
            }
        }
        return shapes
    }

    /// The channel count the codec codes an image with: its own, or RGB for
    /// codecs built for three channels (gray and RGBA are converted).
    func codedChannels(for image: Image) -> Int {
        (try? shapes(for: [1, image.channels, 64, 64])) != nil ? image.channels : 3
    }

    // MARK: Coding

    public struct Encoded {
        public var bytes: [UInt8]
        /// Exactly what the decoder will produce.
        public var reconstruction: Image
    }

    /// Encodes an image; the reconstruction is exactly what decode gives.
    /// `quality` (1...8) chooses the rate of a variable-rate model (default
    /// `RateLevels.defaultQuality`); a model with one rate refuses it.
    public func encode(_ input: Image, quality: Double? = nil) throws -> Encoded {
        let (bytes, reconstruction) = try encode(input, quality: quality, reconstructing: true)
        return Encoded(bytes: bytes, reconstruction: reconstruction!)
    }

    /// The file alone: the synthesis (which only the reconstruction needs)
    /// does not run, so this takes about the analysis' time (lic_encode, the
    /// Python binding's encode). The bytes are `encode`'s.
    public func encodeBytes(_ input: Image, quality: Double? = nil) throws -> [UInt8] {
        try encode(input, quality: quality, reconstructing: false).bytes
    }

    private func encode(_ input: Image, quality: Double?, reconstructing: Bool) throws -> (bytes: [UInt8], reconstruction: Image?) {
        let image = codedChannels(for: input) == input.channels ? input : try input.convertedToRGB()
        let rateLevel = try rateLevel(quality: quality)
        return try GradientMode.withoutGradients {
            let x = try ImagePlanes.tensor(from: image, alignment: try alignment(channels: image.channels))
            // Tiles only where the image exceeds one; the file says so, and the decoder tiles alike.
            let tiles = tilePlan.flatMap { max(x.shape[2], x.shape[3]) > $0.side ? $0 : nil }
            let (tensors, session) = try encodePass(x, rateLevel: rateLevel, keeping: reconstructing ? ["x_hat"] : [], tiles: tiles)
            let reconstruction = try tensors["x_hat"].map {
                try ImagePlanes.image(from: $0, width: image.width, height: image.height, channels: image.channels)
            }
            var streams = hasWeights ? [] : [ContainerStream(tag: Container.pipelineTag, bytes: Array(canonicalText.utf8))]
            let coded = session.finishedStreams()
            for (index, bytes) in coded.enumerated() {
                streams.append(ContainerStream(tag: Container.streamTag(index), bytes: bytes))
            }
            let container = Container(modelID: Array(modelID().prefix(Container.modelIDSize)), width: image.width, height: image.height,
                                      channels: image.channels, bitDepth: 8, streams: streams, rateLevel: rateLevel,
                                      tileSide: tiles?.side, segmentedStreams: coded.contains(where: RANS.isSegmented))
            return (try container.serialized(), reconstruction)
        }
    }

    /// Every stage in encode mode over x [B, C, H, W]: the coded tensors
    /// (the quantized latents exactly as the decoder will see them) and the
    /// coding session holding the streams. No gradients. `rateLevel`: a
    /// variable-rate model's level (nil: its default level, or the only rate).
    /// `keeping`: the tensors the caller needs afterwards; the others are
    /// released as soon as no later stage reads them (a large image's
    /// activations do not pile up), and a transform stage whose outputs
    /// neither a later stage nor the caller needs does not run (the synthesis,
    /// when only the file is wanted). nil keeps (and computes) every tensor.
    /// `tiles`: how transforms that allow it are tiled (nil: whole).
    func encodePass(_ x: Tensor, rateLevel: Double? = nil, keeping: Set<String>? = nil,
                    tiles: TilePlan? = nil) throws -> (tensors: [String: Tensor], session: CodingSession) {
        try GradientMode.withoutGradients {
            try prepareCoding()
            let rateLevel = try rateLevel ?? self.rateLevel(quality: nil)
            var context = CallContext(mode: .encode, lambda: codingLambda(rateLevel))
            context.rateLevel = rateLevel
            (context.width, context.height) = (x.shape[3], x.shape[2])
            var tensors: [String: Tensor] = ["x": x]
            let session = CodingSession()
            let exact = entropyParameterStages
            let running = keeping.map(stagesToRun(keeping:))
            for (index, (stage, node)) in zip(stages, nodes).enumerated() {
                try run(stage) {
                    switch node {
                    case .transform(let transform):
                        if let running, !running.contains(index) { return }
                        tensors[stage.outputs[0]] = try ExactArithmetic.with(exact.contains(index)) {
                            try transform.apply(stage.inputs.map { tensors[$0]! }, context: context.forStage(index), tiles: tiles)
                        }
                    case .entropy(let entropy, let quantizer):
                        publish(try entropy.encode(tensors[stage.inputs[0]]!, condition: stage.inputs.dropFirst().first.map { tensors[$0]! },
                                                   quantizer: quantizer, session: session, context: context.forStage(index)),
                                of: stage, into: &tensors)
                    }
                }
                if let keeping { release(after: index, from: &tensors, keeping: keeping) }
            }
            return (tensors, session)
        }
    }

    /// The lambda coding calls get as context (rate-distortion quantizers
    /// scale with it): the level's, or the one the model was trained for.
    func codingLambda(_ rateLevel: Double?) -> Double {
        if let rateLevels, let rateLevel { return rateLevels.lambda(atLevel: rateLevel) }
        return modelLambda ?? 0
    }

    /// The stages an encode runs when the caller keeps `keeping`: every
    /// entropy stage (they write the file) and the transforms whose outputs
    /// one of those, a running transform, or the caller reads (walked backwards).
    func stagesToRun(keeping: Set<String>) -> Set<Int> {
        var needed = keeping, running = Set<Int>()
        for index in stages.indices.reversed() {
            if case .transform = nodes[index], !stages[index].outputs.contains(where: needed.contains) { continue }
            running.insert(index)
            needed.formUnion(stages[index].inputs)
        }
        return running
    }

    /// Drops the tensors no stage after `index` reads, except `keeping`.
    func release(after index: Int, from tensors: inout [String: Tensor], keeping: Set<String>) {
        let needed = Set(stages[(index + 1)...].flatMap(\.inputs)).union(keeping)
        for name in tensors.keys where !needed.contains(name) { tensors[name] = nil }
    }

    /// The decoder's side of the graph: the transform stages that run while
    /// decoding (their inputs come from entropy stages, not from the image).
    var decoderStages: [Int] {
        var available = Set<String>()
        for (stage, node) in zip(stages, nodes) {
            if case .entropy = node { available.formUnion(stage.outputs) }
        }
        var result: [Int] = []
        for (index, stage) in stages.enumerated() where stage.inputs.allSatisfy(available.contains) {
            if case .transform = nodes[index] {
                result.append(index)
                available.formUnion(stage.outputs)
            }
        }
        return result
    }

    /// The decoder's stages that feed an entropy model's condition (directly
    /// or through other stages): the hyper synthesis and anything else the
    /// entropy parameters are computed from. Encoder and decoder run them in
    /// exact mode (`ExactArithmetic`), as they run the entropy models, so both
    /// compute the same scales, tables and contexts on any machine; the
    /// synthesis transform and the encoder-only stages stay on oneDNN.
    var entropyParameterStages: Set<Int> {
        let decoder = decoderStages
        var needed = Set<String>()
        for (stage, node) in zip(stages, nodes) {
            if case .entropy = node { needed.formUnion(stage.inputs.dropFirst()) }
        }
        var result = Set<Int>()
        for index in decoder.reversed() where stages[index].outputs.contains(where: needed.contains) {
            result.insert(index)
            needed.formUnion(stages[index].inputs)
        }
        return result
    }

    /// x_hat from the coded tensors of an encode pass, through the decoder's
    /// transform stages on the tape: fine-tuning on real quantized latents.
    func synthesize(from coded: [String: Tensor], context: CallContext) throws -> Tensor {
        var tensors = coded
        for index in decoderStages {
            let stage = stages[index]
            guard case .transform(let transform) = nodes[index] else { continue }
            try run(stage) { tensors[stage.outputs[0]] = try transform.apply(stage.inputs.map { tensors[$0]! }, context: context.forStage(index)) }
        }
        guard let xHat = tensors["x_hat"] else { throw LICError("x_hat cannot be computed from the coded latents") }
        return xHat
    }

    /// Decodes a file coded by this codec (its identity must match). Memory
    /// is proportional to width x height, bounded by `maxPixels` (at most
    /// Image.maxPixels), checked before anything is allocated.
    public func decode(_ bytes: [UInt8], source: String, maxPixels: Int = Image.maxPixels) throws -> Image {
        try decode(Self.parse(bytes, source: source, maxPixels: maxPixels), source: source)
    }

    /// Decodes a file with the codec it embeds (a weightless pipeline, built
    /// from plugins already on the search path: an embedded descriptor
    /// cannot name plugin files), or with `codec` when given.
    public static func decode(_ bytes: [UInt8], source: String, codec given: Codec? = nil,
                              maxPixels: Int = Image.maxPixels) throws -> (image: Image, codec: Codec) {
        let container = try parse(bytes, source: source, maxPixels: maxPixels)
        let codec = try given ?? embeddedCodec(of: container, source: source)
        return (try codec.decode(container, source: source), codec)
    }

    /// Whether `bytes` are a container that embeds its pipeline (a weightless
    /// codec's file); false for a learned model's file and for anything unreadable.
    public static func embedsPipeline(_ bytes: [UInt8]) -> Bool {
        (try? Container(parsing: bytes))?.streams.first?.tag == Container.pipelineTag
    }

    private static func parse(_ bytes: [UInt8], source: String, maxPixels: Int) throws -> Container {
        let container: Container
        do { container = try Container(parsing: bytes) } catch { throw LICError("\(source): \(error)") }
        guard container.width * container.height <= maxPixels else {
            throw LICError("\(source): the image is \(container.width)x\(container.height), more than the \(maxPixels) pixels allowed")
        }
        return container
    }

    private static func embeddedCodec(of container: Container, source: String) throws -> Codec {
        guard let stream = container.streams.first, stream.tag == Container.pipelineTag else {
            throw LICError("\(source): the file does not embed its pipeline (a learned model's file); name the model with --model")
        }
        guard let text = String(validating: stream.bytes, as: UTF8.self) else {
            throw LICError("\(source): the embedded pipeline is not UTF-8 text")
        }
        // Parsed as embedded: no `plugins` key, so a file can never make us load a library.
        let descriptor = try PipelineDescriptor.parse(text, source: "\(source) (embedded pipeline)", baseDirectory: nil)
        // A weightless pipeline's id is the hash of its canonical text: damage is refused before any component is made.
        guard container.modelID == Array(identity(canonicalText: text, parameters: []).prefix(Container.modelIDSize)) else {
            throw LICError("\(source): the embedded pipeline does not match the file's model id (damaged or forged)")
        }
        // Components that would register weights are refused before they allocate them.
        let codec = try TensorOpsTable.$refusesParameters.withValue(true) { try Codec(descriptor: descriptor) }
        guard codec.canonicalText == text, !codec.hasWeights else {
            throw LICError("\(source): the embedded pipeline is not in canonical form (damaged or forged)")
        }
        return codec
    }

    private func decode(_ container: Container, source: String) throws -> Image {
        let id = Array(modelID().prefix(Container.modelIDSize))
        guard container.modelID == id else {
            throw LICError("\(source): wrong model: the file was coded by model \(Self.hex(container.modelID)), this one is \(Self.hex(id)) (name the right one with --model)")
        }
        let coded = container.streams.filter { $0.tag != Container.pipelineTag }.map(\.bytes)
        return try GradientMode.withoutGradients {
            try prepareCoding()
            let xShape = ImagePlanes.paddedShape(width: container.width, height: container.height, channels: container.channels,
                                                 alignment: try alignment(channels: container.channels))
            let shapes = try shapes(for: xShape)
            var context = CallContext(mode: .decode)
            context.rateLevel = try rateLevels.map { try $0.validate(fileLevel: container.rateLevel, source: source) }
            guard rateLevels != nil || container.rateLevel == nil else {
                throw LICError("\(source): the file records rate level \(container.rateLevel!), but this model codes at one rate (coded by another model?)")
            }
            (context.width, context.height) = (xShape[3], xShape[2])
            var tensors: [String: Tensor] = [:]
            let session = CodingSession(decoding: coded, segmented: container.segmentedStreams)
            let exact = entropyParameterStages
            do {
                for (index, (stage, node)) in zip(stages, nodes).enumerated() {
                    try run(stage) {
                        switch node {
                        case .transform(let transform):
                            // Stages that need the image (the encoder's side) do not run.
                            guard stage.inputs.allSatisfy({ tensors[$0] != nil }) else { return }
                            tensors[stage.outputs[0]] = try ExactArithmetic.with(exact.contains(index)) {
                                try transform.apply(stage.inputs.map { tensors[$0]! }, context: context.forStage(index),
                                                    tiles: container.tileSide.map(TilePlan.init(side:)))
                            }
                        case .entropy(let entropy, let quantizer):
                            let condition = try stage.inputs.dropFirst().first.map { name in
                                guard let tensor = tensors[name] else { throw LICError("its condition '\(name)' cannot be computed while decoding") }
                                return tensor
                            }
                            let opened = session.openedDecoderCount
                            publish(try entropy.decode(shape: shapes[stage.inputs[0]]!, condition: condition, quantizer: quantizer,
                                                       session: session, context: context.forStage(index)),
                                    of: stage, into: &tensors)
                            // A stage reads its streams within its call: check them before anything computes on its output.
                            if let stream = session.unconsumedStreams(from: opened).first {
                                throw LICError("corrupt data: coded stream #\(stream + 1) did not end cleanly (damaged, or coded by another model)")
                            }
                        }
                    }
                    release(after: index, from: &tensors, keeping: ["x_hat"])
                }
                guard session.openedDecoderCount == coded.count, session.unconsumedStreams().isEmpty else {
                    throw LICError("corrupt data: the model read \(session.openedDecoderCount) of \(coded.count) stream(s) and did not end cleanly")
                }
                guard let xHat = tensors["x_hat"] else { throw LICError("x_hat cannot be computed from the coded streams") }
                return try ImagePlanes.image(from: xHat, width: container.width, height: container.height, channels: container.channels)
            } catch {
                throw LICError("\(source): cannot decode: \(error)")
            }
        }
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.prefix(8).map { String(format: "%02x", $0) }.joined()
    }
}
