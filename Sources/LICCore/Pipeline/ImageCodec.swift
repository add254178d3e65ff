/// Encodes images into .lic containers with a pipeline and decodes them back.
///
/// The image (8-bit, values / 255) becomes x = [1, C, H', W'], padded by edge
/// replication to a multiple of the analysis transform's alignment; the
/// synthesis output is cropped back to H x W, rounded and clamped. The
/// container stores the canonical descriptor ("PIPE") and the entropy
/// model's streams ("S000", "S001", ...) in the order the model opened them.
public enum ImageCodec {
    public struct Encoded {
        public var bytes: [UInt8]
        /// Exactly what the decoder will produce.
        public var reconstruction: Image
    }

    static let pipelineTag = "PIPE"

    public static func encode(_ image: Image, with pipeline: Pipeline) throws -> Encoded {
        let x = try tensor(from: image, alignment: pipeline.analysis.alignment)
        let y = try HostTensor(shape: try pipeline.analysis.outputShape(for: x.shape))
        try pipeline.analysis.forward(x, into: y)
        let yHat = try HostTensor(shape: y.shape)
        let session = CodingSession()
        try pipeline.entropy.encode(y, yHat: yHat, quantizer: pipeline.quantizer, session: session)
        let reconstruction = try synthesize(yHat, pipeline: pipeline, like: image, paddedShape: x.shape)
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
    /// file embeds is loaded.
    public static func decode(_ bytes: [UInt8], source: String, pipeline given: Pipeline? = nil) throws -> (image: Image, pipeline: Pipeline) {
        let container: Container
        do { container = try Container(parsing: bytes) } catch { throw LICError("\(source): \(error)") }
        let pipeline = try given ?? embeddedPipeline(of: container, source: source)
        guard pipeline.modelID == container.modelID else {
            throw LICError("\(source): wrong model: the file was coded by model \(hex(container.modelID)), the pipeline given is \(hex(pipeline.modelID))")
        }
        let coded = container.streams.filter { $0.tag != pipelineTag }
        let image = try Image(width: container.width, height: container.height, channels: container.channels)
        let xShape = try paddedShape(of: image, alignment: pipeline.analysis.alignment)
        let yHat = try HostTensor(shape: try pipeline.analysis.outputShape(for: xShape))
        let session = CodingSession(decoding: coded.map(\.bytes))
        do {
            try pipeline.entropy.decode(yHat: yHat, quantizer: pipeline.quantizer, session: session)
        } catch {
            throw LICError("\(source): cannot decode: \(error)")
        }
        guard session.openedDecoderCount == coded.count, session.unconsumedStreams.isEmpty else {
            throw LICError("\(source): corrupt data: the model read \(session.openedDecoderCount) of \(coded.count) stream(s) and did not end cleanly")
        }
        return (try synthesize(yHat, pipeline: pipeline, like: image, paddedShape: xShape), pipeline)
    }

    private static func embeddedPipeline(of container: Container, source: String) throws -> Pipeline {
        guard let stream = container.streams.first(where: { $0.tag == pipelineTag }) else {
            throw LICError("\(source): the file does not embed its pipeline; name one with --pipeline")
        }
        guard let text = String(validating: stream.bytes, as: UTF8.self) else {
            throw LICError("\(source): the embedded pipeline is not UTF-8 text")
        }
        let descriptor = try PipelineDescriptor.parse(text, source: "\(source) (embedded pipeline)", baseDirectory: "/")
        return try Pipeline(descriptor: descriptor)
    }

    private static func synthesize(_ yHat: HostTensor, pipeline: Pipeline, like image: Image, paddedShape: [Int]) throws -> Image {
        let shape = try pipeline.synthesis.outputShape(for: yHat.shape)
        guard shape == paddedShape else {
            throw LICError("\(pipeline.synthesis.info.id): synthesis gives \(shape), the analysis input was \(paddedShape); are [analysis] and [synthesis] mirror images?")
        }
        let xHat = try HostTensor(shape: shape)
        try pipeline.synthesis.forward(yHat, into: xHat)
        return try pixels(from: xHat, like: image)
    }

    static func streamTag(_ index: Int) -> String {
        let digits = String(index)
        return "S" + String(repeating: "0", count: max(0, 3 - digits.count)) + digits
    }

    static func hex(_ bytes: [UInt8]) -> String {
        String(SHA256.hex(bytes).prefix(16))
    }

    static func paddedShape(of image: Image, alignment: Int) throws -> [Int] {
        func padded(_ n: Int) -> Int { (n + alignment - 1) / alignment * alignment }
        return [1, image.channels, padded(image.height), padded(image.width)]
    }

    /// x[0, c, i, j] = pixel(min(i, H-1), min(j, W-1), c) / 255.
    static func tensor(from image: Image, alignment: Int) throws -> HostTensor {
        let shape = try paddedShape(of: image, alignment: alignment)
        let tensor = try HostTensor(shape: shape)
        let (channels, height, width) = (image.channels, shape[2], shape[3])
        image.pixels.withUnsafeBufferPointer { pixels in
            for c in 0..<channels {
                let plane = tensor.storage.baseAddress! + c * height * width
                for i in 0..<height {
                    let row = min(i, image.height - 1) * image.width
                    for j in 0..<width {
                        plane[i * width + j] = Float(pixels[(row + min(j, image.width - 1)) * channels + c]) * (1 / 255)
                    }
                }
            }
        }
        return tensor
    }

    /// Crops to the image size, scales by 255, rounds and clamps to 8 bits.
    static func pixels(from tensor: HostTensor, like image: Image) throws -> Image {
        let (channels, height, width) = (image.channels, tensor.shape[2], tensor.shape[3])
        var pixels = [UInt8](repeating: 0, count: image.width * image.height * channels)
        pixels.withUnsafeMutableBufferPointer { out in
            for c in 0..<channels {
                let plane = tensor.storage.baseAddress! + c * height * width
                for i in 0..<image.height {
                    for j in 0..<image.width {
                        let value = (plane[i * width + j] * 255).rounded()
                        out[(i * image.width + j) * channels + c] = UInt8(value.isNaN ? 0 : max(0, min(255, value)))
                    }
                }
            }
        }
        return try Image(width: image.width, height: image.height, channels: channels, pixels: pixels)
    }
}
