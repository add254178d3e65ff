import CLIC
import LICPluginKit

/// Trellis-coded (dependent) quantization as in VVC (4 states) and ECM (8
/// states): two quantizers, Q0 with levels {0, +-2D, +-4D, ...} and Q1 with
/// {0, +-D, +-3D, ...}; index k in quantizer q reconstructs
/// (2k - sgn(k) q) D around the mean; the parity of k moves the state. The
/// encoder runs a Viterbi search over each batch (the order the entropy
/// model codes in) with cost (y - mu - t)^2 + lambda * bits, bits from the
/// entropy model's rate callback or else the Gaussian cell of the level
/// (cell bounds halfway to the neighbouring levels of the same quantizer).
/// The decoder follows the parities from state 0. Training uses the scalar
/// surrogate on the unit grid (TrainingSurrogate: noise, straight-through
/// rounding, or mixed).
final class TrellisQuantizer: TrainableQuantizerComponent {
    static let schema: [ParamSpec] = [
        .int("states", default: 8, range: 4...8, "Trellis states: 4 (VVC) or 8 (ECM)"),
        .float("step", default: 0.75, min: 1e-3, max: 100, "D: the union of Q0 and Q1 is the grid of step D (unit-step models: about 0.7-0.8; measure)"),
        .float("lambda", default: 0, min: 0, max: 1e6,
               "lambda_q of the cost (y - t)^2 + lambda_q * bits (latent units^2 per bit); 0: 3 x the model's training lambda, 0.02 if unknown"),
        TrainingSurrogate.parameter,
    ]

    /// next[s][parity of k] for 4 states (VVC) and 8 states (ECM).
    static let transitions4: [[Int]] = [[0, 2], [2, 0], [1, 3], [3, 1]]
    static let transitions8: [[Int]] = [[0, 2], [5, 7], [1, 3], [6, 4], [2, 0], [4, 6], [3, 1], [7, 5]]

    let states: Int
    let step: Double
    /// lambda_q as given (0: derived from the model's lambda, see effectiveLambda).
    let lambda: Double
    let trainingSurrogate: TrainingSurrogate
    let next: [[Int]]
    let host: Host

    /// The state of one latent's trellis path.
    final class Path {
        var state = 0
    }

    init(params: Params, host: Host) throws {
        states = Int(try params.int("states"))
        guard states == 4 || states == 8 else { throw PluginError(.invalidArgument, "lic.quantizer.tcq: states must be 4 or 8, got \(states)") }
        step = try params.float("step")
        lambda = try params.float("lambda")
        trainingSurrogate = try TrainingSurrogate(params)
        next = states == 4 ? Self.transitions4 : Self.transitions8
        self.host = host
    }

    /// The quantizer (0: Q0, 1: Q1) state `s` uses.
    @inline(__always) func quantizer(_ s: Int) -> Int { states == 4 ? s >> 1 : s & 1 }

    /// Reconstruction of index k in quantizer q, relative to the mean.
    @inline(__always) func level(_ k: Int32, _ q: Int) -> Double {
        Double(2 * Int(k) - (k > 0 ? q : k < 0 ? -q : 0)) * step
    }

    func surrogate(_ y: Tensor, means: Tensor?, context: CallContext) throws -> Tensor {
        try trainingSurrogate.apply(y, means: means, context: context, host: host)
    }

    func beginScope(context: CallContext) throws -> AnyObject? { Path() }

    private func path(_ scope: AnyObject?) throws -> Path {
        guard let path = scope as? Path else { throw PluginError(.invalidArgument, "lic.quantizer.tcq: no trellis scope") }
        return path
    }

    /// Indices worth trying for residual r in quantizer q (into `out`):
    /// zero and the levels just below and above r, each once.
    func candidates(_ r: Double, _ q: Int, into out: inout [Int32]) {
        out.removeAll(keepingCapacity: true)
        let m = max(-1e9, min(1e9, r / step))
        out.append(0)
        func add(_ k: Int32) { if !out.contains(k) { out.append(k) } }
        if q == 0 {
            let k = Int32((m / 2).rounded(.down))
            add(k)
            add(k + 1)
        } else {
            let odd = 2 * Int32(((m - 1) / 2).rounded(.down)) + 1   // the odd multiple of D at or below m
            for o in [odd, odd + 2] { add(o > 0 ? (o + 1) / 2 : (o - 1) / 2) }
        }
    }

    /// Measured on mbt2018-mean trained at lambda 0.0067 (benchmarks/quantizers, 8 states, D = 0.75):
    /// of lambda_q in {0, 0.01, 0.02, 0.05, 0.084, 0.2, 0.4}, 0.02 = 3 x lambda lay furthest above the rounding curve.
    static let lambdaPerModelLambda = 3.0, fallbackLambda = 0.02

    /// lambda_q for a coding call: the parameter, or 3 x the model's lambda (context.lambda), or 0.02.
    func effectiveLambda(_ context: CallContext) -> Double {
        if lambda > 0 { return lambda }
        return context.lambda > 0 ? Self.lambdaPerModelLambda * context.lambda : Self.fallbackLambda
    }

    /// Bits of index k in quantizer q for element i.
    func bits(_ batch: QuantizeBatch, _ i: Int, _ k: Int32, _ q: Int) -> Double {
        if let rate = batch.rate { return rate(i, k, UInt32(q)) }
        guard let scales = batch.scales else { return 0 }
        return GaussianCell.bits(level: level(k, q), below: level(k - 1, q), above: level(k + 1, q), scale: Double(max(scales[i], 1e-6)))
    }

    func quantize(_ batch: QuantizeBatch, scope: AnyObject?, context: CallContext) throws {
        let path = try path(scope)
        let n = batch.values.count
        guard n > 0 else { return }
        let lambda = effectiveLambda(context)
        var cost = [Double](repeating: .infinity, count: states)
        cost[path.state] = 0
        // Per element and reached state: the predecessor state and the index that led there.
        var previous = [UInt8](repeating: 0, count: n * states)
        var chosen = [Int32](repeating: 0, count: n * states)
        var updated = [Double](repeating: .infinity, count: states)
        // Per element and quantizer: the candidate indices and their costs, shared by the states using that quantizer.
        var tried: [[Int32]] = [[], []], costs: [[Double]] = [[], []]
        for q in 0..<2 { tried[q].reserveCapacity(3); costs[q].reserveCapacity(3) }
        for i in 0..<n {
            let mean = Double(batch.means?[i] ?? 0)
            let r = Double(batch.values[i]) - mean
            guard r.isFinite else { throw PluginError(.invalidArgument, "cannot quantize a non-finite value at index \(i)") }
            for q in 0..<2 {
                candidates(r, q, into: &tried[q])
                costs[q].removeAll(keepingCapacity: true)
                for k in tried[q] {
                    let d = r - level(k, q)
                    costs[q].append(d * d + lambda * bits(batch, i, k, q))
                }
            }
            for s in 0..<states { updated[s] = .infinity }
            for s in 0..<states where cost[s].isFinite {
                let q = quantizer(s)
                for (c, k) in tried[q].enumerated() {
                    let j = cost[s] + costs[q][c]
                    let t = next[s][Int(k & 1)]
                    if j < updated[t] {
                        updated[t] = j
                        previous[i * states + t] = UInt8(s)
                        chosen[i * states + t] = k
                    }
                }
            }
            swap(&cost, &updated)
        }
        var state = cost.indices.min { cost[$0] < cost[$1] }!
        path.state = state
        for i in stride(from: n - 1, through: 0, by: -1) {
            let k = chosen[i * states + state]
            let from = Int(previous[i * states + state])
            batch.symbols[i] = k
            batch.reconstruction[i] = Float(level(k, quantizer(from)) + Double(batch.means?[i] ?? 0))
            state = from
        }
    }

    func dequantize(_ symbols: UnsafeBufferPointer<Int32>, means: UnsafeBufferPointer<Float>?,
                    into values: UnsafeMutableBufferPointer<Float>, scope: AnyObject?, context: CallContext) throws {
        let path = try path(scope)
        for i in symbols.indices {
            values[i] = Float(level(symbols[i], quantizer(path.state)) + Double(means?[i] ?? 0))
            path.state = next[path.state][Int(symbols[i] & 1)]
        }
    }

    func levels(first: Int32, count: Int, scope: AnyObject?) throws -> [Float] {
        let q = quantizer(try path(scope).state)
        return (0..<count).map { Float(level(first &+ Int32($0), q)) }
    }

    func levelSet(scope: AnyObject?) -> UInt32 { UInt32((scope as? Path).map { quantizer($0.state) } ?? 0) }
}
