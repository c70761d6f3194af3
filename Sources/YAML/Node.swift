/// A composed YAML document: scalars, mappings and sequences, each with the place it starts at. Aliases are already
/// resolved to (shared copies of) the node their anchor names, so a consumer never meets one; callers that must bound
/// what aliases expand to walk the tree with a budget (Emulator's CheckedYAML does).
///
/// Scalars keep their text and style only: which of them are numbers, booleans or null is for the reader to say (the
/// YAML 1.2 "failsafe" view). firmware-db and the emulator profiles read numbers through their own checked parsers.
public enum Node: Sendable {
    case scalar(Scalar)
    case mapping(Mapping)
    case sequence(Sequence)

    /// Where a node starts: 1-based line and column (columns count bytes).
    public struct Mark: Sendable, Equatable, Hashable {
        public let line: Int
        public let column: Int
        public init(line: Int, column: Int) { self.line = line; self.column = column }
    }

    public struct Scalar: Sendable {
        public enum Style: Sendable, Equatable { case plain, singleQuoted, doubleQuoted, literal, folded }
        public var string: String
        public var style: Style
        public var mark: Mark?
        public init(_ string: String, style: Style = .plain, mark: Mark? = nil) {
            self.string = string
            self.style = style
            self.mark = mark
        }
        /// A plain scalar YAML 1.2's core schema reads as null: empty, `~` or `null`.
        public var isNull: Bool {
            guard style == .plain else { return false }
            switch string {
            case "", "~", "null", "Null", "NULL": return true
            default: return false
            }
        }
    }

    /// Key-value pairs in document order (a key given twice is refused when the document is read).
    public struct Mapping: Swift.Sequence, Sendable {
        public var pairs: [(key: Node, value: Node)]
        public var mark: Mark?
        public init(_ pairs: [(key: Node, value: Node)], mark: Mark? = nil) { self.pairs = pairs; self.mark = mark }
        public var count: Int { pairs.count }
        /// The value of the first pair whose key is the scalar `key`.
        public subscript(_ key: String) -> Node? {
            for p in pairs where p.key.string == key { return p.value }
            return nil
        }
        public func makeIterator() -> IndexingIterator<[(key: Node, value: Node)]> { pairs.makeIterator() }
    }

    public struct Sequence: RandomAccessCollection, Sendable {
        public var nodes: [Node]
        public var mark: Mark?
        public init(_ nodes: [Node], mark: Mark? = nil) { self.nodes = nodes; self.mark = mark }
        public var startIndex: Int { nodes.startIndex }
        public var endIndex: Int { nodes.endIndex }
        public subscript(_ i: Int) -> Node { nodes[i] }
    }

    /// A plain scalar.
    public init(_ string: String) { self = .scalar(Scalar(string)) }
    /// A mapping of the pairs, in order.
    public init(_ pairs: [(Node, Node)]) { self = .mapping(Mapping(pairs.map { (key: $0.0, value: $0.1) })) }

    public var scalar: Scalar? { if case .scalar(let s) = self { return s }; return nil }
    public var mapping: Mapping? { if case .mapping(let m) = self { return m }; return nil }
    public var sequence: Sequence? { if case .sequence(let s) = self { return s }; return nil }
    /// A scalar's text; nil for a collection.
    public var string: String? { scalar?.string }
    public var mark: Mark? {
        switch self {
        case .scalar(let s): return s.mark
        case .mapping(let m): return m.mark
        case .sequence(let s): return s.mark
        }
    }
    /// A plain scalar that is a whole number in decimal or 0x hexadecimal (sign and '_' between digits allowed).
    public var int: Int? {
        guard let s = scalar, s.style == .plain else { return nil }
        return YAMLNumber.int(s.string)
    }
    /// A plain scalar that is true or false (yes/no/on/off too).
    public var bool: Bool? {
        guard let s = scalar, s.style == .plain else { return nil }
        return YAMLNumber.bool(s.string)
    }
    /// A plain scalar read as null.
    public var isNull: Bool { scalar?.isNull ?? false }
}

extension Node: Equatable {
    /// Same content (marks and scalar styles aside; every spelling of null is the same null).
    public static func == (a: Node, b: Node) -> Bool {
        switch (a, b) {
        case let (.scalar(x), .scalar(y)): return x.string == y.string || (x.isNull && y.isNull)
        case let (.sequence(x), .sequence(y)): return x.nodes == y.nodes
        case let (.mapping(x), .mapping(y)):
            return x.count == y.count && zip(x.pairs, y.pairs).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }
}

/// The numbers odflash's YAML holds: whole numbers in decimal or 0x hexadecimal, fractions in decimal.
public enum YAMLNumber {
    /// `s` less the spaces and tabs around it.
    static func trimmed(_ s: String) -> Substring {
        var u = Substring(s).utf8[...]
        while let f = u.first, f == 0x20 || f == 0x09 { u = u.dropFirst() }
        while let l = u.last, l == 0x20 || l == 0x09 { u = u.dropLast() }
        return Substring(u)
    }

    /// Decimal or 0x hexadecimal, optionally signed, '_' ignored (firmware-db's one rule for whole numbers: its
    /// checked reader and the profiles' range check read them so too), blanks around; nil otherwise or when it does
    /// not fit an Int.
    public static func int(_ s: String) -> Int? {
        var u = trimmed(s).utf8[...]
        var neg = false
        if u.first == UInt8(ascii: "-") { neg = true; u = u.dropFirst() } else if u.first == UInt8(ascii: "+") { u = u.dropFirst() }
        var radix = 10
        if u.count > 2, u.first == UInt8(ascii: "0"), let x = u.dropFirst().first, x | 0x20 == UInt8(ascii: "x") {
            radix = 16
            u = u.dropFirst(2)
        }
        var n = 0
        var digits = 0
        for c in u where c != UInt8(ascii: "_") {
            let d: Int
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = Int(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f") where radix == 16: d = Int(c - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F") where radix == 16: d = Int(c - UInt8(ascii: "A")) + 10
            default: return nil
            }
            let (m, o1) = n.multipliedReportingOverflow(by: radix)
            let (a, o2) = neg ? m.subtractingReportingOverflow(d) : m.addingReportingOverflow(d)
            if o1 || o2 { return nil }
            n = a
            digits += 1
        }
        return digits > 0 ? n : nil
    }

    /// A decimal number (fraction and exponent allowed) or .inf / .nan in YAML's spellings.
    public static func double(_ s: String) -> Double? {
        let t = String(trimmed(s))
        switch t {
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .infinity
        case "-.inf", "-.Inf", "-.INF": return -.infinity
        case ".nan", ".NaN", ".NAN": return .nan
        default: break
        }
        guard !t.isEmpty, t.utf8.allSatisfy({ (0x30...0x39).contains($0) || $0 == 0x2E || $0 == 0x2B || $0 == 0x2D || $0 | 0x20 == 0x65 }) else {
            if let i = int(t) { return Double(i) }
            return nil
        }
        return Double(t)
    }

    /// true / false (YAML 1.2), and the YAML 1.1 spellings yes / no / on / off.
    public static func bool(_ s: String) -> Bool? {
        switch s {
        case "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON": return true
        case "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF": return false
        default: return nil
        }
    }
}
