import SCSI

/// A CDB written as data: hex bytes and placeholders, e.g. "3B 07 00 {offset:3} {length:3} 00".
/// Placeholders: {NAME:N} is the plan value NAME, big-endian in N bytes (1-7; {NAME} is one byte). The plan supplies
/// offset, length and state for chunks, address and bit (1 << address) for sweeps, and the protocol's image and probe values.
public struct CDBTemplate: Equatable, Sendable, CustomStringConvertible {
    enum Part: Equatable, Sendable { case byte(UInt8), field(String, Int) }
    let parts: [Part]
    public let description: String

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case malformed(String, String)
        public var description: String {
            switch self {
            case let .malformed(t, why):
                // Quoted in one bounded line: a template is at most a few dozen characters.
                let shown = t.unicodeScalars.count > 80 ? String(String.UnicodeScalarView(t.unicodeScalars.prefix(80))) + "..." : t
                return "CDB template '\(shown.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : String($0) }.joined())': \(why)"
            }
        }
    }

    /// The CDB's first byte (the template always starts with a fixed opcode byte in practice; 0 when it does not).
    public var opcode: UInt8 { if case let .byte(b)? = parts.first { return b }; return 0 }

    /// The fixed bytes the template starts with, up to its first placeholder.
    public var literalPrefix: [UInt8] {
        var out: [UInt8] = []
        for p in parts { guard case let .byte(b) = p else { break }; out.append(b) }
        return out
    }

    /// The plan values this template needs.
    public var fieldNames: [String] { parts.compactMap { if case let .field(n, _) = $0 { return n }; return nil } }

    public init(_ text: String) throws(Failure) {
        description = text
        // 16 bytes, each a pair of digits or a field, with blanks: 200 characters is far more than any template needs.
        guard text.utf8.count <= 200 else { throw .malformed(text, "is \(text.utf8.count) characters long; a CDB template of at most 16 bytes needs far fewer (at most 200)") }
        var out: [Part] = []
        for tok in text.split(separator: " ") {
            if tok.hasPrefix("{") && tok.hasSuffix("}") {
                let inner = tok.dropFirst().dropLast().split(separator: ":").map(String.init)
                guard let name = inner.first, !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }) else {
                    throw .malformed(text, "bad field \(tok) (lower-case letters, digits and _)")
                }
                let n = inner.count == 2 ? Int(inner[1]) ?? 0 : 1
                guard (1...7).contains(n) else { throw .malformed(text, "field width must be 1-7 bytes") }
                out.append(.field(name, n))
            } else {
                guard tok.count == 2, let v = UInt8(tok, radix: 16) else { throw .malformed(text, "'\(tok)' is not a hex byte") }
                out.append(.byte(v))
            }
        }
        let len = out.reduce(0) { if case let .field(_, n) = $1 { return $0 + n }; return $0 + 1 }
        guard [6, 10, 12, 16].contains(len) else { throw .malformed(text, "makes a \(len)-byte CDB (6, 10, 12 or 16)") }
        parts = out
    }

    /// Fills the placeholders; a value that does not fit its field is an error (never truncated).
    public func cdb(_ values: [String: Int]) throws(CDB.Invalid) -> CDB {
        var b: [UInt8] = []
        for p in parts {
            switch p {
            case let .byte(v): b.append(v)
            case let .field(name, n):
                guard let v = values[name] else { throw CDB.Invalid.missingField(name) }
                guard v >= 0, v < (1 << (8 * n)) else { throw CDB.Invalid.fieldTooLarge(name, v, max: (1 << (8 * n)) - 1) }
                b += Bytes.encodeBE(UInt64(v), count: n)
            }
        }
        return try CDB(raw: b)
    }
}
