// swift-tools-version:6.0
// The LIC Toolkit: a host with a stable C ABI (SDK/include/lic) that loads
// plugins (Plugins/) and composes them into image codecs.
import PackageDescription

let package = Package(
    name: "LIC",
    products: [
        .executable(name: "lic", targets: ["lic"]),
        // Benchmarks of our own components (see benchmarks/*/run.sh).
        .executable(name: "lic-bench", targets: ["lic-bench"]),
        // The embedding library behind SDK/include/lic/lic.h (liblicembed.so).
        .library(name: "licembed", type: .dynamic, targets: ["LICEmbed"]),
        // Built-in plugins: ordinary plugin libraries, found beside the executable.
        .library(name: "lic-plugin-classical", type: .dynamic, targets: ["LICClassicalPlugin"]),
        .library(name: "lic-plugin-learned", type: .dynamic, targets: ["LICLearnedPlugin"]),
        // For third-party plugins written in Swift.
        .library(name: "LICPluginKit", targets: ["LICPluginKit"]),
        // The host library, for the fuzz harnesses (fuzz/Package.swift).
        .library(name: "LICCore", targets: ["LICCore", "LICTensor"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // SHA-256 for the model identity (BoringSSL, ~7x the hand-written one).
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // The plugin ABI headers as a Clang module (header-only).
        .systemLibrary(name: "CLIC", path: "SDK/include"),
        .systemLibrary(name: "CLTDL", path: "Sources/CLTDL"),
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL"),
        // Tensors, ops (oneDNN and CPU kernels), autodiff, parameters, optimizers, checkpoints.
        .target(name: "LICTensor", dependencies: ["CDNNL", "CLicExact"]),
        // The exact-mode convolution tile: AVX2 or SSE2 chosen at run time, the same bits either way.
        .target(name: "CLicExact"),
        // libpng reports errors with longjmp, which must stay in C.
        .target(name: "CLicPNG", linkerSettings: [.linkedLibrary("png16")]),
        .target(name: "LICPluginKit", dependencies: ["CLIC"], path: "SDK/Swift/LICPluginKit"),
        // dladdr, to find the built-in plugin directory beside our own binary.
        .target(name: "CLicPlatform", linkerSettings: [.linkedLibrary("dl")]),
        // LICPluginKit only for swiftRuntimeName: host and plugins must name the runtime the same way.
        // Crypto (swift-crypto) for SHA-256: the model identity hashes every weight on each --model encode/decode.
        .target(name: "LICCore", dependencies: ["CLIC", "CLTDL", "CLicPNG", "CLicPlatform", "LICPluginKit", "LICTensor",
                                                .product(name: "Crypto", package: "swift-crypto")]),
        .executableTarget(name: "lic", dependencies: [
            "LICCore", "LICTensor", "CLIC", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .target(name: "LICEmbed", dependencies: ["LICCore"]),
        .executableTarget(name: "lic-bench", dependencies: ["LICCore", "LICTensor"], path: "benchmarks/lic-bench"),
        .target(name: "LICClassicalPlugin", dependencies: ["LICPluginKit"], path: "Plugins/Classical"),
        .target(name: "LICLearnedPlugin", dependencies: ["LICPluginKit"], path: "Plugins/Learned"),
        .testTarget(name: "LICCoreTests", dependencies: ["LICCore"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "LICTensorTests", dependencies: ["LICTensor"]),
    ]
)
