import SCSI

/// Faults an emulated drive can be told to have, for tests of every failure path. Deterministic: the fault
/// fires on the Nth command that writes firmware (WRITE BUFFER), counting from 1.
public struct FaultInjection: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case check(UInt8, UInt8, UInt8)
        case timeout
        case deviceGone
        case shortTransfer
        case lyingWrite
        case powerLoss
    }
    public var atWrite: Int
    public var kind: Kind
    public init(atWrite: Int, kind: Kind) { self.atWrite = atWrite; self.kind = kind }

    /// A reproducible fault from a seed: which write and which kind.
    public static func seeded(_ seed: UInt64, writes: Int) -> FaultInjection {
        var x = seed &+ 0x9E37_79B9_7F4A_7C15
        x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
        let kinds: [Kind] = [.check(3, 0x0C, 0x00), .check(4, 0x44, 0x00), .timeout, .deviceGone, .shortTransfer, .lyingWrite, .powerLoss]
        return FaultInjection(atWrite: Int(x % UInt64(max(1, writes))) + 1, kind: kinds[Int((x >> 20) % UInt64(kinds.count))])
    }
}

/// Emulated flash memory with the family's download commands.
public final class FirmwareMemory {
    public internal(set) var flash: [UInt8]
    var staged: [UInt8]
    let behavior: String
    let revisionOffset: Int?
    public internal(set) var commits = 0

    init(size: Int, behavior: String, revisionOffset: Int?) {
        flash = [UInt8](repeating: 0xFF, count: size)
        staged = flash
        self.behavior = behavior
        self.revisionOffset = revisionOffset
    }

    func revision() -> String? {
        guard let o = revisionOffset, o + 4 <= flash.count else { return nil }
        let r = Bytes.ascii(flash, o, 4)
        return r.isEmpty ? nil : r
    }
}

extension EmulatedDrive {
    /// Installs firmware memory and the WRITE BUFFER / READ BUFFER handlers of the profile's family behaviour.
    func installFirmware(_ f: DriveProfile.Firmware) {
        let mem = FirmwareMemory(size: f.size ?? 0x100000, behavior: f.behavior, revisionOffset: f.revisionOffset)
        memory = mem
        handlers[Opcode.writeBuffer] = { drive, cdb, t in drive.writeBuffer(cdb, t) }
        handlers[Opcode.readBuffer] = { drive, cdb, t in drive.readBuffer(cdb, t) }
    }

    func commitFirmware() {
        guard let m = memory else { return }
        m.flash = m.staged
        m.commits += 1
        if let r = m.revision() { currentRevision = r }
    }

    func writeBuffer(_ cdb: CDB, _ t: DataTransfer) -> CommandResult {
        guard let m = memory else { return .check(5, 0x20, 0) }
        let b = cdb.bytes
        let mode = b[1] & 0x1F
        let offset = Int(Bytes.be24(b, 3) ?? 0), length = Int(Bytes.be24(b, 6) ?? 0)
        var data: [UInt8] = []
        if case let .toDevice(d) = t { data = d }
        guard data.count == length else { return .check(5, 0x24, 0) }
        let ok: Set<UInt8> = m.behavior == "spc" ? [0x05, 0x07, 0x0E, 0x0F] : [0x04, 0x05]
        guard ok.contains(mode) else { return .check(5, 0x24, 0) }
        guard offset + length <= m.flash.count else { return .check(5, 0x24, 0) }
        // A fault may make this write lie, stop halfway, or not arrive at all.
        var payload = data
        switch pendingWriteFault {
        case .lyingWrite?: pendingWriteFault = nil; return .good()
        case .shortTransfer?: payload = Array(data.prefix(data.count / 2)); pendingWriteFault = nil
        default: break
        }
        m.staged.replaceSubrange(offset..<(offset + payload.count), with: payload)
        switch (m.behavior, mode) {
        case ("spc", 0x05), ("spc", 0x07):
            commitFirmware()
            raiseUnitAttention(6, 0x3F, 0x01)   // microcode has been changed
        case ("spc", 0x0F):
            commitFirmware()
            raiseUnitAttention(6, 0x3F, 0x01)
        case ("plextor", 0x05):
            commitFirmware()
        default:
            break   // staged (0Eh, 04h)
        }
        return payload.count == data.count ? .good() : CommandResult(status: .good, residue: data.count - payload.count)
    }

    func readBuffer(_ cdb: CDB, _ t: DataTransfer) -> CommandResult {
        guard let m = memory else { return .check(5, 0x20, 0) }
        let b = cdb.bytes
        let mode = b[1] & 0x1F
        let offset = Int(Bytes.be24(b, 3) ?? 0), length = Int(Bytes.be24(b, 6) ?? 0)
        switch mode {
        case 0x02:
            guard offset + length <= m.flash.count else { return .check(5, 0x24, 0) }
            return dataIn(Array(m.flash[offset..<(offset + length)]), length, t)
        case 0x03:
            let cap = m.flash.count
            return dataIn([0x00, UInt8((cap >> 16) & 0xFF), UInt8((cap >> 8) & 0xFF), UInt8(cap & 0xFF)], length, t)
        default:
            return .check(5, 0x24, 0)
        }
    }
}
