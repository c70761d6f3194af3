import Operations
import Emulator
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import FirmwareDB
import SCSI
import Dispatch
import Transports

/// What every command shares: output mode, verbosity, the database, how devices are opened.
public final class Context {
    public let console: Console
    public let json: Bool
    /// -v given this many times (sg3_utils' levels): 1 echoes every CDB, 2 adds the responses in hex, 3 all data.
    public let verbosity: Int
    public var verbose: Bool { verbosity > 0 }
    let dbPath: String?
    let transcriptPath: String?
    private var cachedDB: FirmwareDatabase?
    /// The database read ahead while the command line was parsed (used when it is the one the command asks for).
    var prefetch: DBPrefetch?
    private(set) var finishError: CLIError?

    /// Asks before an irreversible action. Never prompts in JSON mode or without a terminal: there `--yes` is required.
    /// `action` completes "... needs --yes"; `undone` says what was left untouched when the user declines.
    func confirm(_ question: String, action: String, undone: String) throws {
        if json || isatty(0) == 0 {
            throw CLIError("\(action) needs --yes when there is no terminal to ask (or with --json)", kind: .usage)
        }
        console.err(question + " [y/N] ")
        guard let answer = readLine(), answer.lowercased().hasPrefix("y") else {
            throw CLIError("not confirmed; \(undone)", kind: .refused)
        }
    }

    /// Where the firmware-db is looked for when --db does not name it.
    let search: DBSearch

    public init(console: Console, json: Bool, verbosity: Int, dbPath: String?, transcriptPath: String? = nil, search: DBSearch = .process) {
        self.search = search
        self.console = console
        self.json = json
        self.verbosity = verbosity
        self.dbPath = dbPath
        self.transcriptPath = transcriptPath
    }

    /// Writes the transcript (atomically), whether the command succeeded or not.
    /// The files the command reads (images): no output of the command may be one of them.
    var inputs: [String] = []

    /// Before the command runs: the transcript's target must be a new file or an earlier transcript, never a device
    /// node, FIFO, link or folder, and never a file the command line names (an input such as the image or a replayed
    /// transcript, or another output), whatever the name it is reached by (FileIdentity: a hard link, a symlinked
    /// folder, a bind mount). Refused here, the command prints nothing else.
    func checkTranscriptTarget(_ arguments: [String]) throws {
        guard let path = transcriptPath else { return }
        let (problem, exists) = AtomicFile.targetProblem(path)
        if let p = problem { throw CLIError("--transcript \(p.message)", kind: p.kind) }
        var others: [String] = []
        var skip = false
        for a in arguments {
            if skip { skip = false; continue }
            if a == "--transcript" { skip = true; continue }
            if a.hasPrefix("--transcript=") { continue }
            var v = a
            if v.hasPrefix("--"), let eq = v.firstIndex(of: "=") { v = String(v[v.index(after: eq)...]) }
            if v.hasPrefix("replay:") { v = String(v.dropFirst(7)) }
            if !v.isEmpty { others.append(v) }
        }
        let me = LocalPath.standardized(path)
        if FileIdentity.wouldOverwrite(path, anyOf: others) || others.contains(where: { ($0.contains("/" as Character) || $0.contains("." as Character)) && LocalPath.standardized($0) == me }) {
            throw CLIError("--transcript \(path) is an input of this command or one of its outputs: odflash never writes its transcript onto either; choose another name",
                           kind: .outputInvalid)
        }
        if exists && !Context.isTranscript(path) {
            throw CLIError("--transcript \(path) exists and is not an odflash transcript; refusing to replace it: choose another name", kind: .outputExists)
        }
    }

    /// An earlier transcript (replaced by the new one): empty, JSON lines, or text lines that start with a command number.
    static func isTranscript(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 8)
        let n = read(fd, &buf, buf.count)
        guard n > 0 else { return n == 0 }
        if buf[0] == UInt8(ascii: "{") { return true }
        return n >= 6 && buf[0..<4].allSatisfy { $0 >= 0x30 && $0 <= 0x39 } && buf[4] == 0x20 && buf[5] == 0x20
    }

    func finish() {
        let recorders = opener.takeRecorders()
        guard let path = transcriptPath, !recorders.isEmpty else { return }
        if FileIdentity.wouldOverwrite(path, anyOf: inputs) {
            finishError = CLIError("--transcript \(path) is an input of this command: odflash never writes onto its input", kind: .outputInvalid)
            return
        }
        let jsonl = path.hasSuffix(".jsonl")
        let body = recorders.map { jsonl ? $0.jsonLines : $0.text }.joined()
        do { try AtomicFile.write(Data(body.utf8), to: path) }
        catch let e as CLIError { finishError = e }
        catch { finishError = CLIError("\(path): \(error)", kind: .output) }
    }

    /// The firmware-db, loaded once. A broken db is an error naming the file and line; a missing one, an error
    /// naming every place searched.
    public func database() throws -> FirmwareDatabase {
        if let db = try optionalDatabase(announce: false) { return db }
        throw CLIError("firmware-db not found (searched \(search.places.joined(separator: ", "))): pass --db PATH or set ODFLASH_DB", kind: .db)
    }

    /// The firmware-db, or nil when none is found (said once on stderr, unless `announce` is false): for the commands
    /// that work without it (scan, info, sense). One named by --db or $ODFLASH_DB must exist, and a broken one is an error.
    func optionalDatabase(announce: Bool = true) throws -> FirmwareDatabase? {
        if let db = cachedDB { return db }
        guard let root = search.locate(dbPath) else {
            announceMissingDB(announce)
            return nil
        }
        do {
            let db: FirmwareDatabase
            if let p = prefetch, p.root == root { db = try p.take().get() } else { db = try FirmwareDatabase.load(root: root) }
            prefetch = nil
            cachedDB = db
            return db
        } catch {
            throw CLIError(error.description, kind: .db)
        }
    }
    private var announcedMissingDB = false

    private func announceMissingDB(_ announce: Bool) {
        guard announce && !announcedMissingDB else { return }
        announcedMissingDB = true
        console.err("note: firmware-db not found (searched \(search.places.joined(separator: ", "))); the firmware-db column stays empty: pass --db PATH or set ODFLASH_DB\n")
    }

    /// firmware-db/media alone (the whole database when it is already loaded): what `sense` needs for its advice.
    /// The media knowledge alone (firmware-db/media: what `sense` needs), without reading the families; nil when no
    /// firmware-db is found (said once on stderr when `announce`).
    func optionalMediaKnowledge(announce: Bool = true) throws -> MediaKnowledge? {
        if let db = cachedDB { return db.media }
        guard let root = search.locate(dbPath) else {
            announceMissingDB(announce)
            return nil
        }
        do { return try MediaKnowledge.load(root: root) } catch { throw CLIError(error.description, kind: .db) }
    }

    static func executablePath(_ arg0: String) -> String {
        if let p = LocalPath.linkTarget("/proc/self/exe") { return p }
        return arg0
    }

    /// The device opener: the one place device names are interpreted (DeviceName), with the transcript and echo.
    lazy var opener: DeviceOpener = {
        let console = self.console
        let o = DeviceOpener(database: { [unowned self] in try self.database() },
                             recordTranscripts: transcriptPath != nil,
                             echo: verbose ? { console.err($0) } : nil)
        o.echoData = verbosity - 1
        return o
    }()

    /// Opens a device by name (see DeviceName).
    public func openDevice(_ name: String, exclusive: Bool = false) throws -> OpenedDevice {
        try opener.open(name, exclusive: exclusive)
    }

    /// Writes the result: JSON when --json, else the text; with `wrap`, its long lines wrapped to 80 columns (the
    /// reports people read on a terminal: scan, info, fw inspect, media, db models, journal).
    /// A report: JSON with --json, else its text fitted to the console's width (TextWrap.fit; every text report
    /// people read keeps to 80 columns, or $COLUMNS).
    func emit<T: Encodable>(_ value: T, text: @autoclosure () -> String) {
        console.out(json ? JSON.encode(value) : fit(text()))
    }

    /// `text` with every line longer than the console's width wrapped (continuation lines under the value).
    func fit(_ text: String) -> String { TextTable.width.map { TextWrap.fit(text, width: $0) } ?? text }

    /// ODFLASH_TIMING=1 prints the time since process start at named points (for scripts/bench-*).
    private static let timing = Environment.value("ODFLASH_TIMING") != nil
    func mark(_ what: String) {
        guard Context.timing else { return }
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        // Process start: /proc/self/stat field 22 is in clock ticks since boot.
        let stat = (try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8)) ?? ""
        let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
        let startTicks = fields.count > 19 ? Double(fields[19]) ?? 0 : 0
        let now = Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
        let since = (now - startTicks / Double(sysconf(Int32(_SC_CLK_TCK)))) * 1000
        // "%-16@ %7.2f" as String(format:) wrote it: the label left-aligned in at least 16 columns.
        let label = what + String(repeating: " ", count: max(0, 16 - what.utf16.count))
        console.err("timing: " + label + " " + cFormat("%7.2f", since) + " ms since start\n")
    }

    func warn(_ s: String) {
        if !json { console.err("warning: \(s)\n") }
    }
}

/// Reads the firmware-db on another thread while ArgumentParser parses the command line, for the commands that
/// load it. The guess of the db folder (from --db, $ODFLASH_DB or the default places) is checked against the parsed
/// options before the result is used; a wrong guess only costs the read.
final class DBPrefetch: @unchecked Sendable {
    let root: String
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<FirmwareDatabase, FirmwareDatabase.LoadError>?

    private init(root: String) { self.root = root }

    static func start(_ args: [String], search: DBSearch) -> DBPrefetch? {
        // The command the arguments name, as the help lookup finds it; only one that reads the database through the Context.
        guard !args.contains("--help"), !args.contains("-h"), let cmd = Runner.helpTarget(args) as? any ODCommand.Type, cmd.readsFirmwareDB else { return nil }
        var explicit: String?
        for (i, a) in args.enumerated() {
            if a == "--db", i + 1 < args.count { explicit = args[i + 1] } else if a.hasPrefix("--db=") { explicit = String(a.dropFirst(5)) }
        }
        guard let root = search.locate(explicit) else { return nil }
        let p = DBPrefetch(root: root)
        BackgroundWork.run {
            p.result = Result { () throws(FirmwareDatabase.LoadError) in try FirmwareDatabase.load(root: root) }
            p.done.signal()
        }
        return p
    }

    /// Waits until the background read has finished (whether or not its result is used): no thread outlives the command.
    func join() {
        done.wait()
        done.signal()
    }

    /// Waits for the read to finish.
    func take() -> Result<FirmwareDatabase, FirmwareDatabase.LoadError> {
        done.wait()
        done.signal()
        return result!
    }
}

/// Where the firmware-db is looked for: the environment ($ODFLASH_DB), the executable's own path and the current
/// folder (a parameter so that tests can run as an installed or copied binary would).
public struct DBSearch: Sendable {
    public let environment: [String: String]
    public let executable: String
    public let cwd: String

    public init(environment: [String: String], executable: String, cwd: String) {
        self.environment = environment; self.executable = executable; self.cwd = cwd
    }

    public static var process: DBSearch {
        // The search reads one variable, ODFLASH_DB.
        DBSearch(environment: Environment.value("ODFLASH_DB").map { ["ODFLASH_DB": $0] } ?? [:],
                 executable: CommandLine.arguments.first.map { Context.executablePath($0) } ?? "",
                 cwd: LocalPath.currentDirectory())
    }

    /// The folder to read: --db, else $ODFLASH_DB, else the first of `places` that holds a models.yaml.
    func locate(_ explicit: String?) -> String? {
        FirmwareDatabase.locate(explicit: explicit, environment: environment, executable: executable, cwd: cwd)
    }

    /// Every folder searched when neither --db nor $ODFLASH_DB names one.
    var places: [String] { FirmwareDatabase.searchPlaces(executable: executable, cwd: cwd) }
}
