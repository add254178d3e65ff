import LICPluginKit

/// q = round((x - mean) / step) (ties to even, as torch.round and the engine's
/// round kernel); x_hat = q * step + mean. In training it applies its
/// surrogate: additive U(-step/2, step/2) noise, or rounding around the means
/// with a straight-through gradient; evaluation rounds. Stateless: no scope.
final class UniformQuantizer: TrainableQuantizerComponent {
    static let schema: [ParamSpec] = [
        .float("step", default: 1.0, min: 1e-6, max: 1e6, "Quantization step size in latent units (learned entropy models are trained for 1)"),
        .enumeration("surrogate", ["noise", "ste"], default: "noise",
                     "Training surrogate: additive uniform noise, or rounding around the means with a straight-through gradient"),
    ]

    let step: Float
    let straightThrough: Bool
    let host: Host

    init(params: Params, host: Host) throws {
        step = Float(try params.float("step"))
        straightThrough = try params.string("surrogate") == "ste"
        self.host = host
    }

    func surrogate(_ y: Tensor, means: Tensor?, context: CallContext) throws -> Tensor {
        if context.isTraining && !straightThrough {
            return try y + Tensor.uniformNoise(try y.shape, seed: context.seed, low: -step / 2, high: step / 2, host: host)
        }
        let centered = try means.map { try y - $0 } ?? y
        let rounded = step == 1 ? try centered.roundedStraightThrough() : try (centered / step).roundedStraightThrough() * step
        return try means.map { try rounded + $0 } ?? rounded
    }

    func beginScope(context: CallContext) throws -> AnyObject? { nil }

    func quantize(_ batch: QuantizeBatch, scope: AnyObject?, context: CallContext) throws {
        let inverseStep = 1 / step
        for index in batch.values.indices {
            let mean = batch.means?[index] ?? 0
            let scaled = ((batch.values[index] - mean) * inverseStep).rounded(.toNearestOrEven)
            // Int32(exactly:) would trap on NaN; clamp into the coder's range instead.
            guard scaled.isFinite else {
                throw PluginError(.invalidArgument, "cannot quantize a non-finite value at index \(index)")
            }
            let symbol = Int32(max(-1e9, min(1e9, scaled)))
            batch.symbols[index] = symbol
            batch.reconstruction[index] = Float(symbol) * step + mean
        }
    }

    func dequantize(_ symbols: UnsafeBufferPointer<Int32>, means: UnsafeBufferPointer<Float>?,
                    into values: UnsafeMutableBufferPointer<Float>, scope: AnyObject?, context: CallContext) throws {
        for index in symbols.indices {
            values[index] = Float(symbols[index]) * step + (means?[index] ?? 0)
        }
    }

    func levels(first: Int32, count: Int, scope: AnyObject?) throws -> [Float] {
        (0..<count).map { Float(Int(first) + $0) * step }
    }
}
