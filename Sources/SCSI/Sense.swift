// Sense data: fixed (70h/71h) and descriptor (72h/73h) formats, decoded with the T10 tables.

/// The 16 sense keys (SPC), as data.
public enum SenseKeyTable {
    public static let names: [String] = [
        "No Sense", "Recovered Error", "Not Ready", "Medium Error", "Hardware Error", "Illegal Request",
        "Unit Attention", "Data Protect", "Blank Check", "Vendor Specific", "Copy Aborted", "Aborted Command",
        "Equal", "Volume Overflow", "Miscompare", "Completed",
    ]
    public static func name(_ key: UInt8) -> String { names[Int(key & 0x0F)] }
    /// The key a name stands for, as the kernel and cdrecord print it ("Medium Error", "medium error"); nil otherwise.
    public static func code(named n: String) -> UInt8? {
        let want = n.lowercased().split(separator: " ").joined(separator: " ")
        return names.firstIndex { $0.lowercased() == want }.map { UInt8($0) }
    }
}

/// The T10 ASC/ASCQ list, parsed once from `source` (see ASCTableData.swift).
public enum ASCTable {
    struct Range { let asc: UInt8; let lo: UInt8; let hi: UInt8; let format: String }

    struct Parsed: Sendable {
        let exact: [UInt16: String]
        let ranges: [Range]
    }

    static let parsed: Parsed = {
        var exact: [UInt16: String] = [:]
        var ranges: [Range] = []
        for line in source.split(separator: "\n") {
            let cols = line.split(separator: "\t", maxSplits: 2).map(String.init)
            guard cols.count == 3, let asc = UInt8(cols[0], radix: 16) else { continue }
            if cols[1].contains("-") {
                let lh = cols[1].split(separator: "-")
                if lh.count == 2, let lo = UInt8(lh[0], radix: 16), let hi = UInt8(lh[1], radix: 16) {
                    ranges.append(Range(asc: asc, lo: lo, hi: hi, format: cols[2]))
                }
            } else if let q = UInt8(cols[1], radix: 16) {
                exact[UInt16(asc) << 8 | UInt16(q)] = cols[2]
            }
        }
        return Parsed(exact: exact, ranges: ranges)
    }()

    public static var count: Int { parsed.exact.count }
    public static var rangeCount: Int { parsed.ranges.count }

    /// The T10 text for an ASC/ASCQ pair; nil when T10 lists nothing for it.
    public static func lookup(asc: UInt8, ascq: UInt8) -> String? {
        if let s = parsed.exact[UInt16(asc) << 8 | UInt16(ascq)] { return s }
        if let r = parsed.ranges.first(where: { $0.asc == asc && ascq >= $0.lo && ascq <= $0.hi }) {
            return r.format.replacingOccurrences("%02X", Hex.byte(ascq) + "h")
        }
        return nil
    }

    /// The ASC/ASCQ whose T10 text is `text` (any case, as kernel and ImgBurn logs print it); the first when T10 uses a
    /// text twice.
    public static func code(described text: String) -> (UInt8, UInt8)? {
        let want = text.lowercased().split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
        guard !want.isEmpty else { return nil }
        return describedIndex[want].map { (UInt8($0 >> 8), UInt8($0 & 0xFF)) }
    }

    static let describedIndex: [String: UInt16] = {
        var d: [String: UInt16] = [:]
        for (k, v) in parsed.exact.sorted(by: { $0.key < $1.key }) where d[v.lowercased()] == nil { d[v.lowercased()] = k }
        return d
    }()

    /// Always a description: the T10 text, or what the code space says (vendor specific / reserved).
    public static func describe(asc: UInt8, ascq: UInt8) -> String {
        if let s = lookup(asc: asc, ascq: ascq) { return s }
        if asc >= 0x80 { return "Vendor specific ASC \(Hex.byte(asc))h, ASCQ \(Hex.byte(ascq))h" }
        if ascq >= 0x80 { return "Vendor specific ASCQ \(Hex.byte(ascq))h for ASC \(Hex.byte(asc))h" }
        return "Reserved ASC/ASCQ \(Hex.byte(asc))h/\(Hex.byte(ascq))h (not in the T10 list)"
    }
}

public struct SenseData: Equatable, Sendable, CustomStringConvertible {
    public enum Format: String, Sendable { case fixed, descriptor }

    public let format: Format
    public let current: Bool        // 70h/72h current, 71h/73h deferred
    public let key: UInt8
    public let asc: UInt8
    public let ascq: UInt8
    public let information: UInt64?
    public let commandSpecific: UInt32?
    public let fru: UInt8
    public let senseKeySpecific: [UInt8]?  // 3 bytes when SKSV is set
    public let filemark: Bool
    public let eom: Bool
    public let ili: Bool
    public let raw: [UInt8]

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case empty
        case unknownFormat(UInt8)
        case tooShort(Int)
        public var description: String {
            switch self {
            case .empty: return "no sense data"
            case let .unknownFormat(rc): return "unknown sense data format: response code \(Hex.byte(rc))h (expected 70h-73h)"
            case let .tooShort(n): return "sense data too short (\(n) bytes) for its format"
            }
        }
    }

    /// Builds sense from its key fields (fixed format), as a device would send it.
    public init(key: UInt8, asc: UInt8, ascq: UInt8, current: Bool = true) {
        var b = [UInt8](repeating: 0, count: 18)
        b[0] = current ? 0x70 : 0x71
        b[2] = key & 0x0F
        b[7] = 10
        b[12] = asc
        b[13] = ascq
        try! self.init(bytes: b)
    }

    public init(bytes input: [UInt8]) throws(Failure) {
        guard let first = input.first else { throw Failure.empty }
        let rc = first & 0x7F
        switch rc {
        case 0x70, 0x71:
            // Fixed: byte 7 = additional length; ASC/ASCQ at 12/13. Key alone needs 3 bytes.
            guard input.count >= 3 else { throw Failure.tooShort(input.count) }
            let addl = input.count > 7 ? Int(input[7]) : 0
            let b = Array(input.prefix(min(input.count, 8 + addl)))
            format = .fixed
            current = rc == 0x70
            key = b[2] & 0x0F
            filemark = b[2] & 0x80 != 0
            eom = b[2] & 0x40 != 0
            ili = b[2] & 0x20 != 0
            asc = b.count > 12 ? b[12] : 0
            ascq = b.count > 13 ? b[13] : 0
            information = (first & 0x80 != 0) ? Bytes.be(b, 3, 4) : nil
            commandSpecific = Bytes.be(b, 8, 4).map { UInt32($0) }.flatMap { $0 == 0 ? nil : $0 }
            fru = b.count > 14 ? b[14] : 0
            senseKeySpecific = (b.count > 17 && b[15] & 0x80 != 0) ? [b[15] & 0x7F, b[16], b[17]] : nil
            raw = b
        case 0x72, 0x73:
            guard input.count >= 4 else { throw Failure.tooShort(input.count) }
            let addl = input.count > 7 ? Int(input[7]) : 0
            let b = Array(input.prefix(min(input.count, 8 + addl)))
            format = .descriptor
            current = rc == 0x72
            key = b[1] & 0x0F
            asc = b[2]
            ascq = b[3]
            var info: UInt64?, cmd: UInt32?, sks: [UInt8]?
            var fm = false, em = false, il = false, fruCode: UInt8 = 0
            var i = 8
            while i + 2 <= b.count {
                let type = b[i], len = Int(b[i + 1])
                let end = min(b.count, i + 2 + len)
                let d = Array(b[i..<end])
                switch type {
                case 0x00 where d.count >= 12: info = Bytes.be(d, 4, 8)
                case 0x01 where d.count >= 12: cmd = Bytes.be(d, 8, 4).map { UInt32($0) }
                case 0x02 where d.count >= 7 && d[4] & 0x80 != 0: sks = [d[4] & 0x7F, d[5], d[6]]
                case 0x03 where d.count >= 4: fruCode = d[3]
                case 0x04 where d.count >= 4: fm = d[3] & 0x80 != 0; em = d[3] & 0x40 != 0; il = d[3] & 0x20 != 0
                default: break
                }
                i += 2 + len
            }
            information = info; commandSpecific = cmd; senseKeySpecific = sks
            filemark = fm; eom = em; ili = il; fru = fruCode
            raw = b
        default:
            throw Failure.unknownFormat(first)
        }
    }

    public var keyName: String { SenseKeyTable.name(key) }
    public var ascDescription: String { ASCTable.describe(asc: asc, ascq: ascq) }
    /// "03/0C/00" — the form burners' logs and odflash use.
    public var triple: String { "\(Hex.byte(key))/\(Hex.byte(asc))/\(Hex.byte(ascq))" }
    public var description: String { "\(triple) \(keyName): \(ascDescription)" }

    /// Progress indication (sense-key specific, NOT READY or NO SENSE): fraction 0...1.
    public var progress: Double? {
        guard let s = senseKeySpecific, key == 0x02 || key == 0x00 else { return nil }
        return Double(Int(s[1]) << 8 | Int(s[2])) / 65536.0
    }
}
