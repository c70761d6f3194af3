import SCSI

/// Plextor (qpxtool pxfw, redumper): WRITE BUFFER mode 04h per block, 05h for the last (writes the flash); READ BUFFER
/// mode 02h; E9h mode page 22h, the bitsetting flags.
public final class PlextorBehavior: DriveBehavior {
    public struct Config: BehaviorConfig {
        public init() {}
    }

    public let config: Config
    public let memory: FirmwareMemory
    /// The bitsetting flags (bit 1 DVD+R, bit 0 DVD+R DL: DVD-ROM book type).
    public internal(set) var bitset: UInt8 = 0

    public init(_ config: Config, memory: FirmwareMemory) { self.config = config; self.memory = memory }

    public var commands: [UInt8: EmulatedDrive.Handler] { [Opcode.writeBuffer: writeBuffer, Opcode.readBuffer: readBuffer, 0xE9: modePage] }

    func writeBuffer(_ drive: EmulatedDrive, _ cdb: CDB, _ t: DataTransfer) -> CommandResult {
        let c = BufferCommand(cdb, t)
        guard !c.lengthMismatch, [0x04, 0x05].contains(c.mode) else { return .check(.invalidFieldInCDB) }
        return drive.stage(c.data, at: c.offset, in: memory) { _ in
            if c.mode == 0x05 { drive.commitFirmware(memory) }
            return nil
        }
    }

    func readBuffer(_ drive: EmulatedDrive, _ cdb: CDB, _ t: DataTransfer) -> CommandResult {
        let c = BufferCommand(cdb, t)
        return c.mode == 0x02 ? readFlash(c, drive, t) : .check(.invalidFieldInCDB)
    }

    /// E9h mode page 22h (bitsetting): get (00h) / set (10h) the DVD-ROM flag of DVD+R (0Ah) or DVD+R DL (0Eh).
    func modePage(_ drive: EmulatedDrive, _ cdb: CDB, _ t: DataTransfer) -> CommandResult {
        let b = cdb.bytes
        guard b.count == 10, b[2] == 0x22, [0x0A, 0x0E].contains(b[3]), b[9] == 8 else { return .check(.invalidFieldInCDB) }
        let bit: UInt8 = b[3] == 0x0A ? 0x02 : 0x01
        switch b[1] {
        case 0x00: break
        case 0x10: if b[5] == 1 { bitset |= bit } else if b[5] == 0 { bitset &= ~bit } else { return .check(.invalidFieldInCDB) }
        default: return .check(.invalidFieldInCDB)
        }
        return drive.dataIn([b[2], 0x06, bitset, 0, 0, 0, 0, 0], 8, t)
    }
}
