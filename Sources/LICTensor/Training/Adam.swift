import Foundation

/// Adam (Kingma & Ba) as `torch.optim.Adam` computes it, on raw float32
/// buffers, with per-name state.
///
/// For every element, at step t (after `beginStep()` made it t):
///
///     m = m + (1 - β1)·(g - m)                  // exp_avg.lerp_(grad, 1 - β1)
///     v = β2·v + (1 - β2)·g·g                   // exp_avg_sq.mul_(β2).addcmul_(grad, grad, 1 - β2)
///     denom = sqrt(v) / sqrt(1 - β2^t) + ε
///     p = p + (-lr / (1 - β1^t))·m / denom      // param.addcdiv_(exp_avg, denom, -step_size)
///
/// The element-wise work is float32 in exactly this order; the bias
/// corrections and the step size are computed in Double and rounded to Float
/// once, as PyTorch does with its Python-float scalars. The Float
/// hyperparameters are widened to Double through their shortest decimal form
/// (0.9 as Float becomes the Double 0.9, not 0.89999997...), so the Double
/// scalars are the ones PyTorch sees for the same literals. Results match
/// torch.optim.Adam to float rounding (PyTorch's vectorized lerp uses a fused
/// multiply-add, so the last bit can differ).
///
/// `weightDecay > 0` is decoupled weight decay, as `torch.optim.AdamW`:
/// before the update, `p = p·(1 - lr·weightDecay)`, and the gradient is left
/// alone (it is not L2 regularization added to the gradient, which is what
/// `torch.optim.Adam(weight_decay:)` does).
///
/// The step count t is shared by all parameters: call `beginStep()` once per
/// optimizer step, then `update` for each parameter. (PyTorch counts steps per
/// parameter; the two agree when every parameter is updated at every step.)
public final class Adam {
    public var learningRate: Float
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    /// Decoupled (AdamW) weight decay; 0 turns it off.
    public var weightDecay: Float

    private final class Moments {
        var m: [Float]
        var v: [Float]
        init(count: Int) {
            m = [Float](repeating: 0, count: count)
            v = [Float](repeating: 0, count: count)
        }
        init(m: [Float], v: [Float]) {
            self.m = m
            self.v = v
        }
    }

    private var moments: [String: Moments] = [:]
    private var step = 0
    private let beta1Double: Double
    private let beta2Double: Double
    /// `widen` of learningRate and weightDecay, recomputed when they change.
    private var widenedCache: (learningRate: UInt32, weightDecay: UInt32, values: (Double, Double))?

    private func widenedHyperparameters() -> (learningRate: Double, weightDecay: Double) {
        if let cache = widenedCache, cache.learningRate == learningRate.bitPattern,
           cache.weightDecay == weightDecay.bitPattern {
            return cache.values
        }
        let values = (Self.widen(learningRate), Self.widen(weightDecay))
        widenedCache = (learningRate.bitPattern, weightDecay.bitPattern, values)
        return values
    }

    public init(learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        beta1Double = Self.widen(beta1)
        beta2Double = Self.widen(beta2)
    }

    /// The number of `beginStep()` calls (including imported ones).
    public var stepCount: Int { step }

    /// Starts an optimizer step: increments the shared step count.
    public func beginStep() {
        step += 1
    }

    /// Updates one parameter in place from its gradient. State is created (zero)
    /// the first time `name` is seen; later calls must pass the same `count`.
    public func update(name: String, parameter: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>, count: Int) throws {
        guard step > 0 else {
            throw TensorError.invalidArgument("Adam.update('\(name)'): call beginStep() before the first update")
        }
        guard count >= 0 else {
            throw TensorError.invalidArgument("Adam.update('\(name)'): negative element count \(count)")
        }
        let state: Moments
        if let existing = moments[name] {
            guard existing.m.count == count else {
                throw TensorError.invalidArgument(
                    "Adam.update('\(name)'): \(count) elements, but its optimizer state has \(existing.m.count)")
            }
            state = existing
        } else {
            state = Moments(count: count)
            moments[name] = state
        }
        if count == 0 { return }

        let (lr, wd) = widenedHyperparameters()
        let t = Double(step)
        let biasCorrection1 = 1 - pow(beta1Double, t)
        let biasCorrection2 = 1 - pow(beta2Double, t)
        let stepSize = Float(-(lr / biasCorrection1))
        let biasCorrection2Sqrt = Float(biasCorrection2.squareRoot())
        let mWeight = Float(1 - beta1Double)  // lerp weight, < 0.5 for usual β1
        let vWeight = Float(1 - beta2Double)
        // Float(Double) as PyTorch rounds its Python-float scalars (the same
        // as beta2 and epsilon themselves but for rare double-rounding cases).
        let b2 = Float(beta2Double)
        let eps = Float(Self.widen(epsilon))

        if weightDecay != 0 {
            let decay = Float(1 - lr * wd)
            for i in 0..<count { parameter[i] = parameter[i] * decay }
        }

        // PyTorch's lerp: start + w·(end - start) for |w| < 0.5, else end - (end - start)·(1 - w).
        let smallWeight = abs(mWeight) < 0.5
        let oneMinusMWeight = 1 - mWeight
        state.m.withUnsafeMutableBufferPointer { mBuffer in
            state.v.withUnsafeMutableBufferPointer { vBuffer in
                let m = mBuffer.baseAddress!
                let v = vBuffer.baseAddress!
                if smallWeight {
                    for i in 0..<count {
                        let g = gradient[i]
                        m[i] = m[i] + mWeight * (g - m[i])
                    }
                } else {
                    for i in 0..<count {
                        let g = gradient[i]
                        m[i] = g - (g - m[i]) * oneMinusMWeight
                    }
                }
                for i in 0..<count {
                    let g = gradient[i]
                    let vi = v[i] * b2 + vWeight * g * g
                    v[i] = vi
                    // v >= 0 always, so magnitude changes nothing; it lets LLVM
                    // see that sqrt cannot set errno and vectorize the loop
                    // (a plain squareRoot() is a sqrtf libcall on Linux).
                    let denom = vi.magnitude.squareRoot() / biasCorrection2Sqrt + eps
                    parameter[i] = parameter[i] + stepSize * m[i] / denom
                }
            }
        }
    }

    /// Drops all per-parameter state and resets the step count.
    public func reset() {
        moments.removeAll()
        step = 0
    }

    /// State for checkpoints: tensors "adam/<name>/m" and "adam/<name>/v" (shape
    /// `[count]`) for every parameter seen, and metadata "adam.step".
    public func exportState() -> (tensors: [String: SafeTensorsFile.Tensor], metadata: [String: String]) {
        var tensors: [String: SafeTensorsFile.Tensor] = [:]
        for (name, state) in moments {
            tensors["adam/\(name)/m"] = SafeTensorsFile.Tensor(shape: [state.m.count], values: state.m)
            tensors["adam/\(name)/v"] = SafeTensorsFile.Tensor(shape: [state.v.count], values: state.v)
        }
        return (tensors, ["adam.step": String(step)])
    }

    /// Replaces all state with exported state. Tensors whose names do not start
    /// with "adam/" are ignored, so a whole checkpoint can be passed. Nothing
    /// changes when this throws.
    public func importState(tensors: [String: SafeTensorsFile.Tensor], metadata: [String: String]) throws {
        guard let stepText = metadata["adam.step"] else {
            throw TensorError.invalidArgument("Adam state: metadata 'adam.step' is missing")
        }
        guard let importedStep = Int(stepText), importedStep >= 0 else {
            throw TensorError.invalidArgument("Adam state: metadata 'adam.step' is '\(stepText)', not a non-negative integer")
        }
        var ms: [String: [Float]] = [:]
        var vs: [String: [Float]] = [:]
        for (key, tensor) in tensors where key.hasPrefix("adam/") {
            let isM = key.hasSuffix("/m")
            guard isM || key.hasSuffix("/v"), key.utf8.count >= "adam//m".utf8.count else {
                throw TensorError.invalidArgument("Adam state: unexpected tensor '\(key)' (want adam/<name>/m or adam/<name>/v)")
            }
            let name = String(key.dropFirst("adam/".count).dropLast(2))
            var expected: Int? = 1
            for d in tensor.shape {
                guard let e = expected, d >= 0 else { expected = nil; break }
                let (p, o) = e.multipliedReportingOverflow(by: d)
                expected = o ? nil : p
            }
            guard expected == tensor.values.count else {
                throw TensorError.invalidArgument(
                    "Adam state: tensor '\(key)' has shape \(tensor.shape) but \(tensor.values.count) values")
            }
            if isM { ms[name] = tensor.values } else { vs[name] = tensor.values }
        }
        var imported: [String: Moments] = [:]
        for (name, m) in ms {
            guard let v = vs[name] else {
                throw TensorError.invalidArgument("Adam state: 'adam/\(name)/m' has no matching 'adam/\(name)/v'")
            }
            guard v.count == m.count else {
                throw TensorError.invalidArgument(
                    "Adam state: 'adam/\(name)/m' has \(m.count) values but 'adam/\(name)/v' has \(v.count)")
            }
            imported[name] = Moments(m: m, v: v)
        }
        if let name = vs.keys.first(where: { ms[$0] == nil }) {
            throw TensorError.invalidArgument("Adam state: 'adam/\(name)/v' has no matching 'adam/\(name)/m'")
        }
        moments = imported
        step = importedStep
    }

    /// Float to Double through the shortest decimal that reads back as the
    /// same Float, so Float(0.9) widens to the Double 0.9 (the value a Python
    /// float literal would have).
    static func widen(_ x: Float) -> Double {
        guard x.isFinite else { return Double(x) }
        return Double(x.description) ?? Double(x)
    }
}
