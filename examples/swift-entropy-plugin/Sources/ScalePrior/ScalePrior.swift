import CLIC
import LICPluginKit

/// A learned scale prior: each latent channel c is a zero-mean Gaussian
/// with its own learned scale s_c = max(exp(log_scale_c), scale_bound), no
/// side information. P(y_hat) = Phi((0.5 - |y_hat|) / s) - Phi((-0.5 - |y_hat|) / s).
/// Training quantizes through the pipeline's quantizer's surrogate; coding
/// quantizes through its scope and codes with the host's Gaussian coder
/// (one table per ladder scale, built once per model).
///
/// Everything here goes through LICPluginKit: host tensors (so gradients
/// reach `log_scale`), the quantizer handle, the Gaussian coding service.
final class ScalePrior: LearnedEntropyModelComponent {
    static let schema: [ParamSpec] = [
        .int("channels", default: 192, range: 1...4096, "Latent channels M"),
        .float("scale_bound", default: 0.11, min: 1e-6, max: 10, "Lower bound of the scales"),
        .float("initial_scale", default: 4, min: 0.11, max: 256, "Every channel's scale before training"),
    ]

    let host: Host
    let channels: Int
    let scaleBound: Float
    /// [1, M, 1, 1]: broadcasts over batch and positions.
    let logScale: Tensor
    /// 64 scales log-spaced over 0.11 ... 256 (portable math: the same ladder on every machine).
    let tableScales: [Double] = (0..<64).map { Double(Float(PortableMath.exp(PortableMath.log(0.11) + (PortableMath.log(256) - PortableMath.log(0.11)) * Double($0) / 63))) }
    private var coder: GaussianCoder?

    init(params: Params, host: Host) throws {
        self.host = host
        channels = Int(try params.int("channels"))
        scaleBound = Float(try params.float("scale_bound"))
        logScale = try host.parameter("log_scale", shape: [1, channels, 1, 1], initializer: LIC_INIT_CONSTANT,
                                      a: Float(PortableMath.log(try params.float("initial_scale"))))
    }

    /// The scales [1, M, 1, 1] on the tape.
    func scales() throws -> Tensor { try logScale.exp().lowerBounded(scaleBound) }

    func forward(_ y: Tensor, condition: Tensor?, quantizer: QuantizerHandle, context: CallContext) throws -> EntropyOutputs {
        let shape = try y.shape
        guard shape.count == 4, shape[1] == channels else {
            throw PluginError(.invalidArgument, "example.entropy.scale-prior: latent \(shape) does not have \(channels) channels")
        }
        // The likelihoods see the quantizer's rate surrogate, the synthesis its reconstruction one (the same
        // noise unless the pipeline's quantizer is "mixed"; rounding outside training).
        let (rateInput, yHat) = try quantizer.surrogates(y, means: nil, context: context)
        let scales = try scales()
        return EntropyOutputs(yHat: yHat, likelihoods: try Tensor.gaussianCellLikelihood(centered: rateInput.abs(), scales: scales))
    }

    func auxiliaryLoss(context: CallContext) throws -> Tensor? { nil }

    func prepareCoding() throws {
        coder = try GaussianCoder(scales: tableScales, tailMass: 1e-9, host: host)
    }

    /// Each element's scale: its channel's, for a latent of `shape`.
    func elementScales(_ shape: [Int]) throws -> [Float] {
        let perChannel = try scales().floats()
        let plane = shape[2] * shape[3]
        var out: [Float] = []
        out.reserveCapacity(shape[0] * channels * plane)
        for _ in 0..<shape[0] {
            for c in 0..<channels { out += repeatElement(perChannel[c], count: plane) }
        }
        return out
    }

    func encode(_ y: Tensor, condition: Tensor?, quantizer: QuantizerHandle, context: CallContext,
                coding: CodingContext) throws -> EntropyOutputs {
        guard let coder else { throw PluginError(.invalidArgument, "example.entropy.scale-prior: encode before prepare_coding") }
        let shape = try y.shape
        let values = try y.floats(), scales = try elementScales(shape)
        var symbols = [Int32](repeating: 0, count: values.count)
        var yHat = [Float](repeating: 0, count: values.count)
        let scope = try quantizer.beginScope(context: context)
        // This example codes the quantizer's indices with the scales as they are: a stateless quantizer with step 1.
        guard scope.isStateless, try scope.step() == 1 else {
            throw PluginError(.unsupported, "example.entropy.scale-prior codes with a stateless quantizer of step 1 (lic.quantizer.uniform)")
        }
        try values.withUnsafeBufferPointer { v in
            try scales.withUnsafeBufferPointer { s in
                try symbols.withUnsafeMutableBufferPointer { q in
                    try yHat.withUnsafeMutableBufferPointer { try scope.quantize(v, scales: s, symbols: q, reconstruction: $0) }
                }
            }
        }
        let encoder = try coding.openEncoder()
        try symbols.withUnsafeBufferPointer { q in try scales.withUnsafeBufferPointer { try coder.encode(q, scales: $0, into: encoder) } }
        return EntropyOutputs(yHat: try Tensor.values(yHat, shape: shape, host: host))
    }

    func decode(shape: [Int], condition: Tensor?, quantizer: QuantizerHandle, context: CallContext,
                coding: CodingContext) throws -> EntropyOutputs {
        guard let coder else { throw PluginError(.invalidArgument, "example.entropy.scale-prior: decode before prepare_coding") }
        let scales = try elementScales(shape)
        var symbols = [Int32](repeating: 0, count: scales.count)
        let decoder = try coding.openDecoder()
        try symbols.withUnsafeMutableBufferPointer { q in try scales.withUnsafeBufferPointer { try coder.decode(into: q, scales: $0, from: decoder) } }
        var yHat = [Float](repeating: 0, count: scales.count)
        let scope = try quantizer.beginScope(context: context)
        try symbols.withUnsafeBufferPointer { q in try yHat.withUnsafeMutableBufferPointer { try scope.dequantize(q, into: $0) } }
        return EntropyOutputs(yHat: try Tensor.values(yHat, shape: shape, host: host))
    }
}

/// The library's one exported symbol: what `lic` calls when it loads the file.
@c public func lic_plugin_entry(_ abi: UInt32, _ host: UnsafePointer<lic_host_services>?) -> UnsafePointer<lic_plugin_library>? {
    PluginLibrary.entry(abi: abi, host: host, name: "Example: a learned scale prior", components: [
        .learnedEntropyModel(ScalePrior.self, id: "example.entropy.scale-prior",
                             description: "Zero-mean Gaussian per latent channel with a learned scale (no side information)",
                             params: ScalePrior.schema),
    ])
}
