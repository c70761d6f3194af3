import Firmware
import SCSI
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A tab-separated data file with '# name:' and '# provenance:' header lines (and, for a drives table, '# origin:').
public struct TSVTable: Sendable {
    public let name: String
    public let provenance: String
    /// The source in short (repository @commit), when the file gives one.
    public let origin: String?
    public let rows: [[String]]
    /// The 1-based line of each row, for messages.
    public let lines: [Int]

    static func parse(_ text: String, file: String, columns: Int, optional: Int = 0, _ issues: inout [DBIssue]) -> TSVTable? {
        var name: String?, prov: String?, origin: String?
        var rows: [[String]] = []
        var lines: [Int] = []
        // Lines and columns are split on the text's contiguous UTF-8 bytes (newline and tab are single bytes there, so
        // every piece is valid UTF-8): every command reads these tables. Each piece is trimmed of spaces and tabs as
        // `trimmedSpaces` trims it; a piece whose leading blank meets a non-ASCII byte (a combining mark could join the
        // blank) is trimmed by `trimmedSpaces` itself.
        func piece(_ buf: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> String {
            var a = from, b = to
            while a < b, buf[a] == 0x20 || buf[a] == 0x09 { a += 1 }
            if a != from, a < b, buf[a] >= 0x80 {
                return String(decoding: UnsafeBufferPointer(rebasing: buf[from..<to]), as: UTF8.self).trimmedSpaces
            }
            while b > a, buf[b - 1] == 0x20 || buf[b - 1] == 0x09 { b -= 1 }
            return String(decoding: UnsafeBufferPointer(rebasing: buf[a..<b]), as: UTF8.self)
        }
        var text = text
        text.withUTF8 { buf in
            var start = 0, n = 0
            while start <= buf.count {
                var end = start
                while end < buf.count, buf[end] != 0x0A { end += 1 }
                n += 1
                defer { start = end + 1 }
                let line = piece(buf, start, end)
                if line.isEmpty { continue }
                if line.hasPrefix("#") {
                    let body = line.dropFirst().trimmedSpaces
                    if body.hasPrefix("name:") { name = body.dropFirst(5).trimmedSpaces }
                    if body.hasPrefix("provenance:") { prov = body.dropFirst(11).trimmedSpaces }
                    if body.hasPrefix("origin:") { origin = body.dropFirst(7).trimmedSpaces }
                    continue
                }
                var cols: [String] = []
                var c = start
                while true {
                    var e = c
                    while e < end, buf[e] != 0x09 { e += 1 }
                    cols.append(piece(buf, c, e))
                    if e >= end { break }
                    c = e + 1
                }
                guard cols.count >= columns, cols.count <= columns + optional, !cols[0].isEmpty else {
                    issues.append(DBIssue(file: file, line: n, message: "expected \(columns)\(optional > 0 ? "-\(columns + optional)" : "") tab-separated columns, found \(cols.count): separate the columns with tabs"))
                    continue
                }
                rows.append(cols)
                lines.append(n)
            }
        }
        guard let name, !name.isEmpty else { issues.append(DBIssue(file: file, line: nil, message: "needs a '# name:' line")); return nil }
        guard let prov, !prov.isEmpty else { issues.append(DBIssue(file: file, line: nil, message: "needs a '# provenance:' line")); return nil }
        return TSVTable(name: name, provenance: prov, origin: origin.flatMap { $0.isEmpty ? nil : $0 }, rows: rows, lines: lines)
    }
}

extension TSVTable {
    /// A table a command reads whole (the MediaTek build catalog, the Pioneer cross-flash families) that cannot be
    /// used: its first problem, at its file and line.
    public struct Failure: Error, CustomStringConvertible {
        public let issue: DBIssue
        public init(_ file: String, line: Int? = nil, _ message: String) { issue = DBIssue(file: file, line: line, message: message) }
        init(_ issue: DBIssue) { self.issue = issue }
        public var description: String { issue.description }
    }

    /// `text` as a table of `columns` columns, or its first problem.
    static func checked(_ text: String, file: String, columns: Int) throws(Failure) -> TSVTable {
        var issues: [DBIssue] = []
        guard let t = TSVTable.parse(text, file: file, columns: columns, &issues), issues.isEmpty else {
            throw Failure(issues.first ?? DBIssue(file: file, line: nil, message: "not a table"))
        }
        return t
    }

    /// The text of `root/path` (at most 1 MiB, UTF-8) and the file's path; nil when the database has no such file.
    static func text(root: String, path: String) throws(Failure) -> (text: String, file: String)? {
        let p = root + "/" + path
        guard LocalPath.exists(p) else { return nil }
        guard let bytes = try? ImageFile.readFile(p, max: 1 << 20), let text = String(validating: bytes, as: UTF8.self) else {
            throw Failure(p, "unreadable or not UTF-8 text")
        }
        return (text, p)
    }
}

/// Media knowledge from firmware-db/media: ATIP and DVD/BD manufacturer tables, burn-failure advice.
public struct MediaKnowledge: Sendable {
    public struct ATIPRow: Sendable, Equatable { public let m, s, f: Int; public let name: String; public let aka: String }
    public struct DVDRow: Sendable, Equatable { public let code: String; public let length: Int; public let name: String }
    public struct Advice: Sendable, Equatable { public let key: UInt8; public let asc: UInt8?; public let ascq: UInt8?; public let text: String }

    public var atip: [ATIPRow] = []
    public var dvd: [DVDRow] = []
    public var advice: [Advice] = []
    public var provenance: [String: String] = [:]

    public init() {}

    /// firmware-db/media alone (three small tables), for the commands that need nothing else (sense: the advice):
    /// they do not pay for the families, models and drives tables.
    public static func load(root: String) throws(FirmwareDatabase.LoadError) -> MediaKnowledge {
        var issues: [DBIssue] = []
        let k = load(root: root, &issues)
        guard issues.isEmpty else { throw FirmwareDatabase.LoadError(issues: issues) }
        return k
    }

    static func load(root: String, _ issues: inout [DBIssue]) -> MediaKnowledge {
        var k = MediaKnowledge()
        let dir = root + "/media"
        func table(_ file: String, _ cols: Int) -> TSVTable? {
            let path = dir + "/" + file
            guard let bytes = try? ImageFile.readFile(path, max: 1 << 20), let text = String(validating: bytes, as: UTF8.self) else {
                issues.append(DBIssue(file: path, line: nil, message: "missing or not UTF-8 text"))
                return nil
            }
            return TSVTable.parse(text, file: path, columns: cols, &issues)
        }
        if let t = table("atip-manufacturers.tsv", 3) {
            k.provenance[t.name] = t.provenance
            for r in t.rows {
                let p = r[0].split(separator: ":").compactMap { Int($0) }
                guard p.count == 3, p[1] < 60, p[2] < 75 else { issues.append(DBIssue(file: dir, line: nil, message: "\(t.name): '\(r[0])' is not MM:SS:FF")); continue }
                k.atip.append(.init(m: p[0], s: p[1], f: p[2], name: r[1], aka: r[2]))
            }
        }
        if let t = table("dvd-manufacturers.tsv", 3) {
            k.provenance[t.name] = t.provenance
            for r in t.rows {
                guard let l = Int(r[1]), l > 0 else { issues.append(DBIssue(file: dir, line: nil, message: "\(t.name): '\(r[1])' is not a length")); continue }
                k.dvd.append(.init(code: r[0], length: l, name: r[2]))
            }
        }
        if let t = table("advice.tsv", 2) {
            k.provenance[t.name] = t.provenance
            for r in t.rows {
                let p = r[0].split(separator: "/").map(String.init)
                func hex(_ s: String) -> UInt8?? { s == "??" ? .some(nil) : UInt8(s, radix: 16).map { .some($0) } }
                guard p.count == 3, let key = UInt8(p[0], radix: 16), let a = hex(p[1]), let q = hex(p[2]) else {
                    issues.append(DBIssue(file: dir, line: nil, message: "\(t.name): '\(r[0])' is not KK/AA/QQ")); continue
                }
                k.advice.append(.init(key: key, asc: a, ascq: q, text: r[1]))
            }
        }
        return k
    }

    /// The manufacturer of a CD-R by its ATIP lead-in: the exact time first, then the frame rounded down to tens.
    public func atipManufacturer(_ m: Int, _ s: Int, _ f: Int) -> ATIPRow? {
        atip.first { $0.m == m && $0.s == s && $0.f == f } ?? atip.first { $0.m == m && $0.s == s && $0.f == f - f % 10 }
    }

    /// The manufacturer of a DVD/BD media ID.
    public func dvdManufacturer(_ id: String) -> DVDRow? {
        let dashPart = id.split(separator: " ").first.map(String.init)
        for r in dvd {
            if r.length > r.code.count ? id == r.code : id.hasPrefix(String(r.code.prefix(r.length))) { return r }
            if let d = dashPart, d != id, d == r.code { return r }
        }
        return nil
    }

    /// Burn-failure advice for an additional sense whose key is not known (a log that names only the ASC/ASCQ).
    public func advice(asc: UInt8, ascq: UInt8) -> String? {
        (advice.first { $0.asc == asc && $0.ascq == ascq } ?? advice.first { $0.asc == asc && $0.ascq == nil })?.text
    }

    /// Burn-failure advice for a sense code, most specific first.
    public func advice(key: UInt8, asc: UInt8, ascq: UInt8) -> String? {
        advice.first { $0.key == key && $0.asc == asc && $0.ascq == ascq }?.text
            ?? advice.first { $0.key == key && $0.asc == asc && $0.ascq == nil }?.text
            ?? advice.first { $0.key == key && $0.asc == nil }?.text
    }
}
