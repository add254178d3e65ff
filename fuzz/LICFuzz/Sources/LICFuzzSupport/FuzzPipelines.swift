import Foundation
import LICCore

/// The pipelines the decode harnesses and the mutation run code with: the
/// default classical pipeline, and every learned descriptor of
/// examples/pipelines shrunk to N = 8, M = 12 channels (as the test suite
/// does), with the weights their plugins initialize from fixed seeds. No
/// model directory is needed: the same weights come out on every run, and
/// the decoders' code paths do not depend on how well a model is trained.
/// Their quantizers use a fine step (see `quantizer`).
public enum FuzzPipeline: String, CaseIterable, Sendable {
    case classical
    case factorized = "bmshj2018-factorized"
    case hyperprior = "bmshj2018-hyperprior"
    case mean = "mbt2018-mean"
    case checkerboard = "mbt2018-checkerboard"
    /// mbt2018-mean coding with the 8-state trellis quantizer (tables per level set).
    case meanTCQ = "mbt2018-mean-tcq"
    /// The channel-wise context model (power 1.7 groups, LRP).
    case channelwise = "channelwise-power"
    /// The spatial autoregressive context model (decoded in wavefronts).
    case autoregressive = "mbt2018"
    /// Residual-block transforms with GDN and CompressAI's checkerboard entropy-parameter network.
    case cheng2020 = "cheng2020-anchor-checkerboard"
    /// ELIC's transforms and Elic2022Official's space-channel context (three uneven groups at this size).
    case elic = "elic2022-official"

    /// The toolkit's root: LIC_ROOT, or where fuzz/LICFuzz was built from.
    public static var root: String {
        if let root = ProcessInfo.processInfo.environment["LIC_ROOT"], !root.isEmpty { return root }
        var url = URL(fileURLWithPath: #filePath)  // fuzz/LICFuzz/Sources/LICFuzzSupport/FuzzPipelines.swift
        for _ in 0..<5 { url = url.deletingLastPathComponent() }
        return url.path
    }

    /// The descriptor's text (the classical one is the built-in default).
    public func descriptorText() throws -> String {
        switch self {
        case .classical: return DefaultPipeline.text
        case .meanTCQ: return try Self.tiny(FuzzPipeline.mean.rawValue) + Self.quantizer("lic.quantizer.tcq")
        default: return try Self.tiny(rawValue) + Self.quantizer("lic.quantizer.uniform")
        }
    }

    /// Untrained latents are small: a fine step gives streams with real
    /// symbol statistics (and escapes) instead of all zeros.
    static func quantizer(_ id: String) -> String { "\n[quantizer]\nplugin = \"\(id)\"\nstep = \(fineStep)\n" }
    static let fineStep = 0.02

    static func tiny(_ name: String) throws -> String {
        try String(contentsOfFile: root + "/examples/pipelines/\(name).toml", encoding: .utf8)
            .replacingOccurrences(of: "channels = 128", with: "channels = 8")
            .replacingOccurrences(of: "latent = 192", with: "latent = 12")
            .replacingOccurrences(of: "channels = 192", with: "channels = 12")
            .replacingOccurrences(of: "latent = 320", with: "latent = 12")
            .replacingOccurrences(of: "groups = \"16,16,32,64,192\"", with: "groups = \"2,2,8\"")
            .replacingOccurrences(of: "hyper_channels = 384", with: "hyper_channels = 24")
    }

    public func makeCodec() throws -> Codec {
        try Codec(descriptor: PipelineDescriptor.parse(descriptorText(), source: "\(rawValue).toml", baseDirectory: nil))
    }
}

/// Small deterministic test images: gradients, edges and noise.
public enum FuzzImages {
    public static func synthetic(width: Int, height: Int, channels: Int, seed: UInt64) throws -> Image {
        var state = seed
        var pixels = [UInt8](repeating: 0, count: width * height * channels)
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<channels {
                    state = state &* 6364136223846793005 &+ 1442695040888963407
                    let noise = Int(state >> 60)
                    let smooth = (x * 255 / width + y * 128 / height + c * 60) % 256
                    let edge = ((x / 5 + y / 7) % 2) * 40
                    pixels[(y * width + x) * channels + c] = UInt8(clamping: smooth / 2 + edge + noise * 4)
                }
            }
        }
        return try Image(width: width, height: height, channels: channels, pixels: pixels)
    }
}
