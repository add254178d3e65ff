import Foundation

/// What a worker process tells the supervisor, one JSON object per line on
/// stdout after a marker (a plugin may print to stdout too; its lines are
/// ignored). Each line is one write, so a crash never leaves half of one.
struct CheckEvent: Codable {
    enum Kind: String, Codable { case library, component, start, end }
    var event: Kind
    /// library: its name; component: the id.
    var name: String?
    var kind: String?
    var interface: String?
    /// component: the planned cases; start / end: the case.
    var cases: [String]?
    var `case`: String?
    var outcome: CheckOutcome?

    static let marker = "@lic-check "

    var line: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return Self.marker + json + "\n"
    }

    /// The event on a line of worker output, or nil for anything else.
    static func parse(_ line: String) -> CheckEvent? {
        guard let start = line.range(of: marker) else { return nil }
        return try? JSONDecoder().decode(CheckEvent.self, from: Data(line[start.upperBound...].utf8))
    }
}
