/// The one grammar for numbers a user types (command-line options, speed lists): strict, so that a typo is an error
/// and never a different number. A whole number is ASCII decimal digits, or `0x` and hex digits where the option
/// says so, with a leading '-' only where negative values exist; no blanks, '+', '_', exponent or fraction. A speed is
/// decimal digits with an optional fraction ('2.4') and an optional 'x'. Every value is checked against its range
/// before anything computes with it.
public enum NumberSyntax {
    /// A whole number within `range`; nil when `text` is not one (or lies outside).
    public static func integer(_ text: some StringProtocol, _ range: ClosedRange<Int>, hex: Bool = false) -> Int? {
        var u = Substring(text).utf8[...]
        var negative = false
        if u.first == UInt8(ascii: "-"), range.lowerBound < 0 { negative = true; u = u.dropFirst() }
        guard let m = magnitude(u, hex: hex), m <= UInt64(Int.max) + (negative ? 1 : 0) else { return nil }
        let n = negative ? (m == UInt64(Int.max) + 1 ? Int.min : -Int(m)) : Int(m)
        return range.contains(n) ? n : nil
    }

    /// A 64-bit unsigned number (a seed).
    public static func unsigned(_ text: some StringProtocol, hex: Bool = false) -> UInt64? {
        magnitude(Substring(text).utf8[...], hex: hex)
    }

    static func magnitude(_ u: Substring.UTF8View.SubSequence, hex: Bool) -> UInt64? {
        var u = u
        var radix: UInt64 = 10
        if hex, u.count > 2, u.first == UInt8(ascii: "0"), let x = u.dropFirst().first, x == UInt8(ascii: "x") || x == UInt8(ascii: "X") {
            radix = 16; u = u.dropFirst(2)
        }
        guard !u.isEmpty, u.count <= 64 else { return nil }
        var n: UInt64 = 0
        for c in u {
            let d: UInt64
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt64(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f") where radix == 16: d = UInt64(c - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F") where radix == 16: d = UInt64(c - UInt8(ascii: "A")) + 10
            default: return nil
            }
            let (m, o1) = n.multipliedReportingOverflow(by: radix)
            let (a, o2) = m.addingReportingOverflow(d)
            if o1 || o2 { return nil }
            n = a
        }
        return n
    }

    /// The fastest speed anyone writes a disc at, as a multiple of its base speed, with room to spare.
    public static let maxSpeed = 1000.0

    /// One speed: '8x', '8', '2.4x' (decimal digits, at most one '.', an optional lower- or upper-case 'x'), more than
    /// 0 and at most `maxSpeed`.
    public static func speed(_ text: some StringProtocol) -> Double? {
        var u = Substring(text).utf8[...]
        if let l = u.last, l == UInt8(ascii: "x") || l == UInt8(ascii: "X") { u = u.dropLast() }
        guard !u.isEmpty, u.count <= 12 else { return nil }
        var dots = 0
        for (i, c) in u.enumerated() {
            if c == UInt8(ascii: ".") {
                dots += 1
                guard dots == 1, i > 0, i < u.count - 1 else { return nil }
            } else if !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) { return nil }
        }
        guard let d = Double(String(decoding: u, as: UTF8.self)), d.isFinite, d > 0, d <= maxSpeed else { return nil }
        return d
    }

    /// Comma-separated speeds ('8x,12x,16x'): no empty item, at most 64 of them. On error, the first item that is
    /// not a speed (escaped), or nil for the whole list's shape.
    public static func speeds(_ text: some StringProtocol) -> Result<[Double], ListError> {
        let items = text.split(separator: ",", omittingEmptySubsequences: false)
        guard items.count <= 64 else { return .failure(.tooMany(items.count)) }
        var out: [Double] = []
        for t in items {
            guard let d = speed(t) else { return .failure(t.isEmpty ? .empty : .notASpeed(escaped(String(t), max: 24))) }
            out.append(d)
        }
        return .success(out)
    }

    public enum ListError: Error, Equatable, CustomStringConvertible {
        case empty, tooMany(Int), notASpeed(String)
        public var description: String {
            switch self {
            case .empty: return "an empty item (two commas, or one at either end)"
            case .tooMany(let n): return "\(n) speeds (at most 64)"
            case .notASpeed(let t): return "'\(t)' is not a speed such as 8x or 2.4x (more than 0, at most \(Int(maxSpeed))x)"
            }
        }
    }

    /// The first control character in `text` (C0, DEL or C1), escaped as \xNN; nil when there is none.
    public static func controlCharacter(in text: some StringProtocol) -> String? {
        for u in text.unicodeScalars where isControl(u) { return hexEscape(u) }
        return nil
    }

    /// `text` for a one-line message: control characters as \xNN, at most `max` characters (then '...').
    public static func escaped(_ text: String, max: Int = 80) -> String {
        var out = ""
        for (i, u) in text.unicodeScalars.enumerated() {
            if i == max { out += "..."; break }
            if isControl(u) { out += hexEscape(u) } else { out.unicodeScalars.append(u) }
        }
        return out
    }

    static func isControl(_ u: Unicode.Scalar) -> Bool { u.value < 0x20 || (0x7F..<0xA0).contains(u.value) }

    static func hexEscape(_ u: Unicode.Scalar) -> String {
        let h = String(u.value, radix: 16)
        return "\\x" + (h.count < 2 ? "0" + h : h)
    }
}
