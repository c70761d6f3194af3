import YAML

/// YAML as firmware-db and the emulator profiles read it: composed by the YAML module, with aliases bounded (a
/// document whose aliases expand it past its own size — nested aliases, "billion laughs" — is refused before anything
/// walks it), and numbers checked against the range of the setting they give, at their line. FirmwareDB's checked
/// reader and the Codable profile decoder both start here, so no consumer sees an offset or count it cannot use.
public enum CheckedYAML {
    public struct Problem: Error, Equatable, CustomStringConvertible {
        public let line: Int?
        public let message: String
        public init(line: Int?, _ message: String) { self.line = line; self.message = message }
        public var description: String { message }
    }

    /// Composes `text`; nil for an empty document. Refuses aliases that expand the document beyond
    /// `expansionLimit(text)` nodes.
    public static func compose(_ text: String) throws -> Node? {
        guard let node = try YAML.compose(text) else { return nil }
        let limit = expansionLimit(text)
        var budget = limit
        if !walk(node, &budget) {
            throw Problem(line: node.mark?.line, "aliases expand the document to more than \(limit) nodes (nested aliases, a 'billion laughs'): use each anchor at most a few times, without nesting")
        }
        return node
    }

    /// Without aliases a document has fewer nodes than bytes (every node takes at least one character and a separator),
    /// so aliases may at most double that: ordinary reuse (a list of fields shared by a few layouts) stays far below.
    static func expansionLimit(_ text: String) -> Int { 2 * text.utf8.count + 64 }

    /// Visits the expanded tree, spending one unit per node; false when the budget runs out.
    static func walk(_ n: Node, _ budget: inout Int) -> Bool {
        budget -= 1
        if budget < 0 { return false }
        switch n {
        case .scalar: return true
        case .sequence(let s):
            for x in s where !walk(x, &budget) { return false }
            return true
        case .mapping(let m):
            for (k, v) in m where !walk(k, &budget) || !walk(v, &budget) { return false }
            return true
        }
    }

    /// The number ranges of the profile and sequence-emulator settings, by key (both spellings): every whole number
    /// in a profile must lie in its key's range, or in `otherNumbers` for a key not listed. Places in the flash are
    /// bounded by the largest flash an emulated drive has (64 MiB), so no sum of two of them overflows.
    public static let flashLimit = 64 << 20
    public static let settingRanges: [String: ClosedRange<Int>] = {
        let place = 0...flashLimit
        var r: [String: ClosedRange<Int>] = [
            "size": 1...flashLimit,
            "at": place, "idAt": place, "kernelAt": place, "revisionOffset": place, "checksumRange": place, "bootBlocks": 1...flashLimit,
            "from": place, "to": place, "bufferBoundary": 0...255,
            "busyAfterFlash": 0...3600, "bufferKB": 0...0x100000, "writeSpeedsKBs": 1...0xFFFF,
            "typeCode": 0...3, "vendorResetsLeft": 0...7, "userChangesLeft": 0...7, "region": 0...8,
            "version": 0...255, "deviceType": 0...31, "bookType": 0...255, "rid": 0...255, "endCode": 0...255,
            "booktypeVersion": 0...255, "booktypeChangesLeft": 0...0xFFFF, "bufferAnswerLength": 0...0x10000,
            "downgradeSeed": 0...0xFFFF, "seed": 0...0xFFFF_FFFF,
        ]
        for (k, v) in r { r[snakeCase(k)] = v }
        return r
    }()
    public static let otherNumbers: ClosedRange<Int> = 0...0xFFFF_FFFF
    /// Keys whose values are text even when they look like numbers (a date, a serial, a revision).
    static let textKeys: Set<String> = ["firmwareInformation", "serial", "vendor", "product", "mid", "tid", "name",
                                        "description", "provenance", "safeModeRevision", "pioneerInfo", "ascii", "hex", "mode",
                                        "behavior", "family", "layout", "profile", "leadIn", "leadOut", "vendorSpecific", "strategyVersions"]

    /// The first whole number outside its key's range (or a fraction where a key takes whole numbers), as a problem at
    /// its line; nil when every number fits.
    public static func checkNumbers(_ node: Node, ranges: [String: ClosedRange<Int>] = settingRanges, other: ClosedRange<Int> = otherNumbers,
                                    key: String? = nil) -> Problem? {
        switch node {
        case .scalar(let s):
            guard let key, !textKeys.contains(key), s.style == .plain else { return nil }
            let range = ranges[key] ?? other
            switch classify(s.string) {
            case .text: return nil
            case .whole(let n) where range.contains(n): return nil
            case .whole, .tooLarge:
                return Problem(line: node.mark?.line, "'\(key)' is \(clip(s.string)), outside \(describe(range))")
            case .fraction:
                return ranges[key] == nil ? nil : Problem(line: node.mark?.line, "'\(key)' must be a whole number in \(describe(range)); it is \(clip(s.string))")
            }
        case .sequence(let seq):
            for x in seq { if let p = checkNumbers(x, ranges: ranges, other: other, key: key) { return p } }
            return nil
        case .mapping(let m):
            for (k, v) in m { if let p = checkNumbers(v, ranges: ranges, other: other, key: k.string ?? key) { return p } }
            return nil
        }
    }

    enum Kind { case text, whole(Int), tooLarge, fraction }

    /// What a plain scalar says as a number: decimal or 0x hexadecimal whole numbers (too large for Int: tooLarge),
    /// a number with a fraction or exponent, or text.
    static func classify(_ s: String) -> Kind {
        var t = Substring(s.trimmingBlanks)
        let neg = t.hasPrefix("-")
        if neg || t.hasPrefix("+") { t = t.dropFirst() }
        if t.isEmpty { return .text }
        var radix = 10
        if t.count > 2, t.hasPrefix("0x") || t.hasPrefix("0X") { radix = 16; t = t.dropFirst(2) }
        let digits = t.filter { $0 != "_" }
        if !digits.isEmpty, digits.allSatisfy({ $0.isHexDigit && (radix == 16 || $0.isNumber) }) {
            guard let n = Int(digits, radix: radix) else { return .tooLarge }
            return .whole(neg ? -n : n)
        }
        if radix == 10, t.first.map({ $0.isNumber || $0 == "." }) ?? false, Double(String(t)) != nil || t.lowercased().contains("e") && t.allSatisfy({ "0123456789.eE+-".contains($0) }) {
            return .fraction
        }
        if ["inf", ".inf", "nan", ".nan"].contains(t.lowercased()) { return .fraction }
        return .text
    }

    /// The line of the value at a key path ("firmware", "idAt"; "capabilities", "writeSpeedsKBs", "2"), or of the
    /// deepest part of it that exists.
    public static func line(of path: [String], in node: Node) -> Int? {
        var n = node
        var line: Int?
        for k in path {
            if let m = n.mapping, let v = m[k] { n = v }
            else if let s = n.sequence, let i = Int(k), s.indices.contains(i) { n = s[i] }
            else { break }
            line = n.mark?.line ?? line
        }
        return line
    }

    static func describe(_ r: ClosedRange<Int>) -> String { "\(show(r.lowerBound))-\(show(r.upperBound))" }
    static func show(_ n: Int) -> String { n > 4096 ? "0x" + String(n, radix: 16, uppercase: true) : "\(n)" }

    /// A value quoted in a message: at most 40 characters, control characters escaped.
    public static func clip(_ s: String) -> String {
        var out = ""
        for (i, u) in s.unicodeScalars.enumerated() {
            if i == 40 { out += "..."; break }
            if u.value < 0x20 || (0x7F..<0xA0).contains(u.value) {
                let h = String(u.value, radix: 16)
                out += "\\x" + (h.count < 2 ? "0" + h : h)
            } else { out.unicodeScalars.append(u) }
        }
        return out
    }

    /// "busyAfterFlash" -> "busy_after_flash".
    static func snakeCase(_ s: String) -> String {
        var out = ""
        for c in s {
            if c.isUppercase { out += "_" + c.lowercased() } else { out.append(c) }
        }
        return out
    }
}

extension String {
    var trimmingBlanks: String {
        var u = Substring(self)
        while let f = u.first, f == " " || f == "\t" { u = u.dropFirst() }
        while let l = u.last, l == " " || l == "\t" { u = u.dropLast() }
        return String(u)
    }
}
