import Dispatch
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import SCSI
#if canImport(Glibc)
import Glibc
#endif

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
    /// Only these flash ranges are compared after a read-back (MediaTek: the integrity table's ranges at 1000h and
    /// above; what lies below comes from remapped RAM, and the drive writes some regions itself); nil: all of it.
    public var verifyRanges: [Range<Int>]?
    /// A last check once the read-back matched (MediaTek: the build fingerprint read again): nil, or why it failed.
    public var finalCheck: (() -> String?)?

    public init(transport: any SCSITransport) { self.transport = transport }

    /// Sends one planned command; a unit attention means it was not executed, so it is sent once more.
    func send(_ c: PlannedCommand, timeout: Double) throws -> CommandResult {
        try transport.execute(c.cdb, c.data, timeout: timeout, unitAttentionResends: 1)
    }

    /// The write window: from the first command that changes the drive (a vendor mode, its RAM, its flash) until the
    /// post-flash waits end. Signals are deferred inside it and honoured between commands outside it.
    struct WriteWindow {
        let handlesSignals: Bool
        let report: (FlashInterrupt) -> Void
        private(set) var isOpen = false
        private var seen: Int
        private var seenDeferred: Int

        init(handlesSignals: Bool, report: @escaping (FlashInterrupt) -> Void) {
            self.handlesSignals = handlesSignals; self.report = report
            seen = handlesSignals ? FlashSignals.count : 0
            seenDeferred = handlesSignals ? FlashSignals.deferredCount : 0
        }
        mutating func open() {
            guard !isOpen else { return }
            isOpen = true
            if handlesSignals { FlashSignals.enterWindow() }
        }
        mutating func close() {
            guard isOpen else { return }
            isOpen = false
            if handlesSignals { FlashSignals.leaveWindow() }
        }
        /// Reports the signals that arrived since the last command boundary. Deferred or not is what the handler saw
        /// when the signal arrived (inside the window or not), not the window's state now: a signal in the window's
        /// last moments is reported after it closed, and still as deferred (as the outcome says).
        mutating func noteSignals() {
            guard handlesSignals, FlashSignals.count != seen else { return }
            seen = FlashSignals.count
            let deferred = FlashSignals.deferredCount != seenDeferred
            seenDeferred = FlashSignals.deferredCount
            let s = FlashSignals.last
            report(FlashInterrupt(signal: FlashSignals.name(s), deferred: deferred, message: FlashSignals.notice(s, deferred: deferred)))
        }
    }

    public func run(_ plan: FlashPlan, expectRevision: String?) -> FlashOutcome {
        if handleInterrupts { FlashSignals.acquire() }
        defer { if handleInterrupts { FlashSignals.release() } }
        var window = WriteWindow(handlesSignals: handleInterrupts, report: interrupt)
        defer { window.close() }
        var t = FlashOutcome.Tally()
        let total = plan.imageSize
        var failure: FlashOutcome?
        // The prepare command that first changed the drive: from then on it is not "unchanged", even before the commit.
        var changedBy: PlannedCommand?
        var committing = false
        loop: for c in plan.commands where c.phase != .cleanup {
            window.noteSignals()
            if !window.isOpen, let s = stopRequested() {
                failure = .interrupted(s, t)
                break
            }
            if c.phase == .commit && !committing {
                committing = true
                journal?("committing")
            }
            switch c.action {
            case .send, .challenge:
                if !window.isOpen {
                    // Journaled before it is sent: from here on the drive is being changed.
                    if c.phase == .prepare { journal?("preparing: \(c.name)" + (c.action == .send ? " [\(c.cdb)]" : "")) }
                    window.open()
                }
            default: break
            }
            let status = FlashOutcome.Status(failureIn: c.phase)
            switch c.action {
            case let .wait(seconds):
                if c.phase == .after { timedWait(seconds, c, note: { window.noteSignals() }) } else { sleeper(seconds) }
            case .poll:
                if let o = waitReady(c, plan, status: c.phase == .after ? waitStatus : nil, note: { window.noteSignals() }) { failure = o; break loop }
            case let .challenge(ch):
                let r = answerChallenge(ch, timeout: plan.timeout)
                t.sent += r.sent
                // Past the reset and the read, the answer was sent: the drive's protection state changed.
                if c.phase == .prepare && changedBy == nil && r.sent > 2 { changedBy = c }
                if let why = r.failure { failure = .failed(c, status, why, t); break loop }
            case let .checkInquiry(prefix, boot, notPrefix):
                t.sent += 1
                if let why = checkInquiry(prefix: prefix, bootcode: boot, notPrefix: notPrefix, table: plan.bootcodes, timeout: plan.timeout) {
                    failure = .failed(c, status, why, t)
                    break loop
                }
            case let .senseGate(g):
                t.sent += 1
                let r: CommandResult
                do { r = try send(c, timeout: plan.timeout) } catch { failure = .failed(c, status, "\(error)", t); break loop }
                if let why = g.problem(r) { failure = .failed(c, status, why, sense: r.sense?.triple, t); break loop }
            case .send:
                t.sent += 1   // counted when sent, whether or not it comes back
                var changed = false
                let refused = sendChecked(c, timeout: plan.timeout, mayHaveChanged: &changed)
                if c.phase == .prepare && changedBy == nil && changed { changedBy = c }
                if let f = refused { failure = .failed(c, status, f.why, sense: f.sense, t); break loop }
                if c.imageBytes > 0 {
                    t.bytes += c.imageBytes
                    progress(FlashProgress(phase: c.phase.rawValue, command: c.name, bytesDone: min(t.bytes, total), bytesTotal: total))
                }
                if c.gapMilliseconds > 0 { sleeper(Double(c.gapMilliseconds) / 1000) }
            }
        }
        if var o = failure {
            runCleanup(plan, &t)   // the sequence stopped early: e.g. leave safe mode (still inside the window)
            window.close()
            window.noteSignals()
            o.commandsSent = t.sent
            o.cleanupNotes = t.cleanupNotes
            if o.status == .recoverable { describeUnchanged(&o, changedBy: changedBy, plan, cleanupNotes: t.cleanupNotes) }
            o.interrupt = requested()
            journal?("failed: \(o.status.rawValue): \(o.message)")
            return o
        }
        // The post-flash waits are over: the drive is safe. An interrupt requested in the window is honoured now.
        window.close()
        window.noteSignals()
        var o = verify(plan, expectRevision: expectRevision, t)
        o.interrupt = requested()
        return o
    }

    /// Why a command of the sequence failed.
    struct CommandFailure {
        var why: String
        var sense: String?
    }

    /// Sends one command of the sequence and checks the answer: nil when the drive took it. `mayHaveChanged` tells
    /// whether the drive may have executed it: it answered, but not with a refusal, or it did not answer at all.
    func sendChecked(_ c: PlannedCommand, timeout: Double, mayHaveChanged: inout Bool) -> CommandFailure? {
        let r: CommandResult
        do { r = try send(c, timeout: timeout) } catch {
            mayHaveChanged = true
            return CommandFailure(why: "\(error)")
        }
        mayHaveChanged = r.isGood || c.ignoreErrors && r.status != .checkCondition
        guard !c.ignoreErrors else { return nil }
        if !r.isGood { return CommandFailure(why: r.sense?.description ?? r.status.name, sense: r.sense?.triple) }
        if case let .fromDevice(n) = c.data, r.data.count != n { return CommandFailure(why: "the drive returned \(r.data.count) of \(n) bytes") }
        if case .toDevice = c.data, r.residue > 0 { return CommandFailure(why: "the drive took \(c.data.length - r.residue) of \(c.data.length) bytes") }
        return nil
    }

    /// The cleanup after an early stop: every cleanup command is sent; what failed becomes a note.
    func runCleanup(_ plan: FlashPlan, _ t: inout FlashOutcome.Tally) {
        for c in plan.commands where c.phase == .cleanup && c.action == .send {
            do {
                let r = try send(c, timeout: plan.timeout)
                t.sent += 1
                if !r.isGood { t.cleanupNotes.append("\(c.name): \(r.sense?.description ?? r.status.name)") }
            } catch { t.cleanupNotes.append("\(c.name): \(error)") }
        }
    }

    /// A run that stopped before the commit, after the cleanup: the flash is unchanged, but a command that changed
    /// the drive (a vendor mode) is undone only by an accepted cleanup.
    func describeUnchanged(_ o: inout FlashOutcome, changedBy: PlannedCommand?, _ plan: FlashPlan, cleanupNotes: [String]) {
        guard let m = changedBy else {
            if !cleanupNotes.isEmpty {
                o.driveState += "; but the cleanup failed, so the drive may still be in a vendor mode"
                o.nextSteps.insert("power-cycle the drive (the flash was not touched), then run the command again", at: 0)
            }
            return
        }
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

    /// The interrupt requested, if any, once the drive is safe: the read-back (which may take minutes) is skipped or
    /// stopped; the revision is still asked.
    func stopRequested() -> Int32? { handleInterrupts ? FlashSignals.pending : nil }

    /// The interrupt requested during the run, for the outcome.
    func requested() -> FlashOutcome.Interrupt? {
        guard let s = stopRequested() else { return nil }
        return FlashOutcome.Interrupt(signal: FlashSignals.name(s), number: s, deferred: FlashSignals.deferredCount > 0)
    }

    /// After the sequence: the drive answers INQUIRY with the new revision; the flash is read back where the family can.
    func verify(_ plan: FlashPlan, expectRevision: String?, _ tally: FlashOutcome.Tally) -> FlashOutcome {
        var t = tally
        if let r = try? transport.run(.inquiry(allocation: 96), .fromDevice(96), timeout: 20), r.data.count >= 36 {
            t.revision = Bytes.ascii(r.data, 32, 4)
        }
        t.sent += 1
        journal?("done")
        func wrongRevision(_ t: FlashOutcome.Tally) -> FlashOutcome? {
            guard let want = expectRevision, let got = t.revision, want != got else { return nil }
            return .wrongRevision(want: want, got: got, t)
        }
        let advice = verifyDump != nil ? "run 'odflash dump DEVICE FILE' and compare it with the image" : "run 'odflash info DEVICE'; flash again if it misbehaves"
        if let s = stopRequested(), plan.readback != nil || verifyDump != nil {
            return wrongRevision(t) ?? .readBackInterrupted(s, "the read-back was skipped", advice: advice, t)
        }
        // Read back and compare, where the family has a read path: the protocol's own, or the family's dump.
        if let rb = plan.readback {
            if let o = readBack(rb, plan, &t, advice: advice) { return o }
        } else if let d = verifyDump {
            if let o = readBack(d, plan, &t, advice: advice) { return o }
        }
        if let check = finalCheck, let why = check() {
            return .readBackFailed("the flash was read back, but \(why)", advice: advice, t)
        }
        return wrongRevision(t) ?? .success(readBack: plan.readback != nil || verifyDump != nil, expectRevision: expectRevision, nextSteps: plan.nextSteps, t)
    }

    /// Reads the flash back with the family's dump protocol: nil when it holds the placed image.
    func readBack(_ d: DumpProtocol, _ plan: FlashPlan, _ t: inout FlashOutcome.Tally, advice: String) -> FlashOutcome? {
        let placed = plan.placedImage
        let from = max(d.from, placed.at), to = min(d.to, placed.at + placed.bytes.count)
        var dumper = Dumper(transport: transport)
        dumper.interruptible = handleInterrupts
        // Live status for the read-back too (minutes on a real drive): phase "verify".
        let report = progress
        dumper.progress = { done, total in report(FlashProgress(phase: "verify", command: "read-back", bytesDone: done, bytesTotal: total)) }
        let r: Dumper.Result
        do { r = try dumper.run(d) } catch {
            t.cleanupNotes += error.cleanupNotes
            if let s = error.interrupted { return .readBackInterrupted(s, "the read-back was stopped", advice: advice, t) }
            return .readBackFailed("the flash completed but reading it back failed: \(error.description)", advice: advice, t)
        }
        t.sent += r.commandsSent
        guard from < to else { return nil }
        let start = placed.bytes.startIndex - placed.at
        if let ranges = verifyRanges {
            if !r.gaps.isEmpty {
                return .readBackFailed("the flash completed but \(r.gaps.count) range(s) could not be read back (first at \(Hex.offset(r.gaps[0].lowerBound)))", advice: advice, t)
            }
            for rg in ranges {
                let a = max(rg.lowerBound, from), b = min(rg.upperBound, to)
                guard a < b else { continue }
                if let o = compareReadBack(r.data[(r.data.startIndex + a - d.from)..<(r.data.startIndex + b - d.from)], placed.bytes[(start + a)..<(start + b)], at: a, .dump, t) { return o }
            }
            return nil
        }
        return compareReadBack(r.data[(from - d.from)..<(to - d.from)], placed.bytes[(start + from)..<(start + to)], at: from, .dump, t)
    }

    /// Reads the flash back with the protocol's own read: the placed image, chunk by chunk; {offset} counts from its
    /// start, {address} is where it lies in the drive's memory. nil when it holds the placed image.
    func readBack(_ rb: FlashProtocol.Readback, _ plan: FlashPlan, _ t: inout FlashOutcome.Tally, advice: String) -> FlashOutcome? {
        let placed = plan.placedImage
        var off = 0
        while off < placed.bytes.count {
            let address = Hex.offset(placed.at + off)
            if let s = stopRequested() { return .readBackInterrupted(s, "the read-back was stopped at \(address)", advice: advice, t) }
            let len = min(rb.chunkSize, placed.bytes.count - off)
            let want = placed.bytes[(placed.bytes.startIndex + off)..<(placed.bytes.startIndex + off + len)]
            guard let cdb = try? rb.cdb.cdb(["offset": off, "address": placed.at + off, "length": len]),
                  let r = try? transport.run(cdb, .fromDevice(len), timeout: plan.timeout), r.data.count == len else {
                return .readBackFailed("the read-back at \(address) failed", advice: "run 'odflash info DEVICE'; flash again if it misbehaves", t)
            }
            t.sent += 1
            if let o = compareReadBack(r.data, want, at: placed.at + off, .command(cdb), t) { return o }
            off += len
            progress(FlashProgress(phase: "verify", command: "read-back", bytesDone: off, bytesTotal: placed.bytes.count))
        }
        return nil
    }

    /// The one read-back comparison: nil when `got` equals `want`, the image's bytes that lie at flash `address`;
    /// otherwise the fatal outcome naming the first address that differs.
    func compareReadBack(_ got: some Collection<UInt8>, _ want: ArraySlice<UInt8>, at address: Int, _ path: FlashOutcome.ReadPath,
                         _ t: FlashOutcome.Tally) -> FlashOutcome? {
        guard !got.elementsEqual(want) else { return nil }
        let first = zip(got, want).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? 0
        journal?("read-back differs")
        return .readBackDiffers(at: address + first, path, t)
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

    /// What a challenge exchange did: the commands sent, and why it failed (nil: answered, or the drive has no such
    /// protection).
    struct ChallengeResult {
        var sent: Int
        var failure: String?
    }

    /// Runs a challenge exchange. Stricter than DVRFlash, which goes on after a failed answer: here nothing more is sent.
    func answerChallenge(_ ch: FlashProtocol.Challenge, timeout: Double) -> ChallengeResult {
        var sent = 0
        func cdb(_ t: CDBTemplate) -> CDB? { try? t.cdb([:]) }
        func result(_ failure: String?) -> ChallengeResult { ChallengeResult(sent: sent, failure: failure) }
        guard let reset = cdb(ch.reset), let read = cdb(ch.read) else { return result("\(ch.name): a CDB template needs values") }
        // query re-sends a command that met a unit attention (it was not executed, which says nothing about protection).
        sent += 1
        do { try transport.query(reset, .toDevice([]), timeout: min(timeout, 20)) }
        catch is SCSICommandError { return result(nil) }   // refused: the drive has no such protection, as DVRFlash reads it
        catch { return result("\(ch.name): the reset [\(reset)] got no answer: \(error)") }
        sent += 1
        let r1: CommandResult
        do { r1 = try transport.query(read, .fromDevice(ch.readLength), timeout: min(timeout, 20)) } catch {
            return result("\(ch.name): reading the challenge [\(read)] failed: \(error)")
        }
        guard r1.data.count == ch.readLength else { return result("\(ch.name): the challenge is \(r1.data.count) bytes, not \(ch.readLength)") }
        guard let answer = ch.answer(to: r1.data) else { return result("\(ch.name): no generator seed produces the drive's challenge") }
        for response in ch.responses {
            guard let c = cdb(response.cdb) else { return result("\(ch.name): a response CDB needs values") }
            sent += 1
            do { try transport.query(c, .toDevice([UInt8](repeating: answer, count: response.length)), timeout: min(timeout, 20)) } catch {
                return result("\(ch.name): the answer [\(c)] was refused: \(error)")
            }
        }
        return result(nil)
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
        // The run reports the commands it sent; the bytes are the plan's.
        return .notReady(tries: tries, FlashOutcome.Tally(bytes: plan.imageSize))
    }
}
