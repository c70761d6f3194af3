import Foundation
import Testing
@testable import Emulator
@testable import Firmware
@testable import FirmwareDB
@testable import Flashing
@testable import SCSI

@Suite struct DumpTests {
    let nec = ProtocolCase.all.first { $0.family == "nec-optiarc" && $0.driveID == nil }!
    var dump: DumpProtocol { db.family("nec-optiarc")!.dump! }

    /// Flash an image, dump the drive: the dump is the image, byte for byte (data, word sum, drive ID, boot code).
    @Test func necFlashThenDumpRoundTrips() throws {
        let img = try nec.image()
        let (d, plan) = try nec.setUp(img)
        #expect(quiet(d).run(plan, expectRevision: "BL1Y").status == .success)
        let before = d.log.count
        let r = try Dumper(transport: d).run(dump)
        #expect(r.bytes.count == img.count)
        let same = r.bytes == img
        #expect(same)
        #expect(d.behavior(as: NECBehavior.self)?.safeMode == false)
        // Only reads and the two mode changes were sent.
        let ops = d.log[before...].map { $0.opcode }
        #expect(Set(ops).isSubset(of: [0xCC, 0x12]))
        #expect(d.writeCommandCount == plan.commands.filter { $0.cdb.opcode == 0xCB }.count)
    }

    @Test func necDumpCDBs() throws {
        let d = try emu(nec.drive)
        _ = try Dumper(transport: d).run(dump)
        let hex = d.log.map { Hex.bytes($0.bytes) }
        #expect(hex[0] == "CC 00 00 01 08 00 00 00 20 00 00 00")
        #expect(hex[1] == "CC 00 00 03 00 00 00 00 01 00 00 00")
        #expect(hex[2] == "CC 01 01 00 47 32 34 35 01 00 00 00")
        #expect(hex[3] == "CC 00 00 03 00 00 00 10 00 52 44 FF")   // dump ID FFh: the blank emulated flash at 30000h
        #expect(hex.last == "CC 01 00 00 47 32 34 35 01 00 00 00")
        #expect(d.log.filter { $0.bytes[0] == 0xCC && $0.bytes[9] == 0x52 }.count == (0x1E0000 - 0x30000) / 0x1000)
    }

    /// A read that fails half-way still leaves safe mode, and says nothing was written.
    @Test func failedReadStillLeavesSafeMode() throws {
        let d = try emu(nec.drive)
        var calls = 0
        let necCC = try #require(d.handlers[0xCC])
        d.handlers[0xCC] = { drive, cdb, t in
            if cdb.bytes[9] == 0x52 { calls += 1; if calls == 10 { return .check(3, 0x11, 0x00) } }
            return necCC(drive, cdb, t)
        }
        #expect(throws: Dumper.Failure.self) { try Dumper(transport: d).run(dump) }
        #expect(d.behavior(as: NECBehavior.self)?.safeMode == false)
        #expect(d.log.last.map { Hex.bytes($0.bytes) } == "CC 01 00 00 47 32 34 35 01 00 00 00")
    }

    /// Classes 2 and 2MOpti (drive ID at 4800h): the second read-out sequence, chosen by the drive's class, reads
    /// 30000h-1F0000h; flash then dump gives back the nec-2m-opti image byte for byte.
    @Test(arguments: ["Q200", "D570"])
    func class2FlashThenDumpRoundTrips(_ id: String) throws {
        let c = ProtocolCase.all.first { $0.driveID == id }!
        let img = try c.image()
        let (d, plan) = try c.setUp(img)
        var ex = quiet(d)
        ex.verifyDump = db.family("nec-optiarc")!.dumpVariants.first { $0.layout == c.layout }
        let o = ex.run(plan, expectRevision: "BL1Y")
        #expect(o.status == .success && o.readBack, "\(o.message)")
        let (v, probe) = try Dumper.select(db.family("nec-optiarc")!.dumpVariants, on: d, idTables: db.idTables)
        #expect(v.layout == "nec-2m-opti")
        let r = try Dumper(transport: d).run(v, probe: probe)
        let same = r.bytes == img
        #expect(same && r.bytes.count == 1835016)
        #expect(d.behavior(as: NECBehavior.self)?.safeMode == false)
    }

    /// A drive no read-out sequence is for (class 2M: its dump ID path is model-specific) is refused after identification.
    @Test func noSequenceForTheClassIsARefusal() throws {
        let c = ProtocolCase.all.first { $0.driveID == "K355" }!
        let d = try c.makeDrive()
        #expect {
            try Dumper.select(db.family("nec-optiarc")!.dumpVariants, on: d, idTables: db.idTables)
        } throws: { e in
            guard let f = e as? Dumper.Failure else { return false }
            return f.refused && f.description.contains("K355")
        }
        #expect(d.writeCommandCount == 0 && d.log.allSatisfy { $0.opcode == 0xCC && $0.bytes[1] == 0 })
    }

    @Test func aZeroDumpIDIsRefusedBeforeSafeMode() throws {
        let d = try emu(nec.drive) { $0.preset?.append(.init(at: 0x30000, bytes: [0, 0, 0, 0])) }
        #expect(throws: Dumper.Failure.self) { try Dumper(transport: d).run(dump) }
        #expect(d.log.count == 2 && d.behavior(as: NECBehavior.self)?.safeMode == false)
    }

    /// Class 4 flashes and dumps back byte for byte too (the dump sequence is the same for both classes).
    @Test func class4FlashThenDump() throws {
        let c4 = ProtocolCase.all.first { $0.driveID == "G285" }!
        let img = try c4.image()
        let (d, plan) = try c4.setUp(img)
        var ex = quiet(d)
        ex.verifyDump = dump
        let o = ex.run(plan, expectRevision: "BL1Y")
        #expect(o.status == .success && o.readBack, "\(o.message)")
        let same = try Dumper(transport: d).run(dump).bytes == img
        #expect(same)
    }

    /// A write the drive acknowledged but did not do is caught by reading the flash back with the dump protocol.
    @Test func lyingProgramIsCaughtByTheReadBack() throws {
        let img = try nec.image()
        let (d, plan) = try nec.setUp(img)
        let programs = plan.commands.filter { $0.cdb.opcode == 0xCB }.count
        d.fault = FaultInjection(atWrite: programs - 3, kind: .lyingWrite)
        var ex = quiet(d)
        ex.verifyDump = dump
        let o = ex.run(plan, expectRevision: "BL1Y")
        #expect(o.status == .fatal && o.message.contains("read-back differs"), "\(o.message)")
    }
}

/// A drive of NEC flash class 4 (e.g. Optiarc 7280A, ID G280) shares class 3's image layout but not its flash
/// sequence: the class-3 protocol refuses it by the class in the ID table; the dump (same for both) reads it.
@Suite struct FlashClassTests {
    @Test func class4DriveIsRefusedByTheClass3Protocol() throws {
        let d = try emu("ihas324y") { $0.preset = [.init(at: 0x10800, bytes: Array("G280".utf8))] }
        let proto = db.family("nec-optiarc")!.flashVariants.first { $0.name == "nec-optiarc class 3 (Flash2MOpti3)" }!
        var spec = SyntheticSpec(); spec.size = 1769480; spec.driveID = "G280"
        let img = try SyntheticImage.generate(db.family("nec-optiarc")!.layouts.first { $0.id == "nec-2m-opti3" }!, spec, idTables: db.idTables)
        let probe = try ProbeRunner.run(proto, on: d)
        let rep = Inspector(layouts: db.layouts, idTables: db.idTables).inspect(LoadedImage(path: "g280.bin", container: "bin", member: nil, bytes: img))
        let check = ProbeRunner.checks(proto, probe: probe, image: img, report: rep, idTables: db.idTables).first { $0.name == "drive ID (from drive RAM)" }
        #expect(check?.passed == false && check?.hard == true && check?.detail.contains("flash class 2MOpti4") == true, "\(String(describing: check))")
        let dump = db.family("nec-optiarc")!.dump!
        #expect(ProbeRunner.driveIDProblems(dump.probes, probe: try ProbeRunner.run(dump.probes, on: d), idTables: db.idTables).isEmpty)
        #expect(db.idTables["nec-drive-ids"]?.find("G245")?.flashClass == "2MOpti3")
        // Selection by the ID read: this class-4 drive gets the class-4 variant; the iHAS324 Y (G245) class 3.
        let variants = db.family("nec-optiarc")!.flashVariants
        #expect(try ProbeRunner.select(variants, on: d, idTables: db.idTables)?.0.name == "nec-optiarc class 4 (Flash2MOpti4)")
        #expect(try ProbeRunner.select(variants, on: emu("ihas324y"), idTables: db.idTables)?.0.name == "nec-optiarc class 3 (Flash2MOpti3)")
        #expect(db.idTables["nec-drive-ids"]?.find("K350")?.flashClass == "1M")
    }
}
