import Foundation
import Testing
@testable import CLI

/// What a new user's pass over the README found, each kept as a test: a preflight reason that blamed the backup for a
/// wrong image, a journal that named the backup once, a folder output refused as "exists", options silently ignored,
/// a missing firmware-db linted as a problem list, a CD-R rename that matched another dye class's entry.
@Suite struct NewUserFindingsTests {
    @Test func aWrongImageIsNotABackupProblem() {
        let d = tempDir()
        #expect(odflash("fw", "generate", "--family", "synthetic-test", "-o", d + "/s.bin").status == 0)
        let r = odflash("flash", "--json", "emu:ihas124y", d + "/s.bin", "--dry-run")
        #expect(r.status == 4)
        let backup = r.lines.first { $0["type"] as? String == "check" && $0["name"] as? String == "backup" }
        let detail = backup?["detail"] as? String ?? ""
        #expect(detail.contains("this image is not one of nec-optiarc's layouts (it is synthetic-test/synth-dvdrw): fix the image first"), "\(detail)")
        #expect(!detail.contains("--no-backup"))
    }

    @Test func everyJournalEntryNamesTheBackup() throws {
        let d = tempDir()
        #expect(odflash("fw", "generate", "--family", "synthetic-test", "-o", d + "/s.bin").status == 0)
        let r = odflash("flash", "emu:synthetic-writer", d + "/s.bin", "--yes", "--journal", d + "/j.jsonl", "--backup-dir", d)
        #expect(r.status == 0, "\(r.err)")
        let entries = journalEntries(d + "/j.jsonl")
        #expect(entries.map { $0["event"] as? String } == ["start", "committing", "success"])
        let backups = Set(entries.compactMap { $0["backup"] as? String })
        #expect(backups.count == 1 && entries.allSatisfy { $0["backup"] != nil })
        let b = try #require(backups.first)
        #expect(b.hasPrefix("/") && FileManager.default.fileExists(atPath: b))
        // Without a backup, entries have none.
        let n = odflash("flash", "emu:synthetic-writer", d + "/s.bin", "--yes", "--journal", d + "/k.jsonl", "--no-backup")
        #expect(n.status == 0 && journalEntries(d + "/k.jsonl").allSatisfy { $0["backup"] == nil })
    }

    @Test func folderOutputsAndIgnoredOptions() {
        let d = tempDir()
        #expect(odflash("fw", "generate", "--family", "synthetic-test", "-o", d + "/s.bin").status == 0)
        try? FileManager.default.createDirectory(atPath: d + "/out", withIntermediateDirectories: true)
        for force in [[], ["--force-overwrite"]] {
            expectOneLineError(odflash(["fw", "patch", d + "/s.bin", "-o", d + "/out", "--rename", "97:24:00=97:26:66"] + force), status: 2, containing: "is a directory")
            expectOneLineError(odflash(["dump", "emu:synthetic-writer", d + "/out"] + force), status: 2, containing: "is a directory")
        }
        expectOneLineError(odflash("media", "emu:ihas124y-cmc", "--check", "--member", "a.bin"), status: 2, containing: "--member names a member of --firmware's archive")
    }

    @Test func lintOfAMissingDatabase() {
        expectOneLineError(odflash("db", "lint", "--db", "/nonexistent-odflash-db"), status: 2, containing: "no such folder: firmware-db not found there")
    }

    @Test func aCDRCodeIsNamedAsStored() {
        let d = tempDir()
        #expect(odflash("fw", "generate", "--family", "synthetic-test", "-o", d + "/s.bin").status == 0)
        // 97:24:07 is a short-strategy lead-in; the table's 97:24:00 a long-strategy one: not the same entry.
        expectOneLineError(odflash("fw", "patch", d + "/s.bin", "-o", d + "/p.bin", "--rename", "97:24:07=97:26:66"), status: 2,
                           containing: "97:24:07 is not in the table as typed: the entry for its manufacturer code is 97:24:00 (frame digit 0: long strategy; you typed 7: short strategy)")
        #expect(!FileManager.default.fileExists(atPath: d + "/p.bin"))
        #expect(odflash("fw", "patch", d + "/s.bin", "-o", d + "/p.bin", "--rename", "97:24:00=97:26:66").status == 0)
    }
}
