import SCSI

/// Pioneer DVR (DVRFlash): `3B 04 FF` with the key block enters kernel mode (INQUIRY revision 0000); `3B 07 F0
/// <off24> <len24>` loads the normal image into drive RAM (kernel mode only); `3B 05 FF` with the key block writes it
/// to flash and returns to normal mode; `3B 07 FE` writes the kernel part (kernel mode only, where `kernelAt` says);
/// `3B 01 F3` / `3C 01 F2` / `3B 01 F2` are the DVR-103/104 anti-downgrade reset, challenge and answers; `3C 02 F1`
/// reads the drive's identification block.
public final class PioneerBehavior: DriveBehavior {
    public struct Config: BehaviorConfig {
        /// The 30h-byte answer to READ BUFFER 02h/F1h (serial 16, interface 4, generation 4, kernel type 8, normal type
        /// 8, kernel revision 4; zero padded).
        public var pioneerInfo: String?
        /// The 100h-byte key block the kernel-mode and commit commands must carry (zero outside the given bytes); nil:
        /// the one the kernel-mode command brings (a dry-run copy of a real drive cannot know it).
        public var keyBlock: [DriveProfile.Firmware.Preset]?
        /// Where in the emulated flash the kernel part (WRITE BUFFER 07h, buffer FEh) goes; nil refuses it.
        public var kernelAt: Int?
        /// The drive is downgrade-protected (DVR-103/104): its challenge comes from this 16-bit seed with the C library
        /// generator DVRFlash reverses, and the kernel-mode command is refused until it is answered.
        public var downgradeSeed: Int?
        public init() {}

        public static var sequenceSettings: [String] { ["kernelAt"] }

        public func problem(flashSize size: Int) -> String? {
            guard let info = pioneerInfo, info.utf8.count <= 0x30, info.utf8.allSatisfy({ (0x20..<0x7F).contains($0) }) else {
                return "firmware.pioneerInfo must be at most 48 printable ASCII characters (a pioneer drive needs it)"
            }
            guard let k = keyBlock, !k.isEmpty else { return "firmware.keyBlock is required for a pioneer drive" }
            for p in k {
                guard let b = p.bytes, !b.isEmpty, p.at >= 0, p.at + b.count <= 0x100 else { return "firmware.keyBlock at \(p.at) must be ascii or hex bytes inside 100h bytes" }
            }
            return nil
        }
    }

    public let config: Config
    public let memory: FirmwareMemory
    /// In kernel mode (INQUIRY revision 0000) after the kernel-mode command; the revision of normal mode.
    public internal(set) var kernelMode = false
    var normalRevision: String?
    /// The key block the kernel-mode command brought.
    var learnedKey: [UInt8]?
    /// Downgrade protection: the answer expected, and how far the unlock has come (0 none, 1 first answer).
    var unlockAnswer: UInt8?
    var unlockStage = 0
    public internal(set) var unlocked = false

    public init(_ config: Config, memory: FirmwareMemory) { self.config = config; self.memory = memory }

    public var commands: [UInt8: EmulatedDrive.Handler] { [Opcode.writeBuffer: writeBuffer, Opcode.readBuffer: readBuffer] }

    /// The draws of the generator a downgrade-protected Pioneer drive sets its challenge with (the C library's linear
    /// congruential generator, as DVRFlash reverses it: seed * 41C64E6Dh + 3039h, each draw bits 16-23).
    static func dvrDraws(seed: Int, count: Int) -> [UInt8] {
        var x = UInt32(seed & 0xFFFF)
        return (0..<count).map { _ in x = x &* 0x41C6_4E6D &+ 0x3039; return UInt8(truncatingIfNeeded: x >> 16) }
    }

    /// The key block the drive wants: the configured one, or (a dry-run copy of a real drive, which cannot know it) the
    /// one the kernel-mode command brought, which the commit must then carry too.
    func key(_ data: [UInt8]) -> [UInt8] {
        guard let blocks = config.keyBlock else { return learnedKey ?? data }
        var key = [UInt8](repeating: 0, count: 0x100)
        for p in blocks { if let kb = p.bytes, p.at + kb.count <= 0x100 { key.replaceSubrange(p.at..<(p.at + kb.count), with: kb) } }
        return key
    }

    func writeBuffer(_ drive: EmulatedDrive, _ cdb: CDB, _ t: DataTransfer) -> CommandResult {
        guard cdb.bytes.count == 10 else { return .check(.invalidFieldInCDB) }
        let c = BufferCommand(cdb, t)
        guard !c.lengthMismatch else { return .check(.invalidFieldInCDB) }
        // A lying write is acknowledged and ignored; a short one reaches the drive cut in half.
        guard let data = drive.faultedPayload(c.data) else { return .good() }
        let residue = c.data.count - data.count
        let key = key(data)
        switch (c.mode, c.bytes[2]) {
        case (0x01, 0xF3):
            // Reset of the anti-downgrade key: only a protected drive knows it; a new challenge is set.
            guard let seed = config.downgradeSeed else { return .check(.invalidFieldInCDB) }
            unlockAnswer = PioneerBehavior.dvrDraws(seed: seed, count: 0x401).last.map { $0 ^ 0xFF }
            unlockStage = 0
            return .good()
        case (0x01, 0xF2):
            guard let want = unlockAnswer, data.allSatisfy({ $0 == want }), (c.length == 0x100 && unlockStage == 0) || (c.length == 0x400 && unlockStage == 1) else {
                unlockStage = 0
                return .check(.invalidFieldInParameterList)
            }
            unlockStage += 1
            if unlockStage == 2 { unlocked = true }
            return .good()
        case (0x04, 0xFF):
            if config.downgradeSeed != nil && !unlocked { return .check(.invalidFieldInParameterList) }   // the emulator's protected drive: unlock first
            guard data.count == 0x100, data == key else { return .check(.invalidFieldInParameterList) }   // wrong key
            learnedKey = data
            if !kernelMode { normalRevision = drive.currentRevision }
            kernelMode = true
            memory.staged = memory.flash
            drive.currentRevision = "0000"
            return .good()
        case (0x07, 0xF0):
            guard kernelMode else { return .check(.commandSequenceError) }
            guard c.offset + c.length <= memory.staged.count else { return .check(.invalidFieldInCDB) }
            memory.staged.replaceSubrange(c.offset..<(c.offset + data.count), with: data)
            return .good(residue: residue)
        case (0x07, 0xFE):
            // The kernel part, in kernel mode only, straight into the kernel's place (the drive reflashes it itself).
            guard kernelMode else { return .check(.commandSequenceError) }
            guard let k = config.kernelAt, c.offset + c.length <= 0x10000, k + c.offset + c.length <= memory.flash.count else { return .check(.invalidFieldInCDB) }
            let at = k + c.offset
            memory.flash.replaceSubrange(at..<(at + data.count), with: data)
            if at + data.count <= memory.staged.count { memory.staged.replaceSubrange(at..<(at + data.count), with: data) }
            if c.offset + c.length == 0x10000 { memory.commits += 1 }
            return .good(residue: residue)
        case (0x05, 0xFF):
            guard kernelMode else { return .check(.commandSequenceError) }
            guard data == key else { return .check(.invalidFieldInParameterList) }
            kernelMode = false
            drive.currentRevision = normalRevision ?? drive.currentRevision
            drive.commitFirmware(memory)
            return .good()
        default:
            return .check(.invalidFieldInCDB)
        }
    }

    func readBuffer(_ drive: EmulatedDrive, _ cdb: CDB, _ t: DataTransfer) -> CommandResult {
        let c = BufferCommand(cdb, t)
        if c.bytes[1] == 0x01 && c.bytes[2] == 0xF2 {
            // The anti-downgrade challenge (a protected drive only): the generator's first 400h draws from its seed.
            guard let seed = config.downgradeSeed, unlockAnswer != nil, c.length == 0x400 else { return .check(.invalidFieldInCDB) }
            return drive.dataIn(PioneerBehavior.dvrDraws(seed: seed, count: 0x400), c.length, t)
        }
        // 3C 02 F1: the drive's identification block (serial, interface, generation, kernel and normal types).
        guard c.bytes[1] == 0x02, c.bytes[2] == 0xF1, c.length >= 1, c.length <= 0x30 else { return .check(.invalidFieldInCDB) }
        var info = Array((config.pioneerInfo ?? "").utf8)
        info += [UInt8](repeating: 0, count: 0x30 - info.count)
        return drive.dataIn(Array(info.prefix(c.length)), c.length, t)
    }

    /// Loads go to drive RAM; power lost while the commit (05h) programs the flash leaves half of it written.
    public func losePower(_ cdb: CDB, reaching data: [UInt8]) -> Bool {
        guard cdb.bytes.count >= 2, cdb.bytes[1] & 0x1F == 0x05 else { return false }
        let half = memory.flash.count / 2
        memory.flash.replaceSubrange(0..<half, with: memory.staged[0..<half])
        return true
    }
}
