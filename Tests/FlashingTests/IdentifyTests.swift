import Foundation
import Testing
@testable import Emulator
@testable import FirmwareDB
@testable import Flashing
@testable import SCSI

/// An emulated drive from a shipped profile, edited (the INQUIRY strings, the profile, its firmware).
func edited(_ name: String, _ edit: (inout DriveProfile) -> Void) throws -> EmulatedDrive {
    var p = try DriveProfile.resolve(name, emulatorDir: repoRoot + "/firmware-db/emulator")
    p.unitAttentionOnStart = false
    edit(&p)
    return EmulatedDrive(profile: p)
}

func identify(_ d: EmulatedDrive) -> IdentifyOutcome {
    Identifier.run(db.identificationOrder, on: d, vendor: d.profile.inquiry.vendor, product: d.profile.inquiry.product, idTables: db.idTables)
}

/// Every command the drive got is a read the database marks read-only: INQUIRY, GET CONFIGURATION, READ BUFFER,
/// MODE SENSE(10), or a vendor command starting with a family's read-only prefix (NEC CC 00, CF 03).
func onlyReadOnly(_ log: [CDB]) -> Bool {
    let prefixes = db.families.flatMap(\.readOnlyCommands).map(\.prefix)
    return log.allSatisfy { c in [0x12, 0x46, 0x3C, 0x5A].contains(c.opcode) || prefixes.contains { c.bytes.starts(with: $0) } }
}

@Suite struct IdentifyTests {
    @Test func orderAndMarkingOfTheShippedReads() throws {
        #expect(db.identificationOrder.map(\.id) == ["pioneer-bd", "mediatek-mt1959", "nec-optiarc"])
        for (_, _, r) in db.identificationOrder {
            #expect(r.probes.allSatisfy { $0.readOnly && !$0.provenance.isEmpty })
        }
        let nec = try #require(db.family("nec-optiarc")?.identify)
        #expect(nec.probes.map(\.cdb.description) == ["CC 00 00 00 45 00 00 00 20 00 00 00", "CC 00 00 00 48 00 00 00 20 00 00 00",
                                                      "CC 00 00 01 08 00 00 00 20 00 00 00", "CC 00 00 00 70 00 00 00 20 00 00 00",
                                                      "CC 00 00 00 50 00 00 00 20 00 00 00"])
        let mtk = try #require(db.family("mediatek-mt1959")?.identify)
        #expect(mtk.probes.map(\.cdb.description) == ["46 02 01 0C 00 00 00 00 20 00", "3C 06 00 00 30 00 00 00 20 00"])
        #expect(mtk.skipVendors == ["PIONEER"])
        #expect(db.family("nec-optiarc")?.strategyVersions?.cdb.description == "CF 03 00 00 00 00 00 00 00 00 00 00")
    }

    @Test func theND3550AIsFoundByItsDriveIDAtRAM4800h() throws {
        let d = try emu("nd-3550a-oem")
        #expect(db.match(vendor: "OEMDRIVE", product: "DVD RW 16X OEM", revision: "1.05") == nil)
        // Under its own strings the ND-3550A is named by qpxtool's model entry.
        #expect(db.match(vendor: "_NEC", product: "DVD_RW ND-3550A", revision: "1.05")?.family == "nec-optiarc")
        let o = identify(d)
        #expect(o.family == "nec-optiarc")
        #expect(o.driveID == "K355" && o.model == "NEC 3550A" && o.flashClass == "2M" && o.layout == "nec-2m")
        #expect(o.matchedBy == ["ReadRAM 4800h"])
        // MediaTek first (no feature 010Ch: its banner read is not sent), then NEC in Binflash's order up to the match.
        #expect(d.log.map(\.description) == ["46 02 01 0C 00 00 00 00 20 00", "CC 00 00 00 45 00 00 00 20 00 00 00", "CC 00 00 00 48 00 00 00 20 00 00 00"])
        #expect(d.writeCommandCount == 0 && onlyReadOnly(d.log))
    }

    /// A NEC drive under other INQUIRY strings (an OEM's) is the same drive to the probe.
    @Test(arguments: [("SONY", "DVD RW DRU-810A"), ("HP", "DVD Writer 640c"), ("PLDS", "DVD+-RW DH-16A6S"), ("Optiarc", "DVD RW AD-7170A")])
    func necUnderOtherInquiryStrings(_ vendor: String, _ product: String) throws {
        let d = try edited("nd-3550a-oem") { $0.inquiry.vendor = vendor; $0.inquiry.product = product }
        let o = identify(d)
        #expect(o.family == "nec-optiarc" && o.driveID == "K355")
    }

    @Test func theIHAS324YAnswersAt10800h() throws {
        let d = try edited("ihas324y") { $0.inquiry.vendor = "ACME" }
        let o = identify(d)
        #expect(o.driveID == "G245" && o.flashClass == "2MOpti3" && o.matchedBy == ["ReadRAM 10800h"])
        #expect(d.log.count == 4 && onlyReadOnly(d.log))
    }

    @Test func anIDAtTheWrongAddressDoesNotCount() throws {
        // Binflash compares each address with its own IDs: a class-3 ID read at 4800h identifies nothing there.
        let d = try edited("nd-3550a-oem") { $0.firmware?.preset = [.init(at: 0x4800, bytes: Array("G245".utf8))] }
        let o = identify(d)
        #expect(o.family == nil)
        let nec = try #require(o.attempts.last)
        #expect(nec.reads.count == 5 && nec.reads[1].detail?.contains("flash class 2MOpti3, not one this read identifies") == true)
    }

    /// Pioneer BD: the 48-byte identity block (READ BUFFER 02h, buffer F1h) by freemkv's positive rule, sent first and
    /// only to a PIONEER drive whose last product word starts BDR-, BDC- or DVR-.
    @Test func pioneerBDIdentityBlock() throws {
        let d = try emu("bdr-ud04")
        let o = identify(d)
        #expect(o.family == "pioneer-bd" && o.evidence == ["platform 'SAT 8A10'"])
        #expect(d.log.map(\.description) == ["3C 02 F1 00 00 00 00 00 30 00"])
        #expect(d.writeCommandCount == 0 && onlyReadOnly(d.log))
        // The emulated drive answers exactly 48 bytes, and refuses any other READ BUFFER (05/24/00).
        #expect(try d.execute(try CDB(raw: [0x3C, 0x02, 0xF1, 0, 0, 0, 0, 0, 0x30, 0]), .fromDevice(0x30), timeout: 1).data.count == 0x30)
        #expect(try d.execute(try CDB(raw: [0x3C, 0x02, 0xB0, 0, 0, 0, 0, 0, 0x04, 0]), .fromDevice(4), timeout: 1).sense?.triple == "05/24/00")
    }

    /// No other drive ever gets the F1h read: another vendor, or a PIONEER whose product word is not BDR-/BDC-/DVR-.
    @Test(arguments: ["bu40n", "nd-3550a-oem", "ihas324y", "pioneer-dvd-rom", "pioneer-bd-rom"])
    func noF1ReadToAnyOtherDrive(_ name: String) throws {
        let d: EmulatedDrive
        switch name {
        case "pioneer-dvd-rom": d = try edited("bdr-ud04") { $0.inquiry.product = "DVD-ROM DVD-120S" }
        case "pioneer-bd-rom": d = try edited("bdr-ud04") { $0.inquiry.product = "BD-ROM  BDX-1" }
        default: d = try emu(name)
        }
        let o = identify(d)
        #expect(o.family != "pioneer-bd")
        #expect(!d.log.contains { $0.bytes.starts(with: [0x3C, 0x02, 0xF1]) }, "\(d.log)")
        let pio = try #require(o.attempts.first)
        #expect(pio.family == "pioneer-bd" && pio.skipped != nil && pio.reads.isEmpty)
        if name.hasPrefix("pioneer") {
            // Nor does the MediaTek check reach a Pioneer.
            #expect(o.attempts.first { $0.family == "mediatek-mt1959" }?.skipped?.contains("PIONEER") == true)
        }
    }

    @Test(arguments: [
        ("XYZ 8A10", "starts with none of 'SAT ', 'ATA ', 'SCSI'"),
        ("SATA8A10", "are 'SATA8A10', which starts with none of"),
    ])
    func pioneerBDIdentityBlockRefused(_ platform: String, _ why: String) throws {
        let d = try edited("bdr-ud04") { p in p.firmware?[PioneerBDBehavior.self]?.identity = "SYNTH00000000001\(platform)ID40    ID41    0000" }
        let o = identify(d)
        #expect(o.family != "pioneer-bd")
        let pio = try #require(o.attempts.first)
        #expect(pio.family == "pioneer-bd" && !pio.matched && pio.reads.first?.detail?.contains(why) == true, "\(pio.reads)")
    }

    @Test func mediatekTwoFactorPasses() throws {
        let d = try emu("bu40n")
        let o = identify(d)
        #expect(o.family == "mediatek-mt1959")
        #expect(o.evidence == ["boot banner 'MT1959 Boot BU5 '"])
        #expect(d.log.map(\.description) == ["46 02 01 0C 00 00 00 00 20 00", "3C 06 00 00 30 00 00 00 20 00"])
        #expect(d.writeCommandCount == 0)
    }

    @Test(arguments: [
        ("banner of 1Fh bytes", "answered 31 bytes, not exactly 32"),
        ("banner of 21h bytes", "answered 33 bytes, not exactly 32"),
        ("no MT19", "no 'MT19' in the answer"),
        ("no feature 010Ch", "a feature reply of 8 bytes"),
    ])
    func mediatekTwoFactorFails(_ variant: String, _ why: String) throws {
        let d = try edited("bu40n") { p in
            switch variant {
            case "banner of 1Fh bytes": p.firmware?[MT1959Behavior.self]?.bufferAnswerLength = 0x1F
            case "banner of 21h bytes": p.firmware?[MT1959Behavior.self]?.bufferAnswerLength = 0x21
            case "no MT19": p.firmware?.preset = [.init(at: 0x3000, bytes: Array("RTL8xxx Boot X01 SYNTH CONFIG 001".utf8))]
            default: p.firmwareInformation = nil
            }
        }
        // The emulator really answers so: the lengths, the text, the feature reply.
        if variant.hasPrefix("banner") {
            let r = try d.execute(try CDB(raw: [0x3C, 0x06, 0, 0, 0x30, 0, 0, 0, 0x20, 0]), .fromDevice(0x20), timeout: 1)
            #expect(r.data.count == (variant.contains("1Fh") ? 0x1F : 0x21))
        }
        let o = identify(d)
        #expect(o.family != "mediatek-mt1959")
        let mtk = try #require(o.attempts.first { $0.family == "mediatek-mt1959" })
        #expect(!mtk.matched)
        #expect(mtk.reads.contains { $0.detail?.contains(why) == true }, "\(mtk.reads)")
        // Without a complete feature reply the banner read is not sent.
        if variant == "no feature 010Ch" { #expect(!d.log.contains { $0.opcode == 0x3C }) }
        #expect(d.writeCommandCount == 0 && onlyReadOnly(d.log))
    }

    /// freemkv's completeness rule for the feature reply, on crafted answers.
    @Test func featureReplyMustBeComplete() throws {
        let p = try #require(db.family("mediatek-mt1959")?.identify?.probes.first)
        let body = Array("20170101000000".utf8) + [0, 0]
        let good: [UInt8] = [0, 0, 0, 24, 0, 0, 0, 0, 0x01, 0x0C, 0x03, 16] + body
        #expect(p.problem(good, idTables: db.idTables) == nil)
        var lying = good; lying[3] = 30
        #expect(p.problem(lying, idTables: db.idTables)?.contains("the header declares 34 bytes, the descriptor 28") == true)
        #expect(p.problem(Array(good.prefix(20)), idTables: db.idTables)?.contains("incomplete: 20 of 28 bytes") == true)
        var other = good; other[9] = 0x08
        #expect(p.problem(other, idTables: db.idTables)?.contains("no feature 010Ch (the reply holds 0108h)") == true)
        #expect(p.problem(Array(good.prefix(11)), idTables: db.idTables)?.contains("a feature reply of 11 bytes") == true)
    }

    @Test func pioneerInquirySkipsTheMediatekCheck() throws {
        let d = try edited("bu40n") { $0.inquiry.vendor = "PIONEER" }
        let o = identify(d)
        #expect(o.attempts.first { $0.family == "mediatek-mt1959" }?.skipped?.contains("PIONEER") == true)
        #expect(!d.log.contains { $0.opcode == 0x46 || $0.opcode == 0x3C })
        #expect(o.family == nil)
    }

    /// Non-NEC drives get the identification reads and nothing else: no write, no vendor command outside the reads the
    /// database marks read-only, and their memory is untouched.
    @Test(arguments: ["px716a", "bu40n", "lg-gsa-t21n", "sd616f", "btc-drw1008", "dvr-104", "scsi-debug-cd", "synthetic-writer"])
    func nonNECDrivesGetOnlyReadOnlyCommands(_ name: String) throws {
        let d = try edited(name) { $0.inquiry.vendor = "NOBODY" }
        let before = d.memory?.flash
        _ = identify(d)
        #expect(d.writeCommandCount == 0)
        #expect(onlyReadOnly(d.log), "\(d.log)")
        #expect(!d.log.contains { $0.opcode == 0x3B || $0.opcode == 0xCB || ($0.opcode == 0xCC && $0.bytes[1] != 0) })
        #expect(d.memory?.flash == before)
    }

    @Test func strategyVersions() throws {
        let read = try #require(db.family("nec-optiarc")?.strategyVersions)
        let r = read.read(on: try emu("ihas324y"))
        #expect(r.available)
        #expect(r.versions.map(\.media) == ["CD-R", "CD-RW", "DVD+R", "DVD+R9", "DVD+RW", "DVD-R", "DVD-RW", "DVD-R9", "DVD-RAM"])
        #expect(r.versions.first?.version == "SY324CR" && r.versions.first?.raw == "SY324CR_")
        // A drive that refuses CF 03: not available, with the sense, never an error.
        let refused = read.read(on: try emu("px716a"))
        #expect(!refused.available && refused.reason?.contains("05/20/00") == true)
        // Binflash stops at an entry that starts with a zero byte; a partial entry at the end is left out.
        #expect(read.parse(Array("AAAA____BBBB".utf8)).map(\.version) == ["AAAA"])
        #expect(read.parse(Array("AAAA____".utf8) + [0] + Array("CCCCCCC".utf8)).count == 1)
        let eleven = read.parse((0..<11).flatMap { _ in Array("V1.0____".utf8) })
        #expect(eleven.count == 11 && eleven.last?.media == "entry 11")
    }
}
