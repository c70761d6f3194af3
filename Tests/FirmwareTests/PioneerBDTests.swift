import Foundation
import Testing
@testable import Firmware
import FirmwareDB
import SCSI

/// Pioneer BD component files built here by hand from the facts (mediatek-pioneer-bd-facts.md 5, "Envelope facts"):
/// the banner at 0, the file name at 1F0h, the required Kernel tag at D0h, the signature at 170h, the sizes. Not made
/// by odflash's generator; every value is synthetic.
@Suite struct PioneerBDTests {
    /// A component: the banner lines (CR LF), zero padding, then the fixed places of the 200h-byte header, then a body.
    static func component(type: String, size: Int, hardware: String = "SAT 8A10", kernelTag: String? = "ID40",
                          signature: UInt8 = 0x5A, banner: String = PioneerBD.bannerMagic) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: size)
        let lines = [banner, "ID : PIONEER BD-RW   BDR-UD04", "Revision Level : 1.14", "Hardware Version : \(hardware)",
                     "Destination : ID40", "File Type : \(type)"].joined(separator: "\r\n") + "\r\n"
        let text = Array(lines.utf8)
        precondition(text.count < 0xD0)
        b.replaceSubrange(0..<text.count, with: text)
        if let k = kernelTag { let t = Array(k.padding(toLength: 8, withPad: " ", startingAt: 0).utf8); b.replaceSubrange(0xD0..<0xD8, with: t) }
        for i in 0x170..<0x1C0 { b[i] = signature }
        let name = Array("SYNTHUD04.\(type.prefix(1))".utf8)
        b.replaceSubrange(0x1F0..<(0x1F0 + name.count), with: name)
        for i in 0x200..<size { b[i] = UInt8(truncatingIfNeeded: i &* 7) }
        return b
    }

    func inspect(_ b: [UInt8]) -> InspectReport {
        Inspector(layouts: db.layouts, idTables: db.idTables).inspect(LoadedImage(path: "test.bin", container: "bin", member: nil, bytes: b))
    }

    @Test func normalComponent() throws {
        let r = inspect(Self.component(type: "Normal", size: 0x200 + 0x20000))
        #expect(r.identity?.layout == "pioneer-bd-component")
        let p = try #require(r.pioneer)
        #expect(p.model == "BDR-UD04" && p.revision == "1.14" && p.hardware == "SAT 8A10" && p.controllerID == "8A10")
        #expect(p.destination == "ID40" && p.fileType == "Normal" && p.requiredKernelTag == "ID40" && p.embeddedName == "SYNTHUD04.N")
        #expect(p.signatureZero == false && p.problems.isEmpty, "\(p.problems)")
        #expect(r.problems.isEmpty && r.valid == nil, "\(r.problems)")   // no checksum of the envelope is public: not verified
    }

    @Test func kernelComponent() throws {
        let r = inspect(Self.component(type: "Kernel", size: 0x11200, kernelTag: nil))
        let p = try #require(r.pioneer)
        #expect(p.fileType == "Kernel" && p.requiredKernelTag == nil && p.problems.isEmpty, "\(p.problems)")
    }

    @Test(arguments: [
        ("Kernel of 12000h bytes", "a Kernel envelope is 11200h"),
        ("unaligned size", "a multiple of 100h"),
        ("File Type Boot", "File Type 'Boot' is not Kernel, Normal or Plane"),
        ("no Kernel tag", "no required Kernel tag at D0h"),
        ("hardware ATA", "hardware 'ATA 0007' is not 'SAT' and four hex digits"),
        ("too large", "this file is 16777472"),
    ])
    func brokenComponents(_ variant: String, _ why: String) throws {
        let b: [UInt8]
        switch variant {
        case "Kernel of 12000h bytes": b = Self.component(type: "Kernel", size: 0x12000, kernelTag: nil)
        case "unaligned size": b = Self.component(type: "Normal", size: 0x10280 + 1)
        case "File Type Boot": b = Self.component(type: "Boot", size: 0x10200)
        case "no Kernel tag": b = Self.component(type: "Normal", size: 0x10200, kernelTag: nil)
        case "hardware ATA": b = Self.component(type: "Normal", size: 0x10200, hardware: "ATA 0007")
        default: b = Self.component(type: "Normal", size: 0x1000100)
        }
        let r = inspect(b)
        #expect(r.identity?.layout == "pioneer-bd-component")
        #expect(r.valid == false && r.problems.contains { $0.contains(why) }, "\(r.problems)")
    }

    @Test func zeroSignatureIsTheNotOEMSentinel() throws {
        let r = inspect(Self.component(type: "Normal", size: 0x10200, signature: 0))
        #expect(r.pioneer?.signatureZero == true && r.warnings.contains { $0.contains("\"not OEM\" sentinel") })
    }

    @Test func withoutTheBannerItIsNoPioneerComponent() {
        let r = inspect(Self.component(type: "Normal", size: 0x10200, banner: "********  Copyright(c) 2000 Pionee!"))
        #expect(r.identity?.layout != "pioneer-bd-component" && r.pioneer == nil)
        #expect(PioneerBD.component([0x41]).problems == ["no Pioneer banner ('\(PioneerBD.bannerMagic)') at offset 0"])
    }

    /// The identity block's fields and the positive rule (facts 1.2), and the dialect (pioneer-optical Identity::class).
    @Test func identityBlockAndDialect() throws {
        var b = Array("QHSYNTH000000001SAT 8A10ID40    ID41    0000".utf8)
        b += [UInt8](repeating: 0, count: 48 - b.count)
        #expect(PioneerBD.identityProblem(b) == nil)
        let i = try #require(PioneerBD.identity(b))
        #expect(i.serial == "QHSYNTH000000001" && i.platform == "SAT 8A10" && i.kernelTag == "ID40" && i.normalTag == "ID41")
        #expect(i.code == "0000" && i.controllerID == "8A10" && !i.updateMode)
        var update = b; for k in 32..<40 { update[k] = 0x20 }
        #expect(PioneerBD.identity(update)?.updateMode == true)
        #expect(PioneerBD.identityProblem(Array(b.prefix(47)))?.contains("not exactly 48") == true)
        var ata = b; ata.replaceSubrange(16..<24, with: Array("ATA 0007".utf8))
        #expect(PioneerBD.identityProblem(ata) == nil && PioneerBD.identity(ata)?.controllerID == nil)
        var bad = b; bad.replaceSubrange(16..<24, with: Array("XYZ 8A10".utf8))
        #expect(PioneerBD.identityProblem(bad)?.contains("does not start with") == true)
        var np = b; np[20] = 0x07
        #expect(PioneerBD.identityProblem(np)?.contains("not printable") == true)
        #expect(PioneerBD.identity(Array(b.prefix(43))) == nil && PioneerBD.identity(Array(b.prefix(44))) != nil)

        #expect(PioneerBD.dialect(product: "BD-RW   BDR-UD04", platform: "SAT 8A10") == .bd)
        #expect(PioneerBD.dialect(product: "BD-RW   BDR-UD04", platform: "DVR 0112") == .bd)
        #expect(PioneerBD.dialect(product: "DVD-RW  DVR-112D", platform: "DVR 0112") == .dvr)
        #expect(PioneerBD.dialect(product: "DVD-RW  DVR-112D", platform: "SAT 8A10") == nil)
        #expect(PioneerBD.dialect(product: "CD-RW   UNKNOWN1", platform: "DVR 0112") == nil)
        #expect(PioneerBD.claims(vendor: "PIONEER ", product: "BD-RW   BDR-UD04") && PioneerBD.claims(vendor: "PIONEER", product: "BD-ROM  BDC-TD03"))
        #expect(!PioneerBD.claims(vendor: "HL-DT-ST", product: "BD-RE BU40N") && !PioneerBD.claims(vendor: "PIONEER", product: "DVD-ROM DVD-120"))
    }

    /// The cross-flash family table: 13 families, keyed by SAT controller id.
    @Test func crossflashFamilies() throws {
        let t = try #require(try PioneerCrossflash.load(root: repoRoot + "/firmware-db"))
        #expect(Set(t.entries.values.map(\.family)).count == 13 && t.entries.count == 31)
        #expect(t.entries["8A10"]?.family == "F3" && t.entries["8A10"]?.models == "US04" && t.entries["8600"]?.family == "F2" && t.entries["8601"]?.family == "F5")
        #expect(t.provenance.contains("crossflash_families.json @964093c"))
        #expect(throws: PioneerCrossflash.Failure.self) { try PioneerCrossflash.parse("# name: t\n# provenance: x\n8a10\tF3\tUS04\n", file: "t") }
        #expect(throws: PioneerCrossflash.Failure.self) { try PioneerCrossflash.parse("# name: t\n8A10\tF3\tUS04\n", file: "t") }
        #expect(throws: PioneerCrossflash.Failure.self) { try PioneerCrossflash.parse("# name: t\n# provenance: x\n8A10\tF3\tUS04\n8A10\tF3\tUS04\n", file: "t") }
    }
}
