import Foundation
import Testing
@testable import Emulator
@testable import SCSI
@testable import Transports

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

func emulated(_ name: String = "ihas124y") throws -> EmulatedDrive {
    var p = try DriveProfile.resolve(name, emulatorDir: repoRoot + "/firmware-db/emulator")
    p.unitAttentionOnStart = false
    return EmulatedDrive(profile: p)
}

/// A USB mass-storage device on the bench: decodes CBWs, runs them on a SCSI target, answers with data and CSWs.
/// Faults make it misbehave the way broken bridges do.
final class FakeBOTDevice: BulkPipe {
    enum Fault: Equatable {
        case wrongSignature, wrongTag, shortCSW, phaseError, residueTooLarge
        case stallCSW(times: Int), stallDataIn, stallCBW, goneAfterCBW, skipDataPhase
    }
    let name = "usb:1:2"
    let target: any SCSITransport
    var faults: [Fault] = []
    var resets = 0
    var clearedHalts: [Bool] = []
    var closed = false
    var cbws: [[UInt8]] = []
    private var pendingData: [UInt8] = []
    private var pendingCSW: [UInt8]?
    private var awaitingDataOut: (CDB, Int, UInt32)?
    private var cswStallsLeft = 0

    init(target: any SCSITransport) { self.target = target }

    func le32(_ v: UInt32) -> [UInt8] { BOTTransport.le32(v) }

    func csw(tag: UInt32, residue: UInt32, status: UInt8) -> [UInt8] {
        var sig: UInt32 = 0x5342_5355
        var t = tag, r = residue, s = status
        if faults.contains(.wrongSignature) { sig = 0xDEAD_BEEF }
        if faults.contains(.wrongTag) { t &+= 1 }
        if faults.contains(.phaseError) { s = 2 }
        if faults.contains(.residueTooLarge) { r = 0xFFFF }
        var b = le32(sig) + le32(t) + le32(r) + [s]
        if faults.contains(.shortCSW) { b.removeLast(3) }
        return b
    }

    func run(_ cdb: CDB, _ transfer: DataTransfer, tag: UInt32) {
        let r = (try? target.execute(cdb, transfer, timeout: 1)) ?? .check(4, 0x44, 0)
        // A failed data-in command still sends the requested bytes (zeros), like QEMU's usb-bot.
        if case let .fromDevice(n) = transfer {
            pendingData = r.isGood ? r.data : [UInt8](repeating: 0, count: n)
            let residue = r.isGood ? UInt32(n - r.data.count) : UInt32(n)
            pendingCSW = csw(tag: tag, residue: residue, status: r.isGood ? 0 : 1)
        } else {
            pendingCSW = csw(tag: tag, residue: r.isGood ? 0 : UInt32(transfer.length), status: r.isGood ? 0 : 1)
        }
        cswStallsLeft = faults.compactMap { if case let .stallCSW(n) = $0 { return n } else { return nil } }.first ?? 0
    }

    func bulkOut(_ data: [UInt8], timeout: Double) -> BulkResult {
        if let (cdb, n, tag) = awaitingDataOut {
            awaitingDataOut = nil
            run(cdb, .toDevice(Array(data.prefix(n))), tag: tag)
            return .ok(data)
        }
        if faults.contains(.stallCBW) { return .stall([]) }
        guard data.count == 31, Bytes.le(data, 0, 4) == 0x4342_5355 else { return .stall([]) }
        cbws.append(data)
        if faults.contains(.goneAfterCBW) { return .noDevice }
        let tag = UInt32(Bytes.le(data, 4, 4)!)
        let len = Int(Bytes.le(data, 8, 4)!)
        let dataIn = data[12] & 0x80 != 0
        let cdb = try! CDB(raw: Array(data[15..<(15 + Int(data[14]))]))
        if len == 0 { run(cdb, .none, tag: tag) }
        else if dataIn { run(cdb, .fromDevice(len), tag: tag) }
        else { awaitingDataOut = (cdb, len, tag) }
        return .ok(data)
    }

    func bulkIn(length: Int, timeout: Double) -> BulkResult {
        if !pendingData.isEmpty || (length != 13 && pendingCSW != nil) {
            if faults.contains(.skipDataPhase) {
                pendingData = []
                let c = pendingCSW!
                pendingCSW = nil
                return .ok(c)
            }
            let d = pendingData
            pendingData = []
            if faults.contains(.stallDataIn) { return .stall(Array(d.prefix(d.count / 2))) }
            return .ok(Array(d.prefix(length)))
        }
        if cswStallsLeft > 0 { cswStallsLeft -= 1; return .stall([]) }
        guard let c = pendingCSW else { return .timeout }
        pendingCSW = nil
        return .ok(c)
    }

    func clearHalt(inEndpoint: Bool) -> Bool { clearedHalts.append(inEndpoint); return true }
    func massStorageReset() -> Bool { resets += 1; pendingCSW = nil; pendingData = []; return true }
    func close() { closed = true }
}

@Suite struct BOTTests {
    @Test func cbwLayout() {
        let b = BOTTransport.cbw(tag: 0x11223344, length: 96, dataIn: true, lun: 0, cdb: CDB.inquiry(allocation: 96).bytes)
        #expect(b.count == 31)
        #expect(Array(b[0..<4]) == [0x55, 0x53, 0x42, 0x43])       // "USBC"
        #expect(Array(b[4..<8]) == [0x44, 0x33, 0x22, 0x11])
        #expect(Array(b[8..<12]) == [96, 0, 0, 0])
        #expect(b[12] == 0x80 && b[13] == 0 && b[14] == 6)
        #expect(Array(b[15..<21]) == [0x12, 0, 0, 0, 0x60, 0])
        #expect(b[21...].allSatisfy { $0 == 0 })
    }

    @Test func inquiryThroughBOT() throws {
        let dev = FakeBOTDevice(target: try emulated())
        let t = BOTTransport(pipe: dev)
        let r = try t.run(.inquiry(allocation: 96), .fromDevice(96))
        #expect(Array(r.data[8..<16]) == Array("ATAPI   ".utf8))
        // tags increase
        _ = try t.execute(.testUnitReady(), .none, timeout: 1)
        let tags = dev.cbws.map { Bytes.le($0, 4, 4)! }
        #expect(tags[1] == tags[0] + 1)
        t.close()
        #expect(dev.closed)
    }

    @Test func checkConditionFetchesSense() throws {
        let dev = FakeBOTDevice(target: try emulated())
        let t = BOTTransport(pipe: dev)
        let r = try t.execute(.testUnitReady(), .none, timeout: 1)
        #expect(r.status == .checkCondition)
        #expect(r.sense?.triple == "02/3A/01")
        #expect(dev.cbws.last?[15] == 0x03)  // REQUEST SENSE followed
    }

    @Test func failedDataInCommandStillGivesSense() throws {
        let dev = FakeBOTDevice(target: try emulated())
        let t = BOTTransport(pipe: dev)
        let r = try t.execute(.inquiry(vpdPage: 0xB2, allocation: 64), .fromDevice(64), timeout: 1)
        #expect(r.sense?.triple == "05/24/00")
        #expect(r.data.isEmpty)
    }

    @Test func dataOutThroughBOT() throws {
        let drive = try emulated()
        let t = BOTTransport(pipe: FakeBOTDevice(target: drive))
        let r = try t.execute(.sendKey(keyFormat: 6, parameterLength: 8), .toDevice([0, 6, 0, 0, 0xFE, 0, 0, 0]), timeout: 1)
        #expect(r.isGood)
        #expect(drive.rpc?.region == 1)
    }

    @Test(arguments: [FakeBOTDevice.Fault.wrongSignature, .wrongTag, .shortCSW, .phaseError, .residueTooLarge, .stallCBW])
    func brokenStatusMeansResetRecovery(_ fault: FakeBOTDevice.Fault) throws {
        let dev = FakeBOTDevice(target: try emulated())
        dev.faults = [fault]
        let t = BOTTransport(pipe: dev)
        do {
            _ = try t.execute(.inquiry(allocation: 96), .fromDevice(96), timeout: 1)
            Issue.record("accepted a broken exchange")
        } catch let e as TransportError {
            guard case let .protocolError(m) = e else { Issue.record("wrong error \(e)"); return }
            #expect(m.contains("reset recovery"))
        }
        #expect(dev.resets == 1)
        #expect(dev.clearedHalts.suffix(2) == [true, false])
    }

    @Test func wrongSignatureMessageNamesIt() throws {
        let dev = FakeBOTDevice(target: try emulated())
        dev.faults = [.wrongSignature]
        #expect(throws: TransportError.protocolError("usb:1:2: invalid CSW signature [EF BE AD DE] (expected 55 53 42 53 \"USBS\"); reset recovery done")) {
            try BOTTransport(pipe: dev).execute(.testUnitReady(), .none, timeout: 1)
        }
    }

    @Test func csWStallIsRetriedWithinBounds() throws {
        let dev = FakeBOTDevice(target: try emulated())
        dev.faults = [.stallCSW(times: 2)]
        let t = BOTTransport(pipe: dev)
        #expect(try t.execute(.inquiry(allocation: 96), .fromDevice(96), timeout: 1).isGood)
        #expect(dev.resets == 0)

        let dev2 = FakeBOTDevice(target: try emulated())
        dev2.faults = [.stallCSW(times: 5)]
        #expect(throws: TransportError.self) { try BOTTransport(pipe: dev2).execute(.inquiry(allocation: 96), .fromDevice(96), timeout: 1) }
        #expect(dev2.resets == 1)
    }

    @Test func dataInStallClearsHaltAndReadsStatus() throws {
        let dev = FakeBOTDevice(target: try emulated())
        dev.faults = [.stallDataIn]
        let r = try BOTTransport(pipe: dev).execute(.inquiry(allocation: 96), .fromDevice(96), timeout: 1)
        #expect(r.isGood && r.data.count == 48 && r.residue == 48)
        #expect(dev.clearedHalts == [true])
    }

    @Test func earlyCSWInDataPhase() throws {
        let dev = FakeBOTDevice(target: try emulated())
        dev.faults = [.skipDataPhase]
        let r = try BOTTransport(pipe: dev).execute(.inquiry(allocation: 96), .fromDevice(96), timeout: 1)
        #expect(r.isGood && r.data.isEmpty)
    }

    @Test func deviceGone() throws {
        let dev = FakeBOTDevice(target: try emulated())
        dev.faults = [.goneAfterCBW]
        // CBW accepted then the device vanished before status.
        #expect(throws: TransportError.deviceGone("usb:1:2")) {
            try BOTTransport(pipe: dev).execute(.testUnitReady(), .none, timeout: 1)
        }
    }

    @Test func closedTransportRefuses() throws {
        let t = BOTTransport(pipe: FakeBOTDevice(target: try emulated()))
        t.close()
        #expect(throws: TransportError.closed) { try t.execute(.testUnitReady(), .none, timeout: 1) }
    }
}

/// Bad-input corpus, CSW part: every malformed status wrapper ends in a one-line TransportError (never a crash,
/// never a GOOD status), and the command is not reported as done. Counted for scripts/robustness.
@Suite struct CSWCorpusTests {
    @Test func malformedStatusWrappers() throws {
        let cases: [(String, [FakeBOTDevice.Fault])] = [
            ("wrong signature", [.wrongSignature]), ("wrong tag", [.wrongTag]), ("short CSW", [.shortCSW]), ("phase error", [.phaseError]),
            ("residue larger than the transfer", [.residueTooLarge]), ("CSW stalls 3 times", [.stallCSW(times: 3)]),
            ("device gone after the CBW", [.goneAfterCBW]), ("CBW stalled", [.stallCBW]), ("data-in stalled then wrong tag", [.stallDataIn, .wrongTag]),
            ("no data phase, short CSW", [.skipDataPhase, .shortCSW]), ("wrong signature and tag", [.wrongSignature, .wrongTag]),
            ("phase error with a large residue", [.phaseError, .residueTooLarge]),
        ]
        var failures = 0
        for (name, faults) in cases {
            let dev = FakeBOTDevice(target: try emulated())
            dev.faults = faults
            let t = BOTTransport(pipe: dev)
            do {
                let r = try t.execute(.inquiry(allocation: 36), .fromDevice(36), timeout: 1)
                // Only a recovered command may come back, and then not as a silent success of garbage.
                if r.isGood && !faults.allSatisfy({ if case .stallCSW = $0 { return true }; if case .stallDataIn = $0 { return true }; return false }) {
                    failures += 1
                    Issue.record("\(name): a malformed CSW gave GOOD")
                }
            } catch {
                let line = "\(error)"
                if line.isEmpty || line.contains("\n") { failures += 1; Issue.record("\(name): error is not one line: \(line)") }
            }
        }
        // Raw CSW bytes: only a well-formed 13-byte wrapper parses.
        let raws: [[UInt8]] = [[], [0x55, 0x53, 0x42], Array("USBS".utf8) + [UInt8](repeating: 0, count: 8), Array("USBC".utf8) + [UInt8](repeating: 0, count: 9),
                               Array("USBS".utf8) + [UInt8](repeating: 0, count: 10), [UInt8](repeating: 0xFF, count: 13)]
        for r in raws where BOTTransport.parseCSW(r) != nil { failures += 1; Issue.record("CSW \(Hex.bytes(r)) parsed") }
        #expect(BOTTransport.parseCSW(Array("USBS".utf8) + [1, 0, 0, 0, 0, 0, 0, 0, 0]) != nil)
        corpusReportTransports("csw", cases.count + raws.count, failures: failures)
    }
}

func corpusReportTransports(_ category: String, _ count: Int, failures: Int) {
    guard let path = ProcessInfo.processInfo.environment["ODFLASH_CORPUS_REPORT"] else { return }
    // fopen "a" is O_APPEND: test suites running at the same time cannot interleave or truncate each other's lines.
    guard let f = fopen(path, "a") else { return }
    fputs("\(category)\t\(count)\t\(failures)\n", f)
    fclose(f)
}
