import Foundation
import LICTensor

/// One rate-distortion optimizer step of a codec, as `lic train` runs it
/// (and the train-step benchmark times it): for alternating regularizers
/// first a fitting step on their own parameters (the codec's tensors
/// detached), then the codec's step on lambda * 255^2 * MSE + bpp + the
/// weighted regularizer terms (alternating regularizers' parameters frozen),
/// then the auxiliary step. Loss terms are reported by name.
public final class TrainingStep {
    public struct Result: Sendable {
        public var loss: Double
        /// "rate" (bpp), "distortion" (MSE), and each regularizer's unweighted term.
        public var terms: [String: Double]
        public var auxiliaryLoss: Double?
    }

    public let model: Codec
    /// The lambda of a model with one rate.
    public let lambda: Double
    /// A variable-rate model's lambdas: each step trains one level with its lambda.
    public let rateLevels: RateLevels?
    public let clip: Double?
    public let optimizer: Adam
    public let auxiliaryOptimizer: Adam
    /// One optimizer per regularizer that has parameters of its own, by name.
    let regularizerOptimizers: [String: Adam]

    public init(model: Codec, lambda: Double, rateLevels: RateLevels? = nil, clip: Double?, optimizer: Adam, auxiliaryOptimizer: Adam) {
        (self.model, self.lambda, self.clip, self.optimizer, self.auxiliaryOptimizer) = (model, lambda, clip, optimizer, auxiliaryOptimizer)
        self.rateLevels = rateLevels
        var optimizers: [String: Adam] = [:]
        for regularizer in model.regularizers where model.store.all.contains(where: { $0.component == regularizer.parameterPrefix }) {
            optimizers[regularizer.name] = Adam(learningRate: Float(regularizer.learningRate))
        }
        regularizerOptimizers = optimizers
    }

    /// The lambda and context of a step at `level` (a variable-rate model's level; nil: the one rate).
    func context(step: Int, seed: UInt64, level: Int?) -> CallContext {
        var context = CallContext(mode: .train, seed: seed, step: step, lambda: lambda)
        if let level, let rateLevels {
            context.lambda = rateLevels.lambdas[level]
            context.rateLevel = Double(level)
        }
        return context
    }

    /// Trains on batch `x` [B, C, H, W] (values in [0, 1]), at rate level `level` of a variable-rate model.
    public func run(_ x: Tensor, step: Int, seed: UInt64, learningRate: Double, level: Int? = nil) throws -> Result {
        let pixels = Double(x.shape[0] * x.shape[2] * x.shape[3])
        optimizer.learningRate = Float(learningRate)
        model.store.zeroGradients()
        let context = context(step: step, seed: seed, level: level)
        let lambda = context.lambda
        let out = try model.forward(x, context: context)

        for regularizer in model.regularizers where regularizer.alternates {
            let detached = out.tensors.mapValues { $0.detached() }
            guard let fit = try regularizer.fitLoss(detached, context: context) else { continue }
            try fit.backward()
            try stepRegularizer(regularizer)
            model.store.zeroGradients()
        }

        let bits = try out.likelihoods.map { try $0.log().sum() }.reduce(Tensor(scalar: 0), +)
        let bpp = try bits * Float(-1 / (M_LN2 * pixels))
        let mse = try (out.xHat - x).squared().mean()
        var loss = try mse * Float(lambda * 255 * 255) + bpp
        var terms: [String: Double] = ["rate": Double(try bpp.scalarValue), "distortion": Double(try mse.scalarValue)]
        let frozen = model.regularizers.filter(\.alternates).map(\.parameterPrefix)
        frozen.forEach { model.store.setFrozen(true, component: $0) }
        defer { frozen.forEach { model.store.setFrozen(false, component: $0) } }
        for regularizer in model.regularizers {
            let term = try regularizer.loss(out.tensors, context: context)
            terms[regularizer.name] = Double(try term.scalarValue)
            loss = try loss + term * Float(regularizer.weight)
        }
        let lossValue = try loss.scalarValue
        guard lossValue.isFinite else {
            throw LICError("training diverged: the loss is \(lossValue) at step \(step + 1) (try a lower --lr or a smaller --lambda)")
        }
        try loss.backward()
        try model.store.step(.main, optimizer: optimizer, clipNorm: clip)
        for regularizer in model.regularizers where !regularizer.alternates { try stepRegularizer(regularizer) }
        var auxiliaryValue: Double?
        if let auxiliary = try model.auxiliaryLoss() {
            auxiliaryValue = Double(try auxiliary.scalarValue)
            try auxiliary.backward()
            try model.store.step(.auxiliary, optimizer: auxiliaryOptimizer)
        }
        model.weightsChanged()
        return Result(loss: Double(lossValue), terms: terms, auxiliaryLoss: auxiliaryValue)
    }

    /// Fine-tuning on real quantized latents: the encoder's side runs in
    /// encode mode (the pipeline's quantizer as at inference: rounding, RDO or
    /// a trellis; no gradients), then the decoder's transforms from those
    /// latents on the tape; loss lambda * 255^2 * MSE (the rate is fixed by
    /// the frozen encoder side and reported from the real coded bytes).
    public func runOnCodedLatents(_ x: Tensor, step: Int, seed: UInt64, learningRate: Double, level: Int? = nil) throws -> Result {
        let pixels = Double(x.shape[0] * x.shape[2] * x.shape[3])
        optimizer.learningRate = Float(learningRate)
        model.store.zeroGradients()
        let context = context(step: step, seed: seed, level: level)
        let lambda = context.lambda
        let (coded, session) = try model.encodePass(x, rateLevel: context.rateLevel)
        let bits = session.finishedStreams().reduce(0) { $0 + $1.count * 8 }
        let mse = try (model.synthesize(from: coded, context: context) - x).squared().mean()
        let loss = try mse * Float(lambda * 255 * 255)
        let lossValue = try loss.scalarValue
        guard lossValue.isFinite else { throw LICError("fine-tuning diverged: the loss is \(lossValue) at step \(step + 1) (try a lower --lr)") }
        try loss.backward()
        try model.store.step(.main, optimizer: optimizer, clipNorm: clip)
        model.weightsChanged()
        return Result(loss: Double(lossValue), terms: ["rate": Double(bits) / pixels, "distortion": Double(try mse.scalarValue)],
                      auxiliaryLoss: nil)
    }

    /// An optimizer step on a regularizer's own parameters (if it has any).
    private func stepRegularizer(_ regularizer: RegularizerNode) throws {
        guard let optimizer = regularizerOptimizers[regularizer.name] else { return }
        try model.store.step(.regularizer, optimizer: optimizer, component: regularizer.parameterPrefix)
    }
}
