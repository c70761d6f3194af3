import CSignal
#if canImport(Glibc)
import Glibc
#endif

/// The signals of a flash. While a flash (or a read that changes a drive's mode) runs, SIGINT, SIGTERM, SIGHUP and
/// SIGQUIT are only recorded and SIGPIPE is ignored (for the rest of the process); they are honoured between commands, except inside the write
/// window (from the first command that changes the drive until the post-flash waits end), where they are deferred,
/// as SIGTSTP is. The handlers print one line on stderr when a signal arrives.
public enum FlashSignals {
    /// Installs the handlers (counted: the last `release` restores the previous dispositions and forgets what arrived).
    public static func acquire(newlineFirst: Bool = isatty(2) == 1) { odsig_acquire(newlineFirst ? 1 : 0) }
    public static func release() { odsig_release() }
    public static var installed: Bool { odsig_installed() != 0 }

    /// The first terminating signal received since `acquire`, nil when none.
    public static var pending: Int32? {
        let s = odsig_pending()
        return s == 0 ? nil : s
    }
    /// How many signals arrived (terminating ones and SIGTSTP), and how many of them inside a write window.
    public static var count: Int { Int(odsig_count()) }
    public static var deferredCount: Int { Int(odsig_deferred_count()) }
    public static var last: Int32 { odsig_last() }

    public static func enterWindow() { odsig_window_enter() }
    /// Leaves the window; a SIGTSTP deferred in it stops the process now.
    public static func leaveWindow() { odsig_window_leave() }

    /// Sleeps for `seconds` on the monotonic clock, to the deadline even when a signal arrives.
    public static func sleep(_ seconds: Double) { odsig_sleep(seconds) }

    public static func name(_ s: Int32) -> String {
        switch s {
        case SIGINT: "SIGINT"
        case SIGTERM: "SIGTERM"
        case SIGHUP: "SIGHUP"
        case SIGQUIT: "SIGQUIT"
        case SIGTSTP: "SIGTSTP"
        case SIGPIPE: "SIGPIPE"
        default: "signal \(s)"
        }
    }

    /// The line the handler printed for a signal.
    public static func notice(_ s: Int32, deferred: Bool) -> String {
        if s == SIGTSTP { return "suspend requested: deferred until the flash is done and the drive is safe" }
        return deferred ? "interrupt requested: the flash goes on until the drive is safe; odflash stops after it"
            : "interrupt requested: odflash stops after the current command"
    }
}

/// A signal that arrived during a flash, reported at the next command boundary.
public struct FlashInterrupt: Sendable, Encodable {
    public let signal: String
    /// True inside the write window: the flash goes on until the drive is safe.
    public let deferred: Bool
    public let message: String
}

/// A wait of the after phase, once a second: the drive writes its flash and must not lose power.
public struct FlashWait: Sendable, Encodable {
    public enum Kind: String, Sendable, Encodable { case wait, poll }
    public enum State: String, Sendable, Encodable { case waiting, over, ready, notReady = "not-ready" }
    public let phase: String
    public let step: String
    public let kind: Kind
    /// The step's length in seconds (a poll's longest).
    public let seconds: Int
    public let secondsLeft: Int
    public let state: State

    public var message: String {
        switch state {
        case .waiting: "the drive is writing its flash: do not power off, \(kind == .poll ? "up to " : "")\(secondsLeft) s left"
        case .over: "the drive's flash time is over"
        case .ready: "the drive is ready again"
        case .notReady: "the drive did not answer as ready"
        }
    }
}
