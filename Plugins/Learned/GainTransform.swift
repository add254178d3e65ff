import CLIC
import LICPluginKit

/// Gain units (Cui et al., CVPR 2021, "Asymmetric Gained Deep Image
/// Compression with Continuous Rate Adaptation"): variable rate in one model.
/// For each of `levels` rate levels a learned per-channel gain multiplies the
/// latent before quantization ([gain]) and a separate learned inverse gain
/// multiplies the decoded latent before synthesis ([gain] with inverse =
/// true). The rate level comes from the call context (training samples one
/// per batch; `lic encode --quality` picks it and the file records it).
///
/// Gains are stored as logarithms ("log_gain", [levels, channels]), so they
/// stay positive and the paper's exponential interpolation between adjacent
/// levels, g = g_a^(1-t) * g_b^t, is a linear one of the logarithms: a
/// fractional level gives a continuous rate.
final class GainTransform: DifferentiableTransformComponent {
    static let schema: [ParamSpec] = [
        .int("channels", default: 192, range: 1...4096, "Latent channels M"),
        .int("levels", default: 8, range: 2...64, "Rate levels (one gain vector each)"),
        .bool("inverse", default: false, "The inverse gain applied to the decoded latent"),
        .float("init_step", default: 0.3466, min: 0, max: 4,
               "Initial log-gain step between adjacent levels (ln(2)/2: the lambda ladder doubles per level, "
                   + "and the best quantization step scales as 1/sqrt(lambda)); the inverse gets the opposite sign"),
    ]

    let channels: Int
    let levels: Int
    let logGain: Tensor

    var alignment: Int { 1 }
    /// Per pixel: tiles need no context.
    var halo: Int? { 0 }

    init(params: Params, host: Host) throws {
        channels = Int(try params.int("channels"))
        levels = Int(try params.int("levels"))
        let inverse = try params.bool("inverse")
        let step = Float(try params.float("init_step")) * (inverse ? -1 : 1)
        let middle = Float(levels - 1) / 2
        var values: [Float] = []
        values.reserveCapacity(levels * channels)
        for level in 0..<levels {
            values += Array(repeating: step * (Float(level) - middle), count: channels)
        }
        logGain = try host.parameter("log_gain", shape: [levels, channels], initializer: LIC_INIT_VALUES, values: values)
    }

    func outputShape(for input: [Int]) throws -> [Int] {
        guard input.count == 4, input[1] == channels else {
            throw PluginError(.invalidArgument, "lic.transform.gain: input \(input) does not have \(channels) channels")
        }
        return input
    }

    /// The level a context asks for: its rate level, or the middle level when it names none.
    func level(_ context: CallContext) throws -> Double {
        let level = context.rateLevel ?? Double(levels - 1) / 2
        guard level.isFinite, level >= 0, level <= Double(levels - 1) else {
            throw PluginError(.invalidArgument, "lic.transform.gain: rate level \(level) is outside 0...\(levels - 1)")
        }
        return level
    }

    /// The gain vector [1, M, 1, 1] of a (possibly fractional) level.
    func gain(at level: Double) throws -> Tensor {
        let lower = min(Int(level), levels - 2)
        let t = Float(level - Double(lower))
        let a = try logGain.sliced(axis: 0, start: lower, length: 1)
        let b = try logGain.sliced(axis: 0, start: lower + 1, length: 1)
        // t == 0 or 1 exactly for integer levels: one row, so training's gradient reaches only that level.
        let mixed = t == 0 ? a : t == 1 ? b : try a * (1 - t) + b * t
        return try mixed.exp().reshaped([1, channels, 1, 1])
    }

    func apply(_ inputs: [Tensor], context: CallContext) throws -> Tensor {
        _ = try outputShape(for: try inputs[0].shape)
        return try inputs[0] * gain(at: level(context))
    }
}
