import SCSI

/// BTC (MediaTek-based): WRITE BUFFER mode 06h uploads a 20h-byte header and the image into the download buffer;
/// mode 07h (length 0) writes the image to flash when the header's bytes 30-31 hold its 16-bit byte sum.
public final class BTCBehavior: DriveBehavior {
    public struct Config: BehaviorConfig {
        public init() {}
    }

    public let config: Config
    public let memory: FirmwareMemory

    public init(_ config: Config, memory: FirmwareMemory) {
        self.config = config
        self.memory = memory
        memory.useSeparateBuffer(extra: 0x20)
    }

    public var commands: [UInt8: EmulatedDrive.Handler] { [Opcode.writeBuffer: writeBuffer, Opcode.readBuffer: refuseInvalidField] }

    func writeBuffer(_ drive: EmulatedDrive, _ cdb: CDB, _ t: DataTransfer) -> CommandResult {
        let c = BufferCommand(cdb, t)
        guard !c.lengthMismatch, [0x06, 0x07].contains(c.mode) else { return .check(.invalidFieldInCDB) }
        guard c.mode == 0x07 else { return drive.stage(c.data, at: c.offset, in: memory) }
        // Commit: the header's bytes 30-31 must hold the 16-bit byte sum of the image that follows it.
        guard c.length == 0 else { return .check(.invalidFieldInCDB) }
        var sum = 0
        for x in memory.staged[0x20...] { sum &+= Int(x) }
        guard Int(memory.staged[30]) << 8 | Int(memory.staged[31]) == sum & 0xFFFF else { return .check(.invalidFieldInCDB) }
        drive.commitFirmware(memory, from: 0x20)
        return .good()
    }

    /// Uploads go to the download buffer; the flash is written only by the 07h commit.
    public func losePower(_ cdb: CDB, reaching data: [UInt8]) -> Bool { false }
}
