import SCSI

/// LG Renesas (devilsclaw's flasher): `3B 02|05 <pos32> 00 <len16> 44`, 02h fills the cache, 05h (the last chunk)
/// writes memory; `3C 05 <pos32> 00 <len16> 44` reads memory; SEND DIAGNOSTIC, the self test after the last chunk.
public final class LGRenesasBehavior: DriveBehavior {
    public struct Config: BehaviorConfig {
        public init() {}
    }

    public let config: Config
    public let memory: FirmwareMemory

    public init(_ config: Config, memory: FirmwareMemory) { self.config = config; self.memory = memory }

    public var commands: [UInt8: EmulatedDrive.Handler] {
        [Opcode.writeBuffer: writeBuffer, Opcode.readBuffer: readBuffer, 0x1D: sendDiagnostic]
    }

    func writeBuffer(_ drive: EmulatedDrive, _ cdb: CDB, _ t: DataTransfer) -> CommandResult {
        let b = cdb.bytes
        guard b.count == 10, b[9] == 0x44, b[6] == 0, [0x02, 0x05].contains(b[1]), let pos = Bytes.be32(b, 2), let n = Bytes.be16(b, 7) else {
            return .check(.invalidFieldInCDB)
        }
        guard case let .toDevice(data) = t, data.count == Int(n) else { return .check(.invalidFieldInCDB) }
        return drive.stage(data, at: Int(pos), in: memory) { staged in
            guard b[1] == 0x05 else { return nil }
            // The file's header names where its body goes (BE32 at 40h) and how long it is (BE32 at 44h, the file
            // size less the 400h-byte header): the body lands there in memory, which 3C 05 reads back.
            let end = Int(pos) + staged
            guard end >= 0x400, let at32 = Bytes.be32(memory.staged, 0x40), let n32 = Bytes.be32(memory.staged, 0x44) else { return .check(.invalidFieldInCDB) }
            let at = Int(at32), n = Int(n32)
            guard n == end - 0x400, at + n <= memory.flash.count else { return .check(.invalidFieldInCDB) }
            memory.flash.replaceSubrange(at..<(at + n), with: memory.staged[0x400..<end])
            memory.commits += 1
            memory.busy = memory.busyAfterFlash
            return nil
        }
    }

    /// 3C 05 <pos32> 00 <len16> 44: read absolute memory.
    func readBuffer(_ drive: EmulatedDrive, _ cdb: CDB, _ t: DataTransfer) -> CommandResult {
        let b = cdb.bytes
        guard b[1] == 0x05, b[9] == 0x44, let pos = Bytes.be32(b, 2), let n = Bytes.be16(b, 7), Int(pos) + Int(n) <= memory.flash.count else {
            return .check(.invalidFieldInCDB)
        }
        return drive.dataIn(Array(memory.flash[Int(pos)..<(Int(pos) + Int(n))]), Int(n), t)
    }

    /// SEND DIAGNOSTIC: the self test the LG flasher runs after the last chunk.
    func sendDiagnostic(_ drive: EmulatedDrive, _ cdb: CDB, _ t: DataTransfer) -> CommandResult {
        guard case let .toDevice(d) = t, d.count == Int(cdb.bytes[4]) else { return .check(.invalidFieldInCDB) }
        return .good()
    }

    /// The chunk lands at its memory position (CDB bytes 2-5).
    public func losePower(_ cdb: CDB, reaching data: [UInt8]) -> Bool {
        if let off = Bytes.be32(cdb.bytes, 2), Int(off) + data.count <= memory.flash.count {
            memory.flash.replaceSubrange(Int(off)..<(Int(off) + data.count), with: data)
        }
        return true
    }
}
