// swift-tools-version:6.0
// libFuzzer targets for odflash's parsers. Built only by scripts/fuzz (with -sanitize=fuzzer,address);
// the main package never builds this. One binary, the parser chosen by ODFLASH_FUZZ_TARGET.
import PackageDescription

let package = Package(
    name: "odflash-fuzz",
    dependencies: [.package(name: "odflash", path: "../..")],
    targets: [
        .executableTarget(
            name: "odflash-fuzz",
            dependencies: [.product(name: "ODFlashCore", package: "odflash")]),
    ],
    swiftLanguageModes: [.v6]
)
