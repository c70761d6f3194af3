#if canImport(Glibc)
import Glibc
#endif
// Byte patterns with wildcards ("07 00 ?? 78"), searched without allocation.

import SCSI
#if canImport(Glibc)
import Glibc
#endif

public struct BytePattern: Equatable, Sendable, CustomStringConvertible {
    /// nil = any byte.
    public let bytes: [UInt8?]

    public init(_ bytes: [UInt8?]) { self.bytes = bytes }

    public init(literal: [UInt8]) { bytes = literal.map { $0 } }

    /// "07 00 ?? 78" or "0700??78"; nil when malformed.
    public init?(hex: String) {
        var out: [UInt8?] = []
        let compact = hex.filter { !$0.isWhitespace }
        guard !compact.isEmpty, compact.count % 2 == 0 else { return nil }
        var i = compact.startIndex
        while i < compact.endIndex {
            let j = compact.index(i, offsetBy: 2)
            let pair = compact[i..<j]
            if pair == "??" { out.append(nil) } else if let v = UInt8(pair, radix: 16) { out.append(v) } else { return nil }
            i = j
        }
        bytes = out
    }

    public var count: Int { bytes.count }
    public var description: String { bytes.map { $0.map { Hex.byte($0) } ?? "??" }.joined(separator: " ") }

    public func matches(_ data: UnsafeBufferPointer<UInt8>, at offset: Int) -> Bool {
        guard offset >= 0, offset + bytes.count <= data.count else { return false }
        for (k, b) in bytes.enumerated() where b != nil && data[offset + k] != b! { return false }
        return true
    }

    public func matches(_ data: [UInt8], at offset: Int) -> Bool {
        data.withUnsafeBufferPointer { matches($0, at: offset) }
    }

    /// First match in [from, to). memchr (many bytes a step) finds the candidates for one literal byte of the pattern,
    /// preferably one that is rare in images (not 00h or FFh); only those are compared whole.
    public func firstMatch(in data: UnsafeBufferPointer<UInt8>, from: Int = 0, to: Int? = nil) -> Int? {
        let end = min(to ?? data.count, data.count) - bytes.count
        guard !bytes.isEmpty, from <= end, let base = data.baseAddress else { return nil }
        guard let anchor = bytes.firstIndex(where: { $0 != nil && $0 != 0x00 && $0 != 0xFF }) ?? bytes.firstIndex(where: { $0 != nil }),
              let first = bytes[anchor] else { return max(from, 0) }
        var i = max(from, 0)
        while i <= end {
            guard let p = memchr(base + i + anchor, Int32(first), end - i + 1) else { return nil }
            let at = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(p)) - anchor
            if matches(data, at: at) { return at }
            i = at + 1
        }
        return nil
    }

    public func firstMatch(in data: [UInt8], from: Int = 0, to: Int? = nil) -> Int? {
        data.withUnsafeBufferPointer { firstMatch(in: $0, from: from, to: to) }
    }

    /// Every match in [from, to), non-overlapping.
    public func allMatches(in data: [UInt8], from: Int = 0, to: Int? = nil) -> [Int] {
        data.withUnsafeBufferPointer { buf in
            var out: [Int] = []
            var pos = from
            while let m = firstMatch(in: buf, from: pos, to: to) {
                out.append(m)
                pos = m + max(1, bytes.count)
            }
            return out
        }
    }
}
