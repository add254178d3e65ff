import LICPluginKit

/// Slice sizes along the latent's channels for channel-wise context models,
/// from the `groups` parameter of lic.entropy.channelwise:
///   "even:S"     S equal slices (Minnen & Singh 2020: even:10), M % S == 0
///   "elic"       ELIC's [16, 16, 32, 64, M - 128], M > 128
///   "power:K:S"  sizes proportional to [1^K, 2^K, ..., S^K] (the CCA paper):
///                floor(M * p_i / sum p), the remainder added to the last slice;
///                a slice that would get no channel (small M) gets one
///   "a,b,c,..."  an explicit list summing to M
/// Every slice must hold at least one channel.
enum ChannelGroups {
    static func sizes(_ spec: String, latent m: Int, component: String = "lic.entropy.channelwise") throws -> [Int] {
        func fail(_ why: String) -> PluginError {
            PluginError(.invalidArgument, "\(component): groups \"\(spec)\" \(why)")
        }
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let sizes: [Int]
        switch parts[0] {
        case "even":
            guard parts.count == 2, let s = Int(parts[1]), s >= 1 else { throw fail("is not even:S with a slice count S >= 1") }
            guard m % s == 0 else { throw fail("does not divide latent \(m) into \(s) equal slices") }
            sizes = Array(repeating: m / s, count: s)
        case "elic":
            guard parts.count == 1 else { throw fail("takes no arguments (elic is [16, 16, 32, 64, M - 128])") }
            guard m > 128 else { throw fail("needs latent > 128, got \(m)") }
            sizes = [16, 16, 32, 64, m - 128]
        case "power":
            guard parts.count == 3, let k = Double(parts[1]), k.isFinite, k >= 0, k <= 8, let s = Int(parts[2]), s >= 1, s <= m else {
                throw fail("is not power:K:S with 0 <= K <= 8 and 1 <= S <= latent")
            }
            sizes = power(k, slices: s, latent: m)
        default:
            let list = spec.split(separator: ",", omittingEmptySubsequences: false)
                .map { Int(String($0.filter { $0 != " " })) }
            guard !list.isEmpty, list.allSatisfy({ $0 != nil }) else {
                throw fail("is none of even:S, elic, power:K:S or a comma-separated list of slice sizes")
            }
            sizes = list.map { $0! }
            guard sizes.reduce(0, +) == m else { throw fail("sums to \(sizes.reduce(0, +)), not latent \(m)") }
        }
        guard let empty = sizes.firstIndex(where: { $0 < 1 }) else { return sizes }
        throw fail("gives slice \(empty) \(sizes[empty]) channels for latent \(m) (sizes \(sizes)); use fewer slices or more channels")
    }

    /// floor(M * i^K / sum) per slice (at least 1), the remainder to the last.
    /// The minimum keeps S slices for small test models (M = 16 gives 1, 1, 2,
    /// 4, 8); from M = 37 on (K = 1.7, S = 5) no slice needs it. Portable
    /// exp/log: the sizes fix the weights' shapes, so every machine must agree.
    static func power(_ k: Double, slices s: Int, latent m: Int) -> [Int] {
        let weights = (1...s).map { k == 0 || $0 == 1 ? 1.0 : PortableMath.exp(k * PortableMath.log(Double($0))) }
        let total = weights.reduce(0, +)
        var sizes = weights.map { max(1, Int((Double(m) * $0 / total).rounded(.down))) }
        sizes[s - 1] += m - sizes.reduce(0, +)
        return sizes
    }
}
