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
        let cheng = try LearnedCodecTests.tiny("cheng2020-anchor-checkerboard")
        #expect(zip(cheng.stages, cheng.nodes).compactMap { stage, node -> Int?? in
            guard case .transform(let transform) = node else { return nil }
            return .some(transform.halo)
        } == [64, nil, nil, 8])
    }

    /// Tiles of 64 image pixels on a 200 x 150 image (padded to 256 x 192):
    /// 12 analysis tiles of 4 x 4 latents, 12 synthesis tiles.
    @Test(arguments: ["mbt2018-mean", "mbt2018-mean-vr", "channelwise-power", "cheng2020-anchor-checkerboard", "elic2022",
                      "elic2022-official"])
    func tiledCodingMatchesTheWholeImage(_ name: String) throws {
        let codec = try LearnedCodecTests.tiny(name)
        let image = try TestSupport.syntheticImage(width: 200, height: 150, channels: 3, seed: 4)
        codec.tilePlan = nil
        let whole = try codec.encode(image)
        let x = try ImagePlanes.tensor(from: image, alignment: try codec.alignment())
        let wholeLatent = try codec.encodePass(x).tensors["y_hat"]!.values
        codec.tilePlan = TilePlan(side: 64)
        let tiled = try codec.encode(image)
        let tiledLatent = try codec.encodePass(x, tiles: TilePlan(side: 64)).tensors["y_hat"]!.values
        // The same symbols and streams (the file also records the tile side); the reconstruction within float rounding.
        #expect(tiledLatent == wholeLatent)
        let (tiledFile, wholeFile) = (try Container(parsing: tiled.bytes), try Container(parsing: whole.bytes))
        #expect(tiledFile.streams == wholeFile.streams && tiledFile.tileSide == 64 && wholeFile.tileSide == nil)
        let difference = zip(tiled.reconstruction.pixels, whole.reconstruction.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
        #expect(difference == 0, "\(name): pixels differ by \(difference)")
        #expect(try codec.decode(tiled.bytes, source: "tiled.lic") == tiled.reconstruction)
    }

    /// `lic encode --memory-budget`: the tile side comes from a measured cost
    /// per pixel; the encode stays within the budget (the tensor engine's
    /// measured peak), a larger budget takes larger tiles, and decoding gives
    /// the encoder's reconstruction. The shipped model (N = 128, M = 192) on a
    /// 768 x 640 image, about 600 MB untiled.
    @Test func aMemoryBudgetChoosesTheTile() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let model = TestSupport.packageRoot + "/models/mbt2018-mean-vr"
        let image = directory + "/image.png"
        try PNGFile.write(try TestSupport.syntheticImage(width: 768, height: 640, channels: 3, seed: 9), to: image)
        var sides: [Int] = []
        for budget in [300, 400] {
            let (file, reconstruction, decoded) = (directory + "/\(budget).lic", directory + "/rec.png", directory + "/dec.png")
            let encoding = try TestSupport.run(TestSupport.licExecutable, ["encode", "--model", model, image, "-o", file,
                                                                           "--reconstruction", reconstruction, "--quality", "1",
                                                                           "--memory-budget", String(budget)])
            #expect(encoding.status == 0, "\(encoding.stderr)")
            guard encoding.status == 0 else { return }
            let peak = encoding.stderr.split(separator: "\n").first { $0.contains("peak tensor memory") }
                .flatMap { Int($0.split(separator: " ").dropLast().last ?? "") }
            let measured = try #require(peak, "\(encoding.stderr)")
            #expect(measured + TileSizing.reservedBytes >> 20 <= budget, "budget \(budget) MiB: peak \(measured) MiB")
            let side = try #require(try Container(parsing: [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))).tileSide, "budget \(budget): untiled")
            sides.append(side)
            let decoding = try TestSupport.run(TestSupport.licExecutable, ["decode", "--model", model, file, "-o", decoded])
            #expect(decoding.status == 0, "\(decoding.stderr)")
            #expect(try PNGFile.read(path: decoded) == PNGFile.read(path: reconstruction))
        }
        #expect(sides[0] < sides[1] && sides[1] < 768, "tile sides \(sides)")
    }

    /// The side is recorded only where the image exceeds one tile, and only as a multiple of 16.
    @Test func theFileRecordsTheTileSide() throws {
        let codec = try LearnedCodecTests.tiny("mbt2018-mean")
        codec.tilePlan = TilePlan(side: 100)
        #expect(codec.tilePlan?.side == 96)
        let small = try codec.encode(try TestSupport.syntheticImage(width: 60, height: 60, channels: 3))  // padded to 64
        #expect(try Container(parsing: small.bytes).tileSide == nil)
        let large = try codec.encode(try TestSupport.syntheticImage(width: 130, height: 60, channels: 3))
        #expect(try Container(parsing: large.bytes).tileSide == 96)
        // Decoding follows the file, whatever the decoding codec's own plan.
        codec.tilePlan = nil
        #expect(try codec.decode(large.bytes, source: "large.lic") == large.reconstruction)
        var container = try Container(parsing: large.bytes)
        container.tileSide = 40
        #expect(throws: ContainerError.badTileSide(40)) { try container.serialized() }
    }

    @Test func pasteRefusesWindowsOutsideTheTile() throws {
        let tile = try Tensor(zeros: [1, 2, 4, 4]), output = try Tensor(zeros: [1, 2, 8, 8])
        #expect(throws: LICError.self) { try TransformNode.paste(tile, from: (2, 2), size: (3, 3), into: output, at: (0, 0)) }
        #expect(throws: LICError.self) { try TransformNode.paste(tile, from: (0, 0), size: (4, 4), into: output, at: (6, 0)) }
    }
}
