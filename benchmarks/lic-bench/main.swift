import Foundation
import LICCore

/// Benchmarks of LIC's own components, printing one JSON line each.
///   lic-bench coder DATA_DIR [RUNS]   (DATA_DIR from benchmarks/coder/make_data.py)
let arguments = CommandLine.arguments
guard arguments.count >= 3, arguments[1] == "coder" else {
    FileHandle.standardError.write(Data("usage: lic-bench coder DATA_DIR [RUNS]\n".utf8))
    exit(2)
}
try CoderBenchmark.run(directory: arguments[2], runs: arguments.count > 3 ? Int(arguments[3]) ?? 7 : 7)
