import SCSI

/// Public facts about ATIP fields that the MMC layout alone does not name.
public enum ATIPFacts {
    /// Lead-in frame digit: 0-4 long strategy (cyanine, azo), 5-9 short strategy (phthalocyanine) — the convention
    /// cdrkit's diskid.c, libburn and qpxtool print with the manufacturer.
    public static func isShortStrategy(frame: UInt8) -> Bool { frame % 10 >= 5 }

    public static func dye(frame: UInt8) -> String {
        isShortStrategy(frame: frame) ? "short strategy (phthalocyanine or similar)" : "long strategy (cyanine, azo or similar)"
    }

    /// The dye class of a CD-R media code "MM:SS:FF" (nil when it is not one).
    public static func dye(code: String) -> String? {
        let p = code.split(separator: ":").compactMap { UInt8($0) }
        guard p.count == 3, p[2] < 75 else { return nil }
        return dye(frame: p[2])
    }

    /// LBA of an absolute CD time (the lead-in's 9x minutes are negative addresses).
    public static func lba(_ m: UInt8, _ s: UInt8, _ f: UInt8) -> Int {
        let frames = (Int(m) * 60 + Int(s)) * 75 + Int(f)
        return m >= 90 ? frames - 450_150 : frames - 150
    }

    /// The nominal capacity a last possible lead-out start stands for: the largest standard size (63, 74, 80, 90,
    /// 99 minutes) not above the lead-out minute + 1 (an 80-minute disc's lead-out starts at 79:59:xx, a 74-minute
    /// disc's at 74:xx).
    public static func nominalMinutes(leadOutMinutes m: Int) -> Int {
        [99, 90, 80, 74, 63, 21, 18].first { $0 <= m + 1 } ?? m
    }

    /// Orange Book sub-types as cdrecord and aaru-dps/Aaru (ATIP.cs Prettify) name them.
    public static func subType(_ n: Int, rewritable: Bool) -> String {
        let beta = [4: "medium type B, low beta (B-)", 5: "medium type B, high beta (B+)",
                    6: "medium type C, low beta (C-)", 7: "medium type C, high beta (C+)"]
        if let b = beta[n] { return b }
        if rewritable { return [0: "standard speed CD-RW", 1: "High Speed CD-RW", 2: "Ultra Speed CD-RW", 3: "Ultra Speed+ CD-RW"][n] ?? "sub-type \(n)" }
        return [0: "normal speed (CLV)", 1: "high speed (CAV)", 2: "medium type A, low beta (A-)", 3: "medium type A, high beta (A+)"][n] ?? "sub-type \(n)"
    }

    /// libburn's speed codes for the reference speed and the A1 speed nibbles (libburn mmc.c, mmc_read_atip; its
    /// comment calls the codes above 8 hearsay, and code 4 is 8x in MMC-1 where libburn has 10x).
    static let speedCodes: [Int: String] = [1: "2x", 2: "4x", 3: "6x", 4: "8x or 10x (sources differ)", 6: "16x",
                                            8: "24x", 9: "32x", 10: "40x", 11: "48x"]
    public static func speed(_ code: Int) -> String? { speedCodes[code] }

    /// A1 byte 0: lowest recording speed in bits 6-4, highest in bits 3-0 (libburn's reading).
    public static func a1Range(_ v: UInt8) -> String? {
        let lo = speed(Int((v >> 4) & 0x07)), hi = speed(Int(v & 0x0F))
        switch (lo, hi) {
        case let (l?, h?): return "\(l) to \(h)"
        case let (l?, nil): return "from \(l)"
        case let (nil, h?): return "up to \(h)"
        default: return nil
        }
    }
}

/// The write speeds a drive offers for the loaded disc: GET PERFORMANCE type 03h (write speed descriptors) and the
/// write speed descriptors of mode page 2Ah. Both are the drive's own answer for this disc; a firmware that does not
/// know a disc's ID usually offers fewer or lower speeds, so they are evidence, never proof.
public struct WriteSpeeds: Sendable, Codable, Equatable {
    public struct Descriptor: Sendable, Codable, Equatable {
        /// Write rotation control: "CLV" (00b) or "CAV" (01b); other values are reserved.
        public let rotation: String
        /// The descriptor's speeds hold exactly for the current disc (Exact bit).
        public let exact: Bool
        public let endLBA: Int
        public let readKBs: Int
        public let writeKBs: Int
    }
    /// GET PERFORMANCE type 03h descriptors, fastest write first; nil when the drive refused or failed it.
    public var getPerformance: [Descriptor]?
    /// Mode page 2Ah: the write speed descriptors (kB/s, fastest first) and the obsolete maximum write speed field.
    public var modePage: [Int]?
    public var modePageMaxKBs: Int?
    /// kB/s of 1x for the disc's kind (CD 176.4, DVD 1385, BD 4495), to show speeds as multiples.
    public var unitKBs: Double
    public var notes: [String] = []

    public init(unitKBs: Double) { self.unitKBs = unitKBs }

    /// 1x in kB/s for an MMC profile (CD 176.4 kB/s, DVD 1385 kB/s, BD 4495 kB/s).
    public static func unit(profile: Int) -> Double {
        switch profile {
        case 0x08...0x0A: return 176.4
        case 0x40...0x4F: return 4495
        default: return 1385
        }
    }

    /// "24x" for 4234 kB/s on a CD.
    public func multiple(_ kBs: Int) -> String {
        let x = (Double(kBs) / unitKBs * 10).rounded() / 10
        return x == x.rounded() ? "\(Int(x))x" : "\(x)x"
    }

    /// The distinct write speeds offered, fastest first (GET PERFORMANCE when it answered, else the mode page).
    public var offeredKBs: [Int] {
        let all = getPerformance.map { $0.map(\.writeKBs) } ?? modePage ?? []
        var seen = Set<Int>()
        return all.filter { $0 > 0 && seen.insert($0).inserted }.sorted(by: >)
    }

    /// GET PERFORMANCE type 03h answer: an 8-byte header (0-3 performance data length, counting from byte 4; 4 Write
    /// and Except bits), then 16-byte write speed descriptors: byte 0 WRC (bits 4-3), RDD, Exact (bit 1), MRW;
    /// 4-7 end LBA; 8-11 read speed; 12-15 write speed (kB/s). MMC-5 GET PERFORMANCE; the same layout is
    /// Windows' CDROM_WRITE_SPEED_DESCRIPTOR (MicrosoftDocs windows-driver-docs-ddi ntddcdrm).
    public static func parseGetPerformance(_ b: [UInt8]) throws(ParseError) -> [Descriptor] {
        guard b.count >= 8, let len = Bytes.be32(b, 0) else { throw .truncated(needed: 8, have: b.count) }
        guard len >= 4 else { throw .invalid("GET PERFORMANCE header declares \(len) bytes (at least 4 expected)") }
        guard (len - 4) % 16 == 0 else { throw .invalid("GET PERFORMANCE data length \(len) is not a 4-byte header plus 16-byte descriptors") }
        let end = min(b.count, len + 4)
        var out: [Descriptor] = []
        var i = 8
        while i + 16 <= end {
            let wrc = (b[i] >> 3) & 0x03
            out.append(Descriptor(rotation: wrc == 0 ? "CLV" : wrc == 1 ? "CAV" : "reserved (\(wrc))", exact: b[i] & 0x02 != 0,
                                  endLBA: Bytes.be32(b, i + 4) ?? 0, readKBs: Bytes.be32(b, i + 8) ?? 0, writeKBs: Bytes.be32(b, i + 12) ?? 0))
            i += 16
        }
        return out.sorted { $0.writeKBs > $1.writeKBs }
    }
}
