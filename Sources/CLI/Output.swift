import Foundation
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
    public init(out: @escaping (String) -> Void, err: @escaping (String) -> Void) {
        self.out = out
        self.err = err
    }

    public static func standard() -> Console {
        Console(out: { s in FileHandle.standardOutput.write(Data(s.utf8)) },
                err: { s in FileHandle.standardError.write(Data(s.utf8)) })
    }
}

enum JSON {
    /// One line (NDJSON progress).
    static func compact<T: Encodable>(_ v: T) -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? enc.encode(v)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    static func encode<T: Encodable>(_ v: T) -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let d = try? enc.encode(v) else { return "{}" }
        return String(decoding: d, as: UTF8.self) + "\n"
    }
}

/// Text tables with aligned columns.
enum TextTable {
    static func render(_ header: [String], _ rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in i == cells.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n") + "\n"
    }
}

/// "Label:   value" lines.
struct KeyValues {
    var rows: [(String, String)] = []
    mutating func add(_ k: String, _ v: String?) { if let v { rows.append((k, v)) } }
    var text: String {
        let w = (rows.map(\.0.count).max() ?? 0) + 1
        return rows.map { ($0.0 + ":").padding(toLength: w + 1, withPad: " ", startingAt: 0) + $0.1 }.joined(separator: "\n") + "\n"
    }
}
