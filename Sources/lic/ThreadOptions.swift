import ArgumentParser
import LICTensor

/// `--threads N`, shared by the commands that compute.
struct ThreadOptions: ParsableArguments {
    @Option(help: "Threads for the tensor engine (default: all cores, or the LIC_THREADS environment variable).")
    var threads: Int?

    func apply() throws {
        guard let threads else { return }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        Threads.set(threads)
    }
}
