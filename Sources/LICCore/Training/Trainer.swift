import Foundation
import LICTensor

/// `lic train`: rate-distortion training of a learned model on random crops,
/// loss = lambda * 255^2 * MSE + bpp (x in [0, 1]), Adam on the main
/// parameters with gradient clipping and a learning-rate schedule, a second
/// Adam on the auxiliary ones; checkpoints to the model directory (resumable),
/// a progress line, and OUT/train.jsonl.
public final class Trainer {
    public struct Configuration: Sendable {
        public var pipeline: String?          // nil when resuming
        public var data: String
        public var output: String
        /// The lambda of a model with one rate (unused with `rateLevels`).
        public var lambda: Double
        /// A variable-rate model: each step trains one level, drawn uniformly, with its lambda.
        public var rateLevels: RateLevels?
        public var steps: Int?
        public var timeBudget: Double?
        public var batch = 8
        public var crop = 128
        /// Down-scaling factors drawn per crop (see ImageFolder.batch); 1...1: none.
        public var downscale: ClosedRange<Double> = 1...1
        public var learningRate = 1e-4
        public var auxiliaryLearningRate = 1e-3
        public var clip: Double? = 1.0
        public var schedule = LearningRateSchedule()
        public var logEvery = 10
        public var checkpointEvery = 500
        public var resume = false
        public var validation: String?
        public var seed: UInt64 = 0
        /// Fine-tuning a trained model on real quantized latents instead of training from a descriptor.
        public var finetune: Finetune?
        /// A model directory whose weights a new run starts from (the same pipeline), instead of a fresh
        /// initialization: new optimizer state and schedule (training continued on another machine).
        public var initialModel: String?

        public init(pipeline: String?, data: String, output: String, lambda: Double) {
            self.pipeline = pipeline
            self.data = data
            self.output = output
            self.lambda = lambda
        }
    }

    /// `lic finetune`: start from model directory `base`, code with
    /// `quantizer` (a TOML file of quantizer sections, or a component id;
    /// nil keeps the model's), train only `stages` (decoder-side transforms).
    public struct Finetune: Sendable {
        public var base: String
        public var quantizer: String?
        public var stages: [String]

        public init(base: String, quantizer: String?, stages: [String]) {
            (self.base, self.quantizer, self.stages) = (base, quantizer, stages)
        }
    }

    public struct StepRecord: Codable, Sendable {
        public var step: Int
        public var elapsed_s: Double
        public var loss: Double
        public var bpp: Double
        public var psnr: Double
        public var mse: Double
        public var aux_loss: Double?
        public var learning_rate: Double
        /// The step's lambda, and for a variable-rate model its rate level.
        public var lambda: Double
        public var rate_level: Int?
        /// Each term of the loss by name: "rate" (bpp), "distortion" (MSE), and every regularizer's unweighted value.
        public var terms: [String: Double]
    }

    public let configuration: Configuration
    public let model: Codec
    /// Seconds trained before this run (restored on resume).
    private var elapsedBefore = 0.0
    let images: ImageFolder
    let stepper: TrainingStep
    var optimizer: Adam { stepper.optimizer }
    var auxiliaryOptimizer: Adam { stepper.auxiliaryOptimizer }
    public private(set) var step = 0
    /// Progress lines (the CLI prints them to stderr).
    public var progress: (String) -> Void = { _ in }

    static let mainState = "optimizer.safetensors"
    static let auxiliaryState = "optimizer-aux.safetensors"
    static let log = "train.jsonl"
    /// The descriptor the run started from (with its [[regularizer]] sections, which model.toml omits).
    static let trainingDescriptor = "train.toml"
    /// The regularizers' own parameters (not part of the model).
    static let regularizerState = "regularizers.safetensors"
    /// Checkpoint metadata: where the training descriptor was (its relative plugin paths start there).
    static let descriptorDirectoryKey = "train.descriptor_directory"
    /// Checkpoint metadata of a fine-tuning run: the stages it trains.
    static let finetuneStagesKey = "train.finetune_stages"
    /// The stages a fine-tuning run trains (nil: ordinary training).
    private(set) var finetuneStages: [String]?
    private var descriptorDirectory: String?

    /// The training descriptor a run started from (OUT/train.toml, its
    /// plugin paths relative to where it was), or OUT/model.toml for model
    /// directories from before train.toml existed.
    static func savedDescriptor(in output: String, baseDirectory: String?) throws -> PipelineDescriptor {
        let saved = output + "/" + trainingDescriptor
        guard FileManager.default.fileExists(atPath: saved) else { return try PipelineDescriptor.load(path: output + "/" + Codec.descriptorFile) }
        guard let data = FileManager.default.contents(atPath: saved), let text = String(data: data, encoding: .utf8) else {
            throw LICError("\(saved): cannot read the training descriptor")
        }
        return try PipelineDescriptor.parse(text, source: saved, baseDirectory: baseDirectory ?? output)
    }

    public init(_ configuration: Configuration) throws {
        guard configuration.steps != nil || configuration.timeBudget != nil else {
            throw LICError("lic train: give --steps or --time-budget")
        }
        guard configuration.lambda > 0, configuration.batch >= 1, configuration.crop >= 16 else {
            throw LICError("lic train: lambda must be positive, batch at least 1, crop at least 16")
        }
        guard configuration.downscale.lowerBound >= ImageFolder.smallestScale, configuration.downscale.upperBound <= 1 else {
            throw LICError("lic train: --downscale factors must lie in [\(ImageFolder.smallestScale), 1]")
        }
        try configuration.schedule.validate()
        self.configuration = configuration
        images = try ImageFolder(path: configuration.data)
        let optimizer = Adam(learningRate: Float(configuration.learningRate))
        let auxiliaryOptimizer = Adam(learningRate: Float(configuration.auxiliaryLearningRate))
        let output = configuration.output
        if configuration.resume {
            let state = try SafeTensorsFile.read(path: output + "/" + Self.mainState)
            model = try Codec(descriptor: Self.savedDescriptor(in: output, baseDirectory: state.metadata[Self.descriptorDirectoryKey]), training: true)
            try model.loadWeights(from: output + "/" + Codec.weightsFile)
            if model.store.all.contains(where: { $0.group == .regularizer }) {
                try model.store.load(from: output + "/" + Self.regularizerState, groups: [.regularizer])
            }
            model.weightsChanged()
            try optimizer.importState(tensors: state.tensors, metadata: state.metadata)
            let auxiliary = try SafeTensorsFile.read(path: output + "/" + Self.auxiliaryState)
            try auxiliaryOptimizer.importState(tensors: auxiliary.tensors, metadata: auxiliary.metadata)
            guard let saved = state.metadata["train.step"].flatMap(Int.init) else {
                throw LICError("\(output)/\(Self.mainState): no train.step in the metadata; cannot resume")
            }
            // The three files are written one after the other: a crash between them leaves them at different steps.
            let weightsStep = try SafeTensorsFile.read(path: output + "/" + Codec.weightsFile).metadata["train.step"]
            guard weightsStep == String(saved), auxiliary.metadata["train.step"] == String(saved) else {
                throw LICError("\(output): the checkpoint files are from different steps (weights \(weightsStep ?? "?"), optimizer \(saved), auxiliary \(auxiliary.metadata["train.step"] ?? "?")); cannot resume safely")
            }
            for (key, value) in Self.settings(configuration) where (state.metadata[key] ?? Self.settingDefaults[key]) != value {
                throw LICError("\(output): resuming with \(key) = \(value), but the training used \(state.metadata[key] ?? Self.settingDefaults[key] ?? "(unknown)")")
            }
            step = saved
            elapsedBefore = state.metadata["train.elapsed_s"].flatMap(Double.init) ?? 0
            descriptorDirectory = state.metadata[Self.descriptorDirectoryKey]
            finetuneStages = state.metadata[Self.finetuneStagesKey].map { $0.split(separator: ",").map(String.init) }
        } else if let finetune = configuration.finetune {
            let text = try Self.finetuneDescriptor(finetune)
            let base = URL(fileURLWithPath: finetune.base).standardized.path
            model = try Codec(descriptor: PipelineDescriptor.parse(text, source: output + "/" + Self.trainingDescriptor, baseDirectory: base),
                              training: true)
            try model.loadWeights(from: finetune.base + "/" + Codec.weightsFile)
            descriptorDirectory = base
            finetuneStages = finetune.stages
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
            do {
                try Data(text.utf8).write(to: URL(fileURLWithPath: output + "/" + Self.trainingDescriptor), options: .atomic)
            } catch {
                throw LICError("\(output): cannot write the fine-tuning descriptor: \(error.localizedDescription)")
            }
        } else {
            guard let pipeline = configuration.pipeline else { throw LICError("lic train: give --pipeline (or --resume)") }
            let descriptor = try PipelineDescriptor.load(path: pipeline)
            model = try Codec(descriptor: descriptor, training: true)
            if let initial = configuration.initialModel {
                try model.loadWeights(from: initial + "/" + Codec.weightsFile)
                model.modelLambda = nil  // this run's lambda is the one it trains for
            }
            descriptorDirectory = URL(fileURLWithPath: pipeline).deletingLastPathComponent().standardized.path
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
            do {
                try Data(contentsOf: URL(fileURLWithPath: pipeline)).write(to: URL(fileURLWithPath: output + "/" + Self.trainingDescriptor), options: .atomic)
            } catch {
                throw LICError("\(output): cannot keep a copy of the training descriptor: \(error.localizedDescription)")
            }
        }
        if let stages = finetuneStages { try Self.freezeAllBut(stages, in: model) }
        // A new run takes the levels it is given; a resumed or fine-tuned one keeps its model's.
        if let levels = configuration.rateLevels {
            if let trained = model.rateLevels, trained != levels {
                throw LICError("\(output): the model was trained with lambdas \(trained.text), not \(levels.text)")
            }
            model.rateLevels = levels
        }
        if model.rateLevels == nil, model.modelLambda == nil { model.modelLambda = configuration.lambda }
        stepper = TrainingStep(model: model, lambda: configuration.lambda, rateLevels: model.rateLevels, clip: configuration.clip,
                               optimizer: optimizer, auxiliaryOptimizer: auxiliaryOptimizer)
        let alignment = try model.alignment()
        guard configuration.crop % alignment == 0 else {
            throw LICError("lic train: --crop \(configuration.crop) must be a multiple of \(alignment) for this model")
        }
        try prepareLog()
    }

    /// The settings a resumed run must share with the original (checkpoint metadata).
    static func settings(_ c: Configuration) -> [String: String] {
        ["train.lambda": c.rateLevels == nil ? "\(c.lambda)" : "variable", "train.lambdas": c.rateLevels?.text ?? "",
         "train.batch": "\(c.batch)", "train.crop": "\(c.crop)", "train.seed": "\(c.seed)",
         "train.lr": "\(c.learningRate)", "train.aux_lr": "\(c.auxiliaryLearningRate)", "train.clip": "\(c.clip ?? 0)",
         "train.schedule": c.schedule.description, "train.downscale": downscaleText(c.downscale)]
    }

    /// A setting's value in runs saved before the setting existed.
    static let settingDefaults = ["train.downscale": downscaleText(1...1)]

    static func downscaleText(_ scales: ClosedRange<Double>) -> String { "\(scales.lowerBound):\(scales.upperBound)" }

    /// The base model's descriptor with the quantizer sections replaced: a
    /// file's sections, or `[quantizer] plugin = ID`.
    static func finetuneDescriptor(_ finetune: Finetune) throws -> String {
        let path = finetune.base + "/" + Codec.descriptorFile
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw LICError("\(path): cannot read the model's descriptor")
        }
        guard let quantizer = finetune.quantizer else { return text }
        let replacement: String
        let replacesAll: Bool
        if quantizer.hasSuffix(".toml") {
            guard let data = FileManager.default.contents(atPath: quantizer), let given = String(data: data, encoding: .utf8) else {
                throw LICError("\(quantizer): cannot read the quantizer sections")
            }
            (replacement, replacesAll) = (given, true)
        } else {
            (replacement, replacesAll) = ("[\(PipelineDescriptor.quantizerSection)]\nplugin = \(CanonicalDescriptor.quoted(quantizer))\n", false)
        }
        var kept: [Substring] = [], skipping = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("[") {
                let name = line.trimmingCharacters(in: .whitespaces)
                skipping = name == "[quantizer]" || (replacesAll && name.hasSuffix(".quantizer]"))
            }
            if !skipping { kept.append(line) }
        }
        return kept.joined(separator: "\n") + "\n" + replacement
    }

    /// Freezes every parameter outside `stages`, which must be decoder-side transforms.
    static func freezeAllBut(_ stages: [String], in model: Codec) throws {
        let decoder = model.decoderStages.map { model.stages[$0].name }
        for stage in stages where !decoder.contains(stage) {
            throw LICError("lic finetune: '\(stage)' is not a decoder-side transform of this model (choose from \(decoder.joined(separator: ", ")))")
        }
        for component in Set(model.store.all.map(\.component)) where !stages.contains(component) {
            model.store.setFrozen(true, component: component)
        }
    }

    /// A new run starts a new log; a resumed one drops records past the checkpoint (they will be redone).
    private func prepareLog() throws {
        let path = configuration.output + "/" + Self.log
        guard FileManager.default.fileExists(atPath: path) else { return }
        var kept = ""
        if configuration.resume, let text = try? String(contentsOfFile: path, encoding: .utf8) {
            for line in text.split(separator: "\n") {
                let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                if let recorded = object?["step"] as? Int, recorded <= step { kept += line + "\n" }
            }
        }
        do { try Data(kept.utf8).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw LICError("\(path): cannot rewrite the training log: \(error.localizedDescription)")
        }
    }

    /// Trains until the step count or the time budget is reached; returns the last record.
    @discardableResult
    public func run() throws -> StepRecord? {
        let start = Date()
        let target = configuration.steps.map { $0 } ?? Int.max
        var last: StepRecord?
        var window: [Double] = []
        var windowStart = Date()
        while step < target {
            if let budget = configuration.timeBudget, Date().timeIntervalSince(start) >= budget { break }
            let record = try trainStep(elapsed: elapsedBefore + Date().timeIntervalSince(start))
            last = record
            window.append(record.loss)
            if step % configuration.logEvery == 0 {
                let rate = Double(window.count) / max(Date().timeIntervalSince(windowStart), 1e-9)
                try appendLog(record)
                progress(progressLine(record, stepsPerSecond: rate, start: start))
                window.removeAll()
                windowStart = Date()
            }
            if step % configuration.checkpointEvery == 0 { try checkpoint(elapsed: elapsedBefore + Date().timeIntervalSince(start)) }
        }
        try checkpoint(elapsed: elapsedBefore + Date().timeIntervalSince(start))
        return last
    }

    /// One optimizer step on batch `step`.
    func trainStep(elapsed: Double) throws -> StepRecord {
        let x = try images.batch(size: configuration.batch, crop: configuration.crop, scales: configuration.downscale, seed: configuration.seed, step: step)
        let rate = configuration.learningRate * configuration.schedule.factor(atStep: step, elapsed: elapsed)
        let seed = configuration.seed &+ UInt64(step)
        let level = level(atStep: step)
        let result = finetuneStages == nil
            ? try stepper.run(x, step: step, seed: seed, learningRate: rate, level: level)
            : try stepper.runOnCodedLatents(x, step: step, seed: seed, learningRate: rate, level: level)
        step += 1
        let mse = result.terms["distortion"]!
        return StepRecord(step: step, elapsed_s: elapsed, loss: result.loss, bpp: result.terms["rate"]!,
                          psnr: 10 * Foundation.log10(1 / max(mse, 1e-10)), mse: mse, aux_loss: result.auxiliaryLoss,
                          learning_rate: rate, lambda: level.map { model.rateLevels!.lambdas[$0] } ?? configuration.lambda,
                          rate_level: level, terms: result.terms)
    }

    /// A variable-rate model's level for batch `step`: uniform, from the seed and the step alone (so a resumed run draws the same).
    func level(atStep step: Int) -> Int? {
        guard let levels = model.rateLevels else { return nil }
        var random = SplitMix64(state: SplitMix64.mix(configuration.seed ^ 0x5261_7465_4C65_7665) &+ UInt64(step))
        return random.below(levels.count)
    }

    /// Saves the model and both optimizers' state (atomically, file by file).
    public func checkpoint(elapsed: Double = 0) throws {
        let output = configuration.output
        let stamp = ["train.step": String(step)]
        // The model keeps the lambda it was trained for (a fine-tuned one, its base model's).
        try model.save(to: output, metadata: stamp.merging(model.modelMetadata) { $1 })
        if model.store.all.contains(where: { $0.group == .regularizer }) {
            try model.store.save(to: output + "/" + Self.regularizerState, metadata: stamp, groups: [.regularizer])
        }
        let main = optimizer.exportState()
        var metadata = main.metadata.merging(stamp) { $1 }.merging(Self.settings(configuration)) { $1 }
        metadata["train.elapsed_s"] = String(elapsed)
        if let descriptorDirectory { metadata[Self.descriptorDirectoryKey] = descriptorDirectory }
        if let finetuneStages { metadata[Self.finetuneStagesKey] = finetuneStages.joined(separator: ",") }
        try SafeTensorsFile(tensors: main.tensors, metadata: metadata).write(to: output + "/" + Self.mainState)
        let auxiliary = auxiliaryOptimizer.exportState()
        try SafeTensorsFile(tensors: auxiliary.tensors, metadata: auxiliary.metadata.merging(stamp) { $1 })
            .write(to: output + "/" + Self.auxiliaryState)
    }

    private func appendLog(_ record: StepRecord) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let line = try encoder.encode(record) + Data("\n".utf8)
        let path = configuration.output + "/" + Self.log
        try FileManager.default.createDirectory(atPath: configuration.output, withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw LICError("\(path): cannot open for appending") }
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: line)
    }

    private func progressLine(_ r: StepRecord, stepsPerSecond: Double, start: Date) -> String {
        var line = String(format: "step %d", r.step)
        if let steps = configuration.steps { line += "/\(steps)" }
        line += String(format: " | loss %.4f | bpp %.4f | PSNR %.2f dB", r.loss, r.bpp, r.psnr)
        if let level = r.rate_level { line += " (level \(level))" }
        line += String(format: " | %.2f steps/s", stepsPerSecond)
        let remaining: Double? = if let steps = configuration.steps {
            Double(steps - r.step) / max(stepsPerSecond, 1e-9)
        } else if let budget = configuration.timeBudget {
            budget - Date().timeIntervalSince(start)
        } else { nil }
        if let remaining { line += " | ETA \(Self.duration(max(0, remaining)))" }
        return line
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600)h\(String(format: "%02d", s % 3600 / 60))m" : "\(s / 60)m\(String(format: "%02d", s % 60))s"
    }
}
