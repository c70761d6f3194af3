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

        typealias Hit = MediaLibrarySearch.Hit
        typealias Report = MediaLibrarySearch.Report

        func run(_ ctx: Context) throws {
            let query: MediaQuery
            do { query = try MediaQuery(code) } catch { throw CLIError(error.description, kind: .usage) }
            let (_, inspector) = try ctx.inspector()
            let showProgress = !ctx.json && isatty(2) == 1
            let console = ctx.console
            let rep = try MediaLibrarySearch(inspector: inspector).run(query, paths: paths.isEmpty ? ["."] : paths, mentions: mentions) { done, total in
                if showProgress && total > 50 && (done % 50 == 0 || done == total) { console.err("\rscanned \(done)/\(total)" + (done == total ? "\n" : "")) }
            }
            ctx.emit(rep, text: Search.text(rep), wrap: true)
        }

        static func text(_ r: Report) -> String {
            var s = ""
            if r.hits.isEmpty {
                s += "No image of \(r.scanned) lists \(r.query).\n"
            } else {
                s += TextTable.render(["FILE", "FAMILY", "TYPE", "CODE", "SPEEDS", "TABLE"], r.hits.map {
                    [$0.file, $0.family ?? "unknown", $0.type, $0.code, $0.speeds.isEmpty ? "-" : $0.speeds.joined(separator: ","),
                     $0.heuristic ? "heuristic (\($0.confidence ?? 0))" : "exact"]
                }, width: TextTable.width)
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

        struct Report: Encodable {
            let device: String
            let disc: DiscInfo
            let manufacturer: MediaCheck.Manufacturer?
            let check: MediaCheck.Result?
        }

        func run(_ ctx: Context) throws {
            if (firmware != nil || member != nil) && !check { throw CLIError("--firmware goes with --check", kind: .usage) }
            let media = MediaCheck(db: try ctx.database())
            let dev = try ctx.openDevice(device)
            defer { dev.transport.close() }
            let (drive, disc) = try MediaCheck.identify(dev.transport, device: device)
            var chk: MediaCheck.Result?
            if check {
                let code = try MediaCheck.code(of: disc, device: device)
                guard let fw = firmware else {
                    throw CLIError("give --firmware IMAGE (a vendor download or a dump): firmware-db holds no media list for this drive", kind: .usage)
                }
                chk = try media.check(code: code, disc: disc, image: try ctx.loadImage(fw, member: member), imageName: fw, drive: drive)
            }
            let manufacturer = media.manufacturer(of: disc)
            let rep = Report(device: device, disc: disc, manufacturer: manufacturer, check: chk)
            ctx.emit(rep, text: Identify.text(rep), wrap: true)
            // Exit 1: the firmware does not list the disc (README's exit table).
            if let c = chk, !c.supported { throw ExitCode(ExitStatus.failed.rawValue) }
        }

        static func text(_ r: Report) -> String {
            var kv = KeyValues()
            let d = r.disc
            kv.add("Device", r.device)
            kv.add("Disc", d.medium == .present ? "\(d.profile ?? "?")\(d.profileCode.map { " (profile \(Hex.word($0))h)" } ?? "")" : d.medium.rawValue)
            kv.add("Book type", d.bookType)
            if let a = d.atip {
                kv.add("ATIP lead-in", "\(a.leadIn) (manufacturer code \(a.manufacturerCode))")
                kv.add("Manufacturer", r.manufacturer.map { $0.name + ($0.aka.map { " (also sold as \($0))" } ?? "") } ?? "not in the ATIP table")
                kv.add("Dye", a.dye)
                kv.add("Capacity", "last lead-out \(a.leadOut) (\(a.capacityMinutes) min)")
            }
            if let m = d.mediaID {
                kv.add("Media ID", [m.mid, m.tid, m.rid.map { "rev \(Hex.byte(UInt8(truncatingIfNeeded: $0)))" }].compactMap { $0 }.joined(separator: " ") + " (from \(m.source))")
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
