import Foundation
import Testing
@testable import FirmwareDB
import Firmware

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// A db in a temp folder: the given family files (id -> text), models and the real id tables.
func tempDB(families: [String: String]? = nil, models: String? = nil, idtables: Bool? = nil) throws -> String {
    let fm = FileManager.default
    let root = NSTemporaryDirectory() + "odflash-db-\(UUID().uuidString)"
    try fm.createDirectory(atPath: root + "/families", withIntermediateDirectories: true)
    if idtables ?? (families == nil) { try fm.copyItem(atPath: repoRoot + "/firmware-db/idtables", toPath: root + "/idtables") }
    try fm.copyItem(atPath: repoRoot + "/firmware-db/media", toPath: root + "/media")
    try fm.copyItem(atPath: repoRoot + "/firmware-db/VERSION", toPath: root + "/VERSION")
    if let fams = families {
        for (id, text) in fams { try text.write(toFile: root + "/families/\(id).yaml", atomically: true, encoding: .utf8) }
    } else {
        for f in try fm.contentsOfDirectory(atPath: repoRoot + "/firmware-db/families") {
            try fm.copyItem(atPath: repoRoot + "/firmware-db/families/" + f, toPath: root + "/families/" + f)
        }
    }
    let mod = try models ?? String(contentsOfFile: repoRoot + "/firmware-db/models.yaml", encoding: .utf8)
    try mod.write(toFile: root + "/models.yaml", atomically: true, encoding: .utf8)
    return root
}

let oneFamilyText = """
schema: 1
id: fam
name: "A family"
provenance: "a test"
"""
let oneFamily = ["fam": oneFamilyText]

func models(_ body: String) -> String { "schema: 1\nprovenance: \"test\"\nmodels:\n" + body }

@Suite struct DatabaseTests {
    @Test func shippedDatabaseIsClean() throws {
        let root = repoRoot + "/firmware-db"
        #expect(FirmwareDatabase.lint(root: root).isEmpty)
        let db = try FirmwareDatabase.load(root: root)
        #expect(db.families.contains { $0.id == "nec-optiarc" })
        #expect(db.family("unknown") != nil)
        #expect(db.models.allSatisfy { !$0.provenance.isEmpty })
    }

    @Test func matchesIHAS124Y() throws {
        let db = try FirmwareDatabase.load(root: repoRoot + "/firmware-db")
        let m = try #require(db.match(vendor: "ATAPI", product: "iHAS124   Y", revision: "BL0X"))
        #expect(m.id == "liteon-ihas124-y" && m.family == "nec-optiarc")
        #expect(db.match(vendor: "ATAPI", product: "iHAS124   B", revision: "AL0S") == nil)
        #expect(db.match(vendor: "HL-DT-ST", product: "BD-RE  BH16NS40", revision: "1.05")?.id == "lg-bh16ns40")
        #expect(db.match(vendor: "QEMU", product: "QEMU CD-ROM", revision: "2.5+") == nil)
    }

    @Test func globbing() {
        #expect(Glob.match("*BH16NS40*", "BD-RE  BH16NS40"))
        #expect(Glob.match("iHAS?24   Y", "iHAS124   Y"))
        #expect(!Glob.match("iHAS124", "iHAS124   Y"))
        #expect(Glob.match("*", ""))
        #expect(Glob.match("plextor", "PLEXTOR"))
    }

    func lint(families: [String: String] = oneFamily, _ modelsYAML: String) throws -> [String] {
        let root = try tempDB(families: families, models: modelsYAML)
        defer { try? FileManager.default.removeItem(atPath: root) }
        return FirmwareDatabase.lint(root: root).map(\.description)
    }

    @Test func typoInKeyIsCaughtWithSuggestion() throws {
        let issues = try lint(models("""
          - id: m
            name: "M"
            vendor: "V"
            product: "P"
            famly: fam
            provenance: "x"
        """))
        #expect(issues.contains { $0.contains("unknown key 'famly' (did you mean 'family'?)") && $0.contains("models.yaml:8") })
        #expect(issues.contains { $0.contains("missing 'family'") })
    }

    @Test func missingProvenance() throws {
        let issues = try lint(models("""
          - id: m
            name: "M"
            vendor: "V"
            product: "P"
            family: fam
        """))
        #expect(issues == [issues.first { $0.contains("missing 'provenance'") }].compactMap { $0 })
    }

    @Test func unknownFamilyAndDuplicates() throws {
        let entry = "  - {id: m, name: M, vendor: V, product: P, family: nope, provenance: x}\n"
        let issues = try lint(models(entry + entry))
        #expect(issues.contains { $0.contains("duplicate model id 'm'") })
        #expect(issues.contains { $0.contains("unknown family 'nope'") })
    }

    @Test func syntheticMustSaySo() throws {
        let issues = try lint(models("  - {id: m, name: M, vendor: V, product: P, family: fam, provenance: x, synthetic: true}\n"))
        #expect(issues.contains { $0.contains("synthetic entries must say 'synthetic'") })
    }

    @Test func badStatusAndFieldLengths() throws {
        let fam = ["fam": oneFamilyText + "\nstatus: {flash: maybe, dance: ok}\n"]
        let issues = try lint(families: fam, models("  - {id: m, name: M, vendor: TOOLONGVENDOR, product: P, family: fam, provenance: x}\n"))
        #expect(issues.contains { $0.contains("status 'maybe' for flash") })
        #expect(issues.contains { $0.contains("unknown operation 'dance'") })
        #expect(issues.contains { $0.contains("longer than the 8-byte INQUIRY field") })
    }

    @Test func yamlSyntaxErrorHasALine() throws {
        let issues = try lint(models("  - {id: m, name: [unclosed\n"))
        #expect(issues.count == 1)
        #expect(issues[0].contains("models.yaml:") && issues[0].contains("YAML syntax error"))
    }

    @Test func badIDsAndWrongTypes() throws {
        let issues = try lint(models("  - {id: Bad_ID, name: [1, 2], vendor: V, product: P, family: fam, provenance: x}\n"))
        #expect(issues.contains { $0.contains("id 'Bad_ID'") })
        #expect(issues.contains { $0.contains("'name' must be a string") })
    }

    @Test func missingFolderAndFiles() throws {
        #expect(FirmwareDatabase.lint(root: "/nonexistent-db").first?.message == "firmware-db folder not found")
        let root = NSTemporaryDirectory() + "odflash-db-empty-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(FirmwareDatabase.lint(root: root).count == 5)   // no family files, no models.yaml, no media tables (3)
        #expect(throws: FirmwareDatabase.LoadError.self) { try FirmwareDatabase.load(root: root) }
    }

    @Test func schemaVersionRequired() throws {
        let issues = try lint(families: ["fam": oneFamilyText.replacingOccurrences(of: "schema: 1", with: "schema: 2")], models(""))
        #expect(issues.contains { $0.contains("'schema: 1' is required") })
    }

    @Test func locateOrder() throws {
        let root = repoRoot + "/firmware-db"
        #expect(FirmwareDatabase.locate(explicit: "/x", environment: ["ODFLASH_DB": "/y"], executable: "/bin/odflash", cwd: "/") == "/x")
        #expect(FirmwareDatabase.locate(explicit: nil, environment: ["ODFLASH_DB": "/y"], executable: "/bin/odflash", cwd: "/") == "/y")
        #expect(FirmwareDatabase.locate(explicit: nil, environment: [:], executable: repoRoot + "/.build/debug/odflash", cwd: "/") == root)
        #expect(FirmwareDatabase.locate(explicit: nil, environment: [:], executable: "/usr/bin/odflash", cwd: repoRoot) == root)
    }
}

@Suite struct LayoutLintTests {
    func lintFamily(_ images: String) throws -> [String] {
        let root = try tempDB(families: ["fam": oneFamilyText + "\nimages:\n" + images], models: models(""))
        defer { try? FileManager.default.removeItem(atPath: root) }
        return FirmwareDatabase.lint(root: root).map(\.description)
    }

    @Test func shippedLayoutsParse() throws {
        let db = try FirmwareDatabase.load(root: repoRoot + "/firmware-db")
        #expect(db.layouts.count >= 20)
        let plex = try #require(db.family("plextor")?.layouts.first { $0.id == "px-716a" })
        #expect(plex.fields.count == 2)          // the YAML anchor was resolved
        #expect(plex.checksums.first?.ranges == [ByteRange(0, 0xEFFFE)])
        #expect(db.idTables["nec-drive-ids"]?.find("G245")?.layout == "nec-2m-opti3")
        #expect(db.idTables["nec-drive-ids"]!.entries.count > 200)
    }

    @Test func goodLayout() throws {
        let issues = try lintFamily("""
          - id: l1
            name: "one"
            sizes: [1024]
            signatures: [{name: s, offset: 0, ascii: "HDR"}]
            fields: [{name: v, role: vendor, offset: 4, length: 8, encoding: ascii}]
            checksums: [{name: c, algorithm: sum, unit: be16, ranges: [[0, 0x3FE]], stored: {offset: 0x3FE, unit: be16}}]
        """)
        #expect(issues.isEmpty, "\(issues)")
    }

    @Test(arguments: [
        ("sizes: [1024]\n    colour: red", "unknown key 'colour'"),
        ("sizes: [1024]\n    checksums: [{name: c, algorithm: sum, unit: be17, ranges: [[0, 2]], stored: {offset: 2, unit: be16}}]", "unit 'be17'"),
        ("sizes: [1024]\n    checksums: [{name: c, algorithm: sum, unit: be16, ranges: [[0, 4096]], stored: {offset: 2, unit: be16}}]", "does not fit the layout's sizes"),
        ("sizes: [1024]\n    checksums: [{name: c, algorithm: sum, unit: be16, ranges: [[0, 2]], stored: {offset: 1023, unit: be16}}]", "stored past the end"),
        ("sizes: [1024]\n    checksums: [{name: c, algorithm: sum, unit: be16, ranges: [[0, 1024]], stored: {offset: 2, unit: be16}}]", "inside the bytes it sums"),
        ("sizes: [1024]\n    checksums: [{name: c, algorithm: crc, unit: be16, ranges: [[0, 2]], stored: {offset: 2, unit: be16}}]", "algorithm 'crc'"),
        ("sizes: [1024]\n    checksums: [{name: c, algorithm: sum, unit: be16, ranges: [[0, 2]]}]", "say where the checksum lives"),
        ("sizes: [1024]\n    fields: [{name: f, role: vendor, offset: 1020, length: 8, encoding: ascii}]", "past the end"),
        ("sizes: [1024]\n    fields: [{name: f, role: colour, offset: 0, length: 8, encoding: ascii}]", "role 'colour'"),
        ("sizes: [1024]\n    fields: [{name: f, role: vendor, anchor: nope, offset: 0, length: 8, encoding: ascii}]", "unknown signature 'nope'"),
        ("sizes: [1024]\n    fields: [{name: f, role: driveid, offset: 0, length: 4, encoding: ascii}]", "role 'driveid'"),
        ("sizes: [1024]\n    fields: [{name: f, role: drive-id, offset: 0, length: 4, encoding: ascii, lookup: nowhere}]", "unknown id table 'nowhere'"),
        ("sizes: [1024]\n    signatures: [{name: s, offset: 0, hex: \"0G\"}]", "malformed"),
        ("min_size: 16", "needs a signature or identify_by_checksum"),
        ("sizes: [1024]\n    synthetic: true", "must say 'synthetic'"),
        ("sizes: [0x400]\n    media_tables: [{kind: magic}]", "kind 'magic'"),
        ("sizes: [0x400]\n    media_tables: [{kind: records, name: t, type: '+R', offset: 0, stride: 8, provenance: x}]", "records need 'mid'"),
    ])
    func badLayouts(_ body: String, _ fragment: String) throws {
        let issues = try lintFamily("  - id: l1\n    name: one\n    " + body + "\n")
        #expect(issues.contains { $0.contains(fragment) }, "\(issues)")
    }

    /// Numbers outside their range (or beyond the layout's image) are issues at the value's own line, never a trap.
    @Test(arguments: [
        ("sizes: [1024]\n    signatures: [{name: s, offset: 9223372036854775807, ascii: AB}]", "outside"),
        ("sizes: [1024]\n    signatures: [{name: s, offset: 1023, ascii: AB}]", "past the end of a 1024-byte image"),
        ("sizes: [1024]\n    fields: [{name: f, role: vendor, offset: -1, length: 18446744073709551616, encoding: ascii}]", "must be a whole number"),
        ("sizes: [1024]\n    checksums: [{name: c, algorithm: sum, unit: be16, initial: -1, ranges: [[0, 2]], stored: {offset: 4, unit: be16}}]", "'initial' is -1"),
        ("sizes: [0x400]\n    media_tables: [{kind: records, name: t, type: '+R', offset: 0, count: 2, stride: 0, mid: {offset: 0, length: 8}, provenance: x}]", "'stride' is 0"),
        ("sizes: [0x400]\n    media_tables: [{kind: records, name: t, type: '+R', offset: 0, count: 2, stride: 8, mid: {offset: 0, length: 9}, provenance: x}]", "'length' is 9"),
        ("sizes: [0x400]\n    media_tables: [{kind: records, name: t, type: '+R', offset: 0, count: 2, stride: 8, mid: {offset: 0, length: 8}, speed_bits: [1e308], provenance: x}]", "speed_bits"),
    ])
    func numbersOutOfRange(_ body: String, _ fragment: String) throws {
        let issues = try lintFamily("  - id: l1\n    name: one\n    " + body + "\n")
        #expect(issues.contains { $0.contains(fragment) && $0.contains("fam.yaml:") }, "\(issues)")
    }

    /// Nested aliases are refused before anything walks them: a bounded, clear error.
    @Test func billionLaughsAreRefused() throws {
        var lines = ["notes:", "  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
        for d in 1..<9 { lines.append("  l\(d): &l\(d) [" + Array(repeating: "*l\(d - 1)", count: 10).joined(separator: ", ") + "]") }
        let root = try tempDB(families: ["fam": oneFamilyText + "\n" + lines.joined(separator: "\n") + "\n"], models: models(""))
        defer { try? FileManager.default.removeItem(atPath: root) }
        let issues = FirmwareDatabase.lint(root: root).map(\.description)
        #expect(issues.contains { $0.contains("aliases expand") }, "\(issues)")
    }

    @Test func familyFileNameMustMatchID() throws {
        let root = try tempDB(families: ["other": oneFamilyText], models: models(""))
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(FirmwareDatabase.lint(root: root).contains { $0.message.contains("must live in fam.yaml") })
    }

    @Test func idTableLayoutsMustExist() throws {
        let root = try tempDB(families: oneFamily, models: models(""), idtables: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        // The real NEC id table names layouts that this one-family db lacks.
        #expect(FirmwareDatabase.lint(root: root).contains { $0.message.contains("names unknown layout 'nec-2m'") })
    }
}

@Suite struct MediaKnowledgeTests {
    let k = try! FirmwareDatabase.load(root: repoRoot + "/firmware-db").media

    @Test func atipLookupRoundsTheFrame() {
        #expect(k.atip.count == 44)
        #expect(k.atipManufacturer(97, 26, 66)?.name == "CMC Magnetics Corporation")
        #expect(k.atipManufacturer(97, 26, 60)?.aka.contains("Verbatim") == true)
        #expect(k.atipManufacturer(97, 24, 1)?.name == "Taiyo Yuden Company Limited")
        #expect(k.atipManufacturer(96, 43, 37)?.name == "Ritek Corp")
        #expect(k.atipManufacturer(97, 99, 0) == nil)
    }

    @Test func dvdLookup() {
        #expect(k.dvdManufacturer("RICOHJPN")?.name == "Ricoh Company Limited")
        #expect(k.dvdManufacturer("TYG02")?.name == "Taiyo Yuden Company Limited")
        #expect(k.dvdManufacturer("MCC 03RG20")?.name == "Mitsubishi Chemical Corporation")   // DVD-R: the part before the space
        #expect(k.dvdManufacturer("MCC")?.name == "Mitsubishi Chemical Corporation")
        #expect(k.dvdManufacturer("MCCX")?.name == nil)      // 'MCC' must match the whole ID
        #expect(k.dvdManufacturer("CMC MAG")?.name == "CMC Magnetics Corporation")
        #expect(k.dvdManufacturer("ZZZZ") == nil)
    }

    @Test func adviceMostSpecificFirst() {
        #expect(k.advice(key: 3, asc: 0x0C, ascq: 0x01)?.contains("media DEVICE --check") == true)   // 03/0C/??
        #expect(k.advice(key: 3, asc: 0x0C, ascq: 0x09)?.contains("buffer underrun") == true)         // its own row
        #expect(k.advice(key: 5, asc: 0x21, ascq: 0x02)?.contains("invalid address") == true)
        #expect(k.advice(key: 5, asc: 0x21, ascq: 0x00) == nil)
        #expect(k.advice(key: 4, asc: 0x44, ascq: 0)?.contains("hardware") == true)
        #expect(k.advice(key: 5, asc: 0x24, ascq: 0) == nil)   // invalid field in CDB: common outside burning, no advice
        // The power-calibration family: each code of 03/73 its own advice, 05/73 the drive's refusal.
        #expect(k.advice(key: 3, asc: 0x73, ascq: 0x03)?.contains("OPC") == true)
        #expect(k.advice(key: 3, asc: 0x73, ascq: 0x02)?.contains("full") == true)
        // Only 73/01-03 (and 10/11, the current area) are about power calibration (T10): the others get their own words.
        #expect(k.advice(key: 3, asc: 0x73, ascq: 0x05)?.contains("program memory area (PMA) is full") == true)
        #expect(k.advice(key: 3, asc: 0x73, ascq: 0x00)?.contains("CD control error") == true)
        for q: UInt8 in [0x00, 0x04, 0x05, 0x06, 0x17] {
            #expect(k.advice(key: 3, asc: 0x73, ascq: q)?.contains("power calibration failed") != true)
            #expect(k.advice(key: 5, asc: 0x73, ascq: q)?.contains("power calibration request") != true)
        }
        #expect(k.advice(key: 5, asc: 0x73, ascq: 0x03)?.contains("refused the power calibration") == true)
        // Without a key (ImgBurn's logs): the additional sense decides.
        #expect(k.advice(asc: 0x73, ascq: 0x03)?.contains("OPC") == true)
        #expect(k.advice(asc: 0x99, ascq: 0x00) == nil)
    }

    @Test func mediaTablesNeedProvenance() throws {
        let root = try tempDB()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try "# name: atip-manufacturers\n97:26:60\tCMC\t\n".write(toFile: root + "/media/atip-manufacturers.tsv", atomically: true, encoding: .utf8)
        try "# name: burn-advice\n# provenance: x\n03/ZZ/00\ttext\n".write(toFile: root + "/media/advice.tsv", atomically: true, encoding: .utf8)
        let issues = FirmwareDatabase.lint(root: root).map(\.description)
        #expect(issues.contains { $0.contains("needs a '# provenance:' line") })
        #expect(issues.contains { $0.contains("is not KK/AA/QQ") })
    }
}

@Suite struct IntegerParsingTests {
    /// firmware-db numbers: decimal or 0x hex, a sign, '_' between digits, blanks around; anything else is not a number.
    @Test func numbers() {
        let cases: [(String, Int?)] = [("0", 0), ("42", 42), ("-7", -7), ("+7", 7), ("0x10", 16), ("0X1f", 31), ("-0x10", -16),
                                       ("0x1_0000", 0x10000), ("1_000", 1000), ("  12\t", 12), ("0x", nil), ("", nil), ("-", nil),
                                       ("12a", nil), ("0xG1", nil), ("1.5", nil), ("ten", nil), ("0x8000000000000000", nil),
                                       ("9223372036854775807", Int.max)]
        for (text, want) in cases { #expect(Entry.parseInt(text) == want, "\(text)") }
    }
}

@Suite struct TableLintTests {
    /// The tables read only when needed are linted too, each problem at its file and line, named once.
    @Test func brokenCatalogAndCrossflashTables() throws {
        let root = try tempDB()
        for dir in ["mediatek", "pioneer"] { try FileManager.default.createDirectory(atPath: root + "/" + dir, withIntermediateDirectories: true) }
        try "# name: t\n# provenance: x\nABC\tlabel\n".write(toFile: root + "/mediatek/build-fingerprints.tsv", atomically: true, encoding: .utf8)
        try "# name: t\n# provenance: x\n8A10\tF3\tUS04\n8A10\tF3\tUS04\n".write(toFile: root + "/pioneer/crossflash-families.tsv", atomically: true, encoding: .utf8)
        let issues = FirmwareDatabase.lint(root: root).map(\.description)
        #expect(issues.contains(root + "/mediatek/build-fingerprints.tsv:3: a row is a lowercase SHA-256, a tab and the build it names"), "\(issues)")
        #expect(issues.contains(root + "/pioneer/crossflash-families.tsv:4: SAT 8A10 is listed twice"), "\(issues)")
    }
}

@Suite struct VersionFileLintTests {
    func issues(_ text: String?) throws -> [String] {
        let root = try tempDB()
        if let text { try text.write(toFile: root + "/VERSION", atomically: true, encoding: .utf8) }
        else { try FileManager.default.removeItem(atPath: root + "/VERSION") }
        return FirmwareDatabase.lint(root: root).filter { $0.file.hasSuffix("/VERSION") }.map(\.description)
    }

    @Test func theShippedFileIsClean() throws {
        #expect(try issues("# c\nversion: 2026.11.29\ndate: 2026-11-29\n").isEmpty)
        #expect(try issues("version: 2024.02.29.2\ndate: 2024-02-29\n").isEmpty)
        #expect(FirmwareDatabase.lintVersion(root: repoRoot + "/firmware-db").isEmpty)
    }

    @Test func everyBrokenFormIsNamed() throws {
        #expect(try issues(nil).first?.contains("missing or unreadable") == true)
        #expect(try issues("version: 2026.11.29\n").first?.contains("no 'date: YYYY-MM-DD' line") == true)
        #expect(try issues("date: 2026-11-29\n").first?.contains("no 'version: YYYY.MM.DD' line") == true)
        #expect(try issues("version: 2026.11.29\ndate: 2026-11-31\n").first?.hasSuffix("VERSION:2: date '2026-11-31' is not a day written YYYY-MM-DD") == true)
        #expect(try issues("version: 2023.02.29\ndate: 2023-02-29\n").first?.contains("is not a day") == true)
        #expect(try issues("version: 2025.11.29\ndate: 2026-11-29\n").first?.hasSuffix("VERSION:1: version '2025.11.29' is not the date's 2026.11.29 (or 2026.11.29.N for another change that day)") == true)
        #expect(try issues("version: 2026.11.29.\ndate: 2026-11-29\n").count == 1)
        #expect(try issues("version: 1\nversion: 2\ndate: 2026-11-29\n").contains { $0.contains("given twice") })
        #expect(try issues("verison: 2026.11.29\ndate: 2026-11-29\n").contains { $0.contains(":1: expected 'version: ...'") })
    }
}
