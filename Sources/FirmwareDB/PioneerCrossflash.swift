import Firmware
import Foundation

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

    public struct Failure: Error, CustomStringConvertible { public let description: String }

    /// `# provenance:` in the header, then `SAT<TAB>family<TAB>models` rows (four upper-case hex digits, no id twice).
    public static func parse(_ text: String, file: String) throws(Failure) -> PioneerCrossflash {
        var entries: [String: Entry] = [:]
        var prov = ""
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.hasPrefix("# provenance:") { prov = String(line.dropFirst(13)).trimmingCharacters(in: .whitespaces) }
            if line.hasPrefix("#") || line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            let cols = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard cols.count == 3, cols[0].count == 4, cols[0].allSatisfy({ $0.isHexDigit && !$0.isLowercase }), !cols[1].isEmpty, !cols[2].isEmpty else {
                throw Failure(description: "\(file):\(n + 1): a row is a SAT controller id (4 upper-case hex digits), a family and the models, tab-separated")
            }
            guard entries[cols[0]] == nil else { throw Failure(description: "\(file):\(n + 1): SAT \(cols[0]) is listed twice") }
            entries[cols[0]] = Entry(family: cols[1], models: cols[2])
        }
        guard !prov.isEmpty else { throw Failure(description: "\(file): the header names no '# provenance:'") }
        return PioneerCrossflash(entries: entries, provenance: prov)
    }

    /// The table of a firmware-db; nil when it has none.
    public static func load(root: String) throws(Failure) -> PioneerCrossflash? {
        let p = root + "/" + path
        guard FileManager.default.fileExists(atPath: p) else { return nil }
        guard let bytes = try? ImageFile.readFile(p, max: 1 << 20), let text = String(validating: bytes, as: UTF8.self) else {
            throw Failure(description: "\(p): unreadable or not UTF-8 text")
        }
        return try parse(text, file: p)
    }
}
