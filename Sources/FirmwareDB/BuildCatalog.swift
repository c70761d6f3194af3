import Firmware
import Foundation

/// The public catalog of MediaTek MT19xx builds by fingerprint (firmware-db/mediatek/build-fingerprints.tsv: SHA-256 of
/// the 20h bytes at 3000h and the 100h bytes at 1EC000h -> the build), with the provenance its header gives.
public struct BuildCatalog: Sendable {
    public let entries: [String: String]
    public let provenance: String
    public static let path = "mediatek/build-fingerprints.tsv"

    public struct Failure: Error, CustomStringConvertible { public let description: String }

    /// Parses the catalog: `# provenance:` in the header, then `sha256<TAB>build` rows (64 lowercase hex digits, a
    /// label, no fingerprint twice).
    public static func parse(_ text: String, file: String) throws(Failure) -> BuildCatalog {
        var entries: [String: String] = [:]
        var prov = ""
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.hasPrefix("# provenance:") { prov = String(line.dropFirst(13)).trimmingCharacters(in: .whitespaces) }
            if line.hasPrefix("#") || line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            let cols = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard cols.count == 2, cols[0].count == 64, cols[0].allSatisfy({ $0.isHexDigit && !$0.isUppercase }), !cols[1].isEmpty else {
                throw Failure(description: "\(file):\(n + 1): a row is a lowercase SHA-256, a tab and the build it names")
            }
            guard entries[String(cols[0])] == nil else { throw Failure(description: "\(file):\(n + 1): fingerprint \(cols[0]) is listed twice") }
            entries[String(cols[0])] = String(cols[1])
        }
        guard !prov.isEmpty else { throw Failure(description: "\(file): the header names no '# provenance:'") }
        return BuildCatalog(entries: entries, provenance: prov)
    }

    /// The catalog of a firmware-db; nil when it has none.
    public static func load(root: String) throws(Failure) -> BuildCatalog? {
        let p = root + "/" + path
        guard FileManager.default.fileExists(atPath: p) else { return nil }
        guard let bytes = try? ImageFile.readFile(p, max: 1 << 20), let text = String(validating: bytes, as: UTF8.self) else {
            throw Failure(description: "\(p): unreadable or not UTF-8 text")
        }
        return try parse(text, file: p)
    }
}
