import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The odflash executable `swift build --build-tests` builds beside the test bundle (else the one in .build/debug).
let odflashExecutable: String = {
    let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    let beside = URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent("odflash").path
    return FileManager.default.isExecutableFile(atPath: beside) ? beside : repoRoot + "/.build/debug/odflash"
}()

private let spawnLock = NSLock()

/// A real odflash process, for real signals. Threads read its stdout (NDJSON lines) and stderr. A trigger set with
/// `at` runs on the stdout reader as soon as the matching line is read: the reader stops reading, fills the pipe so
/// that the child's next write blocks, and signals it, so the signal arrives before the child is more than a
/// command past the marker (and while it cannot get further than its next line). `resume` lets it go on.
final class Child: @unchecked Sendable {
    let pid: pid_t
    private let cond = NSCondition()
    private var outBytes: [UInt8] = []
    private var errBytes: [UInt8] = []
    private var parsed = 0
    /// The stdout lines (JSON objects; other text as ["text": line]) and when each was read.
    private(set) var lines: [[String: Any]] = []
    private(set) var times: [Double] = []
    private var trigger: (predicate: ([String: Any]) -> Bool, action: () -> Void)?
    private var paused = false
    private var closing = false
    private var openReaders = 2
    private let outFD: Int32, errFD: Int32
    /// The parent's copy of the stdout pipe's write end: to fill the pipe.
    private var fillFD: Int32

    init(_ args: [String], env extra: [String: String] = [:]) throws {
        var out: [Int32] = [0, 0], err: [Int32] = [0, 0]
        // Close-on-exec: other children spawned at the same time must not hold these pipes open (the lock keeps this
        // suite's children from seeing each other's pipes before the flag is set).
        spawnLock.lock()
        defer { spawnLock.unlock() }
        guard pipe(&out) == 0, pipe(&err) == 0 else { throw POSIXError(.EMFILE) }
        for fd in out + err { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, out[1], 1)
        posix_spawn_file_actions_adddup2(&actions, err[1], 2)
        for fd in out + err { posix_spawn_file_actions_addclose(&actions, fd) }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        // Its own process group (a SIGTSTP stops it as it would a job), default dispositions, nothing blocked.
        var defaults = sigset_t(), none = sigset_t()
        sigemptyset(&defaults); sigemptyset(&none)
        for s in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGPIPE] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setpgroup(&attr, 0)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let argv = ([odflashExecutable] + args + ["--db", db]).map { strdup($0) } + [nil]
        var environment = ProcessInfo.processInfo.environment
        environment["ODFLASH_JOURNAL"] = nil
        for (k, v) in extra { environment[k] = v }
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in argv + envp { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, odflashExecutable, &actions, &attr, argv, envp)
        close(out[1]); close(err[1])
        guard rc == 0 else { close(out[0]); close(err[0]); throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .ENOENT) }
        self.pid = pid
        outFD = out[0]; errFD = err[0]
        // A write end for filling the pipe: opened through /proc so that the child's EOF is not held up by it later.
        fillFD = open("/proc/self/fd/\(out[0])", O_WRONLY | O_NONBLOCK | O_CLOEXEC)
        let o = Thread { [self] in read(outFD, stdout: true) }
        let e = Thread { [self] in read(errFD, stdout: false) }
        o.start(); e.start()
    }

    private func read(_ fd: Int32, stdout: Bool) {
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            cond.lock()
            while stdout && paused && !closing { cond.wait() }
            if closing { openReaders -= 1; cond.broadcast(); cond.unlock(); close(fd); return }
            cond.unlock()
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&p, 1, 10) <= 0 { continue }
            let n = Glibc.read(fd, &buf, buf.count)
            cond.lock()
            if n <= 0 { openReaders -= 1; cond.broadcast(); cond.unlock(); close(fd); return }
            if stdout {
                outBytes += buf[0..<n]
                while let nl = outBytes[parsed...].firstIndex(of: 0x0A) {
                    let line = outBytes[parsed..<nl]
                    parsed = nl + 1
                    guard !line.isEmpty else { continue }   // the filler
                    let obj = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any] ?? ["text": String(decoding: line, as: UTF8.self)]
                    lines.append(obj)
                    times.append(Date().timeIntervalSince1970)
                    if let t = trigger, t.predicate(obj) {
                        trigger = nil
                        paused = true
                        fill()
                        t.action()
                    }
                }
            } else {
                errBytes += buf[0..<n]
            }
            cond.broadcast()
            cond.unlock()
        }
    }

    /// Fills the stdout pipe: the child's next line blocks until `resume`.
    private func fill() {
        let chunk = [UInt8](repeating: 0x0A, count: 4096)
        while Glibc.write(fillFD, chunk, chunk.count) > 0 {}
        while Glibc.write(fillFD, chunk, 1) > 0 {}
    }

    /// At the first stdout line (from now on) that matches: stop reading, fill the pipe, then `action` (e.g. a signal).
    func at(_ predicate: @escaping ([String: Any]) -> Bool, _ action: @escaping () -> Void) {
        cond.lock(); trigger = (predicate, action); cond.unlock()
    }

    func signal(_ s: Int32) { kill(pid, s) }

    func resume() { cond.lock(); paused = false; cond.broadcast(); cond.unlock() }

    /// Closes the reading ends of stdout and stderr, as a terminal that vanished: the child's writes fail from now on.
    func closeOutput() {
        cond.lock()
        closing = true
        cond.broadcast()
        while openReaders > 0 { cond.wait() }
        cond.unlock()
        close(fillFD); fillFD = -1
    }

    var stderr: String { cond.lock(); defer { cond.unlock() }; return String(decoding: errBytes, as: UTF8.self) }
    var snapshot: [[String: Any]] { cond.lock(); defer { cond.unlock() }; return lines }

    /// Waits until a stdout line matches (or stderr contains `text`); false after `timeout` seconds.
    @discardableResult
    func wait(for predicate: (([String: Any]) -> Bool)? = nil, stderrContains text: String? = nil, timeout: Double = 60) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        cond.lock(); defer { cond.unlock() }
        while true {
            if let p = predicate, lines.contains(where: p) { return true }
            if let t = text, String(decoding: errBytes, as: UTF8.self).contains(t) { return true }
            if !cond.wait(until: deadline) { return false }
        }
    }

    /// Waits for the child to stop (SIGTSTP) or exit; nil after `timeout`.
    enum End: Equatable { case exited(Int32), killed(Int32), stopped }
    func end(timeout: Double = 120, untraced: Bool = false) -> End? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            var st: Int32 = 0
            let r = waitpid(pid, &st, WNOHANG | (untraced ? WUNTRACED : 0))
            if r == pid {
                if st & 0xFF == 0x7F { return .stopped }
                // The child is gone: our copy of the pipe's write end must not keep the reader from its EOF.
                if fillFD >= 0 { close(fillFD); fillFD = -1 }
                if st & 0x7F == 0 { return .exited((st >> 8) & 0xFF) }
                return .killed(st & 0x7F)
            }
            usleep(5000)
        }
        kill(pid, SIGKILL)
        return nil
    }

    /// Lets the child go on and waits for its end and its output.
    func finish(timeout: Double = 120) -> End? {
        resume()
        let e = end(timeout: timeout)
        cond.lock()
        let deadline = Date().addingTimeInterval(10)
        while openReaders > 0 && cond.wait(until: deadline) {}
        cond.unlock()
        return e
    }
}

/// One family's flash of an emulated drive, with the points at which it is signalled.
struct SignalCase: CustomStringConvertible, Sendable {
    let family: String
    let drive: String
    let generate: [String]
    var flash: [String] = ["--no-backup"]
    /// ODFLASH_EMULATED_WAIT_SCALE for the run (nil: the sequence's own waits).
    var scale: String?
    /// The point, and the signal sent there.
    let point: Point
    let signal: Int32
    var description: String { "\(family) on \(drive): \(FlashSignalsName.name(signal)) \(point)" }

    enum Point: String, Sendable, CustomStringConvertible {
        /// The backup read (before the write window; NEC enters safe mode for it).
        case backup
        /// Just after the first image bytes went to the drive (its RAM or its flash): inside the window.
        case write
        /// The first second of the after phase's wait or readiness poll: inside the window.
        case wait
        var description: String { rawValue }
    }

    func matches(_ l: [String: Any]) -> Bool {
        guard l["type"] as? String == "progress" else { return false }
        switch point {
        case .backup: return l["phase"] as? String == "backup"
        case .write: return l["wait"] == nil && ["prepare", "commit"].contains(l["phase"] as? String ?? "")
        case .wait: return (l["wait"] as? [String: Any])?["state"] as? String == "waiting"
        }
    }

    static let synthetic = ["--family", "synthetic-test", "--revision", "1.01"]
    static let nec = ["--family", "nec-optiarc", "--layout", "nec-2m-opti3", "--size", "1769480", "--drive-id", "G245",
                      "--vendor", "ATAPI", "--product", "iHAS324   Y", "--revision", "BL1Y"]
    static let pioneer = ["--family", "pioneer-dvr", "--layout", "dvr-normal", "--vendor", "PIONEER", "--product", "DVD-RW  DVR-107D"]

    /// Every family whose emulated drive the CLI flashes, at the points its sequence has, with the signals in turn.
    static let all: [SignalCase] = [
        SignalCase(family: "synthetic-test", drive: "synthetic-writer", generate: synthetic, flash: [], point: .backup, signal: SIGINT),
        SignalCase(family: "synthetic-test", drive: "synthetic-writer", generate: synthetic, flash: [], point: .write, signal: SIGTERM),
        SignalCase(family: "synthetic-test", drive: "synthetic-writer", generate: synthetic, flash: [], point: .wait, signal: SIGHUP),
        SignalCase(family: "nec-optiarc", drive: "ihas324y", generate: nec, flash: [], point: .backup, signal: SIGTERM),
        SignalCase(family: "nec-optiarc", drive: "ihas324y", generate: nec, flash: [], point: .write, signal: SIGINT),
        SignalCase(family: "pioneer-dvr", drive: "dvr-107d", generate: pioneer, scale: "0.1", point: .write, signal: SIGHUP),
        SignalCase(family: "pioneer-dvr", drive: "dvr-107d", generate: pioneer, scale: "0.1", point: .wait, signal: SIGINT),
        SignalCase(family: "plextor", drive: "px716a", generate: ["--family", "plextor", "--layout", "px-716a"], point: .write, signal: SIGQUIT),
        SignalCase(family: "spc-microcode", drive: "scsi-debug-cd", generate: ["--family", "spc-microcode", "--size", "0x200000", "--vendor", "ODFLASH", "--product", "SCSI_DEBUG_CD"],
                   point: .write, signal: SIGINT),
        SignalCase(family: "lg-renesas", drive: "lg-gsa-t21n", generate: ["--family", "lg-renesas", "--size", "0x10480"],
                   flash: ["--no-backup", "--accept-unidentified-model"], scale: "0.1", point: .write, signal: SIGTERM),
        SignalCase(family: "lg-renesas", drive: "lg-gsa-t21n", generate: ["--family", "lg-renesas", "--size", "0x10480"],
                   flash: ["--no-backup", "--accept-unidentified-model"], scale: "0.1", point: .wait, signal: SIGQUIT),
        SignalCase(family: "btc-mediatek", drive: "btc-drw1008", generate: ["--family", "btc-mediatek", "--vendor", "BTC", "--product", "DVDRW DRW1008", "--revision", "0051"],
                   scale: "0.02", point: .write, signal: SIGHUP),
        SignalCase(family: "btc-mediatek", drive: "btc-drw1008", generate: ["--family", "btc-mediatek", "--vendor", "BTC", "--product", "DVDRW DRW1008", "--revision", "0051"],
                   scale: "0.02", point: .wait, signal: SIGTERM),
        SignalCase(family: "mediatek-mt1959", drive: "bu40n", generate: ["--family", "mediatek-mt1959", "--vendor", "HL-DT-ST", "--product", "BD-RE BU40N", "--revision", "1.02"],
                   scale: "0.1", point: .write, signal: SIGQUIT),
        SignalCase(family: "mediatek-mt1959", drive: "bu40n", generate: ["--family", "mediatek-mt1959", "--vendor", "HL-DT-ST", "--product", "BD-RE BU40N", "--revision", "1.02"],
                   scale: "0.1", point: .wait, signal: SIGINT),
    ]
}

/// FlashSignals lives in the Flashing module, which CLITests does not import: the names, as odflash prints them.
enum FlashSignalsName {
    static func name(_ s: Int32) -> String {
        [SIGINT: "SIGINT", SIGTERM: "SIGTERM", SIGHUP: "SIGHUP", SIGQUIT: "SIGQUIT", SIGTSTP: "SIGTSTP"][s] ?? "signal \(s)"
    }
}

let deferredNotice = "interrupt requested: the flash goes on until the drive is safe; odflash stops after it"
let honouredNotice = "interrupt requested: odflash stops after the current command"

func journalEntries(_ path: String) -> [[String: Any]] {
    ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n")
        .compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
}

/// The protected write window, with real signals sent to a real odflash process at several points of every family's
/// sequence (the child is held at the point: see Child).
@Suite struct SignalTests {
    func image(_ c: SignalCase, _ d: String) -> String {
        let p = d + "/\(c.family).bin"
        let r = odflash(["fw", "generate"] + c.generate + ["-o", p, "--force-overwrite"])
        #expect(r.status == 0, "\(r.err)")
        return p
    }

    @Test(arguments: SignalCase.all)
    func aSignalAtAPointOfTheSequence(_ c: SignalCase) throws {
        let top = tempDir()
        let img = image(c, top)
        // The signal arrived while the child was held at the point: its handler says so on stderr. On a loaded machine
        // the child can outrun the pipe that holds it (its remaining output fits the pipe before the parent fills it, or
        // the parent's reader thread is not scheduled for seconds) and pass the point before the signal lands: that run
        // proves nothing either way, so it is run again (six at most; a miss is seen as soon as the other notice is).
        let notice = c.point == .backup ? honouredNotice : deferredNotice
        var d = top, j = "", child: Child?
        for attempt in 1...6 {
            d = top + "/\(attempt)"
            try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
            j = d + "/journal.jsonl"
            var args = ["flash", "--json", "emu:\(c.drive)", img, "--yes", "--allow-untested", "--journal", j] + c.flash
            if c.point == .backup { args += ["--backup-dir", d, "--transcript", d + "/t.jsonl"] }
            let ch = try Child(args, env: c.scale.map { ["ODFLASH_EMULATED_WAIT_SCALE": $0] } ?? [:])
            ch.at(c.matches) { ch.signal(c.signal) }
            child = ch
            if ch.wait(stderrContains: "interrupt requested", timeout: 60), ch.stderr.contains(notice) { break }
            let missed = ch.stderr.contains(c.point == .backup ? deferredNotice : honouredNotice) || !ch.stderr.contains("interrupt requested")
            if attempt == 6 || !missed { Issue.record("\(c): \(ch.stderr)"); break }
            _ = ch.finish()
        }
        guard let child else { return }
        let end = child.finish()
        let status = 128 + c.signal
        #expect(end == .exited(status), "\(c): \(String(describing: end)) \(child.stderr)")
        let lines = child.snapshot
        let last = lines.last ?? [:]
        let error = last["error"] as? [String: Any]
        #expect(last["type"] as? String == "error" && error?["kind"] as? String == "interrupted" && error?["exitStatus"] as? Int == Int(status), "\(c): \(last)")
        let entries = journalEntries(j)
        let events = entries.compactMap { $0["event"] as? String }
        let signal = FlashSignalsName.name(c.signal)
        if c.point == .backup {
            // Before the window: honoured; nothing was written; a mode entered for the read is left, and journaled.
            let message = error?["message"] as? String ?? ""
            #expect(message.hasPrefix("interrupted (\(signal)) during the backup read: nothing was written to the drive's flash"), "\(message)")
            #expect(events == ["interrupted"], "\(events)")
            let transcript = journalEntries(d + "/t.jsonl").compactMap { $0["cdb"] as? String }
            if c.family == "nec-optiarc" {
                #expect(message.hasSuffix("drive: it was in a vendor mode ('enter safe mode') for the read; the cleanup ('leave safe mode') was sent and accepted"), "\(message)")
                #expect(transcript.first { $0.hasPrefix("CC 01") } == "CC 01 01 00 47 32 34 35 01 00 00 00" && transcript.last == "CC 01 00 00 47 32 34 35 01 00 00 00", "\(transcript.suffix(3))")
            } else {
                #expect(message.hasSuffix("drive: unchanged"), "\(message)")
            }
            #expect(!transcript.contains { $0.hasPrefix("3B") }, "a write was sent")
            #expect(try FileManager.default.contentsOfDirectory(atPath: d).filter { $0.hasPrefix("backup-") }.isEmpty)
            return
        }
        // Inside the window: deferred; the flash completed and the outcome says how; 128 + the signal afterwards.
        let report = error?["report"] as? [String: Any]
        let outcome = report?["outcome"] as? [String: Any]
        let interrupt = outcome?["interrupt"] as? [String: Any]
        #expect(interrupt?["signal"] as? String == signal && interrupt?["deferred"] as? Bool == true, "\(c): \(String(describing: outcome))")
        #expect(report?["emulatedMemoryMatchesImage"] as? Bool == true, "\(c): the flash did not complete")
        let st = outcome?["status"] as? String
        let message = outcome?["message"] as? String ?? ""
        // Where the family reads its flash back, the read-back (minutes on a real drive) is skipped after an interrupt.
        #expect(st == "success" || (st == "unverified" && message.contains("the read-back was skipped: interrupt requested (\(signal))")), "\(c): \(st ?? "-") \(message)")
        #expect(lines.contains { $0["type"] as? String == "interrupt" && $0["signal"] as? String == signal && $0["deferred"] as? Bool == true })
        if c.point == .wait {
            // The wait ran to its end after the signal.
            #expect(lines.contains { ($0["wait"] as? [String: Any]).map { ["over", "ready"].contains($0["state"] as? String ?? "") } == true }, "\(c)")
        }
        // The journal tells the truth: the outcome, with the interrupt.
        #expect(events.first == "start" && events.contains("committing") && events.last == st, "\(events)")
        #expect((entries.last?["detail"] as? String)?.hasSuffix("interrupt requested (\(signal)): deferred until the drive was safe") == true, "\(String(describing: entries.last))")
        if c.family == "nec-optiarc" || c.family == "pioneer-dvr" { #expect(events.contains("preparing"), "\(events)") }
    }

    /// The bug this fixes: SIGINT during the Pioneer 10 s post-flash wait ended the wait at once. Now every signal
    /// (here one every 20 ms) leaves the wait running to its deadline: all ten seconds are counted down.
    @Test func aWaitRunsToItsDeadlineThroughRepeatedSignals() throws {
        let c = SignalCase.all.first { $0.family == "pioneer-dvr" && $0.point == .wait }!
        let d = tempDir()
        let child = try Child(["flash", "--json", "emu:dvr-107d", image(c, d), "--yes", "--allow-untested", "--no-backup"], env: ["ODFLASH_EMULATED_WAIT_SCALE": "0.1"])
        #expect(child.wait(for: c.matches))
        let waiting: ([String: Any]) -> Bool = { ($0["wait"] as? [String: Any])?["state"] as? String == "over" }
        var sent = 0
        while !child.wait(for: waiting, timeout: 0.02) && sent < 500 { child.signal(SIGINT); sent += 1 }
        #expect(child.finish() == .exited(130))
        let lines = child.snapshot
        // Each signal that arrived before the wait was over was deferred (signals sent close together may merge).
        let deferred = child.stderr.components(separatedBy: deferredNotice).count - 1
        let waits = lines.indices.filter { lines[$0]["wait"] != nil }
        let left = waits.compactMap { (lines[$0]["wait"] as? [String: Any])?["secondsLeft"] as? Int }
        #expect(left == Array((0...10).reversed()), "\(left)")
        // 10 s scaled by 0.1: a second of waiting, measured from the first line to the last.
        let elapsed = child.times[waits.last!] - child.times[waits.first!]
        #expect(sent >= 10 && deferred >= sent / 2 && elapsed >= 0.9, "\(sent) signals, \(deferred) deferred, \(elapsed) s")
    }

    /// A closed terminal or SSH session: SIGHUP, then every write to stdout and stderr fails. The flash goes on to its
    /// end; the journal has the outcome.
    @Test func aVanishedTerminalDoesNotStopTheFlash() throws {
        let c = SignalCase.all.first { $0.family == "pioneer-dvr" && $0.point == .write }!
        let d = tempDir()
        let j = d + "/journal.jsonl"
        let child = try Child(["flash", "--json", "emu:dvr-107d", image(c, d), "--yes", "--allow-untested", "--no-backup", "--journal", j],
                              env: ["ODFLASH_EMULATED_WAIT_SCALE": "0.1"])
        child.at(c.matches) {}
        #expect(child.wait(for: c.matches))
        child.closeOutput()
        child.signal(SIGHUP)
        #expect(child.end() == .exited(129))
        let entries = journalEntries(j)
        #expect(entries.compactMap { $0["event"] as? String } == ["start", "preparing", "committing", "success"])
        #expect((entries.last?["detail"] as? String)?.hasSuffix("interrupt requested (SIGHUP): deferred until the drive was safe") == true)
    }

    /// SIGTSTP (Ctrl-Z) in the window is deferred: the process stops once the post-flash wait is over, and when
    /// continued it finishes as if nothing happened (a suspend is no interrupt).
    @Test func aSuspendIsDeferredUntilTheDriveIsSafe() throws {
        let c = SignalCase.all.first { $0.family == "pioneer-dvr" && $0.point == .write }!
        let d = tempDir()
        let child = try Child(["flash", "--json", "emu:dvr-107d", image(c, d), "--yes", "--allow-untested", "--no-backup"], env: ["ODFLASH_EMULATED_WAIT_SCALE": "0.1"])
        child.at(c.matches) { child.signal(SIGTSTP) }
        #expect(child.wait(stderrContains: "suspend requested: deferred until the flash is done and the drive is safe"))
        child.resume()
        #expect(child.end(untraced: true) == .stopped)
        // Stopped after the window: the wait was over, no result yet.
        #expect(child.wait(for: { ($0["wait"] as? [String: Any])?["state"] as? String == "over" }, timeout: 10))
        #expect(!child.snapshot.contains { $0["type"] as? String == "result" })
        kill(child.pid, SIGCONT)
        #expect(child.finish() == .exited(0))
        #expect(child.snapshot.last?["type"] as? String == "result")
    }
}
