import Foundation
import Testing
@testable import Emulator
@testable import Firmware
@testable import FirmwareDB
@testable import Flashing
@testable import SCSI

/// SPC download microcode: the three sequences (0Eh + 0Fh, 07h, 05h) and the READ BUFFER descriptor checks.
@Suite struct SPCTests {
    var variants: [FlashProtocol] { db.family("spc-microcode")!.flashVariants }
    func variant(_ n: String) -> FlashProtocol { variants.first { $0.name == n }! }

    func image(_ size: Int = 0x12346) throws -> [UInt8] {
        var s = SyntheticSpec(); s.size = size; s.vendor = "ODFLASH"; s.product = "SCSI_DEBUG_CD"
        return try SyntheticImage.generate(db.family("spc-microcode")!.layouts[0], s)
    }

    func drive(boundary: Int? = nil, descriptor: Bool? = nil, size: Int = 0x200000) throws -> EmulatedDrive {
        try emu("scsi-debug-cd") { f in f[SPCBehavior.self]?.bufferBoundary = boundary; f[SPCBehavior.self]?.bufferDescriptor = descriptor; f.size = size }
    }

    func checks(_ v: FlashProtocol, _ d: EmulatedDrive, _ img: [UInt8]) throws -> PreflightCheck {
        let probe = try ProbeRunner.run(v, on: d)
        let rep = Inspector(layouts: db.layouts, idTables: db.idTables).inspect(LoadedImage(path: "t.bin", container: "bin", member: nil, bytes: img))
        return ProbeRunner.checks(v, probe: probe, image: img, report: rep, idTables: db.idTables).first { $0.name.hasPrefix("download buffer") }!
    }

    @Test func theVariantsInOrder() {
        #expect(variants.map(\.name) == ["spc-0e", "spc-07", "spc-05"])
    }

    /// Mode 07h: the same 8000h segments with offsets, each saved and activated; no 0Fh.
    @Test func mode07Plan() throws {
        let plan = try FlashPlan.build(variant("spc-07"), image: try image())
        #expect(plan.commands.filter { $0.action == .send }.map { Array($0.cdb.bytes[0..<9]) } == [
            [0x3B, 0x07, 0, 0x00, 0x00, 0x00, 0x00, 0x80, 0x00],
            [0x3B, 0x07, 0, 0x00, 0x80, 0x00, 0x00, 0x80, 0x00],
            [0x3B, 0x07, 0, 0x01, 0x00, 0x00, 0x00, 0x23, 0x46],
        ])
    }

    /// Mode 05h: the whole image in one command; an image the 24-bit length cannot carry is refused by the plan.
    @Test func mode05Plan() throws {
        let img = try image()
        let plan = try FlashPlan.build(variant("spc-05"), image: img)
        let sends = plan.commands.filter { $0.action == .send }
        #expect(sends.count == 1 && sends[0].cdb.bytes == [0x3B, 0x05, 0, 0, 0, 0, 0x01, 0x23, 0x46, 0] && sends[0].data == .toDevice(img))
        #expect(throws: FlashPlan.Failure.self) { try FlashPlan.build(variant("spc-05"), image: [UInt8](repeating: 0, count: 0x1000000)) }
    }

    /// Each sequence flashes the emulated drive; 07h and 05h meet a unit attention after each save, which is handled.
    @Test(arguments: ["spc-0e", "spc-07", "spc-05"])
    func everySequenceFlashes(_ name: String) throws {
        let d = try drive()
        let img = try image(0x40000)
        let v = variant(name)
        let probe = try ProbeRunner.run(v, on: d)
        let plan = try FlashPlan.build(v, image: img, probe: probe)
        let o = quiet(d).run(plan, expectRevision: nil)
        #expect(o.status == .success, "\(name): \(o.message)")
        #expect(ProtocolCase.holds(d, plan))
    }

    @Test func aDriveWithoutADescriptorIsNotChecked() throws {
        let c = try checks(variant("spc-0e"), try drive(descriptor: false), try image())
        #expect(c.passed && c.detail.contains("05/20/00") && c.detail.contains("not checked"), "\(c.detail)")
    }

    @Test func theImageMustFitTheBuffer() throws {
        let c = try checks(variant("spc-0e"), try drive(size: 0x10000), try image(0x12346))
        #expect(!c.passed && c.hard && c.detail.contains("74566 bytes") && c.detail.contains("65536"), "\(c.detail)")
    }

    /// A 64 KiB boundary refuses 32 KiB segments; FFh (offset 0 only) refuses segments but takes mode 05h.
    @Test func segmentsMustBeOnTheBoundary() throws {
        let img = try image(0x20000)
        #expect(try checks(variant("spc-0e"), try drive(boundary: 15), img).passed)
        let c16 = try checks(variant("spc-0e"), try drive(boundary: 16), img)
        #expect(!c16.passed && c16.detail.contains("8000h"), "\(c16.detail)")
        #expect(!(try checks(variant("spc-07"), try drive(boundary: 0xFF), img).passed))
        #expect(try checks(variant("spc-05"), try drive(boundary: 0xFF), img).passed)
    }

    /// A dry-run copy refuses the descriptor read exactly as the drive did.
    @Test func dryRunCopyRefusesLikeTheDrive() throws {
        let d = try drive(descriptor: false)
        let probe = try ProbeRunner.run(variant("spc-0e"), on: d)
        #expect(probe.refusals.count == 1 && probe.refusals[0].sense == [5, 0x20, 0])
        let copy = EmulatedDrive.clone(vendor: "ODFLASH", product: "SCSI_DEBUG_CD", revision: "0191",
                                       firmware: .init(behavior: "spc", size: 0x200000, revisionOffset: nil),
                                       replay: probe.answers, refusals: probe.refusals)
        #expect(try ProbeRunner.run(variant("spc-0e"), on: copy) == probe)
    }
}
