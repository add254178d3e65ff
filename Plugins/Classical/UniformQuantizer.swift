import LICPluginKit

/// q = round((x - mean) / step) (ties to even, as torch.round and the engine's
/// round kernel); x_hat = q * step + mean. In training it applies its
/// surrogate (TrainingSurrogate: noise, straight-through rounding, or mixed);
/// evaluation rounds. Stateless: no scope.
/// With `rdo`, coding picks among floor, ceil and 0 the index minimizing
/// (y - mu - k step)^2 + lambda * bits(k), bits from the entropy model's rate
/// callback or else the Gaussian cell of the level (off by default).
final class UniformQuantizer: TrainableQuantizerComponent {
    static let schema: [ParamSpec] = [
        .float("step", default: 1.0, min: 1e-6, max: 1e6, "Quantization step size in latent units (learned entropy models are trained for 1)"),
        TrainingSurrogate.parameter,
        .bool("rdo", default: false, "Rate-distortion optimized rounding: floor, ceil or 0 by (y - t)^2 + lambda * bits"),
        .float("lambda", default: 0.1, min: 0, max: 1e6, "lambda of the RDO cost, in latent units squared per bit"),
    ]

    let step: Float
    let trainingSurrogate: TrainingSurrogate
    let rdo: Bool
    let lambda: Double
    let host: Host

    init(params: Params, host: Host) throws {
        step = Float(try params.float("step"))
        trainingSurrogate = try TrainingSurrogate(params)
        rdo = try params.bool("rdo")
        lambda = try params.float("lambda")
        self.host = host
    }

    func surrogate(_ y: Tensor, means: Tensor?, context: CallContext) throws -> Tensor {
        try trainingSurrogate.apply(y, means: means, step: step, context: context, host: host)
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
            var symbol = Int32(max(-1e9, min(1e9, scaled)))
            if rdo, batch.rate != nil || batch.scales != nil {
                symbol = bestIndex(batch, index, residual: Double(batch.values[index] - mean), rounded: symbol)
            }
            batch.symbols[index] = symbol
            batch.reconstruction[index] = Float(symbol) * step + mean
        }
    }

    /// Among floor, ceil and 0: the index of least (r - k step)^2 + lambda * bits(k).
    func bestIndex(_ batch: QuantizeBatch, _ i: Int, residual r: Double, rounded: Int32) -> Int32 {
        let below = Int32(max(-1e9, min(1e9, (r / Double(step)).rounded(.down))))
        var best = (index: rounded, cost: Double.infinity)
        for k in [below, below &+ 1, 0] {
            let t = Double(k) * Double(step)
            let bits: Double
            if let rate = batch.rate {
                bits = rate(i, k, 0)
            } else {
                bits = GaussianCell.bits(level: t, below: t - Double(step), above: t + Double(step), scale: Double(max(batch.scales![i], 1e-6)))
            }
            let cost = (r - t) * (r - t) + lambda * bits
            if cost < best.cost { best = (k, cost) }
        }
        return best.index
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
