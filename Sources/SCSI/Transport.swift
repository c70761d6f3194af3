// The one protocol every transport implements: SG_IO, USB Bulk-Only, the emulator, replay.

public enum SCSIStatus: UInt8, Sendable, Codable {
    case good = 0x00
    case checkCondition = 0x02
    case conditionMet = 0x04
    case busy = 0x08
    case reservationConflict = 0x18
    case taskSetFull = 0x28
    case acaActive = 0x30
    case taskAborted = 0x40

    public var name: String {
        switch self {
        case .good: return "GOOD"
        case .checkCondition: return "CHECK CONDITION"
        case .conditionMet: return "CONDITION MET"
        case .busy: return "BUSY"
        case .reservationConflict: return "RESERVATION CONFLICT"
        case .taskSetFull: return "TASK SET FULL"
        case .acaActive: return "ACA ACTIVE"
        case .taskAborted: return "TASK ABORTED"
        }
    }
}

/// What to move in the data phase.
public enum DataTransfer: Sendable, Equatable {
    case none
    case fromDevice(Int)        // allocation length in bytes
    case toDevice([UInt8])

    public var direction: DataDirection {
        switch self {
        case .none: return .none
        case .fromDevice: return .fromDevice
        case .toDevice: return .toDevice
        }
    }
    public var length: Int {
        switch self {
        case .none: return 0
        case let .fromDevice(n): return n
        case let .toDevice(d): return d.count
        }
    }
}

/// The result of one command that reached the device and got a status back.
public struct CommandResult: Sendable, Equatable {
    public var status: SCSIStatus
    public var sense: SenseData?
    /// Raw sense bytes as returned (kept even when they cannot be parsed).
    public var senseBytes: [UInt8]
    /// Data received from the device (data-in), already cut to what was transferred.
    public var data: [UInt8]
    /// Bytes requested but not transferred.
    public var residue: Int

    public init(status: SCSIStatus, sense: SenseData? = nil, senseBytes: [UInt8]? = nil, data: [UInt8] = [], residue: Int = 0) {
        self.status = status
        self.sense = sense
        self.senseBytes = senseBytes ?? sense?.raw ?? []
        self.data = data
        self.residue = residue
    }

    public static func good(_ data: [UInt8] = [], residue: Int = 0) -> CommandResult {
        CommandResult(status: .good, data: data, residue: residue)
    }

    public static func check(_ key: UInt8, _ asc: UInt8, _ ascq: UInt8) -> CommandResult {
        CommandResult(status: .checkCondition, sense: SenseData(key: key, asc: asc, ascq: ascq))
    }

    public var isGood: Bool { status == .good || status == .conditionMet }
}

/// Failures below SCSI status: the command did not complete at the device.
public enum TransportError: Error, Equatable, CustomStringConvertible, Sendable {
    case noSuchDevice(String)
    case permissionDenied(String, hint: String)
    case busy(String)
    case notSCSI(String)
    case openFailed(String, errno: Int32, message: String)
    case ioctlFailed(String, errno: Int32, message: String)
    case timeout(cdb: String, seconds: Double)
    case hostError(cdb: String, hostStatus: Int, name: String)
    case driverError(cdb: String, driverStatus: Int)
    case deviceGone(String)
    case protocolError(String)
    case usb(String)
    case closed
    case notSupported(String)

    public var description: String {
        switch self {
        case let .noSuchDevice(d): return "\(d): no such device"
        case let .permissionDenied(d, hint): return "\(d): permission denied (\(hint))"
        case let .busy(d): return "\(d): device is busy (opened exclusively by another program, or mounted)"
        case let .notSCSI(d): return "\(d): not a SCSI generic or CD-ROM device (SG_IO not supported)"
        case let .openFailed(d, e, m): return "\(d): cannot open: \(m) (errno \(e))"
        case let .ioctlFailed(d, e, m): return "\(d): SG_IO failed: \(m) (errno \(e))"
        case let .timeout(cdb, s): return "command \(cdb) timed out after \(s) s"
        case let .hostError(cdb, hs, n): return "command \(cdb) failed in the host adapter: \(n) (host_status \(Hex.byte(UInt8(truncatingIfNeeded: hs)))h)"
        case let .driverError(cdb, ds): return "command \(cdb) failed in the driver (driver_status \(Hex.byte(UInt8(truncatingIfNeeded: ds)))h)"
        case let .deviceGone(d): return "\(d): the device went away"
        case let .protocolError(m): return m
        case let .usb(m): return m
        case .closed: return "the transport is closed"
        case let .notSupported(m): return m
        }
    }
}

/// A command that completed with a status other than GOOD, or whose data could not be used.
public struct SCSICommandError: Error, Equatable, CustomStringConvertible, Sendable {
    public let cdb: CDB
    public let status: SCSIStatus
    public let sense: SenseData?
    public let senseBytes: [UInt8]

    public init(cdb: CDB, result: CommandResult) {
        self.cdb = cdb
        status = result.status
        sense = result.sense
        senseBytes = result.senseBytes
    }

    public var description: String {
        let head = "\(cdb.name) [\(cdb)] failed: \(status.name)"
        if let s = sense { return "\(head), sense \(s)" }
        if !senseBytes.isEmpty { return "\(head), unparseable sense [\(Hex.bytes(senseBytes))]" }
        return head
    }
}

/// Executes CDBs on one device. Implementations never interpret vendor commands: they move bytes.
public protocol SCSITransport: AnyObject {
    /// The device name as the user gave it ("/dev/sg1", "usb:2:3", "emu:ihas124y").
    var deviceName: String { get }
    /// A short transport kind ("sg", "usb-bot", "emulator", "replay").
    var kind: String { get }
    /// Sends one command. Throws TransportError when the command did not complete;
    /// a completed command returns its status and sense (CHECK CONDITION is not thrown).
    func execute(_ cdb: CDB, _ transfer: DataTransfer, timeout: Double) throws -> CommandResult
    func close()
}

extension CommandResult {
    /// CHECK CONDITION with sense key 6: the drive reports a reset, a media change or new microcode, and did not
    /// execute the command.
    public var isUnitAttention: Bool { status == .checkCondition && sense?.key == 6 }
}

extension SCSITransport {
    /// The one unit-attention resend policy: a command that met a unit attention was not executed, so it is sent again,
    /// at most `resends` times; the last answer is returned, whatever it is.
    public func execute(_ cdb: CDB, _ transfer: DataTransfer, timeout: Double, unitAttentionResends resends: Int) throws -> CommandResult {
        var r = try execute(cdb, transfer, timeout: timeout)
        var n = 0
        while r.isUnitAttention && n < resends {
            r = try execute(cdb, transfer, timeout: timeout)
            n += 1
        }
        return r
    }

    /// A read-only command, sent again after unit attentions (a drive reports one after a reset or a media change),
    /// at most `retries` times, and required to succeed. Never for commands that change the drive: those are sent
    /// once more at most (`execute(_:_:timeout:unitAttentionResends: 1)`).
    public func query(_ cdb: CDB, _ transfer: DataTransfer = .none, timeout: Double = 30, retries: Int = 3) throws -> CommandResult {
        let r = try execute(cdb, transfer, timeout: timeout, unitAttentionResends: retries)
        guard r.isGood else { throw SCSICommandError(cdb: cdb, result: r) }
        return r
    }

    /// Executes and requires GOOD status; otherwise throws SCSICommandError.
    @discardableResult
    public func run(_ cdb: CDB, _ transfer: DataTransfer = .none, timeout: Double = 30) throws -> CommandResult {
        let r = try execute(cdb, transfer, timeout: timeout)
        guard r.isGood else { throw SCSICommandError(cdb: cdb, result: r) }
        return r
    }
}
