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
        Checkpoints every --checkpoint-every steps and at the end; --resume continues from OUT.
        """)

    @Option(help: "Pipeline descriptor (e.g. examples/pipelines/mbt2018-mean.toml); not needed with --resume.")
    var pipeline: String?
    @Option(help: "Folder of training PNGs.") var data: String
    @Option(help: "Rate-distortion trade-off (e.g. 0.0067).") var lambda: Double
    @Option(help: "Model directory to write.") var out: String
    @Option(help: "Stop after this many steps.") var steps: Int?
    @Option(help: "Stop after this many seconds of training.") var timeBudget: Double?
    @Option(help: "Crops per batch.") var batch = 8
    @Option(help: "Crop size in pixels (a multiple of the model's alignment, 64 for hyperpriors).") var crop = 128
    @Option(help: "Learning rate of the main parameters.") var lr = 1e-4
    @Option(help: "Learning rate of the auxiliary parameters (quantiles).") var auxLr = 1e-3
    @Option(help: "Clip the gradient norm to this (0: no clipping).") var clip = 1.0
    @Option(help: "Learning-rate schedule: constant, step:EVERY:FACTOR or cosine:STEPS:MIN_FACTOR, optionally ',warmup:N'.")
    var schedule = "constant"
    @Option(help: "Log (progress line and train.jsonl) every N steps.") var logEvery = 10
    @Option(help: "Checkpoint every N steps.") var checkpointEvery = 500
    @Option(help: "After training, code the PNGs of this folder and report real bpp and PSNR.") var validate: String?
    @Option(help: "Seed of crops, flips and quantization noise.") var seed: UInt64 = 0
    @Flag(help: "Continue the training saved in --out.") var resume = false
    @OptionGroup var threadOptions: ThreadOptions

    func run() throws {
        try threadOptions.apply()
        var configuration = Trainer.Configuration(pipeline: pipeline, data: data, output: out, lambda: lambda)
        (configuration.steps, configuration.timeBudget) = (steps, timeBudget)
        (configuration.batch, configuration.crop) = (batch, crop)
        (configuration.learningRate, configuration.auxiliaryLearningRate) = (lr, auxLr)
        configuration.clip = clip > 0 ? clip : nil
        configuration.schedule = try LearningRateSchedule(parsing: schedule)
        (configuration.logEvery, configuration.checkpointEvery) = (max(1, logEvery), max(1, checkpointEvery))
        (configuration.resume, configuration.seed, configuration.validation) = (resume, seed, validate)
        let trainer = try Trainer(configuration)
        trainer.progress = { line in FileHandle.standardError.write(Data((line + "\n").utf8)) }
        FileHandle.standardError.write(Data("training \(trainer.model.descriptor.name) (\(trainer.model.store.all.count) parameter tensors) on \(data), \(Threads.count) thread(s)\n".utf8))
        try trainer.run()
        print("saved \(out) at step \(trainer.step)")
        if let validate {
            let report = try Evaluator.evaluate(model: trainer.model, folder: validate)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(report).write(to: URL(fileURLWithPath: out + "/validation.json"))
            print(String(format: "validation (%d images): %.4f bpp (real), PSNR %.2f dB", report.images.count, report.mean.bpp, report.mean.psnr))
        }
    }
}
