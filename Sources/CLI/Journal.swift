import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The flash journal: one JSON line per event (start, committing, the outcome), appended and synced before the
/// flash goes on, so that after a crash or a power cut it says what was being written to which drive.
struct FlashJournal {
    struct Entry: Codable {
        var time: String
        var event: String
        var device: String
        var drive: String
        var image: String
        var sha256: String
        var family: String
        var protocolName: String
        var detail: String?
    }

    let path: String

    /// $ODFLASH_JOURNAL, else $XDG_STATE_HOME/odflash/journal.jsonl, else ~/.local/state/odflash/journal.jsonl.
    static func defaultPath(_ env: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let p = env["ODFLASH_JOURNAL"], !p.isEmpty { return p }
        let state = env["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? ((env["HOME"] ?? "/root") + "/.local/state")
        return state + "/odflash/journal.jsonl"
    }

    /// Appends one entry with O_APPEND and fsync; never follows a symlink at the journal itself.
    func append(_ e: Entry) throws {
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CLIError("cannot write the flash journal \(path): \(String(cString: strerror(errno)))", kind: "output", status: .failed) }
        defer { close(fd) }
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var line = (try? enc.encode(e)) ?? Data()
        line.append(0x0A)
        let ok = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) == $0.count }
        guard ok, fsync(fd) == 0 else { throw CLIError("cannot write the flash journal \(path): \(String(cString: strerror(errno)))", kind: "output", status: .failed) }
    }

    func read() -> [Entry] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Entry.self, from: Data($0.utf8)) }
    }

    static func now() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: Date())
    }
}

struct JournalCommand: ODCommand {
    static let readsFirmwareDB = false
    static let configuration = CommandConfiguration(
        commandName: "journal",
        abstract: "Show the flash journal: what was flashed to which drive, and how each flash ended.",
        discussion: "A flash that was interrupted (crash, power cut) shows a 'committing' entry without an outcome: that drive's firmware may be incomplete.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "The journal file (default: $ODFLASH_JOURNAL, $XDG_STATE_HOME/odflash/journal.jsonl or ~/.local/state/odflash/journal.jsonl).") var journal: String?
    @Option(help: "How many of the last entries to show.") var last: Int = 20

    struct Report: Encodable { let journal: String; let entries: [FlashJournal.Entry]; let unfinished: [FlashJournal.Entry] }

    func run(_ ctx: Context) throws {
        guard last > 0 else { throw CLIError("--last must be at least 1", kind: "usage", status: .usage) }
        let j = FlashJournal(path: journal ?? FlashJournal.defaultPath())
        let all = j.read()
        // A flash whose last entry is 'committing' never recorded an outcome.
        var byRun: [String: FlashJournal.Entry] = [:]
        for e in all { byRun[e.device + "|" + e.sha256] = e }
        let unfinished = byRun.values.filter { $0.event == "committing" }.sorted { $0.time < $1.time }
        let shown = Array(all.suffix(last))
        var text = all.isEmpty ? "The journal \(j.path) is empty or missing: no flash has been recorded.\n" : "Journal: \(j.path)\n"
        if !shown.isEmpty {
            text += TextTable.render(["TIME", "EVENT", "DEVICE", "DRIVE", "IMAGE", "DETAIL"],
                                     shown.map { [$0.time, $0.event, $0.device, $0.drive, ($0.image as NSString).lastPathComponent, $0.detail ?? ""] })
        }
        for u in unfinished {
            text += "UNFINISHED: \(u.time) \(u.device) (\(u.drive)) was being flashed with \(u.image) and no outcome was recorded: the firmware may be incomplete; flash the same image again before power-cycling the drive\n"
        }
        ctx.emit(Report(journal: j.path, entries: shown, unfinished: unfinished), text: text)
    }
}
