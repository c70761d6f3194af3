// Reading sense codes the way users paste them: "03/0C/00", "3 0c 0", raw sense bytes,
// or lines copied from Nero, cdrecord or ImgBurn logs.

public struct SenseInput: Equatable, Sendable {
    public enum Source: String, Sendable { case triple, rawBytes = "raw-bytes", log }
    public let sense: SenseData
    public let source: Source
    /// True when whole sense bytes were given (so format, information and FRU fields are meaningful).
    public let fromBytes: Bool

    public init(sense: SenseData, source: Source, fromBytes: Bool? = nil) {
        self.sense = sense
        self.source = source
        self.fromBytes = fromBytes ?? (source == .rawBytes)
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case unrecognised(String)
        case badSense(SenseData.Failure)
        case outOfRange(String)
        public var description: String {
            switch self {
            case let .unrecognised(s):
                return "cannot read a sense code from \"\(s)\": give KEY/ASC/ASCQ (03/0C/00), three hex numbers, raw sense bytes (70 00 03 ...), or log lines with 'Sense Key:' and 'Sense Code:'"
            case let .badSense(f): return "raw sense bytes: \(f)"
            case let .outOfRange(s): return s
            }
        }
    }

    public static func parse(_ text: String) throws(Failure) -> SenseInput {
        let trimmed = text.trimmingSpaces()
        guard !trimmed.isEmpty else { throw Failure.unrecognised(text) }

        // 1. Log text with labelled fields.
        if let fromLog = try parseLog(trimmed) { return fromLog }

        // 2. KEY/ASC/ASCQ with slashes.
        let slash = trimmed.split(separator: "/", omittingEmptySubsequences: false)
        if slash.count == 3 { return try triple(slash.map(String.init), original: text) }

        // 3. Whitespace- or comma-separated hex.
        let tokens = trimmed.split(whereSeparator: { " \t\n\r,".contains($0) }).map(String.init)
        if tokens.count == 3 { return try triple(tokens, original: text) }
        if let bytes = Bytes.parseHex(trimmed), bytes.count >= 8 {
            do { return SenseInput(sense: try SenseData(bytes: bytes), source: .rawBytes) }
            catch { throw Failure.badSense(error) }
        }
        throw Failure.unrecognised(text)
    }

    static func number(_ s: String) -> Int? {
        var t = s.trimmingSpaces()
        if t.hasPrefix("0x") || t.hasPrefix("0X") { t.removeFirst(2) }
        if t.hasSuffix("h") || t.hasSuffix("H") { t.removeLast() }
        // Hex digits only: Int(_:radix:) would also take a sign ("-41").
        guard !t.isEmpty, t.count <= 4, t.allSatisfy(\.isHexDigit) else { return nil }
        return Int(t, radix: 16)
    }

    static func triple(_ parts: [String], original: String) throws(Failure) -> SenseInput {
        guard parts.count == 3, let k = number(parts[0]), let a = number(parts[1]), let q = number(parts[2]) else {
            throw Failure.unrecognised(original)
        }
        guard k <= 0x0F else { throw Failure.outOfRange("sense key \(Hex.offset(k)) is out of range (0-F)") }
        guard a <= 0xFF, q <= 0xFF else { throw Failure.outOfRange("ASC and ASCQ are single bytes (00-FF)") }
        return SenseInput(sense: SenseData(key: UInt8(k), asc: UInt8(a), ascq: UInt8(q)), source: .triple)
    }

    /// Finds "Sense Key", "Sense Code"/"ASC", "Sense Qual"/"Qual"/"ASCQ", or a labelled raw sense dump.
    static func parseLog(_ text: String) throws(Failure) -> SenseInput? {
        let lower = text.lowercased()
        // A labelled sense dump wins: it carries every field.
        for label in ["sense bytes:", "sense area:", "sense data:", "sense:"] {
            if let r = lower.range(of: label) {
                let after = text[r.upperBound...]
                let line = after.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? ""
                let hexPart = line.split(separator: " ").prefix(while: { t in
                    let s = String(t).replacingOccurrences("0x", "")
                    return !s.isEmpty && s.count <= 2 && s.allSatisfy(\.isHexDigit)
                }).joined(separator: " ")
                if let bytes = Bytes.parseHex(hexPart.replacingOccurrences("0x", "")), bytes.count >= 8 {
                    do { return SenseInput(sense: try SenseData(bytes: bytes), source: .log, fromBytes: true) }
                    catch { throw Failure.badSense(error) }
                }
            }
        }
        guard let key = value(after: ["sense key"], in: text) else { return nil }
        guard let asc = value(after: ["sense code", "additional sense code", "asc"], in: text) else { return nil }
        let ascq = value(after: ["sense qual", "sense qualifier", "qual", "ascq"], in: text) ?? 0
        guard key <= 0x0F, asc <= 0xFF, ascq <= 0xFF else { throw Failure.outOfRange("log values out of range") }
        return SenseInput(sense: SenseData(key: UInt8(key), asc: UInt8(asc), ascq: UInt8(ascq)), source: .log)
    }

    /// The first hex number after any of the labels (followed by ':' or whitespace).
    static func value(after labels: [String], in text: String) -> Int? {
        let lower = text.lowercased()
        for label in labels {
            var search = lower[...]
            while let r = search.range(of: label) {
                // The label must start a word and not be the start of a longer label ("ascq" vs "asc").
                let before = r.lowerBound == lower.startIndex ? " " : lower[lower.index(before: r.lowerBound)]
                var rest = lower[r.upperBound...]
                let startsWord = !(before.isLetter || before.isNumber)
                if startsWord, let c = rest.first, !(c.isLetter) {
                    rest = rest.drop(while: { $0 == ":" || $0 == " " || $0 == "\t" || $0 == "=" })
                    let tok = rest.prefix(while: { $0.isHexDigit || $0 == "x" })
                    if let v = number(String(tok)) { return v }
                }
                search = lower[r.upperBound...]
            }
        }
        return nil
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }

    func range(of target: String) -> Range<Index>? {
        guard !target.isEmpty else { return nil }
        var i = startIndex
        while i < endIndex {
            if self[i...].hasPrefix(target) { return i..<index(i, offsetBy: target.count) }
            i = index(after: i)
        }
        return nil
    }

    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        var out = ""
        var rest = self[...]
        while let r = rest.range(of: target) {
            out += rest[..<r.lowerBound]
            out += replacement
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}
