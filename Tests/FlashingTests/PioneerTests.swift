import Foundation
import Testing
@testable import Emulator
@testable import Firmware
@testable import FirmwareDB
@testable import Flashing
@testable import SCSI

/// DVRFlash's sequence for Pioneer DVR drives: variant by generation and mode, the key block, the RAM load, the commit.
@Suite struct PioneerTests {
    static let c = ProtocolCase.all.first { $0.family == "pioneer-dvr" }!
    func hex(_ s: String) -> [UInt8] { s.split(separator: " ").map { UInt8($0, radix: 16)! } }

    /// The 100h-byte key block: the generation's ID string, and from generation 6 on the key 9A782361h at 10h.
    func keyBlock(_ id: String, key: Bool) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: 0x100)
        b.replaceSubrange(0..<16, with: Array(id.utf8))
        if key { b.replaceSubrange(0x10..<0x14, with: [0x9A, 0x78, 0x23, 0x61]) }
        return b
    }

    func inspect(_ img: [UInt8]) -> InspectReport {
        Inspector(layouts: db.layouts, idTables: db.idTables).inspect(LoadedImage(path: "t.bin", container: "bin", member: nil, bytes: img))
    }

    /// A drive profile edited: generation and kernel type in the F1h answer, INQUIRY revision, key block.
    func drive(generation: String = "0007", kernelType: String = "PIO_STD ", revision: String? = nil, key: [Emulator.DriveProfile.Firmware.Preset]? = nil) throws -> EmulatedDrive {
        var p = try DriveProfile.resolve("dvr-107d", emulatorDir: repoRoot + "/firmware-db/emulator")
        p.unitAttentionOnStart = false
        p.firmware?[PioneerBehavior.self]?.pioneerInfo = "SYNTHETIC-000001ATA " + generation + kernelType + "PIO_STD 1.00"
        if let r = revision { p.inquiry.revision = r }
        if let k = key { p.firmware?[PioneerBehavior.self]?.keyBlock = k }
        return EmulatedDrive(profile: p)
    }

    func image(generation: String = "0007", kernelType: String = "PIO_STD", layout: String = "dvr-normal") throws -> [UInt8] {
        var img = try SyntheticImage.generate(db.family("pioneer-dvr")!.layouts.first { $0.id == layout }!, Self.c.spec, idTables: db.idTables)
        img.replaceSubrange(0xB4..<0xB8, with: Array(generation.utf8))
        img.replaceSubrange(0xD0..<0xD7, with: Array(kernelType.utf8))
        return img
    }

    /// Golden plan of the generation-7 sequence (DVRFlash 2.0).
    @Test func generation7Plan() throws {
        let d = try drive()
        let (v, probe) = try #require(try ProbeRunner.select(db.family("pioneer-dvr")!.flashVariants, on: d, idTables: db.idTables))
        #expect(v.name == "pioneer-dvr-normal")
        let img = try image()
        let plan = try FlashPlan.build(v, image: img, probe: probe)
        let key = keyBlock("PIONEER  DVR-107", key: true)
        let c = plan.commands
        #expect(c[0].cdb.bytes == hex("3B 04 FF 00 00 00 00 01 00 00") && c[0].data == .toDevice(key) && c[0].phase == .prepare)
        #expect(c[1].action == .checkInquiry(revisionPrefix: "0000", bootcode: nil) && c[1].phase == .prepare)
        let loads = c.filter { $0.cdb.bytes.starts(with: [0x3B, 0x07, 0xF0]) }
        #expect(loads.count == 32 && loads.allSatisfy { $0.phase == .commit && $0.gapMilliseconds == 100 })
        #expect(loads[0].cdb.bytes == hex("3B 07 F0 00 00 00 00 80 00 00") && loads[31].cdb.bytes == hex("3B 07 F0 0F 80 00 00 80 00 00"))
        #expect(loads[1].data == .toDevice(Array(img[0x8000..<0x10000])))
        #expect(c[34].cdb.bytes == hex("3B 05 FF 00 00 00 00 01 00 00") && c[34].data == .toDevice(key) && c[34].phase == .commit)
        #expect(c.suffix(2).map(\.action) == [.wait(10), .checkInquiry(revisionPrefix: nil, bootcode: nil, revisionNotPrefix: "0000")])
    }

    /// The drive's generation picks the key block; 52 shares 6's, a DVR-105 (4) carries no key.
    @Test(arguments: [("0006", "PIONEER  DVR-106", true), ("0052", "PIONEER  DVR-106", true), ("0004", "PIONEER  DVR-105", false),
                      ("0008", "PIONEER  DVR-108", true), ("0054", "PIONEER  DVR-107", true)])
    func generationChoosesTheKeyBlock(_ gen: String, _ id: String, _ key: Bool) throws {
        let d = try drive(generation: gen)
        let (v, probe) = try #require(try ProbeRunner.select(db.family("pioneer-dvr")!.flashVariants, on: d, idTables: db.idTables))
        let plan = try FlashPlan.build(v, image: try image(generation: gen), probe: probe)
        #expect(plan.commands.first?.data == .toDevice(keyBlock(id, key: key)), "\(gen) -> \(v.name)")
        let img = try image(generation: gen)
        let checks = ProbeRunner.checks(v, probe: probe, image: img, report: inspect(img), idTables: db.idTables)
        #expect(checks.allSatisfy { $0.passed }, "\(checks.filter { !$0.passed })")
    }

    /// A generation DVRFlash does not list (no key block is public for it) is refused by every sequence.
    @Test func generationsWithoutAKeyBlockAreRefused() throws {
        let d = try drive(generation: "0005")
        let (v, probe) = try #require(try ProbeRunner.select(db.family("pioneer-dvr")!.flashVariants, on: d, idTables: db.idTables))
        let img = try image(generation: "0005")
        let failed = ProbeRunner.checks(v, probe: probe, image: img, report: inspect(img), idTables: db.idTables).filter { !$0.passed }
        #expect(failed.contains { $0.name == "DVR generation with a documented key block" && $0.hard && $0.detail.contains("'0005'") }, "\(failed)")
        #expect(d.writeCommandCount == 0)
    }

    /// Image and drive must agree on generation (as numbers) and kernel type (XL vs standard).
    @Test func mismatchesAreHardChecks() throws {
        let d = try drive()
        let (v, probe) = try #require(try ProbeRunner.select(db.family("pioneer-dvr")!.flashVariants, on: d, idTables: db.idTables))
        for (img, name) in [(try image(generation: "0008"), "DVR generation (drive vs image)"), (try image(kernelType: "PIO_ADV"), "kernel type (drive vs image: XL and standard drives differ)")] {
            let checks = ProbeRunner.checks(v, probe: probe, image: img, report: inspect(img), idTables: db.idTables)
            #expect(checks.contains { $0.name == name && !$0.passed && $0.hard }, "\(name): \(checks)")
        }
        // "7" and "0007" are the same generation to atoi, as in DVRFlash.
        let same = try image(generation: "7\u{0}\u{0}\u{0}")
        let sameChecks = ProbeRunner.checks(v, probe: probe, image: same, report: inspect(same), idTables: db.idTables)
        #expect(sameChecks.first { $0.name == "DVR generation (drive vs image)" }?.passed == true)
        #expect(d.writeCommandCount == 0)
    }

    /// A Normal sequence never takes a Kernel image (and the other way round): the layout check refuses it.
    @Test func sequencesTakeOnlyTheirKindOfImage() throws {
        let img = try image(layout: "dvr-kernel")
        let rep = inspect(img)
        #expect(rep.identity?.layout == "dvr-kernel")
        let checks = ProbeRunner.checks(db.family("pioneer-dvr")!.flash!, probe: ProbeData(), image: img, report: rep, idTables: db.idTables)
        #expect(checks.contains { $0.name == "protocol for this image" && !$0.passed && $0.hard })
    }

    /// DVRFlash's kernel part: kernel mode, the first 10000h bytes in two 8000h writes 250 ms apart, 5 s, still kernel
    /// mode; then the Normal image, which the kernel-mode sequence takes, brings the drive back to normal mode.
    @Test func kernelThenNormal() throws {
        let d = try drive()
        let variants = db.family("pioneer-dvr")!.flashVariants
        var kernel = try image(layout: "dvr-kernel")
        kernel += [UInt8](repeating: 0x5A, count: 0x100000 - kernel.count)   // a 1 MiB kernel file: only 10000h is sent
        let (kv, kp) = try #require(try ProbeRunner.select(variants, on: d, idTables: db.idTables, layout: "dvr-kernel"))
        #expect(kv.name == "pioneer-dvr-kernel" && kv.risk != nil)
        let kplan = try FlashPlan.build(kv, image: kernel, probe: kp)
        let writes = kplan.commands.filter { $0.cdb.bytes.starts(with: [0x3B, 0x07, 0xFE]) }
        #expect(writes.map(\.cdb.bytes) == [hex("3B 07 FE 00 00 00 00 80 00 00"), hex("3B 07 FE 00 80 00 00 80 00 00")])
        #expect(writes.allSatisfy { $0.gapMilliseconds == 250 && $0.phase == .commit } && kplan.imageSize == 0x10000)
        let ko = quiet(d).run(kplan, expectRevision: nil)
        #expect(ko.status == .success && d.behavior(as: PioneerBehavior.self)?.kernelMode == true && ko.nextSteps.first?.contains("Normal image") == true, "\(ko.message)")
        let kernelHeld = ProtocolCase.holds(d, kplan)
        #expect(kernelHeld)
        // Now the Normal image: the drive is in kernel mode, so the sequence without the kernel-mode command.
        let normal = try image()
        let (nv, np) = try #require(try ProbeRunner.select(variants, on: d, idTables: db.idTables, layout: "dvr-normal"))
        #expect(nv.name == "pioneer-dvr-normal-in-kernel-mode")
        let nplan = try FlashPlan.build(nv, image: normal, probe: np)
        let no = quiet(d).run(nplan, expectRevision: nil)
        let normalHeld = ProtocolCase.holds(d, nplan), kernelStays = ProtocolCase.holds(d, kplan)
        #expect(no.status == .success && d.behavior(as: PioneerBehavior.self)?.kernelMode == false && normalHeld, "\(no.message)")
        #expect(kernelStays)
    }

    /// A drive in kernel mode takes a Kernel image without the kernel-mode command.
    @Test func kernelImageIntoAKernelModeDrive() throws {
        let d = try drive(revision: "0000")
        d.behavior(as: PioneerBehavior.self)?.kernelMode = true
        let (v, _) = try #require(try ProbeRunner.select(db.family("pioneer-dvr")!.flashVariants, on: d, idTables: db.idTables, layout: "dvr-kernel"))
        #expect(v.name == "pioneer-dvr-kernel-in-kernel-mode" && !v.prepare.contains { if case .command = $0 { return true }; return false })
    }

    /// A drive left in kernel mode (INQUIRY revision 0000) gets the load and the commit without the kernel-mode command.
    @Test func driveAlreadyInKernelModeIsRecovered() throws {
        let d = try drive(revision: "0000")
        d.behavior(as: PioneerBehavior.self)?.kernelMode = true
        d.behavior(as: PioneerBehavior.self)?.normalRevision = "1.10"   // what the firmware reports once it runs again
        let (v, probe) = try #require(try ProbeRunner.select(db.family("pioneer-dvr")!.flashVariants, on: d, idTables: db.idTables))
        #expect(v.name == "pioneer-dvr-normal-in-kernel-mode")
        let img = try image()
        let plan = try FlashPlan.build(v, image: img, probe: probe)
        #expect(!plan.commands.contains { $0.cdb.bytes.starts(with: [0x3B, 0x04]) })
        let o = quiet(d).run(plan, expectRevision: nil)
        #expect(o.status == .success, "\(o.message)")
        #expect(ProtocolCase.holds(d, plan) && d.behavior(as: PioneerBehavior.self)?.kernelMode == false)
    }

    /// A key the drive does not accept: refused at the kernel-mode command, before anything is loaded. Recoverable.
    @Test func wrongKeyIsRecoverable() throws {
        let d = try drive(key: [.init(at: 0, bytes: Array("PIONEER  DVR-107".utf8)), .init(at: 0x10, bytes: [0x12, 0x34, 0x56, 0x78])])
        let (v, probe) = try #require(try ProbeRunner.select(db.family("pioneer-dvr")!.flashVariants, on: d, idTables: db.idTables))
        let before = d.memory!.flash
        let o = quiet(d).run(try FlashPlan.build(v, image: try image(), probe: probe), expectRevision: nil)
        #expect(o.status == .recoverable && o.sense?.hasPrefix("05/26") == true, "\(o.message) \(String(describing: o.sense))")
        let unchanged = d.memory!.flash == before
        #expect(unchanged && d.behavior(as: PioneerBehavior.self)?.kernelMode == false && d.log.filter { $0.opcode == 0x3B }.count == 1)
    }

    /// The generator DVRFlash reverses is the C library's: seed 1 gives K&R rand()'s 16838 (41C6h), so the first draw is C6h.
    @Test func challengeGeneratorIsTheCLibraryOne() throws {
        let ch = try unlockStep()
        #expect(ch.challenge(seed: 1, count: 1) == [0xC6])
        // The answer to a challenge from seed s is draw 401h of s, XOR FFh; the emulated drive sets it independently.
        let c = ch.challenge(seed: 0x2B6D, count: 0x400)
        #expect(c == PioneerBehavior.dvrDraws(seed: 0x2B6D, count: 0x400))
        #expect(ch.answer(to: c) == PioneerBehavior.dvrDraws(seed: 0x2B6D, count: 0x401).last! ^ 0xFF)
        // A challenge no 16-bit seed starts with has no answer (the emulated drive below uses this one).
        #expect(ch.answer(to: [UInt8](repeating: 0xA5, count: 0x400)) == nil)
    }

    func unlockStep() throws -> FlashProtocol.Challenge {
        let v = db.family("pioneer-dvr")!.flashVariants.first { $0.name == "pioneer-dvr-normal" }!
        for case let .challenge(ch) in v.prepare.flatMap(\.flattened) { return ch }
        throw CancellationError()
    }

    func dvr104(seed: Int? = 0x2B6D) throws -> EmulatedDrive {
        try emu("dvr-104") { $0[PioneerBehavior.self]?.downgradeSeed = seed }
    }

    func image104() throws -> [UInt8] {
        var s = Self.c.spec; s.product = "DVD-RW  DVR-104"
        var img = try SyntheticImage.generate(db.family("pioneer-dvr")!.layouts.first { $0.id == "dvr-normal" }!, s, idTables: db.idTables)
        img.replaceSubrange(0xB4..<0xB8, with: Array("0003".utf8))
        return img
    }

    /// DVR-104: the challenge is answered before the kernel-mode command; a drive without the protection refuses the
    /// reset and the flash goes on without it.
    @Test(arguments: [0x2B6D, nil] as [Int?])
    func dvr104Unlocks(_ seed: Int?) throws {
        let d = try dvr104(seed: seed)
        let (v, probe) = try #require(try ProbeRunner.select(db.family("pioneer-dvr")!.flashVariants, on: d, idTables: db.idTables, layout: "dvr-normal"))
        #expect(v.name == "pioneer-dvr-normal")
        let plan = try FlashPlan.build(v, image: try image104(), probe: probe)
        let start = d.log.count
        let o = quiet(d).run(plan, expectRevision: nil)
        #expect(o.status == .success, "\(o.message)")
        let held = ProtocolCase.holds(d, plan)
        #expect(held && d.behavior(as: PioneerBehavior.self)?.unlocked == (seed != nil))
        let buffers: [[UInt8]] = d.log[start...].map(\.bytes).filter { $0[0] == 0x3B || $0[0] == 0x3C }
        let heads: [String] = buffers.prefix(6).map { Hex.bytes(Array($0.prefix(3))) }
        let want: [String] = seed == nil ? ["3B 01 F3", "3B 04 FF"] : ["3B 01 F3", "3C 01 F2", "3B 01 F2", "3B 01 F2", "3B 04 FF"]
        #expect(Array(heads.prefix(want.count)) == want, "\(heads)")
    }

    /// A unit attention on the reset means it was not executed, not that the drive is unprotected: it is sent again
    /// and the challenge is answered.
    @Test func aUnitAttentionOnTheResetIsNotMistakenForNoProtection() throws {
        let d = try dvr104()
        let (v, probe) = try #require(try ProbeRunner.select(db.family("pioneer-dvr")!.flashVariants, on: d, idTables: db.idTables, layout: "dvr-normal"))
        let plan = try FlashPlan.build(v, image: try image104(), probe: probe)
        d.raiseUnitAttention(6, 0x29, 0x00)   // power on / reset
        let o = quiet(d).run(plan, expectRevision: nil)
        #expect(o.status == .success && d.behavior(as: PioneerBehavior.self)?.unlocked == true, "\(o.message)")
    }

    /// A challenge no seed produces: nothing more is sent (DVRFlash would go on), the flash stays as it was.
    @Test func anUnanswerableChallengeStopsBeforeAnyWrite() throws {
        let d = try dvr104()
        let readBuffer = try #require(d.handlers[Opcode.readBuffer])
        d.handlers[Opcode.readBuffer] = { drive, cdb, t in
            if cdb.bytes[1] == 0x01 && cdb.bytes[2] == 0xF2 { return drive.dataIn([UInt8](repeating: 0xA5, count: 0x400), 0x400, t) }
            return readBuffer(drive, cdb, t)
        }
        let (v, probe) = try #require(try ProbeRunner.select(db.family("pioneer-dvr")!.flashVariants, on: d, idTables: db.idTables, layout: "dvr-normal"))
        let before = d.memory!.flash
        let o = quiet(d).run(try FlashPlan.build(v, image: try image104(), probe: probe), expectRevision: nil)
        #expect(o.status == .recoverable && o.message.contains("no generator seed"), "\(o.message)")
        let unchanged = d.memory!.flash == before
        #expect(unchanged && !d.log.contains { $0.bytes.starts(with: [0x3B, 0x04]) })
    }

    @Test func atoiReadsLikeC() {
        #expect(FlashProtocol.Probe.atoi(Array("0007".utf8)[...]) == 7)
        #expect(FlashProtocol.Probe.atoi(Array("  52x".utf8)[...]) == 52)
        #expect(FlashProtocol.Probe.atoi(Array("-3".utf8)[...]) == -3)
        #expect(FlashProtocol.Probe.atoi(Array("ATA ".utf8)[...]) == nil)
        #expect(FlashProtocol.Probe.atoi([]) == nil)
    }
}
