import SCSI

// The checksum engine: every algorithm is data (unit, endianness, ranges, start value, transform, storage).

public enum WordUnit: String, Sendable, Equatable, CaseIterable {
    case u8, be16, le16, be32, le32

    public var size: Int {
        switch self {
        case .u8: return 1
        case .be16, .le16: return 2
        case .be32, .le32: return 4
        }
    }

    /// Reads one unit; the caller guarantees bounds.
    @inline(__always)
    func read(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> UInt64 {
        switch self {
        case .u8: return UInt64(p[i])
        case .be16: return UInt64(p[i]) << 8 | UInt64(p[i + 1])
        case .le16: return UInt64(p[i + 1]) << 8 | UInt64(p[i])
        case .be32: return UInt64(p[i]) << 24 | UInt64(p[i + 1]) << 16 | UInt64(p[i + 2]) << 8 | UInt64(p[i + 3])
        case .le32: return UInt64(p[i + 3]) << 24 | UInt64(p[i + 2]) << 16 | UInt64(p[i + 1]) << 8 | UInt64(p[i])
        }
    }

    /// The unit a numeric field encoding reads as; nil for text and hex fields.
    public init?(encoding: FieldEncoding) {
        switch encoding {
        case .be16: self = .be16
        case .le16: self = .le16
        case .be32: self = .be32
        case .le32: self = .le32
        default: return nil
        }
    }

    func read(_ b: [UInt8], _ i: Int) -> UInt64? {
        guard i >= 0, i + size <= b.count else { return nil }
        return b.withUnsafeBufferPointer { read($0, i) }
    }

    func write(_ v: UInt64, into b: inout [UInt8], at i: Int) {
        switch self {
        case .u8: b[i] = UInt8(truncatingIfNeeded: v)
        case .be16: b[i] = UInt8(truncatingIfNeeded: v >> 8); b[i + 1] = UInt8(truncatingIfNeeded: v)
        case .le16: b[i + 1] = UInt8(truncatingIfNeeded: v >> 8); b[i] = UInt8(truncatingIfNeeded: v)
        case .be32: for k in 0..<4 { b[i + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(3 - k))) }
        case .le32: for k in 0..<4 { b[i + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(k))) }
        }
    }
}

/// [start, end). A negative start counts from the end of the image; an end of 0 or less is relative to the end
/// (0 = the end itself, -2 = two bytes before it).
public struct ByteRange: Equatable, Sendable, CustomStringConvertible {
    public var start: Int
    public var end: Int
    public init(_ start: Int, _ end: Int) { self.start = start; self.end = end }

    public func resolved(size: Int) -> Range<Int>? {
        let s = start < 0 ? size + start : start, e = end <= 0 ? size + end : end
        guard s >= 0, e >= s, e <= size else { return nil }
        return s..<e
    }
    public var description: String { "[\(endRelativeOffset(start)), \(end == 0 ? "end" : endRelativeOffset(end)))" }
}

/// A range bound: negative offsets count from the end of the image ("end-10h").
func endRelativeOffset(_ v: Int) -> String { v < 0 ? "end-" + Hex.offset(-v) : Hex.offset(v) }

public enum ChecksumTransform: String, Sendable, Equatable { case none, complement, negate }

public struct ChecksumSpec: Equatable, Sendable {
    public enum Algorithm: Equatable, Sendable {
        /// Sum of `unit` values over the ranges, plus `initial`, masked to `width` bits, then transformed.
        case sum(unit: WordUnit, initial: UInt64, width: Int, transform: ChecksumTransform)
        /// A table of running sums: after every `stride` bytes of the range the running sum is stored in the
        /// table, then the final sum, then the rest of the table is filled with (sum - table[i]).
        case runningSumTable(unit: WordUnit, stride: Int, table: ByteRange)
        /// The value is stored but no public source says how it is computed.
        case unknown
        /// A table of `count` entries of `entrySize` bytes at `table`, each naming an inclusive byte range and its
        /// AES-CMAC digest (MediaTek MT19xx; see CMACTable). Verified entry by entry; never repaired.
        case aesCMACTable(table: Int, count: Int, entrySize: Int, key: [UInt8])
    }
    public enum Storage: Equatable, Sendable {
        /// The checksum is stored at `offset` in `unit` encoding.
        case stored(offset: Int, unit: WordUnit)
        /// The ranges include a key word chosen so that the transformed sum is zero.
        case zeroSum(keyOffset: Int, unit: WordUnit)
        /// Not stored in the image (sent to the drive at flash time).
        case notStored
        /// The table of `runningSumTable` holds it.
        case table
    }

    public var name: String
    public var algorithm: Algorithm
    public var ranges: [ByteRange]
    public var storage: Storage
    public var provenance: String

    public init(name: String, algorithm: Algorithm, ranges: [ByteRange], storage: Storage, provenance: String = "") {
        self.name = name; self.algorithm = algorithm; self.ranges = ranges; self.storage = storage; self.provenance = provenance
    }

    /// A readable description of the algorithm ("16-bit sum of BE16 words, negated").
    public var summary: String {
        switch algorithm {
        case let .sum(u, initial, width, t):
            var s = "\(width)-bit sum of \(u == .u8 ? "bytes" : u.rawValue.uppercased() + " words")"
            if initial != 0 { s += " from \(Hex.offset(initial))" }
            if t != .none { s += ", \(t == .negate ? "negated" : "complemented")" }
            if case .zeroSum = storage { s += ", must total zero (key word)" }
            return s + " over " + ranges.map(\.description).joined(separator: " + ")
        case let .runningSumTable(u, stride, table):
            return "running \(u.rawValue.uppercased()) sums every \(stride) bytes of " + ranges.map(\.description).joined(separator: " + ") + " in a table at \(table)"
        case .unknown:
            return "algorithm not public"
        case let .aesCMACTable(table, count, entrySize, _):
            return "AES-CMAC table at \(Hex.offset(table)) (\(count) entries of \(entrySize) bytes; blocks and tag byte-reversed)"
        }
    }
}

public struct ChecksumResult: Equatable, Sendable {
    public enum Status: String, Sendable, Encodable {
        case ok = "OK", bad = "BAD", unverifiable = "UNVERIFIABLE", computedOnly = "COMPUTED"
        /// An integrity table with no active entry: nothing vouches for the image.
        case unsigned = "UNSIGNED"
    }
    public let name: String
    public let status: Status
    public let stored: UInt64?
    public let computed: UInt64?
    public let width: Int
    public let summary: String
    /// For tables: the first differing offset.
    public let firstDifference: Int?
    /// Digests wider than 64 bits (the CMAC table's), as hex; `stored`/`computed` are nil then.
    public var storedText: String? = nil
    public var computedText: String? = nil
    /// The summary of this one result, when it is one entry of a table (its range).
    public var entrySummary: String? = nil
}

public enum ChecksumError: Error, Equatable, CustomStringConvertible {
    case rangeOutOfImage(String, ByteRange, size: Int)
    case storageOutOfImage(String, offset: Int, size: Int)
    case unitMisaligned(String, ByteRange, unit: Int)
    case notRepairable(String)
    case keyOutsideRanges(String, offset: Int)
    case storedInsideRanges(String, offset: Int)
    case neverResigned(String)

    public var description: String {
        switch self {
        case let .rangeOutOfImage(n, r, s): return "checksum '\(n)': range \(r) lies outside the \(s)-byte image"
        case let .storageOutOfImage(n, o, s): return "checksum '\(n)': stored at \(endRelativeOffset(o)), outside the \(s)-byte image"
        case let .unitMisaligned(n, r, u): return "checksum '\(n)': range \(r) is not a multiple of \(u) bytes"
        case let .notRepairable(n): return "checksum '\(n)' cannot be repaired: its algorithm is not public"
        case let .storedInsideRanges(n, o): return "checksum '\(n)': it is stored at \(endRelativeOffset(o)), inside the bytes it sums"
        case let .keyOutsideRanges(n, o): return "checksum '\(n)': its key word at \(endRelativeOffset(o)) lies outside the summed ranges"
        case let .neverResigned(n): return "checksum '\(n)' is an AES-CMAC integrity table: odflash verifies it but never re-signs an image"
        }
    }
}

public enum ChecksumEngine {
    static func resolvedRanges(_ spec: ChecksumSpec, size: Int, unit: Int) throws(ChecksumError) -> [Range<Int>] {
        var out: [Range<Int>] = []
        for r in spec.ranges {
            guard let rr = r.resolved(size: size) else { throw .rangeOutOfImage(spec.name, r, size: size) }
            guard rr.count % unit == 0 else { throw .unitMisaligned(spec.name, r, unit: unit) }
            out.append(rr)
        }
        return out
    }

    static func rawSum(_ image: UnsafeBufferPointer<UInt8>, _ ranges: [Range<Int>], _ unit: WordUnit) -> UInt64 {
        var s: UInt64 = 0
        let step = unit.size
        for r in ranges {
            var i = r.lowerBound
            if step <= 2 {
                // Byte and 16-bit sums are the hot path for 1-2 MiB images: both follow from the even and odd byte sums.
                let whole = (r.count / step) * step
                let eo = Bytes.evenOddSums(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: image[i..<(i + whole)])))
                switch unit {
                case .u8: s &+= eo.even &+ eo.odd
                case .be16: s &+= (eo.even << 8) &+ eo.odd
                default: s &+= (eo.odd << 8) &+ eo.even
                }
                i += whole
            }
            while i < r.upperBound { s &+= unit.read(image, i); i += step }
        }
        return s
    }

    static func mask(_ width: Int) -> UInt64 { width >= 64 ? UInt64.max : (UInt64(1) << UInt64(width)) - 1 }

    static func apply(_ t: ChecksumTransform, _ v: UInt64, _ width: Int) -> UInt64 {
        switch t {
        case .none: return v & mask(width)
        case .complement: return ~v & mask(width)
        case .negate: return (0 &- v) & mask(width)
        }
    }

    /// Computes the value the image should hold (for zeroSum: the transformed total, which must be 0).
    public static func compute(_ spec: ChecksumSpec, image: [UInt8]) throws(ChecksumError) -> UInt64? {
        switch spec.algorithm {
        case let .sum(unit, initial, width, transform):
            let ranges = try resolvedRanges(spec, size: image.count, unit: unit.size)
            let raw = image.withUnsafeBufferPointer { rawSum($0, ranges, unit) }
            return apply(transform, initial &+ raw, width)
        case .runningSumTable, .unknown, .aesCMACTable:
            return nil
        }
    }

    public static func verify(_ spec: ChecksumSpec, image: [UInt8]) throws(ChecksumError) -> ChecksumResult {
        switch (spec.algorithm, spec.storage) {
        case let (.sum(_, _, width, _), .stored(rawOffset, sunit)):
            let offset = rawOffset < 0 ? image.count + rawOffset : rawOffset
            guard let stored = sunit.read(image, offset) else { throw .storageOutOfImage(spec.name, offset: offset, size: image.count) }
            // Compare in the stored width (a 32-bit sum kept in a 16-bit field keeps its low 16 bits).
            let c = try compute(spec, image: image)! & mask(min(width, sunit.size * 8))
            return ChecksumResult(name: spec.name, status: c == stored ? .ok : .bad, stored: stored, computed: c,
                                  width: width, summary: spec.summary, firstDifference: nil)
        case let (.sum(_, _, width, _), .zeroSum(keyOffset, kunit)):
            guard let key = kunit.read(image, keyOffset) else { throw .storageOutOfImage(spec.name, offset: keyOffset, size: image.count) }
            let total = try compute(spec, image: image)!
            // What the key must be for the total to come out zero.
            let wanted = try repairedKey(spec, image: image)
            return ChecksumResult(name: spec.name, status: total == 0 ? .ok : .bad, stored: key, computed: wanted,
                                  width: width, summary: spec.summary, firstDifference: nil)
        case let (.sum(_, _, width, _), .notStored):
            let c = try compute(spec, image: image)!
            return ChecksumResult(name: spec.name, status: .computedOnly, stored: nil, computed: c, width: width,
                                  summary: spec.summary, firstDifference: nil)
        case let (.unknown, .stored(rawOffset, sunit)):
            let offset = rawOffset < 0 ? image.count + rawOffset : rawOffset
            guard let stored = sunit.read(image, offset) else { throw .storageOutOfImage(spec.name, offset: offset, size: image.count) }
            return ChecksumResult(name: spec.name, status: .unverifiable, stored: stored, computed: nil, width: sunit.size * 8,
                                  summary: spec.summary, firstDifference: nil)
        case (.aesCMACTable, _):
            let all = try verifyAll(spec, image: image)
            let status: ChecksumResult.Status = all.contains { $0.status == .bad } ? .bad : (all.contains { $0.status == .unsigned } ? .unsigned : .ok)
            return ChecksumResult(name: spec.name, status: status, stored: nil, computed: nil, width: 128, summary: spec.summary,
                                  firstDifference: all.first { $0.status == .bad }?.firstDifference)
        case (.runningSumTable, _):
            let expected = try runningTable(spec, image: image)
            guard let t = expected.range else { throw .rangeOutOfImage(spec.name, spec.ranges.first ?? ByteRange(0, 0), size: image.count) }
            var diff: Int?
            image.withUnsafeBufferPointer { p in
                for (k, b) in expected.bytes.enumerated() where p[t.lowerBound + k] != b { diff = t.lowerBound + k; break }
            }
            let finalSum = expected.finalSum
            return ChecksumResult(name: spec.name, status: diff == nil ? .ok : .bad, stored: nil, computed: finalSum,
                                  width: 32, summary: spec.summary, firstDifference: diff)
        default:
            return ChecksumResult(name: spec.name, status: .unverifiable, stored: nil, computed: nil, width: 0,
                                  summary: spec.summary, firstDifference: nil)
        }
    }

    /// Every result of a checksum: one for most kinds; for an AES-CMAC table, one per active entry (named NAME[i]), or
    /// one UNSIGNED result when no entry is active.
    public static func verifyAll(_ spec: ChecksumSpec, image: [UInt8]) throws(ChecksumError) -> [ChecksumResult] {
        guard case let .aesCMACTable(table, count, entrySize, keyBytes) = spec.algorithm else { return [try verify(spec, image: image)] }
        guard let key = AES128(key: keyBytes) else { throw .notRepairable(spec.name + " (the key is not 16 bytes)") }
        guard let entries = CMACTable.entries(image, at: table, count: count, entrySize: entrySize) else {
            throw .storageOutOfImage(spec.name, offset: table, size: image.count)
        }
        let active = entries.filter(\.active)
        guard !active.isEmpty else {
            return [ChecksumResult(name: spec.name, status: .unsigned, stored: nil, computed: nil, width: 128,
                                   summary: spec.summary + ": no active entry, nothing vouches for the image", firstDifference: nil)]
        }
        return active.map { e in
            let range = "[\(Hex.offset(e.start)), \(Hex.offset(e.end))]"
            guard let d = CMACTable.digest(image, start: e.start, end: e.end, key: key) else {
                var r = ChecksumResult(name: "\(spec.name)[\(e.index)]", status: .bad, stored: nil, computed: nil, width: 128,
                                       summary: "AES-CMAC over \(range): the range lies outside the image", firstDifference: nil)
                r.storedText = Hex.bytes(e.stored, separator: "")
                return r
            }
            var r = ChecksumResult(name: "\(spec.name)[\(e.index)]", status: d == e.stored ? .ok : .bad, stored: nil, computed: nil, width: 128,
                                   summary: "AES-CMAC over \(range) (inclusive)", firstDifference: nil)
            r.storedText = Hex.bytes(e.stored, separator: "")
            r.computedText = Hex.bytes(d, separator: "")
            r.entrySummary = range
            return r
        }
    }

    /// For zeroSum: the key value that makes the transformed total zero.
    static func repairedKey(_ spec: ChecksumSpec, image: [UInt8]) throws(ChecksumError) -> UInt64 {
        guard case let .sum(unit, initial, width, transform) = spec.algorithm, case let .zeroSum(keyOffset, kunit) = spec.storage else {
            throw .notRepairable(spec.name)
        }
        let ranges = try resolvedRanges(spec, size: image.count, unit: unit.size)
        guard let key = kunit.read(image, keyOffset) else { throw .storageOutOfImage(spec.name, offset: keyOffset, size: image.count) }
        // The key is one of the summed units, aligned with them; otherwise no key value can zero the sum.
        // A key can only cancel a sum as wide as itself.
        guard width <= kunit.size * 8 else { throw .notRepairable(spec.name + " (a \(width)-bit sum cannot be zeroed by a \(kunit.size * 8)-bit key)") }
        guard kunit.size == unit.size,
              ranges.contains(where: { $0.contains(keyOffset) && ($0.lowerBound - keyOffset) % unit.size == 0 }) else {
            throw .keyOutsideRanges(spec.name, offset: keyOffset)
        }
        let raw = image.withUnsafeBufferPointer { rawSum($0, ranges, unit) }
        let others = (initial &+ raw &- key) & mask(width)
        // transform(others + k) == 0  =>  none: k = -others; complement: others + k = all ones; negate: k = -others.
        switch transform {
        case .none, .negate: return (0 &- others) & mask(width)
        case .complement: return (mask(width) &- others) & mask(width)
        }
    }

    struct Table { let range: Range<Int>?; let bytes: [UInt8]; let finalSum: UInt64 }

    static func runningTable(_ spec: ChecksumSpec, image: [UInt8]) throws(ChecksumError) -> Table {
        guard case let .runningSumTable(unit, stride, table) = spec.algorithm, let src = spec.ranges.first else {
            return Table(range: nil, bytes: [], finalSum: 0)
        }
        guard let r = src.resolved(size: image.count) else { throw .rangeOutOfImage(spec.name, src, size: image.count) }
        guard let t = table.resolved(size: image.count) else { throw .rangeOutOfImage(spec.name, table, size: image.count) }
        guard r.count % stride == 0, stride % unit.size == 0, t.count % unit.size == 0 else { throw .unitMisaligned(spec.name, src, unit: stride) }
        var out = [UInt8](repeating: 0, count: t.count)
        var slot = 0
        var sum: UInt64 = 0
        let m = mask(unit.size * 8)
        image.withUnsafeBufferPointer { p in
            var i = r.lowerBound
            while i < r.upperBound {
                sum = (sum &+ unit.read(p, i)) & m
                i += unit.size
                if (i - r.lowerBound) % stride == 0 && slot + unit.size <= out.count {
                    unit.write(sum, into: &out, at: slot)
                    slot += unit.size
                }
            }
        }
        if slot + unit.size <= out.count { unit.write(sum, into: &out, at: slot); slot += unit.size }
        var k = 0
        while slot + unit.size <= out.count {
            // The fill reads the table from its start, as written so far.
            let prior = unit.read(out, k) ?? 0
            unit.write((sum &- prior) & m, into: &out, at: slot)
            slot += unit.size
            k += unit.size
        }
        return Table(range: t, bytes: out, finalSum: sum)
    }

    /// Writes correct checksums into a copy of the image, in the order given (later ones may cover earlier ones).
    public static func repair(_ specs: [ChecksumSpec], image: [UInt8]) throws(ChecksumError) -> [UInt8] {
        var img = image
        for spec in specs {
            switch (spec.algorithm, spec.storage) {
            case (.sum(let sumUnit, _, _, _), .stored(let rawOffset, let unit)):
                let offset = rawOffset < 0 ? img.count + rawOffset : rawOffset
                guard offset >= 0, offset + unit.size <= img.count else { throw .storageOutOfImage(spec.name, offset: offset, size: img.count) }
                // A value stored inside its own ranges changes the sum it records: no such layout can be repaired.
                let ranges = try resolvedRanges(spec, size: img.count, unit: sumUnit.size)
                if ranges.contains(where: { $0.overlaps(offset..<(offset + unit.size)) }) { throw .storedInsideRanges(spec.name, offset: offset) }
                let c = try compute(spec, image: img)!
                unit.write(c, into: &img, at: offset)
            case (.sum, .zeroSum(let keyOffset, let unit)):
                let k = try repairedKey(spec, image: img)
                unit.write(k, into: &img, at: keyOffset)
            case (.sum, .notStored):
                break
            case (.runningSumTable, _):
                let t = try runningTable(spec, image: img)
                if let r = t.range { img.replaceSubrange(r, with: t.bytes) }
            case (.unknown, _):
                break   // reported as unverifiable; patching refuses families whose checksums it cannot recompute
            case (.aesCMACTable, _):
                throw .neverResigned(spec.name)
            default:
                break
            }
        }
        return img
    }
}
