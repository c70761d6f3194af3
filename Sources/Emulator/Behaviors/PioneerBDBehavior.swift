import SCSI

/// Pioneer BD (Renesas SAT): READ BUFFER mode 02h, buffer F1h answers the 48-byte identity block (serial 16,
/// platform 8, installed Kernel tag 8, installed Normal tag 8, code 4; facts 1.2). Every other READ BUFFER and WRITE
/// BUFFER is refused with 05/24/00, the answer the facts give for a command the drive's state does not allow (a cold
/// F3/F2 on a BDR-UD04, a memory read above 8000h without the unlock): odflash never sends this family a vendor write.
public final class PioneerBDBehavior: DriveBehavior {
    public struct Config: BehaviorConfig {
        /// The identity block as text (at most 48 printable characters, zero padded to 48).
        public var identity: String?
        public init() {}

        public func problem(flashSize size: Int) -> String? {
            guard let i = identity, i.utf8.count <= 0x30, i.utf8.allSatisfy({ (0x20..<0x7F).contains($0) }) else {
                return "firmware.identity must be at most 48 printable ASCII characters (a pioneer-bd drive needs it)"
            }
            return nil
        }
    }

    public let config: Config
    public let memory: FirmwareMemory

    public init(_ config: Config, memory: FirmwareMemory) { self.config = config; self.memory = memory }

    public var commands: [UInt8: EmulatedDrive.Handler] { [Opcode.writeBuffer: refuseInvalidField, Opcode.readBuffer: readBuffer] }

    func readBuffer(_ drive: EmulatedDrive, _ cdb: CDB, _ t: DataTransfer) -> CommandResult {
        let c = BufferCommand(cdb, t)
        guard cdb.bytes.count == 10, c.mode == 0x02, c.bytes[2] == 0xF1, c.offset == 0, (1...0x30).contains(c.length) else {
            return .check(.invalidFieldInCDB)
        }
        var block = Array((config.identity ?? "").utf8)
        block += [UInt8](repeating: 0, count: 0x30 - block.count)
        return drive.dataIn(Array(block.prefix(c.length)), c.length, t)
    }
}
