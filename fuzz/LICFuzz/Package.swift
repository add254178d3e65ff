// swift-tools-version:6.0
// libFuzzer harnesses for the LIC Toolkit (see fuzz/README.md). A package of
// its own so that the root package stays free of sanitizer-only targets
// (in a directory named apart from any checkout: SwiftPM identifies a path
// dependency by its directory name, and two equal names would collide):
// `run.sh` builds each harness product with -sanitize=fuzzer,address, which
// also instruments the root package's code it links (and the built-in
// plugins, built beside the harness). `lic-mutate` and `lic-fuzz-seeds`
// have mains of their own and are built without the fuzzer runtime.
import PackageDescription

/// One executable per harness; each defines LLVMFuzzerTestOneInput and takes
/// libFuzzer's main.
let harnesses = [
    "fuzz-container", "fuzz-toml", "fuzz-png",
    "fuzz-decode-classical", "fuzz-decode-factorized", "fuzz-decode-hyperprior",
    "fuzz-decode-mean", "fuzz-decode-checkerboard", "fuzz-decode-mean-tcq", "fuzz-decode-channelwise-power",
    "fuzz-decode-mbt2018", "fuzz-decode-cheng2020-anchor-checkerboard", "fuzz-decode-elic2022-official",
]

/// The built-in plugins, so that they are built (instrumented) beside the
/// harness, where the host looks for them.
let plugins: [Target.Dependency] = [
    .product(name: "lic-plugin-classical", package: "LIC"),
    .product(name: "lic-plugin-learned", package: "LIC"),
]

let package = Package(
    name: "LICFuzz",
    products: harnesses.map { .executable(name: $0, targets: [$0]) } + [
        .executable(name: "lic-mutate", targets: ["lic-mutate"]),
        .executable(name: "lic-fuzz-seeds", targets: ["lic-fuzz-seeds"]),
    ],
    dependencies: [.package(name: "LIC", path: "../..")],
    targets: [
        .target(name: "LICFuzzSupport", dependencies: [.product(name: "LICCore", package: "LIC")]),
        .executableTarget(name: "lic-mutate", dependencies: ["LICFuzzSupport"] + plugins),
        .executableTarget(name: "lic-fuzz-seeds", dependencies: ["LICFuzzSupport"] + plugins),
    ] + harnesses.map { .executableTarget(name: $0, dependencies: ["LICFuzzSupport"] + plugins) }
)
