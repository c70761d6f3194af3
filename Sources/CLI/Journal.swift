import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Operations
import SCSI

struct JournalCommand: ODCommand {
    static let readsFirmwareDB = false
    static let configuration = CommandConfiguration(
        commandName: "journal",
        abstract: "Show the flash journal: what was flashed to which drive, and how each flash ended.",
        discussion: "A flash that was interrupted (crash, power cut) shows a 'committing' entry without an outcome: that drive's firmware may be incomplete. A 'preparing' entry without an outcome: the drive's flash was not written, but it may still be in a vendor mode.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "The journal file (default: $ODFLASH_JOURNAL; as root /var/lib/odflash/journal.jsonl; else $XDG_STATE_HOME/odflash/journal.jsonl or ~/.local/state/odflash/journal.jsonl).") var journal: String?
    @Option(help: "How many of the last entries to show (1-100000).") var last = "20"

    struct Report: Encodable {
        let journal: String; let entries: [FlashJournal.Entry]; let unfinished: [FlashJournal.Entry]
        let skippedLines: [FlashJournal.SkippedLine]?
    }

    func run(_ ctx: Context) throws {
        let last = try CLINumber.integer(last, option: "--last", 1...100_000)
        let j = FlashJournal(path: journal ?? FlashJournal.defaultPath())
        // A journal named with --journal that is not there is a mistyped path, not "no flash recorded" (which could
        // make a user believe a drive was never flashed); the default journal is simply not written yet.
        if let named = journal, !FileName.exists(named) {
            throw CLIError("\(FileName.display(named)): no such file: no journal there (without --journal, odflash reads \(FlashJournal.defaultPath()))", kind: .input)
        }
        let (all, skipped) = try j.load()
        // A flash whose last entry is 'committing' (or 'preparing': a vendor mode entered) never recorded an outcome.
        var byRun: [String: FlashJournal.Entry] = [:]
        for e in all { byRun[e.device + "|" + (e.serial ?? "") + "|" + e.sha256] = e }
        let unfinished = byRun.values.filter { $0.event == "committing" || $0.event == "preparing" }.sorted { $0.time < $1.time }
        let shown = Array(all.suffix(last))
        var text = all.isEmpty ? "The journal \(j.path) is empty or missing: no flash has been recorded.\n" : "Journal: \(j.path)\n"
        if !shown.isEmpty {
            text += TextTable.render(["TIME", "EVENT", "DEVICE", "DRIVE", "IMAGE", "DETAIL"],
                                     lines: shown.map { [[$0.time], [$0.event], [$0.device], [$0.drive] + ($0.serial.map { ["serial \($0)"] } ?? []),
                                                          [PathName.last($0.image)], [$0.detail ?? ""]] }, width: TextTable.width)
        }
        for u in unfinished {
            if u.event == "preparing" {
                text += "UNFINISHED: \(u.time) \(u.device) (\(u.drive)\(u.serial.map { ", serial \($0)" } ?? "")) was being prepared for a flash with \(u.image) (\(u.detail ?? "a vendor command")) and no outcome was recorded: its flash was not written, but it may still be in a vendor mode; run 'odflash info' on it, then the same flash again\n"
            } else {
                text += "UNFINISHED: \(u.time) \(u.device) (\(u.drive)\(u.serial.map { ", serial \($0)" } ?? "")) was being flashed with \(u.image) and no outcome was recorded: the firmware may be incomplete; flash the same image again before power-cycling the drive\n"
            }
        }
        if let first = skipped.first {
            text += "warning: \(skipped.count) line\(skipped.count == 1 ? "" : "s") of the journal could not be read and \(skipped.count == 1 ? "was" : "were") skipped (line \(first.line): \(first.reason))\n"
        }
        ctx.emit(Report(journal: j.path, entries: shown, unfinished: unfinished, skippedLines: skipped.isEmpty ? nil : skipped), text: text)
    }
}
