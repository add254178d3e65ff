import ArgumentParser
import Foundation
import LICCore

struct Finetune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fine-tune a trained model's decoder on real quantized latents.",
        discussion: """
        The model codes each training crop as at inference - with its quantizer or the one --quantizer names \
        (rounding, RDO rounding, a trellis) - and the decoder-side transforms (--stages, default synthesis) \
        are trained on those latents with loss lambda * 255^2 * MSE; everything else is frozen, so the rate \
        does not change (train.jsonl reports the real coded bpp as the "rate" term). OUT becomes a model \
        directory whose descriptor names the quantizer; progress, checkpoints and --resume as lic train.
        """)

    @Option(help: "The trained model directory to start from.") var model: String?
    @Option(help: "Quantizer to code with: a component id (e.g. lic.quantizer.tcq) or a TOML file of quantizer sections ([quantizer], [hyper.entropy.quantizer]); default: the model's.")
    var quantizer: String?
    @Option(help: "Decoder-side stages to train, comma-separated.") var stages = "synthesis"
    @Option(help: "Weight of the distortion (only scales the loss).") var lambda = 0.0067
    @Option(help: "Learning rate.") var lr = 1e-5
    @OptionGroup var options: TrainingRunOptions

    func validate() throws {
        guard options.resume || model != nil else { throw ValidationError("give --model (or --resume)") }
    }

    func run() throws {
        var configuration = try options.configuration(pipeline: nil, lambda: lambda, learningRate: lr)
        if !options.resume, let model {
            configuration.finetune = Trainer.Finetune(base: model, quantizer: quantizer,
                                                      stages: stages.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        }
        try options.run(configuration, verb: "fine-tuning")
    }
}
