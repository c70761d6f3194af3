import SCSI

/// T10 SPC download microcode: WRITE BUFFER modes 05h/07h (save and activate), 0Eh (save, defer activation) and 0Fh
/// (activate deferred microcode); READ BUFFER mode 02h (data) and 03h (descriptor).
public final class SPCBehavior: DriveBehavior {
    public struct Config: BehaviorConfig {
        /// The READ BUFFER descriptor's offset boundary (a power of two; FFh: offset 0 only).
        public var bufferBoundary: Int?
        /// false: READ BUFFER mode 03h is refused altogether (as scsi_debug does).
        public var bufferDescriptor: Bool?
        public init() {}
    }

    public let config: Config
    public let memory: FirmwareMemory

    public init(_ config: Config, memory: FirmwareMemory) { self.config = config; self.memory = memory }

    public var commands: [UInt8: EmulatedDrive.Handler] { [Opcode.writeBuffer: writeBuffer, Opcode.readBuffer: readBuffer] }

    func writeBuffer(_ drive: EmulatedDrive, _ cdb: CDB, _ t: DataTransfer) -> CommandResult {
        let c = BufferCommand(cdb, t)
        guard !c.lengthMismatch, [0x05, 0x07, 0x0E, 0x0F].contains(c.mode) else { return .check(.invalidFieldInCDB) }
        return drive.stage(c.data, at: c.offset, in: memory) { _ in
            guard c.mode != 0x0E else { return nil }   // deferred: staged only
            drive.commitFirmware(memory)
            drive.raiseUnitAttention(.microcodeChanged)
            return nil
        }
    }

    func readBuffer(_ drive: EmulatedDrive, _ cdb: CDB, _ t: DataTransfer) -> CommandResult {
        let c = BufferCommand(cdb, t)
        switch c.mode {
        case 0x02:
            return readFlash(c, drive, t)
        case 0x03:
            if config.bufferDescriptor == false { return .check(.invalidCommandOperationCode) }
            let cap = min(memory.flash.count, 0xFFFFFF)
            return drive.dataIn([UInt8(truncatingIfNeeded: config.bufferBoundary ?? 0), UInt8((cap >> 16) & 0xFF), UInt8((cap >> 8) & 0xFF), UInt8(cap & 0xFF)],
                                c.length, t)
        default:
            return .check(.invalidFieldInCDB)
        }
    }
}
