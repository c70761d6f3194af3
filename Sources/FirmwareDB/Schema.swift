import Firmware
import Flashing
import Foundation
import Yams

// TestStatus (how far an operation has been tested on real hardware, flashrom's convention) lives in Flashing, where
// preflight decides on it; firmware-db only parses it.

// Family and FamilyOperation are Flashing's model types (Sources/Flashing/Family.swift); firmware-db fills them.

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
    /// Where the entry is in models.yaml (for messages).
    public var line: Int? = nil

    /// Case-insensitive match of the normalised INQUIRY strings against the patterns (`*` and `?` wildcards).
    public func matches(vendor v: String, product p: String, revision r: String) -> Bool {
        InquiryText.matches(vendor: vendor, product: product, revision: revision, v, p, r)
    }

    /// Whether an ID read from an image (its config or model ID) names this model: equal to the model's image ID,
    /// trailing blanks aside (redumper compares the whole 16-character config ID).
    public func isNamed(byImageID id: String) -> Bool { imageID.map { ImageID.names($0, id) } ?? false }
}

/// How INQUIRY strings are compared: trimmed, every run of blanks as one space, and a vendor without the
/// underscores around it — redumper's normalisation (drive.ixx 126-128, 277-285), which the drive tables taken from
/// it rely on ('NEC' for the '_NEC    ' that qpxtool's NEC plugin names). Patterns are normalised the same way.
public enum InquiryText {
    public static func normalize(_ s: String, vendor: Bool = false) -> String {
        var out = ""
        var blank = false
        for c in s {
            if c == " " || c == "\t" || c == "\0" { blank = true; continue }
            if blank && !out.isEmpty { out.append(" ") }
            blank = false
            out.append(c)
        }
        if vendor {
            while out.hasPrefix("_") { out.removeFirst() }
            while out.hasSuffix("_") { out.removeLast() }
        }
        return out
    }

    /// Pattern (vendor, product, revision) against a drive's strings.
    static func matches(vendor: String, product: String, revision: String, _ v: String, _ p: String, _ r: String) -> Bool {
        Glob.match(normalize(vendor, vendor: true), normalize(v, vendor: true)) && Glob.match(normalize(product), normalize(p))
            && Glob.match(normalize(revision), normalize(r))
    }

    /// How specific a pattern is: its characters that are not wildcards, after normalisation.
    static func specificity(_ vendor: String, _ product: String, _ revision: String) -> Int {
        [normalize(vendor, vendor: true), normalize(product), normalize(revision)].reduce(0) { $0 + $1.filter { $0 != "*" && $0 != "?" }.count }
    }
}

/// An INQUIRY pattern (vendor, product, revision) prepared once: normalised, lowercased, as characters, with its
/// specificity. Matching runs for every model and drives-table row on every load (the lint cross-checks) and every
/// identification, so the strings are not normalised again each time.
struct InquiryPattern: Sendable {
    let vendor: [Character], product: [Character], revision: [Character]
    let specificity: Int

    init(vendor: String, product: String, revision: String) {
        let t = Text(vendor: vendor, product: product, revision: revision)
        self.vendor = t.vendor; self.product = t.product; self.revision = t.revision
        specificity = [self.vendor, self.product, self.revision].reduce(0) { $0 + $1.filter { $0 != "*" && $0 != "?" }.count }
    }

    /// A drive's strings, prepared the same way (wildcards in them, if any, are plain characters).
    struct Text {
        let vendor: [Character], product: [Character], revision: [Character]
        init(vendor: String, product: String, revision: String) {
            self.vendor = Array(InquiryText.normalize(vendor, vendor: true).lowercased())
            self.product = Array(InquiryText.normalize(product).lowercased())
            self.revision = Array(InquiryText.normalize(revision).lowercased())
        }
    }

    func matches(_ t: Text) -> Bool {
        Glob.match(vendor, t.vendor) && Glob.match(product, t.product) && Glob.match(revision, t.revision)
    }
}

/// A drive a public source names, from a drives table (firmware-db/drives/*.tsv): either matched by a models.yaml
/// entry (`model`), or known but not supported, with the reason. Where the source gives no INQUIRY strings, `route`
/// says how the drive is told apart instead; such a drive is listed but cannot be matched from INQUIRY.
public struct KnownDrive: Sendable, Equatable {
    /// The drives table's name (one per public source) and where the row is.
    public var table: String
    public var file: String
    public var line: Int
    /// INQUIRY vendor and product patterns, as the source gives them (nil when it gives none).
    public var vendor: String?
    public var product: String?
    public var name: String
    /// The models.yaml entry that matches this drive, when odflash supports it.
    public var model: String?
    /// For an unsupported drive the reason (required); for a matched one an optional remark.
    public var note: String?
    /// Place in the source: file and lines, within the table's repository and commit.
    public var source: String
    public var route: Route?
    public var tableProvenance: String
    /// The table's source in short: repository @commit.
    public var origin: String

    public var supported: Bool { model != nil }
    /// Why odflash does not support the drive (nil when a model matches it).
    public var reason: String? { model == nil ? note : nil }
    /// Where the row comes from, in short: repository @commit, file:lines.
    public var provenance: String { "\(origin) \(source)" }
    /// Vendor and product for display: the INQUIRY strings, or how the drive is identified.
    public var identification: String {
        if let v = vendor, let p = product { return "\(v) \(p)" }
        return route?.description ?? "-"
    }

    public func matches(vendor v: String, product p: String, revision r: String) -> Bool {
        guard let vendor, let product else { return false }
        return InquiryText.matches(vendor: vendor, product: product, revision: "*", v, p, r)
    }

    /// How a drive is identified when its source names no INQUIRY string.
    public enum Route: Sendable, Equatable, CustomStringConvertible {
        /// NEC/Optiarc: the 4-character drive ID read from drive RAM (Binflash IdentifyDrive).
        case necID([String])
        /// Pioneer DVR: the generation in the READ BUFFER F1h answer (DVRFlash).
        case dvrGeneration(Int)
        /// Pioneer DVR-109 and later: the kernel type in the READ BUFFER F1h answer (DVRFlash SetKernKey).
        case dvrKernelType(String)
        /// Pioneer BD: the SAT controller ID in the READ BUFFER F1h answer.
        case pioneerSAT([String])
        /// The source names the model only.
        case nameOnly

        public static let kinds = ["nec-id", "dvr-generation", "dvr-kernel-type", "pioneer-sat", "name-only"]

        /// "nec-id K315,K355", "dvr-generation 4", "dvr-kernel-type PIO_ADV", "pioneer-sat 8231,8232", "name-only".
        public init?(_ text: String) {
            let parts = text.split(separator: " ", maxSplits: 1).map(String.init)
            let arg = parts.count > 1 ? parts[1].trimmedSpaces : ""
            let list = arg.split(separator: ",").map { $0.trimmedSpaces }.filter { !$0.isEmpty }
            switch parts.first ?? "" {
            case "nec-id" where !list.isEmpty: self = .necID(list)
            case "dvr-generation": guard let n = Int(arg) else { return nil }; self = .dvrGeneration(n)
            case "dvr-kernel-type" where !arg.isEmpty: self = .dvrKernelType(arg)
            case "pioneer-sat" where !list.isEmpty: self = .pioneerSAT(list)
            case "name-only" where arg.isEmpty: self = .nameOnly
            default: return nil
            }
        }

        public var description: String {
            switch self {
            case .necID(let ids): return "NEC drive ID \(ids.joined(separator: " or ")), read from drive RAM"
            case .dvrGeneration(let g): return "DVR generation \(g) in the drive's READ BUFFER F1h answer"
            case .dvrKernelType(let t): return "kernel type \(t) in the drive's READ BUFFER F1h answer"
            case .pioneerSAT(let ids): return "SAT controller ID \(ids.joined(separator: " or ")) in the drive's READ BUFFER F1h answer"
            case .nameOnly: return "named by model only (no INQUIRY string or drive ID in the source)"
            }
        }
    }
}

/// One drives table: every drive one public source names, each row with its place in the source.
public struct DriveTable: Sendable, Equatable {
    public var name: String
    public var provenance: String
    /// The source in short: repository @commit.
    public var origin: String
    public var file: String
    public var drives: [KnownDrive]
}

/// What firmware-db says about a drive's INQUIRY strings.
public enum DriveMatch: Sendable, Equatable {
    /// A models.yaml entry: the drive belongs to that model's family.
    case model(Model)
    /// Known from public sources but not supported: the most specific drives-table rows (one per source naming it).
    case unsupported([KnownDrive])
}

public enum Glob {
    /// `*` and `?` wildcards, case-insensitive; the text's surrounding blanks do not count.
    public static func match(_ pattern: String, _ text: String) -> Bool {
        match(Array(pattern.lowercased()), Array(text.lowercased().trimmedSpaces))
    }

    /// The same over characters prepared once (lowercased, normalised): InquiryPattern matches with it.
    static func match(_ p: [Character], _ t: [Character]) -> Bool {
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

