import Operations
import ArgumentParser
import Dispatch
import Emulator
import Firmware
import MMC
import SCSI
import FirmwareDB
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct MediaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "media", abstract: "Identify the disc in a drive, check it against the firmware's media tables, search images.",
        subcommands: [Identify.self, Search.self], defaultSubcommand: Identify.self)

    struct Search: ODCommand {
        static let configuration = CommandConfiguration(
            commandName: "search",
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
            do { query = try MediaQuery(code) } catch { throw CLIError(error.description, kind: .usage) }
            let (_, inspector) = try ctx.inspector()
            let files = LiteralScan.files(paths.isEmpty ? ["."] : paths)
            for p in paths where !FileManager.default.fileExists(atPath: p) {
                throw CLIError("\(p): no such file or folder", kind: .input)
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
                let exact = MediaTableReader.tables(of: l, image: bytes)
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

extension MediaCommand {
    struct Identify: ODCommand {
        static let configuration = CommandConfiguration(
            commandName: "identify",
            abstract: "Identify the disc: profile, book type, ATIP manufacturer (CD-R/RW), media ID (DVD±R/RW, BD-R/RE).",
            discussion: "With --check, say whether the drive's firmware lists the disc, at which speeds, and what to do if it does not (exit 1 when it does not). The firmware comes from --firmware IMAGE (a vendor download, a dump, or a patched image).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The device.") var device: String
        @Flag(help: "Check the disc against the firmware's media tables.") var check = false
        @Option(help: "The firmware image to check against (.bin, .gz, .zip).") var firmware: String?
        @Option(help: "A zip member of --firmware.") var member: String?

        struct Manufacturer: Encodable { let name: String; let aka: String?; let provenance: String }
        struct Candidate: Encodable { let code: String; let manufacturer: String?; let speeds: [String] }
        struct Check: Encodable {
            let firmware: String
            let family: String?
            let version: String?
            let supported: Bool
            let speeds: [String]?
            let table: String?
            let heuristic: Bool
            let confidence: Double?
            let statement: String
            let nearest: [Candidate]
            let patchCommand: String?
            let warnings: [String]
        }
        struct Report: Encodable {
            let device: String
            let disc: DiscInfo
            let manufacturer: Manufacturer?
            let check: Check?
        }

        func run(_ ctx: Context) throws {
            if (firmware != nil || member != nil) && !check { throw CLIError("--firmware goes with --check", kind: .usage) }
            let db = try ctx.database()
            let t = try ctx.open(device)
            defer { t.close() }
            let disc: DiscInfo
            do {
                _ = try DriveIdentifier(t).inquiry()
                disc = try DiscIdentifier(t).identify()
            } catch let e as IdentifyError { throw CLIError(e.description, kind: .device) }
            catch let e as TransportError { throw CLIError(e.description, kind: .device) }
            catch let e as ParseError { throw CLIError("\(device): the drive's answer is malformed: \(e)", kind: .device) }
            catch let e as DiscError { throw CLIError("\(device): \(e)", kind: .device) }
            catch let e as SCSICommandError { throw CLIError("\(device): \(e)", kind: .device) }

            var manufacturer: Manufacturer?
            if let a = disc.atip {
                let p = a.leadIn.split(separator: ":").compactMap { Int($0) }
                if p.count == 3, let m = db.media.atipManufacturer(p[0], p[1], p[2]) {
                    manufacturer = Manufacturer(name: m.name, aka: m.aka.isEmpty ? nil : m.aka, provenance: db.media.provenance["atip-manufacturers"] ?? "")
                }
            } else if let id = disc.mediaID, let m = db.media.dvdManufacturer(id.mid) {
                manufacturer = Manufacturer(name: m.name, aka: nil, provenance: db.media.provenance["dvd-manufacturers"] ?? "")
            }

            var chk: Check?
            if check {
                guard disc.medium == .present else { throw CLIError("\(device): no disc in the drive (\(disc.medium.rawValue)); --check needs the disc", kind: .device) }
                guard let code = disc.code else {
                    throw CLIError("\(device): the disc's media ID could not be read (\(disc.notes.first ?? "no media ID")); nothing to check", kind: .device)
                }
                guard let fw = firmware else {
                    throw CLIError("give --firmware IMAGE (a vendor download or a dump): firmware-db holds no media list for this drive", kind: .usage)
                }
                chk = try checkSupport(ctx, db, code: code, disc: disc, firmware: fw, t: t)
            }
            let rep = Report(device: device, disc: disc, manufacturer: manufacturer, check: chk)
            ctx.emit(rep, text: Identify.text(rep))
            // Exit 1: the firmware does not list the disc (README's exit table).
            if let c = chk, !c.supported { throw ExitCode(ExitStatus.failed.rawValue) }
        }

        func checkSupport(_ ctx: Context, _ db: FirmwareDatabase, code: String, disc: DiscInfo, firmware: String, t: any SCSITransport) throws -> Check {
            let loaded = try ctx.loadImage(firmware, member: member)
            let insp = Inspector(layouts: db.layouts, idTables: db.idTables)
            let layout = insp.candidates(loaded.bytes).first?.0
            let r = insp.inspect(loaded)
            let tables = MediaCommand.Search.tables(layout, insp, loaded.bytes)
            let q = try MediaQuery(code)
            var warnings: [String] = []
            if let q2 = try? DriveIdentifier(t).inquiry(), let v = r.vendor, let p = r.product,
               v != q2.vendor || p != q2.product {
                warnings.append("the image is for \(v) \(p), the drive is \(q2.vendor) \(q2.product)")
            }
            let discType: MediaType = disc.atip != nil ? (disc.atip!.rewritable ? .cdRW : .cdR) :
                (disc.profileCode.map { [0x1A, 0x2A].contains($0) ? MediaType.plusRW : [0x1B, 0x2B].contains($0) ? .plusR :
                    [0x13, 0x14].contains($0) ? .dashRW : [0x11, 0x15, 0x16].contains($0) ? .dashR : [0x43].contains($0) ? .bdRE : .bdR } ?? .unknown)
            let compatible: (MediaType) -> Bool = { t in
                t == discType || (discType == .cdRW && t == .cdR) || (t == .unknown) || (discType == .plusR && t == .plusR9)
            }
            let name = "\(firmware)"
            var found: (MediaTable, MediaEntry)?
            for tb in tables { for e in tb.entries where q.matches(e) && compatible(e.type) { found = (tb, e); break }; if found != nil { break } }
            let same = tables.filter { $0.entries.contains { compatible($0.type) } }
            if let (tb, e) = found {
                let conf: Double? = { if case let .heuristic(c, _) = tb.source { return c }; return nil }()
                let speeds = e.speeds.map(SpeedBits.format)
                let statement = tb.isHeuristic
                    ? "LISTED (heuristic): \(code) appears in a table found heuristically (confidence \(conf ?? 0)) at \(String(tb.offset, radix: 16, uppercase: true))h; the layout is not public, so this is a strong hint, not a certainty"
                    : "SUPPORTED: the firmware lists \(code)" + (speeds.isEmpty ? "" : " at \(speeds.joined(separator: ", "))")
                return Check(firmware: name, family: r.identity.map { "\($0.family)/\($0.layout)" }, version: r.version, supported: true,
                             speeds: speeds, table: tb.name, heuristic: tb.isHeuristic, confidence: conf, statement: statement,
                             nearest: [], patchCommand: nil, warnings: warnings)
            }
            // Not listed: the nearest codes of the same type, and the rename that would alias one.
            let discMaker = manufacturerName(db, code)
            var cands: [(MediaTable, MediaEntry)] = []
            for tb in same { for e in tb.entries where compatible(e.type) { cands.append((tb, e)) } }
            func prefix(_ a: String, _ b: String) -> Int { zip(a, b).prefix { $0 == $1 }.count }
            cands.sort { x, y in
                let mx = manufacturerName(db, x.1.mid) == discMaker, my = manufacturerName(db, y.1.mid) == discMaker
                if mx != my { return mx }
                let px = prefix(x.1.mid, q.mid), py = prefix(y.1.mid, q.mid)
                if px != py { return px > py }
                return (x.1.speeds.max() ?? 0) > (y.1.speeds.max() ?? 0)
            }
            let nearest = cands.prefix(3).map { Candidate(code: $0.1.code, manufacturer: manufacturerName(db, $0.1.mid), speeds: $0.1.speeds.map(SpeedBits.format)) }
            var patch: String?
            if let best = cands.first, !best.0.isHeuristic, best.0.strategyByIndex {
                let target = q.atip != nil ? q.mid : code
                patch = "odflash fw patch \(firmware) -o patched.bin --rename '\(best.1.code)=\(target)'"
            }
            let tableWord = same.isEmpty ? "no \(discType.rawValue) table was found in the image" :
                same.map { "\($0.name) (\($0.entries.count) codes, \($0.isHeuristic ? "heuristic" : "exact"))" }.joined(separator: ", ")
            var statement = "NOT LISTED: \(code) is not in the firmware's media tables (\(tableWord)). The drive will fall back to a generic write strategy, which is what fails with unknown discs"
            if same.allSatisfy(\.isHeuristic) && !same.isEmpty { statement += "; the tables were found heuristically, so a miss is likely but not certain" }
            if patch == nil && !cands.isEmpty {
                statement += ". No rename can be offered: \(same.first?.isHeuristic == true ? "odflash never patches a table it only guessed" : "this table does not tie strategies to entries")"
            }
            return Check(firmware: name, family: r.identity.map { "\($0.family)/\($0.layout)" }, version: r.version, supported: false,
                         speeds: nil, table: nil, heuristic: same.allSatisfy(\.isHeuristic), confidence: nil, statement: statement,
                         nearest: nearest, patchCommand: patch, warnings: warnings)
        }

        func manufacturerName(_ db: FirmwareDatabase, _ code: String) -> String? {
            let p = code.split(separator: ":").compactMap { Int($0) }
            if p.count == 3 { return db.media.atipManufacturer(p[0], p[1], p[2])?.name }
            return db.media.dvdManufacturer(code)?.name
        }

        static func text(_ r: Report) -> String {
            var kv = KeyValues()
            let d = r.disc
            kv.add("Device", r.device)
            kv.add("Disc", d.medium == .present ? "\(d.profile ?? "?")\(d.profileCode.map { " (profile \(Bytes.hex4($0))h)" } ?? "")" : d.medium.rawValue)
            kv.add("Book type", d.bookType)
            if let a = d.atip {
                kv.add("ATIP lead-in", "\(a.leadIn) (manufacturer code \(a.manufacturerCode))")
                kv.add("Manufacturer", r.manufacturer.map { $0.name + ($0.aka.map { " (also sold as \($0))" } ?? "") } ?? "not in the ATIP table")
                kv.add("Dye", a.dye)
                kv.add("Capacity", "last lead-out \(a.leadOut) (\(a.capacityMinutes) min)")
            }
            if let m = d.mediaID {
                kv.add("Media ID", [m.mid, m.tid, m.rid.map { "rev \(Bytes.hex2(UInt8(truncatingIfNeeded: $0)))" }].compactMap { $0 }.joined(separator: " ") + " (from \(m.source))")
                kv.add("Manufacturer", r.manufacturer?.name ?? "not in the media-ID table")
            }
            kv.add("Media code", d.code)
            if let t = d.toc {
                kv.add("TOC", "tracks \(t.firstTrack)-\(t.lastTrack): " + t.tracks.map { "\($0.number) \($0.data ? "data" : "audio") at \($0.startLBA)" }.joined(separator: ", ")
                       + (t.leadOutLBA.map { "; lead-out at \($0) (\($0 * 2048 / 1_048_576) MiB)" } ?? ""))
            }
            var s = kv.text
            if let c = r.check {
                var k2 = KeyValues()
                k2.add("Firmware", "\(c.firmware): \(c.family ?? "unknown family")\(c.version.map { ", version \($0)" } ?? "")")
                k2.add("Support", c.statement)
                if !c.nearest.isEmpty {
                    k2.add("Nearest codes", c.nearest.map { "\($0.code)\($0.manufacturer.map { " (\($0))" } ?? "")\($0.speeds.isEmpty ? "" : " at \($0.speeds.joined(separator: ","))")" }.joined(separator: "; "))
                }
                k2.add("Patch", c.patchCommand.map { "alias the nearest code's strategy to this disc: \($0)" })
                s += k2.text
                for w in c.warnings { s += "warning: \(w)\n" }
            }
            for n in d.notes { s += "note: \(n)\n" }
            return s
        }
    }
}
