import LICCore
import LICTensor

/// One decode harness: the input is a `.lic` file whose checksums (and, for
/// a learned pipeline, model id) are repaired before decoding, so that every
/// mutation reaches the container's limits, the embedded pipeline and the
/// entropy decoders. Decoding may fail; it must never crash, hang or
/// allocate without bound.
public final class DecodeHarness: @unchecked Sendable {
    /// Fuzzed headers declare any size: decode at most 64 x 64 pixels' worth
    /// (what `decode --max-pixels` does for untrusted input), so that one
    /// input costs milliseconds.
    public static let maxPixels = 64 * 64

    public let name: String
    public let codec: Codec
    /// Files carry the pipeline (a weightless codec) rather than a model id only.
    public let embedsPipeline: Bool
    let modelID: [UInt8]

    public init(name: String, codec: Codec) {
        Threads.set(1)
        self.name = name
        self.codec = codec
        embedsPipeline = !codec.hasWeights
        modelID = Array(codec.modelID().prefix(Container.modelIDSize))
    }

    public convenience init(_ pipeline: FuzzPipeline) {
        do { self.init(name: pipeline.rawValue, codec: try pipeline.makeCodec()) } catch { setupFailed("\(pipeline.rawValue): \(error)") }
    }

    /// The input as the harness decodes it.
    public func repaired(_ input: [UInt8]) -> [UInt8] {
        var bytes = input
        // A weightless file's id is the hash of its embedded pipeline: left as is.
        ContainerRepair.repair(&bytes, modelID: embedsPipeline ? nil : modelID)
        return bytes
    }

    /// Decodes `bytes` as given: the image, or the error.
    /// A weightless codec's file decodes with the pipeline it embeds (as `lic decode` does).
    public func decode(_ bytes: [UInt8], maxPixels: Int = DecodeHarness.maxPixels) -> Result<Image, any Error> {
        Result {
            embedsPipeline
                ? try Codec.decode(bytes, source: "fuzz.lic", maxPixels: maxPixels).image
                : try codec.decode(bytes, source: "fuzz.lic", maxPixels: maxPixels)
        }
    }

    public func run(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
        _ = decode(repaired(fuzzBytes(data, size)))
        return 0
    }

    /// A valid file of `image`, for seed corpora.
    public func encode(_ image: Image) throws -> [UInt8] { try codec.encode(image).bytes }
}
