import Dispatch
import Foundation
import SCSI
#if canImport(Glibc)
import Glibc
#endif

/// How a flash ended, in words a user can act on.
public struct FlashOutcome: Sendable, Encodable {
    public enum Status: String, Sendable, Encodable { case success, recoverable, fatal, unverified }
    public var status: Status
    public var message: String
    /// What state the drive is in now.
    public var driveState: String
    /// What to do next.
    public var nextSteps: [String]
    public var commandsSent: Int
    public var bytesSent: Int
    public var failedCommand: String?
    public var sense: String?
    public var cleanupNotes: [String]
    public var revisionAfter: String?
    /// True when the flash was read back and compared with the image.
    public var readBack = false
    /// An interrupt requested during the flash (SIGINT, SIGTERM, SIGHUP, SIGQUIT): honoured before the first command
    /// that changes the drive, deferred from then until the post-flash waits end.
    public var interrupt: Interrupt?

    public struct Interrupt: Sendable, Encodable {
        public let signal: String
        public let number: Int32
        /// True when it arrived inside the write window and the flash went on until the drive was safe.
        public let deferred: Bool
    }
}

/// Progress, never going backwards.
public struct FlashProgress: Sendable, Encodable {
    public let phase: String
    public let command: String
    public let bytesDone: Int
    public let bytesTotal: Int
    public var percent: Double { bytesTotal == 0 ? 100 : (Double(bytesDone) * 1000 / Double(bytesTotal)).rounded() / 10 }
    public init(phase: String, command: String, bytesDone: Int, bytesTotal: Int) {
        self.phase = phase; self.command = command; self.bytesDone = bytesDone; self.bytesTotal = bytesTotal
    }
}

public struct FlashExecutor {
    public let transport: any SCSITransport
    public var progress: (FlashProgress) -> Void = { _ in }
    /// Written before the commit phase and updated after (a journal of what was attempted).
    public var journal: ((String) -> Void)?
    /// Sleeps for a wait or a gap: to its deadline, even when a signal arrives (a dry run passes one that returns at once).
    public var sleeper: (Double) -> Void = { FlashSignals.sleep($0) }
    /// Signals (see FlashSignals): honoured between commands before and after the write window, deferred inside it.
    public var handleInterrupts = true
    /// The after phase's waits and polls, once a second (the drive writes its flash: do not power off).
    public var waitStatus: (FlashWait) -> Void = { _ in }
    /// Each signal that arrived, at the next command boundary.
    public var interrupt: (FlashInterrupt) -> Void = { _ in }
    /// A family's dump protocol, used to read the flash back after a flash when the protocol has no read-back of its own.
    public var verifyDump: DumpProtocol?

    public init(transport: any SCSITransport) { self.transport = transport }

    /// Sends one planned command; a unit attention means it was not executed, so it is sent once more.
    func send(_ c: PlannedCommand, timeout: Double) throws -> CommandResult {
        try transport.execute(c.cdb, c.data, timeout: timeout, unitAttentionResends: 1)
    }

    public func run(_ plan: FlashPlan, expectRevision: String?) -> FlashOutcome {
        if handleInterrupts { FlashSignals.acquire() }
        defer { if handleInterrupts { FlashSignals.release() } }
        var sent = 0, bytes = 0
        var cleanupNotes: [String] = []
        let total = plan.imageSize
        var outcome: FlashOutcome?
        // The write window: from the first command that changes the drive (a vendor mode, its RAM, its flash) until
        // the post-flash waits end. Signals are deferred inside it and honoured between commands outside it.
        var inWindow = false
        // The prepare command that first changed the drive: from then on it is not "unchanged", even before the commit.
        var changedBy: PlannedCommand?
        var seen = handleInterrupts ? FlashSignals.count : 0
        func openWindow() {
            guard !inWindow else { return }
            inWindow = true
            if handleInterrupts { FlashSignals.enterWindow() }
        }
        func closeWindow() {
            guard inWindow else { return }
            inWindow = false
            if handleInterrupts { FlashSignals.leaveWindow() }
        }
        defer { closeWindow() }
        /// Reports the signals that arrived since the last command boundary.
        func noteSignals() {
            guard handleInterrupts, FlashSignals.count != seen else { return }
            seen = FlashSignals.count
            let s = FlashSignals.last
            interrupt(FlashInterrupt(signal: FlashSignals.name(s), deferred: inWindow, message: FlashSignals.notice(s, deferred: inWindow)))
        }
        /// The interrupt requested during the run, for the outcome.
        func requested() -> FlashOutcome.Interrupt? {
            guard handleInterrupts, let s = FlashSignals.pending else { return nil }
            return FlashOutcome.Interrupt(signal: FlashSignals.name(s), number: s, deferred: FlashSignals.deferredCount > 0)
        }

        func runCleanup() {
            for c in plan.commands where c.phase == .cleanup && c.action == .send {
                do {
                    let r = try send(c, timeout: plan.timeout)
                    sent += 1
                    if !r.isGood { cleanupNotes.append("\(c.name): \(r.sense?.description ?? r.status.name)") }
                } catch { cleanupNotes.append("\(c.name): \(error)") }
            }
        }
        func fail(_ c: PlannedCommand, _ status: FlashOutcome.Status, _ why: String, sense: String?) -> FlashOutcome {
            let prepare = status == .recoverable
            return FlashOutcome(
                status: status,
                message: "\(c.name) [\(c.cdb)] failed: \(why)",
                driveState: prepare ? "unchanged: nothing was written to the drive's flash" :
                    "UNKNOWN: the flash was being written when the command failed; the firmware may be incomplete",
                nextSteps: prepare ? ["fix the cause above and run the same command again"] :
                    ["do NOT power off or reboot the computer or the drive",
                     "run the same flash again now, with the same image: the drive's boot code usually still accepts it",
                     "if the drive no longer answers, keep it powered and look for the family's recovery (boot-code) flasher before power-cycling"],
                commandsSent: sent, bytesSent: bytes, failedCommand: c.cdb.description, sense: sense, cleanupNotes: [], revisionAfter: nil)
        }
        /// A run that stopped before the commit, after the cleanup: the flash is unchanged, but a command that changed
        /// the drive (a vendor mode) is undone only by an accepted cleanup.
        func changedState(_ m: PlannedCommand, _ o: inout FlashOutcome) {
            let undo = plan.commands.filter { $0.phase == .cleanup && $0.action == .send }.map { "'\($0.name)'" }
            if undo.isEmpty {
                o.driveState = "flash unchanged, but the drive may still be in a vendor mode: it took '\(m.name)' and the sequence has nothing that undoes it"
                o.nextSteps = ["run 'odflash info DEVICE' to see what the drive reports, then the same command again"]
            } else if cleanupNotes.isEmpty {
                o.driveState = "flash unchanged; the drive was in a vendor mode ('\(m.name)') and the cleanup (\(undo.joined(separator: ", "))) was accepted"
            } else {
                o.driveState = "flash unchanged, but the drive may still be in a vendor mode ('\(m.name)'): the cleanup failed"
                o.nextSteps.insert("power-cycle the drive (the flash was not touched), then run the command again", at: 0)
            }
        }

        var committing = false
        loop: for c in plan.commands where c.phase != .cleanup {
            noteSignals()
            if !inWindow && handleInterrupts, let s = FlashSignals.pending {
                outcome = FlashOutcome(status: .recoverable, message: "interrupted (\(FlashSignals.name(s))) before the first write", driveState: "unchanged",
                                       nextSteps: ["run the command again when ready"], commandsSent: sent, bytesSent: bytes,
                                       failedCommand: nil, sense: nil, cleanupNotes: [], revisionAfter: nil)
                break
            }
            if c.phase == .commit && !committing {
                committing = true
                journal?("committing")
            }
            switch c.action {
            case .send, .challenge:
                if !inWindow {
                    // Journaled before it is sent: from here on the drive is being changed.
                    if c.phase == .prepare { journal?("preparing: \(c.name)" + (c.action == .send ? " [\(c.cdb)]" : "")) }
                    openWindow()
                }
            default: break
            }
            let status: FlashOutcome.Status = c.phase == .prepare ? .recoverable : (c.phase == .after ? .unverified : .fatal)
            switch c.action {
            case let .wait(seconds):
                if c.phase == .after { timedWait(seconds, c, note: noteSignals) } else { sleeper(seconds) }
                continue loop
            case .poll:
                if let o = waitReady(c, plan, status: c.phase == .after ? waitStatus : nil, note: noteSignals) { outcome = o; break loop }
                continue loop
            case let .challenge(ch):
                let (count, why) = answerChallenge(ch, timeout: plan.timeout)
                sent += count
                // Past the reset and the read, the answer was sent: the drive's protection state changed.
                if c.phase == .prepare && changedBy == nil && count > 2 { changedBy = c }
                if let why {
                    outcome = fail(c, status, why, sense: nil)
                    break loop
                }
                continue loop
            case let .checkInquiry(prefix, boot, notPrefix):
                sent += 1
                if let why = checkInquiry(prefix: prefix, bootcode: boot, notPrefix: notPrefix, table: plan.bootcodes, timeout: plan.timeout) {
                    outcome = fail(c, status, why, sense: nil)
                    break loop
                }
                continue loop
            case .send:
                break
            }
            do {
                sent += 1   // counted when sent, whether or not it comes back
                let r: CommandResult
                do { r = try send(c, timeout: plan.timeout) } catch {
                    if c.phase == .prepare && changedBy == nil { changedBy = c }   // no answer: it may have been executed
                    throw error
                }
                // A command the drive refused was not executed; any other answer may have changed it.
                if c.phase == .prepare && changedBy == nil && (r.isGood || c.ignoreErrors && r.status != .checkCondition) { changedBy = c }
                if !r.isGood && !c.ignoreErrors {
                    outcome = fail(c, status, r.sense?.description ?? r.status.name, sense: r.sense?.triple)
                    break
                }
                if !c.ignoreErrors, case let .fromDevice(n) = c.data, r.data.count != n {
                    outcome = fail(c, status, "the drive returned \(r.data.count) of \(n) bytes", sense: nil)
                    break
                }
                if !c.ignoreErrors, case .toDevice = c.data, r.residue > 0 {
                    outcome = fail(c, status, "the drive took \(c.data.length - r.residue) of \(c.data.length) bytes", sense: nil)
                    break
                }
            } catch {
                outcome = fail(c, status, "\(error)", sense: nil)
                break
            }
            if c.imageBytes > 0 {
                bytes += c.imageBytes
                progress(FlashProgress(phase: c.phase.rawValue, command: c.name, bytesDone: min(bytes, total), bytesTotal: total))
            }
            if c.gapMilliseconds > 0 { sleeper(Double(c.gapMilliseconds) / 1000) }
        }
        if var o = outcome {
            runCleanup()   // the sequence stopped early: e.g. leave safe mode (still inside the window)
            closeWindow()
            noteSignals()
            o.commandsSent = sent
            o.cleanupNotes = cleanupNotes
            if o.status == .recoverable, let m = changedBy {
                changedState(m, &o)
            } else if !cleanupNotes.isEmpty && o.status == .recoverable {
                o.driveState += "; but the cleanup failed, so the drive may still be in a vendor mode"
                o.nextSteps.insert("power-cycle the drive (the flash was not touched), then run the command again", at: 0)
            }
            o.interrupt = requested()
            journal?("failed: \(o.status.rawValue): \(o.message)")
            return o
        }
        // The post-flash waits are over: the drive is safe. An interrupt requested in the window is honoured now.
        closeWindow()
        noteSignals()
        var o = verify(plan, expectRevision: expectRevision, sent: &sent, bytes: bytes, cleanupNotes: cleanupNotes)
        o.interrupt = requested()
        return o
    }

    /// The interrupt requested, if any, once the drive is safe: the read-back (which may take minutes) is skipped or
    /// stopped; the revision is still asked.
    func stopRequested() -> Int32? { handleInterrupts ? FlashSignals.pending : nil }

    /// After the sequence: the drive answers INQUIRY with the new revision; the flash is read back where the family can.
    func verify(_ plan: FlashPlan, expectRevision: String?, sent: inout Int, bytes: Int, cleanupNotes: [String]) -> FlashOutcome {
        var revision: String?
        if let r = try? transport.run(.inquiry(allocation: 96), .fromDevice(96), timeout: 20), r.data.count >= 36 {
            revision = Bytes.ascii(r.data, 32, 4)
        }
        sent += 1
        journal?("done")
        let mismatch = expectRevision.flatMap { want in revision.flatMap { got in want != got ? (want, got) : nil } }
        func wrongRevision(_ want: String, _ got: String, sent: Int) -> FlashOutcome {
            FlashOutcome(status: .unverified, message: "the flash completed but the drive reports revision \(got), not \(want)",
                         driveState: "written, but not running the expected firmware",
                         nextSteps: ["power-cycle the drive (eject, then reboot) and run 'odflash info' again"],
                         commandsSent: sent, bytesSent: bytes, failedCommand: nil, sense: nil, cleanupNotes: cleanupNotes, revisionAfter: got)
        }
        let readBackAdvice = verifyDump != nil ? "run 'odflash dump DEVICE FILE' and compare it with the image" : "run 'odflash info DEVICE'; flash again if it misbehaves"
        func stopped(_ s: Int32, _ what: String, sent: Int) -> FlashOutcome {
            FlashOutcome(status: .unverified,
                         message: "flashed \(bytes) bytes in \(sent) commands" + (revision.map { " and the drive reports revision \($0)" } ?? "")
                            + "; \(what): interrupt requested (\(FlashSignals.name(s)))",
                         driveState: "written; not read back", nextSteps: [readBackAdvice],
                         commandsSent: sent, bytesSent: bytes, failedCommand: nil, sense: nil, cleanupNotes: cleanupNotes, revisionAfter: revision)
        }
        if let s = stopRequested(), plan.readback != nil || verifyDump != nil {
            if let (want, got) = mismatch { return wrongRevision(want, got, sent: sent) }
            return stopped(s, "the read-back was skipped", sent: sent)
        }
        // Read back and compare, where the family has a read path: the protocol's own, or the family's dump.
        var readBack = plan.readback != nil
        if plan.readback == nil, let d = verifyDump {
            readBack = true
            let placed = plan.placedImage
            let from = max(d.from, placed.at), to = min(d.to, placed.at + placed.bytes.count)
            do {
                var dumper = Dumper(transport: transport)
                dumper.interruptible = handleInterrupts
                let r = try dumper.run(d)
                sent += r.commandsSent
                if from < to {
                    let got = r.data[(from - d.from)..<(to - d.from)]
                    let want = placed.bytes[(placed.bytes.startIndex + from - placed.at)..<(placed.bytes.startIndex + to - placed.at)]
                    if !got.elementsEqual(want) {
                        let first = zip(got, want).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? 0
                        journal?("read-back differs")
                        return FlashOutcome(status: .fatal, message: "the read-back differs from the image at flash address \(String(from + first, radix: 16, uppercase: true))h although every command reported success",
                                            driveState: "UNKNOWN: the flash holds something other than the image",
                                            nextSteps: ["do NOT power off or reboot the computer or the drive", "run the same flash again now, with the same image"],
                                            commandsSent: sent, bytesSent: bytes, failedCommand: nil, sense: nil, cleanupNotes: cleanupNotes, revisionAfter: revision)
                    }
                }
            } catch {
                if let s = error.interrupted {
                    var o = stopped(s, "the read-back was stopped", sent: sent)
                    o.cleanupNotes += error.cleanupNotes
                    return o
                }
                return FlashOutcome(status: .unverified, message: "the flash completed but reading it back failed: \(error.description)",
                                    driveState: "written; the content could not be read back", nextSteps: ["run 'odflash dump DEVICE FILE' and compare it with the image"],
                                    commandsSent: sent, bytesSent: bytes, failedCommand: nil, sense: nil, cleanupNotes: cleanupNotes + error.cleanupNotes, revisionAfter: revision)
            }
        }
        if let rb = plan.readback {
            // The protocol's own read: the placed image, chunk by chunk; {offset} counts from its start, {address} is
            // where it lies in the drive's memory.
            let placed = plan.placedImage
            var off = 0
            while off < placed.bytes.count {
                if let s = stopRequested() { return stopped(s, "the read-back was stopped at \(String(placed.at + off, radix: 16, uppercase: true))h", sent: sent) }
                let len = min(rb.chunkSize, placed.bytes.count - off)
                let want = placed.bytes[(placed.bytes.startIndex + off)..<(placed.bytes.startIndex + off + len)]
                guard let cdb = try? rb.cdb.cdb(["offset": off, "address": placed.at + off, "length": len]),
                      let r = try? transport.run(cdb, .fromDevice(len), timeout: plan.timeout), r.data.count == len else {
                    return FlashOutcome(status: .unverified, message: "the read-back at \(String(placed.at + off, radix: 16, uppercase: true))h failed",
                                        driveState: "written; the content could not be read back", nextSteps: ["run 'odflash info DEVICE'; flash again if it misbehaves"],
                                        commandsSent: sent, bytesSent: bytes, failedCommand: nil, sense: nil, cleanupNotes: cleanupNotes, revisionAfter: revision)
                }
                sent += 1
                if !r.data.elementsEqual(want) {
                    let first = zip(r.data, want).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? 0
                    journal?("read-back differs")
                    return FlashOutcome(status: .fatal, message: "the read-back differs from the image at \(String(placed.at + off + first, radix: 16, uppercase: true))h although every write reported success",
                                        driveState: "UNKNOWN: the flash holds something other than the image",
                                        nextSteps: ["do NOT power off or reboot the computer or the drive",
                                                    "run the same flash again now, with the same image"],
                                        commandsSent: sent, bytesSent: bytes, failedCommand: cdb.description, sense: nil, cleanupNotes: cleanupNotes, revisionAfter: revision)
                }
                off += len
            }
        }
        if let (want, got) = mismatch { return wrongRevision(want, got, sent: sent) }
        var o = FlashOutcome(status: .success, message: "flashed \(bytes) bytes in \(sent) commands" +
                                (readBack ? ", read back and compared" :
                                    expectRevision != nil ? "; not read back (the family has no public read command), so only the revision confirms it"
                                    : "; not read back (the family has no public read command) and the image names no revision: the drive accepted every command, nothing more is known"),
                             driveState: expectRevision == nil ? "written; the image names no revision to compare with" : "running the new firmware",
                             nextSteps: plan.nextSteps.isEmpty ? (expectRevision == nil ? ["power-cycle the drive and check 'odflash info'"] : []) : plan.nextSteps,
                             commandsSent: sent, bytesSent: bytes, failedCommand: nil, sense: nil, cleanupNotes: cleanupNotes, revisionAfter: revision)
        o.readBack = readBack
        return o
    }

    /// A wait of the after phase, shown once a second; each slice sleeps to its deadline, so the whole is never shorter.
    func timedWait(_ seconds: Double, _ c: PlannedCommand, note: () -> Void) {
        let whole = Int(seconds.rounded(.up))
        var left = seconds
        while left > 0 {
            let s = Int(left.rounded(.up))
            waitStatus(FlashWait(phase: c.phase.rawValue, step: c.name, kind: .wait, seconds: whole, secondsLeft: s, state: .waiting))
            let slice = left - Double(s - 1)
            sleeper(slice)
            left -= slice
            note()
        }
        waitStatus(FlashWait(phase: c.phase.rawValue, step: c.name, kind: .wait, seconds: whole, secondsLeft: 0, state: .over))
    }

    /// Runs a challenge exchange: the commands sent, and why it failed (nil: answered, or the drive has no such
    /// protection). Stricter than DVRFlash, which goes on after a failed answer: here nothing more is sent.
    func answerChallenge(_ ch: FlashProtocol.Challenge, timeout: Double) -> (Int, String?) {
        var sent = 0
        func cdb(_ t: CDBTemplate) -> CDB? { try? t.cdb([:]) }
        guard let reset = cdb(ch.reset), let read = cdb(ch.read) else { return (0, "\(ch.name): a CDB template needs values") }
        // query re-sends a command that met a unit attention (it was not executed, which says nothing about protection).
        sent += 1
        do { try transport.query(reset, .toDevice([]), timeout: min(timeout, 20)) }
        catch is SCSICommandError { return (sent, nil) }   // refused: the drive has no such protection, as DVRFlash reads it
        catch { return (sent, "\(ch.name): the reset [\(reset)] got no answer: \(error)") }
        sent += 1
        let r1: CommandResult
        do { r1 = try transport.query(read, .fromDevice(ch.readLength), timeout: min(timeout, 20)) } catch {
            return (sent, "\(ch.name): reading the challenge [\(read)] failed: \(error)")
        }
        guard r1.data.count == ch.readLength else { return (sent, "\(ch.name): the challenge is \(r1.data.count) bytes, not \(ch.readLength)") }
        guard let answer = ch.answer(to: r1.data) else { return (sent, "\(ch.name): no generator seed produces the drive's challenge") }
        for response in ch.responses {
            guard let c = cdb(response.cdb) else { return (sent, "\(ch.name): a response CDB needs values") }
            sent += 1
            do { try transport.query(c, .toDevice([UInt8](repeating: answer, count: response.length)), timeout: min(timeout, 20)) } catch {
                return (sent, "\(ch.name): the answer [\(c)] was refused: \(error)")
            }
        }
        return (sent, nil)
    }

    /// nil when the drive's INQUIRY is as required; otherwise why not.
    func checkInquiry(prefix: String?, bootcode: String?, notPrefix: String? = nil, table: [FlashProtocol.BootcodeEntry], timeout: Double) -> String? {
        let r: CommandResult
        do { r = try transport.run(.inquiry(allocation: 96), .fromDevice(96), timeout: min(timeout, 20)) } catch { return "INQUIRY failed: \(error)" }
        guard r.data.count >= 36 else { return "INQUIRY returned \(r.data.count) bytes" }
        let vendor = Bytes.ascii(r.data, 8, 8), product = Bytes.ascii(r.data, 16, 16), rev = Bytes.ascii(r.data, 32, 4)
        if let p = prefix, !rev.hasPrefix(p) { return "the drive reports revision '\(rev)', not one starting with '\(p)' (it did not change mode)" }
        if let p = notPrefix, rev.hasPrefix(p) { return "the drive still reports revision '\(rev)' (it did not leave that mode)" }
        guard let want = bootcode else { return nil }
        guard let h = FlashProtocol.BootcodeEntry.bootcode(inquiry: r.data, table: table) else { return "the drive's boot code cannot be read from its safe-mode revision '\(rev)' and firmware-db lists none for \(vendor) \(product) \(rev)" }
        return h == want ? nil : "the image is for boot code \(want), the drive has boot code \(h)"
    }

    func waitReady(_ c: PlannedCommand, _ plan: FlashPlan, status: ((FlashWait) -> Void)?, note: () -> Void) -> FlashOutcome? {
        guard case let .poll(tries, interval, successes) = c.action else { return nil }
        let whole = Int((Double(tries) * interval).rounded(.up))
        func show(_ left: Int, _ state: FlashWait.State) {
            status?(FlashWait(phase: c.phase.rawValue, step: c.name, kind: .poll, seconds: whole, secondsLeft: left, state: state))
        }
        var shown = -1
        var ok = 0
        for i in 0..<tries {
            let left = Int((Double(tries - i) * interval).rounded(.up))
            if left != shown { shown = left; show(left, .waiting) }
            let r = try? transport.execute(.testUnitReady(), .none, timeout: 20)
            if let r, r.isGood || r.sense?.asc == 0x3A { ok += 1 } else { ok = 0 }
            if ok >= successes { show(0, .ready); return nil }
            // A unit attention (e.g. "microcode has been changed") is the drive answering: ask again at once.
            if r?.isUnitAttention == true { continue }
            sleeper(interval)
            note()
        }
        show(0, .notReady)
        return FlashOutcome(status: .unverified, message: "the drive did not become ready after the flash (\(tries) checks)",
                            driveState: "written, but not answering as ready",
                            nextSteps: ["wait a minute, then run 'odflash info DEVICE'", "do not power off while the drive's light blinks"],
                            commandsSent: 0, bytesSent: plan.imageSize, failedCommand: nil, sense: nil, cleanupNotes: [], revisionAfter: nil)
    }
}
