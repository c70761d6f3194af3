import SCSI

/// Faults an emulated drive can be told to have, for tests of every failure path. Deterministic: the fault
/// fires on the Nth command that writes firmware (the behaviour's write opcode), counting from 1.
public struct FaultInjection: Sendable, Equatable {
    public enum Kind: Sendable, Equatable, CustomStringConvertible {
        case check(UInt8, UInt8, UInt8)
        case timeout
        case deviceGone
        case shortTransfer
        case lyingWrite
        case powerLoss

        public var description: String {
            switch self {
            case let .check(k, a, q): return "check \(Bytes.hex([k, a, q]))"
            case .timeout: return "timeout"
            case .deviceGone: return "device gone"
            case .shortTransfer: return "short transfer"
            case .lyingWrite: return "lying write"
            case .powerLoss: return "power loss"
            }
        }

        /// Every kind, with realistic sense data for the CHECK CONDITION ones.
        public static let all: [Kind] = [.check(3, 0x0C, 0x00), .check(4, 0x44, 0x00), .check(5, 0x24, 0x00), .timeout, .deviceGone,
                                         .shortTransfer, .lyingWrite, .powerLoss]
    }
    public var atWrite: Int
    public var kind: Kind
    public init(atWrite: Int, kind: Kind) { self.atWrite = atWrite; self.kind = kind }

    /// A reproducible fault from a seed: which write and which kind.
    public static func seeded(_ seed: UInt64, writes: Int) -> FaultInjection {
        var x = seed &+ 0x9E37_79B9_7F4A_7C15
        x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
        let kinds: [Kind] = [.check(3, 0x0C, 0x00), .check(4, 0x44, 0x00), .timeout, .deviceGone, .shortTransfer, .lyingWrite, .powerLoss]
        return FaultInjection(atWrite: Int(x % UInt64(max(1, writes))) + 1, kind: kinds[Int((x >> 20) % UInt64(kinds.count))])
    }
}

/// Emulated flash memory and the state of the family's download commands. The behaviours model what the public
/// sources show each flasher sending and expecting; where a source does not say how the drive reacts (e.g. to a
/// wrong checksum), the emulator refuses with ILLEGAL REQUEST, the most conservative answer.
public final class FirmwareMemory {
    /// The command sets an emulated drive can answer.
    public static let behaviors: Set<String> = ["spc", "plextor", "nec", "mt1959", "mediatek-ff", "btc", "lg-renesas", "pioneer"]

    public internal(set) var flash: [UInt8]
    /// Data received but not yet written to flash (download buffer, drive RAM).
    var staged: [UInt8]
    let behavior: String
    let config: DriveProfile.Firmware
    var revisionOffset: Int?
    public internal(set) var commits = 0
    /// nec state.
    public internal(set) var safeMode = false
    var checksumAccepted = false
    var erased: Set<Int> = []
    /// mt1959: armed by WRITE BUFFER mode 01h; mediatek-ff: next append position.
    var armed = false
    var position = 0
    /// TEST UNIT READY answers NOT READY this many more times.
    var busy = 0
    /// nec book type: per media code, the permanent and temporary book type and which one is active.
    public internal(set) var booktypes: [Int: (permanent: Int, temporary: Int, temporaryActive: Bool)] = [:]
    public internal(set) var booktypeChangesLeft = 0
    /// plextor bitsetting flags (bit 1 DVD+R, bit 0 DVD+R DL: DVD-ROM book type).
    public internal(set) var plextorBitset: UInt8 = 0
    /// nec global region reset: the first half was accepted.
    var globalResetArmed = false
    /// pioneer: in kernel mode (INQUIRY revision 0000) after the kernel-mode command; the normal-mode revision.
    public internal(set) var kernelMode = false
    var normalRevision: String?
    var learnedKey: [UInt8]?
    /// pioneer downgrade protection: the answer expected, and how far the unlock has come (0 none, 1 first answer).
    var unlockAnswer: UInt8?
    var unlockStage = 0
    public internal(set) var unlocked = false

    init(_ f: DriveProfile.Firmware) {
        let size = f.size ?? 0x100000
        flash = [UInt8](repeating: 0xFF, count: size)
        for p in f.preset ?? [] { if let b = p.bytes, p.at + b.count <= size { flash.replaceSubrange(p.at..<(p.at + b.count), with: b) } }
        behavior = f.behavior
        config = f
        revisionOffset = f.revisionOffset
        staged = behavior == "btc" ? [UInt8](repeating: 0xFF, count: size + 0x20) : flash
        booktypeChangesLeft = f.booktypeChangesLeft ?? 500
        for m in 0...2 { booktypes[m] = (m == 1 ? 0x92 : m == 2 ? 0xE1 : 0xA1, m == 1 ? 0x92 : m == 2 ? 0xE1 : 0xA1, false) }
    }

    /// Puts bytes into the flash as if they had always been there (a profile's initial image).
    public func install(_ bytes: ArraySlice<UInt8>, at: Int) {
        guard at >= 0, at + bytes.count <= flash.count else { return }
        flash.replaceSubrange(at..<(at + bytes.count), with: bytes)
        staged = behavior == "btc" ? staged : flash
    }

    /// Takes over another memory's flash contents (a dry-run copy of an emulated drive starts where the drive is).
    public func load(_ o: FirmwareMemory) {
        guard o.flash.count == flash.count else { return }
        flash = o.flash
        staged = behavior == "btc" ? staged : flash
    }

    /// The draws of the generator a downgrade-protected Pioneer drive sets its challenge with (the C library's linear
    /// congruential generator, as DVRFlash reverses it: seed * 41C64E6Dh + 3039h, each draw bits 16-23).
    static func dvrDraws(seed: Int, count: Int) -> [UInt8] {
        var x = UInt32(seed & 0xFFFF)
        return (0..<count).map { _ in x = x &* 0x41C6_4E6D &+ 0x3039; return UInt8(truncatingIfNeeded: x >> 16) }
    }

    /// The opcode whose commands count as firmware writes (fault injection, write counters).
    var writeOpcode: UInt8 {
        switch behavior {
        case "nec": return 0xCB
        case "mediatek-ff": return 0xFF
        default: return Opcode.writeBuffer
        }
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
        return start + size <= flash.count ? (start, size) : nil
    }

    func revision() -> String? {
        guard let o = revisionOffset, o + 4 <= flash.count else { return nil }
        let r = Bytes.ascii(flash, o, 4)
        return r.isEmpty ? nil : r
    }
}

extension EmulatedDrive {
    /// Installs firmware memory and the handlers of the profile's family behaviour.
    func installFirmware(_ f: DriveProfile.Firmware) {
        let mem = FirmwareMemory(f)
        memory = mem
        writeOpcodes.insert(mem.writeOpcode)
        handlers[Opcode.writeBuffer] = { drive, cdb, t in drive.writeBuffer(cdb, t) }
        handlers[Opcode.readBuffer] = { drive, cdb, t in drive.readBuffer(cdb, t) }
        switch f.behavior {
        case "nec":
            handlers[0xCC] = { drive, cdb, t in drive.necCC(cdb, t) }
            handlers[0xCB] = { drive, cdb, t in drive.necCB(cdb, t) }
            handlers[0xC9] = { drive, cdb, t in drive.necC9(cdb, t) }
        case "mediatek-ff":
            handlers[0xFF] = { drive, cdb, t in drive.mediatekFF(cdb, t) }
        case "plextor":
            handlers[0xE9] = { drive, cdb, t in drive.plextorMode(cdb, t) }
        case "lg-renesas":
            handlers[0x1D] = { _, cdb, t in
                // SEND DIAGNOSTIC: the self test the LG flasher runs after the last chunk.
                guard case let .toDevice(d) = t, d.count == Int(cdb.bytes[4]) else { return .check(5, 0x24, 0) }
                return .good()
            }
        default:
            break
        }
    }

    func commitFirmware() {
        guard let m = memory else { return }
        m.flash = Array(m.staged.prefix(m.flash.count))
        m.commits += 1
        m.busy = m.config.busyAfterFlash ?? 0
        if let r = m.revision() { currentRevision = r }
    }

    /// Power lost in the middle of a firmware write: half of what the command carries reaches the flash.
    func losePower(_ cdb: CDB, _ transfer: DataTransfer) {
        guard let m = memory else { return }
        let b = cdb.bytes
        var data: [UInt8] = []
        if case let .toDevice(d) = transfer { data = Array(d.prefix(d.count / 2)) }
        switch m.behavior {
        case "nec":
            guard b.count >= 9, let addr = Bytes.be32(b, 2), let len = Bytes.be24(b, 6) else { return }
            var a = Int(addr), n = Int(len)
            if m.config.blockMask == true, b[1] & 0x0F != 0x01, let (start, size) = m.maskedBlock(b) { a = start; n = size }
            else if b[1] & 0x0F != 0x01, b[2...7].allSatisfy({ $0 == 0 }), b[8] != 0 { a = Int(b[8]) * 0x10000; n = 0x10000 }
            if b[1] & 0x0F == 0x04, a + n <= m.flash.count {         // erase: half the region erased
                for i in a..<(a + n / 2) { m.flash[i] = 0xFF }
            } else if b[1] & 0x0F == 0x02, a + n <= m.flash.count {  // program: half the region programmed
                m.flash.replaceSubrange(a..<(a + n / 2), with: m.staged[a..<(a + n / 2)])
            }
        case "mediatek-ff":
            if m.position + data.count <= m.flash.count { m.flash.replaceSubrange(m.position..<(m.position + data.count), with: data) }
        case "btc":
            return   // uploads go to the download buffer; the flash is written only by the 07h commit
        case "pioneer":
            // Loads go to drive RAM; power lost while the commit (05h) programs the flash leaves half of it written.
            if b.count >= 2, b[1] & 0x1F == 0x05 { let half = m.flash.count / 2; m.flash.replaceSubrange(0..<half, with: m.staged[0..<half]) }
            else { return }
        case "lg-renesas":
            if let off = Bytes.be32(b, 2), Int(off) + data.count <= m.flash.count { m.flash.replaceSubrange(Int(off)..<(Int(off) + data.count), with: data) }
        default:
            if let off = Bytes.be24(b, 3), Int(off) + data.count <= m.flash.count { m.flash.replaceSubrange(Int(off)..<(Int(off) + data.count), with: data) }
        }
        m.commits += 1
    }

    /// Applies a lying or short write fault to the data of a write command; nil: the command is acknowledged, nothing done.
    func faultedPayload(_ data: [UInt8]) -> [UInt8]? {
        switch pendingWriteFault {
        case .lyingWrite?: pendingWriteFault = nil; return nil
        case .shortTransfer?: pendingWriteFault = nil; return Array(data.prefix(data.count / 2))
        default: return data
        }
    }

    func writeBuffer(_ cdb: CDB, _ t: DataTransfer) -> CommandResult {
        guard let m = memory else { return .check(5, 0x20, 0) }
        let b = cdb.bytes
        if m.behavior == "lg-renesas" { return lgWrite(cdb, t) }
        if m.behavior == "pioneer" { return pioneerWrite(cdb, t) }
        let mode = b[1] & 0x1F
        let offset = Int(Bytes.be24(b, 3) ?? 0), length = Int(Bytes.be24(b, 6) ?? 0)
        var data: [UInt8] = []
        if case let .toDevice(d) = t { data = d }
        guard data.count == length else { return .check(5, 0x24, 0) }
        let modes: [String: Set<UInt8>] = ["spc": [0x05, 0x07, 0x0E, 0x0F], "plextor": [0x04, 0x05], "mt1959": [0x01, 0x06], "btc": [0x06, 0x07]]
        guard modes[m.behavior]?.contains(mode) == true else { return .check(5, 0x24, 0) }
        if m.behavior == "mt1959" && mode == 0x01 {
            guard length == 0 else { return .check(5, 0x24, 0) }
            m.armed = true
            return .good()
        }
        if m.behavior == "mt1959" && !m.armed { return .check(5, 0x2C, 0) }   // command sequence error
        if m.behavior == "btc" && mode == 0x07 {
            // Commit: the header's bytes 30-31 must hold the 16-bit byte sum of the image that follows it.
            guard length == 0 else { return .check(5, 0x24, 0) }
            var sum = 0
            for x in m.staged[0x20...] { sum &+= Int(x) }
            guard Int(m.staged[30]) << 8 | Int(m.staged[31]) == sum & 0xFFFF else { return .check(5, 0x24, 0) }
            m.flash = Array(m.staged[0x20...])
            m.commits += 1
            m.busy = m.config.busyAfterFlash ?? 0
            if let r = m.revision() { currentRevision = r }
            return .good()
        }
        guard offset + length <= m.staged.count else { return .check(5, 0x24, 0) }
        guard let payload = faultedPayload(data) else { return .good() }
        m.staged.replaceSubrange(offset..<(offset + payload.count), with: payload)
        switch (m.behavior, mode) {
        case ("spc", 0x05), ("spc", 0x07), ("spc", 0x0F):
            commitFirmware()
            raiseUnitAttention(6, 0x3F, 0x01)   // microcode has been changed
        case ("plextor", 0x05):
            commitFirmware()
        case ("mt1959", 0x06) where offset + length >= m.flash.count:
            m.armed = false
            commitFirmware()
        default:
            break   // staged
        }
        return payload.count == data.count ? .good() : CommandResult(status: .good, residue: data.count - payload.count)
    }

    func readBuffer(_ cdb: CDB, _ t: DataTransfer) -> CommandResult {
        guard let m = memory else { return .check(5, 0x20, 0) }
        let b = cdb.bytes
        let mode = b[1] & 0x1F
        let offset = Int(Bytes.be24(b, 3) ?? 0), length = Int(Bytes.be24(b, 6) ?? 0)
        if m.behavior == "pioneer" && b[1] == 0x01 && b[2] == 0xF2 {
            // The anti-downgrade challenge (a protected drive only): the generator's first 400h draws from its seed.
            guard let seed = m.config.downgradeSeed, m.unlockAnswer != nil, length == 0x400 else { return .check(5, 0x24, 0) }
            return dataIn(FirmwareMemory.dvrDraws(seed: seed, count: 0x400), length, t)
        }
        if m.behavior == "pioneer" {
            // 3C 02 F1: the drive's identification block (serial, interface, generation, kernel and normal types).
            guard b[1] == 0x02, b[2] == 0xF1, length >= 1, length <= 0x30 else { return .check(5, 0x24, 0) }
            var info = Array((m.config.pioneerInfo ?? "").utf8)
            info += [UInt8](repeating: 0, count: 0x30 - info.count)
            return dataIn(Array(info.prefix(length)), length, t)
        }
        if m.behavior == "lg-renesas" {
            // 3C 05 <pos32> 00 <len16> 44: read absolute memory.
            guard b[1] == 0x05, b[9] == 0x44, let pos = Bytes.be32(b, 2), let n = Bytes.be16(b, 7), Int(pos) + Int(n) <= m.flash.count else { return .check(5, 0x24, 0) }
            return dataIn(Array(m.flash[Int(pos)..<(Int(pos) + Int(n))]), Int(n), t)
        }
        if mode == 0x06, m.behavior == "mt1959", let n = m.config.bufferAnswerLength {
            // A drive (or bridge) that answers another length than asked: short, or an overrun.
            guard offset + n <= m.flash.count else { return .check(5, 0x24, 0) }
            return .good(Array(m.flash[offset..<(offset + n)]), residue: max(0, length - n))
        }
        switch mode {
        case 0x02 where m.behavior == "spc" || m.behavior == "plextor", 0x06 where m.behavior == "mt1959":
            guard offset + length <= m.flash.count else { return .check(5, 0x24, 0) }
            return dataIn(Array(m.flash[offset..<(offset + length)]), length, t)
        case 0x03 where m.behavior == "spc":
            if m.config.bufferDescriptor == false { return .check(5, 0x20, 0) }
            let cap = min(m.flash.count, 0xFFFFFF)
            return dataIn([UInt8(truncatingIfNeeded: m.config.bufferBoundary ?? 0), UInt8((cap >> 16) & 0xFF), UInt8((cap >> 8) & 0xFF), UInt8(cap & 0xFF)], length, t)
        default:
            return .check(5, 0x24, 0)
        }
    }

    /// Pioneer DVR (DVRFlash): `3B 04 FF` with the key block enters kernel mode (INQUIRY revision 0000); `3B 07 F0
    /// <off24> <len24>` loads the normal image into drive RAM (kernel mode only); `3B 05 FF` with the key block writes it
    /// to flash and returns to normal mode; `3B 07 FE` writes the kernel part (kernel mode only, where `kernelAt` says);
    /// `3B 01 F3` / `3C 01 F2` / `3B 01 F2` are the DVR-103/104 anti-downgrade reset, challenge and answers.
    func pioneerWrite(_ cdb: CDB, _ t: DataTransfer) -> CommandResult {
        guard let m = memory else { return .check(5, 0x20, 0) }
        let b = cdb.bytes
        guard b.count == 10 else { return .check(5, 0x24, 0) }
        let mode = b[1] & 0x1F
        let offset = Int(Bytes.be24(b, 3) ?? 0), length = Int(Bytes.be24(b, 6) ?? 0)
        var sent: [UInt8] = []
        if case let .toDevice(d) = t { sent = d }
        guard sent.count == length else { return .check(5, 0x24, 0) }
        // A lying write is acknowledged and ignored; a short one reaches the drive cut in half.
        guard let data = faultedPayload(sent) else { return .good() }
        let residue = sent.count - data.count
        // The key block the drive wants. A dry-run copy of a real drive cannot know it: it takes the one the kernel-mode
        // command brings, and the commit must then carry the same.
        var key = [UInt8](repeating: 0, count: 0x100)
        for p in m.config.keyBlock ?? [] { if let kb = p.bytes, p.at + kb.count <= 0x100 { key.replaceSubrange(p.at..<(p.at + kb.count), with: kb) } }
        if m.config.keyBlock == nil { key = m.learnedKey ?? data }
        switch (mode, b[2]) {
        case (0x01, 0xF3):
            // Reset of the anti-downgrade key: only a protected drive knows it; a new challenge is set.
            guard let seed = m.config.downgradeSeed else { return .check(5, 0x24, 0) }
            m.unlockAnswer = FirmwareMemory.dvrDraws(seed: seed, count: 0x401).last.map { $0 ^ 0xFF }
            m.unlockStage = 0
            return .good()
        case (0x01, 0xF2):
            guard let want = m.unlockAnswer, data.allSatisfy({ $0 == want }), (length == 0x100 && m.unlockStage == 0) || (length == 0x400 && m.unlockStage == 1) else {
                m.unlockStage = 0
                return .check(5, 0x26, 0)
            }
            m.unlockStage += 1
            if m.unlockStage == 2 { m.unlocked = true }
            return .good()
        case (0x04, 0xFF):
            if m.config.downgradeSeed != nil && !m.unlocked { return .check(5, 0x26, 0) }   // the emulator's protected drive: unlock first
            guard data.count == 0x100, data == key else { return .check(5, 0x26, 0) }   // invalid field in parameter list: wrong key
            m.learnedKey = data
            if !m.kernelMode { m.normalRevision = currentRevision }
            m.kernelMode = true
            m.staged = m.flash
            currentRevision = "0000"
            return .good()
        case (0x07, 0xF0):
            guard m.kernelMode else { return .check(5, 0x2C, 0) }   // command sequence error
            guard offset + length <= m.staged.count else { return .check(5, 0x24, 0) }
            m.staged.replaceSubrange(offset..<(offset + data.count), with: data)
            return residue == 0 ? .good() : CommandResult(status: .good, residue: residue)
        case (0x07, 0xFE):
            // The kernel part, in kernel mode only, straight into the kernel's place (the drive reflashes it itself).
            guard m.kernelMode else { return .check(5, 0x2C, 0) }
            guard let k = m.config.kernelAt, offset + length <= 0x10000, k + offset + length <= m.flash.count else { return .check(5, 0x24, 0) }
            m.flash.replaceSubrange((k + offset)..<(k + offset + data.count), with: data)
            if k + offset + data.count <= m.staged.count { m.staged.replaceSubrange((k + offset)..<(k + offset + data.count), with: data) }
            if offset + length == 0x10000 { m.commits += 1 }
            return residue == 0 ? .good() : CommandResult(status: .good, residue: residue)
        case (0x05, 0xFF):
            guard m.kernelMode else { return .check(5, 0x2C, 0) }
            guard data == key else { return .check(5, 0x26, 0) }
            m.kernelMode = false
            currentRevision = m.normalRevision ?? currentRevision
            commitFirmware()
            return .good()
        default:
            return .check(5, 0x24, 0)
        }
    }

    /// LG Renesas: `3B 02|05 <pos32> 00 <len16> 44`; 02 fills the cache, 05 (last chunk) writes memory.
    func lgWrite(_ cdb: CDB, _ t: DataTransfer) -> CommandResult {
        guard let m = memory else { return .check(5, 0x20, 0) }
        let b = cdb.bytes
        guard b.count == 10, b[9] == 0x44, b[6] == 0, [0x02, 0x05].contains(b[1]), let pos = Bytes.be32(b, 2), let n = Bytes.be16(b, 7) else { return .check(5, 0x24, 0) }
        guard case let .toDevice(data) = t, data.count == Int(n), Int(pos) + data.count <= m.staged.count else { return .check(5, 0x24, 0) }
        guard let payload = faultedPayload(data) else { return .good() }
        m.staged.replaceSubrange(Int(pos)..<(Int(pos) + payload.count), with: payload)
        if b[1] == 0x05 {
            // The file's header names where its body goes (BE32 at 40h) and how long it is (BE32 at 44h, the file
            // size less the 400h-byte header): the body lands there in memory, which 3C 05 reads back.
            let end = Int(pos) + payload.count
            guard end >= 0x400, let at32 = Bytes.be32(m.staged, 0x40), let n32 = Bytes.be32(m.staged, 0x44) else { return .check(5, 0x24, 0) }
            let at = Int(at32), n = Int(n32)
            guard n == end - 0x400, at + n <= m.flash.count else { return .check(5, 0x24, 0) }
            m.flash.replaceSubrange(at..<(at + n), with: m.staged[0x400..<end])
            m.commits += 1
            m.busy = m.config.busyAfterFlash ?? 0
        }
        return payload.count == data.count ? .good() : CommandResult(status: .good, residue: data.count - payload.count)
    }

    /// Plextor E9h mode page 22h (bitsetting): get (00h) / set (10h) the DVD-ROM flag of DVD+R (0Ah) or DVD+R DL (0Eh).
    func plextorMode(_ cdb: CDB, _ t: DataTransfer) -> CommandResult {
        guard let m = memory else { return .check(5, 0x20, 0) }
        let b = cdb.bytes
        guard b.count == 10, b[2] == 0x22, [0x0A, 0x0E].contains(b[3]), b[9] == 8 else { return .check(5, 0x24, 0) }
        let bit: UInt8 = b[3] == 0x0A ? 0x02 : 0x01
        switch b[1] {
        case 0x00: break
        case 0x10: if b[5] == 1 { m.plextorBitset |= bit } else if b[5] == 0 { m.plextorBitset &= ~bit } else { return .check(5, 0x24, 0) }
        default: return .check(5, 0x24, 0)
        }
        return dataIn([b[2], 0x06, m.plextorBitset, 0, 0, 0, 0, 0], 8, t)
    }

    /// MediaTek FFh: `FF 00 01 00 00 <state> ...`, state 00h first, FFh middle, the model's end code last.
    func mediatekFF(_ cdb: CDB, _ t: DataTransfer) -> CommandResult {
        guard let m = memory else { return .check(5, 0x20, 0) }
        let b = cdb.bytes
        guard b.count == 12, b[1] == 0, b[2] == 0x01 else { return .check(5, 0x24, 0) }
        guard case let .toDevice(data) = t, !data.isEmpty else { return .check(5, 0x24, 0) }
        let state = b[5]
        if state == 0x00 { m.position = 0; m.armed = true; m.staged = m.flash }
        else if !m.armed { return .check(5, 0x2C, 0) }
        else if state != 0xFF && Int(state) != (m.config.endCode ?? 0x02) { return .check(5, 0x24, 0) }
        guard m.position + data.count <= m.staged.count else { return .check(5, 0x24, 0) }
        guard let payload = faultedPayload(data) else { m.position += data.count; return .good() }
        m.staged.replaceSubrange(m.position..<(m.position + payload.count), with: payload)
        m.position += data.count
        if state != 0x00 && state != 0xFF { m.armed = false; commitFirmware() }
        return payload.count == data.count ? .good() : CommandResult(status: .good, residue: data.count - payload.count)
    }

    /// NEC/Optiarc CCh: ReadRAM (xx0), safe mode (xx1), checksum (xx4).
    func necCC(_ cdb: CDB, _ t: DataTransfer) -> CommandResult {
        guard let m = memory else { return .check(5, 0x20, 0) }
        let b = cdb.bytes
        guard b.count == 12 else { return .check(5, 0x20, 0) }
        switch b[1] & 0x0F {
        case 0x00:   // ReadRAM: address BE32 at 2, length BE16 at 7
            // The answer is the length rounded up to a multiple of 4 (Binflash reads that many).
            guard let a = Bytes.be32(b, 2), let n = Bytes.be16(b, 7), n > 0, Int(a) + ((Int(n) + 3) & ~3) <= m.flash.count else { return .check(5, 0x21, 0) }
            let len = (Int(n) + 3) & ~3
            return dataIn(Array(m.flash[Int(a)..<(Int(a) + len)]), len, t)
        case 0x01:   // safe mode: [2] enable, [4..7] drive ID
            if let at = m.config.idAt, Array(b[4..<8]) != Array(m.flash[at..<(at + 4)]) { return .check(5, 0x24, 0) }
            if b[2] == 0x01 {
                m.safeMode = true
                currentRevision = m.config.safeModeRevision ?? "0.00"
            } else {
                m.safeMode = false
                m.checksumAccepted = false
                m.erased = []
                currentRevision = m.revision() ?? profile.inquiry.revision
            }
            return .good()
        case 0x06:   // class-4 checksum: area (byte 9) 5 before the erase, 4 (the RAM image) at the end
            guard m.safeMode else { return .check(5, 0x2C, 0) }
            if b[9] == 5 { m.checksumAccepted = true; return .good() }
            guard b[9] == 4 else { return .check(5, 0x24, 0) }
            let r = m.config.checksumRange ?? [0, m.staged.count]
            return Int(b[2]) << 8 | Int(b[3]) == Bytes.wordSum16(m.staged[r[0]..<r[1]]) ? .good() : .check(5, 0x24, 0)
        case 0x04:   // checksum of the RAM image: BE16 at 2
            guard m.safeMode else { return .check(5, 0x2C, 0) }
            if m.config.checksumAny == true { m.checksumAccepted = true; return .good() }
            let r = m.config.checksumRange ?? [0, m.staged.count]
            guard Int(b[2]) << 8 | Int(b[3]) == Bytes.wordSum16(m.staged[r[0]..<r[1]]) else { return .check(5, 0x24, 0) }
            m.checksumAccepted = true
            return .good()
        default:
            return .check(5, 0x24, 0)
        }
    }

    /// NEC/Optiarc C9h with 'BTYPE' in bytes 4-8: book type query (02), set (01 permanent, 03 temporary), select (04), clear (0C).
    func necC9(_ cdb: CDB, _ t: DataTransfer) -> CommandResult {
        guard let m = memory else { return .check(5, 0x20, 0) }
        let b = cdb.bytes
        guard b.count == 12, Array(b[4..<9]) == Array("BTYPE".utf8) else { return .check(5, 0x24, 0) }
        let version = m.config.booktypeVersion ?? 4
        let media = Int(b[2])
        // Which media the command-set version knows (Binflash QueryBooktype): +R DL from 1, +R from 3, +RW from 4.
        func known(_ md: Int) -> Bool { md == 2 || (md == 0 && version >= 3) || (md == 1 && version >= 4) }
        switch b[1] {
        case 0x02:
            guard known(media), let s = m.booktypes[media] else { return .check(5, 0x24, 0) }
            let temp = b[9] == 1
            if temp && media == 2 && version < 2 { return .check(5, 0x24, 0) }
            let left = m.booktypeChangesLeft & 0x7FFF
            let answer: [UInt8] = [UInt8(media), UInt8(temp ? s.temporary : s.permanent), UInt8(left >> 8) | (s.temporaryActive ? 0x80 : 0),
                                   UInt8(left & 0xFF), UInt8(version >> 8), UInt8(version & 0xFF)]
            return dataIn(answer, 6, t)
        case 0x01, 0x03:
            guard known(media), var s = m.booktypes[media] else { return .check(5, 0x24, 0) }
            if b[1] == 0x01 {
                guard m.booktypeChangesLeft > 0 else { return .check(5, 0x2C, 0) }   // no permanent changes left
                m.booktypeChangesLeft -= 1
                s.permanent = Int(b[3])
            } else {
                s.temporary = Int(b[3])
            }
            m.booktypes[media] = s
            return .good()
        case 0x04:
            guard known(media), var s = m.booktypes[media] else { return .check(5, 0x24, 0) }
            s.temporaryActive = b[9] == 1
            m.booktypes[media] = s
            return .good()
        case 0x0C:   // Binflash -clearbt: the counter is reset and every setting returns to its default
            for m2 in 0...2 { m.booktypes[m2] = (m2 == 1 ? 0x92 : m2 == 2 ? 0xE1 : 0xA1, m2 == 1 ? 0x92 : m2 == 2 ? 0xE1 : 0xA1, false) }
            m.booktypeChangesLeft = 500
            return .good()
        default:
            return .check(5, 0x24, 0)
        }
    }

    /// NEC/Optiarc region resets: CB 00 with 'REGION' (vendor), or the two drive-ID keyed halves of the global reset.
    func necRegion(_ b: [UInt8]) -> CommandResult {
        guard let m = memory, var r = rpc else { return .check(5, 0x24, 0) }
        if Array(b[6..<12]) == Array("REGION".utf8) {
            guard r.vendorResetsLeft > 0 else { return .check(5, 0x6F, 0x05) }
            r.vendorResetsLeft -= 1
            r.userChangesLeft = 5
            r.typeCode = r.region == 0 ? 0 : 1
            rpc = r
            return .good()
        }
        guard let at = m.config.idAt else { return .check(5, 0x24, 0) }
        let id = Array(m.flash[at..<(at + 4)])
        if b[10] == 0x55, b[11] == 0x55, Array(b[6..<10]) == id.map({ $0 &+ 0x55 }) { m.globalResetArmed = true; return .good() }
        if b[10] == 0xAA, b[11] == 0xAA, m.globalResetArmed, Array(b[6..<10]) == id.map({ 0xAA &- $0 }) {
            m.globalResetArmed = false
            r.vendorResetsLeft = 4
            r.userChangesLeft = 5
            r.typeCode = r.region == 0 ? 0 : 1
            rpc = r
            return .good()
        }
        m.globalResetArmed = false
        return .check(5, 0x24, 0)
    }

    /// NEC/Optiarc CBh: WriteRAM (01), program (02), erase (04); address BE32 at 2, length BE24 at 6.
    func necCB(_ cdb: CDB, _ t: DataTransfer) -> CommandResult {
        guard let m = memory else { return .check(5, 0x20, 0) }
        let b = cdb.bytes
        if b.count == 12 && b[1] == 0 && b[2...5].allSatisfy({ $0 == 0 }) { return necRegion(b) }
        guard b.count == 12, let a32 = Bytes.be32(b, 2), let n24 = Bytes.be24(b, 6) else { return .check(5, 0x24, 0) }
        var a = Int(a32), n = Int(n24)
        // Older forms (Binflash WriteRAM, EraseBlock, FlashBlock): a RAM write's length in 4 KiB units in byte 8
        // (WriteRAMOpti adds 4 zero bytes per unit); erase and program by block number in byte 8 with bytes 2-7 zero,
        // or (EraseSingleBlock, FlashSingleBlock) by a one-bit block mask in bytes 2-8.
        if b[1] & 0x0F == 0x01, b[6] == 0, b[7] == 0, case let .toDevice(d) = t,
           d.count == Int(b[8]) * 0x1000 || d.count == Int(b[8]) * 0x1004 { n = Int(b[8]) * 0x1000 }
        else if b[1] & 0x0F != 0x01, m.config.blockMask == true {
            guard let (start, size) = m.maskedBlock(b) else { return .check(5, 0x24, 0) }
            a = start; n = size
        }
        else if b[1] & 0x0F != 0x01, b[2...7].allSatisfy({ $0 == 0 }), b[8] != 0 { a = Int(b[8]) * 0x10000; n = 0x10000 }
        guard m.safeMode else { return .check(5, 0x2C, 0) }
        guard n > 0, a + n <= m.flash.count else { return .check(5, 0x21, 0) }
        switch b[1] & 0x0F {
        case 0x01:
            guard case let .toDevice(sent) = t, sent.count >= n else { return .check(5, 0x24, 0) }
            let data = sent.count == n ? sent : Array(sent.prefix(n))
            // Class 4 sends the chunk's word sum in bytes 10-11; a chunk that does not match it is refused.
            if b[10] != 0 || b[11] != 0, Int(b[10]) << 8 | Int(b[11]) != Bytes.wordSum16(data) { return .check(5, 0x24, 0) }
            guard let payload = faultedPayload(data) else { return .good() }
            m.staged.replaceSubrange(a..<(a + payload.count), with: payload)
            return payload.count == n ? .good() : CommandResult(status: .good, residue: n - payload.count)
        case 0x04:
            guard m.checksumAccepted else { return .check(5, 0x2C, 0) }
            if pendingWriteFault == .lyingWrite { pendingWriteFault = nil; return .good() }
            for i in a..<(a + n) { m.flash[i] = 0xFF }
            m.erased.insert(a)
            return .good()
        case 0x02:
            guard m.erased.contains(a) else { return .check(5, 0x2C, 0) }
            if pendingWriteFault == .lyingWrite { pendingWriteFault = nil; return .good() }
            m.flash.replaceSubrange(a..<(a + n), with: m.staged[a..<(a + n)])
            m.commits += 1
            return .good()
        default:
            return .check(5, 0x24, 0)
        }
    }
}
