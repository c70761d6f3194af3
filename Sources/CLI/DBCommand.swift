import Operations
import ArgumentParser
import FirmwareDB
import Foundation

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
            let issues: [String]
        }

        func run(_ ctx: Context) throws {
            let root = FirmwareDatabase.locate(explicit: global.db, environment: ProcessInfo.processInfo.environment,
                                               executable: Context.executablePath(CommandLine.arguments.first ?? ""),
                                               cwd: FileManager.default.currentDirectoryPath)
            guard let root else { throw CLIError("firmware-db not found: pass --db PATH or set ODFLASH_DB", kind: .db) }
            let (issues, db) = FirmwareDatabase.lintAndRead(root: root)
            let r = Report(root: root, ok: issues.isEmpty, families: db.families.count, models: db.models.count,
                           issues: issues.map(\.description))
            if issues.isEmpty {
                ctx.emit(r, text: "\(root): OK (\(r.families) families, \(r.models) models, every entry with provenance)\n")
            } else {
                ctx.emit(r, text: issues.map { "\($0)\n" }.joined() + "\(issues.count) problem\(issues.count == 1 ? "" : "s")\n")
                throw ExitCode(ExitStatus.failed.rawValue)
            }
        }
    }

    struct Models: ODCommand {
        static let configuration = CommandConfiguration(commandName: "models", abstract: "List the drive models firmware-db knows.")
        @OptionGroup var global: GlobalOptions

        struct Row: Encodable {
            let id: String, name: String, vendor: String, product: String, family: String, provenance: String, synthetic: Bool
            /// The family's flash sequences (names for `flash --protocol`), in the order they are tried.
            let flashSequences: [String]
        }

        func run(_ ctx: Context) throws {
            let db = try ctx.database()
            let rows = db.models.map { m in
                Row(id: m.id, name: m.name, vendor: m.vendor, product: m.product, family: m.family, provenance: m.provenance, synthetic: m.synthetic,
                    flashSequences: db.family(m.family)?.flashVariants.map(\.name) ?? [])
            }
            var families: [String] = []
            for r in rows where !families.contains(r.family) { families.append(r.family) }
            let sequences = families.map { f in [f, db.family(f).map { $0.flashVariants.isEmpty ? "none public" : $0.flashVariants.map(\.name).joined(separator: "; ") } ?? "?"] }
            ctx.emit(rows, text: TextTable.render(["MODEL", "VENDOR", "PRODUCT", "FAMILY"],
                                                  rows.map { [$0.name + ($0.synthetic ? " [synthetic]" : ""), $0.vendor, $0.product, $0.family] })
                     + "\n" + TextTable.render(["FAMILY", "FLASH SEQUENCES (tried in this order; flash --protocol NAME picks one)"], sequences))
        }
    }
}
