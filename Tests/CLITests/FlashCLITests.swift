import Foundation
import Testing
@testable import CLI

/// A refusal: the checklist on stdout, one error line on stderr, exit 4.
func expectRefusal(_ r: Run, containing text: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(r.status == 4, "\(r.status) \(r.err)", sourceLocation: sourceLocation)
    #expect(r.out.hasPrefix("Preflight:"), sourceLocation: sourceLocation)
    #expect(r.err.hasPrefix("odflash: error: preflight refused") && r.err.filter { $0 == "\n" }.count == 1, "\(r.err)", sourceLocation: sourceLocation)
    #expect(r.err.contains(text), "\(r.err)", sourceLocation: sourceLocation)
}

@Suite struct FlashCLITests {
    func synthetic(_ d: String, revision: String = "1.00", family: String = "synthetic-test", layout: String? = nil) -> String {
        let p = d + "/fw-\(family)-\(revision).bin"
        var args = ["fw", "generate", "--family", family, "--revision", revision, "-o", p, "--force-overwrite"]
        if let l = layout { args += ["--layout", l] }
        #expect(odflash(args).status == 0)
        return p
    }

    @Test func dryRunPrintsTheTranscriptAndWritesNothing() throws {
        let d = tempDir()
        let img = synthetic(d)
        let r = odflash("flash", "emu:synthetic-writer", img, "--dry-run")
        #expect(r.status == 0, "\(r.err)\(r.out)")
        #expect(r.out.contains("0001  3B 07 00 00 00 00 00 80 00 00  WRITE BUFFER  out 32768"))
        #expect(r.out.contains("Result:          DRY RUN SUCCESS"))
        #expect(r.out.contains("Emulated memory: equals the image"))
        let j = odflash("flash", "--json", "emu:synthetic-writer", img, "--dry-run")
        // NDJSON: every line an object with a type; the checks and the plan first, the result last.
        #expect(j.lines.count == j.out.split(separator: "\n").count && j.lines.allSatisfy { $0["type"] is String })
        #expect(j.lines.first?["type"] as? String == "check" && j.lines.contains { $0["type"] as? String == "plan" })
        #expect(j.json["type"] as? String == "result")
        #expect(j.json["emulatedMemoryMatchesImage"] as? Bool == true)
        #expect((j.json["transcript"] as? [String])?.isEmpty == false)
    }

    /// --protocol names a sequence but bypasses nothing: a sequence for another flash class or generation is refused by
    /// its own identification checks, an unknown name is a usage error that lists the names, and SPC takes any of its three.
    @Test func protocolOptionNamesASequenceAndBypassesNothing() throws {
        let d = tempDir()
        let nec = d + "/nec.bin"
        #expect(odflash("fw", "generate", "--family", "nec-optiarc", "--layout", "nec-2m-opti3", "--size", "1769480", "--drive-id", "G245",
                        "--vendor", "ATAPI", "--product", "iHAS324   Y", "--revision", "BL1Y", "-o", nec).status == 0)
        let wrongClass = odflash("flash", "emu:ihas324y", nec, "--dry-run", "--allow-untested", "--protocol", "nec-optiarc class 2 (Flash2MOpti2)")
        expectRefusal(wrongClass, containing: "is public only for nec-2m-opti; the image is nec-2m-opti3")
        let pio = d + "/pio.bin"
        #expect(odflash("fw", "generate", "--family", "pioneer-dvr", "--layout", "dvr-normal", "--vendor", "PIONEER", "--product", "DVD-RW  DVR-107D", "-o", pio).status == 0)
        expectRefusal(odflash("flash", "emu:dvr-107d", pio, "--dry-run", "--allow-untested", "--protocol", "pioneer-dvr-kernel", "--accept-risk"),
                      containing: "pioneer-dvr-kernel is public only for dvr-kernel")
        // A Pioneer drive has no public read: no backup can be taken, in the dry run as in the real run.
        expectRefusal(odflash("flash", "emu:dvr-107d", pio, "--dry-run", "--allow-untested"), containing: "--no-backup")
        #expect(odflash("flash", "emu:dvr-107d", pio, "--dry-run", "--allow-untested", "--no-backup").status == 0)
        let unknown = odflash("flash", "emu:dvr-107d", pio, "--dry-run", "--allow-untested", "--no-backup", "--protocol", "gen9")
        #expect(unknown.status == 2 && unknown.err.contains("pioneer-dvr-normal") && unknown.err.filter { $0 == "\n" }.count == 1, "\(unknown.err)")
        let spc = d + "/spc.bin"
        #expect(odflash("fw", "generate", "--family", "spc-microcode", "--size", "0x40000", "--vendor", "ODFLASH", "--product", "SCSI_DEBUG_CD", "-o", spc).status == 0)
        for name in ["spc-0e", "spc-07", "spc-05"] {
            let r = odflash("flash", "--json", "emu:scsi-debug-cd", spc, "--dry-run", "--allow-untested", "--no-backup", "--protocol", name)
            #expect(r.status == 0 && r.json["plan"] as? String == name && r.json["emulatedMemoryMatchesImage"] as? Bool == true, "\(name): \(r.err)")
        }
    }

    /// A sequence with a stated risk (a Pioneer Kernel image leaves the drive in kernel mode) needs --accept-risk, and
    /// the result says what to do next.
    @Test func aSequenceWithARiskNeedsAcceptRisk() throws {
        let d = tempDir()
        let k = d + "/kernel.bin"
        #expect(odflash("fw", "generate", "--family", "pioneer-dvr", "--layout", "dvr-kernel", "--size", "0x10000", "--vendor", "PIONEER",
                        "--product", "DVD-RW  DVR-107D", "-o", k).status == 0)
        expectRefusal(odflash("flash", "emu:dvr-107d", k, "--dry-run", "--allow-untested", "--no-backup"), containing: "--accept-risk")
        let r = odflash("flash", "emu:dvr-107d", k, "--dry-run", "--allow-untested", "--no-backup", "--accept-risk")
        // The risk is shown before anything happens; the sequence's advice is for after the real run.
        #expect(r.status == 0 && r.out.contains("3B 07 FE 00 80 00 00 80 00 00") && r.out.contains("Risk:"), "\(r.err)")
        let real = odflash("flash", "emu:dvr-107d", k, "--yes", "--allow-untested", "--no-backup", "--accept-risk")
        #expect(real.status == 0 && real.out.contains("flash the drive's Normal image now"), "\(real.err)")
    }

    /// An image whose checksum algorithm is not public (NEC 768K bank sum) cannot be validated, so it is refused.
    @Test func anUnverifiableChecksumIsRefused() throws {
        let d = tempDir()
        let img = d + "/768k.bin"
        #expect(odflash("fw", "generate", "--family", "nec-optiarc", "--layout", "nec-768k", "-o", img).status == 0)
        let r = odflash("flash", "emu:ihas324y", img, "--dry-run", "--allow-untested")
        expectRefusal(r, containing: "image checksums")
        let row = r.out.split(separator: "\n").first { $0.contains("image checksums") } ?? ""
        #expect(row.contains("REFUSED") && row.contains("bank cannot be verified"), "\(row)")
        #expect(odflash("fw", "inspect", img).out.contains("Valid:         not verifiable: bank"))
    }

    @Test func flashesTheEmulatedDriveWithABackup() throws {
        let d = tempDir()
        let img = synthetic(d, revision: "1.02")
        let r = odflash("flash", "emu:synthetic-writer", img, "--yes", "--backup-dir", d)
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("Revision after:  1.02"))
        // backup-VENDOR-PRODUCT-REVISION-TIME-PID.bin (SERIAL when the drive reports one), the path the report names.
        let backups = { (try? FileManager.default.contentsOfDirectory(atPath: d))?.filter { $0.hasPrefix("backup-SYNTHETC-SYNTHETIC_DRIVE-0.90-") }.sorted() ?? [] }
        #expect(backups().count == 1 && r.out.contains(backups().first ?? "?"), "\(backups()) \(r.out)")
        // A second flash keeps the first backup and writes another.
        let second = odflash("flash", "emu:synthetic-writer", img, "--yes", "--backup-dir", d)
        #expect(second.status == 0)
        #expect(backups().count == 2 && backups().contains { second.out.contains($0) }, "\(backups())")
    }

    @Test func preflightRefusals() throws {
        let d = tempDir()
        // Same version: needs --allow-reinstall; older: --allow-older.
        expectRefusal(odflash("flash", "emu:synthetic-writer", synthetic(d, revision: "0.90"), "--dry-run"), containing: "--allow-reinstall")
        expectRefusal(odflash("flash", "emu:synthetic-writer", synthetic(d, revision: "0.50"), "--dry-run"), containing: "--allow-older")
        #expect(odflash("flash", "emu:synthetic-writer", synthetic(d, revision: "0.50"), "--dry-run", "--allow-older").status == 0)
        // An image for another family, even with --force.
        let plex = synthetic(d, family: "plextor", layout: "px-716a")
        let r = odflash("flash", "emu:synthetic-writer", plex, "--dry-run", "--force")
        #expect(r.status == 4 && r.err.contains("image family"))
        // A drive firmware-db does not know: nothing vendor-specific is sent.
        expectRefusal(odflash("flash", "emu:ihas124y-cmc", synthetic(d), "--dry-run"), containing: "image family")
        // Plextor: not tested on hardware: --allow-untested.
        let p = odflash("flash", "emu:px716a", plex, "--dry-run")
        #expect(p.status == 4 && p.err.contains("--allow-untested"))
        expectRefusal(odflash("flash", "emu:px716a", plex, "--dry-run", "--allow-untested"), containing: "--no-backup")
        #expect(odflash("flash", "emu:px716a", plex, "--dry-run", "--allow-untested", "--no-backup").status == 0)
        // A corrupted image never flashes.
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: synthetic(d, revision: "2.00"))))
        bytes[0x1234] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: d + "/bad.bin"))
        expectRefusal(odflash("flash", "emu:synthetic-writer", d + "/bad.bin", "--yes"), containing: "image checksums")
    }

    @Test func refusalsAsJSONAndNoPrompt() throws {
        let d = tempDir()
        let img = synthetic(d, revision: "1.05")
        let r = odflash("flash", "--json", "emu:synthetic-writer", img, "--backup-dir", d)
        #expect(r.status == 2 && (r.json["error"] as? [String: Any])?["message"] as? String == "flashing needs --yes when there is no terminal to ask (or with --json)")
        #expect(r.json["type"] as? String == "error" && (r.json["error"] as? [String: Any])?["exitStatus"] as? Int == 2)
        // Refused at the confirmation: no backup file is left behind either.
        #expect(try FileManager.default.contentsOfDirectory(atPath: d).filter { $0.hasPrefix("backup-") }.isEmpty)
        let j = odflash("flash", "--json", "emu:synthetic-writer", synthetic(d, revision: "0.90"), "--dry-run")
        // One error shape: the refusal's report sits inside the error.
        let e = j.json["error"] as? [String: Any]
        #expect(j.status == 4 && (e?["message"] as? String)?.hasPrefix("preflight refused") == true && e?["kind"] as? String == "refused")
        #expect(((e?["report"] as? [String: Any])?["preflight"] as? [Any])?.isEmpty == false)
    }

    @Test func realFamilyWithoutDumpNeedsNoBackupFlag() throws {
        let d = tempDir()
        let plex = synthetic(d, family: "plextor", layout: "px-716a")
        // A Plextor drive has no public read: the emulated one cannot be backed up either (no copy from emulator memory).
        expectRefusal(odflash("flash", "emu:px716a", plex, "--yes", "--allow-untested", "--backup-dir", d), containing: "--no-backup")
        #expect(try FileManager.default.contentsOfDirectory(atPath: d).filter { $0.hasPrefix("backup-") }.isEmpty)
        let r = odflash("flash", "emu:px716a", plex, "--yes", "--allow-untested", "--no-backup")
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("SUCCESS"))
    }
}

@Suite struct DumpCLITests {
    @Test func dumpsAnEmulatedNECDrive() throws {
        let d = tempDir()
        let out = d + "/dump.bin"
        let r = odflash("dump", "emu:ihas324y", out)
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("Read:   flash 30000h-1E0000h in 435 commands"))
        let bytes = try #require(FileManager.default.contents(atPath: out))
        #expect(bytes.count == 1769480 && bytes.suffix(6).elementsEqual(Array("G24508".utf8)))
        // Never replaced without --force-overwrite: refused (exit 4), as fw patch and fw generate refuse.
        expectOneLineError(odflash("dump", "emu:ihas324y", out), status: 4, containing: "exists")
        // NDJSON: progress lines, then the result line.
        let j = odflash("dump", "--json", "emu:ihas324y", out, "--force-overwrite")
        #expect(j.status == 0 && j.json["type"] as? String == "result" && j.json["bytes"] as? Int == 1769480 && j.json["family"] as? String == "nec-optiarc")
        #expect(j.lines.count == j.out.split(separator: "\n").count && j.lines.dropLast().allSatisfy { $0["type"] as? String == "progress" } && j.lines.count > 1)
    }

    /// The README's restore: a dump flashes back through `odflash restore` with every flash check; an image of another
    /// drive's ID is refused.
    @Test func restoreFlashesADumpBack() throws {
        let d = tempDir()
        #expect(odflash("dump", "emu:ihas324y", d + "/b.bin").status == 0)
        let r = odflash("restore", "emu:ihas324y", d + "/b.bin", "--yes", "--allow-untested", "--no-backup")
        #expect(r.status == 0 && r.out.contains("SUCCESS"), "\(r.err)")
        #expect(r.out.contains("Preflight:") && r.out.contains("drive ID (from drive RAM)"))
        // The iHAS124 Y holds another drive ID: the iHAS324 Y's backup is not its own.
        expectRefusal(odflash("restore", "emu:ihas124y", d + "/b.bin", "--yes", "--allow-untested", "--no-backup"), containing: "drive ID")
    }

    @Test func refusesFamiliesWithoutAReadMethod() throws {
        let d = tempDir()
        expectOneLineError(odflash("dump", "emu:px716a", d + "/x.bin"), status: 4, containing: "no public method reads the firmware of Plextor")
        // A drive of a dumpable family that rejects the vendor read: a device error, nothing written.
        let refusing = try editedProfile("ihas124y", d, [("behavior: nec", "behavior: spc")])
        expectOneLineError(odflash("dump", refusing, d + "/x.bin"), status: 3, containing: "dump failed, nothing was written")
        #expect(!FileManager.default.fileExists(atPath: d + "/x.bin"))
    }
}

@Suite struct JournalCLITests {
    @Test func flashIsJournaledBeforeAndAfter() throws {
        let d = tempDir()
        let img = d + "/nec.bin"
        #expect(odflash("fw", "generate", "--family", "nec-optiarc", "--layout", "nec-2m-opti3", "--size", "1769480", "--drive-id", "G245",
                        "--vendor", "ATAPI", "--product", "iHAS324   Y", "--revision", "BL1Y", "-o", img).status == 0)
        let j = d + "/journal.jsonl"
        let r = odflash("flash", "emu:ihas324y", img, "--allow-untested", "--yes", "--journal", j, "--backup-dir", d)
        #expect(r.status == 0, "\(r.err)")
        let lines = try String(contentsOfFile: j, encoding: .utf8).split(separator: "\n")
        let events = lines.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }.compactMap { $0["event"] as? String }
        // 'preparing': the first command that changes the drive (safe mode), journaled before it is sent.
        #expect(events == ["start", "preparing", "committing", "success"])
        let show = odflash("journal", "--json", "--journal", j)
        #expect((show.json["entries"] as? [Any])?.count == 4 && (show.json["unfinished"] as? [Any])?.isEmpty == true)
        // A flash that stopped after 'committing' is reported as unfinished.
        try (String(contentsOfFile: j, encoding: .utf8) + #"{"device":"/dev/sr9","drive":"A B C","event":"committing","family":"nec-optiarc","image":"x.bin","protocolName":"nec-optiarc","sha256":"00","time":"2026-11-25T00:00:00Z"}"# + "\n")
            .write(toFile: j, atomically: true, encoding: .utf8)
        let u = odflash("journal", "--journal", j)
        #expect(u.status == 0 && u.out.contains("UNFINISHED: 2026-11-25T00:00:00Z /dev/sr9"))
        // One that stopped after 'preparing' (a vendor mode entered, nothing written to the flash) too.
        try (String(contentsOfFile: j, encoding: .utf8) + #"{"detail":"enter safe mode [CC 01 01 00 47 32 34 35 01 00 00 00]: from here on the drive is being changed","device":"/dev/sr8","drive":"A B C","event":"preparing","family":"nec-optiarc","image":"x.bin","protocolName":"nec-optiarc","sha256":"01","time":"2026-11-26T00:00:00Z"}"# + "\n")
            .write(toFile: j, atomically: true, encoding: .utf8)
        let p = odflash("journal", "--journal", j)
        #expect(p.out.contains("UNFINISHED: 2026-11-26T00:00:00Z /dev/sr8 (A B C) was being prepared for a flash with x.bin (enter safe mode [CC 01 01 00 47 32 34 35 01 00 00 00]: from here on the drive is being changed) and no outcome was recorded: its flash was not written, but it may still be in a vendor mode"), "\(p.out)")
        // Dry runs and refusals write no journal entry.
        _ = odflash("flash", "emu:ihas324y", img, "--allow-untested", "--dry-run", "--journal", d + "/dry.jsonl")
        #expect(!FileManager.default.fileExists(atPath: d + "/dry.jsonl"))
    }

    @Test func missingJournal() {
        // Named and not there: a mistyped path, never "no flash recorded".
        expectOneLineError(odflash("journal", "--journal", "/nonexistent/j.jsonl"), status: 2, containing: "/nonexistent/j.jsonl: no such file: no journal there")
        // An empty journal: nothing recorded (the default journal not written yet reads the same way).
        let empty = tempDir() + "/empty.jsonl"
        FileManager.default.createFile(atPath: empty, contents: Data())
        let r = odflash("journal", "--journal", empty)
        #expect(r.status == 0 && r.out.contains("empty or missing"), "\(r.err)")
    }
}

@Suite struct FlashClassCLITests {
    /// The same drive model with a class-4 drive ID in RAM gets Binflash's class-4 sequence, chosen by the ID read.
    @Test func class4VariantChosenByTheDriveID() throws {
        let d = tempDir()
        let src = try String(contentsOfFile: db + "/emulator/ihas324y.yaml", encoding: .utf8)
        let prof = d + "/c4.yaml"
        try src.replacingOccurrences(of: "ascii: \"G245\"", with: "ascii: \"G285\"").write(toFile: prof, atomically: true, encoding: .utf8)
        let img = d + "/g285.bin"
        #expect(odflash("fw", "generate", "--family", "nec-optiarc", "--layout", "nec-2m-opti3", "--size", "1769480", "--drive-id", "G285",
                        "--vendor", "ATAPI", "--product", "iHAS324   Y", "--revision", "BL1Y", "-o", img).status == 0)
        let r = odflash("flash", "emu:" + prof, img, "--dry-run", "--allow-untested")
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("nec-optiarc class 4 (Flash2MOpti4) handles layout nec-2m-opti3") && r.out.contains("CB 14 00 03 00 00 01 00 00 00 00 00"))
        #expect(r.out.contains("G285 = Optiarc 7280S"))
        // A class-3 image (G245) on that drive: refused, the drive ID differs.
        let g245 = d + "/g245.bin"
        #expect(odflash("fw", "generate", "--family", "nec-optiarc", "--layout", "nec-2m-opti3", "--size", "1769480", "--drive-id", "G245",
                        "--vendor", "ATAPI", "--product", "iHAS324   Y", "--revision", "BL1Y", "-o", g245).status == 0)
        let x = odflash("flash", "emu:" + prof, g245, "--dry-run", "--allow-untested")
        #expect(x.status == 4 && x.err.contains("the image is for drive ID G245, the drive is G285"), "\(x.err)")
        // A class-2 drive (ID Q200 at RAM 4800h) gets Binflash's Flash2MOpti2, found by the first identification read.
        let c2 = d + "/c2.yaml"
        try src.replacingOccurrences(of: "{at: 0x10800, ascii: \"G245\"}", with: "{at: 0x4800, ascii: \"Q200\"}")
            .replacingOccurrences(of: "idAt: 0x10800", with: "idAt: 0x4800")
            .replacingOccurrences(of: "checksumRange: [0x30000, 0x1E0000]", with: "checksumRange: [0x30000, 0x1F0000]").write(toFile: c2, atomically: true, encoding: .utf8)
        let q = d + "/q200.bin"
        #expect(odflash("fw", "generate", "--family", "nec-optiarc", "--layout", "nec-2m-opti", "--size", "1835016", "--drive-id", "Q200",
                        "--vendor", "ATAPI", "--product", "iHAS324   Y", "--revision", "BL1Y", "-o", q).status == 0)
        let y = odflash("flash", "emu:" + c2, q, "--yes", "--allow-untested", "--no-backup", "--journal", d + "/j.jsonl")
        #expect(y.status == 0 && y.out.contains("Q200 = ") && y.out.contains("Emulated memory: equals the image"), "\(y.out)\(y.err)")
    }
}
