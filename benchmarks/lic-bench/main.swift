import Foundation
import LICTensor

/// Benchmarks of LIC's own components, printing one JSON line each:
///   lic-bench coder DATA_DIR [RUNS]    (DATA_DIR from benchmarks/coder/make_data.py)
///   lic-bench train-step [STEPS] [DESCRIPTOR]   (default examples/pipelines/mbt2018-mean.toml: N=128, M=192; batch 8, 128x128)
///   lic-bench conv-layer [RUNS]        (192 -> 192, 5x5, stride 2, 1x192x128x128)
let arguments = CommandLine.arguments
switch arguments.count >= 2 ? arguments[1] : "" {
case "coder" where arguments.count >= 3:
    try CoderBenchmark.run(directory: arguments[2], runs: arguments.count > 3 ? Int(arguments[3]) ?? 7 : 7)
case "conv-layer":
    try ConvLayerBenchmark.run(runs: arguments.count > 2 ? Int(arguments[2]) ?? 20 : 20)
case "train-step":
    try TrainStepBenchmark.run(steps: arguments.count > 2 ? Int(arguments[2]) ?? 8 : 8,
                               descriptor: arguments.count > 3 ? arguments[3] : "examples/pipelines/mbt2018-mean.toml")
default:
    FileHandle.standardError.write(Data("usage: lic-bench coder DATA_DIR [RUNS] | train-step [STEPS] [DESCRIPTOR] | conv-layer [RUNS]\n".utf8))
    exit(2)
}
