import Foundation
import Testing
@testable import FirmwareDB

/// Identification reads and the strategy-version read must be marked read-only, carry provenance, and be reads.
@Suite struct IdentifyLintTests {
    func lintFamily(_ extra: String, idtables: Bool = false) throws -> [String] {
        let root = try tempDB(families: ["fam": oneFamilyText + "\n" + extra], models: models(""), idtables: idtables)
        defer { try? FileManager.default.removeItem(atPath: root) }
        return FirmwareDatabase.lint(root: root).map(\.description)
    }

    static let readRAM = "read_only_commands:\n  - {name: ReadRAM, prefix: \"CC 00\", provenance: \"a test\"}\n"
    static func probe(_ fields: String) -> String {
        "identify:\n  order: 1\n  match: first\n  provenance: \"a test\"\n  probes:\n    - {name: r, provenance: \"a test\", length: 0x20, \(fields)}\n"
    }

    @Test func aGoodIdentificationRead() throws {
        let issues = try lintFamily(Self.readRAM + Self.probe("read_only: true, cdb: \"CC 00 00 00 48 00 00 00 20 00 00 00\", contains: \"K3\""))
        #expect(issues.isEmpty, "\(issues)")
        let std = try lintFamily(Self.probe("read_only: true, cdb: \"46 02 01 0C 00 00 00 00 20 00\", feature: 0x010C"))
        #expect(std.isEmpty, "\(std)")
    }

    @Test(arguments: [
        // Not marked read-only, or marked false.
        (readRAM + probe("cdb: \"CC 00 00 00 48 00 00 00 20 00 00 00\", contains: \"K3\""), "must be marked 'read_only: true'"),
        (readRAM + probe("read_only: false, cdb: \"CC 00 00 00 48 00 00 00 20 00 00 00\", contains: \"K3\""), "must be marked 'read_only: true'"),
        // A vendor command the family does not mark read-only (CC 01 is NEC's safe mode).
        (probe("read_only: true, cdb: \"CC 00 00 00 48 00 00 00 20 00 00 00\", contains: \"K3\""), "nor a vendor command this family marks read-only"),
        (readRAM + probe("read_only: true, cdb: \"CC 01 01 00 4B 33 35 35 01 00 00 00\", contains: \"K3\""), "nor a vendor command this family marks read-only"),
        // A write is never an identification read, whatever it is marked.
        (probe("read_only: true, cdb: \"3B 06 00 00 30 00 00 00 20 00\", contains: \"MT19\""), "changes the drive"),
        ("read_only_commands:\n  - {name: W, prefix: \"3B 06\", provenance: x}\n", "is not a vendor read"),
        ("read_only_commands:\n  - {name: W, prefix: \"CC\", provenance: x}\n", "at least two hex bytes"),
        ("read_only_commands:\n  - {name: W, prefix: \"CC 00\", provenance: \"\"}\n", "provenance is empty"),
        // Literal bytes, something to check, provenance.
        (readRAM + probe("read_only: true, cdb: \"CC 00 {a:4} 00 00 20 00 00 00\", contains: \"K3\""), "literal bytes"),
        (readRAM + probe("read_only: true, cdb: \"CC 00 00 00 48 00 00 00 20 00 00 00\""), "needs something to check"),
        ("identify:\n  order: 1\n  match: first\n  provenance: p\n  probes:\n    - {name: r, read_only: true, cdb: \"12 00 00 00 24 00\", length: 36, contains: X}\n", "missing 'provenance'"),
        ("identify:\n  order: 1\n  match: any\n  provenance: p\n  probes: []\n", "match is 'all' or 'first'"),
        // The strategy-version read follows the same rules.
        ("strategy_versions: {provenance: p, cdb: \"CF 03 00 00 00 00 00 00 00 00 00 00\", length: 1024, entry_length: 8, media: [CD-R]}\n", "must be marked 'read_only: true'"),
        ("strategy_versions: {read_only: true, provenance: p, cdb: \"CF 03 00 00 00 00 00 00 00 00 00 00\", length: 1024, entry_length: 8, media: [CD-R]}\n", "nor a vendor command this family marks read-only"),
    ])
    func rejected(_ yaml: String, _ fragment: String) throws {
        let issues = try lintFamily(yaml)
        #expect(issues.contains { $0.contains(fragment) }, "\(issues)")
    }

    /// A read-only prefix may not cover a command of the family that changes the drive.
    @Test func aReadOnlyPrefixMustNotCoverAWrite() throws {
        let issues = try lintFamily(Self.readRAM + "status: {region: not-tested}\nregion:\n  provenance: p\n  vendor_reset: [\"CC 00 00 00 00 00 52 45 47 49 4F 4E\"]\n")
        #expect(issues.contains { $0.contains("may start like the read-only command 'ReadRAM'") }, "\(issues)")
    }

    @Test func driveIDReadsNameKnownTablesAndClasses() throws {
        let issues = try lintFamily(Self.readRAM + Self.probe("read_only: true, cdb: \"CC 00 00 00 48 00 00 00 20 00 00 00\", drive_id: {offset: 0, length: 4, table: nec-drive-ids, classes: [2M, 9X]}"), idtables: true)
        #expect(issues.contains { $0.contains("has no flash class '9X'") }, "\(issues)")
        #expect(!issues.contains { $0.contains("flash class '2M'") })
        let noTable = try lintFamily(Self.readRAM + Self.probe("read_only: true, cdb: \"CC 00 00 00 48 00 00 00 20 00 00 00\", drive_id: {offset: 0, length: 4, table: nowhere}"))
        #expect(noTable.contains { $0.contains("unknown id table 'nowhere'") }, "\(noTable)")
    }

    @Test func oneOrderPerFamily() throws {
        let fam2 = oneFamilyText.replacingOccurrences(of: "id: fam", with: "id: fam2") + "\n"
            + Self.probe("read_only: true, cdb: \"12 00 00 00 24 00\", contains: \"X\"").replacingOccurrences(of: "length: 0x20", with: "length: 36")
        let fam1 = oneFamilyText + "\n" + Self.probe("read_only: true, cdb: \"12 00 00 00 24 00\", contains: \"X\"").replacingOccurrences(of: "length: 0x20", with: "length: 36")
        let root = try tempDB(families: ["fam": fam1, "fam2": fam2], models: models(""))
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(FirmwareDatabase.lint(root: root).contains { $0.message.contains("identify order 1 is also") })
    }
}
