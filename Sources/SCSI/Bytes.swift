import CBytes
// Byte-level helpers: explicit big/little-endian fields and a bounds-checked reader.

public enum Bytes {
    /// Reads an unsigned big-endian integer of `count` bytes at `offset`; nil when out of range.
    public static func be(_ b: [UInt8], _ offset: Int, _ count: Int) -> UInt64? {
        guard offset >= 0, count > 0, count <= 8, offset + count <= b.count else { return nil }
        var v: UInt64 = 0
        for i in 0..<count { v = (v << 8) | UInt64(b[offset + i]) }
        return v
    }

    public static func le(_ b: [UInt8], _ offset: Int, _ count: Int) -> UInt64? {
        guard offset >= 0, count > 0, count <= 8, offset + count <= b.count else { return nil }
        var v: UInt64 = 0
        for i in (0..<count).reversed() { v = (v << 8) | UInt64(b[offset + i]) }
        return v
    }

    public static func be16(_ b: [UInt8], _ o: Int) -> Int? { be(b, o, 2).map { Int($0) } }
    public static func be24(_ b: [UInt8], _ o: Int) -> Int? { be(b, o, 3).map { Int($0) } }
    public static func be32(_ b: [UInt8], _ o: Int) -> Int? { be(b, o, 4).map { Int($0) } }

    /// Big-endian encoding of the low `count` bytes of `value`.
    public static func encodeBE(_ value: UInt64, count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64(count - 1 - $0))) }
    }

    /// The 16-bit sum of big-endian words (a trailing odd byte counts as a high byte): NEC's checksums.
    public static func wordSum16(_ b: some Collection<UInt8>) -> Int {
        if let s = b.withContiguousStorageIfAvailable({ evenOddSums(UnsafeRawBufferPointer($0)) }) {
            return Int(truncatingIfNeeded: (s.even << 8) &+ s.odd) & 0xFFFF
        }
        var s = 0
        var high = true
        for v in b { s &+= high ? Int(v) << 8 : Int(v); high.toggle() }
        return s & 0xFFFF
    }

    /// The sums of the bytes at even and at odd offsets from the start: byte sums and 16-bit word sums of either
    /// byte order follow from the two (CBytes: 32 bytes a step).
    public static func evenOddSums(_ p: UnsafeRawBufferPointer) -> (even: UInt64, odd: UInt64) {
        guard let base = p.baseAddress, !p.isEmpty else { return (0, 0) }
        var even: UInt64 = 0, odd: UInt64 = 0
        odflash_even_odd_sums(base.assumingMemoryBound(to: UInt8.self), p.count, &even, &odd)
        return (even, odd)
    }

    /// Parses hex bytes written with or without separators ("70 00 03", "700003", "0x70,0x00").
    public static func parseHex(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        let tokens = text.split(whereSeparator: { " \t\n\r,:;-".contains($0) })
        for var tok in tokens.map(String.init) {
            if tok.hasPrefix("0x") || tok.hasPrefix("0X") { tok.removeFirst(2) }
            if tok.hasSuffix("h") || tok.hasSuffix("H") { tok.removeLast() }
            guard !tok.isEmpty, tok.allSatisfy(\.isHexDigit) else { return nil }
            if tok.count % 2 == 1 { tok = "0" + tok }
            var idx = tok.startIndex
            while idx < tok.endIndex {
                let next = tok.index(idx, offsetBy: 2)
                guard let v = UInt8(tok[idx..<next], radix: 16) else { return nil }
                out.append(v)
                idx = next
            }
        }
        return out.isEmpty ? nil : out
    }

    /// SCSI ASCII fields: printable 7-bit characters kept, others shown as '?', trailing spaces trimmed.
    public static func ascii(_ b: [UInt8], _ offset: Int, _ count: Int, trim: Bool = true) -> String {
        guard offset < b.count, count > 0 else { return "" }
        let end = min(b.count, offset + count)
        var s = String(decoding: b[offset..<end].map { ($0 >= 0x20 && $0 < 0x7F) ? $0 : ($0 == 0 ? 0x20 : 0x3F) }, as: UTF8.self)
        if trim {
            while s.last == " " { s.removeLast() }
            while s.first == " " { s.removeFirst() }
        }
        return s
    }
}

/// A cursor over a response buffer that never reads past its end.
public struct ByteReader {
    public let bytes: [UInt8]
    public private(set) var position: Int = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var remaining: Int { bytes.count - position }

    public mutating func u8() throws(ParseError) -> UInt8 {
        guard position < bytes.count else { throw ParseError.truncated(needed: position + 1, have: bytes.count) }
        defer { position += 1 }
        return bytes[position]
    }

    public mutating func be(_ count: Int) throws(ParseError) -> Int {
        guard let v = Bytes.be(bytes, position, count) else {
            throw ParseError.truncated(needed: position + count, have: bytes.count)
        }
        position += count
        return Int(v)
    }

    public mutating func take(_ count: Int) throws(ParseError) -> [UInt8] {
        guard count >= 0, position + count <= bytes.count else {
            throw ParseError.truncated(needed: position + count, have: bytes.count)
        }
        defer { position += count }
        return Array(bytes[position..<(position + count)])
    }

    public mutating func skip(_ count: Int) throws(ParseError) { _ = try take(count) }
}

public enum ParseError: Error, Equatable, CustomStringConvertible, Sendable {
    case truncated(needed: Int, have: Int)
    case invalid(String)

    public var description: String {
        switch self {
        case let .truncated(needed, have): return "response truncated: needed \(needed) bytes, got \(have)"
        case let .invalid(why): return why
        }
    }
}
