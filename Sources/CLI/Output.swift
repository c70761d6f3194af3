import Foundation
import SCSI

/// Exit codes, documented in the README.
public enum ExitStatus: Int32, Sendable {
    case ok = 0
    case failed = 1        // the operation ran and found a problem (lint issues, a check failed)
    case usage = 2         // bad arguments or input
    case device = 3        // the device could not be opened or answered wrongly
    case refused = 4       // a safety check refused the operation
    case flashFailed = 5   // a flash started and did not complete or could not be verified
}

/// A failure to report: one line, a kind, an exit status.
public struct CLIError: Error, CustomStringConvertible {
    public let message: String
    public let kind: String
    public let status: ExitStatus
    public init(_ message: String, kind: String = "error", status: ExitStatus = .failed) {
        self.message = message
        self.kind = kind
        self.status = status
    }
    public var description: String { message }
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
