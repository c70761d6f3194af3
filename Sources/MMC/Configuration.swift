import SCSI

/// GET CONFIGURATION response: 8-byte header (data length, current profile), then feature descriptors.
public struct FeatureConfiguration: Equatable, Sendable {
    public struct Feature: Equatable, Sendable {
        public let code: Int
        public let version: Int
        public let persistent: Bool
        public let current: Bool
        public let data: [UInt8]
    }
    public struct Profile: Equatable, Sendable, Codable {
        public let code: Int
        public let current: Bool
        public var name: String { MMCProfile.name(code) }
    }

    public let currentProfile: Int
    public let features: [Feature]

    public init(bytes b: [UInt8]) throws(ParseError) {
        guard b.count >= 8, let len = Bytes.be32(b, 0), let cur = Bytes.be16(b, 6) else {
            throw ParseError.truncated(needed: 8, have: b.count)
        }
        // Data length counts the bytes after itself; never trust it beyond what arrived.
        let end = min(b.count, 4 + len)
        currentProfile = cur
        var feats: [Feature] = []
        var i = 8
        while i + 4 <= end {
            let code = Int(b[i]) << 8 | Int(b[i + 1])
            let addl = Int(b[i + 3])
            guard i + 4 + addl <= end else { break }
            feats.append(Feature(code: code, version: Int(b[i + 2] >> 2) & 0x0F, persistent: b[i + 2] & 2 != 0,
                                 current: b[i + 2] & 1 != 0, data: Array(b[(i + 4)..<(i + 4 + addl)])))
            i += 4 + addl
        }
        features = feats
    }

    /// Profiles from feature 0000h (4 bytes each: profile number, current bit).
    public var profiles: [Profile] {
        guard let f = features.first(where: { $0.code == 0 }) else { return [] }
        var out: [Profile] = []
        var i = 0
        while i + 4 <= f.data.count {
            let code = Int(f.data[i]) << 8 | Int(f.data[i + 1])
            out.append(Profile(code: code, current: f.data[i + 2] & 1 != 0))
            i += 4
        }
        return out
    }

    public func has(_ code: Int) -> Bool { features.contains { $0.code == code } }

    /// Builds a response (the emulator's answer). Feature 0000h lists the profiles; others are given.
    public static func encode(currentProfile: Int, profiles: [Int], extraFeatures: [(code: Int, current: Bool, data: [UInt8])]) -> [UInt8] {
        var body: [UInt8] = []
        var list: [UInt8] = []
        for p in profiles.sorted(by: >) {
            list += [UInt8(p >> 8), UInt8(p & 0xFF), p == currentProfile ? 1 : 0, 0]
        }
        body += [0, 0, 0x03, UInt8(list.count)] + list
        for f in extraFeatures.sorted(by: { $0.code < $1.code }) {
            body += [UInt8(f.code >> 8), UInt8(f.code & 0xFF), (f.current ? 1 : 0) | 2, UInt8(f.data.count)] + f.data
        }
        let len = body.count + 4
        return Bytes.encodeBE(UInt64(len), count: 4) + [0, 0, UInt8(currentProfile >> 8), UInt8(currentProfile & 0xFF)] + body
    }
}

/// Mode page 2Ah, the CD/DVD capabilities and mechanical status page.
public struct CapabilitiesPage: Equatable, Sendable, Codable {
    public let reads: [String]
    public let writes: [String]
    public let testWrite: Bool
    public let bufferUnderrunProtection: Bool
    public let bufferSizeKB: Int?
    public let loadingMechanism: String
    public let maxWriteSpeedKBs: Int?
    public let currentWriteSpeedKBs: Int?
    public let writeSpeedsKBs: [Int]

    static let loading = ["caddy", "tray", "pop-up", "reserved", "changer (individual discs)",
                          "changer (magazine)", "reserved", "reserved"]

    /// `b` is the whole MODE SENSE(10) response: 8-byte header, block descriptors, then the page.
    public init(modeSense10 b: [UInt8]) throws(ParseError) {
        guard b.count >= 8, let dataLen = Bytes.be16(b, 0), let bdLen = Bytes.be16(b, 6) else {
            throw ParseError.truncated(needed: 8, have: b.count)
        }
        let end = min(b.count, dataLen + 2)
        let p = 8 + bdLen
        guard p + 2 <= end, b[p] & 0x3F == 0x2A else { throw ParseError.invalid("mode page 2Ah not present in the MODE SENSE response") }
        let pageLen = Int(b[p + 1])
        let page = Array(b[p..<min(end, p + 2 + pageLen)])
        guard page.count >= 16 else { throw ParseError.truncated(needed: p + 16, have: end) }
        let r = page[2], w = page[3]
        var reads: [String] = []
        for (bit, name) in [(0, "CD-R"), (1, "CD-RW"), (3, "DVD-ROM"), (4, "DVD-R"), (5, "DVD-RAM")] where r & (1 << bit) != 0 {
            reads.append(name)
        }
        var writes: [String] = []
        for (bit, name) in [(0, "CD-R"), (1, "CD-RW"), (4, "DVD-R"), (5, "DVD-RAM")] where w & (1 << bit) != 0 {
            writes.append(name)
        }
        self.reads = reads
        self.writes = writes
        testWrite = w & 0x04 != 0
        bufferUnderrunProtection = page[4] & 0x80 != 0
        loadingMechanism = CapabilitiesPage.loading[Int(page[6] >> 5)]
        bufferSizeKB = Bytes.be16(page, 12).flatMap { $0 == 0 ? nil : $0 }
        maxWriteSpeedKBs = Bytes.be16(page, 18).flatMap { $0 == 0 ? nil : $0 }
        currentWriteSpeedKBs = page.count >= 30 ? Bytes.be16(page, 28).flatMap { $0 == 0 ? nil : $0 } : nil
        var speeds: [Int] = []
        if page.count >= 32, let n = Bytes.be16(page, 30) {
            for i in 0..<n {
                guard let s = Bytes.be16(page, 32 + 4 * i + 2) else { break }
                speeds.append(s)
            }
        }
        writeSpeedsKBs = speeds
    }

    /// Builds a MODE SENSE(10) response carrying page 2Ah.
    public static func encode(reads: [String], writes: [String], testWrite: Bool, bufferKB: Int, loadingTray: Bool = true,
                              writeSpeedsKBs: [Int]) -> [UInt8] {
        var page = [UInt8](repeating: 0, count: 32)
        page[0] = 0x2A
        for (bit, name) in [(0, "CD-R"), (1, "CD-RW"), (3, "DVD-ROM"), (4, "DVD-R"), (5, "DVD-RAM")] where reads.contains(name) {
            page[2] |= 1 << bit
        }
        for (bit, name) in [(0, "CD-R"), (1, "CD-RW"), (4, "DVD-R"), (5, "DVD-RAM")] where writes.contains(name) {
            page[3] |= 1 << bit
        }
        if testWrite { page[3] |= 0x04 }
        page[4] = writes.isEmpty ? 0 : 0x80
        page[6] = loadingTray ? 0x29 : 0x09
        page[12] = UInt8((bufferKB >> 8) & 0xFF); page[13] = UInt8(bufferKB & 0xFF)
        let maxW = writeSpeedsKBs.max() ?? 0
        page[18] = UInt8((maxW >> 8) & 0xFF); page[19] = UInt8(maxW & 0xFF)
        page[28] = page[18]; page[29] = page[19]
        page[30] = UInt8(writeSpeedsKBs.count >> 8); page[31] = UInt8(writeSpeedsKBs.count & 0xFF)
        for s in writeSpeedsKBs.sorted(by: >) { page += [0, 0, UInt8((s >> 8) & 0xFF), UInt8(s & 0xFF)] }
        page[1] = UInt8(page.count - 2)
        let total = 8 + page.count
        return [UInt8((total - 2) >> 8), UInt8((total - 2) & 0xFF), 0, 0, 0, 0, 0, 0] + page
    }
}

/// RPC (region) state from REPORT KEY key format 08h.
public struct RPCState: Equatable, Sendable, Codable {
    public let typeCode: Int
    public let vendorResetsLeft: Int
    public let userChangesLeft: Int
    public let regionMask: Int
    public let scheme: Int

    public static let typeNames = ["no region set", "region set", "last chance (one change left)", "region permanent"]

    public init(typeCode: Int, vendorResetsLeft: Int, userChangesLeft: Int, regionMask: Int, scheme: Int) {
        self.typeCode = typeCode; self.vendorResetsLeft = vendorResetsLeft; self.userChangesLeft = userChangesLeft
        self.regionMask = regionMask; self.scheme = scheme
    }

    public init(bytes b: [UInt8]) throws(ParseError) {
        guard b.count >= 8 else { throw ParseError.truncated(needed: 8, have: b.count) }
        guard let len = Bytes.be16(b, 0), len >= 6 else { throw ParseError.invalid("REPORT KEY RPC state: data length \(Bytes.be16(b, 0) ?? 0) is less than 6") }
        typeCode = Int(b[4] >> 6)
        vendorResetsLeft = Int(b[4] >> 3) & 7
        userChangesLeft = Int(b[4]) & 7
        regionMask = Int(b[5])
        scheme = Int(b[6])
    }

    /// Bit n clear = region n+1 playable.
    public var playableRegions: [Int] { (0..<8).filter { regionMask & (1 << $0) == 0 }.map { $0 + 1 } }
    public var typeName: String { RPCState.typeNames[typeCode & 3] }
    public var schemeName: String {
        switch scheme {
        case 0: return "unknown (not RPC-II)"
        case 1: return "RPC Phase II"
        default: return "reserved (\(scheme))"
        }
    }
    public var regionDescription: String {
        if regionMask == 0xFF { return "no region set" }
        let r = playableRegions
        return r.isEmpty ? "none" : r.map(String.init).joined(separator: ",")
    }

    public func encode() -> [UInt8] {
        [0, 6, 0, 0, UInt8((typeCode & 3) << 6 | (vendorResetsLeft & 7) << 3 | (userChangesLeft & 7)),
         UInt8(regionMask & 0xFF), UInt8(scheme & 0xFF), 0]
    }
}
