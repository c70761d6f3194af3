import Foundation
import Testing
@testable import Emulator
@testable import Firmware
@testable import FirmwareDB
@testable import Flashing
@testable import SCSI

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
let db = try! FirmwareDatabase.load(root: repoRoot + "/firmware-db")

func emu(_ name: String, firmware edit: (inout DriveProfile.Firmware) -> Void = { _ in }) throws -> EmulatedDrive {
    var p = try DriveProfile.resolve(name, emulatorDir: repoRoot + "/firmware-db/emulator")
    p.unitAttentionOnStart = false
    if var f = p.firmware { edit(&f); p.firmware = f }
    return EmulatedDrive(profile: p)
}

func image(_ family: String, _ layout: String? = nil, revision: String = "1.00") throws -> [UInt8] {
    let f = db.family(family)!
    let l = layout.map { id in f.layouts.first { $0.id == id }! } ?? f.layouts.first!
    var s = SyntheticSpec()
    s.revision = revision
    return try SyntheticImage.generate(l, s, idTables: db.idTables)
}

func quiet(_ t: any SCSITransport) -> FlashExecutor {
    var e = FlashExecutor(transport: t)
    e.sleeper = { _ in }
    e.handleInterrupts = false
    return e
}

@Suite struct TemplateTests {
    @Test func fillsBigEndianFields() throws {
        let t = try CDBTemplate("3B 07 00 {offset:3} {length:3} 00")
        #expect(try t.cdb(["offset": 0x123456, "length": 0x8000]).bytes == [0x3B, 0x07, 0x00, 0x12, 0x34, 0x56, 0x00, 0x80, 0x00, 0x00])
        #expect(throws: CDB.Invalid.self) { try t.cdb(["offset": 0x1000000]) }
    }

    @Test(arguments: ["3B 07", "3B 07 00 {offset:3} {length:3} 00 00", "ZZ 00 00 00 00 00", "3B {Bad-Name:3} 00 00 00 00 00 00", "3B {offset:9} 00 00 00 00"])
    func malformed(_ s: String) {
        #expect(throws: CDBTemplate.Failure.self) { try CDBTemplate(s) }
    }
}

@Suite struct PlanTests {
    /// Golden transcript: Plextor blocks of 1000h, TEST UNIT READY before each, mode 04h then 05h for the last.
    @Test func plextorPlan() throws {
        let img = try image("plextor", "px-716a")
        let plan = try FlashPlan.build(db.family("plextor")!.flash!, image: img)
        #expect(plan.commands.count == 2 * (983040 / 0x1000))
        #expect(plan.commands[0].cdb.bytes == [0, 0, 0, 0, 0, 0] && plan.commands[0].ignoreErrors)
        #expect(plan.commands[1].cdb.bytes == [0x3B, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00])
        #expect(plan.commands[3].cdb.bytes == [0x3B, 0x04, 0x00, 0x00, 0x10, 0x00, 0x00, 0x10, 0x00, 0x00])
        #expect(plan.commands.last!.cdb.bytes == [0x3B, 0x05, 0x00, 0x0E, 0xF0, 0x00, 0x00, 0x10, 0x00, 0x00])
        #expect(plan.commands.filter { $0.phase == .commit }.reduce(0) { $0 + $1.imageBytes } == img.count)
    }

    /// Golden transcript: SPC mode 0Eh in 8000h segments with offsets, then one 0Fh activate.
    @Test func spcPlan() throws {
        let plan = try FlashPlan.build(db.family("spc-microcode")!.flash!, image: [UInt8](repeating: 7, count: 0x12345))
        #expect(plan.commands.filter { $0.action == .send }.map { Array($0.cdb.bytes[0..<9]) } == [
            [0x3B, 0x0E, 0, 0x00, 0x00, 0x00, 0x00, 0x80, 0x00],
            [0x3B, 0x0E, 0, 0x00, 0x80, 0x00, 0x00, 0x80, 0x00],
            [0x3B, 0x0E, 0, 0x01, 0x00, 0x00, 0x00, 0x23, 0x45],
            [0x3B, 0x0F, 0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
        ])
        #expect(plan.commands.last?.phase == .after && plan.commands.last?.action == .poll(tries: 30, interval: 1, successes: 1))
    }
}

@Suite struct ExecutorTests {
    @Test func flashesEmulatedMemoryAndVerifiesTheRevision() throws {
        let d = try emu("synthetic-writer")
        let img = try image("synthetic-test", revision: "1.01")
        let plan = try FlashPlan.build(db.family("synthetic-test")!.flash!, image: img)
        var progress: [String: [Double]] = [:]
        var ex = quiet(d)
        ex.progress = { progress[$0.phase, default: []].append($0.percent) }
        let o = ex.run(plan, expectRevision: "1.01")
        #expect(o.status == .success, "\(o.message)")
        #expect(d.memory?.flash == img)
        #expect(o.revisionAfter == "1.01")
        // Each phase's progress (the write, then the read-back) never goes backwards and ends at 100%.
        #expect(progress.keys.sorted() == ["commit", "verify"], "\(progress.keys)")
        for (phase, p) in progress { #expect(p == p.sorted() && p.last == 100, "\(phase)") }
    }

    @Test func plextorEndToEnd() throws {
        let d = try emu("px716a")
        let img = try image("plextor", "px-716a")
        let o = quiet(d).run(try FlashPlan.build(db.family("plextor")!.flash!, image: img), expectRevision: nil)
        #expect(o.status == .success)
        #expect(d.memory?.flash == img && d.memory?.commits == 1)
    }

    /// The fault matrix of the commit phase: every kind at the first, a middle and the last write.
    @Test(arguments: [FaultInjection.Kind.check(3, 0x0C, 0), .check(4, 0x44, 0), .timeout, .deviceGone, .powerLoss, .shortTransfer, .lyingWrite])
    func faultsDuringCommitAreFatalOrCaught(_ kind: FaultInjection.Kind) throws {
        let img = try image("synthetic-test")
        let plan = try FlashPlan.build(db.family("synthetic-test")!.flash!, image: img)
        for at in [1, 16, 32] {
            let d = try emu("synthetic-writer")
            d.fault = FaultInjection(atWrite: at, kind: kind)
            let o = quiet(d).run(plan, expectRevision: "1.00")
            switch kind {
            case .shortTransfer:
                // The drive said GOOD but took half the data: the residue gives it away at once.
                #expect(o.status == .fatal && o.message.contains("took 16384 of 32768 bytes"), "\(kind) at \(at): \(o.message)")
            case .lyingWrite:
                // The drive said GOOD: the read-back notices that the memory is not the image.
                #expect(d.memory?.flash != img, "\(kind) at \(at)")
                #expect(o.status == .fatal && o.message.contains("read-back differs"), "\(kind) at \(at): \(o.message)")
            default:
                #expect(o.status == .fatal, "\(kind) at \(at): \(o.status)")
                #expect(o.driveState.hasPrefix("UNKNOWN"))
                #expect(o.nextSteps.first == "do NOT power off or reboot the computer or the drive")
            }
        }
    }

    @Test func prepareFailureIsRecoverableAndCleanupRuns() throws {
        let d = try emu("synthetic-writer")
        let proto = FlashProtocol(name: "t", provenance: "synthetic test",
                                  prepare: [.command(name: "unsupported", cdb: try CDBTemplate("EE 00 00 00 00 00"), data: nil, ignoreErrors: false)],
                                  commit: [.command(name: "write", cdb: try CDBTemplate("3B 07 00 00 00 00 00 00 10 00"), data: .image(0...15), ignoreErrors: false)],
                                  cleanup: [.command(name: "leave", cdb: try CDBTemplate("00 00 00 00 00 00"), data: nil, ignoreErrors: true)])
        let o = quiet(d).run(try FlashPlan.build(proto, image: [UInt8](repeating: 1, count: 64)), expectRevision: nil)
        #expect(o.status == .recoverable && o.driveState.hasPrefix("unchanged"))
        #expect(d.writeCommandCount == 0)
        #expect(d.log.last?.bytes == [0, 0, 0, 0, 0, 0])   // cleanup ran last
    }

    /// A prepare command the drive accepted changed it (a vendor mode): a later failure before the commit leaves the
    /// flash unchanged, but the drive is not "unchanged" unless the cleanup undid the mode.
    @Test func aPrepareFailureAfterAModeChangeSaysTheRealState() throws {
        func run(cleanup: [FlashProtocol.Step]) throws -> (FlashOutcome, [String]) {
            let d = try emu("synthetic-writer")
            let proto = FlashProtocol(name: "t", provenance: "synthetic test",
                                      prepare: [.command(name: "enter mode", cdb: try CDBTemplate("12 00 00 00 00 00"), data: nil, ignoreErrors: false),
                                                .command(name: "unsupported", cdb: try CDBTemplate("EE 00 00 00 00 00"), data: nil, ignoreErrors: false)],
                                      commit: [.command(name: "write", cdb: try CDBTemplate("3B 07 00 00 00 00 00 00 10 00"), data: .image(0...15), ignoreErrors: false)],
                                      cleanup: cleanup)
            var ex = quiet(d)
            var journal: [String] = []
            ex.journal = { journal.append($0) }
            let o = ex.run(try FlashPlan.build(proto, image: [UInt8](repeating: 1, count: 64)), expectRevision: nil)
            #expect(o.status == .recoverable && d.writeCommandCount == 0)
            return (o, journal)
        }
        let (kept, journal) = try run(cleanup: [])
        #expect(kept.driveState == "flash unchanged, but the drive may still be in a vendor mode: it took 'enter mode' and the sequence has nothing that undoes it")
        #expect(kept.nextSteps == ["run 'odflash info DEVICE' to see what the drive reports, then the same command again"])
        // Journaled before it was sent.
        #expect(journal.first == "preparing: enter mode [12 00 00 00 00 00]")
        let (left, _) = try run(cleanup: [.command(name: "leave mode", cdb: try CDBTemplate("12 00 00 00 00 00"), data: nil, ignoreErrors: false)])
        #expect(left.driveState == "flash unchanged; the drive was in a vendor mode ('enter mode') and the cleanup ('leave mode') was accepted")
        let (stuck, _) = try run(cleanup: [.command(name: "leave mode", cdb: try CDBTemplate("EE 01 00 00 00 00"), data: nil, ignoreErrors: false)])
        #expect(stuck.driveState == "flash unchanged, but the drive may still be in a vendor mode ('enter mode'): the cleanup failed")
        #expect(stuck.nextSteps.first == "power-cycle the drive (the flash was not touched), then run the command again")
    }

    /// The after phase's waits report a countdown once a second and end with a last line; each slice is slept in
    /// full, so the wait is as long as the sequence says (a dry run's sleeper returns at once).
    @Test func afterWaitsCountDown() throws {
        let d = try emu("synthetic-writer")
        let proto = FlashProtocol(name: "t", provenance: "synthetic test",
                                  commit: [.command(name: "write", cdb: try CDBTemplate("3B 07 00 00 00 00 00 00 10 00"), data: .image(0...15), ignoreErrors: false)],
                                  after: [.wait(seconds: 2.5), .pollReady(tries: 4, interval: 0.5, successes: 2)])
        var ex = quiet(d)
        var slept: [Double] = []
        var seen: [String] = []
        ex.sleeper = { slept.append($0) }
        ex.waitStatus = { seen.append("\($0.kind.rawValue) \($0.secondsLeft) \($0.state.rawValue): \($0.message)") }
        let o = ex.run(try FlashPlan.build(proto, image: [UInt8](repeating: 1, count: 64)), expectRevision: nil)
        #expect(o.status == .success, "\(o.message)")
        #expect(slept.prefix(3) == [0.5, 1, 1] && slept.prefix(3).reduce(0, +) == 2.5)
        #expect(seen == ["wait 3 waiting: the drive is writing its flash: do not power off, 3 s left",
                         "wait 2 waiting: the drive is writing its flash: do not power off, 2 s left",
                         "wait 1 waiting: the drive is writing its flash: do not power off, 1 s left",
                         "wait 0 over: the drive's flash time is over",
                         "poll 2 waiting: the drive is writing its flash: do not power off, up to 2 s left",
                         // (a unit attention after the download is answered at once, then one check 0.5 s later)
                         "poll 1 waiting: the drive is writing its flash: do not power off, up to 1 s left",
                         "poll 0 ready: the drive is ready again"], "\(seen)")
    }

    @Test func seededFaultsAreReproducible() {
        #expect(FaultInjection.seeded(42, writes: 32) == FaultInjection.seeded(42, writes: 32))
        #expect((1...32).contains(FaultInjection.seeded(7, writes: 32).atWrite))
    }
}
