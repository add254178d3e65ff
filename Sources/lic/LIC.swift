import ArgumentParser
import CLIC
import LICCore

@main
struct LIC: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lic",
        abstract: "LIC Toolkit: learned and classical image compression from plugin pipelines.",
        discussion: """
        Plugins are found in the paths a pipeline descriptor names (relative to it), \
        then in LIC_PLUGIN_PATH (colon-separated files or directories), then beside this executable.
        """,
        version: "0.1.0 (plugin ABI \(LIC_ABI_VERSION_MAJOR).\(LIC_ABI_VERSION_MINOR))",
        subcommands: [Encode.self, Decode.self, Train.self, Finetune.self, Eval.self, Metrics.self, Export.self, Plugins.self, PluginCheckWorker.self])
}
