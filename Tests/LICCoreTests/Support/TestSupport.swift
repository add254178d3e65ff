import Foundation
@testable import LICCore

/// Paths and process helpers shared by the end-to-end tests.
enum TestSupport {
    /// The package root (this file is Tests/LICCoreTests/Support/TestSupport.swift).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    static let fixtures = packageRoot + "/Tests/LICCoreTests/Fixtures"

    /// The build directory holding this test binary, `lic`, liblicembed.so and the built-in plugins.
    static let buildDirectory: String = PluginSearchPath.builtinDirectories().first ?? packageRoot + "/.build/debug"

    static var licExecutable: String { buildDirectory + "/lic" }

    /// A fresh temporary directory.
    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "lic-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    struct Outcome {
        var status: Int32
        /// False when the process died of a signal: a crash, never acceptable.
        var exitedNormally: Bool
        var stdout: String
        var stderr: String
    }

    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                    directory: String? = nil) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read before waiting so a chatty child cannot fill the pipe and block.
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, exitedNormally: process.terminationReason == .exit,
                       stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// True when this process runs under AddressSanitizer (`swift test
    /// --sanitize=address`): our libraries are then instrumented, and a
    /// program linking them needs the sanitizer's runtime too.
    static let underAddressSanitizer = dlsym(nil, "__asan_init") != nil

    /// Compiles C sources with the system compiler; throws with its output on failure.
    /// `libraries` (linker flags) come after the sources, where the linker needs them.
    /// Under AddressSanitizer, programs are built by the toolchain's clang with
    /// -fsanitize=address (its runtime matches the one our libraries expect).
    static func compileC(_ sources: [String], output: String, shared: Bool, flags: [String] = [],
                         libraries: [String] = []) throws {
        var arguments = ["-std=c11", "-O1", "-Wall", "-Werror", "-I", packageRoot + "/SDK/include"]
        if shared { arguments += ["-shared", "-fPIC"] }
        arguments += flags + sources + ["-o", output] + libraries + ["-lm"]
        let sanitized = underAddressSanitizer && !shared
        let outcome = sanitized ? try run("/usr/bin/env", ["clang", "-fsanitize=address"] + arguments) : try run("/usr/bin/cc", arguments)
        guard outcome.status == 0 else { throw LICError("\(sanitized ? "clang" : "cc") failed: \(outcome.stderr)") }
    }

    /// A deterministic test image with smooth and sharp content.
    static func syntheticImage(width: Int, height: Int, channels: Int, seed: UInt64 = 1) throws -> Image {
        var state = seed
        var pixels = [UInt8](repeating: 0, count: width * height * channels)
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<channels {
                    state = state &* 6364136223846793005 &+ 1442695040888963407
                    let noise = Int(state >> 60)
                    let smooth = (x * 255 / max(width, 1) + y * 128 / max(height, 1) + c * 60) % 256
                    let edge = ((x / 5 + y / 7) % 2) * 40
                    pixels[(y * width + x) * channels + c] = UInt8(clamping: smooth / 2 + edge + noise * 4)
                }
            }
        }
        return try Image(width: width, height: height, channels: channels, pixels: pixels)
    }
}
