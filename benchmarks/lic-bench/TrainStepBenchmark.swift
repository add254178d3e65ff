import Foundation
import LICModels
import LICTensor

/// One training step of the mean-scale hyperprior, as anchor_compressai.py
/// does it: forward, rate-distortion loss, backward, clip 1.0, Adam 1e-4;
/// then the auxiliary loss, its backward and Adam 1e-3.
enum TrainStepBenchmark {
    static func run(steps: Int) throws {
        let (n, m, batch, patch, lambda) = (128, 192, 8, 128, Float(0.0067))
        let model = try MeanScaleHyperprior(n: n, m: m)
        let optimizer = Adam(learningRate: 1e-4), auxiliary = Adam(learningRate: 1e-3)
        let x = try Tensor.uniformNoise(shape: [batch, 3, patch, patch], seed: 7, low: 0, high: 1)
        var lastLoss: Float = 0
        func step(_ index: Int) throws {
            model.store.zeroGradients()
            let out = try model.forward(x, quantization: .noise(seed: UInt64(index) * 2))
            let bits = try out.likelihoods.map { try $0.log().sum() }.reduce(Tensor(scalar: 0), +)
            let bpp = try bits * (-1 / (Float(Foundation.log(2.0)) * Float(batch * patch * patch)))
            let mse = try (out.xHat - x).squared().mean()
            let loss = try mse * (lambda * 255 * 255) + bpp
            lastLoss = try loss.scalarValue
            try loss.backward()
            try model.store.step(.main, optimizer: optimizer, clipNorm: 1.0)
            let aux = try model.auxiliaryLoss()
            try aux.backward()
            try model.store.step(.auxiliary, optimizer: auxiliary)
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
