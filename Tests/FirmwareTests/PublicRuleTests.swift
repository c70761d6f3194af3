import Testing
@testable import Firmware
import FirmwareDB

/// Images built here byte by byte from the public rules (image-format-facts.md), not by SyntheticImage or a layout:
/// identification must follow each anchor tool's own rule and demand nothing more. (scripts/reference-images builds a
/// larger independent set and judges the CLI with it.)
@Suite struct PublicRuleTests {
    /// Binflash's dump format: data, the 16-bit sum of its big-endian words, the 4-character drive ID, an optional
    /// 2-byte bootcode (necinterface.cpp 2004-2008, 2137-2139).
    static func necDump(dataSize: Int, id: String, bootcode: [UInt8]? = nil, fill: (Int) -> UInt8 = { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }) -> [UInt8] {
        var img = (0..<dataSize).map(fill)
        var sum: UInt16 = 0
        for i in stride(from: 0, to: dataSize, by: 2) { sum &+= UInt16(img[i]) << 8 | UInt16(img[i + 1]) }
        img += [UInt8(sum >> 8), UInt8(sum & 0xFF)] + Array(id.utf8) + (bootcode ?? [])
        return img
    }

    /// pxfw: the padded vendor and product at the start, a 16-bit byte sum over [0, off) stored big-endian at off.
    static func plextor(header: String, size: Int, sumAt: Int, start: UInt16) -> [UInt8] {
        var img = [UInt8](repeating: 0xFF, count: size)
        for (i, b) in header.utf8.enumerated() { img[i] = b }
        for i in 64..<min(sumAt, 4096) { img[i] = UInt8(truncatingIfNeeded: i) }
        var sum = start
        for i in 0..<sumAt { sum &+= UInt16(img[i]) }
        img[sumAt] = UInt8(sum >> 8); img[sumAt + 1] = UInt8(sum & 0xFF)
        return img
    }

    @Test func necImageWithoutTheInquiryBlockIsIdentifiedByItsDriveID() throws {
        // G245 = Optiarc 7240S / iHAS324 Y, class Opti3: 1B0000h data bytes (necinternal.cpp 949-950; necinterface.cpp 379-382).
        let img = Self.necDump(dataSize: 0x1B0000, id: "G245")
        #expect(img.count == 1_769_478)
        #expect(BytePattern(hex: "07 00 03 00 78 00 78 00 78 00")!.firstMatch(in: img) == nil)
        let r = inspect(img)
        #expect(r.identity?.family == "nec-optiarc" && r.identity?.layout == "nec-2m-opti3")
        #expect(r.identity?.identifiedBy == .driveID)
        #expect(r.valid == true, "\(r.problems)")
        #expect(r.models.contains { $0.contains("7240S") })
        #expect(r.product == nil, "no INQUIRY block: no product")
    }

    @Test func necImageWithBootcodeAndClass2M() throws {
        // K355 = NEC 3550A, class 2M: 1E0000h data bytes, bootcode after the ID (necinterface.cpp 369-372).
        let r = inspect(Self.necDump(dataSize: 0x1E0000, id: "K355", bootcode: Array("08".utf8)))
        #expect(r.identity?.layout == "nec-2m")
        #expect(r.valid == true)
        #expect(r.bootcode?.contains("08") == true)
    }

    @Test func necDriveIDNotInTheTableIsAnInvalidNECImage() throws {
        let r = inspect(Self.necDump(dataSize: 0x1B0000, id: "ZZ99"))
        #expect(r.identity?.family == "nec-optiarc")
        #expect(r.valid == false)
        #expect(r.problems.contains { $0.contains("ZZ99") && $0.contains("not in") })
    }

    @Test func necFlippedChecksumIsBad() throws {
        var img = Self.necDump(dataSize: 0x1B0000, id: "G245")
        img[0x1B0001] ^= 0x40
        let r = inspect(img)
        #expect(r.identity?.layout == "nec-2m-opti3")
        #expect(r.checksums.first?.status == .bad && r.valid == false)
    }

    @Test func plextorHeaderWithWrongSizeIsAPlextorImageWithAWrongSize() throws {
        let good = Self.plextor(header: "PLEXTOR DVDR   PX-716A ", size: 983_040, sumAt: 0xEFFFE, start: 0)
        #expect(inspect(good).valid == true)
        for bad in [Array(good.prefix(900_000)), good + [UInt8](repeating: 0, count: 512)] {
            let r = inspect(bad)
            #expect(r.identity?.layout == "px-716a")
            #expect(r.valid == false)
            #expect(r.problems.first?.contains("\(bad.count)") == true && r.problems.first?.contains("983040") == true, "\(r.problems)")
        }
    }

    @Test func plextor716ALHeaderIsNot716A() throws {
        let img = Self.plextor(header: "PLEXTOR DVDR   PX-716AL", size: 983_040, sumAt: 0xEFFFE, start: 0)
        #expect(inspect(img).identity?.layout != "px-716a")
    }

    @Test func sizeAloneNeverValidates() {
        var rng = SeededRandom(seed: 5)
        let r = inspect(rng.bytes(0x20000))
        if r.identity != nil {
            #expect(r.identity?.identifiedBy == .size)
            #expect(r.valid == nil)
            #expect(r.verdict.hasPrefix("not verifiable"))
        }
    }

    @Test func liteOnTablesComeFromTheLetterRowWithoutSampleCodes() throws {
        // Letter U: plus tables in bank Ch, dash tables in bank Dh (fw_specs.pl 'U' row). Remove the sample codes that
        // OmniPatcher only uses to correct a wrong bank: the tables must still be read, exactly.
        var img = try generate(layout("liteon-mediatek", "liteon-dvdrw")) { $0.revision = "US0Q" }
        let withSamples = inspect(img).mediaTables.filter { !$0.heuristic }
        func replace(_ from: [UInt8], _ to: [UInt8]) {
            while let at = BytePattern(literal: from).firstMatch(in: img) { for (k, b) in to.enumerated() { img[at + k] = b } }
        }
        replace(Array("RITEKG03".utf8), Array("RITEKG09".utf8))
        replace(LiteOn8051.utf16("RICOHJPNR00"), LiteOn8051.utf16("RICOHJPNR09"))
        replace(Array("RICOHJPNR00".utf8), Array("RICOHJPNR09".utf8))
        let r = inspect(img)
        let exact = r.mediaTables.filter { !$0.heuristic }
        #expect(exact.map(\.name) == withSamples.map(\.name))
        #expect(exact.map(\.count) == withSamples.map(\.count))
        #expect(exact.flatMap(\.entries).contains { $0.code.hasPrefix("RITEKG09") })
        #expect(r.warnings.allSatisfy { !$0.contains("not in OmniPatcher's bank table") })
    }

    @Test func liteOnBankWithoutLJMPIsReportedButInspected() throws {
        var img = try generate(layout("liteon-mediatek", "liteon-dvdrw")) { $0.revision = "US0Q" }
        img[0x30000] = 0x00
        let r = inspect(img)
        #expect(r.identity?.family == "liteon-mediatek")
        #expect(r.valid == false)
        #expect(r.problems.contains { $0.contains("bank 3") })
        #expect(!r.mediaTables.filter { !$0.heuristic }.isEmpty)
    }

    @Test func patchRefusesToLaunderABadChecksum() throws {
        var img = try generate(layout("synthetic-test", "synth-dvdrw"))
        let r0 = inspect(img)
        let sum = try #require(layout("synthetic-test", "synth-dvdrw").checksums.first)
        guard case let .stored(o, _) = sum.storage else { return }
        img[o] ^= 0xFF
        #expect(inspect(img).valid == false, "\(r0.checksums)")
        let p = Patcher(inspector: Inspector(layouts: db.layouts, idTables: db.idTables))
        #expect(throws: PatchError.self) { try p.apply([.regionFree], to: img) }
        do { _ = try p.apply([.regionFree], to: img) } catch { #expect(error.description.contains("--repair-checksums")) }
        let repaired = try p.apply([.regionFree], to: img, repairBadChecksums: true)
        #expect(repaired.report.checksums.contains { $0.statusBefore == .bad && $0.status == .ok })
        #expect(inspect(repaired.image).valid == true)
    }

    @Test func patchRefusesAnInputWithAWrongDriveID() throws {
        let img = Self.necDump(dataSize: 0x1B0000, id: "ZZ99")
        let p = Patcher(inspector: Inspector(layouts: db.layouts, idTables: db.idTables))
        #expect(throws: PatchError.self) { try p.apply([.regionFree], to: img, repairBadChecksums: true) }
    }
}
