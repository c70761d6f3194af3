import Operations
import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import SCSI
#if canImport(Glibc)
import Glibc
#endif

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Flag(name: .long, help: "Print only JSON on stdout (errors too); never prompt.")
    var json = false

    @Flag(name: .shortAndLong, help: "Echo every CDB and its status on stderr; -vv adds the bytes of each response in hex (the first 256), -vvv every byte sent and received.")
    var verbose: Int

    @Option(name: .long, help: "firmware-db folder (default: $ODFLASH_DB, beside the executable, or the source tree).")
    var db: String?

    @Option(name: .long, help: "Record every command sent to the device: readable text, or JSON lines when the name ends in .jsonl (replay with replay:FILE).")
    var transcript: String?
}

/// Commands implement this instead of run(): they get a Context and report errors by throwing.
protocol ODCommand: ParsableCommand {
    var global: GlobalOptions { get }
    func run(_ ctx: Context) throws
    /// Whether the command loads the firmware-db through the Context (it is then read ahead while the command line is
    /// parsed). Commands that never do, or read it their own way (db lint), say false.
    static var readsFirmwareDB: Bool { get }
    /// With --json the command prints NDJSON (one object a line, each with a "type"), its error included.
    static var streamsJSON: Bool { get }
}

extension ODCommand {
    static var readsFirmwareDB: Bool { true }
    static var streamsJSON: Bool { false }
}

public struct Odflash: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "odflash",
        abstract: "Identify, inspect and safely flash CD/DVD/BD drive firmware.",
        discussion: "Devices: /dev/sgN, /dev/srN, usb:BUS:ADDR, usb:VID:PID, serial:SERIAL (the drive whose VPD 80h serial number scan shows), emu:NAME (an emulated drive from firmware-db/emulator), replay:TRANSCRIPT.jsonl",
        version: "0.1.0",
        subcommands: [Scan.self, Info.self, SenseCommand.self, MediaCommand.self, RegionCommand.self, FWCommand.self, FlashCommand.self, RestoreCommand.self, DumpCommand.self, BooktypeCommand.self, JournalCommand.self, DBCommand.self])

    public init() {}
}

/// The whole program: parse, run, report. Returns the process exit status; never traps on bad input.
public enum Runner {
    /// Called once as the process starts: the program's arguments byte for byte (a file name that is not UTF-8
    /// survives; see FileName). Descriptors 0-2 that are closed are opened on /dev/null first, so that no file odflash
    /// opens later lands on them (a closed stdin would otherwise read the first file opened, a closed stdout write
    /// into it); a closed stdin is remembered and reported as such.
    public static func arguments() -> [String] {
        for fd in Int32(0)...2 where fcntl(fd, F_GETFD) == -1 && errno == EBADF {
            if fd == 0 { InputFile.standardInputClosed = true }
            let n = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY)
            if n >= 0 && n != fd { _ = dup2(n, fd); close(n) }
        }
        return Array(FileName.arguments().dropFirst())
    }

    public static func main(_ arguments: [String], console: Console = .standard()) -> Int32 {
        main(arguments, console: console, ids: (getuid(), geteuid(), getgid(), getegid()))
    }

    /// `search` says where the firmware-db is looked for (tests run as an installed or a copied binary would).
    static func main(_ arguments: [String], console: Console, search: DBSearch) -> Int32 {
        main(arguments, console: console, ids: (getuid(), geteuid(), getgid(), getegid()), search: search)
    }

    /// `ids` (real and effective user and group) are a parameter so that the setuid refusal can be tested.
    static func main(_ arguments: [String], console: Console, ids: (uid_t, uid_t, gid_t, gid_t), search: DBSearch = .process) -> Int32 {
        // The text width of this run (tables and reports wrap to it).
        // No thread outlives the command: exit() tears libraries down under a thread still in them (class 7 of #16).
        defer { BackgroundWork.joinAll() }
        return TextTable.$width.withValue(console.width) { run(arguments, console: console, ids: ids, search: search) }
    }

    private static func run(_ arguments: [String], console: Console, ids: (uid_t, uid_t, gid_t, gid_t), search: DBSearch) -> Int32 {
        let wantsJSON = arguments.contains("--json")
        // flash and dump print NDJSON even when they cannot start (setuid, bad arguments): the error is one line.
        // (Asked only on those paths: the command-type lookup costs start-up time the fast paths below do not spend.)
        var streams: Bool { (helpTarget(arguments) as? any ODCommand.Type)?.streamsJSON ?? false }
        if ids.0 != ids.1 || ids.2 != ids.3 {
            return report(CLIError("odflash refuses to run setuid or setgid: run it as the user you are", kind: .security), json: wantsJSON, lines: streams, console: console)
        }
        // `odflash --version` (with --json or --db at most): answered without building the parser (its reflection over
        // every command is most of the cost of this process).
        if let v = VersionReport.request(arguments) {
            return VersionReport.print(json: v.json, dbPath: v.db, search: search, console: console)
        }
        // `odflash sense CODE...` without options: answered without building the parser as well (the same decoding
        // and report as the parsed command; anything else on the line goes through the parser).
        if let codes = SenseCommand.fastPath(arguments) {
            let ctx = Context(console: console, json: false, verbosity: 0, dbPath: nil, transcriptPath: nil, search: search)
            return perform(ctx, arguments: arguments, json: false, lines: false, console: console) { try SenseCommand.decode(codes, ctx) }
        }
        let prefetch = DBPrefetch.start(arguments, search: search)
        // Every background task ends before the process does (an error path must not exit under a running thread).
        defer { prefetch?.join() }
        let command: ParsableCommand
        do {
            command = try Odflash.parseAsRoot(arguments)
        } catch {
            let code = Odflash.exitCode(for: error)
            if code == .success {
                // --help / --version: help for the subcommand named, not the root's.
                let wantsHelp = arguments.first == "help" || arguments.contains("--help") || arguments.contains("-h")
                console.out(HelpText.fit(wantsHelp ? Odflash.helpMessage(for: helpTarget(arguments)) : Odflash.fullMessage(for: error), width: console.width) + "\n")
                return 0
            }
            let msg = Odflash.message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid arguments"
            return report(CLIError(msg + (wantsJSON ? "" : " (see 'odflash --help')"), kind: .usage), json: wantsJSON, lines: streams, console: console)
        }
        guard let cmd = command as? any ODCommand else {
            // "help X" and "X --help" arrive as a help command.
            console.out(HelpText.fit(Odflash.helpMessage(for: helpTarget(arguments)), width: console.width) + "\n")
            return 0
        }
        let g = cmd.global
        let ctx = Context(console: console, json: g.json, verbosity: g.verbose, dbPath: g.db, transcriptPath: g.transcript, search: search)
        ctx.prefetch = prefetch
        return perform(ctx, arguments: arguments, json: g.json, lines: type(of: cmd).streamsJSON, console: console) { try cmd.run(ctx) }
    }

    /// Runs a command's body with its context; errors become their report and exit status (README's table).
    private static func perform(_ ctx: Context, arguments: [String], json: Bool, lines: Bool, console: Console, _ body: () throws -> Void) -> Int32 {
        AtomicFile.notice = json ? nil : { console.err("warning: \($0)\n") }
        defer { AtomicFile.notice = nil }
        do {
            try ctx.checkTranscriptTarget(arguments)
            do { try body() } catch { ctx.finish(); throw error }
            ctx.finish()
            if let e = ctx.finishError { throw e }
            return 0
        } catch let e as ReportedError {
            return report(e.error, report: e.report, json: json, lines: lines, console: console)
        } catch let e as CLIError {
            return report(e, json: json, lines: lines, console: console)
        } catch let e as ExitCode {
            return e.rawValue
        } catch {
            return report(CLIError("\(error)", kind: .failed), json: json, lines: lines, console: console)
        }
    }

    /// The command a help request is about: the longest run of subcommand names in the arguments.
    static func helpTarget(_ args: [String]) -> ParsableCommand.Type {
        var t: ParsableCommand.Type = Odflash.self
        for a in args where !a.hasPrefix("-") && a != "help" {
            guard let next = t.configuration.subcommands.first(where: { $0.configuration.commandName == a }) else { break }
            t = next
        }
        return t
    }

    /// The one error shape: {"type": "error", "error": {"kind", "message", "exitStatus", "report"?}}.
    struct ErrorReport: Encodable {
        struct Body: Encodable {
            let message: String; let kind: String; let exitStatus: Int32
            let report: (any Encodable & Sendable)?
            enum CodingKeys: String, CodingKey { case message, kind, exitStatus, report }
            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(message, forKey: .message); try c.encode(kind, forKey: .kind); try c.encode(exitStatus, forKey: .exitStatus)
                if let r = report { try r.encode(to: c.superEncoder(forKey: .report)) }
            }
        }
        let type = "error"
        let error: Body
    }

    /// The longest error message shown (the README's one line: a path of thousands of characters or a list of
    /// thousands of zip members is cut, saying how much was left out).
    static let maxMessage = 480

    /// The one place an error becomes text: one line, control characters and bytes that are not UTF-8 escaped
    /// (a name with ESC or CR never reaches the terminal raw), at most `maxMessage` characters.
    static func oneLine(_ message: String) -> String {
        let lines = message.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        return FileName.oneLine(lines.joined(separator: "; "), limit: maxMessage)
    }

    static func report(_ e: CLIError, report: (any Encodable & Sendable)? = nil, json: Bool, lines: Bool = false, console: Console) -> Int32 {
        let oneLine = Runner.oneLine(e.message)
        if json {
            let r = ErrorReport(error: .init(message: oneLine, kind: e.kind.name, exitStatus: e.status.rawValue, report: report))
            console.out(lines ? JSON.compact(r) + "\n" : JSON.encode(r))
        } else {
            console.err("odflash: error: \(oneLine)\n")
        }
        return e.status.rawValue
    }
}
