import Firmware
import Flashing
import Foundation
import Yams

/// How far an operation has been tested on real hardware (flashrom's convention).
public enum TestStatus: String, Codable, Sendable, CaseIterable {
    case ok = "ok", notTested = "not-tested", bad = "bad", notApplicable = "n/a"
}

/// The operations a status is kept for.
public enum Operation: String, Codable, Sendable, CaseIterable {
    case identify, dump, flash, region, booktype
}

public struct Family: Sendable, Equatable {
    public var file: String = ""
    public var id: String
    public var name: String
    public var provenance: String
    /// True when no public fact backs the entry (the CLI says so).
    public var synthetic: Bool
    public var protocolName: String?
    public var status: [Operation: TestStatus]
    public var notes: String?
    public var layouts: [ImageLayout] = []
    /// The flash protocol, when a public source describes it (the first of `flashVariants`).
    public var flash: FlashProtocol? { flashVariants.first }
    /// Every flash protocol of the family; where the drive's class decides (NEC), each names its classes.
    public var flashVariants: [FlashProtocol] = []
    /// How to read the firmware out, when a public source describes it (the first of `dumpVariants`).
    public var dump: DumpProtocol? { dumpVariants.first }
    /// Every read-out sequence of the family; where the drive's class decides (NEC), each names its classes and layout.
    public var dumpVariants: [DumpProtocol] = []
    /// Vendor book-type commands, when public.
    public var booktype: BooktypeCommands?
    /// Vendor region resets, when public.
    public var region: RegionResets?
    /// Vendor commands the family marks read-only, with provenance (identification reads may use them).
    public var readOnlyCommands: [ReadOnlyCommand] = []
    /// Read-only identification reads for drives no model entry names (`scan --probe`, `info --probe`).
    public var identify: IdentifyRule?
    /// The read of per-media write-strategy versions (`info`), when public.
    public var strategyVersions: StrategyVersionRead?
}

public struct Model: Sendable, Equatable {
    public var id: String
    public var name: String
    public var vendor: String
    public var product: String
    public var revision: String
    public var family: String
    public var provenance: String
    public var synthetic: Bool
    public var notes: String?
    /// The identifier this model's images carry (Plextor header, MT1959 config ID, NEC drive ID).
    public var imageID: String?

    /// Case-insensitive match of trimmed INQUIRY strings against the patterns (`*` and `?` wildcards).
    public func matches(vendor v: String, product p: String, revision r: String) -> Bool {
        Glob.match(vendor, v) && Glob.match(product, p) && Glob.match(revision, r)
    }
}

public enum Glob {
    public static func match(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern.lowercased()), t = Array(text.lowercased().trimmedSpaces)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count && (p[pi] == "?" || p[pi] == t[ti]) { pi += 1; ti += 1 }
            else if pi < p.count && p[pi] == "*" { star = pi; mark = ti; pi += 1 }
            else if star >= 0 { pi = star + 1; mark += 1; ti = mark }
            else { return false }
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}

/// One problem found while loading or linting, with its place.
public struct DBIssue: Error, Equatable, Sendable, CustomStringConvertible {
    public let file: String
    public let line: Int?
    public let message: String
    public var description: String { "\(file)\(line.map { ":\($0)" } ?? ""): \(message)" }
}

/// A small checked reader over a YAML mapping: unknown keys are errors (typos must not pass silently).
struct Entry {
    let node: Node
    let file: String
    let what: String
    /// The mapping's values by key, taken once (Yams' own lookup compares whole nodes, key by key).
    let fields: Fields?

    /// A mapping's string keys and values in order. Mappings here hold a handful of keys: a linear search beats
    /// building a hash table for each of the thousands of small mappings every command reads.
    struct Fields: Sequence {
        let pairs: [(key: String, value: Node)]
        subscript(_ k: String) -> Node? {
            for p in pairs where p.key == k { return p.value }
            return nil
        }
        func makeIterator() -> IndexingIterator<[(key: String, value: Node)]> { pairs.makeIterator() }
    }
    var line: Int? { node.mark.map { $0.line } }

    init(node: Node, file: String, what: String) {
        self.node = node
        self.file = file
        self.what = what
        if let m = node.mapping {
            var d: [(key: String, value: Node)] = []
            d.reserveCapacity(m.count)
            for (k, v) in m { if let ks = k.scalar?.string { d.append((ks, v)) } }
            fields = Fields(pairs: d)
        } else {
            fields = nil
        }
    }

    func fail(_ m: String) -> DBIssue { DBIssue(file: file, line: line, message: "\(what): \(m)") }

    var mapping: Node.Mapping? { node.mapping }

    subscript(_ key: String) -> Node? { fields?[key] }

    func checkKeys(_ allowed: [String], issues: inout [DBIssue]) {
        guard let m = mapping else { return }
        for (k, v) in m {
            guard let key = k.string else { continue }
            if !allowed.contains(key) {
                let hint = allowed.min(by: { Levenshtein.distance($0, key) < Levenshtein.distance($1, key) })
                let suggestion = hint.flatMap { Levenshtein.distance($0, key) <= 3 ? " (did you mean '\($0)'?)" : nil } ?? ""
                issues.append(DBIssue(file: file, line: v.mark?.line ?? line, message: "\(what): unknown key '\(key)'\(suggestion)"))
            }
        }
    }

    func string(_ key: String, required: Bool = true, issues: inout [DBIssue]) -> String? {
        guard let v = fields?[key] else {
            if required { issues.append(fail("missing '\(key)'")) }
            return nil
        }
        guard let s = v.string, v.scalar != nil else {
            issues.append(DBIssue(file: file, line: v.mark?.line ?? line, message: "\(what): '\(key)' must be a string"))
            return nil
        }
        return s
    }

    /// An integer written in decimal or 0x hexadecimal.
    func int(_ key: String, required: Bool = false, issues: inout [DBIssue]) -> Int? {
        guard let v = fields?[key] else {
            if required { issues.append(fail("missing '\(key)'")) }
            return nil
        }
        guard let n = Entry.parseInt(v) else {
            issues.append(DBIssue(file: file, line: v.mark?.line ?? line, message: "\(what): '\(key)' must be a number (decimal or 0x hex)"))
            return nil
        }
        return n
    }

    static func parseInt(_ v: Node) -> Int? {
        guard let s = v.scalar?.string else { return nil }
        return parseInt(s)
    }

    /// Decimal or 0x hexadecimal, optionally negative, '_' allowed between digits, blanks around: one pass over the
    /// UTF-8 (this runs for every number in firmware-db on every command).
    static func parseInt(_ s: String) -> Int? {
        var u = Substring(s).utf8[...]
        while let f = u.first, f == 0x20 || f == 0x09 { u = u.dropFirst() }
        while let l = u.last, l == 0x20 || l == 0x09 { u = u.dropLast() }
        var neg = false
        if u.first == UInt8(ascii: "-") { neg = true; u = u.dropFirst() } else if u.first == UInt8(ascii: "+") { u = u.dropFirst() }
        var radix = 10
        if u.count > 2, u.first == UInt8(ascii: "0"), let x = u.dropFirst().first, x == UInt8(ascii: "x") || x == UInt8(ascii: "X") { radix = 16; u = u.dropFirst(2) }
        var n = 0, digits = 0
        for c in u {
            let d: Int
            switch c {
            case UInt8(ascii: "_"): continue
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = Int(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f") where radix == 16: d = Int(c - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F") where radix == 16: d = Int(c - UInt8(ascii: "A")) + 10
            default: return nil
            }
            let (m, o1) = n.multipliedReportingOverflow(by: radix)
            let (a, o2) = m.addingReportingOverflow(d)
            if o1 || o2 { return nil }
            n = a
            digits += 1
        }
        return digits == 0 ? nil : (neg ? -n : n)
    }

    func intList(_ key: String, issues: inout [DBIssue]) -> [Int]? {
        guard let v = fields?[key] else { return nil }
        guard let seq = v.sequence else {
            issues.append(DBIssue(file: file, line: v.mark?.line ?? line, message: "\(what): '\(key)' must be a list of numbers"))
            return nil
        }
        var out: [Int] = []
        for item in seq {
            guard let n = Entry.parseInt(item) else {
                issues.append(DBIssue(file: file, line: item.mark?.line ?? line, message: "\(what): '\(key)' holds a non-number"))
                return nil
            }
            out.append(n)
        }
        return out
    }

    func child(_ key: String, _ name: String) -> Entry? {
        fields?[key].map { Entry(node: $0, file: file, what: "\(what).\(name)") }
    }

    func children(_ key: String, issues: inout [DBIssue]) -> [Entry] {
        guard let v = fields?[key] else { return [] }
        if let sc = v.scalar, sc.string.isEmpty || sc.string == "~" || sc.string == "null" { return [] }   // "key:" with nothing under it
        guard let seq = v.sequence else {
            issues.append(DBIssue(file: file, line: v.mark?.line ?? line, message: "\(what): '\(key)' must be a list"))
            return []
        }
        return seq.enumerated().map { Entry(node: $1, file: file, what: "\(what).\(key)[\($0)]") }
    }

    func bool(_ key: String, issues: inout [DBIssue]) -> Bool? {
        guard let v = fields?[key] else { return nil }
        guard let b = v.bool else {
            issues.append(DBIssue(file: file, line: v.mark?.line ?? line, message: "\(what): '\(key)' must be true or false"))
            return nil
        }
        return b
    }
}

enum Levenshtein {
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var prev = Array(0...b.count)
        for i in 1...a.count {
            var cur = [i] + [Int](repeating: 0, count: b.count)
            for j in 1...b.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            prev = cur
        }
        return prev[b.count]
    }
}

