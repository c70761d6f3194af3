import Foundation
import Testing
@testable import CLI
@testable import SCSI

/// The bad-input corpus: every case must end with one clear error line (or one JSON error object), a nonzero
/// exit, no crash, and nothing written. Inputs are generated here from synthetic images and small literals;
/// no vendor firmware is involved. The cases are counted for scripts/robustness (ODFLASH_CORPUS_REPORT).
struct BadCase {
    let category: String
    let name: String
    let args: [String]
    /// Part of the error line that names the cause.
    let contains: String
    /// Paths that must not exist afterwards (outputs that must not have been written).
    var mustNotExist: [String] = []
}

func corpusReport(_ category: String, _ count: Int, failures: Int) {
    guard let path = ProcessInfo.processInfo.environment["ODFLASH_CORPUS_REPORT"] else { return }
    // fopen "a" is O_APPEND: test suites running at the same time cannot interleave or truncate each other's lines.
    guard let f = fopen(path, "a") else { return }
    fputs("\(category)\t\(count)\t\(failures)\n", f)
    fclose(f)
}

@Suite(.serialized) struct BadInputCorpusTests {
    let d = tempDir()

    func write(_ name: String, _ bytes: [UInt8]) -> String {
        let p = d + "/" + name
        FileManager.default.createFile(atPath: p, contents: Data(bytes))
        return p
    }

    func generate(_ family: String, _ extra: [String] = [], name: String) -> [UInt8] {
        let p = d + "/gen-\(name).bin"
        let r = odflash(["fw", "generate", "--family", family, "-o", p, "--force-overwrite"] + extra)
        precondition(r.status == 0, r.err)
        return [UInt8](FileManager.default.contents(atPath: p)!)
    }

    func gzip(_ bytes: [UInt8]) -> [UInt8] {
        let src = write("tmp-gz-src", bytes)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/gzip")
        p.arguments = ["-c", "-n", src]
        let pipe = Pipe()
        p.standardOutput = pipe
        try! p.run()
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return [UInt8](out)
    }

    func zip(_ name: String, _ members: [(String, [UInt8])]) -> String {
        let py = d + "/mkzip.py"
        try! """
        import sys, zipfile
        z = zipfile.ZipFile(sys.argv[1], 'w')
        for i in range(2, len(sys.argv), 2):
            z.write(sys.argv[i + 1], sys.argv[i])
        z.close()
        """.write(toFile: py, atomically: true, encoding: .utf8)
        var args = [py, d + "/" + name]
        for (i, m) in members.enumerated() { args += [m.0, write("zipsrc-\(i)", m.1)] }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = args
        try! p.run()
        p.waitUntilExit()
        return d + "/" + name
    }

    /// Runs every case; records which ones broke the contract.
    func run(_ cases: [BadCase], _ category: String) {
        var failures = 0
        for c in cases {
            let before = Set((try? FileManager.default.contentsOfDirectory(atPath: d)) ?? [])
            let r = odflash(c.args)
            let j = odflash(c.args + ["--json"])
            let after = Set((try? FileManager.default.contentsOfDirectory(atPath: d)) ?? [])
            var ok = true
            func check(_ cond: Bool, _ what: String) {
                if !cond { ok = false; Issue.record("\(category)/\(c.name): \(what)\nargs: \(c.args)\nstatus \(r.status)\nout: \(r.out.prefix(300))\nerr: \(r.err.prefix(300))") }
            }
            check(r.status != 0 && r.status < 64, "exit status \(r.status) is not a nonzero odflash status")
            check(r.err.hasPrefix("odflash: error: ") && r.err.filter { $0 == "\n" }.count == 1, "not exactly one error line on stderr")
            check(c.contains.isEmpty || r.err.contains(c.contains), "the error line does not name the cause '\(c.contains)'")
            // One error shape: a JSON document {"type": "error", "error": {...}}; for NDJSON commands (flash, dump)
            // the last line, every line an object with a type.
            let msg = (j.json["error"] as? [String: Any])?["message"] as? String
            let ndjsonOK = j.lines.isEmpty || j.lines.count == j.out.split(separator: "\n").count && j.lines.allSatisfy { $0["type"] is String }
            check(j.status == r.status && msg != nil && j.json["type"] as? String == "error" && ndjsonOK, "--json did not give one JSON error")
            check(j.err.isEmpty, "--json wrote to stderr: \(j.err.prefix(120))")
            for p in c.mustNotExist { check(!FileManager.default.fileExists(atPath: p), "\(p) was written") }
            check(after.subtracting(before).allSatisfy { !$0.contains(".odflash-") && !$0.hasPrefix("backup-") }, "left a temporary or backup file")
            if !ok { failures += 1 }
        }
        corpusReport(category, cases.count, failures: failures)
    }

    @Test func images() throws {
        let nec = generate("nec-optiarc", ["--layout", "nec-2m-opti3", "--size", "1769480", "--drive-id", "G245", "--vendor", "ATAPI",
                                           "--product", "iHAS324   Y", "--revision", "BL1Y"], name: "nec")
        let out = d + "/patched.bin"
        var cases: [BadCase] = [
            BadCase(category: "image", name: "zero-length", args: ["fw", "inspect", write("empty.bin", [])], contains: "is empty"),
            BadCase(category: "image", name: "directory", args: ["fw", "inspect", d], contains: "is a directory"),
            BadCase(category: "image", name: "missing", args: ["fw", "inspect", d + "/nope.bin"], contains: "no such file"),
        ]
        try? FileManager.default.createSymbolicLink(atPath: d + "/dangling.bin", withDestinationPath: d + "/nowhere")
        cases.append(BadCase(category: "image", name: "dangling symlink", args: ["fw", "inspect", d + "/dangling.bin"], contains: "dangling.bin"))
        // A 200 MiB sparse file: refused by size before it is read.
        let big = d + "/huge.bin"
        FileManager.default.createFile(atPath: big, contents: nil)
        let h = FileHandle(forWritingAtPath: big)!; h.truncateFile(atOffset: 200 << 20); h.closeFile()
        cases.append(BadCase(category: "image", name: "oversized file", args: ["fw", "inspect", big], contains: "huge.bin"))
        // Damaged NEC images offered to the emulated iHAS324 Y: every one refused by preflight.
        let cuts = [0x10, 0x1000, 0x10000, 0x1B0000, nec.count - 1]
        for c in cuts {
            cases.append(BadCase(category: "image", name: "nec truncated at \(c)", args: ["flash", "emu:ihas324y", write("nec-cut-\(c).bin", Array(nec.prefix(c))),
                                                                                       "--dry-run", "--allow-untested"], contains: "preflight refused"))
        }
        for extra in [1, 0x1000] {
            cases.append(BadCase(category: "image", name: "nec oversized by \(extra)", args: ["flash", "emu:ihas324y", write("nec-big-\(extra).bin", nec + [UInt8](repeating: 0, count: extra)),
                                                                                         "--dry-run", "--allow-untested"], contains: "preflight refused"))
        }
        for at in [0x100, 0x80000, 0x1AFFFF, 0x1B0000] {
            var b = nec; b[at] ^= 0x5A
            cases.append(BadCase(category: "image", name: "nec flipped byte \(at)", args: ["flash", "emu:ihas324y", write("nec-flip-\(at).bin", b), "--dry-run", "--allow-untested"],
                                 contains: "checksums"))
        }
        var g = SeededBytes(seed: 3)
        cases.append(BadCase(category: "image", name: "random bytes of the NEC size", args: ["flash", "emu:ihas324y", write("random.bin", g.bytes(nec.count)), "--dry-run", "--allow-untested"],
                             contains: "preflight refused"))
        let q245 = generate("nec-optiarc", ["--layout", "nec-2m-opti3", "--size", "1769480", "--drive-id", "Q245", "--vendor", "ATAPI", "--product", "iHAS324   Y", "--revision", "BL1Y"], name: "q245")
        cases.append(BadCase(category: "image", name: "image for another drive ID", args: ["flash", "emu:ihas324y", write("q245.bin", q245), "--dry-run", "--allow-untested"],
                             contains: "drive ID"))
        let boot07 = generate("nec-optiarc", ["--layout", "nec-2m-opti3", "--size", "1769480", "--drive-id", "G245", "--bootcode", "07", "--vendor", "ATAPI", "--product", "iHAS324   Y", "--revision", "BL1Y"], name: "b07")
        cases.append(BadCase(category: "image", name: "image for another boot code", args: ["flash", "emu:ihas324y", write("b07.bin", boot07), "--dry-run", "--allow-untested"],
                             contains: "boot code 07"))
        let plex = generate("plextor", ["--layout", "px-716a"], name: "px")
        cases.append(BadCase(category: "image", name: "Plextor image for an NEC drive", args: ["flash", "emu:ihas324y", write("px.bin", plex), "--dry-run", "--allow-untested"],
                             contains: "preflight refused"))
        cases.append(BadCase(category: "image", name: "NEC image for a Plextor drive", args: ["flash", "emu:px716a", write("nec-for-px.bin", nec), "--dry-run", "--allow-untested"],
                             contains: "preflight refused"))
        // Every family's image, cut short, offered to the synthetic drive (never flashed; refused as not validating).
        for fam in ["synthetic-test", "plextor", "lg-renesas", "lg-mt1887", "mediatek-mt1959", "btc-mediatek", "liteon-mediatek", "pioneer-dvr", "mediatek-ff", "spc-microcode"] {
            let img = generate(fam, fam == "lg-renesas" ? ["--size", "0x10480"] : [], name: fam)
            for cut in [img.count / 2, img.count - 2] {
                cases.append(BadCase(category: "image", name: "\(fam) cut to \(cut)", args: ["flash", "emu:synthetic-writer", write("\(fam)-\(cut).bin", Array(img.prefix(cut))), "--dry-run"],
                                     contains: "preflight refused"))
            }
        }
        // Patching a damaged image: refused, nothing written.
        for at in [0x1B0000, 0x1B0001] {
            var b = nec; b[at] ^= 0xFF
            let src = write("nec-bad-\(at).bin", b)
            cases.append(BadCase(category: "image", name: "patch a corrupt image \(at)", args: ["fw", "patch", src, "--region-free", "-o", out], contains: "", mustNotExist: [out]))
        }
        cases.append(BadCase(category: "image", name: "patch output is the input", args: ["fw", "patch", write("same.bin", nec), "--region-free", "-o", d + "/same.bin"],
                             contains: "", mustNotExist: []))
        cases.append(BadCase(category: "image", name: "patch truncated", args: ["fw", "patch", write("cut-p.bin", Array(nec.prefix(5000))), "--speed", "MCC-004=8x", "-o", out],
                             contains: "", mustNotExist: [out]))
        run(cases, "image")
        #expect(cases.count >= 45)
    }

    @Test func containers() throws {
        let img = generate("synthetic-test", [], name: "synth")
        let gz = gzip(img)
        let zeros = gzip([UInt8](repeating: 0, count: 96 << 20))
        var badCRC = gz; badCRC[badCRC.count - 6] ^= 0xFF
        let cases: [BadCase] = [
            BadCase(category: "container", name: "empty .gz", args: ["fw", "inspect", write("e.gz", [])], contains: "e.gz"),
            BadCase(category: "container", name: "truncated .gz", args: ["fw", "inspect", write("t.gz", Array(gz.prefix(gz.count / 2)))], contains: "t.gz"),
            BadCase(category: "container", name: ".gz with a bad CRC", args: ["fw", "inspect", write("crc.gz", badCRC)], contains: "crc.gz"),
            // Containers are recognised by content, not by name: garbage called .gz is garbage, refused as an image.
            BadCase(category: "container", name: "garbage named .gz", args: ["flash", "emu:synthetic-writer", write("g.gz", Array("not gzip at all".utf8)), "--dry-run"], contains: "preflight refused"),
            BadCase(category: "container", name: ".gz of nothing", args: ["fw", "inspect", write("n.gz", gzip([]))], contains: "n.gz"),
            BadCase(category: "container", name: "gzip bomb (96 MiB of zeros)", args: ["fw", "inspect", write("bomb.gz", zeros)], contains: "bomb.gz"),
            BadCase(category: "container", name: "empty zip", args: ["fw", "inspect", zip("empty.zip", [])], contains: "no firmware image"),
            BadCase(category: "container", name: "zip with a text file", args: ["fw", "inspect", zip("txt.zip", [("readme.txt", Array("hello".utf8))])], contains: "no firmware image"),
            BadCase(category: "container", name: "zip with two images", args: ["fw", "inspect", zip("two.zip", [("a.bin", img), ("b.bin", img)])], contains: "--member"),
            BadCase(category: "container", name: "zip member not there", args: ["fw", "inspect", zip("one.zip", [("a.bin", img)]), "--member", "zz.bin"], contains: "zz.bin"),
            BadCase(category: "container", name: "truncated zip", args: ["fw", "inspect", write("cut.zip", Array([UInt8](FileManager.default.contents(atPath: zip("full.zip", [("a.bin", img)]))!).prefix(4000)))],
                    contains: "cut.zip"),
            BadCase(category: "container", name: "garbage named .zip", args: ["flash", "emu:synthetic-writer", write("g.zip", Array("PK but not really".utf8)), "--dry-run"], contains: "preflight refused"),
            BadCase(category: "container", name: "zip of an empty member", args: ["fw", "inspect", zip("z0.zip", [("a.bin", [])])], contains: ""),
            BadCase(category: "container", name: "--member on a plain file", args: ["fw", "inspect", write("plain.bin", img), "--member", "x.bin"], contains: "x.bin"),
            BadCase(category: "container", name: "zip holding a zip", args: ["fw", "inspect", zip("outer.zip", [("inner.zip", [UInt8](FileManager.default.contents(atPath: zip("inner.zip", [("a.bin", img)]))!))])],
                    contains: ""),
        ]
        run(cases, "container")
    }

    @Test func firmwareDB() throws {
        let img = write("db-img.bin", generate("synthetic-test", [], name: "dbimg"))
        var cases: [BadCase] = []
        func mutated(_ name: String, _ file: String, _ edit: (String) -> String, contains: String = "firmware-db") {
            let dir = d + "/db-" + name.replacingOccurrences(of: " ", with: "-")
            try? FileManager.default.removeItem(atPath: dir)
            try! FileManager.default.copyItem(atPath: db, toPath: dir)
            let p = dir + "/" + file
            let text = (try? String(contentsOfFile: p, encoding: .utf8)) ?? ""
            let changed = edit(text)
            // A mutation that no longer matches the file would test nothing.
            #expect(changed != text, "the '\(name)' mutation no longer changes \(file)")
            try! changed.write(toFile: p, atomically: true, encoding: .utf8)
            cases.append(BadCase(category: "firmware-db", name: name, args: ["fw", "inspect", img, "--db", dir], contains: contains))
        }
        mutated("typo in a key", "families/plextor.yaml", { $0.replacingOccurrences(of: "\nprovenance:", with: "\nprovenace:") }, contains: "did you mean")
        mutated("missing provenance", "families/btc-mediatek.yaml", { $0.replacingOccurrences(of: "\nprovenance: \"btcflash (public domain)\"", with: "") })
        mutated("schema 2", "families/plextor.yaml", { $0.replacingOccurrences(of: "schema: 1", with: "schema: 2") }, contains: "schema")
        mutated("broken YAML", "families/plextor.yaml", { $0 + "\n  - [unclosed\n" })
        mutated("not UTF-8", "families/plextor.yaml", { _ in String(decoding: [0xFF, 0xFE, 0x00, 0x41], as: UTF8.self) })
        mutated("unknown family in a model", "models.yaml", { $0.replacingOccurrences(of: "family: plextor\n", with: "family: plextorr\n") }, contains: "unknown family")
        mutated("duplicate model id", "models.yaml", { $0.replacingOccurrences(of: "id: liteon-ihas224-y", with: "id: liteon-ihas124-y") }, contains: "duplicate")
        mutated("model without vendor", "models.yaml", { $0.replacingOccurrences(of: "    vendor: \"ATAPI\"\n    product: \"iHAS224   Y\"", with: "    product: \"iHAS224   Y\"") }, contains: "vendor")
        mutated("malformed CDB", "families/plextor.yaml", { $0.replacingOccurrences(of: "3B 04 00 {offset:3}", with: "3B 04 ZZ {offset:3}") }, contains: "not a hex byte")
        mutated("CDB naming an unknown value", "families/lg-renesas.yaml", { $0.replacingOccurrences(of: "\"3B 02 {offset:4} 00 {length:2} 44\"", with: "\"3B 02 {ofset:4} 00 {length:2} 44\"") },
                contains: "unknown value 'ofset'")
        mutated("chunk size 0", "families/plextor.yaml", { $0.replacingOccurrences(of: "chunk_size: 0x1000", with: "chunk_size: 0") }, contains: "chunk_size")
        mutated("status value", "families/plextor.yaml", { $0.replacingOccurrences(of: "flash: not-tested", with: "flash: maybe") }, contains: "maybe")
        mutated("status operation", "families/plextor.yaml", { $0.replacingOccurrences(of: "region: n/a", with: "regoin: n/a") }, contains: "regoin")
        mutated("checksum algorithm", "families/plextor.yaml", { $0.replacingOccurrences(of: "algorithm: sum, unit: u8, initial: 0x8000", with: "algorithm: crc99, unit: u8, initial: 0x8000") }, contains: "crc99")
        mutated("id table line", "idtables/nec-drive-ids.tsv", { $0 + "no-tabs-here\n" })
        mutated("media table line", "media/atip-manufacturers.tsv", { $0 + "\t\t\t\n97:99\n" })
        mutated("dump layout unknown", "families/nec-optiarc.yaml", { $0.replacingOccurrences(of: "    layout: nec-2m-opti3\n    probe:", with: "    layout: nec-9m\n    probe:") }, contains: "nec-9m")
        mutated("booktype version_from unknown", "families/nec-optiarc.yaml", { $0.replacingOccurrences(of: "version_from: dvd+r-dl", with: "version_from: dvd-ram") }, contains: "dvd-ram")
        mutated("region key unknown", "families/nec-optiarc.yaml", { $0.replacingOccurrences(of: "{key55:4} 55 55", with: "{key56:4} 55 55") }, contains: "key56")
        mutated("file name is not the id", "families/btc-mediatek.yaml", { $0.replacingOccurrences(of: "id: btc-mediatek", with: "id: btc-other") }, contains: "must live in")
        mutated("negative size", "families/btc-mediatek.yaml", { $0.replacingOccurrences(of: "sizes: [0x100000]", with: "sizes: [-5]") })
        mutated("models file empty", "models.yaml", { _ in "" })
        mutated("probe capture outside the answer", "families/nec-optiarc.yaml", { $0.replacingOccurrences(of: "capture: [{variable: dumpid, offset: 0, length: 1}]", with: "capture: [{variable: dumpid, offset: 9, length: 1}]") },
                contains: "capture")
        mutated("challenge seed bits out of range", "families/pioneer-dvr.yaml", { $0.replacingOccurrences(of: "seed_bits: 16", with: "seed_bits: 40") }, contains: "seed_bits")
        mutated("expect ascii of the wrong length", "families/pioneer-dvr.yaml", { $0.replacingOccurrences(of: "ascii: [\"ATA \"]", with: "ascii: [\"ATA\"]") }, contains: "ascii")
        mutated("placement names an unknown value", "families/lg-renesas.yaml", { $0.replacingOccurrences(of: "flash_at_value: loadaddress", with: "flash_at_value: nosuch") }, contains: "nosuch")
        mutated("a probe descriptor of the wrong size", "families/spc-microcode.yaml", { $0.replacingOccurrences(of: "length: 4, optional: true", with: "length: 8, optional: true") }, contains: "descriptor")
        mutated("sweep without a step", "families/nec-optiarc.yaml", { $0.replacingOccurrences(of: "to: 0x1F0000, step: 0x10000", with: "to: 0x1F0000, step: 0") }, contains: "step")
        mutated("transform copy outside", "families/mediatek-ff.yaml", { $0.replacingOccurrences(of: "{from: 0x10400, to: 0x20800, length: 0xF400}", with: "{from: 0x10400, to: 0x2F000, length: 0xF400}") },
                contains: "copy")
        mutated("emulator block names no behaviour", "families/btc-mediatek.yaml", { $0.replacingOccurrences(of: "{behavior: btc,", with: "{behavior: btcx,") }, contains: "btcx")
        mutated("emulator block with another behaviour's setting", "families/lg-renesas.yaml", { $0.replacingOccurrences(of: "{behavior: lg-renesas}", with: "{behavior: lg-renesas, id_at: 0x4800}") },
                contains: "id_at")
        cases.append(BadCase(category: "firmware-db", name: "db folder missing", args: ["fw", "inspect", img, "--db", d + "/no-db"], contains: "not found"))
        let noFam = d + "/db-nofam"
        try? FileManager.default.removeItem(atPath: noFam)
        try FileManager.default.copyItem(atPath: db, toPath: noFam)
        for f in try FileManager.default.contentsOfDirectory(atPath: noFam + "/families") { try FileManager.default.removeItem(atPath: noFam + "/families/" + f) }
        cases.append(BadCase(category: "firmware-db", name: "no family files", args: ["fw", "inspect", img, "--db", noFam], contains: "no family files"))
        // Emulated drive profiles are firmware-db files too.
        func profile(_ name: String, _ edit: (String) -> String, contains: String) {
            let src = try! String(contentsOfFile: db + "/emulator/ihas324y.yaml", encoding: .utf8)
            let p = d + "/profile-\(name.replacingOccurrences(of: " ", with: "-")).yaml"
            try! edit(src).write(toFile: p, atomically: true, encoding: .utf8)
            cases.append(BadCase(category: "firmware-db", name: "profile: \(name)", args: ["info", "emu:" + p], contains: contains))
        }
        profile("unknown behaviour", { $0.replacingOccurrences(of: "behavior: nec", with: "behavior: necc") }, contains: "necc")
        profile("preset outside the flash", { $0.replacingOccurrences(of: "{at: 0x10800, ascii: \"G245\"}", with: "{at: 0x1FFFFE, ascii: \"G245\"}") }, contains: "preset")
        profile("vendor too long", { $0.replacingOccurrences(of: "vendor: \"ATAPI\"", with: "vendor: \"ATAPI-TOO-LONG\"") }, contains: "longer than 8")
        profile("no provenance", { $0.replacingOccurrences(of: "\nprovenance:", with: "\nprovenanc:") }, contains: "provenance")
        profile("unknown media profile", { $0.replacingOccurrences(of: "profiles: [CD-ROM,", with: "profiles: [LASERDISC, CD-ROM,") }, contains: "LASERDISC")
        run(cases, "firmware-db")
        #expect(cases.count >= 30)
    }

    @Test func senseInputs() {
        let inputs: [(String, String)] = [
            ("", "cannot read a sense code"), ("zz", "cannot read a sense code"), ("1/2", "cannot read a sense code"),
            ("999/1/1", "999h is out of range"), ("03/100/00", "single bytes"), ("03/0C/-1", "cannot read a sense code"),
            ("03/0C/00/00", "cannot read a sense code"), ("-41", "-41"), ("0x", "cannot read a sense code"),
            ("Sense Key: zz", "cannot read a sense code"), ("G/H/I", "cannot read a sense code"), ("03 0C", "cannot read a sense code"),
            ("70 00", "sense"), ("72", "sense"), ("7F 00 03 00 00 00 00 0A 00 00 00 00 0C 00", "sense"), ("\u{1}\u{2}\u{3}", "cannot read a sense code"),
        ]
        run(inputs.enumerated().map { BadCase(category: "sense", name: "sense #\($0.offset) \($0.element.0.debugDescription)", args: ["sense", $0.element.0], contains: $0.element.1) }, "sense")
    }

    /// Drive answers that cannot be used: recorded transcripts with one answer damaged, replayed.
    @Test func deviceResponses() throws {
        func transcript(_ cmd: [String]) -> [[String: Any]] {
            let p = d + "/rec-\(UUID().uuidString).jsonl"
            _ = odflash(cmd + ["--transcript", p])
            let text = try! String(contentsOfFile: p, encoding: .utf8)
            return text.split(separator: "\n").map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        }
        func replay(_ entries: [[String: Any]], _ name: String) -> String {
            let p = d + "/\(name).jsonl"
            let lines = entries.map { String(decoding: try! JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]), as: UTF8.self) }
            try! (lines.joined(separator: "\n") + "\n").write(toFile: p, atomically: true, encoding: .utf8)
            return "replay:" + p
        }
        func damage(_ t: [[String: Any]], opcode: String, _ f: (String) -> String) -> [[String: Any]] {
            var out = t
            for i in out.indices where (out[i]["cdb"] as? String)?.hasPrefix(opcode) == true && out[i]["dataIn"] != nil {
                let new = f(out[i]["dataIn"] as! String)
                out[i]["dataIn"] = new
                out[i]["received"] = new.count / 2
            }
            #expect(out.map { $0["dataIn"] as? String } != t.map { $0["dataIn"] as? String }, "nothing matched \(opcode)")
            return out
        }
        let info = transcript(["info", "emu:ihas124y-cmc"])
        let media = transcript(["media", "emu:ihas124y-ricoh-dvdr"])
        let region = transcript(["region", "emu:ihas124y"])
        let nec = transcript(["dump", "emu:ihas324y", d + "/rec-dump.bin"])
        var cases: [BadCase] = [
            BadCase(category: "response", name: "INQUIRY cut to 4 bytes", args: ["info", replay(damage(info, opcode: "12 00 00 00") { String($0.prefix(8)) }, "inq4")], contains: "INQUIRY"),
            BadCase(category: "response", name: "INQUIRY of a disk", args: ["info", replay(damage(info, opcode: "12 00 00 00") { "00" + $0.dropFirst(2) }, "inqdisk")], contains: "not an optical drive"),
            BadCase(category: "response", name: "INQUIRY vendor not ASCII", args: ["info", replay(damage(info, opcode: "12 00 00 00") { String($0.prefix(16)) + "FFFFFFFFFFFFFFFF" + $0.dropFirst(32) }, "inqff")],
                    contains: "non-ASCII"),
            BadCase(category: "response", name: "INQUIRY empty", args: ["info", replay(damage(info, opcode: "12 00 00 00") { _ in "" }, "inq0")], contains: "INQUIRY"),
            BadCase(category: "response", name: "REPORT KEY RPC cut", args: ["region", replay(damage(region, opcode: "A4") { String($0.prefix(4)) }, "rpc2")], contains: "malformed"),
            BadCase(category: "response", name: "REPORT KEY answer empty", args: ["region", replay(damage(region, opcode: "A4") { _ in "" }, "rpc0")], contains: "malformed"),
            BadCase(category: "response", name: "READ DISC STRUCTURE cut", args: ["media", replay(damage(media, opcode: "AD") { String($0.prefix(6)) }, "rds")], contains: "malformed"),
            BadCase(category: "response", name: "GET CONFIGURATION cut", args: ["media", replay(damage(media, opcode: "46") { String($0.prefix(6)) }, "gc")], contains: ""),
            BadCase(category: "response", name: "GET CONFIGURATION empty", args: ["media", replay(damage(media, opcode: "46") { _ in "" }, "gc0")], contains: ""),
            BadCase(category: "response", name: "READ DISC STRUCTURE all FF", args: ["media", replay(damage(media, opcode: "AD") { String(repeating: "F", count: $0.count) }, "rdsff")], contains: ""),
            BadCase(category: "response", name: "NEC drive ID short", args: ["dump", replay(damage(nec, opcode: "CC 00 00 01 08") { String($0.prefix(6)) }, "necid"), d + "/never.bin"],
                    contains: "drive ID", mustNotExist: [d + "/never.bin"]),
            BadCase(category: "response", name: "NEC flash read short", args: ["dump", replay(damage(nec, opcode: "CC 00 00 03 00 00 00 10") { String($0.prefix(100)) }, "necread"), d + "/never2.bin"],
                    contains: "returned", mustNotExist: [d + "/never2.bin"]),
            BadCase(category: "response", name: "replay transcript missing", args: ["info", "replay:" + d + "/none.jsonl"], contains: "none.jsonl"),
            BadCase(category: "response", name: "replay transcript garbage", args: ["info", "replay:" + write("garbage.jsonl", Array("{not json\n".utf8))], contains: "transcript"),
        ]
        // The adversarial drives (every answer mangled) against every command that reads a drive.
        for mode in ["truncated", "oversized", "random"] {
            for cmd in [["media"], ["region"], ["booktype"]] {
                cases.append(BadCase(category: "response", name: "adversarial \(mode) \(cmd[0])", args: cmd + ["emu:adversarial-\(mode)"], contains: ""))
            }
            cases.append(BadCase(category: "response", name: "adversarial \(mode) dump", args: ["dump", "emu:adversarial-\(mode)", d + "/adv.bin"], contains: "", mustNotExist: [d + "/adv.bin"]))
            cases.append(BadCase(category: "response", name: "adversarial \(mode) dry-run flash", args: ["flash", "emu:adversarial-\(mode)", write("adv-img.bin", [UInt8](FileManager.default.contents(atPath: d + "/rec-dump.bin") ?? Data([1]))), "--dry-run", "--allow-untested"], contains: ""))
        }
        run(cases, "response")
    }

    @Test func commandLines() {
        let img = write("cl.bin", generate("synthetic-test", [], name: "cl"))
        let cases: [BadCase] = [
            BadCase(category: "arguments", name: "unknown command", args: ["frobnicate"], contains: ""),
            BadCase(category: "arguments", name: "flash without arguments", args: ["flash"], contains: "Missing expected argument"),
            BadCase(category: "arguments", name: "flash without image", args: ["flash", "emu:synthetic-writer"], contains: "Missing expected argument"),
            BadCase(category: "arguments", name: "unknown option", args: ["info", "emu:ihas124y", "--bogus"], contains: "--bogus"),
            BadCase(category: "arguments", name: "generate unknown family", args: ["fw", "generate", "--family", "nope", "-o", d + "/g.bin"], contains: "no family 'nope'", mustNotExist: [d + "/g.bin"]),
            BadCase(category: "arguments", name: "generate without output", args: ["fw", "generate", "--family", "synthetic-test"], contains: "--output"),
            BadCase(category: "arguments", name: "generate count 0", args: ["fw", "generate", "--family", "synthetic-test", "--count", "0", "-o", d + "/g0"], contains: "--count", mustNotExist: [d + "/g0"]),
            BadCase(category: "arguments", name: "generate size not a number", args: ["fw", "generate", "--family", "lg-renesas", "--size", "abc", "-o", d + "/g1.bin"], contains: "--size", mustNotExist: [d + "/g1.bin"]),
            BadCase(category: "arguments", name: "generate size 0x", args: ["fw", "generate", "--family", "lg-renesas", "--size", "0x", "-o", d + "/g2.bin"], contains: "--size", mustNotExist: [d + "/g2.bin"]),
            BadCase(category: "arguments", name: "generate over a directory", args: ["fw", "generate", "--family", "synthetic-test", "-o", d, "--force-overwrite"], contains: "is a directory"),
            BadCase(category: "arguments", name: "region --set 0", args: ["region", "emu:ihas124y", "--set", "0", "--yes"], contains: "from 1 to 8"),
            BadCase(category: "arguments", name: "region --set abc", args: ["region", "emu:ihas124y", "--set", "abc"], contains: "abc"),
            BadCase(category: "arguments", name: "booktype --set x", args: ["booktype", "emu:ihas324y", "--set", "x"], contains: "MEDIA=BOOKTYPE"),
            BadCase(category: "arguments", name: "booktype set and clear", args: ["booktype", "emu:ihas324y", "--set", "dvd+r=dvd-rom", "--clear-counter"], contains: "cannot be combined"),
            BadCase(category: "arguments", name: "dump without output", args: ["dump", "emu:ihas324y"], contains: "Missing expected argument"),
            BadCase(category: "arguments", name: "dump over an existing file", args: ["dump", "emu:ihas324y", img], contains: "exists"),
            BadCase(category: "arguments", name: "fw diff with one image", args: ["fw", "diff", img], contains: "Missing expected argument"),
            BadCase(category: "arguments", name: "media search without code", args: ["media", "search"], contains: "Missing expected argument"),
            BadCase(category: "arguments", name: "device that is not SCSI", args: ["info", "/dev/null"], contains: "/dev/null"),
            BadCase(category: "arguments", name: "empty device name", args: ["info", ""], contains: ""),
            BadCase(category: "arguments", name: "USB device absent", args: ["info", "usb:250:250"], contains: "usb:250:250"),
            BadCase(category: "arguments", name: "emulated profile unknown", args: ["info", "emu:nope"], contains: "no emulated drive profile"),
            BadCase(category: "arguments", name: "emulated profile path escapes", args: ["info", "emu:../../etc/passwd"], contains: ""),
            BadCase(category: "arguments", name: "flash needs --yes", args: ["flash", "emu:synthetic-writer", img], contains: "--yes"),
            BadCase(category: "arguments", name: "patch without operations", args: ["fw", "patch", img, "-o", d + "/p.bin"], contains: "", mustNotExist: [d + "/p.bin"]),
            BadCase(category: "arguments", name: "patch without output", args: ["fw", "patch", img, "--region-free"], contains: "-o OUTPUT"),
            BadCase(category: "arguments", name: "patch speed malformed", args: ["fw", "patch", img, "--speed", "MCC004", "-o", d + "/p2.bin"], contains: "", mustNotExist: [d + "/p2.bin"]),
            BadCase(category: "arguments", name: "flash with --member on a plain file", args: ["flash", "emu:synthetic-writer", img, "--member", "a.bin", "--dry-run"], contains: "a.bin"),
        ]
        run(cases, "arguments")
    }
}

/// A small deterministic byte source for corpus inputs.
struct SeededBytes {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func bytes(_ n: Int) -> [UInt8] {
        (0..<n).map { _ in
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            return UInt8(truncatingIfNeeded: z ^ (z >> 27))
        }
    }
}
