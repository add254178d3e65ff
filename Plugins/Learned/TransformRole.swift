import LICPluginKit

/// The four transforms of a hyperprior codec a transform family provides
/// (lic.transform.residual, lic.transform.elic): their names in the schema
/// and their geometry. Analysis maps the image to 1/16, synthesis back; the
/// hyper pair maps the latent to 1/4 and back.
enum TransformRole: String, CaseIterable {
    case analysis
    case synthesis
    case hyperAnalysis = "hyper-analysis"
    case hyperSynthesis = "hyper-synthesis"

    static var names: [String] { allCases.map(\.rawValue) }

    var downsamples: Bool { self == .analysis || self == .hyperAnalysis }
    /// The scale between input and output.
    var factor: Int { self == .analysis || self == .synthesis ? 16 : 4 }
    /// Input sides must be multiples of this.
    var alignment: Int { downsamples ? factor : 1 }

    /// The output shape for `input` [B, inChannels, H, W]; errors name `component`.
    func outputShape(for input: [Int], inChannels: Int, outChannels: Int, component: String) throws -> [Int] {
        guard input.count == 4, input[1] == inChannels else {
            throw PluginError(.invalidArgument, "\(component) (\(rawValue)): input \(input) does not have \(inChannels) channels")
        }
        guard downsamples else { return [input[0], outChannels, input[2] * factor, input[3] * factor] }
        guard input[2] % factor == 0, input[3] % factor == 0 else {
            throw PluginError(.invalidArgument, "\(component) (\(rawValue)): \(input[2])x\(input[3]) is not a multiple of \(factor)")
        }
        return [input[0], outChannels, input[2] / factor, input[3] / factor]
    }
}

extension TransformRole {
    /// The role a component's "role" parameter names.
    init(_ params: Params, component: String) throws {
        guard let role = TransformRole(rawValue: try params.string("role")) else {
            throw PluginError(.invalidArgument, "\(component): unknown role")
        }
        self = role
    }

    /// A halo of `analysis` image pixels or `synthesis` latents; the hyper transforms see the whole latent.
    func halo(analysis: Int, synthesis: Int) -> Int? {
        self == .analysis ? analysis : self == .synthesis ? synthesis : nil
    }
}

/// A transform family with the four roles: its alignment and output shape
/// follow from the role and its channel counts.
protocol RoleTransform: DifferentiableTransformComponent {
    static var component: String { get }
    var role: TransformRole { get }
    var inChannels: Int { get }
    var outChannels: Int { get }
}

extension RoleTransform {
    var alignment: Int { role.alignment }

    func outputShape(for input: [Int]) throws -> [Int] {
        try role.outputShape(for: input, inChannels: inChannels, outChannels: outChannels, component: Self.component)
    }
}
