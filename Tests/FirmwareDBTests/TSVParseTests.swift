import Foundation
import Testing
import Firmware
@testable import FirmwareDB

/// The byte-level TSV reader and source-place test against the Character-level code they replaced (kept here as the
/// reference): the same rows, line numbers, headers and issues on every drives, id and media table in the repo and
/// on the corners (blanks before non-ASCII text, CRLF, tabs only, no final newline, wrong column counts).
@Suite struct TSVParseTests {
    struct Parsed: Equatable {
        var name: String?, prov: String?, origin: String?
        var rows: [[String]] = [], lines: [Int] = [], issues: [String] = []
    }

    static func reference(_ text: String, columns: Int, optional: Int) -> Parsed {
        var p = Parsed()
        for (n, bytes) in text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            let line = Substring(bytes).trimmedSpaces
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                let body = line.dropFirst().trimmedSpaces
                if body.hasPrefix("name:") { p.name = body.dropFirst(5).trimmedSpaces }
                if body.hasPrefix("provenance:") { p.prov = body.dropFirst(11).trimmedSpaces }
                if body.hasPrefix("origin:") { p.origin = body.dropFirst(7).trimmedSpaces }
                continue
            }
            let cols = bytes.split(separator: 0x09, omittingEmptySubsequences: false).map { Substring($0).trimmedSpaces }
            guard cols.count >= columns, cols.count <= columns + optional, !cols[0].isEmpty else { p.issues.append("line \(n + 1): \(cols.count) columns"); continue }
            p.rows.append(cols)
            p.lines.append(n + 1)
        }
        return p
    }

    static func parsed(_ text: String, columns: Int, optional: Int) -> Parsed {
        var issues: [DBIssue] = []
        let t = TSVTable.parse(text, file: "t.tsv", columns: columns, optional: optional, &issues)
        var p = Parsed(name: t?.name, prov: t?.provenance, origin: t?.origin, rows: t?.rows ?? [], lines: t?.lines ?? [])
        // "expected N tab-separated columns, found M: ..." -> "line L: M columns"
        p.issues = issues.filter { $0.line != nil }.map { i in
            let found = i.message.components(separatedBy: "found ").last?.prefix { $0.isNumber } ?? ""
            return "line \(i.line!): \(found) columns"
        }
        return p
    }

    @Test func sameAsTheCharacterReader() throws {
        var corpus: [(String, Int, Int)] = []
        for dir in ["drives", "idtables", "media"] {
            let d = repoRoot + "/firmware-db/" + dir
            for f in try FileManager.default.contentsOfDirectory(atPath: d) where f.hasSuffix(".tsv") {
                let text = try String(contentsOfFile: d + "/" + f, encoding: .utf8)
                let cols = text.split(separator: "\n").first { !$0.hasPrefix("#") && !$0.isEmpty }.map { $0.split(separator: "\t", omittingEmptySubsequences: false).count } ?? 2
                corpus.append((text, cols, 0)); corpus.append((text, max(1, cols - 1), 2))
            }
        }
        let header = "# name: t\n# provenance: p\n"
        for body in ["a\tb\n", "a\tb", " a \t b \n", "\t\t\n\ta\tb\n", "a\tb\r\nc\td\r\n", " \u{301}x\tb\n", "\t\u{301}\tb\n", "a\t \u{e9}t\u{e9} \n",
                     "a\tb\tc\n", "a\n", "", "\n\n", "# origin: o\na\tb\n", "  # name:  spaced  \na\tb\n", "a\t\tb\n", "\u{1F600}\t\u{1F600} \t\n"] {
            corpus.append((header + body, 2, 0)); corpus.append((header + body, 2, 1)); corpus.append((body, 2, 0))
        }
        for (text, columns, optional) in corpus {
            let want = Self.reference(text, columns: columns, optional: optional)
            let got = Self.parsed(text, columns: columns, optional: optional)
            #expect(got.issues == want.issues, "\(text.prefix(60).debugDescription): \(got.issues) \(want.issues)")
            // Without its '# name:' and '# provenance:' lines a file is no table (an issue says so): no rows to compare.
            guard got.name != nil else { #expect(want.name == nil || want.prov == nil); continue }
            #expect(got.rows == want.rows && got.lines == want.lines, "\(text.prefix(60).debugDescription)")
            #expect(got.name == want.name && got.prov == want.prov && got.origin == want.origin)
        }
    }

    static func referencePlace(_ s: String) -> Bool {
        guard let colon = s.lastIndex(of: ":") else { return false }
        let path = s[..<colon], lines = s[s.index(after: colon)...]
        return !path.isEmpty && !path.contains(" ") && !lines.isEmpty && lines.first!.isNumber
            && lines.allSatisfy { $0.isNumber || $0 == "-" || $0 == "," }
    }

    @Test func sourcePlacesAsBefore() {
        var cases = ["a.c:12", "a.c:12-14,20", "a b.c:1", ":1", "a.c:", "a.c:x1", "a.c:1x", "a:b:3", "a.c:-1", "a.c:1\r\n", "a.c:\u{663}", "\u{e9}.c:1", "a.c", ""]
        var g = SystemRandomNumberGenerator()
        let alphabet = Array("ab: 0123456789-,.\r\n")
        for _ in 0..<2000 { cases.append(String((0..<Int.random(in: 0...8, using: &g)).map { _ in alphabet.randomElement(using: &g)! })) }
        for c in cases { #expect(FirmwareDatabase.isSourcePlace(c) == Self.referencePlace(c), "\(c.debugDescription)") }
    }
}
