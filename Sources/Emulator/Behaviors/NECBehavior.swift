import SCSI

/// NEC/Optiarc (Binflash): CCh ReadRAM, safe mode and checksums; CBh WriteRAM, erase and program (and the region
/// resets); C9h book types. Firmware writes are CBh commands; WRITE BUFFER and READ BUFFER are refused.
public final class NECBehavior: DriveBehavior {
    public struct Config: BehaviorConfig {
        /// Where drive RAM holds the 4-character drive ID that safe-mode commands must name.
        public var idAt: Int?
        /// The INQUIRY revision while in safe mode (e.g. "0.08", or a Lite-On "0L1Z").
        public var safeModeRevision: String?
        /// The RAM range whose big-endian 16-bit word sum the checksum command is compared with.
        public var checksumRange: [Int]?
        /// The book-type command-set version and the permanent changes left.
        public var booktypeVersion: Int?
        public var booktypeChangesLeft: Int?
        /// The drive takes any checksum (Binflash sends 0 to BD drives).
        public var checksumAny: Bool?
        /// Erase and program name one block as a bit of CDB bytes 2-8; `bootBlocks` are the sizes of the blocks before
        /// the uniform 64 KiB ones (the emulator's flash geometry, not a vendor fact).
        public var blockMask: Bool?
        public var bootBlocks: [Int]?
        public init() {}

        public static var sequenceSettings: [String] { ["idAt", "checksumRange", "checksumAny", "safeModeRevision", "blockMask", "bootBlocks"] }

        public func problem(flashSize size: Int) -> String? {
            if let r = checksumRange, r.count != 2 || r[0] < 0 || r[0] >= r[1] || r[1] > size { return "firmware.checksumRange must be [from, to) inside the flash" }
            if let i = idAt, i < 0 || i + 4 > size { return "firmware.idAt lies outside the flash" }
            if let r = safeModeRevision, r.utf8.count != 4 { return "firmware.safeModeRevision must be 4 characters" }
            return nil
        }

        /// A copy cannot know where the real drive keeps its ID (its flash holds none): it takes any.
        public var dryRunCopy: Config {
            var c = self
            c.idAt = nil
            return c
        }
    }

    /// A media code's permanent and temporary book type and which one is active.
    typealias BookType = (permanent: Int, temporary: Int, temporaryActive: Bool)

    public let config: Config
    public let memory: FirmwareMemory
    public internal(set) var safeMode = false
    var checksumAccepted = false
    var erased: Set<Int> = []
    /// Per media code (0 DVD+RW, 1 DVD+R, 2 DVD+R DL).
    public internal(set) var booktypes: [Int: (permanent: Int, temporary: Int, temporaryActive: Bool)] = NECBehavior.defaultBooktypes
    public internal(set) var booktypeChangesLeft: Int
    /// The global region reset: the first half was accepted.
    var globalResetArmed = false

    public init(_ config: Config, memory: FirmwareMemory) {
        self.config = config
        self.memory = memory
        booktypeChangesLeft = config.booktypeChangesLeft ?? 500
    }

    static var defaultBooktypes: [Int: BookType] {
        var d: [Int: BookType] = [:]
        for m in 0...2 { d[m] = (m == 1 ? 0x92 : m == 2 ? 0xE1 : 0xA1, m == 1 ? 0x92 : m == 2 ? 0xE1 : 0xA1, false) }
        return d
    }

    public var writeOpcode: UInt8 { 0xCB }

    public var commands: [UInt8: EmulatedDrive.Handler] {
        [0xCC: cc, 0xCB: cb, 0xC9: bookType, Opcode.writeBuffer: refuseInvalidField, Opcode.readBuffer: refuseInvalidField]
    }

    /// The block a one-bit mask in CDB bytes 2-8 names: its start and size in this emulator's geometry
    /// (`bootBlocks`, then 64 KiB blocks). nil when the mask is not exactly one bit or the block is outside the flash.
    func maskedBlock(_ b: [UInt8]) -> (Int, Int)? {
        var mask: UInt64 = 0
        for i in 2...8 { mask = mask << 8 | UInt64(b[i]) }
        guard mask != 0, mask & (mask - 1) == 0 else { return nil }
        let block = mask.trailingZeroBitCount
        let boot = config.bootBlocks ?? []
        var start = 0
        for k in 0..<block { start += k < boot.count ? boot[k] : 0x10000 }
        let size = block < boot.count ? boot[block] : 0x10000
        return start + size <= memory.flash.count ? (start, size) : nil
    }

    /// The drive ID in RAM (nil when the drive has no `idAt`).
    var driveID: [UInt8]? { config.idAt.map { Array(memory.flash[$0..<($0 + 4)]) } }

    /// CCh: ReadRAM (xx0), safe mode (xx1), checksum (xx4), class-4 checksum (xx6).
    func cc(_ drive: EmulatedDrive, _ cdb: CDB, _ t: DataTransfer) -> CommandResult {
        let b = cdb.bytes
        guard b.count == 12 else { return .check(.invalidCommandOperationCode) }
        switch b[1] & 0x0F {
        case 0x00:   // ReadRAM: address BE32 at 2, length BE16 at 7
            // The answer is the length rounded up to a multiple of 4 (Binflash reads that many).
            guard let a = Bytes.be32(b, 2), let n = Bytes.be16(b, 7), n > 0, Int(a) + ((Int(n) + 3) & ~3) <= memory.flash.count else { return .check(.lbaOutOfRange) }
            let len = (Int(n) + 3) & ~3
            return drive.dataIn(Array(memory.flash[Int(a)..<(Int(a) + len)]), len, t)
        case 0x01:   // safe mode: [2] enable, [4..7] drive ID
            if let id = driveID, Array(b[4..<8]) != id { return .check(.invalidFieldInCDB) }
            if b[2] == 0x01 {
                safeMode = true
                drive.currentRevision = config.safeModeRevision ?? "0.00"
            } else {
                safeMode = false
                checksumAccepted = false
                erased = []
                drive.currentRevision = memory.revision() ?? drive.profile.inquiry.revision
            }
            return .good()
        case 0x06:   // class-4 checksum: area (byte 9) 5 before the erase, 4 (the RAM image) at the end
            guard safeMode else { return .check(.commandSequenceError) }
            if b[9] == 5 { checksumAccepted = true; return .good() }
            guard b[9] == 4 else { return .check(.invalidFieldInCDB) }
            return checksumMatches(b) ? .good() : .check(.invalidFieldInCDB)
        case 0x04:   // checksum of the RAM image: BE16 at 2
            guard safeMode else { return .check(.commandSequenceError) }
            if config.checksumAny == true { checksumAccepted = true; return .good() }
            guard checksumMatches(b) else { return .check(.invalidFieldInCDB) }
            checksumAccepted = true
            return .good()
        default:
            return .check(.invalidFieldInCDB)
        }
    }

    /// The checksum in CDB bytes 2-3 is the word sum of the RAM image over `checksumRange`.
    func checksumMatches(_ b: [UInt8]) -> Bool {
        let r = config.checksumRange ?? [0, memory.staged.count]
        return Int(b[2]) << 8 | Int(b[3]) == Bytes.wordSum16(memory.staged[r[0]..<r[1]])
    }

    /// C9h with 'BTYPE' in bytes 4-8: book type query (02), set (01 permanent, 03 temporary), select (04), clear (0C).
    func bookType(_ drive: EmulatedDrive, _ cdb: CDB, _ t: DataTransfer) -> CommandResult {
        let b = cdb.bytes
        guard b.count == 12, Array(b[4..<9]) == Array("BTYPE".utf8) else { return .check(.invalidFieldInCDB) }
        let version = config.booktypeVersion ?? 4
        let media = Int(b[2])
        // Which media the command-set version knows (Binflash QueryBooktype): +R DL from 1, +R from 3, +RW from 4.
        func known(_ md: Int) -> Bool { md == 2 || (md == 0 && version >= 3) || (md == 1 && version >= 4) }
        switch b[1] {
        case 0x02:
            guard known(media), let s = booktypes[media] else { return .check(.invalidFieldInCDB) }
            let temp = b[9] == 1
            if temp && media == 2 && version < 2 { return .check(.invalidFieldInCDB) }
            let left = booktypeChangesLeft & 0x7FFF
            let answer: [UInt8] = [UInt8(media), UInt8(temp ? s.temporary : s.permanent), UInt8(left >> 8) | (s.temporaryActive ? 0x80 : 0),
                                   UInt8(left & 0xFF), UInt8(version >> 8), UInt8(version & 0xFF)]
            return drive.dataIn(answer, 6, t)
        case 0x01, 0x03:
            guard known(media), var s = booktypes[media] else { return .check(.invalidFieldInCDB) }
            if b[1] == 0x01 {
                guard booktypeChangesLeft > 0 else { return .check(.commandSequenceError) }   // no permanent changes left
                booktypeChangesLeft -= 1
                s.permanent = Int(b[3])
            } else {
                s.temporary = Int(b[3])
            }
            booktypes[media] = s
            return .good()
        case 0x04:
            guard known(media), var s = booktypes[media] else { return .check(.invalidFieldInCDB) }
            s.temporaryActive = b[9] == 1
            booktypes[media] = s
            return .good()
        case 0x0C:   // Binflash -clearbt: the counter is reset and every setting returns to its default
            booktypes = NECBehavior.defaultBooktypes
            booktypeChangesLeft = 500
            return .good()
        default:
            return .check(.invalidFieldInCDB)
        }
    }

    /// Region resets: CB 00 with 'REGION' (vendor), or the two drive-ID keyed halves of the global reset.
    func regionReset(_ drive: EmulatedDrive, _ b: [UInt8]) -> CommandResult {
        guard var r = drive.rpc else { return .check(.invalidFieldInCDB) }
        if Array(b[6..<12]) == Array("REGION".utf8) {
            guard r.vendorResetsLeft > 0 else { return .check(.regionResetCountError) }
            r.vendorResetsLeft -= 1
            r.userChangesLeft = 5
            r.typeCode = r.region == 0 ? 0 : 1
            drive.rpc = r
            return .good()
        }
        guard let id = driveID else { return .check(.invalidFieldInCDB) }
        if b[10] == 0x55, b[11] == 0x55, Array(b[6..<10]) == id.map({ $0 &+ 0x55 }) { globalResetArmed = true; return .good() }
        if b[10] == 0xAA, b[11] == 0xAA, globalResetArmed, Array(b[6..<10]) == id.map({ 0xAA &- $0 }) {
            globalResetArmed = false
            r.vendorResetsLeft = 4
            r.userChangesLeft = 5
            r.typeCode = r.region == 0 ? 0 : 1
            drive.rpc = r
            return .good()
        }
        globalResetArmed = false
        return .check(.invalidFieldInCDB)
    }

    /// CBh: WriteRAM (01), program (02), erase (04); address BE32 at 2, length BE24 at 6.
    func cb(_ drive: EmulatedDrive, _ cdb: CDB, _ t: DataTransfer) -> CommandResult {
        let b = cdb.bytes
        if b.count == 12 && b[1] == 0 && b[2...5].allSatisfy({ $0 == 0 }) { return regionReset(drive, b) }
        guard b.count == 12, let a32 = Bytes.be32(b, 2), let n24 = Bytes.be24(b, 6) else { return .check(.invalidFieldInCDB) }
        var a = Int(a32), n = Int(n24)
        // Older forms (Binflash WriteRAM, EraseBlock, FlashBlock): a RAM write's length in 4 KiB units in byte 8
        // (WriteRAMOpti adds 4 zero bytes per unit); erase and program by block number in byte 8 with bytes 2-7 zero,
        // or (EraseSingleBlock, FlashSingleBlock) by a one-bit block mask in bytes 2-8.
        if b[1] & 0x0F == 0x01, b[6] == 0, b[7] == 0, case let .toDevice(d) = t,
           d.count == Int(b[8]) * 0x1000 || d.count == Int(b[8]) * 0x1004 { n = Int(b[8]) * 0x1000 }
        else if b[1] & 0x0F != 0x01, config.blockMask == true {
            guard let (start, size) = maskedBlock(b) else { return .check(.invalidFieldInCDB) }
            a = start; n = size
        }
        else if b[1] & 0x0F != 0x01, b[2...7].allSatisfy({ $0 == 0 }), b[8] != 0 { a = Int(b[8]) * 0x10000; n = 0x10000 }
        guard safeMode else { return .check(.commandSequenceError) }
        guard n > 0, a + n <= memory.flash.count else { return .check(.lbaOutOfRange) }
        switch b[1] & 0x0F {
        case 0x01:
            guard case let .toDevice(sent) = t, sent.count >= n else { return .check(.invalidFieldInCDB) }
            let data = sent.count == n ? sent : Array(sent.prefix(n))
            // Class 4 sends the chunk's word sum in bytes 10-11; a chunk that does not match it is refused.
            if b[10] != 0 || b[11] != 0, Int(b[10]) << 8 | Int(b[11]) != Bytes.wordSum16(data) { return .check(.invalidFieldInCDB) }
            return drive.stage(data, at: a, in: memory)
        case 0x04:
            guard checksumAccepted else { return .check(.commandSequenceError) }
            if drive.swallowsLyingWrite() { return .good() }
            for i in a..<(a + n) { memory.flash[i] = 0xFF }
            erased.insert(a)
            return .good()
        case 0x02:
            guard erased.contains(a) else { return .check(.commandSequenceError) }
            if drive.swallowsLyingWrite() { return .good() }
            memory.flash.replaceSubrange(a..<(a + n), with: memory.staged[a..<(a + n)])
            memory.commits += 1
            return .good()
        default:
            return .check(.invalidFieldInCDB)
        }
    }

    /// An erase loses half its region, a program writes half of it; a RAM write never reached the flash.
    public func losePower(_ cdb: CDB, reaching data: [UInt8]) -> Bool {
        let b = cdb.bytes
        guard b.count >= 9, let addr = Bytes.be32(b, 2), let len = Bytes.be24(b, 6) else { return false }
        var a = Int(addr), n = Int(len)
        if config.blockMask == true, b[1] & 0x0F != 0x01, let (start, size) = maskedBlock(b) { a = start; n = size }
        else if b[1] & 0x0F != 0x01, b[2...7].allSatisfy({ $0 == 0 }), b[8] != 0 { a = Int(b[8]) * 0x10000; n = 0x10000 }
        if b[1] & 0x0F == 0x04, a + n <= memory.flash.count {         // erase: half the region erased
            for i in a..<(a + n / 2) { memory.flash[i] = 0xFF }
        } else if b[1] & 0x0F == 0x02, a + n <= memory.flash.count {  // program: half the region programmed
            memory.flash.replaceSubrange(a..<(a + n / 2), with: memory.staged[a..<(a + n / 2)])
        }
        return true
    }
}
