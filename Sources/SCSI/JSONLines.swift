/// JSON lines whose records are flat objects (transcripts, the flash journal), read without a general decoder: a
/// line is split on LF (a CR before it is dropped), must be UTF-8 without NUL, and must be one object whose values are
/// strings, numbers, booleans or null; a nested array or object is an error at its first byte, so no depth or size
/// of nesting reaches a recursive parser. Numbers keep their text, so 2^70 is reported as "out of range", not rounded.
/// Every failure says which line and what was expected, never a decoder's internals.
public enum JSONLines {
    public enum Value: Equatable, Sendable {
        case string(String)
        case number(String)
        case bool(Bool)
        case null
    }

    /// The non-blank lines with their 1-based numbers (CR LF and LF both end a line).
    public static func lines(_ data: [UInt8]) -> [(number: Int, bytes: ArraySlice<UInt8>)] {
        var out: [(Int, ArraySlice<UInt8>)] = []
        var start = 0, n = 1
        func add(_ end: Int) {
            var e = end
            if e > start && data[e - 1] == 0x0D { e -= 1 }
            let s = data[start..<e]
            if s.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) { out.append((n, s)) }
        }
        var i = 0
        while i < data.count {
            if data[i] == 0x0A { add(i); start = i + 1; n += 1 }
            i += 1
        }
        if start < data.count { add(data.count) }
        return out
    }

    /// How many lines the data has (for limits checked before parsing).
    public static func lineCount(_ data: [UInt8]) -> Int { data.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) } + 1 }

    /// A short, printable rendering of a value for error messages.
    public static func show(_ v: Value) -> String {
        switch v {
        case let .string(s): return "\"" + (s.count > 40 ? String(s.prefix(40)) + "..." : s) + "\""
        case let .number(t): return t.count > 40 ? String(t.prefix(40)) + "..." : t
        case let .bool(b): return b ? "true" : "false"
        case .null: return "null"
        }
    }

    /// One line as a flat object, or why it is not one.
    public static func object(_ line: ArraySlice<UInt8>) -> Result<[String: Value], Failure> {
        var p = Parser(b: Array(line))
        do { return .success(try p.object()) } catch { return .failure(error) }
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
        init(_ s: String) { description = s }
    }

    struct Parser {
        let b: [UInt8]
        var i = 0

        mutating func ws() { while i < b.count, b[i] == 0x20 || b[i] == 0x09 || b[i] == 0x0D || b[i] == 0x0A { i += 1 } }

        func at() -> String { "at byte \(i + 1)" }

        mutating func object() throws(Failure) -> [String: Value] {
            if b.contains(0) { throw Failure("a NUL byte") }
            guard String(validating: b, as: UTF8.self) != nil else { throw Failure("not UTF-8 text") }
            ws()
            guard i < b.count, b[i] == UInt8(ascii: "{") else {
                throw Failure("not a JSON object (it starts with \(i < b.count ? "'" + String(UnicodeScalar(b[i])) + "'" : "nothing"))")
            }
            i += 1
            var out: [String: Value] = [:]
            ws()
            if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; return try end(out) }
            while true {
                ws()
                guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw Failure("a field name expected \(at())") }
                let key = try string()
                ws()
                guard i < b.count, b[i] == UInt8(ascii: ":") else { throw Failure("':' expected after \"\(key.prefix(40))\" \(at())") }
                i += 1
                ws()
                let v = try value(key)
                if out[key] != nil { throw Failure("field '\(key.prefix(40))' appears twice") }
                out[key] = v
                ws()
                guard i < b.count else { throw Failure("the object is not closed (the line ends early)") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "}") { i += 1; return try end(out) }
                throw Failure("',' or '}' expected \(at())")
            }
        }

        mutating func end(_ o: [String: Value]) throws(Failure) -> [String: Value] {
            ws()
            if i < b.count { throw Failure("text after the object \(at())") }
            return o
        }

        mutating func value(_ key: String) throws(Failure) -> Value {
            guard i < b.count else { throw Failure("a value expected for '\(key.prefix(40))' (the line ends early)") }
            switch b[i] {
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                throw Failure("field '\(key.prefix(40))' holds \(b[i] == UInt8(ascii: "[") ? "an array" : "an object"); its value must be a string, a number, true, false or null")
            case UInt8(ascii: "t") where b[i...].starts(with: Array("true".utf8)): i += 4; return .bool(true)
            case UInt8(ascii: "f") where b[i...].starts(with: Array("false".utf8)): i += 5; return .bool(false)
            case UInt8(ascii: "n") where b[i...].starts(with: Array("null".utf8)): i += 4; return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                let s = i
                if b[i] == UInt8(ascii: "-") { i += 1 }
                var digits = 0
                while i < b.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b[i]) { i += 1; digits += 1 }
                if i < b.count, b[i] == UInt8(ascii: ".") {
                    i += 1
                    while i < b.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b[i]) { i += 1 }
                }
                if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
                    i += 1
                    if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
                    while i < b.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b[i]) { i += 1 }
                }
                if digits == 0 { throw Failure("a malformed number for '\(key.prefix(40))'") }
                return .number(String(decoding: b[s..<i], as: UTF8.self))
            default:
                throw Failure("a malformed value for '\(key.prefix(40))' \(at())")
            }
        }

        mutating func hex4() throws(Failure) -> UInt32 {
            guard i + 4 <= b.count, let v = UInt32(String(decoding: b[i..<(i + 4)], as: UTF8.self), radix: 16) else {
                throw Failure("a malformed \\u escape \(at())")
            }
            i += 4
            return v
        }

        mutating func string() throws(Failure) -> String {
            i += 1   // the opening quote
            var out: [UInt8] = []
            while i < b.count {
                let c = b[i]
                if c == UInt8(ascii: "\"") { i += 1; return String(decoding: out, as: UTF8.self) }
                if c < 0x20 { throw Failure("a raw control character inside a string \(at())") }
                if c != UInt8(ascii: "\\") { out.append(c); i += 1; continue }
                i += 1
                guard i < b.count else { break }
                let e = b[i]
                i += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(8)
                case UInt8(ascii: "f"): out.append(12)
                case UInt8(ascii: "n"): out.append(10)
                case UInt8(ascii: "r"): out.append(13)
                case UInt8(ascii: "t"): out.append(9)
                case UInt8(ascii: "u"):
                    var v = try hex4()
                    if (0xD800...0xDBFF).contains(v), i + 6 <= b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") {
                        i += 2
                        let lo = try hex4()
                        guard (0xDC00...0xDFFF).contains(lo) else { throw Failure("a broken surrogate pair \(at())") }
                        v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00)
                    }
                    guard let u = Unicode.Scalar(v), v != 0 else { throw Failure("an invalid \\u escape \(at())") }
                    out.append(contentsOf: Array(String(u).utf8))
                default: throw Failure("an invalid escape \\\(String(UnicodeScalar(e))) \(at())")
                }
            }
            throw Failure("a string that is not closed (the line ends early)")
        }
    }

    /// Typed access to one record's fields, each failure naming the line, the field and what was expected.
    public struct Record {
        public let source: String
        public let line: Int
        public let fields: [String: Value]

        public init(source: String, line: Int, fields: [String: Value]) {
            self.source = source; self.line = line; self.fields = fields
        }

        public func fail(_ why: String) -> Failure { Failure("\(source) line \(line): \(why)") }

        func got(_ k: String) -> Value? { fields[k] }

        public func string(_ k: String, required: Bool = false, maxLength: Int = 1 << 20) throws(Failure) -> String? {
            switch got(k) {
            case nil: if required { throw fail("field '\(k)' is missing") }; return nil
            case let .string(s)?:
                if s.utf8.count > maxLength { throw fail("field '\(k)' is \(s.utf8.count) bytes long; at most \(maxLength) expected") }
                return s
            case let v?: throw fail("field '\(k)' must be a string, not \(JSONLines.show(v))")
            }
        }

        public func int(_ k: String, _ range: ClosedRange<Int>, required: Bool = false) throws(Failure) -> Int? {
            switch got(k) {
            case nil: if required { throw fail("field '\(k)' is missing") }; return nil
            case let .number(t)?:
                guard let n = Int(t), range.contains(n) else {
                    throw fail("field '\(k)' must be an integer from \(range.lowerBound) to \(range.upperBound), not \(JSONLines.show(.number(t)))")
                }
                return n
            case let v?: throw fail("field '\(k)' must be an integer from \(range.lowerBound) to \(range.upperBound), not \(JSONLines.show(v))")
            }
        }

        public func double(_ k: String, _ range: ClosedRange<Double>, required: Bool = false) throws(Failure) -> Double? {
            switch got(k) {
            case nil: if required { throw fail("field '\(k)' is missing") }; return nil
            case let .number(t)?:
                guard let d = Double(t), d.isFinite, range.contains(d) else {
                    throw fail("field '\(k)' must be a number from \(range.lowerBound) to \(range.upperBound), not \(JSONLines.show(.number(t)))")
                }
                return d
            case let v?: throw fail("field '\(k)' must be a number, not \(JSONLines.show(v))")
            }
        }

        /// Fields other than `known` are an error (a typo or another program's file).
        public func onlyKnown(_ known: Set<String>) throws(Failure) {
            if let k = fields.keys.sorted().first(where: { !known.contains($0) }) {
                throw fail("unknown field '\(k.count > 40 ? String(k.prefix(40)) + "..." : k)'")
            }
        }
    }
}
