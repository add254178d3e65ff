import Foundation
import LICTensor

/// One LIC layer, 192 -> 192, 5x5, stride 2, padding 2, 1x192x128x128: each
/// oneDNN pass timed alone (as anchor_torch.py times PyTorch's), and the exact
/// (fixed-order, portable) forward kernel; median of runs.
enum ConvLayerBenchmark {
    static func run(runs: Int) throws {
        let g = try ConvGeometry(batch: 1, inChannels: 192, outChannels: 192, inHeight: 128, inWidth: 128, kernel: 5,
                                 stride: 2, padding: 2)
        let x = try Tensor.uniformNoise(shape: [g.inputCount], seed: 1, low: -1, high: 1).values
        let w = try Tensor.uniformNoise(shape: [g.weightCount], seed: 2, low: -0.01, high: 0.01).values
        let b = try Tensor.uniformNoise(shape: [g.outChannels], seed: 3, low: -1, high: 1).values
        let dy = try Tensor.uniformNoise(shape: [g.outputCount], seed: 4, low: -1, high: 1).values
        var y = [Float](repeating: 0, count: g.outputCount), dx = [Float](repeating: 0, count: g.inputCount)
        var dw = [Float](repeating: 0, count: g.weightCount), db = [Float](repeating: 0, count: g.outChannels)
        func median(_ body: () throws -> Void) throws -> Double {
            for _ in 0..<3 { try body() }
            var times: [Double] = []
            for _ in 0..<runs {
                let start = DispatchTime.now().uptimeNanoseconds
                try body()
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            }
            return times.sorted()[runs / 2]
        }
        let forward = try median { try Convolution.forward(g, src: x, weights: w, bias: b, dst: &y) }
        let data = try median { try Convolution.backwardData(g, diffDst: dy, weights: w, diffSrc: &dx) }
        let weights = try median { try Convolution.backwardWeights(g, src: x, diffDst: dy, diffWeights: &dw, diffBias: &db) }
        // The fixed-order kernel coding runs the entropy parameters with (ExactArithmetic).
        let exact = try median { try ExactArithmetic.with { try Convolution.forward(g, src: x, weights: w, bias: b, dst: &y) } }
        let gflop = Double(g.flops) / 1e9
        print("{\"framework\": \"LIC (oneDNN)\", \"threads\": \(Threads.count), "
              + "\"forward_ms\": \(forward), \"exact_forward_ms\": \(exact), \"gflops_exact_forward\": \(gflop / exact * 1e3), "
              + "\"backward_data_ms\": \(data), \"backward_weights_ms\": \(weights), "
              + "\"gflops_forward\": \(gflop / forward * 1e3), \"gflops_backward_data\": \(gflop / data * 1e3), "
              + "\"gflops_backward_weights\": \(gflop / weights * 1e3)}")
    }
}
