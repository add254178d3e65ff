import Foundation

/// The parent side of `lic plugins --check`: it never loads the library
/// itself. A worker lists the components and their cases; then each
/// component's cases run in a worker of their own, in order. When a worker
/// crashes or hangs (no result within `caseTimeout`; it is killed), the case
/// it was running is reported with the signal or the time, and a new worker
/// goes on with the remaining cases.
public struct CheckSupervisor {
    /// The worker command: the executable and the arguments before the worker's own.
    public var worker: [String]
    public var caseTimeout: Double
    /// For loading the library and listing (and for a worker to start).
    public var startTimeout: Double = 120
    /// A component whose workers crash or hang this often is given up.
    public var maxAbnormalEnds = 8

    public init(worker: [String], caseTimeout: Double) {
        (self.worker, self.caseTimeout) = (worker, caseTimeout)
    }

    public func check(library: String) throws -> CheckReport {
        let started = Date()
        let listing = try list(library)
        var components: [CheckReport.Component] = []
        for entry in listing.components {
            components.append(CheckReport.Component(id: entry.id, kind: entry.kind, interface: entry.interface,
                                                    cases: runCases(library, component: entry.id, cases: entry.cases)))
        }
        return CheckReport(library: library, libraryName: listing.name, components: components, seconds: Date().timeIntervalSince(started))
    }

    private struct Listing {
        var name = ""
        var components: [(id: String, kind: String, interface: String, cases: [String])] = []
    }

    /// The components and cases, from a worker; a library that does not load is an error naming it.
    private func list(_ library: String) throws -> Listing {
        let process = try WorkerProcess(worker + ["--list", library])
        var listing = Listing()
        let deadline = Date().addingTimeInterval(startTimeout)
        reading: while true {
            switch process.next(deadline: deadline) {
            case .line(let line):
                guard let event = CheckEvent.parse(line) else { continue }
                if event.event == .library { listing.name = event.name ?? "" }
                if event.event == .component, let id = event.name {
                    listing.components.append((id, event.kind ?? "", event.interface ?? "", event.cases ?? []))
                }
            case .end: break reading
            case .timeout:
                process.kill()
                _ = process.wait()
                throw LICError("plugin \(library): loading it did not finish within \(Int(startTimeout)) s (the worker was killed)")
            }
        }
        let ending = process.wait()
        guard ending == .exited(0) else {
            // A refusal is the worker's one-line error (which names the file); a crash in the library's entry is named by its signal.
            if ending == .exited(1), let last = process.lastErrorLine {
                throw LICError(last.hasPrefix("Error: ") ? String(last.dropFirst(7)) : last)
            }
            throw LICError("plugin \(library): the worker loading it \(ending.text)")
        }
        return listing
    }

    /// Runs `cases` of one component, restarting the worker after a crash or hang.
    private func runCases(_ library: String, component: String, cases: [String]) -> [CheckReport.Case] {
        var results: [String: CheckReport.Case] = [:]
        var abnormal = 0
        while abnormal < maxAbnormalEnds {
            let pending = cases.filter { results[$0] == nil }
            guard !pending.isEmpty else { break }
            guard let process = try? WorkerProcess(worker + [library, "--component", component] + pending.flatMap { ["--case", $0] }) else {
                for name in pending { results[name] = CheckReport.Case(name: name, status: .skip, detail: "the worker could not be started", seconds: 0) }
                break
            }
            var current: (name: String, since: Date)?
            var deadline = Date().addingTimeInterval(startTimeout)
            var hung = false
            reading: while true {
                switch process.next(deadline: deadline) {
                case .line(let line):
                    guard let event = CheckEvent.parse(line), let name = event.case else { continue }
                    if event.event == .start {
                        current = (name, Date())
                        deadline = Date().addingTimeInterval(caseTimeout)
                    } else if event.event == .end, let outcome = event.outcome {
                        let seconds = current.map { Date().timeIntervalSince($0.since) } ?? 0
                        results[name] = CheckReport.Case(name: name, status: outcome.status, detail: outcome.detail, seconds: seconds)
                        current = nil
                        deadline = Date().addingTimeInterval(startTimeout)
                    }
                case .end: break reading
                case .timeout:
                    hung = true
                    process.kill()
                    break reading
                }
            }
            let ending = process.wait()
            if ending == .exited(0) && !hung && current == nil {
                // A clean exit: any case it did not report does not exist in its plan.
                for name in pending where results[name] == nil {
                    results[name] = CheckReport.Case(name: name, status: .skip, detail: "not in the worker's plan", seconds: 0)
                }
                break
            }
            abnormal += 1
            // The case that was running (or, if it died between cases, the next one) takes the blame.
            let name = current?.name ?? cases.first { results[$0] == nil }!
            let seconds = current.map { Date().timeIntervalSince($0.since) } ?? 0
            if hung {
                let detail = current == nil ? "the worker did not start within \(Int(startTimeout)) s (killed)"
                    : "no result within \(Int(caseTimeout)) s (the worker was killed)"
                results[name] = CheckReport.Case(name: name, status: .hang, detail: detail, seconds: seconds)
            } else {
                var detail = "the worker \(ending.text)"
                if let last = process.lastErrorLine { detail += "; last stderr line: \(last)" }
                results[name] = CheckReport.Case(name: name, status: .crash, detail: detail, seconds: seconds)
            }
        }
        return cases.map { name in
            results[name] ?? CheckReport.Case(name: name, status: .skip,
                                             detail: "not run: the component's workers crashed or hung \(maxAbnormalEnds) times", seconds: 0)
        }
    }
}
