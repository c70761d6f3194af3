// swift-tools-version:6.0
import PackageDescription

// Layering, top to bottom; a module imports only modules below it, exactly the ones its target lists:
//   odflash     the one-line @main -> CLI
//   CLI         commands, text and JSON output -> Operations and the modules below it
//   Operations  the use cases (flash, dump, media check, region, book type; device names, journal, safe file writes)
//               -> FirmwareDB, Flashing, Emulator, Transports, MMC, Firmware, SCSI
//   FirmwareDB  -> Flashing, Emulator, Firmware, SCSI, YAML (the Emulator module owns and checks the `emulator:` blocks of
//               flash sequences; Flashing keeps them as opaque text)
//   Flashing    -> Firmware, MMC, SCSI, CSignal        Emulator -> MMC, SCSI, YAML
//   Firmware    -> SCSI, CZlibShim, CBytes (byte loops over whole images in C)
//   MMC -> SCSI      Transports -> SCSI, CSGIO, CLibUSB
//   SCSI        -> CAES (AES-128 and AES-CMAC in C), CBytes (byte loops in C)
//   YAML        the YAML reader for firmware-db and the emulator profiles (no dependencies; no Foundation)
// The ODFlashCore library is everything below the CLI (scripts/fuzz builds against it).
let package = Package(
    name: "odflash",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "odflash", targets: ["odflash"]),
        .library(name: "ODFlashCore", targets: ["YAML", "SCSI", "Transports", "Emulator", "MMC", "Firmware", "FirmwareDB", "Flashing", "Operations"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.0"),
    ],
    targets: [
        // C shims
        .target(name: "CSGIO", path: "Sources/CSGIO"),
        // Signal handlers that only record (the flash's protected write window) and a sleep that resumes after a signal
        .target(name: "CSignal", path: "Sources/CSignal"),
        // libusb-1.0 (headers from libusb-1.0-0-dev), loaded with dlopen when a USB drive is first asked for
        .target(name: "CLibUSB", path: "Sources/CLibUSB"),

        // AES-128 and AES-CMAC (the MediaTek integrity table), in C so debug builds verify 2 MiB in milliseconds
        .target(name: "CAES", path: "Sources/CAES"),
        // The byte loops over whole images (heuristic media-table scan, byte diff, literal search, even/odd sums), in C
        .target(name: "CBytes", path: "Sources/CBytes"),
        // YAML: the reader of firmware-db and the emulator profiles (a subset of YAML 1.2, errors with lines)
        .target(name: "YAML"),
        // SCSI core: CDBs, sense, the transport protocol
        .target(name: "SCSI", dependencies: ["CAES", "CBytes"]),
        // Transports: Linux SG_IO, USB Bulk-Only via libusb, transcript record/replay
        .target(name: "Transports", dependencies: ["SCSI", "CSGIO", "CLibUSB"]),
        // The emulated MMC drive (a transport that answers like a drive)
        .target(name: "Emulator", dependencies: ["SCSI", "MMC", "YAML"]),
        // zlib (headers from zlib1g-dev), loaded with dlopen when a .gz or .zip container is first opened
        .target(name: "CZlibShim", path: "Sources/CZlibShim"),
        // Firmware images: identification, the checksum engine, media tables, containers (.zip, .gz)
        .target(name: "Firmware", dependencies: ["SCSI", "CZlibShim", "CBytes"]),
        // MMC: drive and disc identification over any transport
        .target(name: "MMC", dependencies: ["SCSI"]),
        // firmware-db: models, families, provenance (the Emulator module checks the emulator blocks of flash sequences)
        .target(name: "FirmwareDB", dependencies: ["SCSI", "Firmware", "Flashing", "Emulator", "YAML"]),
        // Flashing: protocols as data, the plan, preflight, the executor (runs against any transport)
        .target(name: "Flashing", dependencies: ["SCSI", "MMC", "Firmware", "CSignal"]),
        // Use cases: sessions for flash, dump, media check, region and book type; device names; journal; safe file writes
        .target(name: "Operations", dependencies: ["SCSI", "Transports", "Emulator", "MMC", "Firmware", "FirmwareDB", "Flashing"]),
        // Command-line interface
        .target(
            name: "CLI",
            dependencies: [
                "SCSI", "Transports", "Emulator", "MMC", "Firmware", "FirmwareDB", "Flashing", "Operations",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(name: "odflash", dependencies: ["CLI"]),

        // PyYAML (python3-yaml) is the reference the YAML reader is compared with
        .testTarget(name: "YAMLTests", dependencies: ["YAML"]),
        .testTarget(name: "SCSITests", dependencies: ["SCSI"]),
        .testTarget(name: "TransportsTests", dependencies: ["Transports", "Emulator", "SCSI"]),
        .testTarget(name: "EmulatorTests", dependencies: ["Emulator", "SCSI", "MMC"]),
        .testTarget(name: "MMCTests", dependencies: ["MMC", "SCSI"]),
        // ZIPFoundation writes the test archives (an independent zip writer; odflash reads zips with its own reader)
        .testTarget(name: "FirmwareTests", dependencies: ["Firmware", "FirmwareDB", .product(name: "PropertyBased", package: "swift-property-based"),
                                                          .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        .testTarget(name: "FirmwareDBTests", dependencies: ["FirmwareDB", "Firmware"]),
        .testTarget(name: "FlashingTests", dependencies: ["Flashing", "Emulator", "FirmwareDB", "Firmware", "SCSI", "MMC"]),
        .testTarget(name: "CLITests", dependencies: ["CLI", "Operations", "FirmwareDB", "Firmware", "Emulator", "SCSI"]),
    ],
    swiftLanguageModes: [.v6]
)
