import LICTensor

/// Encoding and decoding one latent with an entropy model, as the codec does
/// (CodingSession, the call context), for the entropy-model cases.
struct EntropyCoding {
    /// What the condition input looks like: none, [N, 2C, H, W] (scales and
    /// means) or [N, C, H, W] (scales), found by probing.
    enum Layout: Int, CaseIterable {
        case none = 0, double = 2, single = 1
        var text: String { self == .none ? "no condition" : "condition [N, \(rawValue)C, H, W]" }
    }

    let node: EntropyNode
    let quantizer: QuantizerNode
    let layout: Layout
    let channels: Int

    struct Coded {
        var yHat: [Float]
        var streams: [[UInt8]]
    }

    func shape(_ height: Int, _ width: Int, channels: Int? = nil) -> [Int] { [1, channels ?? self.channels, height, width] }

    /// The condition for a latent of `shape`: positive values, usable as scales and as means.
    func condition(for shape: [Int], layout: Layout? = nil) throws -> Tensor? {
        let layout = layout ?? self.layout
        guard layout != .none else { return nil }
        return try CheckData.tensor([shape[0], shape[1] * layout.rawValue, shape[2], shape[3]], seed: 11, in: 0.2..<3)
    }

    static func context(_ mode: CallContext.Mode, _ shape: [Int]) -> CallContext {
        var context = CallContext(mode: mode, seed: 5)
        (context.width, context.height) = shape.count == 4 ? (shape[3], shape[2]) : (0, 0)
        return context
    }

    func encode(_ y: Tensor, condition: Tensor?) throws -> Coded {
        try GradientMode.withoutGradients {
            let session = CodingSession()
            let result = try node.encode(y, condition: condition, quantizer: quantizer, session: session, context: Self.context(.encode, y.shape))
            guard result.yHat.shape == y.shape else {
                throw CheckFailure("encode gave y_hat \(CheckData.shapeText(result.yHat.shape)) for y \(CheckData.shapeText(y.shape))")
            }
            return Coded(yHat: result.yHat.values, streams: session.finishedStreams())
        }
    }

    /// Decodes `streams`; every stream must be read, each to its end (unless
    /// they were damaged on purpose: then any outcome but a crash will do).
    func decode(_ streams: [[UInt8]], shape: [Int], condition: Tensor?, damaged: Bool = false) throws -> [Float] {
        try GradientMode.withoutGradients {
            let session = CodingSession(decoding: streams, segmented: true)
            let result = try node.decode(shape: shape, condition: condition, quantizer: quantizer, session: session, context: Self.context(.decode, shape))
            if damaged { return result.yHat.values }
            guard session.openedDecoderCount == streams.count else {
                throw CheckFailure("decode read \(session.openedDecoderCount) of the \(streams.count) streams encode wrote")
            }
            if let unread = session.unconsumedStreams().first { throw CheckFailure("decode left stream #\(unread + 1) partly unread") }
            return result.yHat.values
        }
    }

    /// Encodes y, decodes the streams and requires the decoder's y_hat to be
    /// the encoder's bit for bit.
    @discardableResult
    func roundTrip(_ y: Tensor, condition: Tensor?) throws -> (coded: Coded, summary: String) {
        let coded = try encode(y, condition: condition)
        let decoded = try decode(coded.streams, shape: y.shape, condition: condition)
        try CheckData.expectIdentical(coded.yHat, decoded, "decoded y_hat vs the encoder's y_hat")
        let bytes = coded.streams.map(\.count).reduce(0, +)
        return (coded, "\(CheckData.shapeText(y.shape)), \(layout.text): \(coded.streams.count) stream(s), \(bytes) bytes, decoded y_hat identical")
    }

    /// Tries channel counts and condition layouts until encode accepts one
    /// and the round trip agrees; the first refusal-free configuration wins.
    static func probe(_ subject: CheckSubject, _ params: ParamSetStorage, values: [String: ParamValue]) throws -> EntropyCoding {
        let node = try subject.entropyModel(params)
        let quantizer = try subject.defaultQuantizer()
        var last = ""
        for channels in subject.channelCandidates(values) {
            for layout in Layout.allCases {
                let coding = EntropyCoding(node: node, quantizer: quantizer, layout: layout, channels: channels)
                let shape = coding.shape(4, 4)
                let y = try CheckData.tensor(shape, seed: 3, in: -6..<6)
                do {
                    _ = try coding.encode(y, condition: try coding.condition(for: shape))
                    return coding
                } catch {
                    guard Expect.isProperRefusal(error) else { throw error }
                    last = "\(error)"
                }
            }
        }
        throw NoAcceptedInput(detail: "encode refused [1, C, 4, 4] for every C and condition tried (last: \(last))")
    }
}
