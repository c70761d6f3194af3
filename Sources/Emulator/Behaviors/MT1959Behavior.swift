import SCSI

/// MediaTek MT1959/MT1939 (LG/Hitachi-LG, ASUS BD drives): WRITE BUFFER mode 01h (length 0; freemkv's 12-byte form
/// carries 0Bh in byte 9) arms the download, mode 06h sends the image in chunks (10- or 12-byte CDBs: offset in bytes
/// 3-5, length in bytes 6-8) and the last chunk writes the flash; freemkv's mode 07h trailer (`3B 07 … 1B 12`) is
/// answered NOT READY while the drive settles after that write, GOOD otherwise; READ BUFFER mode 06h reads the flash.
/// With `bootPageMirror`, the first 400h bytes read back as the plaintext mirror at that offset (the mask ROM decrypts
/// the boot page in place: a drive never returns it as stored). With `bannerLimit`, a read at 3000h asking for more
/// than that many bytes (but less than a 4 KiB flash page) is refused with ILLEGAL REQUEST, invalid field in CDB
/// (freemkv read_mt19_banner: the old 64-byte banner read always failed; its full read takes the flash in 4 KiB reads).
public final class MT1959Behavior: DriveBehavior {
    public struct Config: BehaviorConfig {
        /// READ BUFFER 06h answers exactly this many bytes whatever the CDB asks (a drive or bridge that cuts the
        /// transfer short, or overruns it); nil: the length asked for.
        public var bufferAnswerLength: Int?
        /// Reads of [0, 400h) return the bytes at this offset (the plaintext mirror of the boot page).
        public var bootPageMirror: Int?
        /// A read at 3000h longer than this (and shorter than 1000h) is refused.
        public var bannerLimit: Int?
        /// Reads touching these flash ranges ([start, end) pairs) are refused with MEDIUM ERROR, unrecovered read error
        /// (SYNTHETIC: unreadable flash, for dump gap tests).
        public var unreadable: [[Int]]?
        public init() {}

        public func problem(flashSize size: Int) -> String? {
            if let m = bootPageMirror, m < 0x400 || m + 0x400 > size { return "firmware.bootPageMirror must lie in the flash, past 400h" }
            if let u = unreadable, !u.allSatisfy({ $0.count == 2 && $0[0] >= 0 && $0[0] < $0[1] }) { return "firmware.unreadable is a list of [start, end) pairs" }
            return bufferAnswerLength.flatMap { (0...0x10000).contains($0) ? nil : "firmware.bufferAnswerLength must be 0-10000h" }
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
        if c.mode == 0x07 && c.data.isEmpty {
            // freemkv's commit trailer: the flash was written when the last chunk landed.
            return memory.busy > 0 ? .check(.becomingReady) : .good()
        }
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
        if let limit = config.bannerLimit, c.offset == 0x3000, c.length > limit, c.length < 0x1000 { return .check(.invalidFieldInCDB) }
        for u in config.unreadable ?? [] where u.count == 2 && c.offset < u[1] && u[0] < c.offset + c.length {
            return .check(.unrecoveredReadError)
        }
        guard let n = config.bufferAnswerLength else {
            guard let m = config.bootPageMirror, c.offset < 0x400 else { return readFlash(c, drive, t) }
            guard c.offset + c.length <= memory.flash.count, m + 0x400 <= memory.flash.count else { return .check(.invalidFieldInCDB) }
            var out = Array(memory.flash[c.offset..<(c.offset + c.length)])
            for i in c.offset..<min(0x400, c.offset + c.length) { out[i - c.offset] = memory.flash[m + i] }
            return drive.dataIn(out, c.length, t)
        }
        // A drive (or bridge) that answers another length than asked: short, or an overrun.
        guard c.offset + n <= memory.flash.count else { return .check(.invalidFieldInCDB) }
        return .good(Array(memory.flash[c.offset..<(c.offset + n)]), residue: max(0, c.length - n))
    }
}
