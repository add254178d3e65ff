import LICPluginKit

/// q = round((x - mean) / step) (ties to even, as torch.round and the engine's
/// round kernel); x_hat = q * step + mean.
final class UniformQuantizer: QuantizerComponent {
    static let schema: [ParamSpec] = [
        .float("step", default: 1.0, min: 1e-6, max: 1e6, "Quantization step size in latent units (learned models need 1)"),
    ]

    let step: Float

    init(params: Params, host: Host) throws {
        step = Float(try params.float("step"))
    }

    func quantize(_ values: UnsafeBufferPointer<Float>, means: UnsafeBufferPointer<Float>?,
                  into symbols: UnsafeMutableBufferPointer<Int32>) throws {
        let inverseStep = 1 / step
        for index in values.indices {
            let centered = values[index] - (means?[index] ?? 0)
            let scaled = (centered * inverseStep).rounded(.toNearestOrEven)
            // Int32(exactly:) would trap on NaN; clamp into the coder's range instead.
            guard scaled.isFinite else {
                throw PluginError(.invalidArgument, "cannot quantize a non-finite value at index \(index)")
            }
            symbols[index] = Int32(max(-1e9, min(1e9, scaled)))
        }
    }

    func dequantize(_ symbols: UnsafeBufferPointer<Int32>, means: UnsafeBufferPointer<Float>?,
                    into values: UnsafeMutableBufferPointer<Float>) throws {
        for index in symbols.indices {
            values[index] = Float(symbols[index]) * step + (means?[index] ?? 0)
        }
    }
}
