import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The flash journal: one JSON line per event (start, committing, the outcome), appended and synced before the
/// flash goes on, so that after a crash or a power cut it says what was being written to which drive.
public struct FlashJournal: Sendable {
    public struct Entry: Codable, Sendable {
        public var time: String
        public var event: String
        public var device: String
        public var drive: String
        public var image: String
        public var sha256: String
        public var family: String
        public var protocolName: String
        public var detail: String?

        public init(time: String, event: String, device: String, drive: String, image: String, sha256: String, family: String,
                    protocolName: String, detail: String?) {
            self.time = time; self.event = event; self.device = device; self.drive = drive; self.image = image
            self.sha256 = sha256; self.family = family; self.protocolName = protocolName; self.detail = detail
        }
    }

    public let path: String
    public init(path: String) { self.path = path }

    /// $ODFLASH_JOURNAL, else $XDG_STATE_HOME/odflash/journal.jsonl, else ~/.local/state/odflash/journal.jsonl.
    public static func defaultPath(_ env: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let p = env["ODFLASH_JOURNAL"], !p.isEmpty { return p }
        let state = env["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? ((env["HOME"] ?? "/root") + "/.local/state")
        return state + "/odflash/journal.jsonl"
    }

    /// Why an entry could not be appended, or nil: checked before a flash (and its dry run) so that a journal that
    /// cannot be written stops the flash before anything is sent.
    public func writeProblem() -> String? {
        var st = stat()
        if lstat(path, &st) == 0 {
            let type = st.st_mode & S_IFMT
            if type == S_IFLNK { return "the flash journal \(path) is a symbolic link; odflash does not write through links" }
            if type != S_IFREG { return "the flash journal \(path) is not a regular file" }
            if access(path, W_OK) != 0 { return "the flash journal \(path) is not writable" }
            if !Self.looksLikeJournal(path) {
                return "the flash journal \(path) exists and is not an odflash journal (its first line is not a JSON object): pass another --journal FILE"
            }
            return nil
        }
        // Not there yet: the nearest existing folder on its path must be writable (the rest is created).
        var dir = (path as NSString).deletingLastPathComponent
        if dir.isEmpty { dir = "." }
        while stat(dir, &st) != 0 {
            let up = (dir as NSString).deletingLastPathComponent
            if up == dir || up.isEmpty { break }
            dir = up
        }
        guard st.st_mode & S_IFMT == S_IFDIR, access(dir, W_OK) == 0 else { return "the flash journal's folder \(dir) is not writable: pass --journal FILE" }
        return nil
    }

    /// An existing file odflash may append to: empty, or JSON lines (a firmware image or any other file is never appended to).
    static func looksLikeJournal(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 64)
        let n = Glibc.read(fd, &buf, buf.count)
        guard n > 0 else { return n == 0 }
        guard let first = buf[0..<n].first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) else { return true }
        return first == UInt8(ascii: "{")
    }

    /// Appends one entry with O_APPEND and fsync; never follows a symlink at the journal itself, and never writes to
    /// anything but a regular file (a FIFO or device node put there since the check is refused, without blocking).
    public func append(_ e: Entry) throws {
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw OperationError("cannot write the flash journal \(path): \(String(cString: strerror(errno)))", kind: .output) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            throw OperationError("the flash journal \(path) is not a regular file: pass another --journal FILE", kind: .outputInvalid)
        }
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var line = (try? enc.encode(e)) ?? Data()
        line.append(0x0A)
        let ok = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) == $0.count }
        guard ok, fsync(fd) == 0 else { throw OperationError("cannot write the flash journal \(path): \(String(cString: strerror(errno)))", kind: .output) }
    }

    public func read() -> [Entry] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Entry.self, from: Data($0.utf8)) }
    }

    public static func now() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: Date())
    }
}

