// Each target feeds arbitrary bytes to one parser. A crash, a hang or a sanitizer report is a finding;
// thrown errors are the expected outcome for garbage.
import Emulator
import Firmware
import FirmwareDB
import Flashing
import Foundation
import MMC
import SCSI
import Transports
import YAML

nonisolated(unsafe) let target = ProcessInfo.processInfo.environment["ODFLASH_FUZZ_TARGET"] ?? "image"
nonisolated(unsafe) var inspector: Inspector? = nil

nonisolated(unsafe) var loadedDB: FirmwareDatabase?
func db() -> FirmwareDatabase? {
    if let d = loadedDB { return d }
    let root = ProcessInfo.processInfo.environment["ODFLASH_DB"] ?? "firmware-db"
    loadedDB = try? FirmwareDatabase.load(root: root)
    return loadedDB
}

func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    switch target {
    case "image":
        if inspector == nil, let d = db() { inspector = Inspector(layouts: d.layouts, idTables: d.idTables) }
        _ = inspector?.inspect(LoadedImage(path: "fuzz", container: "bin", member: nil, bytes: bytes))
    case "checksum":
        // The first bytes choose an algorithm and ranges; the rest is the image.
        guard bytes.count > 8 else { return 0 }
        let units = WordUnit.allCases
        let unit = units[Int(bytes[0]) % units.count]
        let start = Int(bytes[1]) * 16 - 512, end = Int(bytes[2]) * 16 - 2048
        let spec = ChecksumSpec(name: "f", algorithm: .sum(unit: unit, initial: UInt64(bytes[3]), width: [8, 16, 32][Int(bytes[4]) % 3],
                                transform: [.none, .complement, .negate][Int(bytes[5]) % 3]),
                                ranges: [ByteRange(start, end)], storage: bytes[6] & 1 == 0 ? .stored(offset: Int(bytes[7]), unit: unit) : .zeroSum(keyOffset: Int(bytes[7]), unit: unit))
        let img = Array(bytes.dropFirst(8))
        _ = try? ChecksumEngine.verify(spec, image: img)
        if let fixed = try? ChecksumEngine.repair([spec], image: img), let r = try? ChecksumEngine.verify(spec, image: fixed) {
            precondition(r.status == .ok, "repair did not validate")
        }
    case "mt19":
        // A MediaTek MT19xx descriptor and banner as a drive answers them, and the image-level rules.
        _ = MediaTekMT19.descriptor(bytes)
        _ = MediaTekMT19.chip(descriptor: Array(bytes.prefix(0x100)), banner: Array(bytes.dropFirst(0x100).prefix(0x20)))
        _ = MediaTekMT19.chip(image: bytes)
        _ = MediaTekMT19.isDriveRead(bytes)
        _ = MediaTekMT19.fingerprint(image: bytes)
    case "pioneer":
        // A Pioneer BD identity block as a drive answers READ BUFFER F1h (the first 48 bytes), the dialect of a product
        // made of the next 16, and the rest as a component file (banner, File Type, required Kernel tag, sizes).
        let block = Array(bytes.prefix(0x30))
        let problem = PioneerBD.identityProblem(block)
        let id = PioneerBD.identity(block)
        if problem == nil { precondition(id != nil, "a block the rule accepts has every field") }
        if let i = id, let c = i.controllerID { precondition(c.count == 4 && i.platform.hasPrefix("SAT "), "a controller id is the hex after SAT") }
        let product = String(decoding: bytes.dropFirst(0x30).prefix(16), as: UTF8.self)
        _ = PioneerBD.dialect(product: product, platform: id?.platform ?? "")
        _ = PioneerBD.claims(vendor: "PIONEER", product: product)
        let c = PioneerBD.component(Array(bytes.dropFirst(0x40)))
        if !PioneerBD.hasBanner(Array(bytes.dropFirst(0x40))) { precondition(c.fileType == nil && c.problems.count == 1, "no banner, one problem") }
    case "cmac":
        // An AES-CMAC integrity table anywhere in the bytes (the first two choose where and how many entries).
        guard bytes.count > 2 else { return 0 }
        let img = Array(bytes.dropFirst(2))
        let spec = ChecksumSpec(name: "cmac", algorithm: .aesCMACTable(table: Int(bytes[0]) * 4, count: Int(bytes[1] % 17) + 1, entrySize: 28,
                                                                       key: [0xBD, 0x20, 0x94, 0x08, 0xE3, 0x5E, 0x52, 0x6A, 0x36, 0x23, 0x52, 0x34, 0x43, 0x4F, 0xE8, 0xAB]),
                                ranges: [], storage: .table)
        if let all = try? ChecksumEngine.verifyAll(spec, image: img) { precondition(!all.isEmpty, "a table gives at least one result") }
        precondition((try? ChecksumEngine.repair([spec], image: img)) == nil, "an integrity table is never re-signed")
    case "media":
        _ = LiteOn8051.tables(bytes, layout: "fuzz")
        _ = HeuristicScanner.scan(bytes)
    case "containers":
        let path = NSTemporaryDirectory() + "odflash-fuzz-\(getpid()).bin"
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        _ = try? ImageFile.load(path)
        unlink(path)
    case "db":
        let root = NSTemporaryDirectory() + "odflash-fuzz-db-\(getpid())"
        try? FileManager.default.createDirectory(atPath: root + "/families", withIntermediateDirectories: true)
        let half = bytes.count / 2
        FileManager.default.createFile(atPath: root + "/families/fuzz.yaml", contents: Data(bytes[..<half]))
        FileManager.default.createFile(atPath: root + "/models.yaml", contents: Data(bytes[half...]))
        _ = FirmwareDatabase.lint(root: root)
    case "sense":
        _ = try? SenseData(bytes: bytes)
        _ = try? SenseInput.parse(String(decoding: bytes, as: UTF8.self))
    case "mmc":
        _ = try? InquiryData(bytes: bytes)
        _ = try? FeatureConfiguration(bytes: bytes)
        _ = try? CapabilitiesPage(modeSense10: bytes)
        _ = try? RPCState(bytes: bytes)
        _ = try? VPD.serialNumber(bytes)
        _ = try? VPD.supportedPages(bytes)
        _ = try? DiscStructures.atip(bytes, rewritable: bytes.first.map { $0 & 1 == 1 } ?? false)
        _ = try? DiscStructures.dvdPlus(bytes, source: "fuzz")
        _ = try? DiscStructures.dvdDash(bytes)
        _ = try? DiscStructures.bd(bytes)
        _ = try? DiscStructures.toc(bytes)
        _ = DiscStructures.bookType(bytes)
    case "yaml":
        // The YAML reader: any text reads or fails with a line; what reads prints as one line of flow YAML that
        // reads back as the same tree.
        if let n = try? YAML.compose(String(decoding: bytes, as: UTF8.self)) {
            guard let back = try? YAML.compose(n.flowText), back == n else { fatalError("flowText does not read back: \(n.flowText)") }
        }
    case "profile":
        // Emulated drive profiles (YAML) and recorded transcripts (JSON lines).
        _ = try? DriveProfile.parse(String(decoding: bytes, as: UTF8.self))
        _ = try? ReplayTransport(jsonLines: String(decoding: bytes, as: UTF8.self), deviceName: "fuzz")
    case "vendor":
        // A drive that answers every command with these bytes, against the vendor protocols' identification reads,
        // the book-type queries and a dump: each must fail cleanly or return what it parsed.
        final class Answering: SCSITransport {
            let deviceName = "fuzz", kind = "fuzz"
            var data: [UInt8]
            init(_ d: [UInt8]) { data = d }
            func execute(_ cdb: CDB, _ transfer: DataTransfer, timeout: Double) throws -> CommandResult {
                guard case let .fromDevice(n) = transfer else { return data.first.map { $0 & 0x0F == 0 ? .good() : .check($0 & 0x0F, 0x24, 0) } ?? .good() }
                let take = min(n, data.count)
                defer { data.removeFirst(take) }
                return .good(Array(data.prefix(take)), residue: n - take)
            }
            func close() {}
        }
        guard let d = db() else { return 0 }
        // The bytes are also the image the checks compare the answers with (atoi numbers, descriptors, drive IDs).
        let report = Inspector(layouts: d.layouts, idTables: d.idTables).inspect(LoadedImage(path: "fuzz", container: "bin", member: nil, bytes: bytes))
        for f in d.families {
            if f.flashVariants.contains(where: { !$0.probes.isEmpty }),
               let (v, probe) = try? ProbeRunner.select(f.flashVariants, on: Answering(bytes), idTables: d.idTables) {
                _ = ProbeRunner.checks(v, probe: probe, image: bytes, report: report, idTables: d.idTables)
                _ = try? FlashPlan.build(v, image: bytes, probe: probe)
            }
            if let b = f.booktype { _ = try? BooktypeRunner(transport: Answering(bytes), commands: b).readAll() }
            if !f.dumpVariants.isEmpty, let (dp, probe) = try? Dumper.select(f.dumpVariants, on: Answering(bytes), idTables: d.idTables), f.synthetic {
                _ = try? Dumper(transport: Answering(bytes)).run(dp, probe: probe)
            }
        }
    case "csw":
        // A USB device that answers every phase with these bytes.
        final class Garbage: BulkPipe {
            let name = "usb:fuzz"
            var data: [UInt8]
            init(_ d: [UInt8]) { data = d }
            func bulkOut(_ d: [UInt8], timeout: Double) -> BulkResult { .ok(d) }
            func bulkIn(length: Int, timeout: Double) -> BulkResult {
                if data.isEmpty { return .timeout }
                let n = min(length, Int(data[0]) % 40 + 1, data.count)
                defer { data.removeFirst(n) }
                return data[0] & 0x80 != 0 ? .stall(Array(data.prefix(n))) : .ok(Array(data.prefix(n)))
            }
            func clearHalt(inEndpoint: Bool) -> Bool { true }
            func massStorageReset() -> Bool { true }
            func close() {}
        }
        let t = BOTTransport(pipe: Garbage(bytes))
        _ = try? t.execute(.inquiry(allocation: 96), .fromDevice(96), timeout: 1)
        _ = try? t.execute(.testUnitReady(), .none, timeout: 1)
    default:
        fatalError("unknown ODFLASH_FUZZ_TARGET \(target)")
    }
    return 0
}

// libFuzzer's driver, called from our own main (SwiftPM gives executables their own main symbol).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOne(data, size) })

/// libFuzzer's own entry point name, for runtimes that call it directly.
@_cdecl("LLVMFuzzerTestOneInput")
public func LLVMFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 { fuzzOne(data, size) }
