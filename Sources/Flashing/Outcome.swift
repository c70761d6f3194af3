import SCSI

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

extension FlashOutcome.Status {
    /// What a failure in this phase means: before the commit nothing was written (recoverable); in the commit the flash
    /// may be incomplete (fatal); after it the flash was written but is not confirmed (unverified).
    init(failureIn phase: PlannedCommand.Phase) {
        self = phase == .prepare ? .recoverable : (phase == .after ? .unverified : .fatal)
    }
}

/// The named outcomes of a flash; every outcome is built by one of these.
extension FlashOutcome {
    /// What a run has done so far: the counts every outcome reports.
    struct Tally {
        var sent = 0
        var bytes = 0
        var cleanupNotes: [String] = []
        var revision: String?
    }

    /// Where a read-back came from (the words of its mismatch).
    enum ReadPath {
        /// The family's dump protocol.
        case dump
        /// The protocol's own read command (this chunk's CDB).
        case command(CDB)
    }

    static let keepPowered = "do NOT power off or reboot the computer or the drive"
    static let flashAgain = "run the same flash again now, with the same image"

    init(_ status: Status, _ message: String, driveState: String, nextSteps: [String], _ t: Tally, failedCommand: String? = nil, sense: String? = nil) {
        self.init(status: status, message: message, driveState: driveState, nextSteps: nextSteps, commandsSent: t.sent, bytesSent: t.bytes,
                  failedCommand: failedCommand, sense: sense, cleanupNotes: t.cleanupNotes, revisionAfter: t.revision)
    }

    /// A command of the sequence failed: recoverable before the commit (nothing was written), fatal or unverified from
    /// the commit on (the flash was being written).
    static func failed(_ c: PlannedCommand, _ status: Status, _ why: String, sense: String? = nil, _ t: Tally) -> FlashOutcome {
        let prepare = status == .recoverable
        return FlashOutcome(
            status, "\(c.name) [\(c.cdb)] failed: \(why)",
            driveState: prepare ? "unchanged: nothing was written to the drive's flash" :
                "UNKNOWN: the flash was being written when the command failed; the firmware may be incomplete",
            nextSteps: prepare ? ["fix the cause above and run the same command again"] :
                [keepPowered,
                 "run the same flash again now, with the same image: the drive's boot code usually still accepts it",
                 "if the drive no longer answers, keep it powered and look for the family's recovery (boot-code) flasher before power-cycling"],
            t, failedCommand: c.cdb.description, sense: sense)
    }

    /// A signal honoured before the first command that changes the drive.
    static func interrupted(_ signal: Int32, _ t: Tally) -> FlashOutcome {
        FlashOutcome(.recoverable, "interrupted (\(FlashSignals.name(signal))) before the first write", driveState: "unchanged",
                     nextSteps: ["run the command again when ready"], t)
    }

    /// The drive did not answer as ready within a poll's checks.
    static func notReady(tries: Int, _ t: Tally) -> FlashOutcome {
        FlashOutcome(.unverified, "the drive did not become ready after the flash (\(tries) checks)", driveState: "written, but not answering as ready",
                     nextSteps: ["wait a minute, then run 'odflash info DEVICE'", "do not power off while the drive's light blinks"], t)
    }

    /// The sequence completed, but the drive reports another revision than the image names.
    static func wrongRevision(want: String, got: String, _ t: Tally) -> FlashOutcome {
        FlashOutcome(.unverified, "the flash completed but the drive reports revision \(got), not \(want)",
                     driveState: "written, but not running the expected firmware",
                     nextSteps: ["power-cycle the drive (eject, then reboot) and run 'odflash info' again"], t)
    }

    /// The read-back was skipped or stopped by an interrupt: written, not confirmed.
    static func readBackInterrupted(_ signal: Int32, _ what: String, advice: String, _ t: Tally) -> FlashOutcome {
        FlashOutcome(.unverified,
                     "flashed \(t.bytes) bytes in \(t.sent) commands" + (t.revision.map { " and the drive reports revision \($0)" } ?? "")
                        + "; \(what): interrupt requested (\(FlashSignals.name(signal)))",
                     driveState: "written; not read back", nextSteps: [advice], t)
    }

    /// Reading the flash back failed: written, not confirmed.
    static func readBackFailed(_ message: String, advice: String, _ t: Tally) -> FlashOutcome {
        FlashOutcome(.unverified, message, driveState: "written; the content could not be read back", nextSteps: [advice], t)
    }

    /// The flash read back differs from the image at `address` although the drive accepted every command.
    static func readBackDiffers(at address: Int, _ path: ReadPath, _ t: Tally) -> FlashOutcome {
        let hex = Hex.offset(address)
        let (location, what, failed): (String, String, String?) = switch path {
        case .dump: ("flash address \(hex)", "command", nil)
        case let .command(cdb): (hex, "write", cdb.description)
        }
        return FlashOutcome(.fatal, "the read-back differs from the image at \(location) although every \(what) reported success",
                            driveState: "UNKNOWN: the flash holds something other than the image", nextSteps: [keepPowered, flashAgain], t,
                            failedCommand: failed)
    }

    /// Every command was accepted; what confirms it: the read-back, the revision, or nothing.
    static func success(readBack: Bool, expectRevision: String?, nextSteps: [String], _ t: Tally) -> FlashOutcome {
        var o = FlashOutcome(.success, "flashed \(t.bytes) bytes in \(t.sent) commands" +
                                (readBack ? ", read back and compared" :
                                    expectRevision != nil ? "; not read back (the family has no public read command), so only the revision confirms it"
                                    : "; not read back (the family has no public read command) and the image names no revision: the drive accepted every command, nothing more is known"),
                             driveState: expectRevision == nil ? "written; the image names no revision to compare with" : "running the new firmware",
                             nextSteps: nextSteps.isEmpty ? (expectRevision == nil ? ["power-cycle the drive and check 'odflash info'"] : []) : nextSteps, t)
        o.readBack = readBack
        return o
    }
}
