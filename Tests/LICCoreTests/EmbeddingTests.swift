import Foundation
import Testing
@testable import LICCore

/// The C example program, built against an installed tree through pkg-config.
@Suite struct EmbeddingTests {
    @Test func cExampleEncodesAndDecodes() throws {
        let prefix = try TestSupport.temporaryDirectory()
        let install = try TestSupport.run("/bin/bash", [TestSupport.packageRoot + "/tools/install.sh", prefix, TestSupport.buildDirectory])
        #expect(install.status == 0, "\(install.stderr)")
        let flags = try TestSupport.run("/usr/bin/pkg-config", ["--cflags", "--libs", "lic"],
                                        environment: ["PKG_CONFIG_PATH": prefix + "/lib/pkgconfig"])
        #expect(flags.status == 0, "\(flags.stderr)")
        let program = prefix + "/embed_example"
        try TestSupport.compileC([TestSupport.packageRoot + "/examples/embed/embed_example.c"], output: program, shared: false,
                                 libraries: flags.stdout.split(whereSeparator: \.isWhitespace).map(String.init))
        let run = try TestSupport.run(program, [])
        #expect(run.exitedNormally && run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("PSNR") && run.stdout.contains("damaged stream: status 3"))
        // A learned model directory (a CompressAI import): encodes and decodes through the same API.
        let model = TestSupport.packageRoot + "/Tests/LICCoreTests/Fixtures/compressai/mbt2018-mean-small"
        let learned = try TestSupport.run(program, [model, "3"])
        #expect(learned.exitedNormally && learned.status == 0, "\(learned.stdout)\(learned.stderr)")
        #expect(learned.stdout.contains("PSNR") && learned.stdout.contains("damaged stream: status 3"), "\(learned.stdout)")
        // Its descriptor without the weights is refused with a reason.
        let weightless = try TestSupport.run(program, [model + "/model.toml"])
        #expect(weightless.exitedNormally && weightless.status == 1 && weightless.stderr.contains("needs its weights"), "\(weightless.stderr)")
        // A descriptor path that does not exist is an error with a message, not a crash.
        let missing = try TestSupport.run(program, [prefix + "/nope.toml"])
        #expect(missing.exitedNormally && missing.status == 1 && missing.stderr.contains("nope.toml"))
    }
}
