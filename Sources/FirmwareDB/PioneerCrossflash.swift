import Firmware
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The public cross-flash families of Pioneer BD writers (firmware-db/pioneer/crossflash-families.tsv: SAT controller id
/// -> family and the model group the source names), with the provenance its header gives.
public struct PioneerCrossflash: Sendable {
    public struct Entry: Sendable, Equatable {
        public let family: String
        public let models: String
    }
    public let entries: [String: Entry]
    public let provenance: String
    public static let path = "pioneer/crossflash-families.tsv"

    public typealias Failure = TSVTable.Failure

    /// A TSVTable (`# name:` and `# provenance:` in the header) of `SAT<TAB>family<TAB>models` rows: four upper-case
    /// hex digits, no id twice.
    public static func parse(_ text: String, file: String) throws(Failure) -> PioneerCrossflash {
        let t = try TSVTable.checked(text, file: file, columns: 3)
        var entries: [String: Entry] = [:]
        for (cols, line) in zip(t.rows, t.lines) {
            guard cols[0].count == 4, cols[0].allSatisfy({ $0.isHexDigit && !$0.isLowercase }), !cols[1].isEmpty, !cols[2].isEmpty else {
                throw Failure(file, line: line, "a row is a SAT controller id (4 upper-case hex digits), a family and the models, tab-separated")
            }
            guard entries[cols[0]] == nil else { throw Failure(file, line: line, "SAT \(cols[0]) is listed twice") }
            entries[cols[0]] = Entry(family: cols[1], models: cols[2])
        }
        return PioneerCrossflash(entries: entries, provenance: t.provenance)
    }

    /// The table of a firmware-db; nil when it has none.
    public static func load(root: String) throws(Failure) -> PioneerCrossflash? {
        guard let (text, file) = try TSVTable.text(root: root, path: path) else { return nil }
        return try parse(text, file: file)
    }
}
