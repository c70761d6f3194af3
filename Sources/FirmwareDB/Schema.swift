import Firmware
import Flashing
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import YAML

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
    public var description: String { "\(file)\(line.map { ":\($0)" } ?? ""): \(DBIssue.bounded(message))" }

    /// A message as one bounded line: control characters escaped, at most 300 characters.
    static func bounded(_ m: String) -> String {
        var out = ""
        for (i, u) in m.unicodeScalars.enumerated() {
            if i >= 300 { out += "..."; break }
            if u.value < 0x20 || (0x7F..<0xA0).contains(u.value) { out += "\\x" + String(u.value, radix: 16).leftPad(2) }
            else { out.unicodeScalars.append(u) }
        }
        return out
    }
}

/// A small checked reader over a YAML mapping: unknown keys are errors (typos must not pass silently).
struct Entry {
    let node: Node
    let file: String
    let what: String
    /// The mapping's values by key, taken once.
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

    /// An integer written in decimal or 0x hexadecimal, within `range`: every number firmware-db holds is read through
    /// here (or `number`), so no consumer ever sees an offset, size or count it cannot compute with. Out of range or not
    /// a number: an issue at the value's own line, and nil.
    func int(_ key: String, _ range: ClosedRange<Int>, required: Bool = false, issues: inout [DBIssue]) -> Int? {
        guard let v = fields?[key] else {
            if required { issues.append(fail("missing '\(key)'")) }
            return nil
        }
        return number(v, key, range, &issues)
    }

    /// One number node (a list item, a mapping's value) within `range`; `key` names it in the message.
    func number(_ v: Node, _ key: String, _ range: ClosedRange<Int>, _ issues: inout [DBIssue]) -> Int? {
        let line = v.mark?.line ?? self.line
        guard let n = Entry.parseInt(v) else {
            let shown = v.scalar.map { "'\(Entry.clip($0.string))'" } ?? "not a scalar"
            issues.append(DBIssue(file: file, line: line, message: "\(what): '\(key)' must be a whole number (decimal or 0x hex) in \(Entry.describe(range)); it is \(shown)"))
            return nil
        }
        guard range.contains(n) else {
            issues.append(DBIssue(file: file, line: line, message: "\(what): '\(key)' is \(Entry.clip(v.scalar?.string ?? "\(n)")), outside \(Entry.describe(range))"))
            return nil
        }
        return n
    }

    /// `n` bytes at the value of `key` (from the end when negative) must lie in an image of `size` bytes; an issue at
    /// the value's line when they do not.
    func fits(_ key: String, at o: Int, bytes n: Int, in size: Int, thing: String? = nil, _ issues: inout [DBIssue]) -> Bool {
        if o >= 0 ? o + n <= size : (-o >= n && -o <= size) { return true }
        let bytes = "\(n) byte\(n == 1 ? "" : "s") at '\(key)' \(Entry.show(o))"
        issues.append(DBIssue(file: file, line: fields?[key]?.mark?.line ?? line,
                              message: "\(what): " + (thing.map { "\($0) past the end of a \(Entry.show(size))-byte image (\(bytes))" }
                                                     ?? "\(bytes) lie past the end of a \(Entry.show(size))-byte image")))
        return false
    }

    /// A number with a fraction (seconds, speeds) within `range`: finite, written plainly.
    func decimal(_ key: String, _ range: ClosedRange<Double>, issues: inout [DBIssue]) -> Double? {
        guard let v = fields?[key] else { return nil }
        return decimal(v, key, range, &issues)
    }

    func decimal(_ v: Node, _ key: String, _ range: ClosedRange<Double>, _ issues: inout [DBIssue]) -> Double? {
        guard let s = v.scalar?.string, s.utf8.count <= 32, let d = Double(s.trimmedSpaces), d.isFinite, range.contains(d) else {
            let shown = v.scalar.map { "'\(Entry.clip($0.string))'" } ?? "not a scalar"
            issues.append(DBIssue(file: file, line: v.mark?.line ?? line,
                                  message: "\(what): '\(key)' must be a number from \(Entry.plain(range.lowerBound)) to \(Entry.plain(range.upperBound)); it is \(shown)"))
            return nil
        }
        return d
    }

    /// A range for messages: decimal when small, 0x hexadecimal beyond 4096.
    static func describe(_ r: ClosedRange<Int>) -> String { "\(show(r.lowerBound))-\(show(r.upperBound))" }
    static func show(_ n: Int) -> String { n > 4096 ? "0x" + String(n, radix: 16, uppercase: true) : "\(n)" }
    static func plain(_ d: Double) -> String { d == d.rounded() && abs(d) < 1e15 ? "\(Int(d))" : "\(d)" }

    /// A value quoted in a message: at most 40 characters, control characters escaped.
    static func clip(_ s: String) -> String {
        var out = ""
        for (i, u) in s.unicodeScalars.enumerated() {
            if i == 40 { out += "..."; break }
            if u.value < 0x20 || (0x7F..<0xA0).contains(u.value) { out += "\\x" + String(u.value, radix: 16, uppercase: false).leftPad(2) }
            else { out.unicodeScalars.append(u) }
        }
        return out
    }

    static func parseInt(_ v: Node) -> Int? {
        guard let s = v.scalar?.string else { return nil }
        return parseInt(s)
    }

    /// Decimal or 0x hexadecimal, optionally negative, '_' ignored, blanks around (YAMLNumber.int: the one rule).
    static func parseInt(_ s: String) -> Int? { YAMLNumber.int(s) }

    /// A list of numbers, each within `range`, at most `maxCount` of them.
    func intList(_ key: String, _ range: ClosedRange<Int>, maxCount: Int = 256, issues: inout [DBIssue]) -> [Int]? {
        guard let v = fields?[key] else { return nil }
        guard let seq = v.sequence else {
            issues.append(DBIssue(file: file, line: v.mark?.line ?? line, message: "\(what): '\(key)' must be a list of numbers"))
            return nil
        }
        guard seq.count <= maxCount else {
            issues.append(DBIssue(file: file, line: v.mark?.line ?? line, message: "\(what): '\(key)' has \(seq.count) entries (at most \(maxCount))"))
            return nil
        }
        var out: [Int] = []
        for item in seq {
            guard let n = number(item, key, range, &issues) else { return nil }
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

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}

/// The ranges firmware-db numbers may take: nothing in a drive's firmware, flash or answers is larger than the
/// largest image odflash reads (64 MiB), so no offset, size or count beyond it can be meant, and sums of two stay far
/// from overflowing.
enum Limit {
    static let image = ImageFile.maxSize
    /// An offset, address or end in an image or a drive's flash.
    static let place: ClosedRange<Int> = 0...image
    /// The same, counted back from the end when negative.
    static let signedPlace: ClosedRange<Int> = -image...image
    /// A size of an image, a flash, a range.
    static let size: ClosedRange<Int> = 1...image
    static let byte: ClosedRange<Int> = 0...0xFF
    static let u16: ClosedRange<Int> = 0...0xFFFF
    static let u32: ClosedRange<Int> = 0...0xFFFF_FFFF
    /// The length of a command's data (an answer, a block, a chunk of a read).
    static let transfer: ClosedRange<Int> = 1...0x10000
    /// A place inside a command's data.
    static let inTransfer: ClosedRange<Int> = 0...0x10000
    /// Seconds to wait, and a whole number of seconds.
    static let seconds: ClosedRange<Double> = 0...3600
    static let wholeSeconds: ClosedRange<Int> = 0...3600
    /// A speed in a media table's speed bits (x times the base speed).
    static let speed: ClosedRange<Double> = 0...1000
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

