import Foundation

/// The result of `lic plugins --check LIBRARY`: every component's cases with
/// their verdicts, as text for people and JSON for tools.
public struct CheckReport: Codable, Sendable {
    public struct Case: Codable, Sendable {
        public var name: String
        public var status: CheckOutcome.Status
        public var detail: String
        public var seconds: Double
    }

    public struct Component: Codable, Sendable {
        public var id: String
        public var kind: String
        public var interface: String
        public var cases: [Case]
        public var failures: [Case] { cases.filter { $0.status != .pass } }
    }

    public var library: String
    public var libraryName: String
    public var components: [Component]
    public var seconds: Double

    /// Every case of every component passed (a skipped case is not a pass).
    public var passed: Bool { components.allSatisfy { $0.failures.isEmpty } }

    public func json() throws -> String {
        struct Document: Encodable {
            var library, libraryName: String
            var passed: Bool
            var seconds: Double
            var components: [Component]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let document = Document(library: library, libraryName: libraryName, passed: passed, seconds: seconds, components: components)
        return String(decoding: try encoder.encode(document), as: UTF8.self)
    }

    /// One line per case; a failure's line carries the reason, `verbose` adds what passing cases saw.
    public func text(verbose: Bool = false) -> String {
        let total = components.map(\.cases.count).reduce(0, +), failed = components.map(\.failures.count).reduce(0, +)
        var out = "\(library) (\(libraryName)): \(components.count) component(s), \(total) cases, "
        out += (failed == 0 ? "all passed" : "\(failed) failed") + String(format: " in %.1f s\n", seconds)
        for component in components {
            let failures = component.failures.count
            out += "\n\(component.id) (\(component.kind), \(component.interface)): "
            out += failures == 0 ? "\(component.cases.count) cases passed\n" : "\(failures) of \(component.cases.count) cases failed\n"
            for item in component.cases {
                let label = item.status == .pass ? "pass" : item.status.rawValue.uppercased()
                var line = "  " + label.padding(toLength: 6, withPad: " ", startingAt: 0) + item.name
                if item.status != .pass || verbose, !item.detail.isEmpty { line += ": " + item.detail }
                out += line + "\n"
            }
        }
        if components.isEmpty { out += "the library offers no components\n" }
        return out
    }
}
