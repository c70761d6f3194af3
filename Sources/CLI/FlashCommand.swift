import ArgumentParser
import Emulator
import Firmware
import FirmwareDB
import Flashing
import Foundation
import MMC
import SCSI
import Transports
#if canImport(Glibc)
import Glibc
#endif

struct FlashCommand: ODCommand {
    static let configuration = CommandConfiguration(
        commandName: "flash",
        abstract: "Flash a firmware image: preflight, backup, the family's download sequence, verification.",
        discussion: """
        Every preflight check must pass before the first write. --dry-run plays the identical command sequence
        against an emulated copy of the drive and prints the CDB transcript. emu: devices flash for real into
        emulated memory. --force never overrides a model, family, size, checksum or bootcode mismatch.
        """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The drive.") var device: String
    @Argument(help: "The firmware image (.bin, .gz, .zip).") var image: String
    @Option(help: "A zip member of IMAGE.") var member: String?
    @Flag(help: "Run the plan against an emulated copy of the drive; nothing is sent to the drive but identification.") var dryRun = false
    @Flag(help: "Do not ask for confirmation (required with --json or without a terminal).") var yes = false
    @Flag(help: "Accept a family whose flashing is not tested on real hardware.") var allowUntested = false
    @Flag(help: "Flash the version the drive already runs.") var allowReinstall = false
    @Flag(help: "Flash an older version.") var allowOlder = false
    @Flag(help: "Accept a family marked bad. Never overrides a model, size, checksum or bootcode mismatch.") var force = false
    @Flag(help: "Accept an image that names no model, for families whose images never do (a mismatch is never accepted).") var acceptUnidentifiedModel = false
    @Flag(help: "Flash although no backup of the current firmware can be taken.") var noBackup = false
    @Option(help: "Folder for the backup (default: the current folder).") var backupDir: String?
    @Flag(help: "Accept what the chosen sequence leaves behind when firmware-db names a risk (e.g. a Pioneer kernel image leaves the drive in kernel mode until a Normal image is flashed).") var acceptRisk = false
    @Option(name: .customLong("protocol"), help: "Use the family's flash sequence of this name ('odflash db models' lists them), for families whose drives cannot tell which one they take (SPC: spc-0e, spc-07, spc-05); identification and every check still apply.") var protocolName: String?
    @Option(help: "The flash journal (default: $ODFLASH_JOURNAL or ~/.local/state/odflash/journal.jsonl; emu: devices keep none unless given).") var journal: String?

    struct Report: Encodable {
        let device: String
        let image: String
        let dryRun: Bool
        let preflight: [PreflightCheck]
        let plan: String
        let commands: Int
        let outcome: FlashOutcome?
        let backup: String?
        let emulatedMemoryMatchesImage: Bool?
        let transcript: [String]?
        let warnings: [String]
    }

    func run(_ ctx: Context) throws {
        let loaded = try ctx.loadImage(image, member: member)
        let db = try ctx.database()
        let insp = Inspector(layouts: db.layouts, idTables: db.idTables)
        let rep = insp.inspect(loaded)
        let isEmu = device.hasPrefix("emu:")
        let t = try ctx.open(device, exclusive: !dryRun && !isEmu)
        defer { t.close() }

        // Identify the drive (read-only commands).
        let inq: InquiryData, medium: MediumState
        do {
            inq = try DriveIdentifier(t).inquiry()
            medium = try DriveIdentifier(t).mediumState()
        } catch let e as IdentifyError { throw CLIError(e.description, kind: "device", status: .device) }
        catch let e as TransportError { throw CLIError(e.description, kind: "device", status: .device) }
        let model = db.match(vendor: inq.vendor, product: inq.product, revision: inq.revision)
        let family = model.flatMap { db.family($0.family) }
        var input = PreflightInput(device: device, inquiry: inq, medium: medium, exclusive: !dryRun || isEmu ? true : false,
                                   modelName: model?.name, family: family?.id, familyStatus: family?.status[.flash]?.rawValue,
                                   hasProtocol: family?.flash != nil, image: rep, layoutFamily: rep.identity?.family,
                                   imageModelIDs: rep.modelIDs, modelImageID: model?.imageID)
        if dryRun { input.exclusive = true }   // a dry run sends nothing that needs exclusivity
        input.allowUntested = allowUntested; input.allowReinstall = allowReinstall; input.allowOlder = allowOlder; input.force = force
        input.acceptUnidentifiedModel = acceptUnidentifiedModel
        var checks = Preflight.run(input)
        // The protocol's identification reads (read-only): drive ID or config, checked against the image.
        var probe = ProbeData()
        // Only once the drive is a known model of a family with this protocol and the image is of that family: the
        // probes are vendor commands (read-only), never sent to a drive odflash does not know.
        let identity = ["optical drive", "model in firmware-db", "flash protocol", "image family"]
        var chosen = family?.flash
        if let name = protocolName {
            guard let fam = family else { throw CLIError("--protocol \(name): the drive is not in firmware-db", kind: "refused", status: .refused) }
            guard let v = fam.flashVariants.first(where: { $0.name == name }) else {
                let names = fam.flashVariants.map(\.name)
                throw CLIError("--protocol \(name): \(fam.id) has no flash sequence of that name" + (names.isEmpty ? "" : " (it has: \(names.joined(separator: ", ")))"),
                               kind: "usage", status: .usage)
            }
            chosen = v
        }
        if let fam = family, let first = chosen, !first.probes.isEmpty, checks.filter({ identity.contains($0.name) }).allSatisfy({ $0.passed }) {
            do {
                if protocolName != nil {
                    probe = try ProbeRunner.run(first, on: t)
                } else if let (v, p) = try ProbeRunner.select(fam.flashVariants, on: t, idTables: db.idTables, layout: rep.identity?.layout) {
                    // Where the drive decides the sequence (NEC flash class, Pioneer generation), the variant for it.
                    chosen = v; probe = p
                }
            } catch { throw CLIError("identification read: \(error.description)", kind: "device", status: .device) }
        }
        if let proto = chosen {
            checks += ProbeRunner.checks(proto, probe: probe, image: loaded.bytes, report: rep, idTables: db.idTables)
        }
        var warnings: [String] = []
        if family?.synthetic == true || model?.synthetic == true { warnings.append("\(family?.id ?? "?") is a SYNTHETIC family: emulated drives only") }
        if let d = chosen?.disputed { warnings.append("disputed parameter: \(d)") }
        if let r = chosen?.risk {
            checks.append(PreflightCheck(name: "risk of this sequence", passed: acceptRisk,
                                         detail: acceptRisk ? "accepted with --accept-risk: \(r)" : "\(r): --accept-risk accepts it", hard: false))
        }

        let failed = checks.filter { !$0.passed }
        guard failed.isEmpty, let proto = chosen else {
            let r = Report(device: device, image: image, dryRun: dryRun, preflight: checks, plan: "", commands: 0, outcome: nil, backup: nil,
                           emulatedMemoryMatchesImage: nil, transcript: nil, warnings: warnings)
            if ctx.json {
                struct Refusal: Encodable { let report: Report; let error: String }
                ctx.console.out(JSON.encode(Refusal(report: r, error: "preflight refused: " + failed.map(\.name).joined(separator: ", "))))
                throw ExitCode(ExitStatus.refused.rawValue)
            }
            ctx.console.out(FlashCommand.checksText(checks))
            throw CLIError("preflight refused the flash (nothing was written): " + failed.map { "\($0.name): \($0.detail)" }.joined(separator: "; "),
                           kind: "refused", status: .refused)
        }

        let plan: FlashPlan
        let bootcode = rep.fields.first { $0.role == "bootcode" }?.value
        do { plan = try FlashPlan.build(proto, image: loaded.bytes, probe: probe, bootcode: bootcode) } catch { throw CLIError(error.description, kind: "refused", status: .refused) }
        warnings += plan.notes
        let expectRevision = rep.version
        let placed = plan.placedImage
        // The read-out sequence that yields this image's layout (the layout follows the drive's class, checked above).
        let verifier = family?.dumpVariants.first { $0.layout != nil && $0.layout == rep.identity?.layout }
        func memoryMatches(_ d: EmulatedDrive?) -> Bool? { d?.memory.map { plan.isPlaced(in: $0.flash) } }

        if dryRun {
            // The same plan against an emulated copy of this drive; the transcript is what the drive would receive.
            let emu: EmulatedDrive
            if isEmu, let orig = ctx.emulatedProfile(of: t), let f = orig.firmware {
                emu = EmulatedDrive.clone(vendor: inq.vendor, product: inq.product, revision: inq.revision, firmware: f, replay: probe.answers, refusals: probe.refusals)
                if let mem = ctx.emulatedDrive(of: t)?.memory { emu.memory?.load(mem) }
            } else {
                let f = try SequenceEmulator.dryRunCopy(proto.emulator?.yaml, size: max(plan.image.count, placed.at + placed.bytes.count),
                                                        revisionOffset: rep.fields.first { $0.role == "revision" }.map { $0.offset - plan.placement.imageFrom + plan.placement.flashAt })
                emu = EmulatedDrive.clone(vendor: inq.vendor, product: inq.product, revision: inq.revision, firmware: f, replay: probe.answers, refusals: probe.refusals)
            }
            let rec = TranscriptRecorder(emu)
            rec.keepDataIn = false   // printed, not replayed
            var ex = FlashExecutor(transport: rec)
            ex.verifyDump = verifier
            ex.sleeper = { _ in }
            ex.handleInterrupts = false
            // The identification reads first, exactly as they went to the drive, so the transcript is the whole conversation.
            _ = try? ProbeRunner.run(proto, on: rec)
            let outcome = ex.run(plan, expectRevision: expectRevision)
            let matches = memoryMatches(emu)
            let r = Report(device: device, image: image, dryRun: true, preflight: checks, plan: plan.protocolName, commands: plan.commands.filter { $0.action == .send }.count,
                           outcome: outcome, backup: nil, emulatedMemoryMatchesImage: matches, transcript: rec.entries.map(\.text), warnings: warnings)
            try finish(ctx, r, outcome, text: FlashCommand.checksText(checks) + rec.text + FlashCommand.outcomeText(outcome, dryRun: true, matches: matches, warnings: warnings))
            return
        }

        // Whether a backup can be taken is settled before asking; it is written only once the user has confirmed.
        // The backup comes from the family's dump protocol; an emulated drive without one is copied from its memory.
        let dumpable = verifier != nil
        let memoryCopy = dumpable ? nil : ctx.emulatedDrive(of: t)?.memory?.flash
        if !dumpable && memoryCopy == nil && !noBackup {
            throw CLIError("no public method reads the firmware of \(family?.id ?? "this family") back, so no backup can be taken: add --no-backup to flash without one",
                           kind: "refused", status: .refused)
        }

        // Confirmation: never a prompt in JSON mode or without a terminal.
        if !yes {
            try ctx.confirm("Flash \(image) (\(rep.version ?? "version unknown")) to \(inq.vendor) \(inq.product) \(inq.revision) at \(device)?",
                            action: "flashing", undone: "nothing was written")
        }

        // Backup before anything is written to the drive.
        var backupPath: String?
        if !noBackup {
            var bytes = memoryCopy
            if let d = verifier {
                do { bytes = try Dumper(transport: t).run(d).bytes } catch {
                    throw CLIError("the backup failed, nothing was written to the drive: \(error.description)", kind: "device", status: .device)
                }
            }
            backupPath = try bytes.map { try writeBackup($0, inq) }
        }

        var ex = FlashExecutor(transport: t)
        ex.verifyDump = verifier
        // The journal: an entry before the first write and at the commit, synced; the outcome after.
        let journalFile = journal.map { FlashJournal(path: $0) } ?? (isEmu ? nil : FlashJournal(path: FlashJournal.defaultPath()))
        let base = FlashJournal.Entry(time: "", event: "", device: device, drive: "\(inq.vendor) \(inq.product) \(inq.revision)", image: image,
                                      sha256: rep.sha256, family: family?.id ?? "?", protocolName: plan.protocolName, detail: nil)
        func record(_ event: String, _ detail: String?) {
            guard let j = journalFile else { return }
            var e = base
            e.time = FlashJournal.now(); e.event = event; e.detail = detail
            do { try j.append(e) } catch { ctx.warn("\(error)") }
        }
        if let j = journalFile {
            var e = base
            e.time = FlashJournal.now(); e.event = "start"; e.detail = backupPath.map { "backup \($0)" }
            try j.append(e)   // no journal, no flash: the entry must exist before anything is written
        }
        ex.journal = { msg in if msg == "committing" { record("committing", nil) } }   // the outcome is recorded below
        let console = ctx.console, json = ctx.json, tty = isatty(2) == 1
        var last = -1.0
        ex.progress = { p in
            if json {
                console.out(JSON.compact(p) + "\n")
            } else if tty, p.percent - last >= 1 || p.percent == 100 {
                last = p.percent
                let width = 40, filled = Int(Double(width) * p.percent / 100)
                console.err("\r[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] \(p.percent)% \(p.command)   ")
            }
        }
        let outcome = ex.run(plan, expectRevision: expectRevision)
        if tty && !json { console.err("\n") }
        let r = Report(device: device, image: image, dryRun: false, preflight: checks, plan: plan.protocolName, commands: plan.commands.filter { $0.action == .send }.count,
                       outcome: outcome, backup: backupPath, emulatedMemoryMatchesImage: memoryMatches(ctx.emulatedDrive(of: t)),
                       transcript: nil, warnings: warnings)
        record(outcome.status.rawValue, outcome.message)
        try finish(ctx, r, outcome, text: FlashCommand.checksText(checks) + FlashCommand.outcomeText(outcome, dryRun: false, matches: r.emulatedMemoryMatchesImage, warnings: warnings)
                   + (backupPath.map { "backup of the previous firmware: \($0)\n" } ?? ""))
    }

    /// The report on stdout; a failed run also ends with one error line (or, with --json, an "error" beside the report).
    func finish(_ ctx: Context, _ r: Report, _ o: FlashOutcome, text: String) throws {
        guard o.status != .success else { ctx.emit(r, text: text); return }
        let status: ExitStatus = o.status == .recoverable ? .failed : .flashFailed
        let line = "\(r.dryRun ? "dry run: " : "")flash \(o.status.rawValue): \(o.message); drive: \(r.dryRun ? "untouched (dry run)" : o.driveState)"
        if ctx.json {
            struct Failed: Encodable { let report: Report; let error: String }
            ctx.console.out(JSON.encode(Failed(report: r, error: line)))
            throw ExitCode(status.rawValue)
        }
        ctx.console.out(text)
        throw CLIError(line, kind: "flash", status: status)
    }

    /// backup-VENDOR-PRODUCT-REVISION-N.bin, from sanitised device strings, never overwriting.
    func writeBackup(_ bytes: [UInt8], _ inq: InquiryData) throws -> String {
        func clean(_ s: String) -> String {
            let c = s.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "_" }
            return String(c).trimmingCharacters(in: CharacterSet(charactersIn: "._")).prefix(32).description
        }
        let dir = backupDir ?? FileManager.default.currentDirectoryPath
        let base = "backup-\(clean(inq.vendor))-\(clean(inq.product))-\(clean(inq.revision))"
        for n in 0..<1000 {
            let p = dir + "/" + base + (n == 0 ? "" : "-\(n)") + ".bin"
            if !FileManager.default.fileExists(atPath: p) {
                try AtomicFile.write(Data(bytes), to: p, overwrite: false)
                return p
            }
        }
        throw CLIError("too many backups in \(dir)", kind: "output", status: .failed)
    }

    static func checksText(_ c: [PreflightCheck]) -> String {
        "Preflight:\n" + TextTable.render(["  CHECK", "RESULT", "DETAIL"], c.map { ["  " + $0.name, $0.passed ? "ok" : "REFUSED", $0.detail] })
    }

    static func outcomeText(_ o: FlashOutcome, dryRun: Bool, matches: Bool?, warnings: [String]) -> String {
        var kv = KeyValues()
        kv.add("Result", "\(dryRun ? "DRY RUN " : "")\(o.status.rawValue.uppercased()): \(o.message)")
        kv.add("Drive state", dryRun ? "untouched (dry run); emulated copy: \(o.driveState)" : o.driveState)
        if let m = matches { kv.add("Emulated memory", m ? "equals the image" : "DIFFERS from the image") }
        kv.add("Revision after", o.revisionAfter)
        for (i, s) in o.nextSteps.enumerated() { kv.add(i == 0 ? "Next" : "", s) }
        for n in o.cleanupNotes { kv.add("Cleanup", n) }
        var s = kv.text
        for w in warnings { s += "warning: \(w)\n" }
        return s
    }
}
