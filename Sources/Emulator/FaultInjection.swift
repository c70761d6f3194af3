import SCSI

/// Faults an emulated drive can be told to have, for tests of every failure path. Deterministic: the fault
/// fires on the Nth command that writes firmware (the behaviour's write opcode), counting from 1.
public struct FaultInjection: Sendable, Equatable {
    public enum Kind: Sendable, Equatable, CustomStringConvertible {
        case check(UInt8, UInt8, UInt8)
        case timeout
        case deviceGone
        case shortTransfer
        case lyingWrite
        case powerLoss

        public var description: String {
            switch self {
            case let .check(k, a, q): return "check \(Hex.bytes([k, a, q]))"
            case .timeout: return "timeout"
            case .deviceGone: return "device gone"
            case .shortTransfer: return "short transfer"
            case .lyingWrite: return "lying write"
            case .powerLoss: return "power loss"
            }
        }

        static func check(_ s: Sense) -> Kind { .check(s.key, s.asc, s.ascq) }

        /// Every kind, with realistic sense data for the CHECK CONDITION ones.
        public static let all: [Kind] = [.check(.writeError), .check(.internalTargetFailure), .check(.invalidFieldInCDB), .timeout, .deviceGone,
                                         .shortTransfer, .lyingWrite, .powerLoss]
    }
    public var atWrite: Int
    public var kind: Kind
    public init(atWrite: Int, kind: Kind) { self.atWrite = atWrite; self.kind = kind }

    /// A reproducible fault from a seed: which write and which kind.
    public static func seeded(_ seed: UInt64, writes: Int) -> FaultInjection {
        var x = seed &+ 0x9E37_79B9_7F4A_7C15
        x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
        let kinds: [Kind] = [.check(.writeError), .check(.internalTargetFailure), .timeout, .deviceGone, .shortTransfer, .lyingWrite, .powerLoss]
        return FaultInjection(atWrite: Int(x % UInt64(max(1, writes))) + 1, kind: kinds[Int((x >> 20) % UInt64(kinds.count))])
    }
}

/// Where faults fire. The vendor behaviours only say where a write's data goes (`faultedPayload`, `swallowsLyingWrite`)
/// and what of an interrupted write reaches the flash (`DriveBehavior.losePower`).
extension EmulatedDrive {
    /// Counts a firmware write and fires the fault set for it: an answer in place of the drive's, a thrown transport
    /// failure, or nil (the command runs; a short or lying write is applied to its data).
    func injectFault(_ cdb: CDB, _ transfer: DataTransfer, timeout: Double) throws -> CommandResult? {
        guard cdb.opcode == (behavior?.writeOpcode ?? Opcode.writeBuffer) else { return nil }
        writesSeen += 1
        guard let f = fault, f.atWrite == writesSeen else { return nil }
        switch f.kind {
        case let .check(k, a, q): return .check(k, a, q)
        case .timeout: throw TransportError.timeout(cdb: cdb.description, seconds: timeout)
        case .deviceGone: gone = true; throw TransportError.deviceGone(deviceName)
        case .powerLoss:
            losePower(cdb, transfer)
            gone = true
            throw TransportError.deviceGone(deviceName)
        case .shortTransfer, .lyingWrite:
            pendingWriteFault = f.kind
            return nil
        }
    }

    /// Power lost in the middle of a firmware write: half of what the command carries reaches the flash, where the
    /// behaviour puts it.
    func losePower(_ cdb: CDB, _ transfer: DataTransfer) {
        guard let b = behavior else { return }
        var data: [UInt8] = []
        if case let .toDevice(d) = transfer { data = Array(d.prefix(d.count / 2)) }
        if b.losePower(cdb, reaching: data) { b.memory.commits += 1 }
    }

    /// Applies a lying or short write fault to the data of a write command; nil: the command is acknowledged, nothing done.
    func faultedPayload(_ data: [UInt8]) -> [UInt8]? {
        switch pendingWriteFault {
        case .lyingWrite?: pendingWriteFault = nil; return nil
        case .shortTransfer?: pendingWriteFault = nil; return Array(data.prefix(data.count / 2))
        default: return data
        }
    }

    /// For a write without data (erase, program from RAM): true when a lying write swallows it (acknowledged, nothing done).
    func swallowsLyingWrite() -> Bool {
        guard pendingWriteFault == .lyingWrite else { return false }
        pendingWriteFault = nil
        return true
    }
}
