import ArgumentParser
import Foundation
import LICCore

/// The child process of `lic plugins --check` (not for users): lists a
/// library's components and cases, or runs cases of one component,
/// reporting on stdout as each starts and ends.
struct PluginCheckWorker: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "plugin-check-worker", shouldDisplay: false)

    @Argument var library: String
    @Flag var list = false
    @Option var component: String?
    @Option(name: .customLong("case")) var cases: [String] = []

    func run() throws {
        // One write per line, unbuffered: a crash right after a line must not lose it.
        let output: (String) -> Void = { FileHandle.standardOutput.write(Data($0.utf8)) }
        if list {
            try CheckWorker.list(library: library, output: output)
        } else {
            guard let component else { throw ValidationError("--component or --list is required") }
            try CheckWorker.run(library: library, component: component, cases: cases, output: output)
        }
    }
}
