#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Exit codes, documented in the README's table (one test per row in Tests/CLITests/ExitStatusTests.swift).
public enum ExitStatus: Int32, Sendable, Encodable {
    case ok = 0
    case failed = 1        // the operation ran and found a problem (invalid image or dump, lint issues, a check failed)
    case usage = 2         // bad arguments or input
    case device = 3        // the device could not be opened or answered wrongly
    case refused = 4       // a safety check refused the operation
    case flashFailed = 5   // a flash started and did not complete or could not be verified
    // 128 + the signal: an interrupt was requested during a flash or a read that changes a drive's mode; the output
    // and the journal say how it ended (a flash goes on until the drive is safe).
    case hangup = 129      // SIGHUP (a closed terminal or SSH session)
    case interrupted = 130 // SIGINT
    case quit = 131        // SIGQUIT
    case terminated = 143  // SIGTERM
}

/// A failure to report: one line and a kind; the kind decides the exit status.
public struct OperationError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// The device could not be opened or answered wrongly.
        case device
        /// Bad arguments.
        case usage
        /// Bad input (an image, a transcript, a sense line).
        case input
        /// A safety check refused the operation.
        case refused
        /// An output could not be written.
        case output
        /// An output path that cannot be used (a link, a directory, a device node).
        case outputInvalid
        /// An output that exists and would be replaced.
        case outputExists
        /// firmware-db was not found or does not load.
        case db
        /// Run setuid or setgid.
        case security
        /// A flash that did not complete: recoverable (the drive is unchanged) or not.
        case flash(recoverable: Bool)
        /// A signal was received (SIGINT, SIGTERM, SIGHUP, SIGQUIT) during a flash or a dump; the exit status is 128 + it.
        case interrupted(signal: Int32)
        /// Anything else.
        case failed

        /// The word `--json` shows as the error's kind.
        public var name: String {
            switch self {
            case .device: "device"
            case .usage: "usage"
            case .input: "input"
            case .refused: "refused"
            case .output, .outputInvalid, .outputExists: "output"
            case .db: "db"
            case .security: "security"
            case .flash: "flash"
            case .interrupted: "interrupted"
            case .failed: "error"
            }
        }

        public var exitStatus: ExitStatus {
            switch self {
            case .device: .device
            case .usage, .input, .outputInvalid, .db: .usage
            case .refused, .outputExists, .security: .refused
            case .output, .failed: .failed
            case let .flash(recoverable): recoverable ? .failed : .flashFailed
            case let .interrupted(signal):
                switch signal {
                case SIGHUP: .hangup
                case SIGQUIT: .quit
                case SIGTERM: .terminated
                default: .interrupted
                }
            }
        }
    }

    public let message: String
    public let kind: Kind
    public var status: ExitStatus { kind.exitStatus }

    public init(_ message: String, kind: Kind = .failed) {
        self.message = message
        self.kind = kind
    }

    public var description: String { message }
}
