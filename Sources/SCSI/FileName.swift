#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// File names are bytes on Linux; a Swift String holds Unicode. A name that is not UTF-8 (`\xFF\xFE.bin`) is carried in
/// a String by mapping each byte that is not part of valid UTF-8 to one private-use scalar, U+F780 + (byte - 80h)
/// (the "UTF-8b" idea; Python's surrogateescape uses surrogates, which a Swift String cannot hold). Valid UTF-8 that
/// encodes a scalar of that range is mapped byte by byte too, so the mapping is exact both ways: every byte string has
/// one String and `bytes(of:)` gives the original bytes back. Every system call that takes a path goes through
/// `withPath`, and every name shown goes through `display`, which prints such bytes as `\xFF`.
public enum FileName {
    static let base: UInt32 = 0xF700      // byte b (80h...FFh) <-> U+F700 + b = U+F780...U+F7FF

    /// The String for the bytes of a name (or an argument): valid UTF-8 as itself, every other byte escaped.
    public static func decode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        let b = Array(bytes)
        var s = String.UnicodeScalarView()
        var i = 0
        func escapeByte(_ x: UInt8) { s.append(Unicode.Scalar(base + UInt32(x))!) }
        while i < b.count {
            let c = b[i]
            if c < 0x80 { s.append(Unicode.Scalar(c)); i += 1; continue }
            var n = 0, v: UInt32 = 0, min: UInt32 = 0
            if c & 0xE0 == 0xC0 { n = 1; v = UInt32(c & 0x1F); min = 0x80 }
            else if c & 0xF0 == 0xE0 { n = 2; v = UInt32(c & 0x0F); min = 0x800 }
            else if c & 0xF8 == 0xF0 { n = 3; v = UInt32(c & 0x07); min = 0x10000 }
            var ok = n > 0 && i + n < b.count
            if ok {
                for k in 1...n where ok {
                    if b[i + k] & 0xC0 != 0x80 { ok = false } else { v = v << 6 | UInt32(b[i + k] & 0x3F) }
                }
            }
            if ok, v >= min, let u = Unicode.Scalar(v), !(0xF780...0xF7FF).contains(v) {
                s.append(u)
                i += n + 1
            } else {
                escapeByte(c)
                i += 1
            }
        }
        return String(s)
    }

    /// The bytes a String stands for (the inverse of `decode`).
    public static func bytes(of s: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        for u in s.unicodeScalars {
            if (0xF780...0xF7FF).contains(u.value) { out.append(UInt8(u.value - base)) }
            else { out.append(contentsOf: Array(String(u).utf8)) }
        }
        return out
    }

    /// Calls `body` with the NUL-terminated bytes of the name (for open(2), stat(2), rename(2) ...).
    public static func withPath<T>(_ s: String, _ body: (UnsafePointer<CChar>) throws -> T) rethrows -> T {
        var b = bytes(of: s).map { CChar(bitPattern: $0) }
        b.append(0)
        return try b.withUnsafeBufferPointer { try body($0.baseAddress!) }
    }

    /// The NUL-terminated bytes of the name, for passing where a `const char *` is taken (`open(FileName.c(p), ...)`).
    public static func c(_ s: String) -> [CChar] {
        var b = bytes(of: s).map { CChar(bitPattern: $0) }
        b.append(0)
        return b
    }

    /// Whether something exists under the name (not following a final symbolic link).
    public static func exists(_ s: String) -> Bool {
        var st = stat()
        return withPath(s) { lstat($0, &st) } == 0
    }

    /// The program's arguments, byte for byte (CommandLine.arguments replaces bytes that are not UTF-8).
    public static func arguments() -> [String] {
        (0..<Int(CommandLine.argc)).map { i in
            guard let p = CommandLine.unsafeArgv[i] else { return "" }
            return decode(UnsafeBufferPointer(start: UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self), count: strlen(p)))
        }
    }

    /// Whether a scalar must not reach a terminal raw: C0 controls, DEL, C1 controls, and the escaped bytes above.
    @inline(__always) public static func isUnprintable(_ v: UInt32) -> Bool {
        v < 0x20 || v == 0x7F || (0x80...0x9F).contains(v) || (0xF780...0xF7FF).contains(v)
            || v == 0x2028 || v == 0x2029 || (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v)
    }

    /// The name (or any text from outside) as it may be shown on a terminal: control characters as `\n`, `\r`, `\t`,
    /// `\e`, `\x07`, C1 and bidi controls as `\u{9B}`, bytes that are not UTF-8 as `\xFF`; a backslash stays as it is.
    public static func display(_ s: String, keepNewlines: Bool = false, keepTabs: Bool = false) -> String {
        if !s.unicodeScalars.contains(where: { isUnprintable($0.value) }) { return s }
        var out = ""
        for u in s.unicodeScalars {
            let v = u.value
            guard isUnprintable(v) else { out.unicodeScalars.append(u); continue }
            switch v {
            case 0x0A where keepNewlines: out += "\n"
            case 0x09 where keepTabs: out += "\t"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x1B: out += "\\e"
            case 0xF780...0xF7FF: out += "\\x" + hex2(UInt8(v - base))
            case 0..<0x80: out += "\\x" + hex2(UInt8(v))
            default: out += "\\u{" + String(v, radix: 16, uppercase: true) + "}"
            }
        }
        return out
    }

    public static func hex2(_ b: UInt8) -> String {
        let d = Array("0123456789ABCDEF")
        return String([d[Int(b >> 4)], d[Int(b & 15)]])
    }

    /// One line of at most `limit` characters: escaped (newlines too) and cut with "... (N more characters)".
    public static func oneLine(_ s: String, limit: Int) -> String {
        let e = display(s)
        guard e.count > limit else { return e }
        let keep = max(0, limit - 32)
        return String(e.prefix(keep)) + "... (\(e.count - keep) more characters)"
    }
}
