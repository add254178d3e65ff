import CLIC
import LICPluginKit

/// GDN's parameters (Balle et al.) as CompressAI stores them: "<prefix>beta"
/// [C] and "<prefix>gamma" [C, C] in the non-negative reparametrization of
/// its NonNegativeParametrizer (stored p, used max(p, sqrt(bound + pedestal))^2 - pedestal),
/// initialized to beta 1 and gamma 0.1 I. Shared by every transform with GDN.
struct GDNLayer {
    static let pedestal: Float = 1.0 / Float(1 << 18) / Float(1 << 18)

    let beta: Tensor, gamma: Tensor
    let inverse: Bool

    init(prefix: String, channels: Int, inverse: Bool, host: Host) throws {
        let identity = (0..<(channels * channels)).map { $0 / channels == $0 % channels ? Float(0.1) : 0 }
        beta = try host.parameter("\(prefix)beta", shape: [channels], initializer: LIC_INIT_CONSTANT, a: (1 + Self.pedestal).squareRoot())
        gamma = try host.parameter("\(prefix)gamma", shape: [channels, channels], initializer: LIC_INIT_VALUES,
                                   values: identity.map { ($0 + Self.pedestal).squareRoot() })
        self.inverse = inverse
    }

    func apply(_ x: Tensor) throws -> Tensor {
        try x.gdn(beta: Self.nonNegative(beta, minimum: 1e-6), gamma: Self.nonNegative(gamma, minimum: 0), inverse: inverse)
    }

    private static func nonNegative(_ p: Tensor, minimum: Float) throws -> Tensor {
        try p.lowerBounded((minimum + pedestal).squareRoot()).squared() - pedestal
    }
}
