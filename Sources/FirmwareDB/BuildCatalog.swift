import Firmware
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The public catalog of MediaTek MT19xx builds by fingerprint (firmware-db/mediatek/build-fingerprints.tsv: SHA-256 of
/// the 20h bytes at 3000h and the 100h bytes at 1EC000h -> the build), with the provenance its header gives.
public struct BuildCatalog: Sendable {
    public let entries: [String: String]
    public let provenance: String
    public static let path = "mediatek/build-fingerprints.tsv"

    public typealias Failure = TSVTable.Failure

    /// Parses the catalog (a TSVTable: `# name:` and `# provenance:` in the header), then checks its
    /// `sha256<TAB>build` rows: 64 lowercase hex digits, a label, no fingerprint twice.
    public static func parse(_ text: String, file: String) throws(Failure) -> BuildCatalog {
        let t = try TSVTable.checked(text, file: file, columns: 2)
        var entries: [String: String] = [:]
        for (row, line) in zip(t.rows, t.lines) {
            guard row[0].utf8.count == 64, row[0].utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }), !row[1].isEmpty else {
                throw Failure(file, line: line, "a row is a lowercase SHA-256, a tab and the build it names")
            }
            guard entries[row[0]] == nil else { throw Failure(file, line: line, "fingerprint \(row[0]) is listed twice") }
            entries[row[0]] = row[1]
        }
        return BuildCatalog(entries: entries, provenance: t.provenance)
    }

    /// The catalog of a firmware-db; nil when it has none.
    public static func load(root: String) throws(Failure) -> BuildCatalog? {
        guard let (text, file) = try TSVTable.text(root: root, path: path) else { return nil }
        return try parse(text, file: file)
    }
}
