import Foundation
import Testing
@testable import FirmwareDB

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// A copy of the real db in a temp folder, with one file replaced.
func tempDB(families: String? = nil, models: String? = nil) throws -> String {
    let root = NSTemporaryDirectory() + "odflash-db-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    let fam = try families ?? String(contentsOfFile: repoRoot + "/firmware-db/families.yaml", encoding: .utf8)
    let mod = try models ?? String(contentsOfFile: repoRoot + "/firmware-db/models.yaml", encoding: .utf8)
    try fam.write(toFile: root + "/families.yaml", atomically: true, encoding: .utf8)
    try mod.write(toFile: root + "/models.yaml", atomically: true, encoding: .utf8)
    return root
}

let oneFamily = """
schema: 1
provenance: "test"
families:
  - id: fam
    name: "A family"
    provenance: "a test"
"""

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

    func lint(families: String = oneFamily, _ modelsYAML: String) throws -> [String] {
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
        let fam = oneFamily + "\n    status: {flash: maybe, dance: ok}\n"
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
        #expect(FirmwareDatabase.lint(root: root).count == 2)
        #expect(throws: FirmwareDatabase.LoadError.self) { try FirmwareDatabase.load(root: root) }
    }

    @Test func schemaVersionRequired() throws {
        let issues = try lint(families: oneFamily.replacingOccurrences(of: "schema: 1", with: "schema: 2"), models(""))
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
