import Foundation
import Testing
@testable import CLI

/// The CDBs of a JSON-lines transcript.
func transcriptCDBs(_ path: String) throws -> [[UInt8]] {
    try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { line in
        let o = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        return (o["cdb"] as? String ?? "").split(separator: " ").compactMap { UInt8($0, radix: 16) }
    }
}

/// Vendor commands (C0h-FFh) in a transcript are only the reads the db marks read-only (NEC CC 00, CF 03), and
/// nothing writes (WRITE BUFFER, MODE SELECT, SEND KEY, NEC CBh, CC 01 safe mode, ...).
func onlyReads(_ cdbs: [[UInt8]]) -> Bool {
    cdbs.allSatisfy { c in
        guard let op = c.first else { return false }
        if [0x3B, 0x55, 0x15, 0xA3, 0x2A, 0xAA, 0x04].contains(op) { return false }
        return op < 0xC0 || c.starts(with: [0xCC, 0x00]) || c.starts(with: [0xCF, 0x03])
    }
}

@Suite struct ProbeCLITests {
    @Test func scanProbeFindsTheND3550AByItsDriveID() throws {
        let d = tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        let r = odflash("scan", "--probe", "--emulated", "--json", "--sysfs", "/nonexistent", "--transcript", d + "/scan.jsonl")
        #expect(r.status == 0, "\(r.err)")
        let devices = try #require(r.json["devices"] as? [[String: Any]])
        let nd = try #require(devices.first { $0["device"] as? String == "emu:nd-3550a-oem" })
        #expect(nd["match"] as? String == "unknown")
        let p = try #require(nd["probe"] as? [String: Any])
        #expect(p["family"] as? String == "nec-optiarc")
        #expect(p["driveID"] as? String == "K355")
        #expect(p["model"] as? String == "NEC 3550A")
        #expect(p["flashClass"] as? String == "2M")
        #expect(p["matchedBy"] as? [String] == ["ReadRAM 4800h"])
        // Drives a model entry names are not probed.
        let ihas = try #require(devices.first { $0["device"] as? String == "emu:ihas124y" })
        #expect(ihas["probe"] == nil)
        // Every command scan sent to any emulated drive is a read.
        #expect(onlyReads(try transcriptCDBs(d + "/scan.jsonl")))

        let text = odflash("scan", "--probe", "--emulated", "--sysfs", "/nonexistent")
        #expect(text.out.contains("unknown [probe: NEC 3550A (nec-optiarc: drive ID K355, flash class 2M, by ReadRAM 4800h)]"), "\(text.out)")
        // Without --probe it stays unknown, and nothing vendor-specific is sent.
        let plain = odflash("scan", "--emulated", "--json", "--sysfs", "/nonexistent", "--transcript", d + "/plain.jsonl")
        let row = try #require((plain.json["devices"] as? [[String: Any]])?.first { $0["device"] as? String == "emu:nd-3550a-oem" })
        #expect(row["match"] as? String == "unknown" && row["probe"] == nil)
        #expect(try transcriptCDBs(d + "/plain.jsonl").allSatisfy { $0.first.map { $0 < 0xC0 } ?? false })
    }

    @Test func infoProbeShowsModelAndFlashClass() throws {
        let r = odflash("info", "--probe", "emu:nd-3550a-oem")
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("firmware-db:      unknown by INQUIRY (no model entry); identification reads sent, see below"))
        #expect(r.out.contains("Identified by probe: NEC / Optiarc drive ID K355 -> NEC 3550A, flash class 2M (family nec-optiarc; ReadRAM 4800h)"), "\(r.out)")
        #expect(r.out.contains("  nec-optiarc: matched\n    CC 00 00 00 45 00 00 00 20 00 00 00  ReadRAM 4500h: 32 bytes, drive ID '????' is not in nec-drive-ids\n"))
        // Identified as NEC/Optiarc by the probe: the strategy versions follow.
        #expect(r.out.contains("Strategy versions (CF 03 00 00 00 00 00 00 00 00 00 00, read only):\n  CD-R:   SYN01\n"), "\(r.out)")

        let j = odflash("info", "--probe", "--json", "emu:nd-3550a-oem")
        let p = try #require(j.json["probe"] as? [String: Any])
        #expect(p["family"] as? String == "nec-optiarc" && p["driveID"] as? String == "K355" && p["flashClass"] as? String == "2M")
        #expect((p["attempts"] as? [[String: Any]])?.map { $0["family"] as? String } == ["pioneer-bd", "mediatek-mt1959", "nec-optiarc"])
        #expect((j.json["firmwareDB"] as? [String: Any])?["family"] as? String == "unknown")
        let sv = try #require(j.json["strategyVersions"] as? [String: Any])
        #expect((sv["versions"] as? [[String: Any]])?.first?["raw"] as? String == "SYN01___")

        // Without --probe: unknown, no identification, no strategy versions, no vendor command.
        let d = tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        let plain = odflash("info", "emu:nd-3550a-oem", "--transcript", d + "/t.jsonl")
        #expect(plain.status == 0)
        #expect(plain.out.contains("firmware-db:      unknown (not in firmware-db; nothing vendor-specific will be sent)"))
        #expect(!plain.out.contains("Identified") && !plain.out.contains("Strategy versions"))
        #expect(try transcriptCDBs(d + "/t.jsonl").allSatisfy { $0.first.map { $0 < 0xC0 } ?? false })
    }

    /// A drive that is not NEC/Optiarc, under INQUIRY strings no model entry names, gets the identification reads:
    /// the transcript holds only reads the database marks read-only, and no write.
    @Test(arguments: ["px716a", "lg-gsa-t21n", "sd616f"])
    func nonNECDriveGetsOnlyReadOnlyProbes(_ name: String) throws {
        let d = tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        let vendor = try String(contentsOfFile: db + "/emulator/\(name).yaml", encoding: .utf8)
            .split(separator: "\n").first { $0.hasPrefix("  vendor:") }.map(String.init) ?? ""
        let dev = try editedProfile(name, d, [(vendor, "  vendor: \"NOBODY\"")])
        let r = odflash("info", "--probe", "--json", dev, "--transcript", d + "/t.jsonl")
        #expect(r.status == 0, "\(r.err)")
        let p = try #require(r.json["probe"] as? [String: Any])
        #expect(p["family"] == nil)
        #expect(r.json["strategyVersions"] == nil)
        let cdbs = try transcriptCDBs(d + "/t.jsonl")
        #expect(onlyReads(cdbs), "\(cdbs)")
        // The NEC reads were sent, in Binflash's order, and refused; nothing else vendor-specific.
        let vendorCDBs = cdbs.filter { $0[0] >= 0xC0 }
        #expect(vendorCDBs.map { Array($0.prefix(6)) } == [[0xCC, 0, 0, 0, 0x45, 0], [0xCC, 0, 0, 0, 0x48, 0], [0xCC, 0, 0, 1, 0x08, 0],
                                                           [0xCC, 0, 0, 0, 0x70, 0], [0xCC, 0, 0, 0, 0x50, 0]])
    }

    @Test func mediatekTwoFactorOnTheCommandLine() throws {
        let d = tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        let unknown = [("product: \"BD-RE BU40N\"", "product: \"BD-RE XX40N\"")]
        let ok = odflash("info", "--probe", try editedProfile("bu40n", d, unknown))
        #expect(ok.out.contains("Identified by probe: MediaTek MT1959 Blu-ray (LG, ASUS): boot banner 'MT1959 Boot BU5 ' (family mediatek-mt1959; "), "\(ok.out)")
        #expect(ok.out.contains("  note: The banner names the boot loader generation"))
        for (edit, why) in [(("  busyAfterFlash: 2", "  busyAfterFlash: 2\n  bufferAnswerLength: 0x1F"), "answered 31 bytes, not exactly 32"),
                            (("  busyAfterFlash: 2", "  busyAfterFlash: 2\n  bufferAnswerLength: 0x21"), "answered 33 bytes, not exactly 32"),
                            (("MT1959 Boot BU5 ", "RTL8xxx Boot X01"), "no 'MT19' in the answer"),
                            (("firmwareInformation: \"20171208000000\"\n", ""), "a feature reply of 8 bytes")] {
            let r = odflash("info", "--probe", try editedProfile("bu40n", d, unknown + [edit]))
            #expect(r.status == 0)
            #expect(r.out.contains("  mediatek-mt1959: no match\n") && r.out.contains(why), "\(r.out)")
            #expect(!r.out.contains("Identified by probe: MediaTek"))
        }
        // A Pioneer INQUIRY is never sent the MediaTek reads.
        let pio = odflash("info", "--probe", try editedProfile("bu40n", d, unknown + [("vendor: \"HL-DT-ST\"", "vendor: \"PIONEER\"")]))
        #expect(pio.out.contains("  mediatek-mt1959: skipped, not sent to a drive whose INQUIRY vendor is PIONEER"), "\(pio.out)")
    }

    @Test func strategyVersionsInInfo() throws {
        let r = odflash("info", "emu:ihas324y")
        #expect(r.status == 0)
        #expect(r.out.contains("""
            Strategy versions (CF 03 00 00 00 00 00 00 00 00 00 00, read only):
              CD-R:    SY324CR
              CD-RW:   SY324CRW
              DVD+R:   SY324+R
            """), "\(r.out)")
        #expect(r.out.contains("  DVD-RAM: SY324RAM\n"))
        // A drive of the family that refuses CF 03: "not available", and info still succeeds.
        let d = tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        let text = try String(contentsOfFile: db + "/emulator/ihas324y.yaml", encoding: .utf8)
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("strategyVersions:") })
        let refusing = try editedProfile("ihas324y", d, [(String(line), "")])
        let n = odflash("info", refusing)
        #expect(n.status == 0, "\(n.err)")
        #expect(n.out.contains("Strategy versions: not available (the drive refused CF 03 00 00 00 00 00 00 00 00 00 00 with 05/20/00"), "\(n.out)")
        let j = odflash("info", "--json", refusing)
        #expect((j.json["strategyVersions"] as? [String: Any])?["available"] as? Bool == false)
        // Drives of other families are not sent CF 03.
        #expect(odflash("info", "--json", "emu:px716a").json["strategyVersions"] == nil)
    }
}
