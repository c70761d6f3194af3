import Foundation
import Testing
@testable import FirmwareDB

/// A db with one family, the given models and one drives table (firmware-db/drives/test.tsv).
func drivesDB(models body: String, table: String, idtables: Bool = false) throws -> String {
    let root = try tempDB(families: oneFamily, models: models(body), idtables: idtables)
    try FileManager.default.createDirectory(atPath: root + "/drives", withIntermediateDirectories: true)
    try table.write(toFile: root + "/drives/test.tsv", atomically: true, encoding: .utf8)
    return root
}

let tableHeader = "# name: test\n# origin: example/tool @0123abcd\n# provenance: example/tool @0123abcd, a test table\n"

/// Tab-separated: vendor, product, name, model, note, source[, route].
func row(_ cols: String...) -> String { cols.joined(separator: "\t") + "\n" }

let plexModel = "  - {id: px, name: \"Plextor PX-716A\", vendor: PLEXTOR, product: \"DVDR   PX-716A\", family: fam, provenance: x}\n"
let wildModel = "  - {id: pio, name: \"Pioneer DVR\", vendor: PIONEER, product: \"*DVR-*\", family: fam, provenance: x}\n"

@Suite struct KnownDriveTests {
    func lint(models body: String = plexModel, _ table: String, idtables: Bool = false) throws -> [String] {
        let root = try drivesDB(models: body, table: table, idtables: idtables)
        defer { try? FileManager.default.removeItem(atPath: root) }
        return FirmwareDatabase.lint(root: root).map(\.description)
    }

    @Test func parsesRowsRoutesAndProvenance() throws {
        let root = try drivesDB(models: plexModel, table: tableHeader
            + row("PLEXTOR", "DVDR PX-716A", "PLEXTOR DVDR PX-716A", "px", "-", "pxfw.cpp:140-142")
            + row("PLEXTOR", "DVDR PX-740A", "PLEXTOR DVDR PX-740A", "-", "read offsets only", "drive.ixx:227")
            + row("-", "-", "NEC 3550A", "-", "named by drive ID only", "necinternal.cpp:729-730", "nec-id K315,K355")
            + row("-", "-", "Pioneer DVR-109", "-", "generation 9", "DVRFlash.cpp:477", "dvr-generation 9"))
        defer { try? FileManager.default.removeItem(atPath: root) }
        // The drive-ID row must be a row of an id table.
        try FileManager.default.createDirectory(atPath: root + "/idtables", withIntermediateDirectories: true)
        try "# name: test-ids\n# provenance: a test\n-\tK315,K355\tNEC 3550A\n".write(toFile: root + "/idtables/test-ids.tsv", atomically: true, encoding: .utf8)
        let db = try FirmwareDatabase.load(root: root)
        let t = try #require(db.driveTables.first)
        #expect(t.name == "test" && t.origin == "example/tool @0123abcd" && t.drives.count == 4)
        let d = t.drives
        #expect(d[0].model == "px" && d[0].supported && d[0].reason == nil && d[0].line == 4)
        #expect(d[1].reason == "read offsets only" && d[1].provenance == "example/tool @0123abcd drive.ixx:227")
        #expect(d[2].vendor == nil && d[2].route == .necID(["K315", "K355"]))
        #expect(d[2].identification == "NEC drive ID K315 or K355, read from drive RAM")
        #expect(d[3].route == .dvrGeneration(9))
        #expect(db.sources(ofModel: "px").map(\.source) == ["pxfw.cpp:140-142"])
    }

    @Test func unsupportedRowWithoutReasonIsAnErrorWithItsLine() throws {
        let issues = try lint(tableHeader + row("PLEXTOR", "DVDR PX-740A", "PLEXTOR DVDR PX-740A", "-", "-", "drive.ixx:227"))
        #expect(issues.count == 1, "\(issues)")
        #expect(issues[0].contains("test.tsv:4: 'PLEXTOR DVDR PX-740A' is unsupported (model '-') but gives no reason"))
        #expect(issues[0].contains("name the models.yaml entry that matches it, or say why"))
    }

    @Test func rowWithoutProvenanceIsAnError() throws {
        // No place in the source, and a table without its origin line.
        var issues = try lint(tableHeader + row("PLEXTOR", "DVDR PX-740A", "PLEXTOR DVDR PX-740A", "-", "read offsets only", "-"))
        #expect(issues.contains { $0.contains("test.tsv:4: 'PLEXTOR DVDR PX-740A': source '-' must name the file and lines in the source") }, "\(issues)")
        issues = try lint(tableHeader + row("PLEXTOR", "DVDR PX-740A", "PLEXTOR DVDR PX-740A", "-", "read offsets only", "somewhere in drive.ixx"))
        #expect(issues.contains { $0.contains("source 'somewhere in drive.ixx' must name the file and lines") }, "\(issues)")
        issues = try lint("# name: test\n# provenance: x\n" + row("A", "B", "A B", "-", "why", "f.c:1"))
        #expect(issues.contains { $0.contains("test.tsv: needs an '# origin:' line") }, "\(issues)")
        issues = try lint("# name: test\n# origin: o\n" + row("A", "B", "A B", "-", "why", "f.c:1"))
        #expect(issues.contains { $0.contains("needs a '# provenance:' line") }, "\(issues)")
    }

    @Test(arguments: [
        (row("PLEXTOR", "-", "X", "-", "why", "f.c:1"), "give both INQUIRY vendor and product"),
        (row("-", "-", "X", "-", "why", "f.c:1"), "say how the drive is identified"),
        (row("-", "-", "X", "-", "why", "f.c:1", "nec-id"), "route 'nec-id' is not one of"),
        (row("-", "-", "X", "-", "why", "f.c:1", "by-colour red"), "route 'by-colour red' is not one of"),
        (row("A", "B", "X", "nope", "-", "f.c:1"), "names unknown model 'nope'"),
        (row("PLEXTOR", "DVDR PX-760A", "X", "px", "-", "f.c:1"), "names model 'px', whose patterns"),
        (row("PLEXTOR", "DVDR   PX-716A", "X", "-", "why", "f.c:1"), "is unsupported, but model 'px' matches"),
        (row("A", "B", "X", "-", "why", "f.c:1") + row("A", "B", "Y", "-", "why", "f.c:2"), "duplicate pattern 'A' / 'B' (also line 4)"),
        ("# name: test\n# origin: o\n# provenance: p\nA\tB\n", "expected 6-7 tab-separated columns, found 2"),
    ])
    func badRows(_ rows: String, _ fragment: String) throws {
        let issues = try lint(rows.hasPrefix("#") ? rows : tableHeader + rows)
        #expect(issues.contains { $0.contains(fragment) }, "\(issues)")
    }

    @Test func driveIDRowsMustAgreeWithTheIDTable() throws {
        // The real NEC id table (one-family db: its layout references are reported too, and ignored here).
        var issues = try lint(tableHeader + row("-", "-", "NEC 3550A", "-", "why", "n.cpp:1", "nec-id K315,K355"), idtables: true)
        #expect(!issues.contains { $0.contains("NEC 3550A") }, "\(issues)")
        issues = try lint(tableHeader + row("-", "-", "NEC 9999A", "-", "why", "n.cpp:1", "nec-id K315,K355"), idtables: true)
        #expect(issues.contains { $0.contains("the id table names drive IDs K315,K355 'NEC 3550A', not 'NEC 9999A'") }, "\(issues)")
        issues = try lint(tableHeader + row("-", "-", "NEC 3550A", "-", "why", "n.cpp:1", "nec-id ZZZZ"), idtables: true)
        #expect(issues.contains { $0.contains("no id table (idtables/*.tsv) lists drive IDs ZZZZ") }, "\(issues)")
        // Binflash names two drives by G71A: either name is the table's.
        issues = try lint(tableHeader + row("-", "-", "Optiarc 7710H", "-", "why", "n.cpp:1", "nec-id G71A"), idtables: true)
        #expect(!issues.contains { $0.contains("7710H") }, "\(issues)")
    }

    @Test func modelsWithTheSamePatternsAreAnError() throws {
        let twin = "  - {id: px2, name: \"PX-716A again\", vendor: \"PLEXTOR \", product: \"DVDR PX-716A\", family: fam, provenance: x}\n"
        let issues = try lint(models: plexModel + twin, tableHeader)
        #expect(issues.contains { $0.contains("models.yaml:") && $0.contains("model 'px2' has the same vendor, product and revision patterns as 'px'") }, "\(issues)")
    }

    func db(models body: String, _ table: String) throws -> FirmwareDatabase {
        let root = try drivesDB(models: body, table: tableHeader + table)
        defer { try? FileManager.default.removeItem(atPath: root) }
        return try FirmwareDatabase.load(root: root)
    }

    @Test func matchingASupportedAndAnUnsupportedDrive() throws {
        let db = try db(models: plexModel + wildModel,
                        row("PLEXTOR", "DVDR PX-740A", "PLEXTOR DVDR PX-740A", "-", "read offsets only", "drive.ixx:227")
                        + row("PIONEER", "DVD-RW DVR-109*", "PIONEER DVD-RW DVR-109", "-", "generation 9 is not implemented", "plugin.h:30")
                        + row("PIONEER", "*", "PIONEER (any other)", "-", "unnamed Pioneer drive", "plugin.h:34"))
        // Supported: the model; its strings compared with blanks collapsed.
        #expect(db.identify(vendor: "PLEXTOR", product: "DVDR   PX-716A", revision: "1.11") == .model(db.models[0]))
        #expect(db.match(vendor: "PLEXTOR ", product: "DVDR PX-716A", revision: "1.11")?.id == "px")
        // Known but unsupported: the row, and no model for the commands that send vendor commands.
        guard case .unsupported(let rows)? = db.identify(vendor: "PLEXTOR", product: "DVDR   PX-740A", revision: "1.02") else {
            Issue.record("PX-740A should be known but unsupported"); return
        }
        #expect(rows.map(\.name) == ["PLEXTOR DVDR PX-740A"] && rows[0].reason == "read offsets only")
        #expect(db.match(vendor: "PLEXTOR", product: "DVDR   PX-740A", revision: "1.02") == nil)
        // Most specific wins: the DVR-109 row over the '*DVR-*' model, the model over the vendor-only row.
        #expect(db.match(vendor: "PIONEER", product: "DVD-RW  DVR-109", revision: "1.00") == nil)
        #expect(db.match(vendor: "PIONEER", product: "DVD-RW  DVR-107D", revision: "1.00")?.id == "pio")
        guard case .unsupported(let any)? = db.identify(vendor: "PIONEER", product: "BD-RW   BDR-209D", revision: "1.10") else {
            Issue.record("any other Pioneer drive should be known"); return
        }
        #expect(any.map(\.name) == ["PIONEER (any other)"])
        // Unknown stays unknown.
        #expect(db.identify(vendor: "QEMU", product: "QEMU DVD-ROM", revision: "2.5+") == nil)
    }

    @Test func aTieGoesToTheUnsupportedRowAndSameSpecificityRowsAreReturnedTogether() throws {
        let loose = "  - {id: m, name: M, vendor: ACME, product: \"*AB*\", family: fam, provenance: x}\n"
        let root = try drivesDB(models: loose, table: tableHeader + row("ACME", "*CD*", "ACME CD", "-", "first source", "a.c:1"))
        defer { try? FileManager.default.removeItem(atPath: root) }
        try (tableHeader.replacingOccurrences(of: "name: test", with: "name: other") + row("ACME", "*CD*", "ACME CD again", "-", "second source", "b.c:2"))
            .write(toFile: root + "/drives/other.tsv", atomically: true, encoding: .utf8)
        let db = try FirmwareDatabase.load(root: root)
        #expect(db.match(vendor: "ACME", product: "ABCD", revision: "1") == nil)
        guard case .unsupported(let rows)? = db.identify(vendor: "ACME", product: "ABCD", revision: "1") else { Issue.record("tie"); return }
        #expect(Set(rows.map(\.reason)) == ["first source", "second source"])
        #expect(db.match(vendor: "ACME", product: "XABX", revision: "1")?.id == "m")
    }

    @Test func inquiryTextNormalisation() {
        #expect(InquiryText.normalize("  DVDR   PX-716A  ") == "DVDR PX-716A")
        #expect(InquiryText.normalize("_NEC    ", vendor: true) == "NEC")
        #expect(InquiryText.normalize("DVD_RW ND-3550A") == "DVD_RW ND-3550A")   // underscores stay inside a product
        #expect(InquiryText.specificity("_NEC", "DVD_RW ND-355*", "*") == 3 + 13)
    }
}
