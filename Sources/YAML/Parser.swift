/// A syntax error: what is wrong and the 1-based line it is on.
public struct YAMLError: Error, Equatable, Sendable, CustomStringConvertible {
    public let line: Int?
    public let problem: String
    public init(line: Int?, _ problem: String) { self.line = line; self.problem = problem }
    public var description: String { line.map { "line \($0): \(problem)" } ?? problem }
}

/// Reads one YAML document into a `Node` tree: the part of YAML 1.2 that firmware-db and the emulator profiles use,
/// and a clear error for the rest.
///
/// Read: block mappings and sequences (compact forms such as `- key: value` included), flow mappings and sequences
/// over several lines, plain scalars (folded over lines), single- and double-quoted scalars with every escape YAML
/// defines, literal and folded block scalars with chomping and indentation indicators, anchors and aliases, comments,
/// a leading `---` and a trailing `...`. Refused with the line it is on: tags, directives, complex (`?`) keys, a
/// second document, a key given twice in one mapping, tabs as indentation, control characters, nesting deeper than
/// `maxDepth`. Nothing here recurses deeper than that bound.
public enum YAML {
    /// Collections nested deeper than this are refused (each level costs stack in the reader and in every walk).
    public static let maxDepth = 200

    /// The document in `text`; nil when it holds no node (empty, or comments only).
    public static func compose(_ text: String) throws(YAMLError) -> Node? {
        var p = YAMLReader(Array(text.utf8))
        return try p.document()
    }
}

struct YAMLReader {
    let b: [UInt8]
    var i = 0
    var anchors: [String: Node] = [:]
    var depth = 0
    /// Byte offsets at which each line starts.
    let lineStarts: [Int]

    init(_ bytes: [UInt8]) {
        b = bytes
        var starts = [0]
        for (k, c) in bytes.enumerated() where c == 0x0A { starts.append(k + 1) }
        lineStarts = starts
    }

    // MARK: places

    func lineIndex(_ j: Int) -> Int {
        var lo = 0, hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= j { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }
    func mark(_ j: Int) -> Node.Mark {
        let l = lineIndex(j)
        return Node.Mark(line: l + 1, column: j - lineStarts[l] + 1)
    }
    func col(_ j: Int) -> Int { j - lineStarts[lineIndex(j)] }
    func fail(_ m: String, at j: Int? = nil) -> YAMLError { YAMLError(line: mark(min(j ?? i, b.count)).line, m) }

    // MARK: characters

    func at(_ j: Int) -> UInt8? { j < b.count ? b[j] : nil }
    var cur: UInt8? { at(i) }
    static func isBlank(_ c: UInt8?) -> Bool { c == 0x20 || c == 0x09 }
    static func isBreak(_ c: UInt8?) -> Bool { c == 0x0A || c == 0x0D }
    /// End of input, a line break, a space or a tab.
    static func isBlankOrEnd(_ c: UInt8?) -> Bool { c == nil || isBlank(c) || isBreak(c) }
    static func isFlowIndicator(_ c: UInt8?) -> Bool { c == 0x2C || c == 0x5B || c == 0x5D || c == 0x7B || c == 0x7D }
    var atEOL: Bool { i >= b.count || Self.isBreak(b[i]) }

    /// Past spaces and tabs on this line, and a comment to its end.
    mutating func skipInline() {
        while Self.isBlank(cur) { i += 1 }
        if cur == 0x23, i == 0 || Self.isBlankOrEnd(b[i - 1]) { while !atEOL { i += 1 } }
    }

    /// Past one line break (CR, LF or CR LF).
    mutating func skipBreak() {
        if cur == 0x0D { i += 1 }
        if cur == 0x0A { i += 1 }
    }

    /// To the first character of the next content (past blanks, comments and line breaks); false at the end. A line
    /// reached across a break must not be indented with tabs.
    mutating func skipToContent() throws(YAMLError) -> Bool {
        var crossed = false
        while true {
            skipInline()
            if i >= b.count { return false }
            if Self.isBreak(b[i]) { skipBreak(); crossed = true; continue }
            if crossed {
                let start = lineStarts[lineIndex(i)]
                if b[start..<i].contains(0x09) { throw fail("a tab indents this line: YAML indents with spaces only") }
            }
            return true
        }
    }

    /// `---` or `...` at the start of a line, followed by a blank or the end of the line.
    func isDocumentMarker(_ j: Int) -> Bool {
        guard j + 3 <= b.count, col(j) == 0 else { return false }
        let three = (b[j], b[j + 1], b[j + 2])
        guard three == (0x2D, 0x2D, 0x2D) || three == (0x2E, 0x2E, 0x2E) else { return false }
        return Self.isBlankOrEnd(at(j + 3))
    }

    /// A block sequence entry indicator: `-` followed by a blank or the end of the line.
    func isEntry(_ j: Int) -> Bool { at(j) == 0x2D && Self.isBlankOrEnd(at(j + 1)) }

    // MARK: the document

    mutating func document() throws(YAMLError) -> Node? {
        if b.starts(with: [0xEF, 0xBB, 0xBF]) { i = 3 }
        try checkPrintable()
        guard try skipToContent() else { return nil }
        if cur == 0x25 && col(i) == 0 { throw fail("directives ('%...') are not supported") }
        var node: Node?
        if isDocumentMarker(i) && b[i] == 0x2D {
            i += 3
            skipInline()
            if !atEOL { node = try inlineNode(parent: -1, compact: false) }
        }
        if node == nil {
            guard try skipToContent() else { return nil }
            if isDocumentMarker(i) {
                if b[i] == 0x2D { throw fail("a second document: a file holds exactly one") }
                node = nil
            } else {
                node = try inlineNode(parent: -1, compact: true)
            }
        }
        // Only an end marker, comments and blank lines may follow.
        if try skipToContent() {
            guard isDocumentMarker(i) else {
                throw fail(col(i) == 0 ? "text after the document's end: is a key or '-' misplaced?" : "text indented less than the value it should belong to")
            }
            if b[i] == 0x2D { throw fail("a second document: a file holds exactly one") }
            i += 3
            if try skipToContent() { throw fail(isDocumentMarker(i) && b[i] == 0x2D ? "a second document: a file holds exactly one" : "text after the document's end marker '...'") }
        }
        return node
    }

    /// Every character must be printable (YAML's rule): tab, line breaks and U+0020 on, less the C1 controls, DEL,
    /// surrogates and U+FFFE/U+FFFF. The text is UTF-8 already (it came from a String).
    func checkPrintable() throws(YAMLError) {
        // ASCII (all of firmware-db but a few names) is checked byte by byte; the rest by scalar.
        guard let bad = b.firstIndex(where: { $0 >= 0x7F || ($0 < 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D) }) else { return }
        if b[bad] < 0x80 { throw fail("control character U+\(String(b[bad], radix: 16, uppercase: true).leftPadded(4)) is not allowed in YAML", at: bad) }
        var j = 0
        for u in String(decoding: b, as: UTF8.self).unicodeScalars {
            let v = u.value
            let ok = v == 0x09 || v == 0x0A || v == 0x0D || (0x20...0x7E).contains(v) || v == 0x85 || (0xA0...0xD7FF).contains(v)
                || (0xE000...0xFFFD).contains(v) || (0x10000...0x10FFFF).contains(v)
            if !ok { throw fail("control character U+\(String(v, radix: 16, uppercase: true).leftPadded(4)) is not allowed in YAML", at: j) }
            j += UTF8.width(u)
        }
    }

    // MARK: block structure

    mutating func enter() throws(YAMLError) {
        depth += 1
        if depth > YAML.maxDepth { throw fail("nested more than \(YAML.maxDepth) levels deep") }
    }

    /// The value after `key:` or `- ` (the cursor just past the indicator), inside a collection indented `parent`:
    /// on this line, or below it indented more (a sequence may also sit at the mapping's own indent when
    /// `sequenceAtParent`), or empty.
    mutating func blockValue(parent: Int, sequenceAtParent: Bool, compact: Bool) throws(YAMLError) -> Node {
        skipInline()
        let start = i
        var anchor: String?
        if cur == 0x26 {
            anchor = try name(of: "anchor")
            skipInline()
            if cur == 0x26 { throw fail("a value has two anchors: keep one") }
        }
        if cur == 0x21 { throw fail("tags ('!') are not supported: the key says what a value is") }
        var node: Node
        if atEOL {
            let save = i
            if try skipToContent(), !isDocumentMarker(i), col(i) > parent || (sequenceAtParent && col(i) == parent && isEntry(i)) {
                node = try inlineNode(parent: parent, compact: true)
            } else {
                i = save
                node = .scalar(Node.Scalar("", mark: mark(start)))
            }
        } else {
            node = try inlineNode(parent: parent, compact: compact && anchor == nil)
        }
        if let anchor { anchors[anchor] = node }
        return node
    }

    /// A node starting at the cursor, on its line. `compact`: the node is the first thing on its line (or follows a
    /// sequence's `- `), so it may open a block mapping or sequence here.
    mutating func inlineNode(parent: Int, compact: Bool) throws(YAMLError) -> Node {
        let start = i
        let c = col(i)
        switch b[i] {
        case 0x2D where isEntry(i):
            guard compact else { throw fail("a block sequence cannot start after 'key:' on the same line: put its '- ' entries on the lines below") }
            return try blockSequence(indent: c)
        case 0x5B, 0x7B, 0x2A:
            let isAlias = b[i] == 0x2A
            let n = isAlias ? try alias() : try flowNode()
            skipInline()
            if cur == 0x3A { throw fail("\(isAlias ? "an alias" : "a flow collection") as a mapping key is not supported") }
            try endOfLine()
            return n
        case 0x26:
            // An anchor first on its line (`- &a` ...): the node it names follows.
            let anchor = try name(of: "anchor")
            let n = try blockValue(parent: parent, sequenceAtParent: false, compact: compact)
            anchors[anchor] = n
            return n
        case 0x7C, 0x3E:
            return try blockScalar(parent: parent)
        case 0x22, 0x27:
            let s = try quoted()
            skipInline()
            if cur == 0x3A && Self.isBlankOrEnd(at(i + 1)) {
                guard compact else { throw fail("a mapping cannot start after 'key:' on the same line: put its keys on the lines below", at: start) }
                return try blockMapping(indent: c, firstKey: s, at: start)
            }
            try endOfLine()
            return s
        case 0x3F where Self.isBlankOrEnd(at(i + 1)):
            throw fail("complex mapping keys ('? ') are not supported")
        case 0x21:
            throw fail("tags ('!') are not supported: the key says what a value is")
        case 0x25, 0x40, 0x60, 0x2C, 0x5D, 0x7D:
            throw fail("'\(Character(Unicode.Scalar(b[i])))' cannot start a value: quote the value")
        default:
            let (text, isKey) = try plainLine(flow: false)
            if isKey {
                guard compact else { throw fail("a mapping cannot start after 'key:' on the same line (a value holding ': ' must be quoted)", at: start) }
                return try blockMapping(indent: c, firstKey: .scalar(Node.Scalar(text, mark: mark(start))), at: start)
            }
            return .scalar(Node.Scalar(try plainContinued(text, parent: parent), mark: mark(start)))
        }
    }

    /// Only blanks and a comment may follow a value on its line.
    mutating func endOfLine() throws(YAMLError) {
        skipInline()
        guard atEOL else {
            if cur == 0x23 { throw fail("a comment must be separated from the value by a space") }
            throw fail("unexpected text after the value: '\(snippet(i))'")
        }
    }

    func snippet(_ j: Int) -> String {
        var e = j
        while e < b.count, e - j < 20, !Self.isBreak(b[e]) { e += 1 }
        return String(decoding: b[j..<e], as: UTF8.self)
    }

    /// A block mapping whose first key (read already) starts at column `indent`; the cursor is at its ':'.
    mutating func blockMapping(indent: Int, firstKey: Node, at start: Int) throws(YAMLError) -> Node {
        try enter()
        defer { depth -= 1 }
        var pairs: [(key: Node, value: Node)] = []
        var seen: Set<String> = []
        var key = firstKey
        var keyAt = start
        while true {
            if let k = Self.identity(key), !seen.insert(k).inserted { throw fail("key '\(key.string ?? "")' is given twice in this mapping", at: keyAt) }
            i += 1   // the ':'
            let v = try blockValue(parent: indent, sequenceAtParent: true, compact: false)
            pairs.append((key: key, value: v))
            guard try skipToContent(), !isDocumentMarker(i) else { break }
            let c = col(i)
            if c < indent { break }
            if c > indent { throw fail("this line is indented more than the mapping's keys above it (\(indent) spaces) and belongs to no key") }
            if isEntry(i) { throw fail("a '- ' entry where the mapping expects a key (indent the list under its key)") }
            keyAt = i
            key = try mappingKey()
        }
        return .mapping(Node.Mapping(pairs, mark: mark(start)))
    }

    /// What makes two scalar keys the same key: their text, every spelling of null being one key.
    static func identity(_ key: Node) -> String? {
        guard let s = key.scalar else { return nil }
        return s.isNull ? "\u{0}null" : s.string
    }

    /// A key in a block mapping, the cursor left at its ':'.
    mutating func mappingKey() throws(YAMLError) -> Node {
        let start = i
        let key: Node
        switch b[i] {
        case 0x22, 0x27:
            key = try quoted()
            skipInline()
        case 0x3F where Self.isBlankOrEnd(at(i + 1)):
            throw fail("complex mapping keys ('? ') are not supported")
        case 0x5B, 0x7B, 0x2A, 0x26, 0x21, 0x7C, 0x3E, 0x25, 0x40, 0x60, 0x2C, 0x5D, 0x7D:
            throw fail("expected a key: '\(snippet(i))'")
        default:
            let (text, isKey) = try plainLine(flow: false)
            guard isKey else { throw fail("expected 'key: value', found '\(snippet(start))' (no ':' after it)", at: start) }
            key = .scalar(Node.Scalar(text, mark: mark(start)))
        }
        guard cur == 0x3A, Self.isBlankOrEnd(at(i + 1)) else { throw fail("expected ':' after the key", at: start) }
        return key
    }

    /// A block sequence whose entries' '-' stand at column `indent`; the cursor is at the first one.
    mutating func blockSequence(indent: Int) throws(YAMLError) -> Node {
        try enter()
        defer { depth -= 1 }
        let start = i
        var items: [Node] = []
        while true {
            i += 1   // the '-'
            items.append(try blockValue(parent: indent, sequenceAtParent: false, compact: true))
            guard try skipToContent(), !isDocumentMarker(i) else { break }
            let c = col(i)
            if c < indent { break }
            if c > indent { throw fail("this line is indented more than the list's '- ' entries above it (\(indent) spaces) and belongs to no entry") }
            guard isEntry(i) else { break }
        }
        return .sequence(Node.Sequence(items, mark: mark(start)))
    }

    // MARK: scalars

    /// A plain scalar's text on this line. Ends at ': ' (then `isKey`, the cursor at the ':'), at ' #', at the end of
    /// the line and, in flow context, at ',', '[', ']', '{', '}' and ':' before one of them.
    mutating func plainLine(flow: Bool) throws(YAMLError) -> (String, isKey: Bool) {
        let start = i
        var end = i
        while i < b.count {
            let c = b[i]
            if Self.isBreak(c) { break }
            if c == 0x3A {
                let n = at(i + 1)
                if Self.isBlankOrEnd(n) || (flow && Self.isFlowIndicator(n)) {
                    return (String(decoding: b[start..<end], as: UTF8.self), true)
                }
            }
            if flow && Self.isFlowIndicator(c) { break }
            if c == 0x23 && i > start && Self.isBlank(b[i - 1]) { break }
            i += 1
            if !Self.isBlank(c) { end = i }
        }
        return (String(decoding: b[start..<end], as: UTF8.self), false)
    }

    /// A plain scalar continued on the following lines that are indented more than `parent`: each single line break
    /// folds to a space, each empty line to a line break. A comment line, a line at or left of `parent`, or a
    /// document marker ends it.
    mutating func plainContinued(_ first: String, parent: Int) throws(YAMLError) -> String {
        var text = first
        while true {
            while Self.isBlank(cur) { i += 1 }
            guard atEOL, i < b.count else { return text }
            let save = i
            var breaks = 0
            var j = i
            // Count line breaks over empty lines; stop at the next line with content.
            while j < b.count {
                if b[j] == 0x0D || b[j] == 0x0A {
                    if b[j] == 0x0D, at(j + 1) == 0x0A { j += 1 }
                    j += 1
                    breaks += 1
                    while Self.isBlank(at(j)) { j += 1 }
                    continue
                }
                break
            }
            guard j < b.count, b[j] != 0x23, col(j) > parent, !isDocumentMarker(j) else { i = save; return text }
            if b[lineStarts[lineIndex(j)]..<j].contains(0x09) { i = save; return text }
            i = j
            let lineStart = i
            let (more, isKey) = try plainLine(flow: false)
            if isKey { throw fail("a value holding ': ' over several lines must be quoted", at: lineStart) }
            text += breaks == 1 ? " " : String(repeating: "\n", count: breaks - 1)
            text += more
        }
    }

    /// A single- or double-quoted scalar, over as many lines as it takes: a line break folds to a space, an empty
    /// line to a line break, blanks around breaks are dropped; `\` at a line's end (double quotes) joins without one.
    mutating func quoted() throws(YAMLError) -> Node {
        let start = i
        let q = b[i]
        let double = q == 0x22
        i += 1
        var out: [UInt8] = []
        while true {
            guard i < b.count else { throw fail("a \(double ? "double" : "single")-quoted value is not closed: add the closing \(double ? "\"" : "'")", at: start) }
            let c = b[i]
            if c == q {
                if !double && at(i + 1) == 0x27 { out.append(0x27); i += 2; continue }
                i += 1
                break
            }
            if double && c == 0x5C {
                try escape(&out, start: start)
                continue
            }
            if Self.isBreak(c) || Self.isBlank(c) {
                // Blanks then a break: fold; blanks inside a line: keep.
                var j = i
                while Self.isBlank(at(j)) { j += 1 }
                if j < b.count, !Self.isBreak(b[j]) { out.append(contentsOf: b[i..<j]); i = j; continue }
                guard j < b.count else { i = j; continue }
                i = j
                var breaks = 0
                while Self.isBreak(cur) {
                    skipBreak()
                    breaks += 1
                    if isDocumentMarker(i) { throw fail("a document marker inside a quoted value: close the quote first", at: i) }
                    while Self.isBlank(cur) { i += 1 }
                }
                if breaks == 1 { out.append(0x20) } else { out.append(contentsOf: repeatElement(0x0A, count: breaks - 1)) }
                continue
            }
            out.append(c)
            i += 1
        }
        return .scalar(Node.Scalar(String(decoding: out, as: UTF8.self), style: double ? .doubleQuoted : .singleQuoted, mark: mark(start)))
    }

    /// One escape of a double-quoted scalar, the cursor at its backslash.
    mutating func escape(_ out: inout [UInt8], start: Int) throws(YAMLError) {
        let at0 = i
        i += 1
        guard let e = cur else { throw fail("a double-quoted value is not closed: add the closing \"", at: start) }
        i += 1
        func push(_ v: UInt32) { out.append(contentsOf: Array(String(Character(Unicode.Scalar(v)!)).utf8)) }
        switch e {
        case 0x30: out.append(0)
        case 0x61: out.append(7)
        case 0x62: out.append(8)
        case 0x74, 0x09: out.append(9)
        case 0x6E: out.append(0x0A)
        case 0x76: out.append(0x0B)
        case 0x66: out.append(0x0C)
        case 0x72: out.append(0x0D)
        case 0x65: out.append(0x1B)
        case 0x20: out.append(0x20)
        case 0x22: out.append(0x22)
        case 0x2F: out.append(0x2F)
        case 0x5C: out.append(0x5C)
        case 0x4E: push(0x85)
        case 0x5F: push(0xA0)
        case 0x4C: push(0x2028)
        case 0x50: push(0x2029)
        case 0x78, 0x75, 0x55:
            let n = e == 0x78 ? 2 : e == 0x75 ? 4 : 8
            guard i + n <= b.count, let v = UInt32(String(decoding: b[i..<i + n], as: UTF8.self), radix: 16), let u = Unicode.Scalar(v) else {
                throw fail("'\\\(Character(Unicode.Scalar(e)))' must be followed by \(n) hexadecimal digits naming a character", at: at0)
            }
            i += n
            push(u.value)
        case 0x0D, 0x0A:
            // An escaped line break: the lines join with nothing between them.
            i -= 1
            skipBreak()
            while Self.isBlank(cur) { i += 1 }
        default:
            throw fail("unknown escape '\\\(Character(Unicode.Scalar(e)))' in a double-quoted value", at: at0)
        }
    }

    /// A literal (`|`) or folded (`>`) block scalar, the cursor at its indicator, inside a collection indented `parent`.
    mutating func blockScalar(parent: Int) throws(YAMLError) -> Node {
        let start = i
        let folded = b[i] == 0x3E
        i += 1
        var chomp: UInt8 = 0   // 0 clip, '-' strip, '+' keep
        var explicit: Int?
        for _ in 0..<2 {
            if (cur == 0x2D || cur == 0x2B) && chomp == 0 { chomp = b[i]; i += 1 }
            else if let c = cur, (0x31...0x39).contains(c), explicit == nil { explicit = Int(c - 0x30); i += 1 }
        }
        try endOfLine()
        skipBreak()
        // The lines: their indent is the first non-empty line's (or the parent's plus the explicit indicator).
        var indent = explicit.map { max(parent, 0) + $0 }
        var lines: [Substring] = []
        var trailing = 0
        while i < b.count {
            let ls = i
            var j = i
            while at(j) == 0x20 { j += 1 }
            let empty = j >= b.count || Self.isBreak(b[j])
            if indent == nil && !empty {
                indent = j - ls
                if indent! <= parent { indent = nil; break }
            }
            if !empty, let ind = indent, j - ls < ind { break }
            if isDocumentMarker(ls) { break }
            var e = j
            while e < b.count, !Self.isBreak(b[e]) { e += 1 }
            if empty {
                lines.append("")
                trailing += 1
            } else {
                let from = ls + (indent ?? 0)
                lines.append(Substring(String(decoding: b[from..<e], as: UTF8.self)))
                trailing = 0
            }
            i = e
            skipBreak()
        }
        // Back to the start of the line that ended the scalar (or stay at the end).
        if i < b.count { i = lineStarts[lineIndex(i)] }
        let content = lines.dropLast(trailing)
        var out = ""
        var pending = 0
        var first = true
        var prevMore = false
        for l in content {
            if l.isEmpty { pending += 1; continue }
            let more = l.first == " " || l.first == "\t"
            if first {
                out += String(repeating: "\n", count: pending)
            } else if folded && !more && !prevMore {
                out += pending == 0 ? " " : String(repeating: "\n", count: pending)
            } else {
                out += String(repeating: "\n", count: pending + 1)
            }
            out += l
            first = false
            prevMore = more
            pending = 0
        }
        if !first {
            switch chomp {
            case 0x2D: break
            case 0x2B: out += String(repeating: "\n", count: 1 + trailing)
            default: out += "\n"
            }
        } else if chomp == 0x2B {
            out += String(repeating: "\n", count: lines.count)
        }
        return .scalar(Node.Scalar(out, style: folded ? .folded : .literal, mark: mark(start)))
    }

    // MARK: anchors and aliases

    /// The name after '&' or '*' (the cursor at that character).
    mutating func name(of what: String) throws(YAMLError) -> String {
        let start = i
        i += 1
        while let c = cur, !Self.isBlankOrEnd(c), !Self.isFlowIndicator(c) { i += 1 }
        guard i > start + 1 else { throw fail("an \(what) needs a name", at: start) }
        return String(decoding: b[start + 1..<i], as: UTF8.self)
    }

    mutating func alias() throws(YAMLError) -> Node {
        let start = i
        let n = try name(of: "alias")
        guard let node = anchors[n] else { throw fail("alias '*\(n)' names no anchor defined before it", at: start) }
        return node
    }

    // MARK: flow collections

    /// Past blanks, line breaks and comments inside a flow collection; an error at the end of the text.
    mutating func skipFlowSpace(_ opener: Int) throws(YAMLError) {
        while true {
            skipInline()
            if i >= b.count {
                throw fail("a flow collection is not closed: add the closing \(b[opener] == 0x5B ? "']'" : "'}'")", at: opener)
            }
            if Self.isBreak(b[i]) {
                skipBreak()
                if isDocumentMarker(i) { throw fail("a document marker inside a flow collection", at: i) }
                continue
            }
            return
        }
    }

    /// A node inside a flow collection (or a flow collection itself).
    mutating func flowNode() throws(YAMLError) -> Node {
        let start = i
        switch b[i] {
        case 0x5B:
            try enter()
            defer { depth -= 1 }
            i += 1
            var items: [Node] = []
            while true {
                try skipFlowSpace(start)
                if cur == 0x5D { i += 1; break }
                let itemAt = i
                var item = try flowNode()
                try skipFlowSpace(start)
                if cur == 0x3A {
                    // A single pair `[key: value]`.
                    i += 1
                    try skipFlowSpace(start)
                    let v: Node = cur == 0x2C || cur == 0x5D ? .scalar(Node.Scalar("", mark: mark(i))) : try flowNode()
                    item = .mapping(Node.Mapping([(key: item, value: v)], mark: mark(itemAt)))
                    try skipFlowSpace(start)
                }
                items.append(item)
                if cur == 0x2C { i += 1; continue }
                if cur == 0x5D { i += 1; break }
                throw fail("expected ',' or ']' in the flow sequence, found '\(snippet(i))'")
            }
            return .sequence(Node.Sequence(items, mark: mark(start)))
        case 0x7B:
            try enter()
            defer { depth -= 1 }
            i += 1
            var pairs: [(key: Node, value: Node)] = []
            var seen: Set<String> = []
            while true {
                try skipFlowSpace(start)
                if cur == 0x7D { i += 1; break }
                let keyAt = i
                let key = try flowNode()
                if let k = Self.identity(key), !seen.insert(k).inserted { throw fail("key '\(key.string ?? "")' is given twice in this mapping", at: keyAt) }
                try skipFlowSpace(start)
                var value: Node = .scalar(Node.Scalar("", mark: mark(i)))
                if cur == 0x3A {
                    i += 1
                    try skipFlowSpace(start)
                    if cur != 0x2C && cur != 0x7D { value = try flowNode() }
                    try skipFlowSpace(start)
                }
                pairs.append((key: key, value: value))
                if cur == 0x2C { i += 1; continue }
                if cur == 0x7D { i += 1; break }
                throw fail("expected ',' or '}' in the flow mapping, found '\(snippet(i))'")
            }
            return .mapping(Node.Mapping(pairs, mark: mark(start)))
        case 0x22, 0x27:
            return try quoted()
        case 0x2A:
            return try alias()
        case 0x26:
            let a = try name(of: "anchor")
            try skipFlowSpace(start)
            if cur == 0x26 { throw fail("a value has two anchors: keep one") }
            let n = try flowNode()
            anchors[a] = n
            return n
        case 0x21:
            throw fail("tags ('!') are not supported: the key says what a value is")
        case 0x2C, 0x5D, 0x7D, 0x25, 0x40, 0x60, 0x7C, 0x3E, 0x23:
            throw fail("'\(Character(Unicode.Scalar(b[i])))' cannot start a value here: quote the value or remove it")
        default:
            if b[i] == 0x3F && Self.isBlankOrEnd(at(i + 1)) { throw fail("complex mapping keys ('? ') are not supported") }
            var (text, _) = try plainLine(flow: true)
            // A plain scalar in a flow collection may go on over lines.
            while atEOL && i < b.count {
                let save = i
                try skipFlowSpace(start)
                guard let c = cur, !Self.isFlowIndicator(c), c != 0x23, !(c == 0x3A && (Self.isBlankOrEnd(at(i + 1)) || Self.isFlowIndicator(at(i + 1)))) else {
                    i = save
                    break
                }
                let (more, _) = try plainLine(flow: true)
                text += " " + more
            }
            return .scalar(Node.Scalar(text, mark: mark(start)))
        }
    }
}

extension String {
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
