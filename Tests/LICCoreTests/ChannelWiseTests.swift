import Foundation
import Testing
@testable import LICCore

/// lic.entropy.channelwise: every kind of slice grouping codes and decodes
/// exactly; the grouping arithmetic (read back from the weights' shapes) and
/// its errors.
@Suite struct ChannelWiseTests {
    /// The channel-wise example at N = 8 and latent `m`, with `groups`, LRP on or off and `max_support`.
    static func model(groups: String, m: Int, lrp: Bool = true, maxSupport: Int = 5, checkerboard: Bool = false) throws -> Codec {
        try Codec(descriptor: PipelineDescriptor.parse(try text(groups: groups, m: m, lrp: lrp, maxSupport: maxSupport, checkerboard: checkerboard),
                                                       source: "channelwise.toml", baseDirectory: nil))
    }

    static func text(groups: String, m: Int, lrp: Bool = true, maxSupport: Int = 5, checkerboard: Bool = false) throws -> String {
        try String(contentsOfFile: TestSupport.packageRoot + "/examples/pipelines/channelwise-power.toml", encoding: .utf8)
            .replacingOccurrences(of: "channels = 128", with: "channels = 8")
            .replacingOccurrences(of: "latent = 192", with: "latent = \(m)")
            .replacingOccurrences(of: "groups = \"power:1.7:5\"", with: "groups = \"\(groups)\"")
            .replacingOccurrences(of: "lrp = true", with: "lrp = \(lrp)\ncheckerboard = \(checkerboard)")
            .replacingOccurrences(of: "max_support = 5", with: "max_support = \(maxSupport)")
    }

    /// The slice sizes the model built: the output channels of each slice's mean network.
    static func slices(_ codec: Codec) -> [Int] {
        (0...).lazy.map { codec.store.parameter("entropy/cc_mean_transforms.\($0).8.bias")?.shape[0] }
            .prefix { $0 != nil }.map { $0! }
    }

    @Test(arguments: [("power:1.7:5", 40, true, 5, false), ("even:3", 12, true, 5, false), ("elic", 136, true, 5, false),
                      ("4,2,6", 12, false, 1, false), ("even:4", 12, true, 2, false), ("elic", 136, true, 5, true),
                      ("4,2,6", 12, false, 1, true)])
    func everyGroupingCodesAndDecodesExactly(_ groups: String, _ m: Int, _ lrp: Bool, _ maxSupport: Int, _ checkerboard: Bool) throws {
        let model = try Self.model(groups: groups, m: m, lrp: lrp, maxSupport: maxSupport, checkerboard: checkerboard)
        // An untrained analysis gives latents that all round to the means; larger ones give every slice symbols to code.
        for name in ["analysis/6.weight", "analysis/6.bias"] {
            try #require(model.store.parameter(name)).withUnsafeMutableBufferPointer { for i in $0.indices { $0[i] *= 40 } }
        }
        model.weightsChanged()
        let image = try TestSupport.syntheticImage(width: 70, height: 37, channels: 3)
        let started = Date()
        let encoded = try model.encode(image)
        let encoding = Date().timeIntervalSince(started)
        let decoded = try model.decode(encoded.bytes, source: "\(groups).lic")
        print("channelwise \(groups) M=\(m): \(encoded.bytes.count) bytes, encode \(encoding) s, decode \(Date().timeIntervalSince(started) - encoding) s")
        #expect(decoded == encoded.reconstruction)
        // LRP networks exist exactly when asked for.
        #expect((model.store.parameter("entropy/lrp_transforms.0.0.weight") != nil) == lrp)
        // All slices go into one stream (after the hyperprior's): five streams would cost five length fields and CRCs.
        let streams = try Container(parsing: encoded.bytes).streams
        #expect(streams.count == 2)
        #expect(streams.last!.bytes.count > 4 * m, "\(streams.last!.bytes.count) bytes for the slices")
    }

    /// ELIC's space-channel context: each slice's spatial context network
    /// exists, feeds the slice's networks and decides its non-anchors'
    /// distributions (changing its weights changes the estimated rate), and
    /// the coded file still decodes exactly.
    @Test func theCheckerboardInsideSlicesIsUsed() throws {
        let model = try Self.model(groups: "4,2,6", m: 12, checkerboard: true)
        let image = try TestSupport.syntheticImage(width: 64, height: 48, channels: 3, seed: 5)
        // Larger latents than an untrained analysis gives, so the non-anchors carry real rate.
        for name in ["analysis/6.weight", "analysis/6.bias"] {
            try #require(model.store.parameter(name)).withUnsafeMutableBufferPointer { for i in $0.indices { $0[i] *= 40 } }
        }
        model.weightsChanged()
        let weight = try #require(model.store.parameter("entropy/spatial_context.2.weight"))
        #expect(weight.shape == [12, 6, 5, 5])
        let before = try Evaluator.estimatedBits(model, image, rateLevel: nil)
        weight.withUnsafeMutableBufferPointer { for i in $0.indices { $0[i] = $0[i] * 8 + 0.05 } }
        model.weightsChanged()
        let after = try Evaluator.estimatedBits(model, image, rateLevel: nil)
        // Without the context the two passes would compute exactly the same numbers.
        #expect(after != before, "rate \(before) -> \(after) bits")
        // Slice 2's mean network sees the hyper means (12), slices 0-1 (6) and the context (2 x 6).
        #expect(model.store.parameter("entropy/cc_mean_transforms.2.0.weight")?.shape[1] == 12 + 6 + 12)
        let encoded = try model.encode(image)
        #expect(try model.decode(encoded.bytes, source: "cb.lic") == encoded.reconstruction)
    }

    /// A coarser uniform quantizer (the coder picks tables by scale in steps) codes exactly; a trellis is refused by name.
    @Test func quantizers() throws {
        let image = try TestSupport.syntheticImage(width: 40, height: 24, channels: 3)
        let coarse = try Codec(descriptor: PipelineDescriptor.parse(
            try Self.text(groups: "even:3", m: 12) + "\n[quantizer]\nplugin = \"lic.quantizer.uniform\"\nstep = 2\n", source: "c.toml", baseDirectory: nil))
        let encoded = try coarse.encode(image)
        #expect(try coarse.decode(encoded.bytes, source: "c.lic") == encoded.reconstruction)
        let trellis = try Codec(descriptor: PipelineDescriptor.parse(
            try Self.text(groups: "even:3", m: 12) + "\n[quantizer]\nplugin = \"lic.quantizer.tcq\"\n", source: "t.toml", baseDirectory: nil))
        let error = #expect(throws: LICError.self) { try trellis.encode(image) }
        #expect(error?.message.contains("lic.entropy.channelwise codes with a stateless quantizer") == true, "\(String(describing: error))")
    }

    @Test func groupingArithmetic() throws {
        #expect(Self.slices(try Self.model(groups: "power:1.7:5", m: 320, lrp: false)) == [8, 28, 56, 92, 136])
        #expect(Self.slices(try Self.model(groups: "power:1.7:5", m: 192, lrp: false)) == [5, 16, 33, 55, 83])
        #expect(Self.slices(try Self.model(groups: "power:1.7:5", m: 40, lrp: false)) == [1, 3, 7, 11, 18])
        // Small latents: a slice with no channel gets one, the last gives it up.
        #expect(Self.slices(try Self.model(groups: "power:1.7:5", m: 16, lrp: false)) == [1, 1, 2, 4, 8])
        #expect(Self.slices(try Self.model(groups: "power:1.7:5", m: 24, lrp: false)) == [1, 2, 4, 6, 11])
        #expect(Self.slices(try Self.model(groups: "power:0:3", m: 10, lrp: false)) == [3, 3, 4])
        #expect(Self.slices(try Self.model(groups: "elic", m: 192, lrp: false)) == [16, 16, 32, 64, 64])
        #expect(Self.slices(try Self.model(groups: "even:10", m: 320, lrp: false)) == Array(repeating: 32, count: 10))
        #expect(Self.slices(try Self.model(groups: "16, 16,32", m: 64, lrp: false)) == [16, 16, 32])
        // The networks see the first max_support slices: slice 3's mean network reads M + 4 + 4 channels with max_support 2.
        let support = try Self.model(groups: "even:4", m: 16, lrp: true, maxSupport: 2)
        #expect(support.store.parameter("entropy/cc_mean_transforms.3.0.weight")?.shape[1] == 24)
        #expect(support.store.parameter("entropy/lrp_transforms.3.0.weight")?.shape[1] == 28)
    }

    @Test(arguments: [
        ("even:5", 12, "does not divide latent 12"), ("even:0", 12, "slice count S >= 1"), ("elic", 128, "needs latent > 128"),
        ("power:1.7:6", 5, "1 <= S <= latent"), ("power:x:5", 40, "is not power:K:S"), ("power:1.7", 40, "is not power:K:S"),
        ("4,4,5", 12, "sums to 13, not latent 12"), ("4,,8", 12, "is none of"), ("12,0", 12, "gives slice 1 0 channels"),
        ("uneven:3", 12, "is none of"),
    ])
    func badGroupsAreRefusedNamingTheParameter(_ groups: String, _ m: Int, _ message: String) throws {
        let error = #expect(throws: LICError.self) { try Self.model(groups: groups, m: m) }
        #expect(error?.message.contains("groups \"\(groups)\"") == true && error?.message.contains(message) == true,
                "\(String(describing: error))")
    }

    /// network = "elic" at Elic2022Official's sizes (N = 192, M = 320) builds CompressAI's layers: the channel
    /// context of slice k over all earlier slices, and the parameter aggregation widths of sequential_channel_ramp
    /// (read from CompressAI 1.2.8: [416, 384, 384, 32], [448, 384, 384, 32], [512, 384, 384, 64], [640, 469, 384, 128],
    /// [1152, 896, 640, 384]).
    @Test func elicNetworksHaveCompressAIsShapes() throws {
        let text = try String(contentsOfFile: TestSupport.packageRoot + "/examples/pipelines/elic2022-official.toml", encoding: .utf8)
        let codec = try Codec(descriptor: PipelineDescriptor.parse(text, source: "elic2022-official.toml", baseDirectory: nil))
        let widths = (0..<5).map { k in
            [codec.store.parameter("entropy/param_aggregation.\(k).0.weight")?.shape[1]]
                + [0, 2, 4].map { codec.store.parameter("entropy/param_aggregation.\(k).\($0).weight")?.shape[0] }
        }
        #expect(widths == [[416, 384, 384, 32], [448, 384, 384, 32], [512, 384, 384, 64], [640, 469, 384, 128], [1152, 896, 640, 384]])
        #expect(codec.store.parameter("entropy/channel_context.0.0.weight") == nil)
        #expect((1..<5).map { codec.store.parameter("entropy/channel_context.\($0).0.weight")?.shape[1] } == [16, 32, 64, 128])
        #expect(codec.store.parameter("entropy/channel_context.4.4.weight")?.shape == [384, 128, 5, 5])
        #expect(codec.store.parameter("entropy/cc_mean_transforms.0.0.weight") == nil)
    }

    @Test(arguments: [
        ("network = \"elic\"\nhyper_channels = 16", "needs checkerboard = true and lrp = false"),
        ("network = \"minnen\"\nhyper_channels = 16", "reads the mean-scale hyper output of 2 x latent = 48 channels"),
    ])
    func slicesNetworksRefuseWhatTheyCannotRead(_ extra: String, _ message: String) throws {
        let text = try Self.text(groups: "4,8,12", m: 24).replacingOccurrences(of: "groups = \"4,8,12\"", with: "groups = \"4,8,12\"\n" + extra)
        let error = #expect(throws: LICError.self) {
            try Codec(descriptor: PipelineDescriptor.parse(text, source: "channelwise.toml", baseDirectory: nil))
        }
        #expect(error?.message.contains(message) == true, "\(String(describing: error))")
    }

    /// A hyper synthesis whose output does not have hyper_channels channels is refused, naming the shape.
    @Test func elicNetworksRefuseAConditionOfOtherChannels() throws {
        let text = try LearnedCodecTests.tinyText("elic2022-official", n: 8, m: 12)
            .replacingOccurrences(of: "role = \"hyper-synthesis\"", with: "role = \"hyper-synthesis\"\nhyper_output = 20")
        let codec = try Codec(descriptor: PipelineDescriptor.parse(text, source: "elic2022-official.toml", baseDirectory: nil))
        let error = #expect(throws: LICError.self) { try codec.encode(try TestSupport.syntheticImage(width: 64, height: 64, channels: 3)) }
        #expect(error?.message.contains("needs the hyper synthesis output [B, 24, H, W]") == true, "\(String(describing: error))")
    }
}
