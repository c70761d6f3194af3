import Foundation
import Testing
@testable import CLI

// The output contract: every `--json` output validates against its schema under docs/schemas. One-shot commands print
// one document (or the one error shape); flash and dump print NDJSON, every line an object with a "type".

let outputSchemas: JSONSchemaSet = {
    do { return try JSONSchemaSet(folder: repoRoot + "/docs/schemas") } catch { fatalError("docs/schemas: \(error)") }
}()

/// Validates a one-shot command's stdout against `schema` (or, for an error, error.schema.json with this exit status).
/// With --json nothing goes to stderr.
@discardableResult
func expectDocument(_ r: Run, _ schema: String, status: Int32 = 0, sourceLocation: SourceLocation = #_sourceLocation) -> JSONValue? {
    #expect(r.status == status, "exit \(r.status), expected \(status): \(r.out.prefix(600))", sourceLocation: sourceLocation)
    #expect(r.err.isEmpty, "stderr with --json: \(r.err)", sourceLocation: sourceLocation)
    let doc: JSONValue
    do { doc = try JSONValue.parse(r.out) } catch {
        Issue.record("not one JSON document (\(error)): \(r.out.prefix(400))", sourceLocation: sourceLocation)
        return nil
    }
    do {
        let errors = try outputSchemas.validate(doc, against: schema)
        #expect(errors.isEmpty, "\(schema):\n\(errors.prefix(12).joined(separator: "\n"))", sourceLocation: sourceLocation)
    } catch { Issue.record("\(schema): \(error)", sourceLocation: sourceLocation) }
    return doc
}

/// An error as JSON: the one error shape, with this kind and exit status.
func expectJSONError(_ r: Run, status: Int32, kind: String, sourceLocation: SourceLocation = #_sourceLocation) {
    guard let doc = expectDocument(r, "error.schema.json", status: status, sourceLocation: sourceLocation) else { return }
    #expect(doc["error"]?["kind"] == .string(kind) && doc["error"]?["exitStatus"] == .number(Double(status)), "\(doc)", sourceLocation: sourceLocation)
}

/// Validates NDJSON output (flash, dump): every line one object with a "type", valid against "COMMAND-TYPE.schema.json"
/// (error.schema.json for an error) and against the command's line schema. Returns the lines.
@discardableResult
func expectLines(_ r: Run, _ command: String, status: Int32, sourceLocation: SourceLocation = #_sourceLocation) -> [JSONValue] {
    #expect(r.status == status, "exit \(r.status), expected \(status): \(r.out.suffix(600))", sourceLocation: sourceLocation)
    #expect(r.err.isEmpty, "stderr with --json: \(r.err)", sourceLocation: sourceLocation)
    #expect(r.out.hasSuffix("\n"), sourceLocation: sourceLocation)
    var lines: [JSONValue] = []
    for (i, text) in r.out.split(separator: "\n", omittingEmptySubsequences: false).dropLast().enumerated() {
        guard let line = try? JSONValue.parse(String(text)), line.object != nil else {
            Issue.record("line \(i + 1) is not a JSON object: \(text.prefix(300))", sourceLocation: sourceLocation)
            continue
        }
        guard let type = line["type"]?.string else {
            Issue.record("line \(i + 1) has no \"type\": \(text.prefix(300))", sourceLocation: sourceLocation)
            continue
        }
        lines.append(line)
        for schema in [type == "error" ? "error.schema.json" : "\(command)-\(type).schema.json", "\(command).schema.json"] {
            guard outputSchemas.documents[schema] != nil else { Issue.record("line \(i + 1): no schema \(schema) for type \(type)", sourceLocation: sourceLocation); continue }
            do {
                let errors = try outputSchemas.validate(line, against: schema)
                #expect(errors.isEmpty, "line \(i + 1) (\(type)) against \(schema):\n\(errors.prefix(12).joined(separator: "\n"))", sourceLocation: sourceLocation)
            } catch { Issue.record("\(schema): \(error)", sourceLocation: sourceLocation) }
        }
    }
    #expect(!lines.isEmpty, sourceLocation: sourceLocation)
    // The last line ends the run: the result when it succeeded, the error (with its exit status) otherwise.
    if let last = lines.last {
        if status == 0 { #expect(last["type"] == .string("result"), sourceLocation: sourceLocation) }
        if last["type"] == .string("error") { #expect(last["error"]?["exitStatus"] == .number(Double(status)), sourceLocation: sourceLocation) }
    }
    #expect(lines.dropLast().allSatisfy { $0["type"] != .string("error") && $0["type"] != .string("result") }, "result or error before the end", sourceLocation: sourceLocation)
    return lines
}

/// A firmware-db that loads for `db lint` but has a lint issue (a model without provenance).
func brokenDB() throws -> String {
    let dir = tempDir() + "/db"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    for sub in ["families", "idtables", "media"] { try FileManager.default.copyItem(atPath: db + "/" + sub, toPath: dir + "/" + sub) }
    try "schema: 1\nprovenance: x\nmodels:\n  - {id: m, name: M, vendor: V, product: P, family: nec-optiarc}\n"
        .write(toFile: dir + "/models.yaml", atomically: true, encoding: .utf8)
    return dir
}

/// A zip archive with stored (uncompressed) members.
func storedZip(_ members: [(String, [UInt8])]) -> [UInt8] {
    func crc32(_ b: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for x in b {
            c ^= UInt32(x)
            for _ in 0..<8 { c = c & 1 == 1 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
        }
        return ~c
    }
    func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
    func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(v >> (8 * $0) & 0xFF) } }
    var out: [UInt8] = [], central: [UInt8] = []
    for (name, data) in members {
        let n = Array(name.utf8), crc = crc32(data), size = UInt32(data.count), offset = UInt32(out.count)
        out += le32(0x0403_4B50) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0x21) + le32(crc) + le32(size) + le32(size) + le16(n.count) + le16(0) + n + data
        central += le32(0x0201_4B50) + le16(20) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0x21) + le32(crc) + le32(size) + le32(size)
            + le16(n.count) + le16(0) + le16(0) + le16(0) + le16(0) + le32(0) + le32(offset) + n
    }
    let cdOffset = UInt32(out.count)
    return out + central + le32(0x0605_4B50) + le16(0) + le16(0) + le16(members.count) + le16(members.count) + le32(UInt32(central.count)) + le32(cdOffset) + le16(0)
}

@Suite struct SchemaTests {
    func generate(_ d: String, _ name: String, _ args: String...) -> String {
        let p = d + "/" + name
        let r = odflash(["fw", "generate", "-o", p, "--force-overwrite"] + args)
        #expect(r.status == 0, "\(r.err)")
        return p
    }

    @Test func scan() {
        let sysfs = tempDir()   // no SCSI devices: the emulated drives only
        expectDocument(odflash("scan", "--json", "--emulated", "--sysfs", sysfs), "scan.schema.json")
        let probed = expectDocument(odflash("scan", "--json", "--emulated", "--probe", "--sysfs", sysfs), "scan.schema.json")
        #expect(probed?["devices"]?.array?.contains { $0["probe"] != nil } == true, "no drive was probed")
        expectJSONError(odflash("scan", "--json", "--db", "/nonexistent"), status: 2, kind: "db")
    }

    @Test func info() throws {
        for d in ["ihas124y", "ihas124y-cmc", "ihas324y", "px716a", "synthetic-writer", "bu40n", "bdr-209d", "dvr-107d"] {
            expectDocument(odflash("info", "--json", "emu:" + d), "info.schema.json")
        }
        let probed = expectDocument(odflash("info", "--json", "--probe", "emu:nd-3550a-oem"), "info.schema.json")
        #expect(probed?["probe"]?["family"] == .string("nec-optiarc"))
        expectJSONError(odflash("info", "--json", "emu:nope"), status: 3, kind: "device")
        expectJSONError(odflash("info", "--json", "/dev/sg99"), status: 3, kind: "device")
        expectJSONError(odflash("info", "--json"), status: 2, kind: "usage")
    }

    @Test func sense() {
        for input in [["03/0C/00"], ["70", "00", "05", "00", "00", "00", "00", "0A", "00", "00", "00", "00", "24", "00", "00", "00", "00", "00"],
                      ["Sense Key: 0x03 (KEY_MEDIUM_ERROR) Sense Code: 0x0C Sense Qual: 0x00"],
                      ["72 02 04 01 00 00 00 08 02 06 00 00 80 00 00 00"],
                      [":-[ WRITE@LBA=330h failed with SK=3h/ASC=0Ch/ACQ=00h]: Input/output error"],
                      ["SCSI error on write(0,16): [3 73 03] Power calibration area error"],
                      ["sr0: Sense Key : Medium Error [current]\nsr0: Add. Sense: Write error"],
                      ["W 22:13:31 Failed to Write Sectors 0 - 31 - Reason: Power Calibration Area Error"]] {
            expectDocument(odflash(["sense", "--json"] + input), "sense.schema.json")
        }
        expectJSONError(odflash("sense", "--json", "not a sense code"), status: 2, kind: "input")
    }

    @Test func media() throws {
        for d in ["ihas124y-cmc", "ihas124y-ricoh-dvdr", "ihas124y", "bu40n"] {
            expectDocument(odflash("media", "--json", "emu:" + d), "media.schema.json")
        }
        let d = tempDir()
        let fw = generate(d, "fw.bin", "--family", "synthetic-test")
        // Not listed: the check's document, exit 1; patched: listed, exit 0; a heuristic table: not listed, exit 1.
        let miss = expectDocument(odflash("media", "--json", "emu:ihas124y-cmc", "--check", "--firmware", fw), "media.schema.json", status: 1)
        #expect(miss?["check"]?["supported"] == .bool(false) && miss?["check"]?["patchCommand"]?.string != nil)
        #expect(odflash("fw", "patch", fw, "-o", d + "/patched.bin", "--rename", "97:24:00=97:26:60").status == 0)
        let hit = expectDocument(odflash("media", "--json", "emu:ihas124y-cmc", "--check", "--firmware", d + "/patched.bin"), "media.schema.json")
        #expect(hit?["check"]?["supported"] == .bool(true))
        let nec = generate(d, "nec.bin", "--family", "nec-optiarc", "--layout", "nec-2m-opti3", "--cdr", "97:24:00,97:27:10,97:31:00,97:34:20")
        expectDocument(odflash("media", "--json", "emu:ihas124y-cmc", "--check", "--firmware", nec), "media.schema.json", status: 1)
        expectJSONError(odflash("media", "--json", "emu:ihas124y", "--check", "--firmware", fw), status: 3, kind: "device")
        expectJSONError(odflash("media", "--json", "emu:ihas124y-cmc", "--firmware", fw), status: 2, kind: "usage")
        // Without --firmware: the drive's own firmware, read for the check; a failed read is a device error.
        let own = expectDocument(odflash("media", "--json", "emu:ihas124y-cmc", "--check"), "media.schema.json", status: 1)
        #expect(own?["check"]?["firmwareSource"] != nil)
        expectJSONError(odflash("media", "--json", "emu:ihas124y-ricoh-dvdr", "--check"), status: 3, kind: "device")
    }

    @Test func mediaSearch() throws {
        let d = tempDir()
        generate(d, "liteon.bin", "--family", "liteon-mediatek", "--seed", "3")
        generate(d, "synthetic.bin", "--family", "synthetic-test")
        generate(d, "nec.bin", "--family", "nec-optiarc", "--layout", "nec-2m-opti3", "--cdr", "97:24:00,97:27:10")
        try Data("RITEKG03 mentioned".utf8).write(to: URL(fileURLWithPath: d + "/notes.txt"))
        for code in ["RITEKG03", "97:24:00", "MCC-004", "NOSUCHCODE"] {
            expectDocument(odflash("media", "search", "--json", "--mentions", code, d), "media-search.schema.json")
            expectDocument(odflash("media", "search", "--json", "--by-model", code, d), "media-search.schema.json")
        }
        expectJSONError(odflash("media", "search", "--json", "RITEKG03", d + "/missing"), status: 2, kind: "input")
    }

    @Test func region() {
        for d in ["ihas124y", "px716a", "ihas324y"] {
            expectDocument(odflash("region", "--json", "emu:" + d), "region.schema.json")
        }
        let set = expectDocument(odflash("region", "--json", "emu:ihas124y", "--set", "1", "--yes"), "region.schema.json")
        #expect(set?["changed"] == .bool(true))
        expectDocument(odflash("region", "--json", "emu:ihas124y", "--set", "2", "--yes"), "region.schema.json")   // already 2
        expectDocument(odflash("region", "--json", "emu:ihas324y", "--vendor-reset", "--yes"), "region.schema.json")
        expectJSONError(odflash("region", "--json", "emu:ihas124y", "--set", "9"), status: 2, kind: "usage")
        expectJSONError(odflash("region", "--json", "emu:ihas124y", "--set", "1"), status: 2, kind: "usage")   // needs --yes
        expectJSONError(odflash("region", "--json", "emu:synthetic-writer", "--vendor-reset", "--yes"), status: 4, kind: "refused")
    }

    @Test func booktype() {
        for d in ["ihas324y", "px716a"] {
            expectDocument(odflash("booktype", "--json", "emu:" + d), "booktype.schema.json")
        }
        let set = expectDocument(odflash("booktype", "--json", "emu:ihas324y", "--set", "dvd+r=dvd-rom", "--yes"), "booktype.schema.json")
        #expect(set?["changed"]?.string != nil)
        expectDocument(odflash("booktype", "--json", "emu:ihas324y", "--set", "dvd+rw=dvd-rom", "--temporary", "--yes"), "booktype.schema.json")
        expectDocument(odflash("booktype", "--json", "emu:ihas324y", "--clear-counter", "--yes"), "booktype.schema.json")
        expectJSONError(odflash("booktype", "--json", "emu:bu40n"), status: 4, kind: "refused")
        expectJSONError(odflash("booktype", "--json", "emu:ihas324y", "--set", "dvd+r"), status: 2, kind: "usage")
    }

    @Test func fwInspect() throws {
        let d = tempDir()
        let images = [generate(d, "s.bin", "--family", "synthetic-test"),
                      generate(d, "l.bin", "--family", "liteon-mediatek", "--seed", "3"),
                      generate(d, "n.bin", "--family", "nec-optiarc", "--layout", "nec-2m-opti3", "--cdr", "97:24:00,97:27:10", "--drive-id", "G245"),
                      generate(d, "768k.bin", "--family", "nec-optiarc", "--layout", "nec-768k"),
                      generate(d, "p.bin", "--family", "plextor")]
        var valids: [JSONValue] = []
        for img in images {
            if let doc = expectDocument(odflash("fw", "inspect", "--json", img), "fw-inspect.schema.json") { valids.append(doc["valid"] ?? .string("absent")) }
        }
        #expect(valids.contains(.bool(true)) && valids.contains(.null), "\(valids)")
        expectDocument(odflash("fw", "inspect", "--json", "--heuristic", "--all-entries", images[1]), "fw-inspect.schema.json")
        // Unidentified: valid null, exit 0; corrupted: valid false, exit 1.
        try Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31) }).write(to: URL(fileURLWithPath: d + "/unknown.bin"))
        let unknown = expectDocument(odflash("fw", "inspect", "--json", d + "/unknown.bin"), "fw-inspect.schema.json")
        #expect(unknown?["valid"] == .null && unknown?["family"] == .string("unknown"))
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: images[0])))
        bytes[0x1234] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: d + "/bad.bin"))
        let bad = expectDocument(odflash("fw", "inspect", "--json", d + "/bad.bin"), "fw-inspect.schema.json", status: 1)
        #expect(bad?["valid"] == .bool(false))
        // A zip member.
        try Data(storedZip([("fw/s.bin", try [UInt8](Data(contentsOf: URL(fileURLWithPath: images[0])))), ("readme.txt", Array("hi".utf8))]))
            .write(to: URL(fileURLWithPath: d + "/fw.zip"))
        expectDocument(odflash("fw", "inspect", "--json", d + "/fw.zip", "--member", "fw/s.bin"), "fw-inspect.schema.json")
        expectJSONError(odflash("fw", "inspect", "--json", d + "/missing.bin"), status: 2, kind: "input")
    }

    @Test func fwDiffPatchGenerateMembers() throws {
        let d = tempDir()
        let a = generate(d, "a.bin", "--family", "liteon-mediatek", "--seed", "3")
        var img = try [UInt8](Data(contentsOf: URL(fileURLWithPath: a)))
        img[0xD9000 + 13 * 4] = 0b0100_0000
        img.replaceSubrange(0xD900D..<0xD9012, with: Array("TYG03".utf8))
        try Data(img).write(to: URL(fileURLWithPath: d + "/b.bin"))
        let diff = expectDocument(odflash("fw", "diff", "--json", a, d + "/b.bin"), "fw-diff.schema.json", status: 1)
        #expect(diff?["media"]?.array?.isEmpty == false)
        expectDocument(odflash("fw", "diff", "--json", a, a), "fw-diff.schema.json")
        let s = generate(d, "s.bin", "--family", "plextor")
        expectDocument(odflash("fw", "diff", "--json", a, s), "fw-diff.schema.json", status: 1)   // other family, other size
        expectJSONError(odflash("fw", "diff", "--json", a, d + "/missing.bin"), status: 2, kind: "input")

        let syn = generate(d, "syn.bin", "--family", "synthetic-test")
        expectDocument(odflash("fw", "patch", "--json", syn, "--dry-run", "--speed", "MCC-004=8x,16x", "--region-free"), "fw-patch.schema.json")
        expectDocument(odflash("fw", "patch", "--json", syn, "-o", d + "/out.bin", "--rename", "TYG02=CMC MAG. AM3", "--booktype", "dvd+r=dvd-rom"),
                       "fw-patch.schema.json")
        expectJSONError(odflash("fw", "patch", "--json", syn, "-o", d + "/out.bin", "--region-free"), status: 4, kind: "output")   // exists
        expectJSONError(odflash("fw", "patch", "--json", syn, "-o", d + "/x.bin"), status: 2, kind: "usage")   // no operation

        expectDocument(odflash("fw", "generate", "--json", "--family", "synthetic-test", "-o", d + "/g.bin"), "fw-generate.schema.json")
        expectDocument(odflash("fw", "generate", "--json", "--family", "all", "--count", "3", "-o", d + "/many"), "fw-generate.schema.json")
        expectJSONError(odflash("fw", "generate", "--json", "--family", "nope", "-o", d + "/n.bin"), status: 2, kind: "input")
        expectJSONError(odflash("fw", "generate", "--json", "--family", "synthetic-test", "-o", d + "/g.bin"), status: 4, kind: "output")

        try Data(storedZip([("a.bin", [1, 2, 3]), ("dir/b.bin", [])])).write(to: URL(fileURLWithPath: d + "/m.zip"))
        let members = expectDocument(odflash("fw", "members", "--json", d + "/m.zip"), "fw-members.schema.json")
        #expect(members?.array?.count == 2)
        expectJSONError(odflash("fw", "members", "--json", a), status: 2, kind: "input")
    }

    @Test func dbLintAndModels() throws {
        let ok = expectDocument(odflash("db", "lint", "--json"), "db-lint.schema.json")
        #expect(ok?["ok"] == .bool(true))
        let broken = try brokenDB()
        let issues = expectDocument(odflash("db", "lint", "--json", "--db", broken), "db-lint.schema.json", status: 1)
        #expect(issues?["ok"] == .bool(false) && issues?["issues"]?.array?.isEmpty == false)
        expectDocument(odflash("db", "models", "--json"), "db-models.schema.json")
        let all = expectDocument(odflash("db", "models", "--json", "--all"), "db-models.schema.json")
        #expect(all?.array?.contains { $0["supported"] == .bool(false) } == true)
        expectJSONError(odflash("db", "models", "--json", "--db", broken), status: 2, kind: "db")
        expectJSONError(odflash("db", "lint", "--json", "--nonsense"), status: 2, kind: "usage")
    }

    @Test func journal() throws {
        let d = tempDir()
        FileManager.default.createFile(atPath: d + "/empty.jsonl", contents: Data())
        expectDocument(odflash("journal", "--json", "--journal", d + "/empty.jsonl"), "journal.schema.json")
        expectJSONError(odflash("journal", "--json", "--journal", d + "/none.jsonl"), status: 2, kind: "input")
        let j = d + "/j.jsonl"
        let img = generate(d, "s.bin", "--family", "synthetic-test", "--revision", "1.07")
        expectLines(odflash("flash", "--json", "emu:synthetic-writer", img, "--yes", "--backup-dir", d, "--journal", j), "flash", status: 0)
        try (String(contentsOfFile: j, encoding: .utf8)
             + #"{"device":"/dev/sr9","drive":"A B C","event":"committing","family":"nec-optiarc","image":"x.bin","protocolName":"p","sha256":"00","time":"2026-11-25T00:00:00Z"}"# + "\n")
            .write(toFile: j, atomically: true, encoding: .utf8)
        let doc = expectDocument(odflash("journal", "--json", "--journal", j), "journal.schema.json")
        #expect(doc?["entries"]?.array?.count == 4 && doc?["unfinished"]?.array?.count == 1)
        expectJSONError(odflash("journal", "--json", "--last", "0"), status: 2, kind: "usage")
    }

    @Test func flashLines() throws {
        let d = tempDir()
        let img = generate(d, "s.bin", "--family", "synthetic-test", "--revision", "1.02")
        // A dry run: checks, the plan, warnings, the result (with the transcript).
        let dry = expectLines(odflash("flash", "--json", "emu:synthetic-writer", img, "--dry-run"), "flash", status: 0)
        #expect(Set(dry.compactMap { $0["type"]?.string }) == ["check", "plan", "warning", "result"])
        // A real flash: progress lines, never going backwards within a phase (backup read, write), then the result.
        let real = expectLines(odflash("flash", "--json", "emu:synthetic-writer", img, "--yes", "--backup-dir", d), "flash", status: 0)
        let progress = real.filter { $0["type"] == .string("progress") && $0["bytesDone"] != nil }
        #expect(!progress.isEmpty)
        for phase in Set(progress.compactMap { $0["phase"]?.string }) {
            let done = progress.filter { $0["phase"]?.string == phase }.compactMap { $0["bytesDone"] }
            #expect(zip(done, done.dropFirst()).allSatisfy { a, b in if case let .number(x) = a, case let .number(y) = b { return x <= y }; return false }, "\(phase)")
        }
        // Refused: the checks, then the error carrying the report.
        let refused = expectLines(odflash("flash", "--json", "emu:synthetic-writer", generate(d, "same.bin", "--family", "synthetic-test", "--revision", "0.90"), "--dry-run"),
                                  "flash", status: 4)
        #expect(refused.last?["error"]?["report"]?["preflight"]?.array?.isEmpty == false)
        // No --yes with --json: a usage error after the plan.
        expectLines(odflash("flash", "--json", "emu:synthetic-writer", img, "--backup-dir", d), "flash", status: 2)
        // Bad input before anything is sent: one error line.
        let missing = expectLines(odflash("flash", "--json", "emu:synthetic-writer", d + "/missing.bin", "--dry-run"), "flash", status: 2)
        #expect(missing.count == 1)
        expectLines(odflash("flash", "--json", "emu:nope", img, "--dry-run"), "flash", status: 3)
        // Failed after it started (the drive's flash is too small) and not verified (the revision is read elsewhere): exit 5.
        let small = try editedProfile("synthetic-writer", d, [("size: 0x100000", "size: 0x8000"), ("initialImage:", "# initialImage:")], name: "small")
        let fatal = expectLines(odflash("flash", "--json", small, img, "--yes", "--no-backup"), "flash", status: 5)
        #expect(fatal.last?["error"]?["report"]?["outcome"]?["status"] == .string("fatal"))
        let badrev = try editedProfile("synthetic-writer", d, [("revisionOffset: 0x58", "revisionOffset: 0x60")], name: "badrev")
        let unverified = expectLines(odflash("flash", "--json", badrev, img, "--yes", "--backup-dir", d), "flash", status: 5)
        #expect(unverified.last?["error"]?["report"]?["outcome"]?["status"] == .string("unverified"))
        // A NEC drive: identification reads, the backup read, read-back.
        let nec = generate(d, "nec.bin", "--family", "nec-optiarc", "--layout", "nec-2m-opti3", "--size", "1769480", "--drive-id", "G245",
                           "--vendor", "ATAPI", "--product", "iHAS324   Y", "--revision", "BL1Y")
        expectLines(odflash("flash", "--json", "emu:ihas324y", nec, "--dry-run", "--allow-untested"), "flash", status: 0)
    }

    @Test func dumpLines() throws {
        let d = tempDir()
        let ok = expectLines(odflash("dump", "--json", "emu:synthetic-writer", d + "/a.bin"), "dump", status: 0)
        #expect(ok.count > 1 && ok.dropLast().allSatisfy { $0["type"] == .string("progress") })
        #expect(ok.last?["valid"] == .bool(true))
        expectLines(odflash("dump", "--json", "emu:ihas324y", d + "/nec.bin"), "dump", status: 0)
        // An erased flash: the dump is kept, does not validate, exit 1.
        let erased = try editedProfile("synthetic-writer", d, [("initialImage:", "# initialImage:")], name: "erased")
        let bad = expectLines(odflash("dump", "--json", erased, d + "/erased.bin"), "dump", status: 1)
        #expect(bad.last?["type"] == .string("result") && bad.last?["valid"] != .bool(true))
        expectLines(odflash("dump", "--json", "emu:synthetic-writer", d + "/a.bin"), "dump", status: 4)   // exists
        expectLines(odflash("dump", "--json", "emu:px716a", d + "/p.bin"), "dump", status: 4)            // no public read
        let refusing = try editedProfile("ihas124y", d, [("behavior: nec", "behavior: spc")])
        expectLines(odflash("dump", "--json", refusing, d + "/x.bin"), "dump", status: 3)               // the drive refuses the read
        expectLines(odflash("dump", "--json", "emu:synthetic-writer"), "dump", status: 2)                // a missing argument
    }

    /// Errors before any command runs (arguments, setuid) have the same shape.
    @Test func errorsOutsideCommands() {
        expectJSONError(odflash("--json", "nosuchcommand"), status: 2, kind: "usage")
        expectJSONError(odflash("fw", "inspect", "--json", "--no-such-option", "x"), status: 2, kind: "usage")
        var out = ""
        let s = Runner.main(["sense", "--json", "3/11/0"], console: Console(out: { out += $0 }, err: { _ in }), ids: (1000, 0, 1000, 1000))
        expectJSONError(Run(status: s, out: out, err: ""), status: 4, kind: "security")
    }
}
