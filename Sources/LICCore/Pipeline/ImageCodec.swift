/// Encodes images into .lic containers with a pipeline and decodes them back.
///
/// The image (8-bit, values / 255) becomes x = [1, C, H', W'], padded by edge
/// replication to a multiple of the analysis transform's alignment; stages
/// then pass named tensors (x -> y -> y_hat -> x_hat, see
/// PipelineDescriptor.Role); x_hat is cropped back to H x W, rounded and
/// clamped. The container stores the canonical descriptor ("PIPE") first,
/// then the entropy model's streams ("S000", "S001", ...) in the order the
/// model opened them.
public enum ImageCodec {
    public struct Encoded {
        public var bytes: [UInt8]
        /// Exactly what the decoder will produce.
        public var reconstruction: Image
    }

    static let pipelineTag = "PIPE"

    public static func encode(_ image: Image, with pipeline: Pipeline) throws -> Encoded {
        var tensors = TensorEnvironment()
        tensors["x"] = try tensor(from: image, alignment: pipeline.analysis.alignment)
        let session = CodingSession()
        for stage in pipeline.stages {
            switch stage.role {
            case .analysis, .synthesis:
                try tensors.apply(stage, pipeline.transform(for: stage.role))
            case .entropy:
                let y = try tensors.input(0, of: stage)
                let yHat = try HostTensor(shape: y.shape)
                try pipeline.entropy.encode(y, yHat: yHat, quantizer: pipeline.quantizer, session: session)
                tensors[stage.outputs[0]] = yHat
            case .quantizer, .hyperAnalysis, .hyperEntropy, .hyperSynthesis:
                continue  // the quantizer serves the entropy model; codec pipelines have no hyperprior (Pipeline.init)
            }
        }
        let reconstruction = try pixels(from: tensors.final("x_hat", shape: tensors["x"]!.shape), width: image.width,
                                        height: image.height, channels: image.channels)
        var streams = [ContainerStream(tag: pipelineTag, bytes: Array(pipeline.canonicalText.utf8))]
        for (index, bytes) in session.finishedStreams().enumerated() {
            streams.append(ContainerStream(tag: streamTag(index), bytes: bytes))
        }
        let container = Container(modelID: pipeline.modelID, width: image.width, height: image.height,
                                  channels: image.channels, bitDepth: 8, streams: streams)
        return Encoded(bytes: try container.serialized(), reconstruction: reconstruction)
    }

    /// Decodes `bytes` (named `source` in messages). With `pipeline`, the
    /// file must have been coded by that model; without, the pipeline the
    /// file embeds is loaded (built from plugins already on the search path:
    /// an embedded descriptor cannot name plugin files).
    /// Memory use is proportional to width x height, bounded by `maxPixels`
    /// (at most Image.maxPixels): a service decoding untrusted files can
    /// lower it before anything is allocated.
    public static func decode(_ bytes: [UInt8], source: String, pipeline given: Pipeline? = nil,
                              maxPixels: Int = Image.maxPixels) throws -> (image: Image, pipeline: Pipeline) {
        let container: Container
        do { container = try Container(parsing: bytes) } catch { throw LICError("\(source): \(error)") }
        guard container.width * container.height <= maxPixels else {
            throw LICError("\(source): the image is \(container.width)x\(container.height), more than the \(maxPixels) pixels allowed")
        }
        let coded = try codedStreams(of: container, source: source)
        let pipeline = try given ?? embeddedPipeline(of: container, source: source)
        guard pipeline.modelID == container.modelID else {
            throw LICError("\(source): wrong model: the file was coded by model \(hex(container.modelID)), the pipeline given is \(hex(pipeline.modelID))")
        }
        // Geometry was checked by the container (Image.maxPixels bounds every allocation below).
        let xShape = paddedShape(width: container.width, height: container.height, channels: container.channels,
                                 alignment: pipeline.analysis.alignment)
        var tensors = TensorEnvironment()
        let session = CodingSession(decoding: coded)
        for stage in pipeline.stages {
            switch stage.role {
            case .entropy:
                let yHat = try HostTensor(shape: try pipeline.analysis.outputShape(for: xShape))
                do {
                    try pipeline.entropy.decode(yHat: yHat, quantizer: pipeline.quantizer, session: session)
                } catch {
                    throw LICError("\(source): cannot decode: \(error)")
                }
                guard session.openedDecoderCount == coded.count, session.unconsumedStreams.isEmpty else {
                    throw LICError("\(source): corrupt data: the model read \(session.openedDecoderCount) of \(coded.count) stream(s) and did not end cleanly")
                }
                tensors[stage.outputs[0]] = yHat
            case .synthesis:
                try tensors.apply(stage, pipeline.synthesis)
            case .analysis, .quantizer, .hyperAnalysis, .hyperEntropy, .hyperSynthesis:
                continue  // the encoder's side / used by the entropy model / none in codec pipelines
            }
        }
        let image = try pixels(from: tensors.final("x_hat", shape: xShape), width: container.width,
                               height: container.height, channels: container.channels)
        return (image, pipeline)
    }

    /// The entropy streams: PIPE first (at most once), then S000, S001, ... in order.
    static func codedStreams(of container: Container, source: String) throws -> [[UInt8]] {
        var streams = container.streams[...]
        if streams.first?.tag == pipelineTag { streams = streams.dropFirst() }
        for (index, stream) in streams.enumerated() where stream.tag != streamTag(index) {
            throw LICError("\(source): unexpected stream '\(stream.tag)' at position \(index + 1) (expected '\(streamTag(index))')")
        }
        return streams.map(\.bytes)
    }

    private static func embeddedPipeline(of container: Container, source: String) throws -> Pipeline {
        guard let stream = container.streams.first, stream.tag == pipelineTag else {
            throw LICError("\(source): the file does not embed its pipeline; name one with --pipeline")
        }
        guard let text = String(validating: stream.bytes, as: UTF8.self) else {
            throw LICError("\(source): the embedded pipeline is not UTF-8 text")
        }
        // Parsed as embedded: no `plugins` key, so a file can never make us load a library.
        let descriptor = try PipelineDescriptor.parse(text, source: "\(source) (embedded pipeline)", baseDirectory: nil)
        let pipeline = try Pipeline(descriptor: descriptor)
        guard pipeline.canonicalText == text else {
            throw LICError("\(source): the embedded pipeline is not in canonical form (damaged or forged)")
        }
        return pipeline
    }

    static func streamTag(_ index: Int) -> String {
        let digits = String(index)
        return "S" + String(repeating: "0", count: max(0, 3 - digits.count)) + digits
    }

    static func hex(_ bytes: [UInt8]) -> String {
        String(SHA256.hex(bytes).prefix(16))
    }

    static func paddedShape(width: Int, height: Int, channels: Int, alignment: Int) -> [Int] {
        func padded(_ n: Int) -> Int { (n + alignment - 1) / alignment * alignment }
        return [1, channels, padded(height), padded(width)]
    }

    static func tensor(from image: Image, alignment: Int) throws -> HostTensor {
        let shape = paddedShape(width: image.width, height: image.height, channels: image.channels, alignment: alignment)
        let tensor = try HostTensor(shape: shape)
        fillPlanes(tensor.storage.baseAddress!, from: image, paddedShape: shape)
        return tensor
    }

    /// planes[0, c, i, j] = pixel(min(i, H-1), min(j, W-1), c) / 255 (edge replication).
    static func fillPlanes(_ planes: UnsafeMutablePointer<Float>, from image: Image, paddedShape shape: [Int]) {
        let (channels, height, width) = (image.channels, shape[2], shape[3])
        image.pixels.withUnsafeBufferPointer { pixels in
            for c in 0..<channels {
                let plane = planes + c * height * width
                for i in 0..<height {
                    let row = min(i, image.height - 1) * image.width
                    for j in 0..<width {
                        plane[i * width + j] = Float(pixels[(row + min(j, image.width - 1)) * channels + c]) * (1 / 255)
                    }
                }
            }
        }
    }

    static func pixels(from tensor: HostTensor, width: Int, height: Int, channels: Int) throws -> Image {
        try pixels(fromPlanes: tensor.storage.baseAddress!, planeShape: tensor.shape, width: width, height: height, channels: channels)
    }

    /// Crops planes [1, C, H', W'] to width x height, scales by 255, rounds and clamps to 8 bits.
    static func pixels(fromPlanes planes: UnsafePointer<Float>, planeShape: [Int], width: Int, height: Int, channels: Int) throws -> Image {
        let (planeHeight, planeWidth) = (planeShape[2], planeShape[3])
        var pixels = [UInt8](repeating: 0, count: width * height * channels)
        pixels.withUnsafeMutableBufferPointer { out in
            for c in 0..<channels {
                let plane = planes + c * planeHeight * planeWidth
                for i in 0..<height {
                    for j in 0..<width {
                        let value = (plane[i * planeWidth + j] * 255).rounded()
                        out[(i * width + j) * channels + c] = UInt8(value.isNaN ? 0 : max(0, min(255, value)))
                    }
                }
            }
        }
        return try Image(width: width, height: height, channels: channels, pixels: pixels)
    }
}

/// The named tensors flowing between stages during one encode or decode.
struct TensorEnvironment {
    private var tensors: [String: HostTensor] = [:]

    subscript(name: String) -> HostTensor? {
        get { tensors[name] }
        set { tensors[name] = newValue }
    }

    func input(_ index: Int, of stage: Pipeline.Stage) throws -> HostTensor {
        let name = stage.inputs[index]
        guard let tensor = tensors[name] else {
            throw LICError("[\(stage.role.rawValue)] needs tensor '\(name)', which no earlier stage produced")
        }
        return tensor
    }

    /// Runs a transform stage: its first input to its first output.
    mutating func apply(_ stage: Pipeline.Stage, _ transform: TransformInstance) throws {
        let input = try input(0, of: stage)
        let output = try HostTensor(shape: try transform.outputShape(for: input.shape))
        try transform.forward(input, into: output)
        tensors[stage.outputs[0]] = output
    }

    /// The pipeline's output, which must have the padded input's shape.
    func final(_ name: String, shape: [Int]) throws -> HostTensor {
        guard let tensor = tensors[name] else { throw LICError("the pipeline produced no '\(name)'") }
        guard tensor.shape == shape else {
            throw LICError("synthesis gives \(tensor.shape), the analysis input was \(shape); are [analysis] and [synthesis] mirror images?")
        }
        return tensor
    }
}
