import Foundation

/// Variable rate: a model trained with a ladder of lambdas (`lic train
/// --lambdas`) codes at any rate level in 0 ... levels - 1, fractional ones
/// included; its stages (gain units, `lic.transform.gain`) read the level
/// from the call context. Users choose a quality from 1 (smallest files) to
/// `maxQuality` (best quality), mapped linearly onto the levels; the file
/// records the level, so decoding needs nothing extra.
public struct RateLevels: Sendable, Equatable {
    /// The lambdas the model was trained with, one per level, increasing.
    public let lambdas: [Double]

    /// Qualities run from 1 to this, whatever the number of levels.
    public static let maxQuality = 8.0
    /// The quality `lic encode` uses when none is given (about 0.6 bpp on
    /// Kodak photos with the shipped model: a photo looks clean).
    public static let defaultQuality = 5.0
    /// The standard lambda ladder of MSE-trained models (CompressAI's qualities 1-8).
    public static let standardLadder = [0.0018, 0.0035, 0.0067, 0.0130, 0.0250, 0.0483, 0.0932, 0.1800]
    /// The shipped model's ladder: eight lambdas spaced geometrically from
    /// 0.0009 to 0.13 (five significant digits), about 0.1 to 1.5 bpp on Kodak
    /// with mbt2018-mean - the standard ladder's top level buys little PSNR
    /// for its rate on a model this size, and its bottom stops near 0.2 bpp.
    public static let wideLadder = [0.0009, 0.0018313, 0.0037265, 0.0075828, 0.01543, 0.031397, 0.063887, 0.13]
    /// Ladders `--lambdas` knows by name.
    public static let namedLadders = ["standard": standardLadder, "wide": wideLadder]

    public init(lambdas: [Double]) throws {
        guard lambdas.count >= 2, lambdas.allSatisfy({ $0 > 0 && $0.isFinite }),
              zip(lambdas, lambdas.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw LICError("a variable-rate model needs at least two positive, increasing lambdas, got \(lambdas)")
        }
        self.lambdas = lambdas
    }

    /// A ladder's name ("standard", "wide") or a comma-separated list of lambdas.
    public init(parsing text: String) throws {
        if let named = Self.namedLadders[text] { try self.init(lambdas: named); return }
        let values = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.contains(nil) else {
            let names = Self.namedLadders.keys.sorted().map { "'\($0)'" }.joined(separator: ", ")
            throw LICError("--lambdas: '\(text)' is not one of \(names) or a comma-separated list of numbers")
        }
        try self.init(lambdas: values.map { $0! })
    }

    public var count: Int { lambdas.count }
    public var text: String { lambdas.map { "\($0)" }.joined(separator: ",") }

    /// The rate level of quality `q` in 1...maxQuality, as a file can store it.
    public func level(quality q: Double) throws -> Double {
        guard q.isFinite, q >= 1, q <= Self.maxQuality else {
            throw LICError("quality \(q) is outside 1...\(Int(Self.maxQuality)) (1: smallest files, \(Int(Self.maxQuality)): best quality)")
        }
        return Container.storableRateLevel((q - 1) / (Self.maxQuality - 1) * Double(count - 1))!
    }

    /// The lambda of a (possibly fractional) level, interpolated geometrically
    /// like the gains: what rate-distortion quantizers scale their decisions with.
    public func lambda(atLevel level: Double) -> Double {
        let lower = min(max(Int(level), 0), count - 2)
        let t = min(max(level - Double(lower), 0), 1)
        return Foundation.exp((1 - t) * Foundation.log(lambdas[lower]) + t * Foundation.log(lambdas[lower + 1]))
    }

    /// Checks a level read from a file against the model.
    func validate(fileLevel level: Double?, source: String) throws -> Double {
        guard let level else {
            throw LICError("\(source): the file records no rate level, but this model has \(count) (coded by another model?)")
        }
        guard level <= Double(count - 1) else {
            throw LICError("\(source): the file's rate level \(level) is outside this model's 0...\(count - 1)")
        }
        return level
    }
}
