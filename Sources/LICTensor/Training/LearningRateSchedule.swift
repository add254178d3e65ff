import Foundation

/// A learning-rate multiplier per optimizer step: optional linear warmup times
/// a decay. The learning rate for step `s` (0-based: the number of steps
/// already taken) is `baseRate * factor(atStep: s)`.
///
/// - warmup: for `s < warmupSteps` the factor is multiplied by
///   `(s + 1) / warmupSteps`, so the first step uses `1/warmupSteps` and step
///   `warmupSteps - 1` the full rate.
/// - decay, on the same step count (warmup steps count towards it):
///   - `constant`: 1.
///   - `step(every: n, factor: f)`: `f^⌊s / n⌋` (torch's StepLR).
///   - `cosine(totalSteps: T, minimumFactor: a)`:
///     `a + (1 - a)·(1 + cos(π·s/T))/2` for `s < T`, then `a`.
///   - `cosineTime(seconds: T, minimumFactor: a)`: the same cosine over
///     seconds of training (`elapsed`, resumed runs included) instead of
///     steps: the rate anneals by a deadline whatever the machine's speed
///     (and whatever else it runs), at the price of step-for-step
///     reproducibility.
///
/// Written on command lines as "constant", "step:1000:0.5",
/// "cosine:100000:0.01" or "cosine-time:7200:0.05", each optionally followed by ",warmup:500" (or
/// "warmup:500" alone, meaning constant after the warmup); `description`
/// gives that form back.
public struct LearningRateSchedule: Sendable, Equatable, CustomStringConvertible {
    public enum Decay: Sendable, Equatable {
        case constant
        case step(every: Int, factor: Double)
        case cosine(totalSteps: Int, minimumFactor: Double)
        case cosineTime(seconds: Double, minimumFactor: Double)
    }

    public var warmupSteps: Int
    public var decay: Decay

    public init(warmupSteps: Int = 0, decay: Decay = .constant) {
        self.warmupSteps = warmupSteps
        self.decay = decay
    }

    /// The multiplier for 0-based step `step` (negative steps count as 0).
    /// Out-of-range parameters (which `init(parsing:)` and `validate()` reject)
    /// are treated leniently: a non-positive period or total means no decay.
    /// `elapsed`: seconds trained so far, for `cosineTime` (nil counts as 0).
    public func factor(atStep step: Int, elapsed: Double? = nil) -> Double {
        let s = max(step, 0)
        var value: Double
        func cosine(_ progress: Double, _ minimumFactor: Double) -> Double {
            minimumFactor + (1 - minimumFactor) * 0.5 * (1 + cos(Double.pi * min(max(progress, 0), 1)))
        }
        switch decay {
        case .constant:
            value = 1
        case let .step(every, factor):
            value = every > 0 ? pow(factor, Double(s / every)) : 1
        case let .cosine(totalSteps, minimumFactor):
            if totalSteps <= 0 || s >= totalSteps {
                value = totalSteps <= 0 ? 1 : minimumFactor
            } else {
                value = cosine(Double(s) / Double(totalSteps), minimumFactor)
            }
        case let .cosineTime(seconds, minimumFactor):
            value = seconds > 0 ? cosine((elapsed ?? 0) / seconds, minimumFactor) : 1
        }
        if warmupSteps > 0 && s < warmupSteps {
            value *= Double(s + 1) / Double(warmupSteps)
        }
        return value
    }

    /// Throws `TensorError.invalidArgument` for parameters out of range:
    /// negative warmup, a non-positive period or total, a step factor that is
    /// not finite and positive, a cosine minimum outside [0, 1].
    public func validate() throws {
        guard warmupSteps >= 0 else {
            throw TensorError.invalidArgument("learning-rate schedule: warmup steps must be >= 0, got \(warmupSteps)")
        }
        switch decay {
        case .constant:
            break
        case let .step(every, factor):
            guard every > 0 else {
                throw TensorError.invalidArgument("learning-rate schedule: step period must be > 0, got \(every)")
            }
            guard factor.isFinite, factor > 0 else {
                throw TensorError.invalidArgument("learning-rate schedule: step factor must be finite and > 0, got \(factor)")
            }
        case let .cosine(totalSteps, minimumFactor):
            guard totalSteps > 0 else {
                throw TensorError.invalidArgument("learning-rate schedule: cosine total steps must be > 0, got \(totalSteps)")
            }
            guard minimumFactor >= 0, minimumFactor <= 1 else {
                throw TensorError.invalidArgument(
                    "learning-rate schedule: cosine minimum factor must be in [0, 1], got \(minimumFactor)")
            }
        case let .cosineTime(seconds, minimumFactor):
            guard seconds > 0, seconds.isFinite, minimumFactor >= 0, minimumFactor <= 1 else {
                throw TensorError.invalidArgument(
                    "learning-rate schedule: cosine-time needs positive seconds and a minimum factor in [0, 1], got \(seconds), \(minimumFactor)")
            }
        }
    }

    /// Parses the command-line form (see the type's documentation). Errors
    /// (`TensorError.invalidArgument`) quote the whole text and the bad token.
    public init(parsing text: String) throws {
        func bad(_ token: some StringProtocol, _ why: String) -> TensorError {
            .invalidArgument("learning-rate schedule '\(text)': bad token '\(token)': \(why)")
        }
        let expected = "expected constant, step:EVERY:FACTOR, cosine:TOTAL:MINFACTOR, cosine-time:SECONDS:MINFACTOR or warmup:STEPS"
        var decay: Decay?
        var warmup: Int?
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        for rawPart in parts {
            let part = rawPart.trimmingCharacters(in: .whitespaces)
            let fields = part.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            switch fields[0] {
            case "constant", "step", "cosine":
                guard decay == nil else { throw bad(part, "a second decay; give one of constant, step, cosine") }
                if fields[0] == "constant" {
                    guard fields.count == 1 else { throw bad(part, "'constant' takes no arguments") }
                    decay = .constant
                    continue
                }
                let isStep = fields[0] == "step"
                let usage = isStep ? "expected step:EVERY:FACTOR, e.g. step:1000:0.5"
                                   : "expected cosine:TOTAL:MINFACTOR, e.g. cosine:100000:0.01"
                guard fields.count == 3 else { throw bad(part, usage) }
                guard let steps = Int(fields[1]), steps > 0 else {
                    throw bad(fields[1], "\(isStep ? "EVERY" : "TOTAL") must be a positive integer (in '\(part)')")
                }
                guard let value = Double(fields[2]), value.isFinite else {
                    throw bad(fields[2], "\(isStep ? "FACTOR" : "MINFACTOR") must be a number (in '\(part)')")
                }
                if isStep {
                    guard value > 0 else { throw bad(fields[2], "FACTOR must be > 0 (in '\(part)')") }
                    decay = .step(every: steps, factor: value)
                } else {
                    guard value >= 0, value <= 1 else { throw bad(fields[2], "MINFACTOR must be in [0, 1] (in '\(part)')") }
                    decay = .cosine(totalSteps: steps, minimumFactor: value)
                }
            case "cosine-time":
                guard decay == nil else { throw bad(part, "a second decay; give one of constant, step, cosine, cosine-time") }
                guard fields.count == 3, let seconds = Double(fields[1]), seconds > 0, seconds.isFinite,
                      let minimum = Double(fields[2]), minimum >= 0, minimum <= 1 else {
                    throw bad(part, "expected cosine-time:SECONDS:MINFACTOR with SECONDS > 0 and MINFACTOR in [0, 1], e.g. cosine-time:7200:0.05")
                }
                decay = .cosineTime(seconds: seconds, minimumFactor: minimum)
            case "warmup":
                guard warmup == nil else { throw bad(part, "warmup given twice") }
                guard fields.count == 2 else { throw bad(part, "expected warmup:STEPS, e.g. warmup:500") }
                guard let steps = Int(fields[1]), steps >= 0 else {
                    throw bad(fields[1], "STEPS must be a non-negative integer (in '\(part)')")
                }
                warmup = steps
            default:
                throw bad(part, expected)
            }
        }
        guard decay != nil || warmup != nil else { throw bad(text, expected) }
        self.init(warmupSteps: warmup ?? 0, decay: decay ?? .constant)
    }

    /// The command-line form, which `init(parsing:)` reads back.
    public var description: String {
        var text: String
        switch decay {
        case .constant: text = "constant"
        case let .step(every, factor): text = "step:\(every):\(factor)"
        case let .cosine(totalSteps, minimumFactor): text = "cosine:\(totalSteps):\(minimumFactor)"
        case let .cosineTime(seconds, minimumFactor): text = "cosine-time:\(seconds):\(minimumFactor)"
        }
        if warmupSteps != 0 { text += ",warmup:\(warmupSteps)" }
        return text
    }
}
