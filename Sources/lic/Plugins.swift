import ArgumentParser
import Foundation
import LICCore

struct Plugins: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List every plugin component the host can load, with its parameters.",
        discussion: "Libraries that could not be loaded are listed with the reason; --check makes that an error.")

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @Option(help: "Also search the plugin paths this pipeline descriptor names.")
    var pipeline: String?

    @Option(help: "Load only this plugin library and fail with the reason if it is refused.")
    var check: String?

    func run() throws {
        let registry = PluginRegistry.shared
        if let check {
            try registry.loadLibrary(at: check)
        } else {
            let paths = try pipeline.map { try PipelineDescriptor.load(path: $0).pluginPaths } ?? []
            try registry.load(PluginSearchPath.standard(descriptorPaths: paths))
        }
        var components = registry.allComponents
        if let check { components = components.filter { $0.libraryPath.hasSuffix((check as NSString).lastPathComponent) } }
        if json {
            print(try PluginListing.json(components, refusals: registry.refusals))
        } else {
            print(PluginListing.text(components, refusals: registry.refusals), terminator: "")
        }
    }
}
