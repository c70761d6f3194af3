import Foundation
import Testing
@testable import CLI

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
let db = repoRoot + "/firmware-db"

/// A shipped emulator profile with text replaced, written to `dir` (as `name`.yaml, or a unique name): the `emu:PATH`
/// device that opens it, e.g. with a fault the shipped profiles lack.
func editedProfile(_ base: String, _ dir: String, _ edits: [(String, String)], name: String? = nil) throws -> String {
    var text = try String(contentsOfFile: db + "/emulator/\(base).yaml", encoding: .utf8)
    for (a, b) in edits {
        #expect(text.contains(a), "\(base).yaml has no '\(a)'")
        text = text.replacingOccurrences(of: a, with: b)
    }
    let path = dir + "/\(name ?? "\(base)-\(UUID().uuidString)").yaml"
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return "emu:" + path
}

struct Run {
    let status: Int32
    let out: String
    let err: String
    /// The JSON document; for NDJSON output (flash, dump) the last line: the result or the error.
    var json: [String: Any] {
        if let d = (try? JSONSerialization.jsonObject(with: Data(out.utf8))) as? [String: Any] { return d }
        return lines.last ?? [:]
    }
    /// NDJSON lines, each an object (empty when the output is not NDJSON).
    var lines: [[String: Any]] {
        out.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
    }
}

func odflash(_ args: String...) -> Run { odflash(args) }

func odflash(_ args: [String]) -> Run {
    var out = "", err = ""
    let console = Console(out: { out += $0 }, err: { err += $0 })
    console.width = nil   // content checks see whole lines; TerminalTests check the 80-column wrapping
    let status = Runner.main(args.contains("--db") ? args : args + ["--db", db], console: console)
    return Run(status: status, out: out, err: err)
}

/// Bad input must give one error line on stderr (or one JSON object on stdout), a nonzero status, nothing else.
func expectOneLineError(_ r: Run, status: Int32, containing text: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(r.status == status, "status \(r.status): \(r.err)", sourceLocation: sourceLocation)
    #expect(r.out.isEmpty, sourceLocation: sourceLocation)
    #expect(r.err.hasPrefix("odflash: error: "), sourceLocation: sourceLocation)
    #expect(r.err.filter { $0 == "\n" }.count == 1, "\(r.err)", sourceLocation: sourceLocation)
    #expect(r.err.contains(text), "\(r.err)", sourceLocation: sourceLocation)
}

/// `odflash sense CODE...` without options skips the argument parser: its output, errors and exit status must be the
/// parsed command's (`sense -- CODE...` goes through the parser) for every kind of input, with a database, without
/// one, and with a database named by $ODFLASH_DB.
@Suite struct SenseFastPathTests {
    func both(_ codes: [String], env: [String: String]) -> (fast: Run, parsed: Run) {
        func run(_ args: [String]) -> Run {
            var out = "", err = ""
            let console = Console(out: { out += $0 }, err: { err += $0 })
            console.width = 80
            let status = Runner.main(args, console: console, search: DBSearch(environment: env, executable: "/nonexistent/bin/odflash", cwd: "/"))
            return Run(status: status, out: out, err: err)
        }
        return (run(["sense"] + codes), run(["sense", "--"] + codes))
    }

    @Test func sameAsTheParsedCommand() {
        let inputs: [[String]] = [
            ["03/0C/00"], ["5", "30", "05"], ["05/24/00"], ["02/04/07"], ["70 00 02 00 00 00 00 0A 00 00 00 00 04 07 00 80 40 00"],
            ["Sense Key: 0x03 (KEY_MEDIUM_ERROR)\nSense Code: 0x0C\nSense Qual: 0x00"], ["SK=3h/ASC=0Ch/ACQ=00h"],
            ["Reason: Power Calibration Area Error"], ["not a sense code"], ["31 00 00 00 00 00 00 00"], [""], ["help"],
            ["03/0C/00", "extra"], [String(repeating: "7", count: 5000)],
        ]
        for env in [["ODFLASH_DB": db], [:], ["ODFLASH_DB": "/nonexistent/firmware-db"]] {
            for codes in inputs {
                let (f, p) = both(codes, env: env)
                #expect(f.status == p.status && f.out == p.out && f.err == p.err, "\(codes) with \(env): fast \(f.status) \(f.out) \(f.err) / parsed \(p.status) \(p.out) \(p.err)")
            }
        }
        #expect(SenseCommand.fastPath(["sense", "03/0C/00"]) == ["03/0C/00"])
        for args in [["sense"], ["sense", "--json", "x"], ["sense", "-"], ["sense", "x", "-v"], ["sense", "--", "x"], ["info", "x"]] {
            #expect(SenseCommand.fastPath(args) == nil, "\(args)")
        }
    }
}

@Suite struct InfoCommandTests {
    @Test func infoOnTheEmulatedIHAS124Y() {
        let r = odflash("info", "emu:ihas124y-cmc")
        #expect(r.status == 0, "\(r.err)")
        for line in ["Vendor:           ATAPI", "Product:          iHAS124   Y", "Revision:         BL0X",
                     "Serial (VPD 80h): SYNTH124Y0002", "firmware-db:      Lite-On iHAS124 Y -> family nec-optiarc",
                     "Current profile:  0009h CD-R", "Region (RPC):     RPC Phase II: region set, region 2 (mask FDh)",
                     "Medium:           present"] {
            #expect(r.out.contains(line), "missing \(line)\n\(r.out)")
        }
        #expect(!r.out.contains("Not available"))
        #expect(r.out.contains("Emulated drive:   profile 'ihas124y-cmc' [SYNTHETIC]: "))
        #expect(r.err.isEmpty)
    }

    @Test func infoJSON() throws {
        let r = odflash("info", "--json", "emu:ihas124y")
        #expect(r.status == 0)
        let drive = try #require(r.json["drive"] as? [String: Any])
        let inq = try #require(drive["inquiry"] as? [String: Any])
        #expect(inq["vendor"] as? String == "ATAPI")
        #expect(inq["rawProduct"] as? String == "iHAS124   Y     ")
        #expect(drive["medium"] as? String == "no medium (tray closed)")
        let rpc = try #require(drive["rpc"] as? [String: Any])
        #expect(rpc["userChangesLeft"] as? Int == 4)
        let fdb = try #require(r.json["firmwareDB"] as? [String: Any])
        #expect(fdb["family"] as? String == "nec-optiarc")
        #expect((r.json["emulated"] as? [String: Any])?["synthetic"] as? Bool == true)
        #expect(r.err.isEmpty)
    }

    /// A drive a public source names but odflash does not support: known, with the reason and the source.
    @Test func infoOnAKnownButUnsupportedDrive() throws {
        let r = odflash("info", "emu:bdr-209d")
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("firmware-db:      known: PIONEER BD-RW BDR-209D (unsupported: Pioneer BD (Renesas SAT): its public flash sequence is not implemented in odflash yet; identification only); nothing vendor-specific will be sent"), "\(r.out)")
        #expect(r.out.contains("Named by:         superg/redumper @2ab9a423 drive.ixx:222"), "\(r.out)")
        let j = odflash("info", "--json", "emu:bdr-209d")
        let fdb = try #require(j.json["firmwareDB"] as? [String: Any])
        #expect(fdb["support"] as? String == "known-unsupported")
        #expect(fdb["model"] == nil && fdb["family"] as? String == "unknown")
        let known = try #require(fdb["known"] as? [String: Any])
        #expect(known["name"] as? String == "PIONEER BD-RW BDR-209D")
        #expect((known["reason"] as? String)?.hasPrefix("Pioneer BD (Renesas SAT)") == true)
        #expect(known["sources"] as? [String] == ["superg/redumper @2ab9a423 drive.ixx:222"])
        #expect((odflash("info", "--json", "emu:ihas124y").json["firmwareDB"] as? [String: Any])?["support"] as? String == "matched")
    }

    /// Commands that send vendor commands refuse a known-but-unsupported drive, saying why.
    @Test func vendorCommandsRefuseAKnownButUnsupportedDrive() {
        let dir = NSTemporaryDirectory() + "odflash-known-\(UUID().uuidString)"
        expectOneLineError(odflash("dump", "emu:bdr-209d", dir + "/fw.bin"), status: 4,
                           containing: "PIONEER BD-RW BDR-209D is known to firmware-db as PIONEER BD-RW BDR-209D but not supported (Pioneer BD")
        expectOneLineError(odflash("booktype", "emu:bdr-209d"), status: 4, containing: "no known book-type command for this drive: PIONEER BD-RW BDR-209D is known to firmware-db")
    }

    @Test func rpc1DriveReportsNotEnforced() {
        let r = odflash("info", "emu:px716a")
        #expect(r.status == 0)
        #expect(r.out.contains("Region (RPC):     not reported (RPC-I firmware or no region support): REPORT KEY (RPC state): 05/24/00"))
    }

    @Test func verboseEchoesCDBsOnStderr() {
        let r = odflash("info", "-v", "emu:ihas124y")
        #expect(r.status == 0)
        #expect(r.err.contains("-> 12 00 00 00 60 00 (INQUIRY) in 96"))
        #expect(r.err.contains("<- CHECK CONDITION sense 06/29/00"))
        #expect(!r.out.contains("-> 12"))
    }

    @Test func transcriptRecordsAndReplays() throws {
        let dir = NSTemporaryDirectory() + "odflash-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = odflash("info", "emu:ihas124y", "--transcript", dir + "/t.jsonl")
        #expect(a.status == 0)
        let b = odflash("info", "replay:" + dir + "/t.jsonl")
        #expect(b.status == 0)
        // Identical but for the device name and the emulator's own note.
        func body(_ s: String) -> [Substring] { s.split(separator: "\n").filter { !$0.hasPrefix("Device:") && !$0.hasPrefix("Emulated drive:") } }
        #expect(body(a.out) == body(b.out))
        #expect(b.out.contains("Device:           replay:"))
        let text = odflash("info", "emu:ihas124y", "--transcript", dir + "/t.txt")
        #expect(text.status == 0)
        let t = try String(contentsOfFile: dir + "/t.txt", encoding: .utf8)
        #expect(t.hasPrefix("0001  12 00 00 00 60 00  INQUIRY  in 96  -> GOOD  got 96 sha256:"))
        // A transcript is never written through a symlink.
        try FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: dir + "/target")
        let l = odflash("info", "emu:ihas124y", "--transcript", dir + "/link")
        #expect(l.status == 2)
        #expect(!FileManager.default.fileExists(atPath: dir + "/target"))
    }

    @Test(arguments: [
        ("emu:nope", Int32(3), "no emulated drive profile named 'nope'"),
        ("/dev/odflash-none", 3, "/dev/odflash-none: no such device"),
        ("/dev/null", 3, "not a SCSI generic or CD-ROM device"),
        ("odflash-none", 3, "/dev/odflash-none: no such device"),
        ("usb:zz", 3, "USB devices are named usb:BUS:ADDR or usb:VID:PID"),
        ("replay:/nonexistent.jsonl", 2, "cannot read the transcript"),
    ])
    func badDevices(_ device: String, _ status: Int32, _ text: String) {
        expectOneLineError(odflash("info", device), status: status, containing: text)
    }

    @Test func badDeviceAsJSON() throws {
        let r = odflash("info", "--json", "emu:nope")
        #expect(r.status == 3)
        #expect(r.err.isEmpty)
        let e = try #require(r.json["error"] as? [String: Any])
        #expect(e["kind"] as? String == "device")
        #expect((e["message"] as? String)?.contains("nope") == true)
    }

    @Test func replayThatDiverges() throws {
        let dir = NSTemporaryDirectory() + "odflash-div-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "{\"cdb\":\"00 00 00 00 00 00\",\"name\":\"TEST UNIT READY\",\"direction\":\"none\",\"length\":0,\"status\":\"GOOD\",\"statusCode\":0,\"residue\":0,\"seq\":1,\"milliseconds\":0}\n"
            .write(toFile: dir + "/t.jsonl", atomically: true, encoding: .utf8)
        expectOneLineError(odflash("info", "replay:" + dir + "/t.jsonl"), status: 1, containing: "replay diverged at command 1")
    }
}

@Suite struct ScanCommandTests {
    @Test func scanListsEmulatedDrives() throws {
        let r = odflash("scan", "--emulated", "--json", "--sysfs", "/nonexistent")
        #expect(r.status == 0)
        let devices = try #require(r.json["devices"] as? [[String: Any]])
        let emu = devices.filter { $0["transport"] as? String == "emulator" }
        #expect(emu.count >= 3)
        let ihas = try #require(emu.first { $0["device"] as? String == "emu:ihas124y" })
        #expect(ihas["match"] as? String == "Lite-On iHAS124 Y")
        #expect(ihas["revision"] as? String == "BL0X")
        #expect(ihas["support"] as? String == "matched" && ihas["reason"] == nil)
        // A drive the public sources name but odflash does not support: "known", with the reason and where it is named.
        let bdr = try #require(emu.first { $0["device"] as? String == "emu:bdr-209d" })
        #expect(bdr["support"] as? String == "known-unsupported")
        #expect(bdr["match"] as? String == "known: PIONEER BD-RW BDR-209D (unsupported: Pioneer BD (Renesas SAT): its public flash sequence is not implemented in odflash yet; identification only)")
        #expect((bdr["reason"] as? String)?.hasPrefix("Pioneer BD") == true)
        #expect(bdr["sources"] as? [String] == ["superg/redumper @2ab9a423 drive.ixx:222"])
        let text = odflash("scan", "--emulated", "--sysfs", "/nonexistent").out
        #expect(text.contains("emu:bdr-209d") && text.contains("known: PIONEER BD-RW BDR-209D (unsupported: Pioneer BD"), "\(text)")
        // The adversarial test drives are not listed (they stay reachable by name) and no row is an error.
        #expect(!emu.contains { ($0["device"] as? String)?.hasPrefix("emu:adversarial-") == true } && emu.allSatisfy { $0["error"] == nil })
        #expect(odflash("info", "emu:adversarial-truncated").status == 0)
    }

    @Test func scanTextWithNothingFound() {
        let r = odflash("scan", "--sysfs", "/nonexistent")
        #expect(r.status == 0)
        #expect(r.out.contains("No optical drives found") || r.out.contains("DEVICE"))
    }
}

@Suite struct SenseCommandTests {
    @Test func triple() {
        let r = odflash("sense", "03/0C/00")
        #expect(r.status == 0)
        #expect(r.out.hasPrefix("Sense:        03/0C/00\nSense key:    03h Medium Error\nASC/ASCQ:     0Ch/00h Write error\nFor a burner: "))
        #expect(r.out.contains("odflash media DEVICE --check"))
        // No advice for a code that is not about writing.
        #expect(!odflash("sense", "05/24/00").out.contains("For a burner"))
    }

    @Test func separateWords() {
        let r = odflash("sense", "5", "30", "05")
        #expect(r.out.contains("Cannot write medium - incompatible format"))
    }

    @Test func neroLogText() throws {
        let r = odflash("sense", "--json", "Sense Key: 0x03 (KEY_MEDIUM_ERROR)\nSense Code: 0x0C\nSense Qual: 0x00")
        #expect(r.status == 0)
        #expect(r.json["keyName"] as? String == "Medium Error")
        #expect(r.json["description"] as? String == "Write error")
        #expect(r.json["source"] as? String == "log")
    }

    @Test func rawBytesShowFields() {
        let r = odflash("sense", "70 00 02 00 00 00 00 0A 00 00 00 00 04 07 00 80 40 00")
        #expect(r.out.contains("Not Ready"))
        #expect(r.out.contains("Progress:     25.0%"))
    }

    @Test func garbageIsAUsageError() {
        expectOneLineError(odflash("sense", "not a sense code"), status: 2, containing: "cannot read a sense code")
        expectOneLineError(odflash("sense", "31 00 00 00 00 00 00 00"), status: 2, containing: "unknown sense data format")
    }
}

@Suite struct UsageTests {
    @Test func missingArgument() {
        expectOneLineError(odflash("info"), status: 2, containing: "Missing expected argument")
    }

    @Test func unknownCommand() {
        var out = "", err = ""
        let status = Runner.main(["frobnicate"], console: Console(out: { out += $0 }, err: { err += $0 }))
        expectOneLineError(Run(status: status, out: out, err: err), status: 2, containing: "Unexpected argument 'frobnicate'")
    }

    @Test func usageErrorAsJSON() throws {
        let r = odflash("info", "--json")
        #expect(r.status == 2)
        #expect(r.err.isEmpty)
        #expect((r.json["error"] as? [String: Any])?["kind"] as? String == "usage")
    }

    @Test func helpAndVersion() {
        #expect(odflash("--help").out.contains("USAGE"))
        #expect(odflash("--version").out.hasPrefix("odflash 0."))
    }
}

@Suite struct DBCommandTests {
    @Test func lintClean() {
        let r = odflash("db", "lint")
        #expect(r.status == 0)
        #expect(r.out.contains("OK"))
        #expect(r.out.contains("645 drives named by 7 public sources"), "\(r.out)")
    }

    /// A drives-table row without a reason: db lint names file and line; other commands refuse the db.
    @Test func lintBrokenDrivesTable() throws {
        let dir = NSTemporaryDirectory() + "odflash-brokendrives-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.copyItem(atPath: db, toPath: dir)
        let path = dir + "/drives/redumper-drive-database.tsv"
        var text = try String(contentsOfFile: path, encoding: .utf8)
        text = text.replacingOccurrences(of: "PLEXTOR\tDVDR PX-740A\tPLEXTOR DVDR PX-740A\t-\tredumper lists it for reading only (read offset +618); no flash sequence for it in odflash's public sources",
                                         with: "PLEXTOR\tDVDR PX-740A\tPLEXTOR DVDR PX-740A\t-\t-")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let r = odflash("db", "lint", "--db", dir)
        #expect(r.status == 1)
        #expect(r.out.contains("redumper-drive-database.tsv:") && r.out.contains("'PLEXTOR DVDR PX-740A' is unsupported (model '-') but gives no reason"), "\(r.out)")
        expectOneLineError(odflash("info", "emu:ihas124y", "--db", dir), status: 2, containing: "gives no reason")
    }

    @Test func lintBroken() throws {
        let dir = NSTemporaryDirectory() + "odflash-brokendb-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.copyItem(atPath: db + "/families", toPath: dir + "/families")
        try FileManager.default.copyItem(atPath: db + "/idtables", toPath: dir + "/idtables")
        try FileManager.default.copyItem(atPath: db + "/media", toPath: dir + "/media")
        try "schema: 1\nprovenance: x\nmodels:\n  - {id: m, name: M, vendor: V, product: P, family: nec-optiarc}\n"
            .write(toFile: dir + "/models.yaml", atomically: true, encoding: .utf8)
        var out = "", err = ""
        let status = Runner.main(["db", "lint", "--db", dir], console: Console(out: { out += $0 }, err: { err += $0 }))
        #expect(status == 1)
        #expect(out.contains("missing 'provenance'"))
        // Every other command refuses to run on a broken db, naming the problem.
        var e2 = ""
        let s2 = Runner.main(["info", "emu:ihas124y", "--db", dir], console: Console(out: { _ in }, err: { e2 += $0 }))
        #expect(s2 == 2, "a broken firmware-db is bad input (README's exit table)")
        #expect(e2.contains("missing 'provenance'"))
    }

    @Test func models() throws {
        let r = odflash("db", "models")
        #expect(r.out.contains("Lite-On iHAS124 Y"))
        // The names `flash --protocol` takes, per family, in the order they are tried.
        #expect(r.out.contains("spc-microcode    spc-0e; spc-07; spc-05"), "\(r.out)")
        let j = odflash("db", "models", "--json")
        let rows = (try? JSONSerialization.jsonObject(with: Data(j.out.utf8))) as? [[String: Any]] ?? []
        let spc = rows.first { $0["family"] as? String == "spc-microcode" }
        #expect(spc?["flashSequences"] as? [String] == ["spc-0e", "spc-07", "spc-05"])
        // Without --all: the models only, each with the public sources that name it, and a pointer to the rest.
        #expect(rows.count == 83 && rows.allSatisfy { $0["supported"] as? Bool == true })
        #expect(r.out.contains("452 more drives named by 7 public sources are known but not supported: 'odflash db models --all' lists them"), "\(r.out)")
        let ihas = try #require(rows.first { $0["id"] as? String == "liteon-ihas124-y" })
        let sources = ihas["sources"] as? [[String: Any]] ?? []
        #expect(sources.contains { $0["table"] as? String == "binflash" && $0["source"] as? String == "necinterface.cpp:791" && $0["provenance"] as? String == "Liggy/binflash @5cfb5432 necinterface.cpp:791" })
    }

    @Test func modelsAll() throws {
        let r = odflash("db", "models", "--all")
        #expect(r.status == 0)
        #expect(r.out.contains("Drives the public sources name (firmware-db/drives): 645, 193 matched to a model, 452 known but not supported."), "\(r.out)")
        #expect(r.out.contains("binflash (Liggy/binflash @5cfb5432): 274 drives, 37 matched, 237 unsupported"))
        for line in ["NEC 3550A", "NEC drive ID K315 or K355, read from drive RAM", "necinternal.cpp:729-730", "model nec-nd-355x",
                     "unsupported: NEC 640K class: its bank checksum algorithm is not public"] {
            #expect(r.out.contains(line), "missing \(line)")
        }
        let j = odflash("db", "models", "--all", "--json")
        let rows = try #require((try? JSONSerialization.jsonObject(with: Data(j.out.utf8))) as? [[String: Any]])
        #expect(rows.count == 83 + 452)
        let px740 = try #require(rows.first { $0["name"] as? String == "PLEXTOR DVDR PX-740A" })
        #expect(px740["supported"] as? Bool == false && px740["family"] == nil && px740["id"] == nil)
        #expect((px740["reason"] as? String)?.hasPrefix("redumper lists it for reading only") == true)
        #expect(px740["provenance"] as? String == "superg/redumper @2ab9a423 drive.ixx:227")
        let k12d = try #require(rows.first { $0["name"] as? String == "Pioneer DVR-K12D" })
        #expect(k12d["identifiedBy"] as? String == "DVR generation 53 in the drive's READ BUFFER F1h answer")
    }
}
