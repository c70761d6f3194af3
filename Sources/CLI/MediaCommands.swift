import ArgumentParser
import Dispatch
import Firmware
import FirmwareDB
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct MediaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "media", abstract: "Media codes: which firmware images list a disc's media ID or ATIP manufacturer.",
        subcommands: [Search.self])

    struct Search: ODCommand {
        static let configuration = CommandConfiguration(
            abstract: "Find the firmware images (files and folders) whose media tables list a media code.",
            discussion: "CODE is a DVD/BD media ID (RICOHJPN-R03, RITEKG05, CMC MAG-M01) or an ATIP time (97:26:66, matched by its manufacturer code 97:26:60). Uses every core; a literal pre-scan keeps it near grep's speed.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The media code.") var code: String
        @Argument(help: "Image files or folders (default: the current folder).") var paths: [String] = []
        @Flag(help: "Also list images that contain the code outside any media table found.") var mentions = false

        struct Hit: Encodable, Sendable {
            let file: String
            let family: String?
            let table: String
            let type: String
            let code: String
            let speeds: [String]
            let heuristic: Bool
            let confidence: Double?
        }
        struct Report: Encodable {
            let query: String
            let scanned: Int
            let matchedFiles: Int
            let hits: [Hit]
            let mentionedOnly: [String]
            let errors: [String]
        }

        final class Results: @unchecked Sendable {
            let lock = NSLock()
            var hits: [Hit] = []
            var mentioned: [String] = []
            var errors: [String] = []
            var done = 0
        }

        func run(_ ctx: Context) throws {
            let query: MediaQuery
            do { query = try MediaQuery(code) } catch { throw CLIError(error.description, kind: "usage", status: .usage) }
            let (_, inspector) = try ctx.inspector()
            let files = LiteralScan.files(paths.isEmpty ? ["."] : paths)
            for p in paths where !FileManager.default.fileExists(atPath: p) {
                throw CLIError("\(p): no such file or folder", kind: "input", status: .usage)
            }
            let literals = query.literals
            let results = Results()
            let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, files.count))
            let showProgress = !ctx.json && isatty(2) == 1 && files.count > 50
            let total = files.count
            let console = ctx.console
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                var k = w
                while k < total {
                    let path = files[k]
                    k += workers
                    let bytes: [UInt8]
                    do { bytes = try ImageFile.readFile(path) } catch let e as ImageFileError {
                        if case .empty = e {} else { results.lock.lock(); results.errors.append(e.description); results.lock.unlock() }
                        continue
                    } catch { continue }
                    let hit = bytes.withUnsafeBytes { LiteralScan.contains($0, literals) }
                    var local: [Hit] = []
                    if hit {
                        // Confirm in the tables: exact where the layout is known, heuristic otherwise.
                        let layout = inspector.candidates(bytes).first?.0
                        for t in Search.tables(layout, inspector, bytes) {
                            for e in t.entries where query.matches(e) {
                                var conf: Double?
                                if case let .heuristic(c, _) = t.source { conf = c }
                                local.append(Hit(file: path, family: layout.map { "\($0.family)/\($0.id)" }, table: t.name,
                                                 type: e.type.rawValue, code: e.code, speeds: e.speeds.map(SpeedBits.format),
                                                 heuristic: t.isHeuristic, confidence: conf))
                            }
                        }
                    }
                    results.lock.lock()
                    results.hits += local
                    if hit && local.isEmpty { results.mentioned.append(path) }
                    results.done += 1
                    if showProgress && results.done % 50 == 0 { console.err("\rscanned \(results.done)/\(total)") }
                    results.lock.unlock()
                }
            }
            if showProgress { ctx.console.err("\rscanned \(total)/\(total)\n") }
            let hits = results.hits.sorted { ($0.file, $0.type, $0.code) < ($1.file, $1.type, $1.code) }
            let rep = Report(query: query.text, scanned: total, matchedFiles: Set(hits.map(\.file)).count, hits: hits,
                             mentionedOnly: mentions ? results.mentioned.sorted() : [], errors: results.errors.sorted())
            ctx.emit(rep, text: Search.text(rep))
        }

        /// The tables of an image: the layout's exact ones, or the heuristic scanner's.
        static func tables(_ layout: ImageLayout?, _ inspector: Inspector, _ bytes: [UInt8]) -> [MediaTable] {
            if let l = layout, !l.mediaTables.isEmpty {
                let exact = l.mediaTables.flatMap { MediaTableReader.read($0, layout: l.id, image: bytes) }
                if !exact.isEmpty { return exact }
            }
            return HeuristicScanner.scan(bytes, options: inspector.heuristicOptions)
        }

        static func text(_ r: Report) -> String {
            var s = ""
            if r.hits.isEmpty {
                s += "No image of \(r.scanned) lists \(r.query).\n"
            } else {
                s += TextTable.render(["FILE", "FAMILY", "TYPE", "CODE", "SPEEDS", "TABLE"], r.hits.map {
                    [$0.file, $0.family ?? "unknown", $0.type, $0.code, $0.speeds.isEmpty ? "-" : $0.speeds.joined(separator: ","),
                     $0.heuristic ? "heuristic (\($0.confidence ?? 0))" : "exact"]
                })
                s += "\(r.matchedFiles) of \(r.scanned) images list \(r.query).\n"
            }
            for m in r.mentionedOnly { s += "mentioned outside a media table: \(m)\n" }
            for e in r.errors { s += "skipped: \(e)\n" }
            return s
        }
    }
}
