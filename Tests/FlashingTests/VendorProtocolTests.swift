import Foundation
import Testing
@testable import Emulator
@testable import Firmware
@testable import FirmwareDB
@testable import Flashing
@testable import SCSI

/// One vendor protocol, the emulated drive it runs against and an image for that drive.
struct ProtocolCase: CustomStringConvertible, Sendable {
    let family: String
    let drive: String
    let layout: String?
    var spec: SyntheticSpec
    /// An NEC drive ID to put in the emulated drive's RAM instead of its profile's (selects the flash class).
    var driveID: String? = nil
    /// Tells apart two cases of one family that differ by drive.
    var label: String? = nil
    /// A named sequence of the family (`--protocol`) instead of the one the CLI chooses.
    var protocolName: String? = nil
    var description: String { (driveID ?? label).map { "\(family) (\($0))" } ?? family }

    static let all: [ProtocolCase] = [
        ProtocolCase(family: "synthetic-test", drive: "synthetic-writer", layout: nil, spec: { var s = SyntheticSpec(); s.revision = "1.01"; return s }()),
        ProtocolCase(family: "plextor", drive: "px716a", layout: "px-716a", spec: SyntheticSpec()),
        nec("nec-2m-opti3", 1769480, "G245", emulated: false),   // the profile's own drive ID (class 3)
        nec("nec-2m-opti3", 1769480, "G285"),                     // class 4
        nec("nec-2m-opti", 1835016, "Q200"),                      // class 2
        nec("nec-2m", 1966088, "K355"),                           // class 2M
        nec("nec-2m-opti", 1835016, "D570"),                      // class 2MOpti
        ProtocolCase(family: "nec-optiarc", drive: "ihas324y", layout: "nec-bd", spec: {
            var s = SyntheticSpec(); s.driveID = "C500"; return s }(),
            driveID: "C500"),
        ProtocolCase(family: "mediatek-mt1959", drive: "bu40n", layout: nil, spec: mt19xxSpec("HL-DT-ST", "BD-RE BU40N", "MT1959 Boot BU5 "),
                     label: "freemkv, BU40N", protocolName: "freemkv-mt19xx"),
        ProtocolCase(family: "mediatek-mt1959", drive: "bu40n", layout: nil, spec: mt19xxSpec("HL-DT-ST", "BD-RE BU40N", "MT1959 Boot BU5 "),
                     label: "redumper, BU40N", protocolName: "redumper-mt1959"),
        ProtocolCase(family: "mediatek-mt1959", drive: "bw-16d1ht", layout: nil, spec: {
            var s = mt19xxSpec("ASUS", "BW-16D1HT", "MT1959 Boot JB8 "); s.revision = "3.20"; s.fields = ["chip-tag": "MTEKMT1939"]; return s }(),
                     label: "freemkv, BW-16D1HT MT1939", protocolName: "freemkv-mt19xx"),
        ProtocolCase(family: "mediatek-ff", drive: "sd616f", layout: "sd-616f", spec: SyntheticSpec()),
        ProtocolCase(family: "btc-mediatek", drive: "btc-drw1008", layout: nil, spec: {
            var s = SyntheticSpec(); s.vendor = "BTC"; s.product = "DVDRW DRW1008"; s.revision = "0051"; return s }()),
        ProtocolCase(family: "lg-renesas", drive: "lg-gsa-t21n", layout: nil, spec: { var s = SyntheticSpec(); s.size = 0x10480; return s }()),
        ProtocolCase(family: "pioneer-dvr", drive: "dvr-107d", layout: "dvr-normal", spec: {
            var s = SyntheticSpec(); s.vendor = "PIONEER"; s.product = "DVD-RW  DVR-107D"; return s }()),
        ProtocolCase(family: "pioneer-dvr", drive: "dvr-104", layout: "dvr-normal", spec: {
            var s = SyntheticSpec(); s.vendor = "PIONEER"; s.product = "DVD-RW  DVR-104"; s.fields = ["generation": "0003"]; return s }(),
            label: "DVR-104"),
    ]

    /// A synthetic, signed MT19xx image naming a drive.
    static func mt19xxSpec(_ vendor: String, _ product: String, _ config: String) -> SyntheticSpec {
        var s = SyntheticSpec(); s.vendor = vendor; s.product = product; s.revision = "1.02"; s.configID = config; return s
    }

    /// An NEC/Optiarc image of a layout for a drive ID, flashed into the emulated iHAS324 Y with that ID in its RAM
    /// (`emulated: false` keeps the profile's own ID).
    static func nec(_ layout: String, _ size: Int, _ id: String, emulated: Bool = true) -> ProtocolCase {
        var s = SyntheticSpec()
        s.size = size; s.driveID = id; s.vendor = "ATAPI"; s.product = "iHAS324   Y"; s.revision = "BL1Y"
        return ProtocolCase(family: "nec-optiarc", drive: "ihas324y", layout: layout, spec: s, driveID: emulated ? id : nil)
    }

    /// The protocol the CLI would choose: by the drive's flash class where the family has variants.
    var proto: FlashProtocol {
        let f = db.family(family)!
        if let n = protocolName { return f.flashVariants.first { $0.name == n }! }
        if let c = (spec.driveID ?? driveID).flatMap({ db.idTables["nec-drive-ids"]?.find($0)?.flashClass }) {
            return f.flashVariants.first { $0.probes.contains { $0.driveID?.classes.contains(c) == true } }!
        }
        // Other families with variants (Pioneer by generation and mode): as the CLI chooses, from the drive's answers.
        if f.flashVariants.count > 1, let d = try? makeDrive(), let sel = try? ProbeRunner.select(f.flashVariants, on: d, idTables: db.idTables) {
            return sel.0
        }
        return f.flash!
    }

    func makeDrive() throws -> EmulatedDrive {
        var p = try DriveProfile.resolve(self.drive, emulatorDir: repoRoot + "/firmware-db/emulator")
        p.unitAttentionOnStart = false
        if let id = driveID {
            // The drive of that ID's class, as the class's protocol describes it to the emulator: where RAM holds the
            // ID (4800h, 10800h, 7000h), the checksummed range, block addressing.
            let cfg = try proto.emulator.map { try SequenceEmulator.decode(yaml: $0.yaml) }?[NECBehavior.self] ?? .init()
            var nec = p.firmware?[NECBehavior.self] ?? .init()
            nec.idAt = cfg.idAt ?? nec.idAt
            nec.checksumRange = cfg.checksumRange
            nec.checksumAny = cfg.checksumAny
            nec.blockMask = cfg.blockMask
            nec.bootBlocks = cfg.bootBlocks
            p.firmware?[NECBehavior.self] = nec
            let at = nec.idAt ?? 0
            p.firmware?.preset = [.init(at: at, bytes: Array(id.utf8))]
        }
        return EmulatedDrive(profile: p)
    }

    func image() throws -> [UInt8] {
        let f = db.family(family)!
        let l = layout.map { id in f.layouts.first { $0.id == id }! } ?? f.layouts.first!
        return try SyntheticImage.generate(l, spec, idTables: db.idTables)
    }

    /// The drive, the probes it answered, and the plan for the image.
    func setUp(_ img: [UInt8]) throws -> (EmulatedDrive, FlashPlan) {
        let d = try makeDrive()
        let probe = try ProbeRunner.run(proto, on: d)
        let report = Inspector(layouts: db.layouts, idTables: db.idTables).inspect(LoadedImage(path: "t.bin", container: "bin", member: nil, bytes: img))
        let bootcode = report.fields.first { $0.role == .bootcode }?.value
        if driveID != nil {
            // The new revision is where this class's placement puts the image's INQUIRY revision (as a dry-run copy has it).
            let pl = proto.placement
            d.memory?.revisionOffset = report.fields.first { $0.role == .revision }.map { $0.offset - pl.imageFrom + pl.flashAt }
        }
        return (d, try FlashPlan.build(proto, image: img, probe: probe, bootcode: bootcode))
    }

    /// True when the emulated flash holds the plan's image where the protocol places it.
    static func holds(_ d: EmulatedDrive, _ plan: FlashPlan) -> Bool { d.memory.map { plan.isPlaced(in: $0.flash) } ?? false }
}

@Suite struct VendorPlanTests {
    func hex(_ s: String) -> [UInt8] { s.split(separator: " ").map { UInt8($0, radix: 16)! } }

    /// Golden transcript of Binflash's Flash2MOpti3 for drive ID G245.
    @Test func necOptiarcClass3() throws {
        let c = ProtocolCase.all.first { $0.family == "nec-optiarc" && $0.driveID == nil }!
        let img = try c.image()
        var probe = ProbeData()
        probe.variables["driveid"] = 0x4732_3435   // "G245"
        let plan = try FlashPlan.build(c.proto, image: img, probe: probe, bootcode: "08")
        let sends = plan.commands.filter { $0.action == .send }
        #expect(sends.first?.cdb.bytes == hex("CC 01 01 00 47 32 34 35 01 00 00 00"))
        let ram = sends.filter { $0.cdb.bytes[0] == 0xCB && $0.cdb.bytes[1] == 0x01 }
        #expect(ram.count == 0x1B0000 / 0x8000)
        #expect(ram.first?.cdb.bytes == hex("CB 01 00 03 00 00 00 80 00 00 00 00"))
        #expect(ram.last?.cdb.bytes == hex("CB 01 00 1D 80 00 00 80 00 00 00 00"))
        #expect(ram.allSatisfy { $0.phase == .prepare && $0.data.length == 0x8000 })
        let sum = Int(img[0x1B0000]) << 8 | Int(img[0x1B0001])
        #expect(sends.contains { $0.cdb.bytes == [0xCC, 0x04, UInt8(sum >> 8), UInt8(sum & 0xFF), 0, 0, 0, 0, 0, 0, 0, 0] && $0.phase == .prepare })
        let erase = sends.filter { $0.cdb.bytes[0] == 0xCB && $0.cdb.bytes[1] == 0x04 }
        let program = sends.filter { $0.cdb.bytes[0] == 0xCB && $0.cdb.bytes[1] == 0x02 }
        #expect(erase.count == 28 && program.count == 27)   // blocks 3..30 erased, 3..29 programmed
        #expect(erase.first?.cdb.bytes == hex("CB 04 00 03 00 00 01 00 00 00 00 00") && erase.last?.cdb.bytes == hex("CB 04 00 1E 00 00 01 00 00 00 00 00"))
        #expect(program.last?.cdb.bytes == hex("CB 02 00 1D 00 00 01 00 00 00 00 00"))
        #expect((erase + program).allSatisfy { $0.phase == .commit })
        let leave = hex("CC 01 00 00 47 32 34 35 01 00 00 00")
        #expect(sends.filter { $0.cdb.bytes == leave }.map(\.phase) == [.commit, .cleanup])
        #expect(plan.commands.contains { $0.action == .checkInquiry(revisionPrefix: "0", bootcode: "08") })
        #expect(plan.placement == .init(imageFrom: 0, imageTo: 0x1B0000, flashAt: 0x30000))
    }

    /// Golden transcript of Binflash's Flash2MOpti4 for drive ID G285: bank-1 erase, RAM writes with their word sums
    /// interleaved with block programs, two checksums.
    @Test func necOptiarcClass4() throws {
        let c = ProtocolCase.all.first { $0.driveID == "G285" }!
        #expect(c.proto.probes.first?.driveID?.classes == ["2MOpti4"])
        let img = try c.image()
        var probe = ProbeData()
        probe.variables["driveid"] = 0x4732_3835   // "G285"
        let plan = try FlashPlan.build(c.proto, image: img, probe: probe, bootcode: "08")
        let sends = plan.commands.filter { $0.action == .send }
        let cs1 = Int(img[0x0E]) << 8 | Int(img[0x0F]), cs2 = Int(img[0x1B0000]) << 8 | Int(img[0x1B0001])
        #expect(sends[0].cdb.bytes == hex("CC 01 01 00 47 32 38 35 01 00 00 00"))
        #expect(sends[1].cdb.bytes == [0xCC, 0x06, UInt8(cs1 >> 8), UInt8(cs1 & 0xFF), 0, 0, 0x1B, 0, 0, 0x05, 0, 0] && sends[1].phase == .prepare)
        let erase = sends.filter { $0.cdb.bytes[0] == 0xCB && $0.cdb.bytes[1] == 0x14 }
        #expect(erase.count == 27 && erase.first?.cdb.bytes == hex("CB 14 00 03 00 00 01 00 00 00 00 00") && erase.last?.cdb.bytes == hex("CB 14 00 1D 00 00 01 00 00 00 00 00"))
        // Per block: RAM write, RAM write, program.
        let firstWrite = sends.firstIndex { $0.cdb.bytes[1] == 0x11 }!
        let w0 = sends[firstWrite], w1 = sends[firstWrite + 1], p0 = sends[firstWrite + 2]
        let sum0 = Bytes.wordSum16(img[0..<0x8000])
        #expect(w0.cdb.bytes == [0xCB, 0x11, 0, 0x03, 0, 0, 0, 0x80, 0, 0, UInt8(sum0 >> 8), UInt8(sum0 & 0xFF)])
        #expect(Array(w1.cdb.bytes[0..<9]) == hex("CB 11 00 03 80 00 00 80 00") && p0.cdb.bytes == hex("CB 12 00 03 00 00 01 00 00 00 00 00"))
        #expect(sends.filter { $0.cdb.bytes[1] == 0x11 }.count == 54 && sends.filter { $0.cdb.bytes[1] == 0x12 }.count == 27)
        #expect(sends.filter { $0.phase == .commit }.suffix(2).map(\.cdb.bytes) == [
            [0xCC, 0x06, UInt8(cs2 >> 8), UInt8(cs2 & 0xFF), 0, 0, 0x1B, 0, 0, 0x04, 0, 0], hex("CC 01 00 00 47 32 38 35 01 00 00 00")])
    }

    /// Golden transcript of Binflash's Flash2MOpti2 for drive ID Q200: 4 KiB-unit RAM writes, block-number erase and program.
    @Test func necOptiarcClass2() throws {
        let c = ProtocolCase.all.first { $0.driveID == "Q200" }!
        #expect(c.proto.probes.first?.driveID?.classes == ["2MOpti2"])
        let img = try c.image()
        var probe = ProbeData()
        probe.variables["driveid"] = 0x5132_3030   // "Q200"
        let plan = try FlashPlan.build(c.proto, image: img, probe: probe, bootcode: "08")
        let sends = plan.commands.filter { $0.action == .send }
        #expect(c.proto.probes.first.map { try? $0.cdb.cdb(["length": 0x20]).bytes } == hex("CC 00 00 00 48 00 00 00 20 00 00 00"))
        let ram = sends.filter { $0.cdb.bytes[0] == 0xCB && $0.cdb.bytes[1] == 0x01 }
        #expect(ram.count == 0x1C0000 / 0x8000 && ram.first?.cdb.bytes == hex("CB 01 00 03 00 00 00 00 08 00 00 00") && ram.last?.cdb.bytes == hex("CB 01 00 1E 80 00 00 00 08 00 00 00"))
        let erase = sends.filter { $0.cdb.bytes[1] == 0x04 && $0.cdb.bytes[0] == 0xCB }, program = sends.filter { $0.cdb.bytes[1] == 0x02 && $0.cdb.bytes[0] == 0xCB }
        #expect(erase.map { $0.cdb.bytes[8] } == Array(3...31) && program.map { $0.cdb.bytes[8] } == Array(3...30))
        #expect(erase.first?.cdb.bytes == hex("CB 04 00 00 00 00 00 00 03 00 00 00"))
        let sum = Int(img[0x1C0000]) << 8 | Int(img[0x1C0001])
        #expect(sends.contains { $0.cdb.bytes == [0xCC, 0x04, UInt8(sum >> 8), UInt8(sum & 0xFF), 0, 0, 0, 0, 0, 0, 0, 0] })
    }

    /// redumper's MT1959 sequence: FFh over the first 10000h, the drive's config at 3000h, 01h then 06h chunks.
    @Test func mt1959() throws {
        let c = ProtocolCase.all.first { $0.protocolName == "redumper-mt1959" }!
        let img = try c.image()
        var probe = ProbeData()
        let config = Array("MT1959 Boot BU5 DRIVE CONFIG 32B".utf8)
        probe.blocks["config"] = config
        let plan = try FlashPlan.build(c.proto, image: img, probe: probe)
        #expect(plan.image.count == img.count)
        #expect(plan.image[0..<0x3000].allSatisfy { $0 == 0xFF } && plan.image[0x3020..<0x10000].allSatisfy { $0 == 0xFF })
        #expect(Array(plan.image[0x3000..<0x3020]) == config)
        #expect(plan.image[0x10000...] == img[0x10000...])
        let sends = plan.commands.filter { $0.action == .send }
        #expect(sends[0].cdb.bytes == hex("3B 01 00 00 00 00 00 00 00 00") && sends[0].data == .none)
        #expect(sends[1].cdb.bytes == hex("3B 06 00 00 00 00 00 40 00 00"))
        #expect(sends.last?.cdb.bytes == hex("3B 06 00 1F C0 00 00 40 00 00"))
        #expect(img.count == 0x200000 && sends.count == 1 + img.count / 0x4000)
        #expect(plan.commands.last?.action == .poll(tries: 15, interval: 1, successes: 2))
    }

    /// freemkv's MT19xx sequence, command by command as the facts give it (section 4): the probe of 1EC000h, a
    /// readiness TUR where 02/3A is benign, PREPARE 01h with 0Bh, 128 x 4000h mode-06h chunks (12-byte CDBs, 16-bit
    /// length in bytes 7-8), the mode-07h trailer 1B 12, the 45 s poll, REQUEST SENSE with keys 3, 4, Bh fatal: 134 commands.
    @Test func freemkvMT19xx() throws {
        let c = ProtocolCase.all.first { $0.protocolName == "freemkv-mt19xx" }!
        #expect(try c.proto.probes.map { try $0.cdb.cdb(["length": $0.length]).bytes } == [hex("3C 06 00 1E C0 00 00 01 00 00 00 00")])
        let img = try c.image()
        let plan = try FlashPlan.build(c.proto, image: img, probe: ProbeData())
        #expect(plan.image == img)   // no transform: the whole 2 MiB is streamed
        let cmds = plan.commands
        guard case let .senseGate(ready) = cmds[0].action else { Issue.record("first step is not the readiness gate"); return }
        #expect(cmds[0].cdb.bytes == [UInt8](repeating: 0, count: 12) && cmds[0].phase == .prepare && ready.accept == [.init(key: 2, asc: 0x3A)])
        #expect(cmds[1].cdb.bytes == hex("3B 01 00 00 00 00 00 00 00 0B 00 00") && cmds[1].phase == .prepare && cmds[1].data == .none)
        let stream = cmds.filter { $0.cdb.bytes.first == 0x3B && $0.cdb.bytes[1] == 0x06 }
        #expect(stream.count == 128 && stream.allSatisfy { $0.phase == .commit && $0.data.length == 0x4000 })
        #expect(stream.first?.cdb.bytes == hex("3B 06 00 00 00 00 00 40 00 00 00 00") && stream[1].cdb.bytes == hex("3B 06 00 00 40 00 00 40 00 00 00 00"))
        #expect(stream.last?.cdb.bytes == hex("3B 06 00 1F C0 00 00 40 00 00 00 00"))
        let trailer = cmds[2 + 128]
        #expect(trailer.cdb.bytes == hex("3B 07 00 00 00 00 00 00 00 00 1B 12") && trailer.phase == .commit)
        if case let .senseGate(g) = trailer.action { #expect(g.accept == [.init(key: 2), .init(key: 6)]) } else { Issue.record("trailer") }
        #expect(cmds[2 + 129].action == .poll(tries: 90, interval: 0.5, successes: 1) && cmds[2 + 129].phase == .after)
        let sense = cmds[2 + 130]
        #expect(sense.cdb.bytes == hex("03 00 00 10 80 00 00 00 00 00 00 00") && sense.data == .fromDevice(16))
        if case let .senseGate(g) = sense.action { #expect(g.fatalKeys == [3, 4, 11]) } else { Issue.record("request sense") }
        // 1 probe + TUR + PREPARE + 128 + COMMIT + TUR + REQUEST SENSE
        #expect(1 + cmds.count == 134)
    }

    /// The sense gate judges answers as freemkv does: 02/3A before the flash is benign, other NOT READY aborts; keys 3,
    /// 4 and Bh in REQUEST SENSE data are fatal, 0/1/2/6 are not (fixed and descriptor formats).
    @Test func senseGate() throws {
        let ready = FlashProtocol.SenseGate(name: "r", cdb: try CDBTemplate("00 00 00 00 00 00"), accept: [.init(key: 2, asc: 0x3A)])
        #expect(ready.problem(.check(2, 0x3A, 0x01)) == nil)
        #expect(ready.problem(.check(2, 0x04, 0x01)) != nil && ready.problem(.check(6, 0x29, 0)) != nil && ready.problem(.good()) == nil)
        let rs = FlashProtocol.SenseGate(name: "s", cdb: try CDBTemplate("03 00 00 00 10 00"), length: 16, fatalKeys: [3, 4, 11])
        func fixed(_ k: UInt8) -> CommandResult { .good([0x70, 0, k, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x0C, 0, 0, 0]) }
        for k: UInt8 in [3, 4, 0x0B] { #expect(rs.problem(fixed(k)) != nil) }
        for k: UInt8 in [0, 1, 2, 6] { #expect(rs.problem(fixed(k)) == nil) }
        #expect(rs.problem(.good([0x72, 0x04, 0x44, 0, 0, 0, 0, 0])) != nil)   // descriptor format, key 4
        #expect(rs.problem(.good([0x72, 0x06, 0x29, 0, 0, 0, 0, 0])) == nil)
    }

    /// redumper's SD-616F sequence: the 20000h file rearranged into 30000h, FFh chunks with states 00h, FFh, 02h.
    @Test func sd616f() throws {
        let c = ProtocolCase.all.first { $0.family == "mediatek-ff" }!
        let img = try c.image()
        let plan = try FlashPlan.build(c.proto, image: img)
        let b = plan.image
        #expect(b.count == 0x30000)
        #expect(b[0..<0x10000] == img[0..<0x10000])
        #expect(b[0x10000..<0x10400].allSatisfy { $0 == 0 })
        #expect(b[0x10400..<0x1FC00] == img[0x10000..<0x1F800])
        #expect(b[0x20000..<0x20800] == img[0x1F800..<0x20000])
        #expect(b[0x20800..<0x2FC00] == img[0x10400..<0x1F800])
        #expect(plan.commands.map { $0.cdb.bytes } == [
            hex("FF 00 01 00 00 00 00 00 00 00 00 00"), hex("FF 00 01 00 00 FF 00 00 00 00 00 00"), hex("FF 00 01 00 00 02 00 00 00 00 00 00")])
        #expect(plan.commands.allSatisfy { $0.data.length == 0x10000 && $0.phase == .commit })
    }

    /// btcflash: 1000h chunks at offset + 20h, the sum block, 07h without data, 50 s, ready within 300 s.
    @Test func btc() throws {
        let c = ProtocolCase.all.first { $0.family == "btc-mediatek" }!
        let img = try c.image()
        let plan = try FlashPlan.build(c.proto, image: img)
        let sends = plan.commands.filter { $0.action == .send }
        #expect(sends.count == 256 + 2)
        #expect(sends[0].cdb.bytes == hex("3B 06 00 00 00 20 00 10 00 00") && sends[0].phase == .prepare)
        #expect(sends[255].cdb.bytes == hex("3B 06 00 0F F0 20 00 10 00 00"))
        let sum = img.reduce(0) { ($0 + Int($1)) & 0xFFFF }
        var block = [UInt8](repeating: 0, count: 32)
        block[30] = UInt8(sum >> 8); block[31] = UInt8(sum & 0xFF)
        #expect(sends[256].cdb.bytes == hex("3B 06 00 00 00 00 00 00 20 00") && sends[256].data == .toDevice(block))
        #expect(sends[257].cdb.bytes == hex("3B 07 00 00 00 00 00 00 00 00") && sends[257].phase == .commit && sends[257].data == .none)
        #expect(plan.commands.suffix(2).map(\.action) == [.wait(50), .poll(tries: 300, interval: 1, successes: 1)])
    }

    /// devilsclaw's LG Renesas sequence: 8000h chunks to cache (02h), the last to memory (05h), then SEND DIAGNOSTIC.
    @Test func lgRenesas() throws {
        let c = ProtocolCase.all.first { $0.family == "lg-renesas" }!
        let img = try c.image()
        let plan = try FlashPlan.build(c.proto, image: img)
        let sends = plan.commands.filter { $0.action == .send }
        #expect(sends.map { $0.cdb.bytes } == [
            hex("3B 02 00 00 00 00 00 80 00 44"), hex("3B 02 00 00 80 00 00 80 00 44"), hex("3B 05 00 01 00 00 00 04 80 44"),
            hex("1D 01 00 00 06 00")])
        #expect(sends.last?.data == .toDevice(hex("23 00 00 00 00 80")))
        #expect(plan.commands.last?.action == .wait(4))
        // The body after the 400h-byte header is placed at the load address the header names (BE32 at 40h).
        #expect(plan.placedImage.at == 0x10000 && plan.placedImage.bytes.count == 0x10080)
    }

    /// devilsclaw's firm_verify: the body read back from memory at the header's load address in 8000h chunks.
    @Test func lgRenesasReadBack() throws {
        let c = ProtocolCase.all.first { $0.family == "lg-renesas" }!
        let img = try c.image()
        let (d, plan) = try c.setUp(img)
        let o = quiet(d).run(plan, expectRevision: nil)
        #expect(o.status == .success && o.readBack, "\(o.message)")
        let reads = d.log.filter { $0.opcode == 0x3C }.map(\.bytes)
        #expect(reads == [hex("3C 05 00 01 00 00 00 80 00 44"), hex("3C 05 00 01 80 00 00 80 00 44"), hex("3C 05 00 02 00 00 00 00 80 44")])
        // A body that did not land (a write the drive acknowledged but dropped) is caught by the read-back.
        let (d2, plan2) = try c.setUp(img)
        d2.fault = FaultInjection(atWrite: 2, kind: .lyingWrite)
        let o2 = quiet(d2).run(plan2, expectRevision: nil)
        #expect(o2.status == .fatal && o2.message.contains("read-back differs"), "\(o2.message)")
    }

    /// Binflash Flash2M (drive ID K355): RAM writes to 10000h+, erase blocks 4..34 and program 4..33, each block one bit
    /// of CDB bytes 2-8 (EraseSingleBlock/FlashSingleBlock: byte 8-(b>>3), bit b&7).
    @Test func necOptiarc2M() throws {
        let c = ProtocolCase.all.first { $0.driveID == "K355" }!
        #expect(c.proto.name == "nec-optiarc class 2M (Flash2M)")
        let img = try c.image()
        let (_, plan) = try c.setUp(img)
        let sends = plan.commands.filter { $0.action == .send }
        let ram = sends.filter { $0.cdb.bytes[0] == 0xCB && $0.cdb.bytes[1] == 0x01 }
        #expect(ram.count == 0x1E0000 / 0x8000 && ram[0].cdb.bytes == hex("CB 01 00 01 00 00 00 00 08 00 00 00"))
        #expect(ram.last?.cdb.bytes == hex("CB 01 00 1E 80 00 00 00 08 00 00 00") && ram.last?.data == .toDevice(Array(img[0x1D8000..<0x1E0000])))
        let erase = sends.filter { $0.cdb.bytes[0] == 0xCB && $0.cdb.bytes[1] == 0x04 }
        let program = sends.filter { $0.cdb.bytes[0] == 0xCB && $0.cdb.bytes[1] == 0x02 }
        #expect(erase.count == 31 && program.count == 30)
        #expect(erase.first?.cdb.bytes == hex("CB 04 00 00 00 00 00 00 10 00 00 00") && erase.last?.cdb.bytes == hex("CB 04 00 00 04 00 00 00 00 00 00 00"))
        #expect(program.last?.cdb.bytes == hex("CB 02 00 00 02 00 00 00 00 00 00 00"))   // block 33
        #expect(sends.contains { $0.cdb.bytes == [0xCC, 0x04, img[0x1E0000], img[0x1E0001], 0, 0, 0, 0, 0, 0, 0, 0] })
    }

    /// Binflash Flash2MOpti: WriteRAMOpti's 20h zero bytes after each 8000h chunk; blocks 3..30.
    @Test func necOptiarc2MOpti() throws {
        let c = ProtocolCase.all.first { $0.driveID == "D570" }!
        let img = try c.image()
        let (_, plan) = try c.setUp(img)
        let ram = plan.commands.filter { $0.cdb.bytes[0] == 0xCB && $0.cdb.bytes[1] == 0x01 }
        #expect(ram.count == 56 && ram[0].cdb.bytes == hex("CB 01 00 03 00 00 00 00 08 00 00 00"))
        #expect(ram[0].data == .toDevice(Array(img[0..<0x8000]) + [UInt8](repeating: 0, count: 0x20)) && ram[0].imageBytes == 0x8000)
        let erase = plan.commands.filter { $0.cdb.bytes[0] == 0xCB && $0.cdb.bytes[1] == 0x04 }
        #expect(erase.count == 28 && erase[0].cdb.bytes == hex("CB 04 00 00 00 00 00 00 08 00 00 00"))
    }

    /// Binflash Flash2MOptiBD: RAM from 0 (the last chunk 200h), checksum 0 before the erase and 0 with the BD flag after.
    @Test func necOptiarcBD() throws {
        let c = ProtocolCase.all.first { $0.driveID == "C500" }!
        let img = try c.image()
        let (_, plan) = try c.setUp(img)
        let sends = plan.commands.filter { $0.action == .send }
        let ram = sends.filter { $0.cdb.bytes[0] == 0xCB && $0.cdb.bytes[1] == 0x01 }
        #expect(ram.count == 59 && ram.last?.cdb.bytes == hex("CB 01 00 1D 00 00 00 02 00 00 00 00"))
        let sums = sends.filter { $0.cdb.bytes[0] == 0xCC && $0.cdb.bytes[1] == 0x04 }
        #expect(sums.map(\.cdb.bytes) == [hex("CC 04 00 00 00 00 00 00 00 00 00 00"), hex("CC 04 00 00 00 00 00 01 00 00 00 00")])
        #expect(sums[0].phase == .prepare && sums[1].phase == .commit)
        #expect(!plan.commands.contains { if case .checkInquiry = $0.action { return true }; return false })   // no boot code on BD drives
    }

    @Test func templatesNamingUnknownValuesAreRejectedByTheLinter() throws {
        let yaml = """
        schema: 1
        id: t
        name: t
        provenance: "synthetic: test"
        synthetic: true
        status: {identify: ok, dump: n/a, flash: ok, region: n/a, booktype: n/a}
        flash:
          provenance: "synthetic: test"
          commit:
            - command: {name: x, cdb: "CC 01 {nosuch:4} 00 00 00 00 00 00"}
        """
        let dir = NSTemporaryDirectory() + "odflash-lint-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.copyItem(atPath: repoRoot + "/firmware-db", toPath: dir)
        try yaml.write(toFile: dir + "/families/t.yaml", atomically: true, encoding: .utf8)
        let issues = FirmwareDatabase.lint(root: dir).map(\.description)
        #expect(issues.contains { $0.contains("unknown value 'nosuch'") }, "\(issues)")
    }
}

@Suite struct VendorEndToEndTests {
    /// Every protocol flashes its emulated drive: the flash holds the image, the drive reports the new revision.
    @Test(arguments: ProtocolCase.all)
    func flashesEveryFamily(_ c: ProtocolCase) throws {
        let img = try c.image()
        let (d, plan) = try c.setUp(img)
        let before = d.memory!.flash
        let o = quiet(d).run(plan, expectRevision: c.family == "nec-optiarc" && c.layout != "nec-bd" ? "BL1Y" : (c.family == "btc-mediatek" ? "0051" : nil))
        if c.driveID == "G285" { #expect(plan.commands.contains { $0.cdb.bytes[0] == 0xCB && $0.cdb.bytes[1] == 0x12 }) }
        #expect(o.status == .success, "\(c): \(o.message)")
        #expect(ProtocolCase.holds(d, plan), "\(c)")
        let changed = d.memory!.flash != before
        #expect(changed)
        if c.family == "nec-optiarc" {
            #expect((c.layout == "nec-bd" || o.revisionAfter == "BL1Y") && d.behavior(as: NECBehavior.self)?.safeMode == false, "\(c): \(String(describing: o.revisionAfter))")
            // Cleanup runs only when a sequence stops early: a good run leaves safe mode once, in its commit phase.
            #expect(d.log.filter { $0.bytes[0] == 0xCC && $0.bytes[1] == 0x01 && $0.bytes[2] == 0x00 }.count == 1)
        }
        if c.family == "btc-mediatek" { #expect(o.revisionAfter == "0051") }
    }

    @Test func necRefusesAnImageForAnotherDriveID() throws {
        let c = ProtocolCase.all.first { $0.family == "nec-optiarc" && $0.driveID == nil }!
        var spec = c.spec
        spec.driveID = "Q245"
        let img = try SyntheticImage.generate(db.family("nec-optiarc")!.layouts.first { $0.id == "nec-2m-opti3" }!, spec, idTables: db.idTables)
        let d = try emu(c.drive)
        let probe = try ProbeRunner.run(c.proto, on: d)
        let rep = Inspector(layouts: db.layouts, idTables: db.idTables).inspect(LoadedImage(path: "t.bin", container: "bin", member: nil, bytes: img))
        let checks = ProbeRunner.checks(c.proto, probe: probe, image: img, report: rep, idTables: db.idTables)
        let id = checks.first { $0.name == "drive ID (from drive RAM)" }
        #expect(id?.passed == false && id?.hard == true && id?.detail.contains("drive ID Q245") == true, "\(String(describing: id))")
        #expect(d.writeCommandCount == 0 && d.log.allSatisfy { $0.opcode == 0xCC && $0.bytes[1] == 0 })   // only the ID read was sent
    }

    @Test func necRefusesAnotherFlashClass() throws {
        let c = ProtocolCase.all.first { $0.family == "nec-optiarc" && $0.driveID == nil }!
        let img = try SyntheticImage.generate(db.family("nec-optiarc")!.layouts.first { $0.id == "nec-2m" }!, SyntheticSpec(), idTables: db.idTables)
        let rep = Inspector(layouts: db.layouts, idTables: db.idTables).inspect(LoadedImage(path: "t.bin", container: "bin", member: nil, bytes: img))
        let checks = ProbeRunner.checks(c.proto, probe: ProbeData(), image: img, report: rep, idTables: db.idTables)
        #expect(checks.contains { $0.name == "protocol for this image" && !$0.passed && $0.hard })
    }

    /// A boot code mismatch is found in safe mode, before anything is written: recoverable, safe mode left, flash untouched.
    @Test func necBootcodeMismatchLeavesSafeMode() throws {
        let c = ProtocolCase.all.first { $0.family == "nec-optiarc" && $0.driveID == nil }!
        var spec = c.spec
        spec.bootcode = "07"
        let img = try SyntheticImage.generate(db.family("nec-optiarc")!.layouts.first { $0.id == "nec-2m-opti3" }!, spec, idTables: db.idTables)
        let (d, plan) = try ProtocolCase(family: c.family, drive: c.drive, layout: c.layout, spec: spec).setUp(img)
        let before = d.memory!.flash
        let o = quiet(d).run(plan, expectRevision: "BL1Y")
        #expect(o.status == .recoverable && o.message.contains("boot code 07") && o.message.contains("boot code 08"), "\(o.message)")
        let unchanged = d.memory?.flash == before
        #expect(d.behavior(as: NECBehavior.self)?.safeMode == false && unchanged && d.writeCommandCount == 0)
        #expect(d.log.last?.bytes == [0xCC, 0x01, 0x00, 0x00, 0x47, 0x32, 0x34, 0x35, 0x01, 0, 0, 0])
    }

    /// A dry-run copy answers the identification reads exactly as the real drive did.
    @Test func dryRunCopyReplaysProbes() throws {
        let c = ProtocolCase.all.first { $0.family == "mediatek-mt1959" }!
        let real = try emu(c.drive)
        let probe = try ProbeRunner.run(c.proto, on: real)
        let copy = EmulatedDrive.clone(vendor: "HL-DT-ST", product: "BD-RE BU40N", revision: "1.00",
                                       firmware: .init(behavior: "mt1959", size: 0x200000, revisionOffset: nil), replay: probe.answers)
        #expect(try ProbeRunner.run(c.proto, on: copy) == probe)
    }
}

/// The fault matrix: every protocol x chosen firmware writes x every fault kind. Each cell asserts the class the
/// failing phase implies, that the drive state said is the state the emulator is in, and that cleanup ran.
@Suite struct FaultMatrixTests {
    struct Cell: Encodable { let proto: String; let write: Int; let phase: String; let fault: String; let outcome: String; let detected: Bool }

    static func writes(_ d: EmulatedDrive, _ plan: FlashPlan) -> [PlannedCommand] {
        let op = d.behavior!.writeOpcode
        return plan.commands.flatMap { c -> [PlannedCommand] in
            guard c.phase != .cleanup else { return [] }
            // A challenge exchange sends its reset and its responses (writes) and one read.
            if case let .challenge(ch) = c.action {
                let ops = [ch.reset.opcode] + ch.responses.map { $0.cdb.opcode }
                return Array(repeating: c, count: ops.filter { $0 == op }.count)
            }
            return c.action == .send && c.cdb.opcode == op ? [c] : []
        }
    }

    /// Which writes to hit: first, second, middle, last of each phase that has writes.
    static func targets(_ w: [PlannedCommand]) -> [Int] {
        var out: Set<Int> = []
        for phase in [PlannedCommand.Phase.prepare, .commit] {
            let idx = w.indices.filter { w[$0].phase == phase }
            guard let f = idx.first, let l = idx.last else { continue }
            out.formUnion([f, min(f + 1, l), (f + l) / 2, l])
        }
        return out.sorted().map { $0 + 1 }
    }

    static func run() throws -> [Cell] {
        var cells: [Cell] = []
        for c in ProtocolCase.all {
            let img = try c.image()
            let (probeDrive, plan) = try c.setUp(img)
            let w = writes(probeDrive, plan)
            for at in targets(w) {
                for kind in FaultInjection.Kind.all {
                    let (d, p) = try c.setUp(img)
                    let before = d.memory!.flash
                    d.fault = FaultInjection(atWrite: at, kind: kind)
                    var ex = quiet(d)
                    // As the CLI does: the family's dump reads the flash back when it yields the image's layout.
                    if let dump = db.family(c.family)?.dumpVariants.first(where: { $0.layout != nil && $0.layout == c.layout }) { ex.verifyDump = dump }
                    let o = ex.run(p, expectRevision: nil)
                    let phase = w[at - 1].phase
                    // The invariants every cell must satisfy.
                    switch o.status {
                    case .recoverable:
                        let unchanged = d.memory!.flash == before
                        #expect(unchanged, "\(c) write \(at) \(kind): recoverable but the flash changed")
                        // The flash is unchanged; a vendor mode entered before the stop is said (left by the cleanup, or not).
                        #expect(o.driveState.hasPrefix("unchanged") || o.driveState.hasPrefix("flash unchanged"), "\(o.driveState)")
                        // Safe mode is left, or the outcome says that leaving it failed.
                        #expect(d.behavior(as: NECBehavior.self)?.safeMode != true || (!o.cleanupNotes.isEmpty && o.driveState.contains("vendor mode")),
                                "\(c) write \(at) \(kind): safe mode not left and not reported")
                    case .fatal:
                        #expect(o.driveState.hasPrefix("UNKNOWN") && o.nextSteps.first == "do NOT power off or reboot the computer or the drive")
                    case .unverified:
                        #expect(!o.nextSteps.isEmpty)
                    case .success:
                        // Only a write the drive acknowledged but did not (fully) do can end here, and only without a read-back.
                        #expect([FaultInjection.Kind.lyingWrite, .shortTransfer].contains(kind) || ProtocolCase.holds(d, p), "\(c) write \(at) \(kind)")
                        #expect(!o.readBack || ProtocolCase.holds(d, p))
                    }
                    if o.status != .success {
                        #expect(!o.message.isEmpty && o.commandsSent > 0)
                        // A failure in the commit phase is fatal, in prepare recoverable; never the other way round.
                        if o.failedCommand != nil, case .check = kind {
                            #expect(o.status == (phase == .prepare ? .recoverable : .fatal), "\(c) write \(at) \(kind): \(o.status) in \(phase)")
                        }
                        if [FaultInjection.Kind.timeout, .deviceGone, .powerLoss].contains(kind) {
                            #expect(o.status == (phase == .prepare ? .recoverable : .fatal), "\(c) write \(at) \(kind): \(o.status)")
                        }
                        // Cleanup ran: a protocol with cleanup steps either sent them or says why not.
                        if p.commands.contains(where: { $0.phase == .cleanup }) {
                            let sentCleanup = d.log.last.map { last in p.commands.contains { $0.phase == .cleanup && $0.cdb == last } } ?? false
                            #expect(sentCleanup || !o.cleanupNotes.isEmpty, "\(c) write \(at) \(kind): cleanup neither ran nor was reported")
                        }
                    }
                    let detected = o.status != .success || ProtocolCase.holds(d, p)
                    cells.append(Cell(proto: c.description, write: at, phase: phase.rawValue, fault: kind.description, outcome: o.status.rawValue, detected: detected))
                }
            }
        }
        return cells
    }

    @Test func matrix() throws {
        let cells = try FaultMatrixTests.run()
        #expect(cells.count >= 200, "only \(cells.count) cells")
        #expect(Set(cells.map(\.proto)).count == ProtocolCase.all.count)
        #expect(cells.contains { $0.proto == "nec-optiarc (G285)" })
        // The totals script reads this file.
        if let out = ProcessInfo.processInfo.environment["ODFLASH_FAULT_MATRIX"] {
            let enc = JSONEncoder()
            enc.outputFormatting = [.sortedKeys]
            try enc.encode(cells).write(to: URL(fileURLWithPath: out))
        }
    }
}
