import CLIC
import Foundation
import LICTensor

/// A learned codec: a descriptor whose stages are differentiable plugins
/// (lic.transform/2, lic.entropy-model/2), with its parameters in a host
/// ParameterStore. It trains (forward with noise, auxiliary loss), codes real
/// files, and lives on disk as a model directory: model.toml (the canonical
/// descriptor) and weights.safetensors.
public final class LearnedModel {
    public static let descriptorFile = "model.toml"
    public static let weightsFile = "weights.safetensors"

    public let descriptor: PipelineDescriptor
    public let store = ParameterStore()
    public let canonicalText: String

    let analysis: DifferentiableTransformInstance
    let synthesis: DifferentiableTransformInstance
    let entropy: LearnedEntropyModelInstance
    let hyper: (analysis: DifferentiableTransformInstance, entropy: LearnedEntropyModelInstance, synthesis: DifferentiableTransformInstance)?
    let quantizer: QuantizerInstance

    /// The default quantizer of a learned pipeline: rounding (step 1) around the model's means.
    static let defaultQuantizer = PipelineDescriptor.Stage(role: .quantizer, componentID: "lic.quantizer.uniform", params: [],
                                                           position: TOMLPosition(line: 0, column: 0))

    public init(descriptor: PipelineDescriptor, registry: PluginRegistry = .shared) throws {
        try registry.load(PluginSearchPath.standard(descriptorPaths: descriptor.pluginPaths))
        self.descriptor = descriptor
        var bound: [(PipelineDescriptor.Role, String, [(schema: ParamSchema, value: ParamValue)])] = []
        func make<T>(_ role: PipelineDescriptor.Role, _ build: (PluginRegistry.Entry, ParamSetStorage, String) throws -> T) throws -> T {
            let stage = descriptor.stage(role) ?? Self.defaultQuantizer
            let at = "\(descriptor.source):\(stage.position.line): [\(role.rawValue)]"
            guard let entry = registry.entry(stage.componentID) else {
                throw LICError("\(at): no plugin provides component '\(stage.componentID)'")
            }
            guard entry.info.kind == role.kind else {
                throw LICError("\(at): '\(stage.componentID)' is a \(entry.info.kind.rawValue), this stage needs a \(role.kind.rawValue)")
            }
            let params = try Pipeline.bind(stage, to: entry.info, source: descriptor.source)
            // Learned entropy models are trained on unit bins around their medians / means.
            if role == .quantizer, case .float(let step)? = params.first(where: { $0.schema.name == "step" })?.value, step != 1 {
                throw LICError("\(at): a learned model's quantizer needs step = 1 (its likelihoods assume unit bins), got \(step)")
            }
            bound.append((role, entry.info.id, params))
            do {
                return try build(entry, ParamSetStorage(params), role.rawValue)
            } catch {
                throw LICError("\(at): \(error)")
            }
        }
        let store = self.store
        analysis = try make(.analysis) { try DifferentiableTransformInstance($0, params: $1, stage: $2, store: store) }
        quantizer = try make(.quantizer) { entry, params, _ in try QuantizerInstance(entry, params: params) }
        if descriptor.hasHyperprior {
            hyper = (try make(.hyperAnalysis) { try DifferentiableTransformInstance($0, params: $1, stage: $2, store: store) },
                     try make(.hyperEntropy) { try LearnedEntropyModelInstance($0, params: $1, stage: $2, store: store) },
                     try make(.hyperSynthesis) { try DifferentiableTransformInstance($0, params: $1, stage: $2, store: store) })
        } else {
            hyper = nil
        }
        entropy = try make(.entropy) { try LearnedEntropyModelInstance($0, params: $1, stage: $2, store: store) }
        synthesis = try make(.synthesis) { try DifferentiableTransformInstance($0, params: $1, stage: $2, store: store) }
        canonicalText = CanonicalDescriptor.text(name: descriptor.name, stages: bound)
    }

    // MARK: Model directories

    /// Loads DIR/model.toml and DIR/weights.safetensors.
    public static func load(directory: String) throws -> LearnedModel {
        let model = try LearnedModel(descriptor: PipelineDescriptor.load(path: directory + "/" + descriptorFile))
        try model.store.load(from: directory + "/" + weightsFile)
        model.weightsChanged()
        return model
    }

    /// Writes the canonical descriptor and the weights (each atomically).
    public func save(to directory: String, metadata: [String: String] = [:]) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try Data(canonicalText.utf8).write(to: URL(fileURLWithPath: directory + "/" + Self.descriptorFile), options: .atomic)
        } catch {
            throw LICError("\(directory): cannot write the model: \(error.localizedDescription)")
        }
        try store.save(to: directory + "/" + Self.weightsFile, metadata: metadata)
    }

    /// The identity, cached: hashing every weight costs ~0.3 s for N=128/M=192.
    private var cachedID: [UInt8]?
    private let identityLock = NSLock()

    /// Call after changing weights (training steps, loading): the identity is recomputed.
    public func weightsChanged() { identityLock.withLock { cachedID = nil } }

    /// SHA-256 of the canonical descriptor and every parameter (name, shape, values), in name order.
    public func modelID() -> [UInt8] {
        if let id = identityLock.withLock({ cachedID }) { return id }
        let id = computeModelID()
        identityLock.withLock { cachedID = id }
        return id
    }

    private func computeModelID() -> [UInt8] {
        var hash = SHA256()
        hash.update(Array("lic-model-v1\u{0}".utf8))
        hash.update(Array(canonicalText.utf8))
        for entry in store.all.sorted(by: { $0.name < $1.name }) {
            hash.update(Array("\u{0}\(entry.name)\u{0}\(entry.tensor.shape)".utf8))
            entry.tensor.withUnsafeBufferPointer { hash.update(UnsafeRawBufferPointer($0)) }
        }
        return hash.finalize()
    }

    /// Spatial sizes the image is padded to a multiple of.
    public var alignment: Int { analysis.alignment * (hyper?.analysis.alignment ?? 1) }

    // MARK: Training

    public struct Output {
        public var xHat: Tensor
        /// One tensor per entropy model (y's, then z's).
        public var likelihoods: [Tensor]
    }

    /// Training (noise from `seed`) or evaluation (rounding) forward pass.
    public func forward(_ x: Tensor, training: Bool, seed: UInt64) throws -> Output {
        let y = try analysis.apply(x)
        var likelihoods: [Tensor] = []
        var condition: Tensor?
        if let hyper {
            let z = try hyper.analysis.apply(y)
            let (zHat, zLikelihoods) = try hyper.entropy.forward(z, condition: nil, training: training, seed: seed &* 2 &+ 1)
            likelihoods.append(zLikelihoods)
            condition = try hyper.synthesis.apply(zHat)
        }
        let (yHat, yLikelihoods) = try entropy.forward(y, condition: condition, training: training, seed: seed &* 2)
        likelihoods.insert(yLikelihoods, at: 0)
        return Output(xHat: try synthesis.apply(yHat), likelihoods: likelihoods)
    }

    /// The sum of the entropy models' auxiliary losses (nil when none has one).
    public func auxiliaryLoss() throws -> Tensor? {
        let losses = try [hyper?.entropy, entropy].compactMap { try $0?.auxiliaryLoss() }
        guard var total = losses.first else { return nil }
        for loss in losses.dropFirst() { total = try total + loss }
        return total
    }

    // MARK: Coding

    /// Encodes an image (gray and RGBA are converted to RGB: the models code
    /// three channels); the reconstruction is exactly what decode gives.
    public func encode(_ input: Image) throws -> ImageCodec.Encoded {
        let image = try input.channels == 3 ? input : input.convertedToRGB()
        return try GradientMode.withoutGradients {
            let shape = ImageCodec.paddedShape(width: image.width, height: image.height, channels: image.channels, alignment: alignment)
            let x = try Tensor(zeros: shape)
            x.withUnsafeMutableBufferPointer { ImageCodec.fillPlanes($0.baseAddress!, from: image, paddedShape: shape) }
            let session = CodingSession()
            let y = try analysis.apply(x)
            var condition: Tensor?
            if let hyper {
                let zHat = try hyper.entropy.encode(try hyper.analysis.apply(y), condition: nil, quantizer: quantizer, session: session)
                condition = try hyper.synthesis.apply(zHat)
            }
            let yHat = try entropy.encode(y, condition: condition, quantizer: quantizer, session: session)
            let reconstruction = try self.image(from: synthesis.apply(yHat), width: image.width, height: image.height, channels: image.channels)
            var streams = [ContainerStream(tag: ImageCodec.pipelineTag, bytes: Array(canonicalText.utf8))]
            for (index, bytes) in session.finishedStreams().enumerated() {
                streams.append(ContainerStream(tag: ImageCodec.streamTag(index), bytes: bytes))
            }
            let container = Container(modelID: modelID(), width: image.width, height: image.height, channels: image.channels,
                                      bitDepth: 8, streams: streams)
            return ImageCodec.Encoded(bytes: try container.serialized(), reconstruction: reconstruction)
        }
    }

    /// Decodes a file coded by this model (its identity must match).
    public func decode(_ bytes: [UInt8], source: String, maxPixels: Int = Image.maxPixels) throws -> Image {
        let container: Container
        do { container = try Container(parsing: bytes) } catch { throw LICError("\(source): \(error)") }
        guard container.width * container.height <= maxPixels else {
            throw LICError("\(source): the image is \(container.width)x\(container.height), more than the \(maxPixels) pixels allowed")
        }
        guard container.modelID == modelID() else {
            throw LICError("\(source): wrong model: the file was coded by model \(ImageCodec.hex(container.modelID)), this model is \(ImageCodec.hex(modelID()))")
        }
        let coded = try ImageCodec.codedStreams(of: container, source: source)
        return try GradientMode.withoutGradients {
            let xShape = ImageCodec.paddedShape(width: container.width, height: container.height, channels: container.channels,
                                                alignment: alignment)
            let yShape = try analysis.outputShape(for: xShape)
            let session = CodingSession(decoding: coded)
            do {
                var condition: Tensor?
                if let hyper {
                    let zHat = try hyper.entropy.decode(shape: try hyper.analysis.outputShape(for: yShape), condition: nil,
                                                        quantizer: quantizer, session: session)
                    condition = try hyper.synthesis.apply(zHat)
                }
                let yHat = try entropy.decode(shape: yShape, condition: condition, quantizer: quantizer, session: session)
                guard session.openedDecoderCount == coded.count, session.unconsumedStreams.isEmpty else {
                    throw LICError("corrupt data: the model read \(session.openedDecoderCount) of \(coded.count) stream(s) and did not end cleanly")
                }
                let xHat = try synthesis.apply(yHat)
                guard xHat.shape == xShape else { throw LICError("synthesis gives \(xHat.shape), expected \(xShape)") }
                return try image(from: xHat, width: container.width, height: container.height, channels: container.channels)
            } catch {
                throw LICError("\(source): cannot decode: \(error)")
            }
        }
    }

    private func image(from xHat: Tensor, width: Int, height: Int, channels: Int) throws -> Image {
        try xHat.withUnsafeBufferPointer {
            try ImageCodec.pixels(fromPlanes: $0.baseAddress!, planeShape: xHat.shape, width: width, height: height, channels: channels)
        }
    }
}
