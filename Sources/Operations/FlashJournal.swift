#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import SCSI
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
        /// The image flashed, as an absolute path.
        public var image: String
        /// The drive's unit serial number (VPD 80h), when it has one: which of two identical drives was flashed.
        public var serial: String?
        public var sha256: String
        public var family: String
        public var protocolName: String
        public var detail: String?
        /// The backup of the drive's previous firmware, as an absolute path, in every entry from the one that follows
        /// the backup on (absent when none was taken).
        public var backup: String?

        public init(time: String, event: String, device: String, drive: String, image: String, serial: String? = nil, sha256: String,
                    family: String, protocolName: String, detail: String?, backup: String? = nil) {
            self.time = time; self.event = event; self.device = device; self.drive = drive; self.image = image; self.serial = serial
            self.sha256 = sha256; self.family = family; self.protocolName = protocolName; self.detail = detail; self.backup = backup
        }
    }

    public let path: String
    public init(path: String) { self.path = path }

    /// $ODFLASH_JOURNAL; else, run as root (also under sudo), /var/lib/odflash/journal.jsonl, the system's record of
    /// what was flashed into its drives; else $XDG_STATE_HOME/odflash/journal.jsonl, else ~/.local/state/odflash/journal.jsonl.
    public static func defaultPath(_ env: [String: String] = ProcessInfo.processInfo.environment, euid: uid_t = geteuid()) -> String {
        if let p = env["ODFLASH_JOURNAL"], !p.isEmpty { return p }
        if euid == 0 { return systemPath }
        let state = env["XDG_STATE_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? ((env["HOME"] ?? "/root") + "/.local/state")
        return state + "/odflash/journal.jsonl"
    }

    /// Where root's flashes are journalled.
    public static let systemPath = "/var/lib/odflash/journal.jsonl"

    /// `path` made absolute against the current folder (journal entries name files so that they can be found later,
    /// from anywhere).
    public static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(path).standardized.path
    }

    /// Why an entry could not be appended, or nil: checked before a flash (and its dry run) so that a journal that
    /// cannot be written stops the flash before anything is sent.
    public func writeProblem() -> String? {
        var st = stat()
        if lstat(FileName.c(path), &st) == 0 {
            let type = st.st_mode & S_IFMT
            if type == S_IFLNK { return "the flash journal \(path) is a symbolic link; odflash does not write through links" }
            if type != S_IFREG { return "the flash journal \(path) is not a regular file" }
            if access(FileName.c(path), W_OK) != 0 { return "the flash journal \(path) is not writable" }
            if !Self.looksLikeJournal(path) {
                return "the flash journal \(path) exists and is not an odflash journal (its first line is not a JSON object): pass another --journal FILE"
            }
            return nil
        }
        // Not there yet: the nearest existing folder on its path must be writable (the rest is created).
        var dir = PathName.deletingLast(path)
        if dir.isEmpty { dir = "." }
        while stat(FileName.c(dir), &st) != 0 {
            let up = PathName.deletingLast(dir)
            if up == dir || up.isEmpty { break }
            dir = up
        }
        guard st.st_mode & S_IFMT == S_IFDIR, access(FileName.c(dir), W_OK) == 0 else { return "the flash journal's folder \(dir) is not writable: pass --journal FILE" }
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
        let dir = PathName.deletingLast(path)
        if !dir.isEmpty { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        let fd = open(FileName.c(path), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0o600)
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

    /// The largest journal read (years of flashes are a few hundred kilobytes).
    public static let maxBytes = 64 << 20

    /// A line that could not be read as an entry, and why.
    public struct SkippedLine: Encodable, Sendable, Equatable {
        public let line: Int
        public let reason: String
    }

    /// Every entry, leniently: a line that is not an entry (not UTF-8, a torn write after a power cut, CR LF endings
    /// are fine) is skipped and reported, so that one bad line never hides an unfinished flash. A missing journal is
    /// empty; a journal that is not a regular file, is larger than `maxBytes`, or has no entry among non-blank lines
    /// is an error.
    public func load() throws -> (entries: [Entry], skipped: [SkippedLine]) {
        let data: [UInt8]
        do { data = try InputFile.read(path, limit: Self.maxBytes, what: "flash journals") }
        catch let e {
            if case .notFound = e { return ([], []) }
            throw OperationError("the flash journal \(e.description)", kind: .input)
        }
        var entries: [Entry] = []
        var skipped: [SkippedLine] = []
        let dec = JSONDecoder()
        for (n, bytes) in JSONLines.lines(data) {
            switch JSONLines.object(bytes) {
            case let .failure(e): skipped.append(SkippedLine(line: n, reason: e.description))
            case let .success(fields):
                let r = JSONLines.Record(source: path, line: n, fields: fields)
                do {
                    for k in ["time", "event", "device", "drive", "image", "sha256", "family", "protocolName"] {
                        _ = try r.string(k, required: true)
                    }
                    _ = try r.string("detail")
                } catch {
                    skipped.append(SkippedLine(line: n, reason: String(error.description.dropFirst("\(path) line \(n): ".count))))
                    continue
                }
                // The fields checked above are the ones an entry needs; the decoder only fills the struct.
                if let e = try? dec.decode(Entry.self, from: Data(bytes)) { entries.append(e) }
                else { skipped.append(SkippedLine(line: n, reason: "not a journal entry")) }
            }
        }
        if entries.isEmpty, let first = skipped.first {
            throw OperationError("\(path) is not an odflash flash journal: line \(first.line): \(first.reason)", kind: .input)
        }
        return (entries, skipped)
    }

    /// The entries (unreadable lines skipped; an unreadable journal is empty).
    public func read() -> [Entry] { (try? load())?.entries ?? [] }

    /// The time in UTC as RFC 3339 ("2024-05-01T12:34:56Z"), with gmtime_r and strftime: no date formatter (which
    /// would bring Foundation's internationalisation and ICU's data into the binary, and time-zone work at start).
    public static func now() -> String {
        var t = time(nil)
        var tm = tm()
        gmtime_r(&t, &tm)
        var buf = [CChar](repeating: 0, count: 32)
        let n = strftime(&buf, buf.count, "%Y-%m-%dT%H:%M:%SZ", &tm)
        return String(decoding: buf[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

