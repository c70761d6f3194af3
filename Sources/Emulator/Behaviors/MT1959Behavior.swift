import SCSI

/// MediaTek MT1959 (LG/Hitachi-LG BD drives): WRITE BUFFER mode 01h (length 0) arms the download, mode 06h sends the
/// image in chunks and the last chunk writes the flash; READ BUFFER mode 06h reads it.
public final class MT1959Behavior: DriveBehavior {
    public struct Config: BehaviorConfig {
        /// READ BUFFER 06h answers exactly this many bytes whatever the CDB asks (a drive or bridge that cuts the
        /// transfer short, or overruns it); nil: the length asked for.
        public var bufferAnswerLength: Int?
        public init() {}

        public func problem(flashSize size: Int) -> String? {
            bufferAnswerLength.flatMap { (0...0x10000).contains($0) ? nil : "firmware.bufferAnswerLength must be 0-10000h" }
        }
    }

    public let config: Config
    public let memory: FirmwareMemory
    /// Armed by WRITE BUFFER mode 01h.
    var armed = false

    public init(_ config: Config, memory: FirmwareMemory) { self.config = config; self.memory = memory }

    public var commands: [UInt8: EmulatedDrive.Handler] { [Opcode.writeBuffer: writeBuffer, Opcode.readBuffer: readBuffer] }

    func writeBuffer(_ drive: EmulatedDrive, _ cdb: CDB, _ t: DataTransfer) -> CommandResult {
        let c = BufferCommand(cdb, t)
        guard !c.lengthMismatch, [0x01, 0x06].contains(c.mode) else { return .check(.invalidFieldInCDB) }
        if c.mode == 0x01 {
            guard c.length == 0 else { return .check(.invalidFieldInCDB) }
            armed = true
            return .good()
        }
        guard armed else { return .check(.commandSequenceError) }
        return drive.stage(c.data, at: c.offset, in: memory) { _ in
            if c.offset + c.length >= memory.flash.count {
                armed = false
                drive.commitFirmware(memory)
            }
            return nil
        }
    }

    func readBuffer(_ drive: EmulatedDrive, _ cdb: CDB, _ t: DataTransfer) -> CommandResult {
        let c = BufferCommand(cdb, t)
        guard c.mode == 0x06 else { return .check(.invalidFieldInCDB) }
        guard let n = config.bufferAnswerLength else { return readFlash(c, drive, t) }
        // A drive (or bridge) that answers another length than asked: short, or an overrun.
        guard c.offset + n <= memory.flash.count else { return .check(.invalidFieldInCDB) }
        return .good(Array(memory.flash[c.offset..<(c.offset + n)]), residue: max(0, c.length - n))
    }
}
