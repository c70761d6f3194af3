import FirmwareDB
import SCSI
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `odflash --version`: the version, the git commit and date of the build, and the firmware-db in use with its own
/// version and date.
struct VersionReport: Encodable {
    struct DB: Encodable {
        let path: String
        let version: String?
        let date: String?
    }
    let version: String
    let commit: String
    let buildDate: String
    /// The firmware-db that commands would read (nil when none is found).
    let firmwareDB: DB?
    /// Where it was looked for, when no --db or $ODFLASH_DB names it.
    let searched: [String]?

    /// `--version` alone, with --json, or with --db PATH: the arguments it takes; nil for anything else.
    static func request(_ args: [String]) -> (json: Bool, db: String?)? {
        guard args.contains("--version") else { return nil }
        var json = false, db: String?
        var i = 0
        while i < args.count {
            let a = args[i]
            if a == "--version" {}
            else if a == "--json" { json = true }
            else if a == "--db", i + 1 < args.count { db = args[i + 1]; i += 1 }
            else if a.hasPrefix("--db=") { db = String(a.dropFirst(5)) }
            else { return nil }
            i += 1
        }
        return (json, db)
    }

    static func gather(dbPath: String?, search: DBSearch) -> VersionReport {
        let root = search.locate(dbPath)
        let named = dbPath != nil || !(search.environment["ODFLASH_DB"] ?? "").isEmpty
        let db = root.map { r -> DB in
            let v = FirmwareDatabase.versionInfo(root: r)
            return DB(path: LocalPath.standardized(r), version: v?.version, date: v?.date)
        }
        return VersionReport(version: BuildInfo.version, commit: BuildStamp.commit, buildDate: BuildStamp.date,
                             firmwareDB: db, searched: named ? nil : search.places)
    }

    var text: String {
        var kv = KeyValues()
        kv.add("Commit", commit == "unknown" ? "unknown (a development build: scripts/install records it)" : commit)
        kv.add("Built", buildDate)
        if let d = firmwareDB {
            let fs = LocalPath.exists(d.path + "/models.yaml")
            kv.add("firmware-db", d.path + (fs ? "" : " (not there)"))
            kv.add("firmware-db version", d.version.map { $0 + (d.date.map { " (\($0))" } ?? "") } ?? "not stated (no VERSION file)")
        } else {
            kv.add("firmware-db", "not found (searched \((searched ?? []).joined(separator: ", ")))")
        }
        return "odflash \(version)\n" + kv.text
    }

    static func print(json: Bool, dbPath: String?, search: DBSearch, console: Console) -> Int32 {
        let r = gather(dbPath: dbPath, search: search)
        console.out(json ? JSON.encode(r) : console.width.map { TextWrap.fit(r.text, width: $0) } ?? r.text)
        return 0
    }
}
