/// One case of `lic plugins --check`: a stable name (shown in reports and
/// handed to the worker process that runs it) and the work, which returns
/// the verdict. Cases that make no plugin call (the host's schema checks)
/// run in the worker too, so every case of a component is judged alike.
struct CheckCase {
    let name: String
    let run: () throws -> CheckOutcome
}

/// The verdict on one case.
public struct CheckOutcome: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable {
        case pass, fail, crash, hang, skip
    }

    public var status: Status
    /// Pass: what happened (e.g. the refusal the component gave); otherwise why it failed.
    public var detail: String

    public init(_ status: Status, _ detail: String = "") { (self.status, self.detail) = (status, detail) }

    public static func pass(_ detail: String = "") -> CheckOutcome { CheckOutcome(.pass, detail) }
    public static func fail(_ detail: String) -> CheckOutcome { CheckOutcome(.fail, detail) }
    public static func skip(_ detail: String) -> CheckOutcome { CheckOutcome(.skip, detail) }
}

/// A check of the validator's own failed: wrong bytes, shapes or values.
/// Unlike a refusal the component reports, it fails every case.
struct CheckFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// How a case judges what the work did. Every plugin call already goes
/// through `callPlugin`, which marks a broken error-sink rule; such a
/// failure, or a CheckFailure, fails any case. What is left is a refusal
/// reported properly, which some cases expect and others forbid.
enum Expect {
    /// The work must succeed; `body` returns what it saw.
    static func success(_ body: () throws -> String) -> CheckOutcome {
        do {
            return .pass(try body())
        } catch {
            return .fail(describe(error))
        }
    }

    /// The component may do the work or refuse it through the error sink;
    /// when it does it, `body`'s own checks must hold.
    static func successOrRefusal(_ body: () throws -> String) -> CheckOutcome {
        do {
            return .pass(try body())
        } catch {
            if isProperRefusal(error) { return .pass("refused: \(error)") }
            return .fail(describe(error))
        }
    }

    /// The host must refuse the work with an error containing `mentioning`.
    static func refusal(mentioning fragment: String, _ body: () throws -> Void) -> CheckOutcome {
        do {
            try body()
            return .fail("accepted, but it should have been refused")
        } catch {
            guard isProperRefusal(error) else { return .fail(describe(error)) }
            let message = "\(error)"
            return message.contains(fragment) ? .pass("refused: \(message)") : .fail("refused without naming '\(fragment)': \(message)")
        }
    }

    static func isProperRefusal(_ error: any Error) -> Bool {
        if error is CheckFailure { return false }
        if let error = error as? LICError, error.brokenRule { return false }
        return true
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? LICError, error.brokenRule { return "broke the ABI's rules: \(error.message)" }
        return "\(error)"
    }
}
