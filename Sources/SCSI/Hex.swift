// How odflash writes numbers and bytes in hex: upper-case digits, offsets and values with an `h` suffix ("1B0000h"),
// bytes as two-digit pairs ("0A 0B"). Every module formats hex through these.

public enum Hex {
    static let digits: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// One byte, two digits: "0A".
    public static func byte(_ v: UInt8) -> String {
        String(decoding: [digits[Int(v >> 4)], digits[Int(v & 0xF)]], as: UTF8.self)
    }

    /// A value in upper-case hex, zero-padded to at least `digits` digits (never cut): word(0x8, digits: 4) is "0008",
    /// word(0x12345, digits: 4) is "12345"; a negative value keeps its sign ("-1F").
    public static func word(_ v: some BinaryInteger, digits: Int = 4) -> String {
        let s = String(v.magnitude, radix: 16, uppercase: true)
        let padded = s.count < digits ? String(repeating: "0", count: digits - s.count) + s : s
        return v < 0 ? "-" + padded : padded
    }

    /// An offset, address, size or value as odflash prints it: "1B0000h", "0h"; with `digits`, zero-padded ("0008h").
    public static func offset(_ v: some BinaryInteger, digits: Int = 1) -> String { word(v, digits: digits) + "h" }

    /// Bytes as two-digit pairs: "0A 0B" (separator "" gives "0A0B").
    /// A hex dump as sg3_utils prints one: lines of 16 bytes, the offset first and the printable ASCII last
    /// (" 00     05 80 00 0d 53 59 4e 54  48 31 32 34 59 30 30 30    ....SYNTH124Y000"), at most 74 columns.
    public static func dump(_ b: [UInt8]) -> [String] {
        stride(from: 0, to: b.count, by: 16).map { o in
            let row = b[o..<min(o + 16, b.count)]
            var hex = ""
            for (i, v) in row.enumerated() { hex += (i == 8 ? "  " : (i == 0 ? "" : " ")) + byte(v).lowercased() }
            let ascii = String(row.map { $0 >= 0x20 && $0 < 0x7F ? Character(UnicodeScalar($0)) : "." })
            let off = String(o, radix: 16)
            return " " + String(repeating: "0", count: max(0, 2 - off.count)) + off + "     " + hex + String(repeating: " ", count: max(0, 49 - hex.count)) + "  " + ascii
        }
    }

    public static func bytes(_ b: [UInt8], separator: String = " ") -> String { b.withUnsafeBufferPointer { buffer($0, separator) } }
    public static func bytes(_ b: ArraySlice<UInt8>, separator: String = " ") -> String { b.withUnsafeBufferPointer { buffer($0, separator) } }
    public static func bytes(_ b: some Sequence<UInt8>, separator: String = " ") -> String { bytes(Array(b), separator: separator) }

    /// Contiguous bytes without per-element generic overhead (transcripts hex whole chunks).
    static func buffer(_ b: UnsafeBufferPointer<UInt8>, _ separator: String) -> String {
        let sep = Array(separator.utf8)
        let n = b.count == 0 ? 0 : b.count * 2 + (b.count - 1) * sep.count
        return String(unsafeUninitializedCapacity: n) { out in
            var o = 0
            for (i, v) in b.enumerated() {
                if i > 0 { for c in sep { out[o] = c; o += 1 } }
                out[o] = digits[Int(v >> 4)]; out[o + 1] = digits[Int(v & 0xF)]
                o += 2
            }
            return o
        }
    }
}
