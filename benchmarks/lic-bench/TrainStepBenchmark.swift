import Foundation
import LICCore
import LICTensor

/// One training step of mbt2018-mean (examples/pipelines/mbt2018-mean.toml,
/// N=128, M=192) through the code `lic train` runs (Codec + TrainingStep),
/// as anchor_compressai.py does it: forward, rate-distortion loss, backward,
/// clip 1.0, Adam 1e-4; then the auxiliary loss, its backward and Adam 1e-3.
enum TrainStepBenchmark {
    static func run(steps: Int, descriptor: String) throws {
        let (batch, patch, lambda) = (8, 128, 0.0067)
        let model = try Codec(descriptor: PipelineDescriptor.load(path: descriptor), training: true)
        let trainer = TrainingStep(model: model, lambda: lambda, clip: 1.0, optimizer: Adam(learningRate: 1e-4),
                                   auxiliaryOptimizer: Adam(learningRate: 1e-3))
        let x = try Tensor.uniformNoise(shape: [batch, 3, patch, patch], seed: 7, low: 0, high: 1)
        var lastLoss = 0.0
        func step(_ index: Int) throws {
            lastLoss = try trainer.run(x, step: index, seed: UInt64(index), learningRate: 1e-4).loss
        }
        for index in 0..<2 { try step(index) }
        var times: [Double] = []
        for index in 2..<(2 + steps) {
            let start = DispatchTime.now().uptimeNanoseconds
            try step(index)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        times.sort()
        print("{\"framework\": \"LIC\", \"threads\": \(Threads.count), \"step_ms\": \(times[times.count / 2]), "
              + "\"steps_timed\": \(steps), \"last_loss\": \(lastLoss)}")
    }
}
