// Reading sense codes the way users paste them: "03/0C/00", "3 0c 0", raw sense bytes, or lines copied from the
// logs of Nero, cdrecord, wodim, growisofs, libburn/xorriso/Brasero, ImgBurn and the Linux kernel.

public struct SenseInput: Equatable, Sendable {
    public enum Source: String, Sendable { case triple, rawBytes = "raw-bytes", log }
    /// The log a pasted line looks like it came from (the shape of its sense fields).
    public enum LogFormat: String, Sendable {
        case labelled = "labelled fields (Nero, cdrecord, wodim)", senseBytes = "labelled sense bytes (cdrecord, wodim, ImgBurn)"
        case growisofs = "growisofs (SK=/ASC=/ACQ=)", libburn = "libburn, xorriso, Brasero ([K AA QQ])"
        case kernel = "Linux kernel (Sense Key : NAME, Add. Sense: TEXT)", imgburn = "ImgBurn (Reason: TEXT)"
    }
    public let sense: SenseData
    public let source: Source
    /// True when whole sense bytes were given (so format, information and FRU fields are meaningful).
    public let fromBytes: Bool
    /// False when the log names only the additional sense (ImgBurn's "Reason:"): the key in `sense` is then 0 and
    /// must not be shown as the drive's.
    public let keyGiven: Bool
    public let logFormat: LogFormat?

    public init(sense: SenseData, source: Source, fromBytes: Bool? = nil, keyGiven: Bool = true, logFormat: LogFormat? = nil) {
        self.sense = sense
        self.source = source
        self.fromBytes = fromBytes ?? (source == .rawBytes)
        self.keyGiven = keyGiven
        self.logFormat = logFormat
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case unrecognised(String)
        case badSense(SenseData.Failure)
        case outOfRange(String)
        public var description: String {
            switch self {
            case let .unrecognised(s):
                return "cannot read a sense code from \"\(s)\": give KEY/ASC/ASCQ (03/0C/00), three hex numbers, raw sense bytes (70 00 03 ...), or the log lines that carry it (Nero/cdrecord/wodim 'Sense Key:' and 'Sense Code:', growisofs 'SK=3h/ASC=0Ch/ACQ=00h', libburn '[3 0C 00]', kernel 'Sense Key : Medium Error' and 'Add. Sense:', ImgBurn 'Reason:')"
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
                    do { return SenseInput(sense: try SenseData(bytes: bytes), source: .log, fromBytes: true, logFormat: .senseBytes) }
                    catch { throw Failure.badSense(error) }
                }
            }
        }
        // libburn (xorriso, cdrskin, Brasero): "SCSI error on write(0,16): [3 73 03] Power calibration area error".
        if let t = bracketTriple(text) {
            return SenseInput(sense: SenseData(key: t.0, asc: t.1, ascq: t.2), source: .log, logFormat: .libburn)
        }
        // The Linux kernel names the key ("Sense Key : Medium Error [current]") and the additional sense ("Add. Sense:
        // Write error", or "ASC=0x73 ASCQ=0x3" for a code it has no text for).
        if let keyName = line(after: "sense key", in: text), let key = SenseKeyTable.code(named: keyName) {
            if let add = line(after: "add. sense", in: text) {
                if let (a, q) = ASCTable.code(described: add) {
                    return SenseInput(sense: SenseData(key: key, asc: a, ascq: q), source: .log, logFormat: .kernel)
                }
                if let a = value(after: ["asc"], in: add), let q = value(after: ["ascq"], in: add), a <= 0xFF, q <= 0xFF {
                    return SenseInput(sense: SenseData(key: key, asc: UInt8(a), ascq: UInt8(q)), source: .log, logFormat: .kernel)
                }
                throw Failure.outOfRange("the kernel line names the sense key \(SenseKeyTable.name(key)) but its additional sense '\(add)' is not in the T10 list: paste the line with the ASC and ASCQ numbers")
            }
            // The key alone says too little to decode: say which line to add.
            if value(after: ["sense code", "additional sense code", "asc"], in: text) == nil {
                throw Failure.outOfRange("the line gives only the sense key (\(Hex.byte(key))h \(SenseKeyTable.name(key))): paste the kernel's 'Add. Sense:' line that follows it too")
            }
        }
        // The kernel's additional-sense line alone: the sense is decoded, the key is not in it (as ImgBurn's logs).
        if line(after: "sense key", in: text) == nil, value(after: ["sense key", "sk"], in: text) == nil,
           let add = line(after: "add. sense", in: text), let (a, q) = ASCTable.code(described: add) {
            return SenseInput(sense: SenseData(key: 0, asc: a, ascq: q), source: .log, keyGiven: false, logFormat: .kernel)
        }
        if let key = value(after: ["sense key", "sk"], in: text) {
            guard let asc = value(after: ["sense code", "additional sense code", "asc"], in: text) else {
                guard key <= 0x0F else { throw Failure.outOfRange("log values out of range") }
                throw Failure.outOfRange("the log gives only the sense key (\(Hex.byte(UInt8(key)))h \(SenseKeyTable.name(UInt8(key)))): paste its 'Sense Code:' (or ASC) line too")
            }
            let ascq = value(after: ["sense qual", "sense qualifier", "qual", "ascq", "acq"], in: text) ?? 0
            guard key <= 0x0F, asc <= 0xFF, ascq <= 0xFF else { throw Failure.outOfRange("log values out of range") }
            let growisofs = text.lowercased().contains("sk=")
            return SenseInput(sense: SenseData(key: UInt8(key), asc: UInt8(asc), ascq: UInt8(ascq)), source: .log,
                              logFormat: growisofs ? .growisofs : .labelled)
        }
        // cdrecord/wodim's "Sense Code: 0x0C Qual 0x00" alone: the additional sense without its key line.
        if let asc = value(after: ["sense code", "additional sense code"], in: text), asc <= 0xFF {
            let ascq = value(after: ["sense qual", "sense qualifier", "qual", "ascq"], in: text) ?? 0
            guard ascq <= 0xFF else { throw Failure.outOfRange("log values out of range") }
            return SenseInput(sense: SenseData(key: 0, asc: UInt8(asc), ascq: UInt8(ascq)), source: .log, keyGiven: false, logFormat: .labelled)
        }
        // ImgBurn: "Failed to Write Sectors 0 - 31 - Reason: Power Calibration Area Error" names no sense key.
        if let reason = line(after: "reason", in: text), let (a, q) = ASCTable.code(described: reason) {
            return SenseInput(sense: SenseData(key: 0, asc: a, ascq: q), source: .log, keyGiven: false, logFormat: .imgburn)
        }
        return nil
    }

    /// "[3 0C 00]": one hex digit, then two two-digit hex numbers, in brackets.
    static func bracketTriple(_ text: String) -> (UInt8, UInt8, UInt8)? {
        let c = Array(text.utf8)
        var i = 0
        while i + 9 <= c.count {
            if c[i] == UInt8(ascii: "["), c[i + 2] == 0x20, c[i + 5] == 0x20, c[i + 8] == UInt8(ascii: "]"),
               let k = hex(c[(i + 1)...(i + 1)]), let a = hex(c[(i + 3)...(i + 4)]), let q = hex(c[(i + 6)...(i + 7)]) {
                return (k, a, q)
            }
            i += 1
        }
        return nil
    }

    static func hex(_ s: ArraySlice<UInt8>) -> UInt8? {
        var v: UInt8 = 0
        for b in s {
            let d: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = b - UInt8(ascii: "A") + 10
            default: return nil
            }
            v = v << 4 | d
        }
        return v
    }

    /// The rest of the line after a label and its colon ("Add. Sense: Write error" -> "Write error"), without a trailing
    /// "[current]"/"[deferred]"; nil when the label does not start a word or has no colon after it.
    static func line(after label: String, in text: String) -> String? {
        for l in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let lower = l.lowercased()
            guard let r = lower.range(of: label) else { continue }
            if r.lowerBound != lower.startIndex, let b = lower[..<r.lowerBound].last, b.isLetter || b.isNumber { continue }
            var rest = lower[r.upperBound...].drop { $0 == " " || $0 == "\t" }
            guard rest.first == ":" else { continue }
            rest = rest.dropFirst()
            // The same characters of the original line (the lower-cased copy has the same length in ASCII logs).
            let start = l.index(l.startIndex, offsetBy: lower.distance(from: lower.startIndex, to: rest.startIndex), limitedBy: l.endIndex) ?? l.endIndex
            var v = String(l[start...]).trimmingSpaces()
            for tail in ["[current]", "[deferred]", "[descriptor]"] where v.lowercased().hasSuffix(tail) { v = String(v.dropLast(tail.count)).trimmingSpaces() }
            if !v.isEmpty { return v }
        }
        return nil
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
