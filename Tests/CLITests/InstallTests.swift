import FirmwareDB
import Foundation
import Operations
import Testing
@testable import CLI

// odflash as an installed tool (issue 19): --version, no firmware-db, two identical drives (serial, location,
// serial:SERIAL), the journal's place and its absolute paths, 80-column text, -v levels, info --hex/--raw.
// scripts/install-check covers the installed and packaged binary itself.

/// Runs odflash as a binary at `executable` would run from `cwd` (no --db added, no $ODFLASH_DB).
func odflashInstalled(_ args: [String], executable: String = "/nonexistent/bin/odflash", cwd: String = "/nonexistent",
                      env: [String: String] = [:]) -> Run {
    var out = "", err = ""
    let console = Console(out: { out += $0 }, err: { err += $0 })
    let status = Runner.main(args, console: console, search: DBSearch(environment: env, executable: executable, cwd: cwd))
    return Run(status: status, out: out, err: err)
}

@Suite struct VersionTests {
    @Test func versionNamesTheBuildAndTheDatabase() throws {
        let r = odflash("--version")
        #expect(r.status == 0 && r.err.isEmpty)
        let lines = r.out.split(separator: "\n").map(String.init)
        #expect(lines.first == "odflash \(BuildInfo.version)")
        #expect(lines.contains("Commit:              \(BuildStamp.commit == "unknown" ? "unknown (a development build: scripts/install records it)" : BuildStamp.commit)"), "\(r.out)")
        #expect(lines.contains("firmware-db:         \(db)"), "\(r.out)")
        let v = try String(contentsOfFile: db + "/VERSION", encoding: .utf8)
        let version = try #require(v.split(separator: "\n").first { $0.hasPrefix("version: ") }).dropFirst(9)
        #expect(lines.contains { $0.hasPrefix("firmware-db version: \(version) (") }, "\(r.out)")
        let j = try #require(expectDocument(odflash("--version", "--json"), "version.schema.json"))
        #expect(j["firmwareDB"]?["path"] == .string(db) && j["version"] == .string(BuildInfo.version))
        #expect(j["searched"] == nil)   // --db named it
    }

    @Test func versionWithoutADatabaseSaysWhereItLooked() throws {
        let r = odflashInstalled(["--version", "--json"], executable: "/opt/x/bin/odflash", cwd: "/nonexistent/here")
        let j = try #require(expectDocument(r, "version.schema.json"))
        #expect(j["firmwareDB"] == nil)
        #expect(j["searched"]?.array?.first == .string("/opt/x/share/odflash/firmware-db"))
        #expect(j["searched"]?.array?.contains(.string("/nonexistent/here/firmware-db")) == true)
        let t = odflashInstalled(["--version"], executable: "/opt/x/bin/odflash")
        // Fitted to 80 columns: the places continue under the value.
        let joined = t.out.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        #expect(joined.contains("firmware-db: not found (searched /opt/x/share/odflash/firmware-db, "), "\(t.out)")
        #expect(t.out.split(separator: "\n").allSatisfy { $0.count <= 80 }, "\(t.out)")
        // An installed layout: PREFIX/bin/odflash finds PREFIX/share/odflash/firmware-db.
        let prefix = tempDir()
        try FileManager.default.createDirectory(atPath: prefix + "/share/odflash", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: prefix + "/share/odflash/firmware-db", withDestinationPath: db)
        let i = odflashInstalled(["--version", "--json"], executable: prefix + "/bin/odflash")
        #expect(i.json["firmwareDB"].flatMap { ($0 as? [String: Any])?["path"] as? String } == prefix + "/share/odflash/firmware-db", "\(i.out)")
    }
}

@Suite struct WithoutFirmwareDBTests {
    @Test func scanInfoAndSenseWorkAndSaySoOnce() throws {
        let s = odflashInstalled(["scan", "--sysfs", "/nonexistent"])
        #expect(s.status == 0, "\(s.err)")
        #expect(s.err.hasPrefix("note: firmware-db not found (searched /nonexistent/share/odflash/firmware-db, ")
                && s.err.filter { $0 == "\n" }.count == 1, "\(s.err)")
        let sj = odflashInstalled(["scan", "--json", "--sysfs", "/nonexistent", "--emulated"])
        let doc = try #require(expectDocument(sj, "scan.schema.json"))
        #expect(doc["notes"]?.array?.contains { $0.string?.hasPrefix("firmware-db not found") == true } == true)
        #expect(doc["notes"]?.array?.contains { $0.string?.hasPrefix("no emulated drives") == true } == true)

        // info on a drive (a recorded one): what it answers, the firmware-db line empty.
        let d = tempDir()
        #expect(odflash("info", "emu:ihas124y-cmc", "--transcript", d + "/t.jsonl").status == 0)
        let i = odflashInstalled(["info", "replay:" + d + "/t.jsonl"])
        #expect(i.status == 0, "\(i.err)")
        #expect(i.out.contains("Serial (VPD 80h): SYNTH124Y0002\nfirmware-db:      \n"), "\(i.out)")
        #expect(i.err.hasPrefix("note: firmware-db not found") && i.err.filter { $0 == "\n" }.count == 1, "\(i.err)")
        let ij = try #require(expectDocument(odflashInstalled(["info", "--json", "replay:" + d + "/t.jsonl"]), "info.schema.json"))
        #expect(ij["firmwareDB"] == nil)

        let se = odflashInstalled(["sense", "03/0C/00"])
        #expect(se.status == 0 && se.out.contains("ASC/ASCQ:  0Ch/00h Write error"), "\(se.out)")
        #expect(se.err.filter { $0 == "\n" }.count == 1)
    }

    @Test func commandsThatNeedItListEveryPlaceSearched() {
        let r = odflashInstalled(["db", "models"], executable: "/opt/x/bin/odflash", cwd: "/nonexistent/here")
        let places = FirmwareDBSearchPlaces.of("/opt/x/bin/odflash", cwd: "/nonexistent/here")
        #expect(places.count >= 4)
        expectOneLineError(r, status: 2, containing: "firmware-db not found (searched \(places.joined(separator: ", "))): pass --db PATH or set ODFLASH_DB")
        // One named by --db or $ODFLASH_DB must exist: no quiet fallback.
        expectOneLineError(odflashInstalled(["scan", "--db", "/nonexistent/db"]), status: 2, containing: "/nonexistent/db")
        expectOneLineError(odflashInstalled(["scan"], env: ["ODFLASH_DB": "/nonexistent/db"]), status: 2, containing: "/nonexistent/db")
    }
}

/// DBSearch.places, spelled for the test.
enum FirmwareDBSearchPlaces {
    static func of(_ exe: String, cwd: String) -> [String] { DBSearch(environment: [:], executable: exe, cwd: cwd).places }
}

@Suite struct TwoIdenticalDrivesTests {
    @Test func scanShowsSerialAndLocation() throws {
        let r = odflash("scan", "--emulated", "--json", "--sysfs", "/nonexistent")
        let doc = try #require(expectDocument(r, "scan.schema.json"))
        let rows = try #require(doc["devices"]?.array)
        let serials = rows.compactMap { row -> (String, String)? in
            guard let d = row["device"]?.string, let s = row["serial"]?.string else { return nil }
            return (d, s)
        }
        let ihas = serials.filter { $0.0.hasPrefix("emu:ihas124y") }
        #expect(ihas.count == 3 && Set(ihas.map(\.1)).count == 3, "\(ihas)")
        #expect(Set(serials.map(\.1)).count == serials.count, "two emulated drives share a serial: \(serials)")
        #expect(rows.allSatisfy { $0["location"] == .string("emulated") })
        let text = odflash80("scan", "--emulated", "--sysfs", "/nonexistent").out
        #expect(text.hasPrefix("DEVICE "), "\(text)")
        for (d, s) in ihas {
            #expect(text.split(separator: "\n").contains { $0.hasPrefix(d + " ") && $0.contains(" " + s + " ") }, "\(d) \(s)\n\(text)")
        }
    }

    @Test func sysfsLocation() throws {
        // A fake sysfs: an sg node of a drive at 3:0:1:0 behind USB device 2-1.4.
        let root = tempDir()
        let usbDev = root + "/devices/pci0000:00/usb2/2-1/2-1.4"
        let dev = usbDev + "/2-1.4:1.0/host3/target3:0:1/3:0:1:0"
        try FileManager.default.createDirectory(atPath: dev, withIntermediateDirectories: true)
        for (f, v) in [("type", "5"), ("vendor", "ATAPI"), ("model", "iHAS124   Y"), ("rev", "BL0X")] { try v.write(toFile: dev + "/" + f, atomically: true, encoding: .utf8) }
        try "2".write(toFile: usbDev + "/busnum", atomically: true, encoding: .utf8)
        try "7".write(toFile: usbDev + "/devnum", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: root + "/class/scsi_generic/sg4", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root + "/class/scsi_generic/sg4/device", withDestinationPath: dev)
        let r = odflash("scan", "--json", "--sysfs", root)
        let doc = try #require(expectDocument(r, "scan.schema.json"))
        let row = try #require(doc["devices"]?.array?.first { $0["device"] == .string("/dev/sg4") })
        #expect(row["location"] == .string("scsi 3:0:1:0, usb 2-1.4"), "\(row)")
        #expect(row["alsoAs"]?.array?.contains(.string("usb:2:7")) == true)
    }

    @Test func aSerialNamesTheDrive() throws {
        let r = odflash("info", "serial:SYNTH124Y0002")
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.hasPrefix("Device:           emu:ihas124y-cmc (emulator)\n"), "\(r.out)")
        #expect(odflash("info", "serial:synth124y0003").out.hasPrefix("Device:           emu:ihas124y-ricoh-dvdr "))
        expectOneLineError(odflash("info", "serial:NOSUCHSERIAL"), status: 3, containing: "no drive reports serial NOSUCHSERIAL")
        expectOneLineError(odflash("info", "serial:"), status: 2, containing: "serial: needs the drive's serial number")
        // Two drives reporting one serial: neither is chosen.
        let copy = tempDir() + "/db"
        try FileManager.default.copyItem(atPath: db, toPath: copy)
        try FileManager.default.copyItem(atPath: copy + "/emulator/ihas124y.yaml", toPath: copy + "/emulator/ihas124y-twin.yaml")
        let text = try String(contentsOfFile: copy + "/emulator/ihas124y-twin.yaml", encoding: .utf8)
        try text.replacingOccurrences(of: "name: ihas124y\n", with: "name: ihas124y-twin\n").write(toFile: copy + "/emulator/ihas124y-twin.yaml", atomically: true, encoding: .utf8)
        expectOneLineError(odflash("info", "serial:SYNTH124Y0001", "--db", copy), status: 3,
                           containing: "serial:SYNTH124Y0001 is reported by 2 drives (emu:ihas124y, emu:ihas124y-twin): name one by its device")
    }

    @Test func flashDumpBackupAndJournalCarryTheSerial() throws {
        let d = tempDir()
        let img = d + "/new.bin"
        #expect(odflash("fw", "generate", "--family", "nec-optiarc", "--layout", "nec-2m-opti3", "--size", "1769480", "--drive-id", "G245",
                        "--vendor", "ATAPI", "--product", "iHAS324   Y", "--revision", "BL1Y", "-o", img).status == 0)
        // The dry run: the serial in its report and above its transcript.
        let dry = odflash("flash", "serial:SYNTH324Y0001", img, "--allow-untested", "--dry-run")
        #expect(dry.status == 0, "\(dry.err)\(dry.out.suffix(800))")
        #expect(dry.out.hasPrefix("Preflight:\n") && dry.out.contains("\nDrive:       ATAPI iHAS324   Y BL1X, serial SYNTH324Y0001\n"), "\(dry.out.prefix(1500))")
        #expect(dry.out.contains("Transcript (emu:ihas324y, serial SYNTH324Y0001):\n"))
        let dryJSON = expectLines(odflash("flash", "serial:SYNTH324Y0001", img, "--allow-untested", "--dry-run", "--json"), "flash", status: 0)
        #expect(dryJSON.last?["serial"] == .string("SYNTH324Y0001"))
        // The flash, from another folder with relative names: the backup is named by the serial, the journal has absolute paths.
        let cwd = FileManager.default.currentDirectoryPath
        let r = odflash("flash", "serial:SYNTH324Y0001", img, "--allow-untested", "--yes", "--journal", d + "/j.jsonl", "--backup-dir", d)
        #expect(r.status == 0, "\(r.err)")
        let backups = try FileManager.default.contentsOfDirectory(atPath: d).filter { $0.hasPrefix("backup-") }
        // backup-VENDOR-PRODUCT-REVISION-SERIAL-TIME-PID.bin
        #expect(backups.count == 1 && backups[0].hasPrefix("backup-ATAPI-iHAS324___Y-BL1X-SYNTH324Y0001-"), "\(backups)")
        let entries = FlashJournal(path: d + "/j.jsonl").read()
        #expect(entries.count == 4 && entries.allSatisfy { $0.serial == "SYNTH324Y0001" && $0.image == img && $0.device == "emu:ihas324y" })
        #expect(entries.first?.detail == "backup \(d)/\(backups.first ?? "?")")
        #expect(FileManager.default.currentDirectoryPath == cwd)
        let show = odflash("journal", "--json", "--journal", d + "/j.jsonl")
        expectDocument(show, "journal.schema.json")
        // dump: the serial in its report.
        let dump = expectLines(odflash("dump", "serial:SYNTH324Y0001", d + "/dump.bin", "--json"), "dump", status: 0)
        #expect(dump.last?["serial"] == .string("SYNTH324Y0001"))
    }

    @Test func relativePathsInTheJournalBecomeAbsolute() {
        #expect(FlashJournal.absolute("/a/b.bin") == "/a/b.bin")
        #expect(FlashJournal.absolute("b.bin") == FileManager.default.currentDirectoryPath + "/b.bin")
        #expect(FlashJournal.absolute("./x/../b.bin") == FileManager.default.currentDirectoryPath + "/b.bin")
    }
}

@Suite struct JournalPlaceTests {
    @Test func userRootAndOverride() {
        #expect(FlashJournal.defaultPath(["HOME": "/home/u"], euid: 1000) == "/home/u/.local/state/odflash/journal.jsonl")
        #expect(FlashJournal.defaultPath(["HOME": "/home/u", "XDG_STATE_HOME": "/home/u/st"], euid: 1000) == "/home/u/st/odflash/journal.jsonl")
        // A relative XDG_STATE_HOME is invalid (XDG base directory spec): ignored.
        #expect(FlashJournal.defaultPath(["HOME": "/home/u", "XDG_STATE_HOME": "st"], euid: 1000) == "/home/u/.local/state/odflash/journal.jsonl")
        // Root, also under sudo (HOME and XDG_STATE_HOME of the invoking user kept): the system's journal.
        #expect(FlashJournal.defaultPath(["HOME": "/home/u", "XDG_STATE_HOME": "/home/u/st", "SUDO_USER": "u"], euid: 0) == "/var/lib/odflash/journal.jsonl")
        #expect(FlashJournal.defaultPath(["ODFLASH_JOURNAL": "/tmp/j.jsonl"], euid: 0) == "/tmp/j.jsonl")
    }
}

/// odflash with the width of a terminal's 80 columns (the odflash() helper leaves lines whole).
func odflash80(_ args: String...) -> Run {
    var out = "", err = ""
    let console = Console(out: { out += $0 }, err: { err += $0 })
    #expect(console.width == 80)
    let status = Runner.main(args + ["--db", db], console: console)
    return Run(status: status, out: out, err: err)
}

@Suite struct TerminalTests {
    /// Every line of a text output within 80 columns, and no escape sequences.
    func expectFits(_ r: Run, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!r.out.isEmpty, "\(what): no output (\(r.err))", sourceLocation: sourceLocation)
        // A command to paste ("  $ odflash ...") stays on one line: the one exception.
        for line in r.out.split(separator: "\n") where line.count > 80 && !line.drop(while: { $0 == " " }).hasPrefix("$ ") {
            Issue.record("\(what): \(line.count) columns: \(line)", sourceLocation: sourceLocation)
        }
        #expect(!r.out.contains("\u{1B}") && !r.err.contains("\u{1B}"), "\(what): an escape sequence", sourceLocation: sourceLocation)
    }

    @Test func textFitsEightyColumns() throws {
        expectFits(odflash80("scan", "--emulated", "--sysfs", "/nonexistent"), "scan")
        let profiles = try FileManager.default.contentsOfDirectory(atPath: db + "/emulator").filter { $0.hasSuffix(".yaml") && !$0.hasPrefix("adversarial") }
        #expect(profiles.count >= 10)
        for p in profiles.sorted() {
            let name = String(p.dropLast(5))
            expectFits(odflash80("info", "emu:" + name), "info emu:\(name)")
        }
        expectFits(odflash80("media", "emu:ihas124y-cmc"), "media")
        expectFits(odflash80("db", "models"), "db models")
        expectFits(odflash80("db", "models", "--all"), "db models --all")
        let d = tempDir()
        // One image per layout (the layouts cycled through, as scripts/generate-images makes them).
        let layouts = try FirmwareDatabase.load(root: db).layouts.count
        let g = odflash("fw", "generate", "--family", "all", "--count", "\(layouts)", "-o", d + "/all")
        #expect(g.status == 0, "\(g.err)")
        let images = try FileManager.default.contentsOfDirectory(atPath: d + "/all")
        #expect(images.count == layouts && layouts >= 10)
        for i in images.sorted() {
            expectFits(odflash80("fw", "inspect", d + "/all/" + i), "fw inspect \(i)")
            expectFits(odflash80("fw", "inspect", d + "/all/" + i, "--all-entries"), "fw inspect --all-entries \(i)")
        }
        expectFits(odflash80("media", "search", "MCC-004", d + "/all"), "media search")
        // Flash (preflight, plan, the dry run's transcript and result), dump, fw diff/patch, db lint.
        #expect(odflash("fw", "generate", "--family", "synthetic-test", "-o", d + "/s.bin").status == 0)
        expectFits(odflash80("flash", "emu:synthetic-writer", d + "/s.bin", "--dry-run", "--backup-dir", d), "flash --dry-run")
        let refused = odflash80("flash", "emu:ihas124y", d + "/s.bin", "--dry-run")
        #expect(refused.status == 4)
        expectFits(refused, "a refused flash's preflight")
        expectFits(odflash80("dump", "emu:synthetic-writer", d + "/dump.bin"), "dump")
        expectFits(odflash80("fw", "patch", d + "/s.bin", "-o", d + "/p.bin", "--rename", "97:24:00=97:26:66"), "fw patch")
        expectFits(odflash80("fw", "diff", d + "/s.bin", d + "/p.bin"), "fw diff")
        expectFits(odflash80("db", "lint"), "db lint")
        expectFits(odflash80("sense", "03/0C/00"), "sense")
        // Unwrapped (the content tests' helper), the same scan is wider: the wrapping is what makes it fit.
        #expect(odflash("scan", "--emulated", "--sysfs", "/nonexistent").out.split(separator: "\n").contains { $0.count > 80 })
    }

    @Test func longWordsBreakAtTheirPunctuation() {
        // A speed list breaks after a comma, a path after a slash; a hash beside a deep label gets a shallower indent.
        #expect(TextWrap.lines("2.4x,4x,8x,12x,16x", width: 16) == ["2.4x,4x,8x,12x,", "16x"])
        #expect(TextWrap.lines("/tmp/some/deep/folder/file.bin", width: 12).first == "/tmp/some/")
        let sha = String(repeating: "ab", count: 32)
        let wrapped = TextWrap.fit("wrote /tmp/some/folder/image.bin: SYNTHETIC image, sha256 " + sha, width: 80)
        #expect(wrapped.split(separator: "\n").contains { $0.hasSuffix(sha) } && wrapped.split(separator: "\n").allSatisfy { $0.count <= 80 }, "\(wrapped)")
        // A command to paste is never broken.
        let cmd = "  $ odflash fw patch drive-firmware.bin -o patched.bin --rename '97:24:00=97:26:66' --speed X"
        #expect(TextWrap.fit(cmd, width: 80) == cmd)
    }

    @Test func tablesWrapTheirCells() {
        let t = TextTable.render(["A", "B"], [["x", String(repeating: "word ", count: 30)]], width: 40)
        let lines = t.split(separator: "\n")
        #expect(lines.allSatisfy { $0.count <= 40 } && lines.count > 3, "\(t)")
        #expect(lines[1].hasPrefix("x  word") && lines[2].hasPrefix("   word"), "\(t)")
        // A cell with lines of its own keeps them; a newline inside a one-line cell (a file name) stays escaped.
        #expect(TextTable.render(["A", "B"], lines: [[["a", "b"], ["c"]]], width: 80) == "A  B\na  c\nb\n")
        #expect(TextTable.render(["A", "B"], [["a\nb", "c"]], width: 80).split(separator: "\n").count == 2)
        #expect(TextWrap.fit("Key:   " + String(repeating: "abc ", count: 30), width: 40).split(separator: "\n").allSatisfy { $0.count <= 40 })
    }

    @Test func helpIsWrappedByTheLibrary() {
        let commands = [[], ["scan"], ["info"], ["flash"], ["dump"], ["sense"], ["booktype"], ["region"], ["journal"], ["media"],
                        ["media", "search"], ["fw", "inspect"], ["fw", "patch"], ["fw", "diff"], ["fw", "generate"], ["fw", "members"],
                        ["db", "lint"], ["db", "models"]]
        for cmd in commands {
            var out = "", err = ""
            let status = Runner.main(cmd + ["--help"], console: Console(out: { out += $0 }, err: { err += $0 }))
            let r = Run(status: status, out: out, err: err)
            #expect(r.status == 0)
            // The library wraps the help; the USAGE synopsis, which it prints whole, is broken between its elements.
            for line in r.out.split(separator: "\n") where line.count > 80 { Issue.record("\(cmd) --help: \(line.count) columns: \(line)") }
            let usage = r.out.split(separator: "\n", omittingEmptySubsequences: false).drop { !$0.hasPrefix("USAGE: ") }.prefix { !$0.isEmpty }
            #expect(!usage.isEmpty, "\(cmd): no USAGE")
            // Nothing lost: the synopsis words, joined again, are the library's one line.
            #expect(usage.map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ").hasPrefix("USAGE: odflash " + cmd.joined(separator: " ")))
            #expect(!usage.contains { $0.contains("[--db") && !$0.contains("[--db <db>]") }, "an element split: \(usage)")
        }
        // The library's own line for booktype is wider than 80: the break is ours, between elements.
        #expect(HelpText.fit("USAGE: odflash x " + String(repeating: "[--opt <value>] ", count: 8), width: 40).split(separator: "\n").allSatisfy { $0.count <= 40 })
    }

    @Test func verbosityLevels() {
        let v = odflash("info", "emu:ihas124y", "-v")
        #expect(v.status == 0 && v.err.contains("(INQUIRY)") && !v.err.contains(" 00     05 80"), "\(v.err.prefix(400))")
        let vv = odflash("info", "emu:ihas124y", "-vv")
        // The INQUIRY answer in hex: peripheral type 05h, removable, then "ATAPI   ".
        #expect(vv.status == 0 && vv.err.contains("   00     05 80 "), "\(vv.err.prefix(600))")
        #expect(vv.err.contains("....[...ATAPI   \n"))
        #expect(odflash("info", "emu:ihas124y", "-vvv").err.count >= vv.err.count)
    }

    @Test func infoHexAndRaw() throws {
        let h = odflash("info", "emu:ihas124y", "--hex")
        #expect(h.status == 0)
        #expect(h.out.contains("Answers (hex):\nINQUIRY [12 00 00 00 60 00]: 96 bytes\n 00     05 80 "), "\(h.out.suffix(1500))")
        var bytes: [UInt8] = []
        let console = Console(out: { _ in Issue.record("text with --raw") }, err: { _ in })
        console.outBytes = { bytes += $0 }
        #expect(Runner.main(["info", "emu:ihas124y", "--raw", "--db", db], console: console) == 0)
        #expect(bytes.count > 96 && Array(bytes[8..<16]) == Array("ATAPI   ".utf8))
        expectOneLineError(odflash("info", "emu:ihas124y", "--raw", "--hex"), status: 2, containing: "--raw writes only the drive's answers")
        expectJSONError(odflash("info", "emu:ihas124y", "--hex", "--json"), status: 2, kind: "usage")
    }
}
