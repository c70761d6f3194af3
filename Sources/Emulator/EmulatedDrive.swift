import MMC
import SCSI

/// A virtual MMC drive that answers like a real one, from a DriveProfile.
/// Families add firmware memory and vendor commands by registering opcode handlers.
public final class EmulatedDrive: SCSITransport {
    public typealias Handler = (EmulatedDrive, CDB, DataTransfer) -> CommandResult

    public let deviceName: String
    public let kind = "emulator"
    public private(set) var profile: DriveProfile

    // State
    public var mediumLoaded: Bool
    public var trayOpen = false
    public var rpc: DriveProfile.RPC?
    public private(set) var pendingUnitAttention: SenseData?
    public private(set) var lastSense: SenseData?
    public private(set) var commandCount = 0
    /// Commands that could change the drive (WRITE BUFFER, SEND KEY, vendor writes).
    public private(set) var writeCommandCount = 0
    public private(set) var log: [CDB] = []
    private var closed = false
    /// The family behaviour that answers the firmware commands, when the profile gives the drive one.
    public private(set) var behavior: (any DriveBehavior)?
    /// Flash memory, when the profile gives the drive a family behaviour.
    public var memory: FirmwareMemory? { behavior?.memory }
    /// The revision INQUIRY reports (changes after a flash).
    public internal(set) var currentRevision: String
    public var fault: FaultInjection?
    var rngState: UInt64 = 0
    /// Recorded answers (CDB -> data) that take precedence over the emulation: a dry-run copy's identification reads.
    public var replay: [RecordedAnswer] = []
    /// Reads the real drive refused (CDB, sense key/ASC/ASCQ): a dry-run copy refuses them the same way.
    public var replayRefusals: [RecordedRefusal] = []
    var pendingWriteFault: FaultInjection.Kind?
    var writesSeen = 0
    var gone = false

    /// Vendor or family-specific opcodes; consulted before the built-in MMC set.
    public var handlers: [UInt8: Handler] = [:]
    /// Opcodes whose handler changes state (counted in writeCommandCount).
    public var writeOpcodes: Set<UInt8> = [Opcode.writeBuffer, Opcode.sendKey]

    public init(profile: DriveProfile, deviceName: String? = nil) {
        self.profile = profile
        self.deviceName = deviceName ?? "emu:\(profile.name)"
        mediumLoaded = profile.medium != nil
        rpc = profile.rpc
        currentRevision = profile.inquiry.revision
        if profile.unitAttentionOnStart ?? true { pendingUnitAttention = Sense.powerOnReset.data }
        if let f = profile.firmware { installFirmware(f) }
        if profile.strategyVersions != nil { handlers[0xCF] = { drive, cdb, t in drive.strategyVersions(cdb, t) } }
    }

    /// NEC/Optiarc CF 03: the strategy versions, 8 bytes per media class, then a zero entry (Binflash's reader stops at
    /// an entry that starts with a zero byte). Other CFh functions are not emulated.
    func strategyVersions(_ cdb: CDB, _ t: DataTransfer) -> CommandResult {
        let b = cdb.bytes
        guard b.count == 12, b[1] == 0x03, b[2...].allSatisfy({ $0 == 0 }), let v = profile.strategyVersions else { return .check(.invalidFieldInCDB) }
        let answer = v.flatMap { Array($0.utf8) } + [UInt8](repeating: 0, count: 8)
        return dataIn(answer, t.length, t)
    }

    /// A copy of this drive's identity for a dry run (same INQUIRY, memory of the same family behaviour), with the real
    /// drive's answers to the identification reads.
    public static func clone(vendor: String, product: String, revision: String, firmware: DriveProfile.Firmware,
                             replay: [RecordedAnswer] = [], refusals: [RecordedRefusal] = []) -> EmulatedDrive {
        let p = DriveProfile(name: "dry-run", description: "dry-run copy", provenance: "synthetic: a dry-run copy of a real drive's identity",
                             synthetic: true, inquiry: .init(vendor: vendor, product: product, revision: revision),
                             serial: nil, profiles: ["CD-ROM"], interface: nil, capabilities: nil, rpc: nil, medium: nil,
                             unitAttentionOnStart: false, firmware: firmware)
        let d = EmulatedDrive(profile: p, deviceName: "dry-run")
        d.replay = replay
        d.replayRefusals = refusals
        return d
    }

    public func close() { closed = true }

    public func raiseUnitAttention(_ key: UInt8 = 6, _ asc: UInt8, _ ascq: UInt8) {
        pendingUnitAttention = SenseData(key: key, asc: asc, ascq: ascq)
    }

    func raiseUnitAttention(_ s: Sense) { pendingUnitAttention = s.data }

    /// The behaviour, when it is a B (its state, for tests and callers that know the family).
    public func behavior<B: DriveBehavior>(as _: B.Type) -> B? { behavior as? B }

    /// Installs firmware memory and the commands of the profile's family behaviour.
    func installFirmware(_ f: DriveProfile.Firmware) {
        guard let b = f.makeBehavior(FirmwareMemory(f)) else { return }
        behavior = b
        writeOpcodes.insert(b.writeOpcode)
        for (op, h) in b.commands { handlers[op] = h }
    }

    var profileCodes: [Int] { profile.profiles.compactMap { MMCProfile.code(named: $0) } }
    var mediumProfile: Int? { mediumLoaded ? profile.medium.flatMap { MMCProfile.code(named: $0.profile) } : nil }

    public func execute(_ cdb: CDB, _ transfer: DataTransfer, timeout: Double) throws -> CommandResult {
        guard !closed else { throw TransportError.closed }
        guard !gone else { throw TransportError.deviceGone(deviceName) }
        commandCount += 1
        log.append(cdb)
        if writeOpcodes.contains(cdb.opcode) { writeCommandCount += 1 }
        if let r = try injectFault(cdb, transfer, timeout: timeout) { return r }
        if let r = replayRefusals.first(where: { $0.cdb == cdb.bytes }), r.sense.count == 3 {
            return .check(r.sense[0], r.sense[1], r.sense[2])
        }
        if cdb.opcode != Opcode.inquiry, let a = replay.first(where: { $0.cdb == cdb.bytes }) {
            // A dry-run copy answers the identification reads exactly as the real drive did. INQUIRY is its own
            // (the same strings): it must show mode changes (safe mode, kernel mode) as the sequence makes them.
            return dataIn(a.data, a.data.count, transfer)
        }
        var result = dispatch(cdb, transfer)
        if let a = profile.adversarial { result = mangle(result, transfer, a) }
        lastSense = result.status == .checkCondition ? result.sense : nil
        return result
    }

    /// The adversarial drive: the same answers, mangled (deterministic from the profile's seed).
    func mangle(_ r: CommandResult, _ transfer: DataTransfer, _ a: DriveProfile.Adversarial) -> CommandResult {
        if rngState == 0 { rngState = UInt64(truncatingIfNeeded: a.seed ?? 1) &+ 0x9E37_79B9_7F4A_7C15 }
        func next() -> UInt64 {
            rngState &+= 0x9E37_79B9_7F4A_7C15
            var z = rngState
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        guard case let .fromDevice(n) = transfer else { return r }
        switch a.mode {
        case "truncated":
            let keep = r.data.isEmpty ? 0 : Int(next() % UInt64(r.data.count))
            return CommandResult(status: r.status, sense: r.sense, data: Array(r.data.prefix(keep)), residue: n - keep)
        case "oversized":
            return CommandResult(status: r.status, sense: r.sense, data: [UInt8](repeating: 0xFF, count: n), residue: 0)
        default:
            if next() % 8 == 0 {
                let sense = [UInt8(0x70 | (next() % 2 == 0 ? 0 : 0x80)), 0, UInt8(next() % 16)] + (0..<15).map { _ in UInt8(truncatingIfNeeded: next()) }
                return CommandResult(status: .checkCondition, sense: try? SenseData(bytes: sense), senseBytes: sense)
            }
            let len = n == 0 ? 0 : Int(next() % UInt64(n + 1))
            return CommandResult(status: .good, data: (0..<len).map { _ in UInt8(truncatingIfNeeded: next()) }, residue: n - len)
        }
    }

    func dispatch(_ cdb: CDB, _ transfer: DataTransfer) -> CommandResult {
        let op = cdb.opcode
        // SPC: INQUIRY and REQUEST SENSE never report a pending unit attention; REQUEST SENSE returns it.
        if op == Opcode.requestSense {
            let s = pendingUnitAttention ?? lastSense ?? Sense.noSense.data
            pendingUnitAttention = nil
            let alloc = Int(cdb.bytes[4])
            return dataIn(s.raw, alloc, transfer)
        }
        if op != Opcode.inquiry, let ua = pendingUnitAttention {
            pendingUnitAttention = nil
            return CommandResult(status: .checkCondition, sense: ua)
        }
        if let h = handlers[op] { return h(self, cdb, transfer) }
        switch op {
        case Opcode.testUnitReady: return testUnitReady()
        case Opcode.inquiry: return inquiry(cdb, transfer)
        case Opcode.startStopUnit: return startStop(cdb)
        case Opcode.preventAllow: return .good()
        case Opcode.getConfiguration: return getConfiguration(cdb, transfer)
        case Opcode.modeSense10: return modeSense(cdb, transfer)
        case Opcode.reportKey: return reportKey(cdb, transfer)
        case Opcode.sendKey: return sendKey(cdb, transfer)
        case Opcode.readTOC: return readTOC(cdb, transfer)
        case Opcode.readDiscStructure: return readDiscStructure(cdb, transfer)
        case Opcode.getPerformance: return getPerformance(cdb, transfer)
        default:
            return .check(.invalidCommandOperationCode)
        }
    }

    // MARK: helpers

    /// Returns data cut to the CDB's allocation length and the transfer's length, with the residue.
    public func dataIn(_ data: [UInt8], _ allocation: Int, _ transfer: DataTransfer) -> CommandResult {
        guard case let .fromDevice(n) = transfer else {
            return transfer.length == 0 && allocation == 0 ? .good() : .check(.invalidFieldInCDB)
        }
        let out = Array(data.prefix(min(allocation, n)))
        return .good(out, residue: n - out.count)
    }

    func allocation16(_ cdb: CDB, _ at: Int) -> Int { Int(cdb.bytes[at]) << 8 | Int(cdb.bytes[at + 1]) }

    func noMedium() -> CommandResult { .check(trayOpen ? .mediumNotPresentTrayOpen : .mediumNotPresentTrayClosed) }

    // MARK: commands

    func testUnitReady() -> CommandResult {
        if let m = memory, m.busy > 0 { m.busy -= 1; return .check(.becomingReady) }   // after a flash
        return mediumLoaded && !trayOpen ? .good() : noMedium()
    }

    func inquiry(_ cdb: CDB, _ t: DataTransfer) -> CommandResult {
        let b = cdb.bytes
        let alloc = allocation16(cdb, 3)
        if b[1] & 1 == 0 {
            guard b[2] == 0 else { return .check(.invalidFieldInCDB) }
            let i = profile.inquiry
            return dataIn(InquiryData.encode(vendor: i.vendor, product: i.product, revision: currentRevision,
                                             vendorSpecific: i.vendorSpecific ?? "", deviceType: i.deviceType ?? 5,
                                             version: i.version ?? 0), alloc, t)
        }
        var pages: [UInt8] = [0x00]
        if profile.serial != nil { pages.append(0x80) }
        switch b[2] {
        case 0x00:
            return dataIn([UInt8(profile.inquiry.deviceType ?? 5), 0, 0, UInt8(pages.count)] + pages, alloc, t)
        case 0x80 where profile.serial != nil:
            let s = Array((profile.serial ?? "").utf8.prefix(251))
            return dataIn([UInt8(profile.inquiry.deviceType ?? 5), 0x80, 0, UInt8(s.count)] + s, alloc, t)
        default:
            return .check(.invalidFieldInCDB)
        }
    }

    func startStop(_ cdb: CDB) -> CommandResult {
        let b = cdb.bytes
        let start = b[4] & 1 != 0, loej = b[4] & 2 != 0
        guard loej else { return .good() }
        if start {
            trayOpen = false
            mediumLoaded = profile.medium != nil && mediumLoaded
        } else {
            trayOpen = true
            mediumLoaded = false
        }
        return .good()
    }

    /// Features derived from the profiles, as a real drive of that kind reports them.
    func features() -> [(code: Int, current: Bool, data: [UInt8])] {
        let codes = Set(profileCodes)
        let mp = mediumProfile
        func cur(_ ps: [Int]) -> Bool { mp.map { ps.contains($0) } ?? false }
        let iface: UInt8 = profile.interface?.lowercased() == "usb" ? 0x08 : 0x02  // 8 = USB, 2 = ATAPI
        var f: [(Int, Bool, [UInt8])] = [
            (0x0001, true, [0, 0, 0, iface, 0x01, 0, 0, 0]),        // Core: physical interface, DBE
            (0x0002, true, [0x02, 0, 0, 0]),                        // Morphing: OCEvent
            (0x0003, true, [0x29, 0, 0, 0]),                        // Removable Medium: tray, eject, lock
        ]
        let cds = [0x08, 0x09, 0x0A], dvds = [0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x1A, 0x1B, 0x2A, 0x2B], bds = [0x40, 0x41, 0x42, 0x43]
        if !codes.isDisjoint(with: cds) { f.append((0x001E, cur(cds), [0x03, 0, 0, 0])) }
        if !codes.isDisjoint(with: dvds) { f.append((0x001F, cur(dvds), [0x01, 0, 0x01, 0])) }
        if !codes.isDisjoint(with: bds) { f.append((0x0040, cur(bds), [UInt8](repeating: 0, count: 28))) }
        if codes.contains(0x09) || codes.contains(0x0A) {
            f.append((0x002D, cur([0x09, 0x0A]), [0x46, 0, 0, 0]))  // CD TAO: BUF, test write, CD-RW
            f.append((0x002E, cur([0x09, 0x0A]), [0x7F, 0, 0x09, 0x74]))  // CD Mastering
        }
        if codes.contains(0x11) || codes.contains(0x14) { f.append((0x002F, cur([0x11, 0x13, 0x14, 0x15]), [0x4E, 0, 0, 0])) }
        if codes.contains(0x1A) { f.append((0x002A, cur([0x1A]), [0x01, 0, 0, 0])) }
        if codes.contains(0x1B) { f.append((0x002B, cur([0x1B]), [0x01, 0, 0, 0])) }
        if codes.contains(0x2B) { f.append((0x003B, cur([0x2B]), [0x01, 0, 0, 0])) }
        if codes.contains(0x41) || codes.contains(0x43) { f.append((0x0041, cur([0x41, 0x42, 0x43]), [UInt8](repeating: 0, count: 28))) }
        f.append((0x0100, true, []))                                  // Power Management
        f.append((0x0104, true, [0, 0, 0, 0]))                        // Microcode Upgrade
        if !codes.isDisjoint(with: dvds) { f.append((0x0106, true, [0, 0, 0, 0x01])) }  // DVD CSS
        if let date = profile.firmwareInformation {
            f.append((0x010C, true, Array(date.utf8) + [0, 0]))   // Firmware Information: CCYYMMDDHHMISS, 2 reserved
        }
        if let s = profile.serial {
            var d = Array(s.utf8.prefix(64))
            while d.count % 4 != 0 { d.append(0x20) }
            f.append((0x0108, true, d))
        }
        return f.map { (code: $0.0, current: $0.1, data: $0.2) }
    }

    func getConfiguration(_ cdb: CDB, _ t: DataTransfer) -> CommandResult {
        let b = cdb.bytes
        let rt = b[1] & 3
        let start = Int(b[2]) << 8 | Int(b[3])
        guard rt != 3 else { return .check(.invalidFieldInCDB) }
        let cur = mediumProfile ?? 0
        var feats = features()
        var includeProfiles = start == 0
        switch rt {
        case 1: feats = feats.filter { $0.current && $0.code >= start }
        case 2: feats = feats.filter { $0.code == start }; includeProfiles = start == 0
        default: feats = feats.filter { $0.code >= start }
        }
        var full = FeatureConfiguration.encode(currentProfile: cur, profiles: includeProfiles ? profileCodes : [], extraFeatures: feats)
        if !includeProfiles {
            // Drop the profile list descriptor (always the first one after the header).
            let listLen = 4 + Int(full[11])
            full.removeSubrange(8..<(8 + listLen))
            let len = full.count - 4
            full.replaceSubrange(0..<4, with: Bytes.encodeBE(UInt64(len), count: 4))
        }
        return dataIn(full, allocation16(cdb, 7), t)
    }

    func modeSense(_ cdb: CDB, _ t: DataTransfer) -> CommandResult {
        let page = cdb.bytes[2] & 0x3F
        let pc = cdb.bytes[2] >> 6
        guard page == 0x2A || page == 0x3F, pc != 3, let c = profile.capabilities else { return .check(.invalidFieldInCDB) }
        var data = CapabilitiesPage.encode(reads: c.reads, writes: c.writes, testWrite: c.testWrite ?? false,
                                           bufferKB: c.bufferKB ?? 0, writeSpeedsKBs: offeredSpeeds)
        // The obsolete maximum write speed field (page bytes 18-19) keeps the drive's own maximum; the descriptors
        // and the current write speed follow the loaded disc, as MMC has them.
        let maxW = max(c.writeSpeedsKBs?.max() ?? 0, offeredSpeeds.max() ?? 0)
        data[8 + 18] = UInt8((maxW >> 8) & 0xFF); data[8 + 19] = UInt8(maxW & 0xFF)
        return dataIn(data, allocation16(cdb, 7), t)
    }

    /// The write speeds offered now: the loaded disc's, else the drive's capabilities.
    var offeredSpeeds: [Int] {
        if mediumLoaded, let m = profile.medium?.writeSpeedsKBs { return m }
        return profile.capabilities?.writeSpeedsKBs ?? []
    }

    /// GET PERFORMANCE type 03h: an 8-byte header, then one 16-byte write speed descriptor per offered speed (CLV,
    /// exact, end LBA = the disc's last possible lead-out). Other types are not emulated.
    func getPerformance(_ cdb: CDB, _ t: DataTransfer) -> CommandResult {
        guard mediumLoaded && !trayOpen else { return noMedium() }
        let b = cdb.bytes
        guard b.count == 12, b[10] == 0x03, profile.medium?.getPerformance ?? true else { return .check(.invalidFieldInCDB) }
        let maxDesc = Int(b[8]) << 8 | Int(b[9])
        let speeds = Array(offeredSpeeds.sorted(by: >).prefix(maxDesc))
        var endLBA = 0
        if let a = profile.medium?.atip, let lo = DriveProfile.msf(a.leadOut) { endLBA = (Int(lo.0) * 60 + Int(lo.1)) * 75 + Int(lo.2) - 150 }
        var d = Bytes.encodeBE(UInt64(4 + 16 * speeds.count), count: 4) + [0, 0, 0, 0]
        for s in speeds {
            d += [0x02, 0, 0, 0] + Bytes.encodeBE(UInt64(endLBA), count: 4) + Bytes.encodeBE(UInt64(s), count: 4) + Bytes.encodeBE(UInt64(s), count: 4)
        }
        return dataIn(d, Int.max, t)
    }

    func reportKey(_ cdb: CDB, _ t: DataTransfer) -> CommandResult {
        let fmt = cdb.bytes[10] & 0x3F
        guard fmt == 0x08, let r = rpc else { return .check(.invalidFieldInCDB) }  // RPC-I: format 08h not supported
        let mask = r.region == 0 ? 0xFF : (0xFF & ~(1 << (r.region - 1)))
        let s = RPCState(typeCode: r.typeCode, vendorResetsLeft: r.vendorResetsLeft, userChangesLeft: r.userChangesLeft,
                         regionMask: mask, scheme: 1)
        return dataIn(s.encode(), allocation16(cdb, 8), t)
    }

    /// SEND KEY format 06h: sets the drive region, spending one user change.
    func sendKey(_ cdb: CDB, _ t: DataTransfer) -> CommandResult {
        let fmt = cdb.bytes[10] & 0x3F
        guard fmt == 0x06, var r = rpc else { return .check(.invalidFieldInCDB) }
        guard case let .toDevice(p) = t, p.count >= 8, allocation16(cdb, 8) >= 8 else { return .check(.invalidFieldInParameterList) }
        let mask = Int(p[4])
        let clear = (0..<8).filter { mask & (1 << $0) == 0 }
        guard clear.count == 1 else { return .check(.invalidFieldInParameterList) }  // exactly one region per RPC-II
        guard r.userChangesLeft > 0, r.typeCode != 3 else { return .check(.regionResetCountError) }
        r.region = clear[0] + 1
        r.userChangesLeft -= 1
        r.typeCode = r.userChangesLeft == 0 ? 3 : (r.userChangesLeft == 1 ? 2 : 1)
        rpc = r
        return .good()
    }

    /// READ DISC STRUCTURE for the loaded medium: PFI (00h), ADIP (11h), pre-pit (0Eh) on DVD; disc information on BD.
    func readDiscStructure(_ cdb: CDB, _ t: DataTransfer) -> CommandResult {
        guard mediumLoaded && !trayOpen else { return noMedium() }
        let b = cdb.bytes
        let mediaType = b[1] & 0x0F, format = b[7]
        let alloc = allocation16(cdb, 8)
        guard let m = profile.medium, let p = mediumProfile else { return .check(.invalidFieldInCDB) }
        let plus: Set<Int> = [0x1A, 0x1B, 0x2A, 0x2B], dash: Set<Int> = [0x11, 0x13, 0x14, 0x15, 0x16], bd: Set<Int> = [0x41, 0x42, 0x43]
        func ascii(_ s: String, _ n: Int, pad: UInt8 = 0) -> [UInt8] { let u = Array(s.utf8.prefix(n)); return u + [UInt8](repeating: pad, count: n - u.count) }
        func withHeader(_ payload: [UInt8]) -> [UInt8] { [UInt8((payload.count + 2) >> 8), UInt8((payload.count + 2) & 0xFF), 0, 0] + payload }
        switch (mediaType, format) {
        case (0, 0x00) where plus.contains(p) || dash.contains(p) || p == 0x10:
            var pfi = [UInt8](repeating: 0, count: 2048)
            pfi[0] = UInt8(m.bookType ?? (p == 0x1B ? 0xA1 : p == 0x1A ? 0x92 : p == 0x2B ? 0xE1 : dash.contains(p) ? 0x20 : 0x01))
            if plus.contains(p), let id = m.mediaID {
                pfi.replaceSubrange(19..<27, with: ascii(id.mid, 8))
                pfi.replaceSubrange(27..<30, with: ascii(id.tid ?? "", 3))
                pfi[30] = UInt8(truncatingIfNeeded: id.rid ?? 0)
            }
            return dataIn(withHeader(pfi), alloc, t)
        case (0, 0x11) where plus.contains(p):
            guard m.adipFormat11 ?? true, let id = m.mediaID else { return .check(.invalidFieldInCDB) }
            var adip = [UInt8](repeating: 0, count: 256)
            adip[0] = UInt8(m.bookType ?? 0xA1)
            adip.replaceSubrange(19..<27, with: ascii(id.mid, 8))
            adip.replaceSubrange(27..<30, with: ascii(id.tid ?? "", 3))
            adip[30] = UInt8(truncatingIfNeeded: id.rid ?? 0)
            return dataIn(withHeader(adip), alloc, t)
        case (0, 0x0E) where dash.contains(p):
            guard let id = m.mediaID else { return .check(.invalidFieldInCDB) }
            var pp = [UInt8](repeating: 0, count: 40)
            let idb = ascii(id.mid, 18)
            pp[16] = 3; pp.replaceSubrange(17..<23, with: idb[0..<6])
            pp[24] = 4; pp.replaceSubrange(25..<31, with: idb[6..<12])
            if p == 0x11 || p == 0x15 || p == 0x16 { pp[32] = 5; pp.replaceSubrange(33..<39, with: idb[12..<18]) }
            return dataIn(withHeader(pp), alloc, t)
        case (1, 0x00) where bd.contains(p):
            guard let id = m.mediaID else { return .check(.invalidFieldInCDB) }
            var di = [UInt8](repeating: 0, count: 112)
            di[0] = 0x44; di[1] = 0x49
            di.replaceSubrange(8..<11, with: ascii(p == 0x43 ? "BDW" : "BDR", 3))
            di.replaceSubrange(100..<106, with: ascii(id.mid, 6))
            di.replaceSubrange(106..<109, with: ascii(id.tid ?? "", 3))
            di[111] = UInt8(truncatingIfNeeded: id.rid ?? 0)
            return dataIn(withHeader(di), alloc, t)
        default:
            return .check(.invalidFieldInCDB)
        }
    }

    func readTOC(_ cdb: CDB, _ t: DataTransfer) -> CommandResult {
        guard mediumLoaded && !trayOpen else { return noMedium() }
        let fmt = cdb.bytes[2] & 0x0F
        let alloc = allocation16(cdb, 7)
        switch fmt {
        case 0x04:
            guard let a = profile.medium?.atip, let li = DriveProfile.msf(a.leadIn), let lo = DriveProfile.msf(a.leadOut),
                  let p = mediumProfile, p == 0x09 || p == 0x0A else { return .check(.invalidFieldInCDB) }
            // 4-byte header + 28-byte ATIP descriptor (MMC): byte 4 = 1, writing power (bits 6-4), reference speed
            // (2-0); 5 unrestricted use (bit 6); 6 = 1, disc type (bit 6), sub-type (5-3), A1/A2/A3 valid (2-0);
            // lead-in at 8-10, last lead-out at 12-14, A1 at 16-18.
            var d = [UInt8](repeating: 0, count: 32)
            d[1] = 30
            d[4] = 0x80 | UInt8(((a.writingPower ?? 5) & 7) << 4) | UInt8((a.referenceSpeed ?? 0) & 7)
            d[5] = (a.unrestrictedUse ?? false) ? 0x40 : 0
            d[6] = 0x80 | (p == 0x0A ? 0x40 : 0) | UInt8(((a.subType ?? 0) & 7) << 3)
            d[8] = li.0; d[9] = li.1; d[10] = li.2
            d[12] = lo.0; d[13] = lo.1; d[14] = lo.2
            if let a1 = a.a1.flatMap(Bytes.parseHex), a1.count == 3 { d[6] |= 0x04; d.replaceSubrange(16..<19, with: a1) }
            return dataIn(d, alloc, t)
        default:
            // A blank recordable disc has no TOC.
            return .check(.invalidFieldInCDB)
        }
    }
}
