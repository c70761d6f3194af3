import Operations
import ArgumentParser
import Emulator
import Firmware
import FirmwareDB
import Flashing
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MMC
import SCSI
import Transports
#if canImport(Glibc)
import Glibc
#endif

/// The options a flash and a restore share.
struct FlashFlags: ParsableArguments {
    @Flag(help: "Run the plan against an emulated copy of the drive; nothing is sent to the drive but identification.") var dryRun = false
    @Flag(help: "Do not ask for confirmation (required with --json or without a terminal).") var yes = false
    @Flag(help: "Accept a family whose flashing is not tested on real hardware.") var allowUntested = false
    @Flag(help: "Accept a family marked bad. Never overrides a model, size, checksum or bootcode mismatch.") var force = false
    @Flag(help: "Accept an image that names no model, for families whose images never do (a mismatch is never accepted).") var acceptUnidentifiedModel = false
    @Flag(help: "Flash although no backup of the current firmware can be taken.") var noBackup = false
    @Option(help: "Folder for the backup (default: the current folder).") var backupDir: String?
    @Flag(help: "Accept what the chosen sequence leaves behind when firmware-db names a risk (e.g. a Pioneer kernel image leaves the drive in kernel mode until a Normal image is flashed).") var acceptRisk = false
    @Flag(help: "MediaTek MT19xx: flash an image whose descriptor names another model (waives the model check only; the chip check never). The drive's downgrade-enable byte is warned about.") var crossflash = false
    @Option(name: .customLong("protocol"), help: "Use the family's flash sequence of this name ('odflash db models' lists them), for families whose drives cannot tell which one they take (SPC: spc-0e, spc-07, spc-05); identification and every check still apply.") var protocolName: String?
    @Option(help: "The flash journal (default: $ODFLASH_JOURNAL; as root /var/lib/odflash/journal.jsonl; else $XDG_STATE_HOME/odflash/journal.jsonl or ~/.local/state/odflash/journal.jsonl; emu: devices keep none unless given).") var journal: String?

    var options: FlashOptions {
        var o = FlashOptions()
        o.dryRun = dryRun; o.allowUntested = allowUntested
        o.force = force; o.acceptUnidentifiedModel = acceptUnidentifiedModel; o.noBackup = noBackup; o.acceptRisk = acceptRisk; o.crossflash = crossflash
        o.backupDir = backupDir; o.protocolName = protocolName; o.journalPath = journal
        return o
    }
}

/// Flashes a backup back: the same checks, backup (of what the drive holds now), journal and verification as a flash;
/// an older or equal version is expected, so neither needs a flag.
struct RestoreCommand: ODCommand {
    static let streamsJSON = true
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Flash a backup taken by 'odflash flash' or 'odflash dump' back into the drive (every flash check applies).",
        discussion: "The backup must validate as an image of the drive's layout, like any image odflash flashes; the version may be older than or equal to the drive's.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The drive: /dev/sgN, usb:BUS:ADDR, serial:SERIAL (two drives of one model told apart), emu:NAME.") var device: String
    @Argument(help: "The backup file.") var backup: String
    @OptionGroup var flags: FlashFlags

    func run(_ ctx: Context) throws {
        var o = flags.options
        o.allowOlder = true; o.allowReinstall = true
        try FlashCommand.flash(ctx, device: device, image: backup, member: nil, options: o, yes: flags.yes, verb: "Restore")
    }
}

struct FlashCommand: ODCommand {
    static let streamsJSON = true
    static let configuration = CommandConfiguration(
        commandName: "flash",
        abstract: "Flash a firmware image: preflight, backup, the family's download sequence, verification.",
        discussion: """
        Every preflight check must pass before the first write. --dry-run plays the identical command sequence \
        against an emulated copy of the drive and prints the CDB transcript. emu: devices flash for real into \
        emulated memory. --force never overrides a model, family, size, checksum or bootcode mismatch.
        """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The drive: /dev/sgN, usb:BUS:ADDR, serial:SERIAL (two drives of one model told apart), emu:NAME.") var device: String
    @Argument(help: "The firmware image (.bin, .gz, .zip).") var image: String
    @Option(help: "A zip member of IMAGE.") var member: String?
    @OptionGroup var flags: FlashFlags
    @Flag(help: "Flash the version the drive already runs.") var allowReinstall = false
    @Flag(help: "Flash an older version.") var allowOlder = false

    func run(_ ctx: Context) throws {
        var o = flags.options
        o.allowReinstall = allowReinstall; o.allowOlder = allowOlder
        try FlashCommand.flash(ctx, device: device, image: image, member: member, options: o, yes: flags.yes, verb: "Flash")
    }

    /// options -> session -> render: the preparation is shown, then the question, then the flash.
    static func flash(_ ctx: Context, device: String, image: String, member: String?, options: FlashOptions, yes: Bool, verb: String) throws {
        ctx.mark("start")
        let loaded = try ctx.loadImage(image, member: member)
        ctx.mark("image read")
        let db = try ctx.database()
        ctx.mark("database loaded")
        let dev = try ctx.openDevice(device, exclusive: !options.dryRun)
        defer { dev.transport.close() }
        ctx.mark("device opened")
        let session = FlashSession(db: db, device: dev, image: loaded, imageName: image, options: options)
        let prep = try session.prepare()
        ctx.mark("prepared")
        let out = FlashOutput(ctx)
        // Everything the user agrees to is shown before the question: checks, warnings, the plan, the backup.
        out.preparation(prep)
        guard prep.accepted else { throw out.refused(session.refusal(prep)) }
        if options.dryRun { return try out.finish(try session.dryRun(prep), text: "") }
        if !yes {
            try ctx.confirm("\(verb) \(image) (\(prep.report.version ?? "version unknown")) to \(prep.inquiry.vendor) \(prep.inquiry.product) \(prep.inquiry.revision) at \(device)?",
                            action: "flashing", undone: "nothing was written")
        }
        // From here on signals are handled (FlashSignals): honoured between commands until the first command that
        // changes the drive, deferred from then until the post-flash waits end; the report is printed either way.
        FlashSignals.acquire(newlineFirst: out.tty)
        defer { FlashSignals.release() }
        let report = try session.execute(prep, progress: out.progress, warn: ctx.warn, events: out.events)
        ctx.mark("flashed")
        try out.finish(report, text: "")
        ctx.mark("printed")
    }

    static func checksText(_ c: [PreflightCheck]) -> String {
        "Preflight:\n" + TextTable.render(["  CHECK", "RESULT", "DETAIL"], c.map { ["  " + $0.name, $0.passed ? "ok" : "REFUSED", $0.detail] })
    }

    static func planText(_ p: PlanSummary) -> String {
        var kv = KeyValues()
        kv.add("Plan", "\(p.sequence): \(p.commands) commands, \(p.bytes) bytes, \(p.waitSeconds == 0 ? "no waits" : "waits up to \(Int(p.waitSeconds.rounded(.up))) s") besides the drive's own flash time")
        kv.add("Risk", p.risk)
        kv.add("If it fails", p.ifItFails)
        kv.add("Backup", p.backup)
        kv.add("Journal", p.journal ?? "none (emulated drive)")
        return kv.text
    }

    static func outcomeText(_ o: FlashOutcome, dryRun: Bool, matches: Bool?, warnings: [String]) -> String {
        var kv = KeyValues()
        kv.add("Result", "\(dryRun ? "DRY RUN " : "")\(o.status.rawValue.uppercased()): \(o.message)")
        kv.add("Drive state", dryRun ? "untouched (dry run); emulated copy: \(o.driveState)" : o.driveState)
        if let m = matches { kv.add("Emulated memory", m ? "equals the image" : "DIFFERS from the image") }
        kv.add("Revision after", o.revisionAfter)
        // A dry run's next step is the real run; the sequence's own advice is for after a real flash.
        let next = dryRun ? (o.status == .success ? ["run the same command without --dry-run to flash the drive"] : []) : o.nextSteps
        for (i, s) in next.enumerated() { kv.add(i == 0 ? "Next" : "", s) }
        for n in o.cleanupNotes { kv.add("Cleanup", n) }
        var s = kv.text
        for w in warnings { s += "warning: \(w)\n" }
        return s
    }
}

/// Renders a flash: text on a terminal, NDJSON with --json (every line an object with a "type": check, plan, progress,
/// result, error).
struct FlashOutput {
    let ctx: Context
    let tty: Bool
    init(_ ctx: Context) { self.ctx = ctx; tty = isatty(2) == 1 && !ctx.json }

    struct Line<T: Encodable>: Encodable {
        let type: String
        let body: T
        enum CodingKeys: String, CodingKey { case type }
        func encode(to encoder: any Encoder) throws {
            try body.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(type, forKey: .type)
        }
    }

    func line<T: Encodable>(_ type: String, _ body: T) { ctx.console.out(JSON.compact(Line(type: type, body: body)) + "\n") }

    func preparation(_ p: FlashPreparation) {
        if ctx.json {
            for c in p.checks { line("check", c) }
            if let s = p.summary { line("plan", s) }
            for w in p.warnings { line("warning", ["message": w]) }
            return
        }
        var s = FlashCommand.checksText(p.checks)
        // The drive and its serial: with two drives of one model, the one this run is about.
        s += "Drive:       \(p.inquiry.vendor) \(p.inquiry.product) \(p.inquiry.revision), serial \(p.serial ?? "not reported (no VPD 80h)")\n"
        if let sum = p.summary, p.accepted { s += FlashCommand.planText(sum) }
        for w in p.warnings { s += "warning: \(w)\n" }
        ctx.console.out(ctx.fit(s))
    }

    var progress: (FlashProgress) -> Void {
        let console = ctx.console, json = ctx.json, tty = self.tty
        nonisolated(unsafe) var last = -1.0
        nonisolated(unsafe) var phase = ""
        return { p in
            if p.phase != phase { phase = p.phase; last = -1 }   // a bar per phase (the backup read, then the flash)
            if json {
                console.out(JSON.compact(Line(type: "progress", body: ProgressLine(p))) + "\n")
            } else if tty, p.percent - last >= 1 || p.percent == 100 {
                last = p.percent
                // Within 80 columns: the command's name is cut to what is left of 79.
                let width = 40, filled = Int(Double(width) * p.percent / 100)
                let bar = "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] \(p.percent)% "
                let name = String(p.command.prefix(max(0, 79 - bar.count)))
                console.err("\r" + bar + name + String(repeating: " ", count: max(0, 79 - bar.count - name.count)))
                if p.percent == 100 { console.err("\n") }
            }
        }
    }

    struct ProgressLine: Encodable {
        let phase: String, command: String, bytesDone: Int, bytesTotal: Int, percent: Double
        init(_ p: FlashProgress) { phase = p.phase; command = p.command; bytesDone = p.bytesDone; bytesTotal = p.bytesTotal; percent = p.percent }
    }

    /// The after phase's waits: a countdown line on a terminal (stderr, rewritten in place, within 80 columns), a
    /// progress line with "wait" a second with --json; and each signal that arrived as an "interrupt" line (on a
    /// terminal the signal handler has printed its line already).
    var events: FlashEvents {
        let console = ctx.console, json = ctx.json, tty = self.tty
        var e = FlashEvents()
        e.wait = { w in
            if json {
                console.out(JSON.compact(Line(type: "progress", body: WaitLine(w))) + "\n")
            } else if tty {
                let text = String(w.message.prefix(79))
                console.err("\r" + text + String(repeating: " ", count: 79 - text.count) + (w.state == .waiting ? "" : "\n"))
            }
        }
        e.interrupt = { i in if json { console.out(JSON.compact(Line(type: "interrupt", body: i)) + "\n") } }
        return e
    }

    struct WaitLine: Encodable {
        struct Wait: Encodable { let kind: String, seconds: Int, secondsLeft: Int, state: String }
        let phase: String, command: String, message: String, wait: Wait
        init(_ w: FlashWait) {
            phase = w.phase; command = w.step; message = w.message
            wait = Wait(kind: w.kind.rawValue, seconds: w.seconds, secondsLeft: w.secondsLeft, state: w.state.rawValue)
        }
    }

    /// A refusal: nothing was written. The error carries the report.
    func refused(_ r: FlashReport) -> Error {
        let failed = r.preflight.filter { !$0.passed }
        let msg = "preflight refused the flash (nothing was written): " + failed.map { "\($0.name): \($0.detail)" }.joined(separator: "; ")
        return ReportedError(error: CLIError(msg, kind: .refused), report: r)
    }

    /// The result; a failed run ends with one error line carrying the report.
    func finish(_ r: FlashReport, text: String) throws {
        let o = r.outcome
        let text = text + (r.transcript.map { ["Transcript (\(r.device), serial \(r.serial ?? "not reported")):"] + $0 }.map { $0.map { $0 + "\n" }.joined() } ?? "")
            + (o.map { FlashCommand.outcomeText($0, dryRun: r.dryRun, matches: r.emulatedMemoryMatchesImage, warnings: []) } ?? "")
            + (r.backup.map { "backup of the previous firmware: \($0)\n" } ?? "")
        let body = ctx.fit(text)
        if let o, let i = o.interrupt {
            // The flash ended as reported; the exit status says that an interrupt was requested (128 + the signal).
            let line = "interrupt requested (\(i.signal))" + (i.deferred ? ": the flash went on until the drive was safe" : "")
                + "; flash \(o.status.rawValue): \(o.message); drive: \(o.driveState)"
            if !ctx.json { ctx.console.out(body) }
            throw ReportedError(error: CLIError(line, kind: .interrupted(signal: i.number)), report: r)
        }
        guard let o, o.status != .success else {
            if ctx.json { line("result", r) } else { ctx.console.out(body) }
            return
        }
        let line = "\(r.dryRun ? "dry run: " : "")flash \(o.status.rawValue): \(o.message); drive: \(r.dryRun ? "untouched (dry run)" : o.driveState)"
        if !ctx.json { ctx.console.out(body) }
        throw ReportedError(error: CLIError(line, kind: .flash(recoverable: o.status == .recoverable || r.dryRun)), report: r)
    }
}
