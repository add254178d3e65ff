// swift-tools-version:6.0
// A third-party entropy model for the LIC Toolkit, as its own package: it
// depends on the toolkit's LICPluginKit product only and builds one plugin
// library, liblic-example-scale-prior.so, that `lic` loads through
// LIC_PLUGIN_PATH like any other plugin. See README.md here; run.sh builds,
// trains, encodes and decodes with it (CI runs it).
import PackageDescription

let package = Package(
    name: "ScalePriorPlugin",
    products: [
        .library(name: "lic-example-scale-prior", type: .dynamic, targets: ["ScalePrior"]),
    ],
    // The toolkit checkout this example lives in (any LIC checkout or release works the same way).
    dependencies: [.package(name: "LIC", path: "../..")],
    targets: [
        .target(name: "ScalePrior", dependencies: [.product(name: "LICPluginKit", package: "LIC")]),
    ]
)
