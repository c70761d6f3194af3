import Emulator
import Firmware
import FirmwareDB
import Foundation
import Operations
import Testing
@testable import CLI

/// Properties over every emulated drive and every image the generator can make for its family:
/// - a dry run that succeeds predicts a real run (on a fresh emulated drive) that succeeds; a dry run that refuses
///   predicts a real run that refuses for the same checks;
/// - where the family has a public read, the backup the real run took flashes back (restore) and the drive then
///   holds what it held before.
@Suite struct DryRunPropertyTests {
    struct Drive { let name: String; let vendor: String; let product: String; let revision: String; let driveID: String? }

    /// The emulated drives (adversarial ones aside) with their INQUIRY strings and the drive ID their RAM holds.
    static func drives() -> [Drive] {
        let dir = db + "/emulator"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".yaml") && !$0.hasPrefix("adversarial") }.sorted()
        return names.compactMap { f in
            guard let text = try? String(contentsOfFile: dir + "/" + f, encoding: .utf8) else { return nil }
            func value(_ key: String) -> String? {
                guard let r = text.range(of: "\n  \(key): \"") else { return nil }
                let rest = text[r.upperBound...]
                return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
            }
            var id: String?
            if let r = text.range(of: "ascii: \"") { let rest = text[r.upperBound...]; id = rest.firstIndex(of: "\"").map { String(rest[..<$0]) } }
            guard let v = value("vendor"), let p = value("product"), let rev = value("revision") else { return nil }
            return Drive(name: String(f.dropLast(5)), vendor: v, product: p, revision: rev, driveID: id?.count == 4 ? id : nil)
        }
    }

    /// The refused checks of a flash report (text output's checklist).
    static func refused(_ r: Run) -> [String] {
        r.out.split(separator: "\n").filter { $0.contains(" REFUSED ") }.map { String($0.split(separator: " ", omittingEmptySubsequences: true).prefix(3).joined(separator: " ")) }
    }

    @Test(arguments: drives().map(\.name))
    func dryRunPredictsTheRealRun(_ name: String) throws {
        let drive = try #require(Self.drives().first { $0.name == name })
        let database = try FirmwareDatabase.load(root: db)
        guard let model = database.match(vendor: drive.vendor, product: drive.product, revision: drive.revision),
              let fam = database.family(model.family) else { return }
        let family = fam.id
        let layouts = fam.layouts.map(\.id)
        let d = tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        for layout in layouts {
            let img = d + "/\(layout).bin"
            var gen = ["fw", "generate", "--family", family, "--layout", layout, "--vendor", drive.vendor, "--product", drive.product,
                       "--revision", "ZZ99", "-o", img, "--force-overwrite"]
            if let id = drive.driveID { gen += ["--drive-id", id] }
            guard odflash(gen).status == 0 else { continue }   // a layout the generator cannot make for this drive
            // With a backup; where that is refused (no public read), without one.
            var flashedWithBackup = false
            for extra in [[], ["--no-backup"]] {
                let flags = ["--allow-untested", "--accept-risk", "--backup-dir", d] + extra
                let dry = odflash(["flash", "emu:" + name, img, "--dry-run"] + flags)
                let real = odflash(["flash", "emu:" + name, img, "--yes"] + flags)
                #expect((dry.status == 0) == (real.status == 0), "\(name) \(layout) \(extra): dry run \(dry.status) \(dry.err) / real run \(real.status) \(real.err)")
                if dry.status == 4 {
                    #expect(Self.refused(dry) == Self.refused(real), "\(name) \(layout): \(Self.refused(dry)) vs \(Self.refused(real))")
                }
                if extra.isEmpty && real.status == 0 { flashedWithBackup = true }
                if real.status == 0 || !Self.refused(real).contains(where: { $0.hasPrefix("backup") }) { break }
            }
            if flashedWithBackup {
                try backupFlashesBack(name, image: img, database: database)
            }
        }
    }

    /// On one emulated drive: flash (taking a backup), then flash the backup back; the flash then holds what it held.
    func backupFlashesBack(_ name: String, image: String, database: FirmwareDatabase) throws {
        let d = tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        let opener = DeviceOpener(database: { database }, recordTranscripts: false, echo: nil)
        let dev = try opener.open("emu:" + name)
        let before = try #require(dev.emulated?.memory?.flash)
        var o = FlashOptions()
        o.allowUntested = true; o.acceptRisk = true; o.backupDir = d
        let flash = FlashSession(db: database, device: dev, image: try ImageFile.load(image, member: nil), imageName: image, options: o)
        let p1 = try flash.prepare()
        try #require(p1.accepted, "\(name): \(p1.refused.map(\.detail))")
        let r1 = try flash.execute(p1, progress: { _ in }, warn: { _ in })
        #expect(r1.outcome?.status == .success)
        let backup = try #require(r1.backup, "\(name): no backup although the family has a public read")
        o.allowOlder = true; o.allowReinstall = true; o.noBackup = true
        let restore = FlashSession(db: database, device: dev, image: try ImageFile.load(backup, member: nil), imageName: backup, options: o)
        let p2 = try restore.prepare()
        // A MediaTek MT19xx backup is a raw read of the drive (its boot page decrypted): never flashed back, by design.
        if p2.report.mediatek?.driveRead == true {
            #expect(!p2.accepted && p2.refused.contains { $0.name == "not a drive read" }, "\(name): a raw drive read was not refused")
            return
        }
        try #require(p2.accepted, "\(name): the backup is refused: \(p2.refused.map { "\($0.name): \($0.detail)" })")
        let r2 = try restore.execute(p2, progress: { _ in }, warn: { _ in })
        #expect(r2.outcome?.status == .success, "\(name): \(r2.outcome?.message ?? "")")
        let after = try #require(dev.emulated?.memory?.flash)
        // The image's range of the flash is back to what it was (the drive's own areas outside it are not written).
        let placed = try #require(p2.plan?.placedImage)
        #expect(after[placed.at..<(placed.at + placed.bytes.count)] == before[placed.at..<(placed.at + placed.bytes.count)], "\(name): the flash differs after the restore")
    }
}
