#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

private func systemWrite(_ fd: Int32, _ p: UnsafePointer<UInt8>, _ n: Int) -> Int {
    #if canImport(Glibc)
    Glibc.write(fd, p, n)
    #else
    Darwin.write(fd, p, n)
    #endif
}
import Operations
import SCSI

/// The CLI reports the library's errors: one line, a kind, an exit status.
public typealias CLIError = OperationError

/// An error that carries a command's report (a refused or failed flash): with --json the report sits inside the error.
struct ReportedError: Error {
    let error: CLIError
    let report: any Encodable & Sendable
}

/// Where command output goes. Tests capture it; the executable writes to the real streams.
public final class Console: @unchecked Sendable {
    public var out: (String) -> Void
    public var err: (String) -> Void
    /// The width the reports people read are wrapped to (scan, info, fw inspect, media, db models, journal): 80
    /// columns, or $COLUMNS when set (at least 40); nil leaves lines whole.
    public var width: Int? = 80
    /// Binary output (info --raw); where it is not set, the bytes go to `out` as Latin-1 text.
    public var outBytes: (([UInt8]) -> Void)?
    /// Whether standard output is a terminal (binary output refuses one).
    public var outIsTerminal = false
    public init(out: @escaping (String) -> Void, err: @escaping (String) -> Void) {
        self.out = out
        self.err = err
    }

    func write(bytes: [UInt8]) {
        if let outBytes { outBytes(bytes) } else { out(String(bytes.map { Character(UnicodeScalar($0)) })) }
    }

    /// stdout and stderr, written with write(2): a closed pipe or a vanished terminal (EPIPE, EIO; SIGPIPE is ignored
    /// during a flash) loses the text but never stops the program, which may be flashing a drive.
    /// Whatever a command prints is made safe for a terminal on the way out (a name from a zip, a transcript or a
    /// journal that slipped past the tables' escaping): control characters other than newline and tab (and carriage
    /// return on stderr, which progress lines use) are escaped.
    public static func standard() -> Console {
        let c = Console(out: { s in write(1, terminalSafe(s, keepCR: false)) }, err: { s in write(2, terminalSafe(s, keepCR: true)) })
        c.outBytes = { b in b.withUnsafeBufferPointer { p in
            var off = 0
            while off < p.count {
                let n = systemWrite(1, p.baseAddress! + off, p.count - off)
                if n > 0 { off += n } else if n < 0 && errno == EINTR { continue } else { return }
            }
        } }
        c.outIsTerminal = isatty(1) != 0
        if let cols = Environment.value("COLUMNS").flatMap(Int.init), cols >= 40 { c.width = cols }
        return c
    }

    static func terminalSafe(_ s: String, keepCR: Bool) -> String {
        var s = s
        let clean = s.withUTF8 { b in
            !b.contains { ($0 < 0x20 && $0 != 0x0A && $0 != 0x09 && !(keepCR && $0 == 0x0D)) || $0 == 0x7F || $0 == 0xC2 || $0 == 0xE2 || $0 == 0xEF }
        }
        if clean { return s }
        var out = ""
        for line in s.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.offset > 0 { out += "\n" }
            if keepCR {
                out += line.element.split(separator: "\r", omittingEmptySubsequences: false).map { FileName.display(String($0), keepTabs: true) }.joined(separator: "\r")
            } else {
                out += FileName.display(String(line.element), keepTabs: true)
            }
        }
        return out
    }

    static func write(_ fd: Int32, _ s: String) {
        var s = s
        s.withUTF8 { b in
            var off = 0
            while off < b.count {
                let n = systemWrite(fd, b.baseAddress! + off, b.count - off)
                if n > 0 { off += n } else if n < 0 && errno == EINTR { continue } else { return }
            }
        }
    }
}

enum JSON {
    /// One line (NDJSON progress).
    static func compact<T: Encodable>(_ v: T) -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? enc.encode(v)).map { safe(String(decoding: $0, as: UTF8.self)) } ?? "{}"
    }

    static func encode<T: Encodable>(_ v: T) -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let d = try? enc.encode(v) else { return "{}" }
        return safe(String(decoding: d, as: UTF8.self)) + "\n"
    }

    /// JSONEncoder escapes C0 controls but writes DEL, C1 controls (U+009B is a CSI on some terminals) and bidi
    /// controls raw: those become \u escapes (the same JSON value). A byte of a file name that is not UTF-8 (carried
    /// as U+F780 + byte, see FileName) is shown as the text "\xFF": JSON strings hold Unicode, not bytes.
    static func safe(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: { $0.value >= 0x7F && FileName.isUnprintable($0.value) }) else { return s }
        var out = String.UnicodeScalarView()
        for u in s.unicodeScalars {
            let v = u.value
            if v >= 0x7F && FileName.isUnprintable(v) {
                let text = (0xF780...0xF7FF).contains(v) ? "\\\\x" + FileName.hex2(UInt8(v - 0xF700))
                    : "\\u" + String(repeating: "0", count: 4 - String(v, radix: 16).count) + String(v, radix: 16, uppercase: true)
                out.append(contentsOf: text.unicodeScalars)
            } else {
                out.append(u)
            }
        }
        return String(out)
    }
}

/// Text tables with aligned columns. With a `width`, at most that many columns wide: the columns with the most room
/// are narrowed and their cells wrapped onto continuation lines (never a 150-column line).
enum TextTable {
    /// The width of text output while a command runs: its Console's (80 columns, or $COLUMNS); nil for no limit.
    @TaskLocal static var width: Int? = 80

    static func render(_ header: [String], _ rows: [[String]], width: Int? = TextTable.width) -> String {
        render(header, lines: rows.map { $0.map { [$0] } }, width: width)
    }

    /// Cells of one or more lines each. Every line is shown escaped (a name with ESC, CR or LF stays one escaped line).
    static func render(_ header: [String], lines cells: [[[String]]], width: Int? = TextTable.width) -> String {
        let rows = cells.map { $0.map { $0.map { FileName.display($0) }.joined(separator: "\n") } }
        let multiline = rows.contains { $0.contains { $0.utf8.contains(0x0A) } }
        if width == nil && !multiline { return unlimited(header, rows) }
        let limit = width ?? Int.max
        // A cell may hold several lines ("\n"); a column is as wide as its longest line.
        func longest(_ c: String, _ f: (Substring) -> Int) -> Int { c.split(separator: "\n").map(f).max() ?? 0 }
        var widths = header.map(\.count), floors = header.map(\.count)
        for r in [header] + rows {
            for (i, c) in r.enumerated() where i < widths.count {
                widths[i] = max(widths[i], longest(c) { $0.count })
                // The narrowest a column gets before words are cut: its longest word (at most 24).
                floors[i] = max(floors[i], min(24, longest(c) { $0.split(separator: " ").map(\.count).max() ?? 0 }))
            }
        }
        let gaps = 2 * max(widths.count - 1, 0)
        // Narrow the column with the most room above its floor, one column at a time, until the table fits; then,
        // if it must, the widest (a column keeps at least 6).
        while widths.reduce(gaps, +) > limit {
            if let i = widths.indices.filter({ widths[$0] > floors[$0] }).max(by: { widths[$0] - floors[$0] < widths[$1] - floors[$1] }) {
                widths[i] -= 1
            } else if let i = widths.indices.max(by: { widths[$0] < widths[$1] }), widths[i] > 6 {
                widths[i] -= 1
            } else { break }
        }
        func lines(_ cells: [String]) -> [String] {
            let wrapped = cells.enumerated().map { i, c in i < widths.count ? TextWrap.lines(c, width: widths[i]) : [c] }
            let n = wrapped.map(\.count).max() ?? 1
            return (0..<n).map { k in
                var line = ""
                for (i, w) in wrapped.enumerated() {
                    let cell = k < w.count ? w[k] : ""
                    line += i == wrapped.count - 1 ? cell : cell.padded(toLength: widths[i]) + "  "
                }
                while line.hasSuffix(" ") { line.removeLast() }
                return line
            }
        }
        return ([header] + rows).flatMap(lines).joined(separator: "\n") + "\n"
    }

    /// As wide as the cells need.
    static func unlimited(_ header: [String], _ rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in i == cells.count - 1 ? c : c.padded(toLength: widths[i]) }
                .joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n") + "\n"
    }
}

/// Word wrapping for text output.
enum TextWrap {
    /// `s` in lines of at most `width` characters, broken at spaces (a longer word is cut). Leading spaces (an indented
    /// cell) stay on the first line.
    static func lines(_ s: String, width: Int) -> [String] {
        if s.utf8.contains(0x0A) { return s.split(separator: "\n", omittingEmptySubsequences: false).flatMap { lines(String($0), width: width) } }
        guard s.count > width, width > 0 else { return [s] }
        let lead = String(s.prefix { $0 == " " })
        var out: [String] = []
        var cur = lead
        // Words with the spaces before them: a line keeps its own spacing (aligned columns); a break drops them.
        var words: [(gap: Int, word: Substring)] = []
        var rest = s.dropFirst(lead.count)
        while !rest.isEmpty {
            let gap = rest.prefix { $0 == " " }.count
            rest = rest.dropFirst(gap)
            let word = rest.prefix { $0 != " " }
            rest = rest.dropFirst(word.count)
            if !word.isEmpty { words.append((gap, word)) }
        }
        for (gap, word) in words {
            var w = word
            let sep = cur.isEmpty || cur == lead ? "" : String(repeating: " ", count: max(1, gap))
            if cur.count + sep.count + w.count <= width { cur += sep + w; continue }
            if !(cur.isEmpty || cur == lead) { out.append(cur); cur = "" }
            // A word longer than the line is cut after its last ',', '/', '-', ':', '.' or '_' that fits ("2.4x,4x," then
            // "16x"; a path after a '/'), else at the width.
            while w.count > width {
                let head = w.prefix(width)
                let cut = head.dropFirst().dropLast().lastIndex { ",/-:._".contains($0) }.map { head.distance(from: head.startIndex, to: $0) + 1 } ?? width
                out.append(String(w.prefix(cut)))
                w = w.dropFirst(cut)
            }
            cur = String(w)
        }
        if !cur.isEmpty { out.append(cur) }
        return out.isEmpty ? [""] : out
    }

    /// Every line of `text` longer than `width` wrapped, continuation lines indented under its value: after a
    /// "Label:   " prefix; under the second column of a "0001  3B 07 ..." line (a short first word, then two
    /// spaces); else after its own indentation plus two.
    /// A command to paste ("$ odflash fw patch ...", after any indentation) is never broken.
    static func fit(_ text: String, width: Int) -> String {
        guard text.split(separator: "\n", omittingEmptySubsequences: false).contains(where: { $0.count > width }) else { return text }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard line.count > width, !line.drop(while: { $0 == " " }).hasPrefix("$ ") else { return String(line) }
            let lead = line.prefix { $0 == " " }.count
            var indent = lead + 2
            let word = line.dropFirst(lead).prefix { $0 != " " }
            if let colon = line.firstIndex(of: ":"), line.distance(from: line.startIndex, to: colon) < 30,
               line[line.index(after: colon)...].first == " " {
                let spaces = line[line.index(after: colon)...].prefix { $0 == " " }.count
                indent = line.distance(from: line.startIndex, to: colon) + 1 + spaces
            } else if word.count <= 12, line.dropFirst(lead + word.count).hasPrefix("  ") {
                indent = lead + word.count + line.dropFirst(lead + word.count).prefix { $0 == " " }.count
            }
            if indent > width / 2 { indent = 4 }
            // A long word (a hash, a path) that would not fit beside the indentation gets a shallower one.
            let longest = line.dropFirst(indent).split(separator: " ").map(\.count).max() ?? 0
            if indent + longest > width { indent = max(2, min(indent, width - longest)) }
            let head = String(line.prefix(indent))
            let body = TextWrap.lines(String(line.dropFirst(indent)), width: width - indent)
            return body.enumerated().map { i, l in (i == 0 ? head : String(repeating: " ", count: indent)) + l }.joined(separator: "\n")
        }.joined(separator: "\n")
    }
}

/// The library's help, with its one unwrapped line fitted: ArgumentParser wraps the help text to the width but
/// prints the USAGE synopsis whole (150 columns for `booktype`). The synopsis is broken between its top-level
/// elements ("[--db <db>]" stays together), continuation lines under the first element after the command name.
enum HelpText {
    static func fit(_ help: String, width: Int?) -> String {
        guard let width else { return help }
        return help.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard line.count > width, line.hasPrefix("USAGE: ") else { return String(line) }
            // Top-level elements: split at spaces outside brackets.
            var parts: [String] = [], cur = "", depth = 0
            for ch in line.dropFirst("USAGE: ".count) {
                if ch == "[" || ch == "<" { depth += 1 } else if ch == "]" || ch == ">" { depth = max(0, depth - 1) }
                if ch == " " && depth == 0 { if !cur.isEmpty { parts.append(cur) }; cur = "" } else { cur.append(ch) }
            }
            if !cur.isEmpty { parts.append(cur) }
            // "odflash fw inspect": the words before the first option or argument stay on the first line.
            let name = parts.prefix { !$0.hasPrefix("[") && !$0.hasPrefix("<") }
            var current = "USAGE: " + name.joined(separator: " ")
            let indent = String(repeating: " ", count: min(current.count + 1, width / 2))
            var out: [String] = []
            // The first element stays beside the command name, whatever its length.
            for (k, p) in parts.dropFirst(name.count).enumerated() {
                if k == 0 || current.count + 1 + p.count <= width { current += " " + p } else { out.append(current); current = indent + p }
            }
            out.append(current)
            return out.joined(separator: "\n")
        }.joined(separator: "\n")
    }
}

/// "Label:   value" lines (Context.emit's wrapping puts a long value's continuation lines under it).
struct KeyValues {
    var rows: [(String, String)] = []
    mutating func add(_ k: String, _ v: String?) { if let v { rows.append((k, FileName.display(v, keepNewlines: true))) } }
    var text: String {
        let w = (rows.map(\.0.count).max() ?? 0) + 1
        return rows.map { ($0.0 + ":").padded(toLength: w + 1) + $0.1 }.joined(separator: "\n") + "\n"
    }
}

/// Numbers given on the command line, through the one strict grammar (SCSI's NumberSyntax): a value that is not a
/// whole number in the option's range is a usage error naming the option, the value (escaped) and the range.
enum CLINumber {
    static func integer(_ text: String, option: String, _ range: ClosedRange<Int>, hex: Bool = false, what: String = "a whole number",
                        unit: String = "") throws(CLIError) -> Int {
        if let n = NumberSyntax.integer(text, range, hex: hex) { return n }
        let r = hex && range.upperBound > 4096 ? "\(range.lowerBound) to 0x\(String(range.upperBound, radix: 16, uppercase: true))" : "\(range.lowerBound) to \(range.upperBound)"
        throw CLIError("\(option): '\(NumberSyntax.escaped(text, max: 40))' is not \(what) from \(r)\(unit.isEmpty ? "" : " " + unit)\(hex ? " (decimal or 0x hex)" : " (decimal digits)")", kind: .usage)
    }

    static func unsigned(_ text: String, option: String) throws(CLIError) -> UInt64 {
        if let n = NumberSyntax.unsigned(text, hex: true) { return n }
        throw CLIError("\(option): '\(NumberSyntax.escaped(text, max: 40))' is not a number from 0 to 18446744073709551615 (decimal or 0x hex)", kind: .usage)
    }
}
