import Foundation
import Testing
@testable import CLI

func tempDir() -> String {
    let d = NSTemporaryDirectory() + "odflash-cli-fw-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}

@Suite struct FirmwareCLITests {
    @Test func generateInspectRoundTrip() throws {
        let d = tempDir()
        let g = odflash("fw", "generate", "--family", "nec-optiarc", "--layout", "nec-2m-opti3", "--product", "iHAS124   Y",
                        "--revision", "BL0X", "--cdr", "97:26:60,97:24:00,97:27:10,97:31:00", "-o", d + "/a.bin")
        #expect(g.status == 0, "\(g.err)")
        #expect(g.out.contains("SYNTHETIC nec-optiarc/nec-2m-opti3 image, 1769478 bytes"))
        let r = odflash("fw", "inspect", d + "/a.bin")
        #expect(r.status == 0, "\(r.err)")
        for line in ["Family:        nec-optiarc (NEC / Optiarc), layout nec-2m-opti3", "Identified by: size and drive ID",
                     "Product:       iHAS124   Y", "Version:       BL0X", "Valid:         yes (verified: checksum dump)",
                     "CD-R (ATIP)", "97:26:60 (lead-out 79:59:74)", "HEURISTIC, confidence"] {
            #expect(r.out.contains(line), "missing \(line)\n\(r.out)")
        }
        #expect(r.out.range(of: #"dump\s+OK"#, options: .regularExpression) != nil)
        let j = odflash("fw", "inspect", "--json", d + "/a.bin")
        let image = try #require(j.json["image"] as? [String: Any])
        #expect((image["identity"] as? [String: Any])?["layout"] as? String == "nec-2m-opti3")
        #expect(image["valid"] as? Bool == true)
        #expect(j.err.isEmpty)
    }

    @Test func generateRefusesToOverwrite() {
        let d = tempDir()
        #expect(odflash("fw", "generate", "--family", "plextor", "-o", d + "/p.bin").status == 0)
        let again = odflash("fw", "generate", "--family", "plextor", "-o", d + "/p.bin")
        expectOneLineError(again, status: 4, containing: "exists; refusing to overwrite")
        #expect(odflash("fw", "generate", "--family", "plextor", "-o", d + "/p.bin", "--force-overwrite").status == 0)
        expectOneLineError(odflash("fw", "generate", "--family", "nope", "-o", d + "/x.bin"), status: 2, containing: "no family 'nope'")
        expectOneLineError(odflash("fw", "generate", "--family", "unknown", "-o", d + "/x.bin"), status: 2, containing: "has no image layout")
    }

    @Test func inspectBadInputs() throws {
        let d = tempDir()
        _ = FileManager.default.createFile(atPath: d + "/empty.bin", contents: Data())
        expectOneLineError(odflash("fw", "inspect", d + "/empty.bin"), status: 2, containing: "is empty")
        expectOneLineError(odflash("fw", "inspect", d), status: 2, containing: "is a directory")
        expectOneLineError(odflash("fw", "inspect", d + "/missing.bin"), status: 2, containing: "no such file")
        _ = FileManager.default.createFile(atPath: d + "/junk.zip", contents: Data([0x50, 0x4B, 3, 4, 9, 9]))
        expectOneLineError(odflash("fw", "inspect", d + "/junk.zip"), status: 2, containing: "corrupt")
        // Random bytes: not an error, an unknown family.
        var rng = SystemRandomNumberGenerator()
        _ = FileManager.default.createFile(atPath: d + "/rand.bin", contents: Data((0..<5000).map { _ in UInt8.random(in: 0...255, using: &rng) }))
        let r = odflash("fw", "inspect", d + "/rand.bin")
        #expect(r.status == 0 && r.out.contains("unknown: no firmware-db layout matches this image"))
    }

    @Test func truncatedPlextorImageIsAnInvalidPlextorImage() throws {
        let d = tempDir()
        #expect(odflash("fw", "generate", "--family", "plextor", "--layout", "px-716a", "-o", d + "/p.bin").status == 0)
        let full = try Data(contentsOf: URL(fileURLWithPath: d + "/p.bin"))
        try full.prefix(full.count - 100).write(to: URL(fileURLWithPath: d + "/t.bin"))
        let r = odflash("fw", "inspect", "--json", d + "/t.bin")
        // pxfw names the model from the header; the size is what is wrong (exit 1: the image was found wrong).
        #expect(r.status == 1)
        #expect(r.json["identified"] as? Bool == true && r.json["valid"] as? Bool == false)
        #expect(((r.json["image"] as? [String: Any])?["identity"] as? [String: Any])?["layout"] as? String == "px-716a")
        let problems = (r.json["image"] as? [String: Any])?["problems"] as? [String] ?? []
        #expect(problems.contains { $0.contains("\(full.count - 100)") && $0.contains("983040") }, "\(problems)")
    }

    @Test func diffShowsMediaAndBytes() throws {
        let d = tempDir()
        #expect(odflash("fw", "generate", "--family", "liteon-mediatek", "--seed", "3", "-o", d + "/a.bin").status == 0)
        var img = try [UInt8](Data(contentsOf: URL(fileURLWithPath: d + "/a.bin")))
        // Give the first -R entry (RITEKG03 at D9000h) speed 16x only, and rename the TYG02 entry.
        img[0xD9000 + 13 * 4] = 0b0100_0000
        img.replaceSubrange(0xD900D..<0xD9012, with: Array("TYG03".utf8))
        try Data(img).write(to: URL(fileURLWithPath: d + "/b.bin"))
        let r = odflash("fw", "diff", d + "/a.bin", d + "/b.bin")
        #expect(r.status == 1, "\(r.err)")   // the files differ
        #expect(r.out.contains("speeds   -R    RITEKG03-01  1x,2x,4x,8x       16x"))
        #expect(r.out.contains("removed  -R    TYG02-00"))
        #expect(r.out.contains("added    -R    TYG03-00"))
        #expect(r.out.contains("D9011h  D9012h  1"))
        let same = odflash("fw", "diff", "--json", d + "/a.bin", d + "/a.bin")
        #expect(same.status == 0 && same.json["identical"] as? Bool == true)
    }

    @Test func zipMembers() throws {
        let d = tempDir()
        #expect(odflash("fw", "generate", "--family", "plextor", "-o", d + "/p.bin").status == 0)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/gzip")
        p.arguments = ["-k", d + "/p.bin"]
        try p.run(); p.waitUntilExit()
        let r = odflash("fw", "inspect", d + "/p.bin.gz")
        #expect(r.out.contains("(524288 bytes, gzip)"))
        expectOneLineError(odflash("fw", "members", d + "/p.bin"), status: 2, containing: "not a readable zip")
    }
}

@Suite struct PatchCLITests {
    func image(_ d: String) -> String {
        let p = d + "/in.bin"
        #expect(odflash("fw", "generate", "--family", "synthetic-test", "-o", p).status == 0)
        return p
    }

    @Test func patchWritesAValidatedImageAndLeavesTheInput() throws {
        let d = tempDir()
        let input = image(d)
        let before = try Data(contentsOf: URL(fileURLWithPath: input))
        let r = odflash("fw", "patch", input, "-o", d + "/out.bin", "--speed", "MCC-004=8x,16x", "--rename", "TYG02=CMC MAG. AM3", "--region-free")
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("wrote \(d)/out.bin: re-inspected: same layout, every checksum OK"))
        #expect(r.err.contains("SYNTHETIC"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: input)) == before)
        let i = odflash("fw", "inspect", d + "/out.bin")
        #expect(i.out.contains("CMC MAG. AM3-00") && i.out.contains("region: patched at 50000h"))
        // JSON report.
        let j = odflash("fw", "patch", "--json", "--dry-run", input, "--speed", "MCC-004=4x")
        #expect((j.json["report"] as? [String: Any])?["layout"] as? String == "synth-dvdrw")
        #expect(j.json["written"] as? Bool == false)
    }

    @Test func patchGuards() throws {
        let d = tempDir()
        let input = image(d)
        expectOneLineError(odflash("fw", "patch", input, "-o", input, "--region-free"), status: 2, containing: "never modifies its input")
        _ = FileManager.default.createFile(atPath: d + "/exists.bin", contents: Data([1]))
        expectOneLineError(odflash("fw", "patch", input, "-o", d + "/exists.bin", "--region-free"), status: 4, containing: "refusing to overwrite")
        expectOneLineError(odflash("fw", "patch", input, "-o", d + "/o.bin"), status: 2, containing: "no operation given")
        expectOneLineError(odflash("fw", "patch", input, "--region-free"), status: 2, containing: "give -o OUTPUT")
        expectOneLineError(odflash("fw", "patch", input, "-o", d + "/o.bin", "--speed", "MCC-004=5x"), status: 2, containing: "cannot be encoded")
        expectOneLineError(odflash("fw", "patch", input, "-o", d + "/o.bin", "--speed", "NOPE-1=4x"), status: 2, containing: "no media code 'NOPE-1'")
        expectOneLineError(odflash("fw", "patch", input, "-o", d + "/o.bin", "--speed", "garbage"), status: 2, containing: "--speed takes")
        #expect(!FileManager.default.fileExists(atPath: d + "/o.bin"))
        // A real family: no guessed patch.
        #expect(odflash("fw", "generate", "--family", "plextor", "-o", d + "/p.bin").status == 0)
        expectOneLineError(odflash("fw", "patch", d + "/p.bin", "-o", d + "/p2.bin", "--region-free"), status: 4, containing: "has no known region patch")
        #expect(!FileManager.default.fileExists(atPath: d + "/p2.bin"))
    }
}

/// The user's story: a CMC CD-R in the iHAS124 Y, a firmware that lacks it, a patched firmware that has it.
@Suite struct MediaCheckCLITests {
    @Test func identifyTheCMCDisc() {
        let r = odflash("media", "emu:ihas124y-cmc")
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("ATIP lead-in:  97:26:66 (manufacturer code 97:26:60)"))
        #expect(r.out.contains("Manufacturer:  CMC Magnetics Corporation"))
        // The user's disc: 650 MB, 74 minutes (not an 80-minute disc).
        #expect(r.out.contains("Capacity:      74 min (last possible lead-out 74:43:00, LBA 336075, 656 MiB of data)"))
        #expect(r.out.contains("ATIP disc:     CD-R, sub-type 2: medium type A, low beta (A-)"))
        #expect(r.out.contains("ATIP power:    indicative writing power 5"))
        #expect(r.out.contains("Drive offers:  24x (4234 kB/s), 16x (2822 kB/s), 10x (1764 kB/s) (GET PERFORMANCE 03h, for this disc)"))
        #expect(r.out.contains("drive maximum 48x (8467 kB/s)"))
        let j = odflash("media", "--json", "emu:ihas124y-ricoh-dvdr")
        #expect((j.json["disc"] as? [String: Any])?["code"] as? String == "RICOHJPN-R03-02")
    }

    @Test func notListedThenPatchedThenSupported() throws {
        let d = tempDir()
        #expect(odflash("fw", "generate", "--family", "synthetic-test", "-o", d + "/fw.bin").status == 0)
        let miss = odflash("media", "emu:ihas124y-cmc", "--check", "--firmware", d + "/fw.bin")
        #expect(miss.status == 1, "\(miss.err)")   // not listed
        #expect(miss.out.contains("NOT LISTED: 97:26:60"))
        #expect(miss.out.contains("Nearest codes: 97:24:00 (Taiyo Yuden Company Limited) at 16x,24x,48x [long strategy: another dye type]"))
        #expect(miss.out.contains("No listed code has this disc's dye class (short strategy"))
        // The rename gives the entry the disc's own lead-in, frame digit included.
        #expect(miss.out.contains("--rename '97:24:00=97:26:66'"))
        let p = odflash("fw", "patch", d + "/fw.bin", "-o", d + "/patched.bin", "--rename", "97:24:00=97:26:66")
        #expect(p.status == 0, "\(p.err)")
        let hit = odflash("media", "--json", "emu:ihas124y-cmc", "--check", "--firmware", d + "/patched.bin")
        let check = try #require(hit.json["check"] as? [String: Any])
        #expect(check["supported"] as? Bool == true)
        #expect(check["speeds"] as? [String] == ["16x", "24x", "48x"])
    }

    /// Nearest codes by dye class first (the lead-in's frame digit), then speed support; the rename writes what was typed.
    @Test func nearestByDyeThenSpeedAndExactRename() throws {
        let d = tempDir()
        #expect(odflash("fw", "generate", "--family", "synthetic-test", "--cdr", "97:24:00,97:31:00,97:27:15,97:15:35", "-o", d + "/fw.bin").status == 0)
        let miss = odflash("media", "--json", "emu:ihas124y-cmc", "--check", "--firmware", d + "/fw.bin")
        let check = try #require(miss.json["check"] as? [String: Any])
        let nearest = try #require(check["nearest"] as? [[String: Any]])
        #expect(nearest.map { $0["code"] as? String } == ["97:27:15", "97:15:35", "97:24:00"])
        #expect(nearest.map { $0["sameDye"] as? Bool } == [true, true, false])
        #expect((check["statement"] as? String)?.contains("Codes of this disc's dye class (short strategy") == true)
        #expect(check["patchCommand"] as? String == "odflash fw patch \(d)/fw.bin -o patched.bin --rename '97:27:15=97:26:66'")
        for typed in ["97:26:66", "97m26s66f"] {
            let p = odflash("fw", "patch", d + "/fw.bin", "-o", d + "/p.bin", "--rename", "97:27:15=\(typed)", "--force-overwrite")
            #expect(p.status == 0, "\(p.err)")
            #expect(p.out.contains("97:27:15") && p.out.contains("97:26:66"), "\(p.out)")
            #expect(odflash("fw", "inspect", d + "/p.bin").out.contains("97:26:66 (lead-out 79:59:74)"))
        }
    }

    /// The evidence next to the tables, each with its source.
    @Test func evidenceIsLabelled() throws {
        let d = tempDir()
        #expect(odflash("fw", "generate", "--family", "synthetic-test", "-o", d + "/fw.bin").status == 0)
        let r = odflash("media", "--json", "emu:ihas124y-cmc", "--check", "--firmware", d + "/fw.bin")
        let ev = try #require((r.json["check"] as? [String: Any])?["evidence"] as? [[String: Any]])
        #expect(ev.map { $0["kind"] as? String } == ["firmware-table", "drive-speeds", "strategy-version"])
        #expect((ev[1]["statement"] as? String)?.contains("offers 24x, 16x, 10x for this disc, below its maximum of 48x") == true)
        #expect((ev[1]["statement"] as? String)?.contains("evidence, not proof") == true)
        #expect((ev[1]["source"] as? String)?.hasPrefix("GET PERFORMANCE 03h") == true)
        #expect((ev[2]["statement"] as? String)?.contains("CD-R write-strategy version is SYNBL0X1") == true)
        let text = odflash("media", "emu:ihas124y-cmc", "--check", "--firmware", d + "/fw.bin")
        #expect(text.out.contains("  drive-speeds [GET PERFORMANCE 03h (write speed descriptors) for the loaded disc]: the drive offers 24x"))
        #expect(text.out.contains("  strategy-version [CF 03 00 00 00 00 00 00 00 00 00 00 (read only), CD-R class]: "))
    }

    /// Without --firmware: the drive's own firmware is read into a temporary file, checked, and the file removed.
    @Test func checkWithTheDrivesOwnFirmware() throws {
        let before = Set((try? FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory())) ?? []).filter { $0.hasPrefix("odflash-media-check-") }
        let r = odflash("media", "emu:ihas124y-cmc", "--check")
        // The read image has no media table odflash can find (NEC's layout is not public): the tables cannot tell.
        #expect(r.status == 1, "\(r.err)")
        #expect(r.out.contains("Read from: the drive's own firmware, read with nec-optiarc's public read (1769480 bytes"))
        #expect(r.out.contains("CANNOT TELL: no CD-R media table was found in this nec-optiarc/nec-2m-opti3 image, so its tables say nothing about 97:26:60"))
        #expect(!r.out.contains("NOT LISTED"))
        let j = odflash("media", "--json", "emu:ihas124y-cmc", "--check")
        #expect((j.json["check"] as? [String: Any])?["verdict"] as? String == "unknown")
        // A file that is not a firmware image at all: an input error, never a verdict.
        let junk = tempDir() + "/notes.txt"
        try "just some notes\n".write(toFile: junk, atomically: true, encoding: .utf8)
        expectOneLineError(odflash("media", "emu:ihas124y-cmc", "--check", "--firmware", junk), status: 2, containing: "not a firmware image odflash can check")
        let after = Set((try? FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory())) ?? []).filter { $0.hasPrefix("odflash-media-check-") }
        #expect(after.subtracting(before).isEmpty)
        // A family without a public read: exactly what to pass.
        let dir = tempDir()
        let px = try editedProfile("px716a", dir, [("name: px716a\n", "name: px716a-cd\nmedium: {profile: CD-R, atip: {leadIn: \"97:26:66\", leadOut: \"74:43:00\"}}\n")])
        expectOneLineError(odflash("media", px, "--check"), status: 2,
                           containing: "no public method reads the firmware of Plextor drives: give --firmware IMAGE (the vendor's firmware file for the Plextor PX-716A at revision 1.11")
        // A drive whose read fails: the reason, and what to pass.
        expectOneLineError(odflash("media", "emu:ihas124y-ricoh-dvdr", "--check"), status: 3, containing: "could not read the drive's firmware for the check (dump failed: ")
    }

    @Test func necImageIsHeuristicAndOffersNoPatch() {
        let d = tempDir()
        #expect(odflash("fw", "generate", "--family", "nec-optiarc", "--layout", "nec-2m-opti3", "--cdr", "97:24:00,97:27:10,97:31:00,97:34:20", "-o", d + "/nec.bin").status == 0)
        let r = odflash("media", "emu:ihas124y-cmc", "--check", "--firmware", d + "/nec.bin")
        #expect(r.out.contains("NOT LISTED") && r.out.contains("heuristic"))
        #expect(r.out.contains("odflash never patches a table it only guessed"))
        #expect(!r.out.contains("fw patch"))
    }

    @Test func checkErrors() {
        expectOneLineError(odflash("media", "emu:ihas124y", "--check", "--firmware", "/x"), status: 3, containing: "no disc in the drive")
        expectOneLineError(odflash("media", "emu:ihas124y-cmc", "--firmware", "/x"), status: 2, containing: "--firmware goes with --check")
        expectOneLineError(odflash("media", "emu:ihas124y-cmc", "--check", "--firmware", "/nonexistent.bin"), status: 2, containing: "no such file")
    }
}

/// `media search`: the forms users type, only firmware images counted, one line per drive model.
@Suite struct MediaSearchCLITests {
    @Test func formsUsersTypeAndSkippedFiles() throws {
        let d = tempDir()
        #expect(odflash("fw", "generate", "--family", "synthetic-test", "-o", d + "/a.bin").status == 0)
        try "not firmware".write(toFile: d + "/notes.txt", atomically: true, encoding: .utf8)
        // The synthetic tables hold RICOHJPN-R01-02 (+R) and 97:24:00 (CD-R).
        for code in ["RICOHJPN-R01", "RICOHJPN R01", "RICOHJPN/R01", "ricohjpn-r01", "97:24:00", "97m24s00f", "97:24:03"] {
            let r = odflash("media", "search", code, d)
            #expect(r.status == 0, "\(code): \(r.err)")
            #expect(r.out.contains("1 of 1 images list \(code). Skipped 1 file that is not a firmware image."), "\(code): \(r.out)")
        }
        let miss = odflash("media", "search", "97:26:66", d)
        #expect(miss.out.contains("No image of 1 lists 97:26:66. Skipped 1 file that is not a firmware image."), "\(miss.out)")
        let j = odflash("media", "search", "--json", "RICOHJPN R01", d)
        #expect(j.json["scanned"] as? Int == 1 && j.json["skipped"] as? Int == 1)
        expectOneLineError(odflash("media", "search", "97m61s00f", d), status: 2, containing: "is not an ATIP time")
    }

    @Test func byModel() throws {
        let d = tempDir()
        #expect(odflash("fw", "generate", "--family", "synthetic-test", "-o", d + "/a.bin").status == 0)
        for (name, rev, cdr) in [("n1.bin", "BL0X", "97:24:00,97:27:10,97:31:00,97:34:20"), ("n2.bin", "BL0Y", "97:26:66,97:27:10,97:31:00,97:34:20")] {
            #expect(odflash("fw", "generate", "--family", "nec-optiarc", "--layout", "nec-2m-opti3", "--vendor", "ATAPI", "--product", "iHAS124   Y",
                            "--revision", rev, "--cdr", cdr, "-o", d + "/" + name).status == 0)
        }
        let r = odflash("media", "search", "97:26:66", d, "--by-model")
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("Lite-On iHAS124 Y"), "\(r.out)")
        #expect(r.out.contains("listed in 1 of 2 (BL0Y) (heuristic table)"), "\(r.out)")
        #expect(r.out.contains("odflash synthetic writer (emulated only)  1       not listed"), "\(r.out)")
        let t = odflash("media", "search", "97:24:00", d, "--by-model")
        #expect(t.out.contains("listed in 1 of 1 (1.00) at 16x,24x,48x"), "\(t.out)")
    }
}
