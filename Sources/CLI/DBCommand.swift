import Operations
import ArgumentParser
import FirmwareDB
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import SCSI

struct DBCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db", abstract: "Check and list firmware-db.", subcommands: [Lint.self, Models.self])

    struct Lint: ODCommand {
        static let readsFirmwareDB = false   // it reads every file itself, problems and all
        static let configuration = CommandConfiguration(commandName: "lint", abstract: "Check every firmware-db file: schema, unknown keys, provenance, references.")
        @OptionGroup var global: GlobalOptions

        struct Report: Encodable {
            let root: String
            let ok: Bool
            let families: Int
            let models: Int
            /// Drives named by the public sources (firmware-db/drives), and the tables they come from.
            let knownDrives: Int
            let driveTables: Int
            let issues: [String]
        }

        func run(_ ctx: Context) throws {
            guard let root = ctx.search.locate(global.db) else {
                throw CLIError("firmware-db not found (searched \(ctx.search.places.joined(separator: ", "))): pass --db PATH or set ODFLASH_DB", kind: .db)
            }
            // A folder named that is not there is no database to lint (an error, as for every other command).
            guard LocalPath.isDirectory(root) else {
                throw CLIError("\(FileName.display(root)): no such folder: firmware-db not found there (--db or $ODFLASH_DB names it)", kind: .db)
            }
            let (issues, db) = FirmwareDatabase.lintAndRead(root: root)
            let r = Report(root: root, ok: issues.isEmpty, families: db.families.count, models: db.models.count,
                           knownDrives: db.knownDrives.count, driveTables: db.driveTables.count, issues: issues.map(\.description))
            if issues.isEmpty {
                ctx.emit(r, text: "\(root): OK (\(r.families) families, \(r.models) models, \(r.knownDrives) drives named by \(r.driveTables) public sources, every entry with provenance)\n")
            } else {
                ctx.emit(r, text: issues.map { "\($0)\n" }.joined() + "\(issues.count) problem\(issues.count == 1 ? "" : "s")\n")
                throw ExitCode(ExitStatus.failed.rawValue)
            }
        }
    }

    struct Models: ODCommand {
        static let configuration = CommandConfiguration(commandName: "models", abstract: "List the drive models firmware-db knows.",
                                                        discussion: "With --all, also every drive the public sources name (firmware-db/drives): the model that matches it, or why odflash does not support it.")
        @OptionGroup var global: GlobalOptions

        @Flag(help: "Also list every drive the public sources name, with the model that matches it or the reason it is not supported.")
        var all = false

        /// A model (supported: true), or with --all a drive a public source names that no model matches (supported: false).
        struct Row: Encodable {
            let id: String?, name: String, vendor: String?, product: String?, family: String?, provenance: String, synthetic: Bool?
            /// The family's flash sequences (names for `flash --protocol`), in the order they are tried.
            let flashSequences: [String]?
            let supported: Bool
            /// Why odflash does not support the drive (unsupported rows only).
            let reason: String?
            /// How a drive without INQUIRY strings is identified (unsupported rows only).
            let identifiedBy: String?
            /// The drives-table rows that name this drive: for a model, every public source that lists it.
            let sources: [Source]
        }

        struct Source: Encodable {
            let table: String, name: String, source: String, provenance: String
            init(_ d: KnownDrive) { table = d.table; name = d.name; source = d.source; provenance = d.provenance }
        }

        func run(_ ctx: Context) throws {
            let db = try ctx.database()
            var rows = db.models.map { m in
                Row(id: m.id, name: m.name, vendor: m.vendor, product: m.product, family: m.family, provenance: m.provenance, synthetic: m.synthetic,
                    flashSequences: db.family(m.family)?.flashVariants.map(\.name) ?? [], supported: true, reason: nil, identifiedBy: nil,
                    sources: db.sources(ofModel: m.id).map(Source.init))
            }
            var families: [String] = []
            for r in rows where !families.contains(r.family ?? "") { families.append(r.family ?? "") }
            let sequences = families.map { f in [f, db.family(f).map { $0.flashVariants.isEmpty ? "none public" : $0.flashVariants.map(\.name).joined(separator: "; ") } ?? "?"] }
            var text = TextTable.render(["MODEL", "VENDOR", "PRODUCT", "FAMILY"],
                                        rows.map { [$0.name + ($0.synthetic == true ? " [synthetic]" : ""), $0.vendor ?? "", $0.product ?? "", $0.family ?? ""] }, width: TextTable.width)
                + "\n" + TextTable.render(["FAMILY", "FLASH SEQUENCES (tried in this order; flash --protocol NAME picks one)"], sequences, width: TextTable.width)
            let known = db.knownDrives
            let unsupported = known.filter { !$0.supported }
            if all {
                rows += unsupported.map { d in
                    Row(id: nil, name: d.name, vendor: d.vendor, product: d.product, family: nil, provenance: d.provenance, synthetic: nil,
                        flashSequences: nil, supported: false, reason: d.reason, identifiedBy: d.vendor == nil ? d.route?.description : nil,
                        sources: [Source(d)])
                }
                text += "\n" + Models.knownText(db)
            } else if !known.isEmpty {
                text += "\n\(unsupported.count) more drives named by \(db.driveTables.count) public sources are known but not supported: 'odflash db models --all' lists them with the reasons.\n"
            }
            ctx.emit(rows, text: text)
        }

        /// Every drives table: the drives its source names, each with the model that matches it or why it is unsupported.
        static func knownText(_ db: FirmwareDatabase) -> String {
            let known = db.knownDrives
            let matched = known.filter(\.supported).count
            var s = "Drives the public sources name (firmware-db/drives): \(known.count), \(matched) matched to a model, \(known.count - matched) known but not supported.\n"
            for t in db.driveTables {
                let m = t.drives.filter(\.supported).count
                s += "\n\(t.name) (\(t.origin)): \(t.drives.count) drives, \(m) matched, \(t.drives.count - m) unsupported\n"
                s += TextTable.render(["DRIVE", "IDENTIFIED BY", "WHERE", "ODFLASH"], t.drives.map { d in
                    [d.name, d.identification, d.source, d.model.map { "model \($0)" } ?? "unsupported: \(d.reason ?? "")"]
                }, width: TextTable.width)
            }
            return s
        }
    }
}
