import ArgumentParser
import Foundation
import LICCore
import LICTensor

/// The options `lic train` and `lic finetune` share, and running a Trainer
/// with them: progress on stderr, the model directory, validation.
struct TrainingRunOptions: ParsableArguments {
    @Option(help: "Folder of training PNGs.") var data: String
    @Option(help: "Model directory to write.") var out: String
    @Option(help: "Stop after this many steps.") var steps: Int?
    @Option(help: "Stop after this many seconds of training.") var timeBudget: Double?
    @Option(help: "Crops per batch.") var batch = 8
    @Option(help: ArgumentHelp("Crop size in pixels (a multiple of the model's alignment, 64 for hyperpriors).",
                               discussion: "Hyperprior models want 256 or more: at 128 their hyper-latent is 2x2 and almost every position sits on a border (measured on Kodak: 28% more bits than 256 at the same pixels per step, e.g. --crop 256 --batch 2 instead of 128 x 8)."))
    var crop = 128
    @Option(help: ArgumentHelp("Down-scale each crop by a factor drawn uniformly from MIN:MAX (or one factor), 1/16 <= MIN <= MAX <= 1, by area averaging.",
                               discussion: "Shows large training photos at the scale of smaller ones (Kodak's 768x512 from 1276x850 photos: about 0.6); 1 (the default) crops the pixels as they are.",
                               valueName: "MIN:MAX"))
    var downscale = "1"
    @Option(help: "Clip the gradient norm to this (0: no clipping).") var clip = 1.0
    @Option(help: "Learning-rate schedule: constant, step:EVERY:FACTOR, cosine:STEPS:MIN_FACTOR or cosine-time:SECONDS:MIN_FACTOR (over seconds of training: anneals by a deadline), optionally ',warmup:N'.")
    var schedule = "constant"
    @Option(help: "Log (progress line and train.jsonl) every N steps.") var logEvery = 10
    @Option(help: "Checkpoint every N steps.") var checkpointEvery = 500
    @Option(help: "After training, code the PNGs of this folder and report real bpp and PSNR.") var validate: String?
    @Option(help: "Seed of crops, flips and quantization noise.") var seed: UInt64 = 0
    @Flag(help: "Continue the run saved in --out.") var resume = false
    @OptionGroup var threadOptions: ThreadOptions

    func configuration(pipeline: String?, lambda: Double, learningRate: Double) throws -> Trainer.Configuration {
        try threadOptions.apply()
        var configuration = Trainer.Configuration(pipeline: pipeline, data: data, output: out, lambda: lambda)
        (configuration.steps, configuration.timeBudget) = (steps, timeBudget)
        (configuration.batch, configuration.crop, configuration.learningRate) = (batch, crop, learningRate)
        configuration.clip = clip > 0 ? clip : nil
        configuration.downscale = try Self.scales(parsing: downscale)
        configuration.schedule = try LearningRateSchedule(parsing: schedule)
        (configuration.logEvery, configuration.checkpointEvery) = (max(1, logEvery), max(1, checkpointEvery))
        (configuration.resume, configuration.seed, configuration.validation) = (resume, seed, validate)
        return configuration
    }

    /// "F" or "MIN:MAX", factors in (0, 1].
    static func scales(parsing text: String) throws -> ClosedRange<Double> {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard (1...2).contains(parts.count), let low = parts.first!, let high = parts.last!,
              low >= ImageFolder.smallestScale, low <= high, high <= 1 else {
            throw ValidationError("--downscale '\(text)': give a factor or MIN:MAX with 1/16 <= MIN <= MAX <= 1 (e.g. 0.5:1)")
        }
        return low...high
    }

    func run(_ configuration: Trainer.Configuration, verb: String) throws {
        let trainer = try Trainer(configuration)
        trainer.progress = { line in FileHandle.standardError.write(Data((line + "\n").utf8)) }
        FileHandle.standardError.write(Data("\(verb) \(trainer.model.descriptor.name) (\(trainer.model.store.trainable(.main).count) trained parameter tensors) on \(data), \(Threads.count) thread(s)\n".utf8))
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
