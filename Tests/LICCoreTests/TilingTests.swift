import Foundation
import LICTensor
import Testing
@testable import LICCore

/// Coding passes over tiles (lic_transform_v3.halo): the same latents and
/// reconstruction as the whole image, decode equal to the encoder's
/// reconstruction, tiles planned from the image alone.
@Suite struct TilingTests {
    @Test func rangesCoverTheExtentEvenly() {
        #expect(TilePlan.ranges(extent: 10, tile: 4) == [0..<3, 3..<6, 6..<10])
        #expect(TilePlan.ranges(extent: 8, tile: 8) == [0..<8])
        #expect(TilePlan.ranges(extent: 1, tile: 3) == [0..<1])
    }

    @Test func theLearnedTransformsDeclareTheirHalo() throws {
        let codec = try LearnedCodecTests.tiny("mbt2018-mean-vr")
        let halos = Dictionary(uniqueKeysWithValues: zip(codec.stages, codec.nodes).compactMap { stage, node -> (String, Int?)? in
            guard case .transform(let transform) = node else { return nil }
            return (stage.name, transform.halo)
        })
        #expect(halos == ["analysis": 32, "gain": 0, "hyper.analysis": nil, "hyper.synthesis": nil, "inverse.gain": 0, "synthesis": 2])
    }

    /// Tiles of 64 image pixels on a 200 x 150 image (padded to 256 x 192):
    /// 12 analysis tiles of 4 x 4 latents, 12 synthesis tiles.
    @Test(arguments: ["mbt2018-mean", "mbt2018-mean-vr", "channelwise-power"])
    func tiledCodingMatchesTheWholeImage(_ name: String) throws {
        let codec = try LearnedCodecTests.tiny(name)
        let image = try TestSupport.syntheticImage(width: 200, height: 150, channels: 3, seed: 4)
        codec.tilePlan = nil
        let whole = try codec.encode(image)
        let x = try ImagePlanes.tensor(from: image, alignment: try codec.alignment())
        let wholeLatent = try codec.encodePass(x).tensors["y_hat"]!.values
        codec.tilePlan = TilePlan(side: 64)
        let tiled = try codec.encode(image)
        let tiledLatent = try codec.encodePass(x).tensors["y_hat"]!.values
        // The same symbols, the same file; the reconstruction within float rounding of the whole image's.
        #expect(tiledLatent == wholeLatent)
        #expect(tiled.bytes == whole.bytes)
        let difference = zip(tiled.reconstruction.pixels, whole.reconstruction.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
        #expect(difference == 0, "\(name): pixels differ by \(difference)")
        #expect(try codec.decode(tiled.bytes, source: "tiled.lic") == tiled.reconstruction)
    }

    @Test func pasteRefusesWindowsOutsideTheTile() throws {
        let tile = try Tensor(zeros: [1, 2, 4, 4]), output = try Tensor(zeros: [1, 2, 8, 8])
        #expect(throws: LICError.self) { try TransformNode.paste(tile, from: (2, 2), size: (3, 3), into: output, at: (0, 0)) }
        #expect(throws: LICError.self) { try TransformNode.paste(tile, from: (0, 0), size: (4, 4), into: output, at: (6, 0)) }
    }
}
