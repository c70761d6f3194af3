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
#elseif canImport(Darwin)
import Darwin
#endif

/// What the user asked of a flash, beyond the drive and the image.
public struct FlashOptions: Sendable {
    public var dryRun = false
    public var allowUntested = false
    public var allowReinstall = false
    public var allowOlder = false
    public var force = false
    public var acceptUnidentifiedModel = false
    public var noBackup = false
    public var acceptRisk = false
    /// MediaTek MT19xx: flash an image whose descriptor names another model (waives the model check only).
    public var crossflash = false
    /// Folder for the backup (nil: the current folder).
    public var backupDir: String?
    /// A named flash sequence of the family (for families whose drives cannot tell).
    public var protocolName: String?
    /// The journal (nil: the default one; emulated drives keep none unless one is given).
    public var journalPath: String?
    public init() {}
}

/// How the firmware the drive holds now is kept before the first write.
public enum BackupPlan: Sendable {
    /// Read with the family's public read sequence, written into `directory`, re-inspected.
    case read(DumpProtocol, directory: String)
    /// The user declined one (--no-backup).
    case declined
    /// None can be taken (the reason); the flash is refused unless the user declines a backup.
    case impossible(String)
}

/// What the user sees before answering: the plan in numbers and words.
public struct PlanSummary: Sendable, Encodable {
    public let sequence: String
    public let commands: Int
    public let bytes: Int
    /// The sequence's own waits and gaps, in seconds (the drive's flash time comes on top).
    public let waitSeconds: Double
    public let risk: String?
    public let ifItFails: String
    public let backup: String
    public let journal: String?
}

/// Everything settled before anything is written: the checks, the chosen sequence, its plan, the backup.
extension FlashSession {
    /// The image checks of a flash and of its backup: identity, fields and checksums; not the media tables (see
    /// Inspector.readsMediaTables).
    static func inspector(_ db: FirmwareDatabase) -> Inspector {
        var i = Inspector(layouts: db.layouts, idTables: db.idTables)
        i.readsMediaTables = false
        return i
    }
}

public struct FlashPreparation {
    public let inquiry: InquiryData
    /// The drive's unit serial number (VPD 80h), nil when it reports none: it names the backup and the journal entries.
    public let serial: String?
    public let checks: [PreflightCheck]
    public let warnings: [String]
    public let proto: FlashProtocol?
    public let probe: ProbeData
    public let plan: FlashPlan?
    public let backup: BackupPlan
    /// The family's read sequence for this drive and image (the backup's, and the read-back after the flash).
    public let readBack: DumpProtocol?
    public let journal: FlashJournal?
    public let summary: PlanSummary?
    public let report: InspectReport
    /// MediaTek MT19xx: the flash ranges the read-back compares, and the family whose reads re-read the fingerprint.
    public var verifyRanges: [Range<Int>]?
    public var mediatekFamily: Family?

    public var refused: [PreflightCheck] { checks.filter { !$0.passed } }
    public var accepted: Bool { refused.isEmpty && plan != nil }
}

/// What a flash reports while it runs, besides the progress of its writes.
public struct FlashEvents {
    /// The after phase's waits, once a second.
    public var wait: (FlashWait) -> Void = { _ in }
    /// A signal that arrived, at the next command boundary.
    public var interrupt: (FlashInterrupt) -> Void = { _ in }
    public init() {}
}

/// The report of a flash or a dry run (the JSON `flash --json` ends with).
public struct FlashReport: Sendable, Encodable {
    public let device: String
    /// The drive's unit serial number (VPD 80h), when it reports one.
    public let serial: String?
    public let image: String
    public let dryRun: Bool
    public let preflight: [PreflightCheck]
    public let plan: String
    public let commands: Int
    public let outcome: FlashOutcome?
    public let backup: String?
    public let emulatedMemoryMatchesImage: Bool?
    public let transcript: [String]?
    public let warnings: [String]
}

/// One flash of one image into one drive: prepare (identify, check, choose, plan), then a dry run on an emulated copy
/// or the real thing (backup, journal, the sequence, verification).
public final class FlashSession {
    public let db: FirmwareDatabase
    public let device: OpenedDevice
    public let image: LoadedImage
    public let imageName: String
    public let options: FlashOptions

    public init(db: FirmwareDatabase, device: OpenedDevice, image: LoadedImage, imageName: String, options: FlashOptions) {
        self.db = db; self.device = device; self.image = image; self.imageName = imageName; self.options = options
    }

    var t: any SCSITransport { device.transport }

    /// Identification, preflight, the identification reads, the sequence and its plan, the backup and journal checks.
    /// Sends only read-only commands. Throws for a device that does not answer and for a bad --protocol name.
    public func prepare() throws -> FlashPreparation {
        let rep = FlashSession.inspector(db).inspect(image)
        let inq: InquiryData, medium: MediumState
        do {
            inq = try DriveIdentifier(t).inquiry()
            medium = try DriveIdentifier(t).mediumState()
        } catch let e as IdentifyError { throw OperationError(e.description, kind: .device) }
        catch let e as TransportError { throw OperationError(e.description, kind: .device) }
        let serial = DriveIdentifier(t).serialNumber()
        let model = db.match(vendor: inq.vendor, product: inq.product, revision: inq.revision)
        let family = model.flatMap { db.family($0.family) }
        // A drive of a family whose sequence the public facts do not close (Pioneer BD): refused, naming the missing facts.
        if model == nil, let f = db.families.first(where: { $0.flashMissingFacts != nil && $0.identify?.claims(vendor: inq.vendor, product: inq.product) == true }) {
            throw OperationError("\(inq.vendor.trimmedSpaces) \(inq.product.trimmedSpaces) is a \(f.name) drive, which odflash does not flash: \(f.flashMissingFacts ?? "")", kind: .refused)
        }
        var input = PreflightInput(device: device.name, inquiry: inq, medium: medium, exclusive: device.exclusive || options.dryRun || device.kind.isEmulated,
                                   modelName: model?.name, family: family?.id, familyStatus: family?.status[.flash],
                                   hasProtocol: family?.flash != nil, image: rep, layoutFamily: rep.identity?.family,
                                   imageModelIDs: rep.modelIDs, modelImageID: model?.imageID)
        input.allowUntested = options.allowUntested; input.allowReinstall = options.allowReinstall; input.allowOlder = options.allowOlder
        input.force = options.force; input.acceptUnidentifiedModel = options.acceptUnidentifiedModel
        if case .unsupported(let rows)? = db.identify(vendor: inq.vendor, product: inq.product, revision: inq.revision) {
            input.knownUnsupported = (rows[0].name, rows[0].reason ?? "no reason given")
        }
        input.exclusiveDetail = options.dryRun ? "not needed: a dry run sends the drive nothing but identification"
            : (device.kind.isEmulated ? "an emulated drive: no other program can hold it" : nil)
        var checks = Preflight.run(input)
        // MediaTek MT19xx: its own gates after size and integrity (not a drive read, chip, model), from the drive's
        // read-only descriptor and banner reads, once the identity checks pass.
        let mtLayout = db.layouts.first { $0.id == rep.identity?.layout && $0.family == rep.identity?.family && $0.structure == .mediatekMT19xx }
        var mtWarnings: [String] = []
        var mtFamily: Family?
        if let fam = family, let l = mtLayout, MediaTekDrive.applies(fam) {
            mtFamily = fam
            checks.removeAll { $0.id == .imageForModel }
            var drive: (descriptor: [UInt8]?, banner: [UInt8]?) = (nil, nil)
            if checks.filter(\.id.isIdentity).allSatisfy(\.passed) {
                let r = MediaTekDrive.read(t, family: fam)
                drive = (r.descriptor, r.banner)
            }
            let g = MediaTekDrive.gates(report: rep, inquiry: inq, drive: drive, crossflash: options.crossflash)
            let at = checks.firstIndex { $0.id == .imageChecksums }.map { $0 + 1 } ?? checks.count
            checks.insert(contentsOf: g.checks, at: at)
            mtWarnings = g.warnings
            _ = l
        }

        var chosen = family?.flash
        if let name = options.protocolName {
            guard let fam = family else { throw OperationError("--protocol \(name): the drive is not in firmware-db", kind: .refused) }
            guard let v = fam.flashVariants.first(where: { $0.name == name }) else {
                let names = fam.flashVariants.map(\.name)
                throw OperationError("--protocol \(name): \(fam.id) has no flash sequence of that name" + (names.isEmpty ? "" : " (it has: \(names.joined(separator: ", ")))"),
                                     kind: .usage)
            }
            chosen = v
        }
        // The protocol's identification reads (read-only, vendor commands): only once the drive is a known model of a
        // family with this protocol and the image is of that family.
        var probe = ProbeData()
        // Without the reads (an identity check failed), a family whose drives choose the sequence has no sequence yet:
        // its first one's checks would name a class or generation this drive may not have.
        var sequenceKnown = chosen.map { $0.probes.isEmpty || options.protocolName != nil } ?? false
        if let fam = family, let first = chosen, !first.probes.isEmpty, checks.filter(\.id.isIdentity).allSatisfy(\.passed) {
            sequenceKnown = true
            do {
                if options.protocolName != nil {
                    probe = try ProbeRunner.run(first, on: t)
                } else if let (v, p) = try ProbeRunner.select(fam.flashVariants, on: t, idTables: db.idTables, layout: rep.identity?.layout) {
                    // Where the drive decides the sequence (NEC flash class, Pioneer generation), the variant for it.
                    chosen = v; probe = p
                }
            } catch { throw OperationError("identification read: \(error.description)", kind: .device) }
        }
        if let proto = chosen, sequenceKnown {
            checks += ProbeRunner.checks(proto, probe: probe, image: image.bytes, report: rep, idTables: db.idTables)
        }
        var warnings: [String] = mtWarnings
        if family?.synthetic == true || model?.synthetic == true { warnings.append("\(family?.id ?? "?") is a SYNTHETIC family: emulated drives only") }
        if let d = chosen?.disputed { warnings.append("disputed parameter: \(d)") }
        if let r = chosen?.risk {
            checks.append(PreflightCheck(.risk, name: "risk of this sequence", passed: options.acceptRisk,
                                         detail: options.acceptRisk ? "accepted with --accept-risk: \(r)" : "\(r): --accept-risk accepts it", hard: false))
        }

        // The backup: the family's read sequence for the drive's sequence (its class), else for the image's layout;
        // none where no public read exists.
        let verifier = family?.dumpVariants.first { d in d.layout.map { l in sequenceKnown && chosen?.layouts.contains(l) == true } ?? false }
            ?? family?.dumpVariants.first { $0.layout != nil && $0.layout == rep.identity?.layout }
        let backup: BackupPlan
        if options.noBackup {
            backup = .declined
            checks.append(PreflightCheck(.backup, name: "backup", passed: true, detail: "none: declined with --no-backup", hard: false))
        } else if let v = verifier {
            let dir = FlashJournal.absolute(options.backupDir ?? FileManager.default.currentDirectoryPath)
            let why = Self.directoryProblem(dir)
            backup = why == nil ? .read(v, directory: dir) : .impossible(why!)
            checks.append(PreflightCheck(.backup, name: "backup", passed: why == nil,
                                         detail: why ?? "read back with the family's public read sequence into \(dir), re-inspected before the first write", hard: false))
        } else if let f = family, !f.dumpVariants.isEmpty, rep.identity?.family != f.id {
            // The family can be read back, but its read is chosen by the image's layout and the drive's sequence, and
            // neither fits this image: the image is the problem, not the backup (--no-backup would not help).
            let why = "\(f.id)'s public read is chosen by the image's layout, and this image is not one of \(f.id)'s layouts (\(rep.identity.map { "it is \($0.family)/\($0.layout)" } ?? "no layout identifies it")): fix the image first"
            backup = .impossible(why)
            checks.append(PreflightCheck(.backup, name: "backup", passed: false, detail: why, hard: false))
        } else if let f = family, !f.dumpVariants.isEmpty {
            let why = "no public read of \(f.id) covers this image's layout (\(rep.identity?.layout ?? "?")), so no backup can be taken: add --no-backup to flash without one"
            backup = .impossible(why)
            checks.append(PreflightCheck(.backup, name: "backup", passed: false, detail: why, hard: false))
        } else {
            let why = "no public method reads the firmware of \(family?.id ?? "this family") back, so no backup can be taken: add --no-backup to flash without one"
            backup = .impossible(why)
            checks.append(PreflightCheck(.backup, name: "backup", passed: false, detail: why, hard: false))
        }
        // The journal: the flash does not start unless its first entry can be written.
        let journal = options.journalPath.map { FlashJournal(path: $0) } ?? (device.kind.isEmulated ? nil : FlashJournal(path: FlashJournal.defaultPath()))
        if let j = journal {
            let why = FileIdentity.wouldOverwrite(j.path, anyOf: [image.path]) ? "the journal \(j.path) is the image being flashed: pass another --journal FILE"
                : j.writeProblem()
            checks.append(PreflightCheck(.journal, name: "journal", passed: why == nil, detail: why ?? j.path, hard: false))
        }

        var plan: FlashPlan?
        if checks.allSatisfy(\.passed), let proto = chosen {
            let bootcode = rep.fields.first { $0.role == .bootcode }?.value
            do { plan = try FlashPlan.build(proto, image: image.bytes, probe: probe, bootcode: bootcode) }
            catch { throw OperationError(error.description, kind: .refused) }
            warnings += plan!.notes
        }
        let summary = plan.map { p in
            PlanSummary(sequence: p.protocolName, commands: p.commands.filter { $0.action == .send }.count, bytes: p.image.count,
                        waitSeconds: p.waitSeconds, risk: chosen?.risk,
                        ifItFails: "before the first write the drive is left unchanged; once the drive's flash is being written (the commit), a failure can leave it without working firmware: keep it powered and flash again",
                        backup: Self.describe(backup, dryRun: options.dryRun), journal: journal?.path)
        }
        var prep = FlashPreparation(inquiry: inq, serial: serial, checks: checks, warnings: warnings, proto: chosen, probe: probe, plan: plan, backup: backup,
                                    readBack: verifier, journal: journal, summary: summary, report: rep)
        if let l = mtLayout, let f = mtFamily {
            prep.mediatekFamily = f
            prep.verifyRanges = MediaTekDrive.verificationRanges(image.bytes, layout: l)
        }
        return prep
    }

    /// MediaTek MT19xx: after the read-back, the drive's build fingerprint (its 3000h and 1EC000h reads) must be the
    /// flashed image's; the drive's identity is the authority.
    static func fingerprintCheck(_ p: FlashPreparation, on t: any SCSITransport) -> (() -> String?)? {
        guard let fam = p.mediatekFamily, let plan = p.plan, let want = MediaTekMT19.fingerprint(image: plan.image) else { return nil }
        return {
            let r = MediaTekDrive.read(t, family: fam)
            guard let b = r.banner, let d = r.descriptor, let got = MediaTekMT19.fingerprint(banner: b, descriptor: d) else {
                return "the build fingerprint could not be read again (\(r.notes.joined(separator: "; ")))"
            }
            return got == want ? nil : "the drive's build fingerprint \(got.prefix(16))… is not the flashed image's \(want.prefix(16))…"
        }
    }

    static func describe(_ b: BackupPlan, dryRun: Bool = false) -> String {
        switch b {
        case let .read(_, dir): dryRun ? "the real run reads it and keeps it in \(dir); a dry run reads none and writes no file" : "read and kept in \(dir)"
        case .declined: "none (--no-backup)"
        case let .impossible(why): "impossible: \(why)"
        }
    }

    /// Why a backup cannot be written into a folder, or nil.
    static func directoryProblem(_ dir: String) -> String? {
        var st = stat()
        guard stat(dir, &st) == 0 else { return "the backup folder \(dir) does not exist: create it or pass --backup-dir" }
        guard st.st_mode & S_IFMT == S_IFDIR else { return "\(dir) is not a folder: pass --backup-dir FOLDER" }
        guard access(dir, W_OK) == 0 else { return "the backup folder \(dir) is not writable: pass --backup-dir FOLDER" }
        return nil
    }

    /// The plan against an emulated copy of the drive: the transcript is what the drive would receive.
    public func dryRun(_ p: FlashPreparation) throws -> FlashReport {
        guard let plan = p.plan, let proto = p.proto else { return refusal(p) }
        let rep = p.report, inq = p.inquiry
        let emu: EmulatedDrive
        if device.kind.isEmulated, let orig = device.emulated?.profile, let f = orig.firmware {
            emu = EmulatedDrive.clone(vendor: inq.vendor, product: inq.product, revision: inq.revision, firmware: f, replay: p.probe.answers, refusals: p.probe.refusals)
            if let mem = device.emulated?.memory { emu.memory?.load(mem) }
        } else {
            // The sequence's own emulator block (firmware-db) says what a copy of a drive taking it needs.
            let placed = plan.placedImage
            let f: DriveProfile.Firmware
            do {
                f = try SequenceEmulator.dryRunCopy(proto.emulator?.yaml, size: max(plan.image.count, placed.at + placed.bytes.count),
                                                    revisionOffset: rep.fields.first { $0.role == .revision }.map { $0.offset - plan.placement.imageFrom + plan.placement.flashAt })
            } catch { throw OperationError("the dry run's emulated copy cannot be made: \(error)", kind: .failed) }
            emu = EmulatedDrive.clone(vendor: inq.vendor, product: inq.product, revision: inq.revision, firmware: f, replay: p.probe.answers, refusals: p.probe.refusals)
        }
        let rec = TranscriptRecorder(emu)
        rec.keepDataIn = false   // printed, not replayed
        var ex = FlashExecutor(transport: rec)
        ex.verifyDump = p.readBack
        ex.verifyRanges = p.verifyRanges
        // The copy answers the fingerprint re-read from its flash once it was written (its replay of the drive's answers ends).
        ex.finalCheck = Self.fingerprintCheck(p, on: rec)
        ex.sleeper = { _ in }
        ex.handleInterrupts = false
        // The identification reads first, exactly as they went to the drive, so the transcript is the whole conversation.
        _ = try? ProbeRunner.run(proto, on: rec)
        let outcome = ex.run(plan, expectRevision: rep.version)
        return FlashReport(device: device.name, serial: p.serial, image: imageName, dryRun: true, preflight: p.checks, plan: plan.protocolName,
                           commands: plan.commands.filter { $0.action == .send }.count, outcome: outcome, backup: nil,
                           emulatedMemoryMatchesImage: emu.memory.map { plan.isPlaced(in: $0.flash) }, transcript: rec.entries.map(\.text),
                           warnings: p.warnings)
    }

    /// The report of a refused preparation (nothing was sent but identification).
    public func refusal(_ p: FlashPreparation) -> FlashReport {
        FlashReport(device: device.name, serial: p.serial, image: imageName, dryRun: options.dryRun, preflight: p.checks, plan: "", commands: 0, outcome: nil, backup: nil,
                    emulatedMemoryMatchesImage: nil, transcript: nil, warnings: p.warnings)
    }

    /// The real flash: backup (read, written, re-inspected), journal, the sequence, verification. Call only with an
    /// accepted preparation, after the user has seen it and agreed. Signals are handled from here on (FlashSignals):
    /// honoured between commands until the first command that changes the drive, deferred from then until the
    /// post-flash waits end; a vendor mode entered for the backup read is left on every exit path.
    public func execute(_ p: FlashPreparation, progress: @escaping (FlashProgress) -> Void,
                        warn: @escaping (String) -> Void, events: FlashEvents = FlashEvents()) throws -> FlashReport {
        guard let plan = p.plan else { return refusal(p) }
        FlashSignals.acquire()
        defer { FlashSignals.release() }
        let rep = p.report, inq = p.inquiry
        let family = db.match(vendor: inq.vendor, product: inq.product, revision: inq.revision)?.family ?? "?"

        // The journal: an entry before the first write and at the commit, synced; the outcome after.
        var base = FlashJournal.Entry(time: "", event: "", device: device.name, drive: "\(inq.vendor) \(inq.product) \(inq.revision)",
                                      image: FlashJournal.absolute(image.path), serial: p.serial, sha256: rep.sha256, family: family, protocolName: plan.protocolName, detail: nil)
        func record(_ event: String, _ detail: String?) {
            guard let j = p.journal else { return }
            var e = base
            e.time = FlashJournal.now(); e.event = event; e.detail = detail
            do { try j.append(e) } catch { warn("\(error)") }
        }

        // Backup before anything is written to the drive; it must inspect as a flashable image of this layout.
        var backupPath: String?
        if case let .read(d, dir) = p.backup {
            let bytes: [UInt8]
            var dumper = Dumper(transport: t)
            dumper.interruptible = true
            nonisolated(unsafe) var shown = -1
            dumper.progress = { done, total in   // a line per whole percent
                let pct = total == 0 ? 100 : done * 100 / total
                if pct != shown { shown = pct; progress(FlashProgress(phase: "backup", command: "backup read", bytesDone: done, bytesTotal: total)) }
            }
            do {
                let r = try dumper.run(d)
                if let g = r.gaps.first {
                    throw OperationError("the backup read has \(r.gaps.count) unreadable range(s) (first at \(Hex.offset(g.lowerBound))): a backup needs every byte, so nothing was written to the drive; flash only with --no-backup if you accept having no way back",
                                         kind: .refused)
                }
                bytes = r.bytes
            } catch let e as OperationError { throw e } catch let error as Dumper.Failure {
                // A vendor mode entered for the read (NEC safe mode) was left by the cleanup, or the report says it was not.
                let state = error.driveState
                if let s = error.interrupted {
                    record("interrupted", "\(FlashSignals.name(s)) during the backup read, before anything was written to the drive's flash; drive: \(state)")
                    throw OperationError("interrupted (\(FlashSignals.name(s))) during the backup read: nothing was written to the drive's flash; drive: \(state)",
                                         kind: .interrupted(signal: s))
                }
                if error.modeChangedBy != nil { record("backup-failed", "\(error.description); drive: \(state)") }
                throw OperationError("the backup failed, nothing was written to the drive: \(error.description)" + (error.modeChangedBy != nil ? "; drive: \(state)" : ""),
                                     kind: .device)
            }
            let path = try Self.writeBackup(bytes, inq, serial: p.serial, directory: dir)
            backupPath = path
            base.backup = FlashJournal.absolute(path)
            let check = FlashSession.inspector(db).inspect(LoadedImage(path: path, container: "bin", member: nil, bytes: bytes))
            if check.mediatek?.driveRead == true {
                warn("the backup \(path) is a raw read of the drive, kept for its own regions, identification and support: it is not an image odflash (or the drive) can flash back")
            }
            guard check.identity?.layout == rep.identity?.layout, check.valid == true else {
                throw OperationError("the backup read from the drive does not validate as a \(rep.identity.map { "\($0.family)/\($0.layout)" } ?? "?") image (\(check.verdict)); nothing was written to the drive. The read is kept at \(path) for inspection; flash only with --no-backup if you accept having no way back",
                                     kind: .refused)
            }
        }

        var ex = FlashExecutor(transport: t)
        ex.verifyDump = p.readBack
        ex.verifyRanges = p.verifyRanges
        ex.finalCheck = Self.fingerprintCheck(p, on: t)
        if let j = p.journal {
            var e = base
            e.time = FlashJournal.now(); e.event = "start"; e.detail = backupPath.map { "backup \($0)" }
            try j.append(e)   // no journal, no flash: the entry must exist before anything is written
        }
        // The outcome is recorded below; before the commit, the first command that changes the drive (a vendor mode).
        ex.journal = { msg in
            if msg == "committing" { record("committing", nil) }
            if msg.hasPrefix("preparing: ") { record("preparing", String(msg.dropFirst(11)) + ": from here on the drive is being changed") }
        }
        ex.progress = progress
        ex.waitStatus = events.wait
        ex.interrupt = events.interrupt
        // Emulated drives only: tests may shorten the sequence's waits (a real drive's are never shortened).
        if device.kind.isEmulated, let scale = ProcessInfo.processInfo.environment["ODFLASH_EMULATED_WAIT_SCALE"].flatMap(Double.init), scale >= 0, scale < 1 {
            ex.sleeper = { FlashSignals.sleep($0 * scale) }
        }
        let outcome = ex.run(plan, expectRevision: rep.version)
        var detail = outcome.message
        if let i = outcome.interrupt {
            detail += "; interrupt requested (\(i.signal))" + (i.deferred ? ": deferred until the drive was safe" : "")
        }
        record(outcome.status.rawValue, detail)
        return FlashReport(device: device.name, serial: p.serial, image: imageName, dryRun: false, preflight: p.checks, plan: plan.protocolName,
                           commands: plan.commands.filter { $0.action == .send }.count, outcome: outcome, backup: backupPath,
                           emulatedMemoryMatchesImage: device.emulated?.memory.map { plan.isPlaced(in: $0.flash) }, transcript: nil, warnings: p.warnings)
    }

    /// backup-VENDOR-PRODUCT-REVISION[-SERIAL]-YYYYMMDDTHHMMSS-PID[-N].bin from sanitised device strings: unique per
    /// drive (the serial, when the drive reports one) and per run (the time and the process), and created exclusively
    /// (AtomicFile's no-clobber link: never replacing a file, even one another run creates at the same moment). The path
    /// returned is the file this call wrote.
    public static func writeBackup(_ bytes: [UInt8], _ inq: InquiryData, serial: String?, directory dir: String,
                                   now: Date = Date(), pid: Int32 = getpid()) throws -> String {
        func clean(_ s: String) -> String {
            let c = s.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") ? $0 : "_" }
            return String(c).trimmingScalars { $0 == "." || $0 == "_" }.prefix(32).description
        }
        // The UTC time as 20240501T123456Z, with gmtime_r and strftime (no date formatter: see FlashJournal.now).
        var t = time_t(now.timeIntervalSince1970), tm = tm()
        gmtime_r(&t, &tm)
        var buf = [CChar](repeating: 0, count: 32)
        let n = strftime(&buf, buf.count, "%Y%m%dT%H%M%SZ", &tm)
        let stamp = String(decoding: buf[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let serialPart = serial.map(clean).flatMap { $0.isEmpty ? nil : "-" + $0 } ?? ""
        let base = "backup-\(clean(inq.vendor))-\(clean(inq.product))-\(clean(inq.revision))\(serialPart)-\(stamp)-\(pid)"
        for n in 0..<1000 {
            let p = dir + "/" + base + (n == 0 ? "" : "-\(n)") + ".bin"
            do {
                try AtomicFile.write(Data(bytes), to: p, overwrite: false)
                return p
            } catch let e as OperationError where e.kind == .outputExists {
                continue
            }
        }
        throw OperationError("too many backups in \(dir)", kind: .output)
    }
}

extension FlashPlan {
    /// The sequence's own waits and gaps in seconds.
    public var waitSeconds: Double {
        commands.reduce(0) { sum, c in
            var s = sum + Double(c.gapMilliseconds) / 1000
            if case let .wait(w) = c.action { s += w }
            if case let .poll(tries, interval, _) = c.action { s += Double(tries) * interval }
            return s
        }
    }
}
