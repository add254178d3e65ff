import ArgumentParser
import Foundation
import LICCore

struct Plugins: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List every plugin component the host can load, with its parameters; --check validates a library.",
        discussion: """
        Libraries that could not be loaded are listed with the reason.

        --check LIBRARY loads only that library (a refusal is an error) and exercises each of its \
        components in child processes: schema edge cases (defaults, every number at its bounds and just \
        outside them, enum values, odd strings), odd, empty and huge inputs, error-sink discipline on \
        every call, determinism across runs and 1 vs 2 threads, encode/decode agreement of entropy \
        models (with the default quantizer) and quantize/dequantize agreement of quantizers. A case that \
        crashes or hangs is reported with its name and the signal or time limit; the host carries on. \
        The exit status is non-zero when any case fails.
        """)

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @Option(help: "Also search the plugin paths this pipeline descriptor names.")
    var pipeline: String?

    @Option(help: ArgumentHelp("Validate this plugin library (see below) instead of listing.", valueName: "library"))
    var check: String?

    @Option(help: ArgumentHelp("With --check: seconds one case may run before it counts as hung and its worker is killed.", valueName: "seconds"))
    var caseTimeout: Double = 60

    @Flag(help: "With --check: also show what each passing case saw.")
    var verbose = false

    func run() throws {
        if let check { return try validate(check) }
        let registry = PluginRegistry.shared
        let paths = try pipeline.map { try PipelineDescriptor.load(path: $0).pluginPaths } ?? []
        try registry.load(PluginSearchPath.standard(descriptorPaths: paths))
        if json {
            print(try PluginListing.json(registry.allComponents, refusals: registry.refusals))
        } else {
            print(PluginListing.text(registry.allComponents, refusals: registry.refusals), terminator: "")
        }
    }

    private func validate(_ library: String) throws {
        guard caseTimeout > 0 else { throw ValidationError("--case-timeout must be positive") }
        // The workers are this executable, run again with a hidden subcommand.
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let supervisor = CheckSupervisor(worker: [executable, "plugin-check-worker"], caseTimeout: caseTimeout)
        let report = try supervisor.check(library: library)
        print(json ? try report.json() : report.text(verbose: verbose), terminator: json ? "\n" : "")
        if !report.passed { throw ExitCode.failure }
    }
}
