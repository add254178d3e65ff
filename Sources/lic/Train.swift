import ArgumentParser
import Foundation
import LICCore
import LICTensor

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a learned model from a pipeline descriptor.",
        discussion: """
        Loss: lambda * 255^2 * MSE + bpp + the weighted terms of the descriptor's [[regularizer]] sections, \
        on random crops (with flips) of the PNGs in --data. \
        OUT becomes a model directory (model.toml + weights.safetensors, plus optimizer state, train.toml \
        and the regularizers' own parameters) that `lic encode/decode/eval --model OUT` use; \
        OUT/train.jsonl gets one JSON object per logged step, with every loss term by name under "terms". \
        Checkpoints every --checkpoint-every steps and at the end; --resume continues from OUT. \
        With --lambdas the model becomes variable-rate: each batch trains one rate level, drawn uniformly, \
        with its lambda (the pipeline needs stages that read the level, e.g. lic.transform.gain; see \
        examples/pipelines/mbt2018-mean-vr.toml), and `lic encode --quality 1...8` chooses the rate.
        """)

    @Option(help: "Pipeline descriptor (e.g. examples/pipelines/mbt2018-mean.toml); not needed with --resume.")
    var pipeline: String?
    @Option(help: "Rate-distortion trade-off (e.g. 0.0067) of a model with one rate.") var lambda: Double?
    @Option(help: ArgumentHelp("A variable-rate model's lambdas, one per rate level: 'standard', 'wide' or a comma-separated list.",
            discussion: "standard: \(RateLevels.standardLadder.map { "\($0)" }.joined(separator: ", ")) (CompressAI's qualities 1-8). wide: \(RateLevels.wideLadder.map { "\($0)" }.joined(separator: ", ")) (the shipped model's: about 0.1-1.5 bpp on Kodak)."))
    var lambdas: String?
    @Option(name: .customLong("init"), help: ArgumentHelp("Start from this model directory's weights instead of a fresh initialization.",
            discussion: "The pipeline must be the model's (e.g. its own model.toml); optimizer state and schedule start anew. Continues training a shipped model (models/default) on a machine that lacks the original run's optimizer state."))
    var initialModel: String?
    @Option(help: "Learning rate of the main parameters.") var lr = 1e-4
    @Option(help: "Learning rate of the auxiliary parameters (quantiles).") var auxLr = 1e-3
    @OptionGroup var options: TrainingRunOptions

    func validate() throws {
        guard (lambda == nil) != (lambdas == nil) else { throw ValidationError("give --lambda (one rate) or --lambdas (variable rate)") }
        guard initialModel == nil || !options.resume else { throw ValidationError("--init starts a new run; --resume continues one: give one of them") }
    }

    func run() throws {
        let levels = try lambdas.map(RateLevels.init(parsing:))
        var configuration = try options.configuration(pipeline: pipeline, lambda: lambda ?? levels!.lambdas[0], learningRate: lr)
        configuration.rateLevels = levels
        configuration.initialModel = initialModel
        configuration.auxiliaryLearningRate = auxLr
        try options.run(configuration, verb: "training")
    }
}
