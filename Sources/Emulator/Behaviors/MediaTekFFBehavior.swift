import SCSI

/// MediaTek FFh download: `FF 00 01 00 00 <state> ...`, state 00h first, FFh in the middle, the model's end code
/// last (which writes the flash). WRITE BUFFER and READ BUFFER are refused.
public final class MediaTekFFBehavior: DriveBehavior {
    public struct Config: BehaviorConfig {
        /// The state byte that ends a download (02h when not given).
        public var endCode: Int?
        public init() {}

        public static var sequenceSettings: [String] { ["endCode"] }

        public func problem(flashSize size: Int) -> String? {
            endCode.flatMap { (0...255).contains($0) ? nil : "firmware.endCode must be a byte" }
        }
    }

    public let config: Config
    public let memory: FirmwareMemory
    /// A download is under way (state 00h seen); where the next chunk goes.
    var armed = false
    var position = 0

    public init(_ config: Config, memory: FirmwareMemory) { self.config = config; self.memory = memory }

    public var writeOpcode: UInt8 { 0xFF }

    public var commands: [UInt8: EmulatedDrive.Handler] {
        [0xFF: download, Opcode.writeBuffer: refuseInvalidField, Opcode.readBuffer: refuseInvalidField]
    }

    func download(_ drive: EmulatedDrive, _ cdb: CDB, _ t: DataTransfer) -> CommandResult {
        let b = cdb.bytes
        guard b.count == 12, b[1] == 0, b[2] == 0x01 else { return .check(.invalidFieldInCDB) }
        guard case let .toDevice(data) = t, !data.isEmpty else { return .check(.invalidFieldInCDB) }
        let state = b[5]
        if state == 0x00 { position = 0; armed = true; memory.staged = memory.flash }
        else if !armed { return .check(.commandSequenceError) }
        else if state != 0xFF && Int(state) != (config.endCode ?? 0x02) { return .check(.invalidFieldInCDB) }
        guard position + data.count <= memory.staged.count else { return .check(.invalidFieldInCDB) }
        let at = position
        position += data.count   // a swallowed chunk moves the position all the same
        return drive.stage(data, at: at, in: memory) { _ in
            if state != 0x00 && state != 0xFF {
                armed = false
                drive.commitFirmware(memory)
            }
            return nil
        }
    }

    /// The chunk lands at the download position.
    public func losePower(_ cdb: CDB, reaching data: [UInt8]) -> Bool {
        if position + data.count <= memory.flash.count { memory.flash.replaceSubrange(position..<(position + data.count), with: data) }
        return true
    }
}
