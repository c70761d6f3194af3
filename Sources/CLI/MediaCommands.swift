import Operations
import ArgumentParser
import Dispatch
import Emulator
import Firmware
import Flashing
import MMC
import SCSI
import FirmwareDB
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
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
            discussion: "CODE is a DVD/BD media ID as tools print it (RICOHJPN-R03, RICOHJPN R03, RICOHJPN/R03, ricohjpn-r03, RITEKG05, CMC MAG-M01) or an ATIP time (97:26:66 or 97m26s66f, matched by its manufacturer code 97:26:60). Only firmware images count (a file no layout identifies and whose tables do not list the code is skipped, and counted). Uses every core; a literal pre-scan keeps it near grep's speed.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The media code.") var code: String
        @Argument(help: "Image files or folders (default: the current folder).") var paths: [String] = []
        @Flag(help: "Also list images that contain the code outside any media table found.") var mentions = false
        @Flag(help: "One line per drive model the images are for: listed (in which versions, at which speeds) or not listed.") var byModel = false

        typealias Hit = MediaLibrarySearch.Hit
        typealias Report = MediaLibrarySearch.Report

        func run(_ ctx: Context) throws {
            let query: MediaQuery
            do { query = try MediaQuery(code) } catch { throw CLIError(error.description, kind: .usage) }
            let (db, inspector) = try ctx.inspector()
            let showProgress = !ctx.json && isatty(2) == 1
            let console = ctx.console
            let modelName: @Sendable (String, String, String) -> String? = { v, p, r in db.match(vendor: v, product: p, revision: r)?.name }
            let rep = try MediaLibrarySearch(inspector: inspector).run(query, paths: paths.isEmpty ? ["."] : paths, mentions: mentions,
                                                                       byModel: byModel, modelName: modelName) { done, total in
                if showProgress && total > 50 && (done % 50 == 0 || done == total) { console.err("\rscanned \(done)/\(total)" + (done == total ? "\n" : "")) }
            }
            ctx.emit(rep, text: Search.text(rep))
        }

        static func text(_ r: Report) -> String {
            var s = ""
            if let lines = r.byModel {
                s += TextTable.render(["MODEL", "IMAGES", r.query], lines.map { l in
                    [l.model, "\(l.images)", l.listedIn == 0 ? "not listed" :
                        "listed in \(l.listedIn) of \(l.images)" + (l.versions.isEmpty ? "" : " (\(l.versions.joined(separator: ", ")))")
                        + (l.speeds.isEmpty ? "" : " at \(l.speeds.joined(separator: ","))") + (l.heuristic ? " (heuristic table)" : "")]
                })
                s += "\(r.matchedFiles) of \(r.scanned) images list \(r.query)."
            } else if r.hits.isEmpty {
                s += "No image of \(r.scanned) lists \(r.query)."
            } else {
                s += TextTable.render(["FILE", "FAMILY", "TYPE", "CODE", "SPEEDS", "TABLE"], r.hits.map {
                    [$0.file, $0.family ?? "unknown", $0.type, $0.code, $0.speeds.isEmpty ? "-" : $0.speeds.joined(separator: ","),
                     $0.heuristic ? "heuristic (\($0.confidence ?? 0))" : "exact"]
                }, width: TextTable.width)
                s += "\(r.matchedFiles) of \(r.scanned) images list \(r.query)."
            }
            s += r.skipped == 0 ? "\n" : r.skipped == 1 ? " Skipped 1 file that is not a firmware image.\n" : " Skipped \(r.skipped) files that are not firmware images.\n"
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
            discussion: "With --check, say whether the drive's firmware lists the disc, at which speeds, and what to do if it does not (exit 1 when it does not), next to the drive's own evidence: the speeds it offers for the disc (GET PERFORMANCE 03h, mode page 2Ah) and, for NEC/Optiarc drives, the strategy version of the disc's class (CF 03). The firmware comes from --firmware IMAGE (a vendor download, a dump, or a patched image); without it, the drive's firmware is read with its family's public read into a temporary file that is deleted after the check (families without one: odflash says what to pass).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The device.") var device: String
        @Flag(help: "Check the disc against the firmware's media tables.") var check = false
        @Option(help: "The firmware image to check against (.bin, .gz, .zip); default: the drive's own, read for the check.") var firmware: String?
        @Option(help: "A zip member of --firmware.") var member: String?
        @Flag(help: "Ask for the drive's write speeds (GET PERFORMANCE 03h, mode page 2Ah) even when the disc is not recordable.") var speeds = false

        struct Report: Encodable {
            let device: String
            let disc: DiscInfo
            let manufacturer: MediaCheck.Manufacturer?
            let check: MediaCheck.Result?
        }

        func run(_ ctx: Context) throws {
            if (firmware != nil || member != nil) && !check { throw CLIError("--firmware goes with --check", kind: .usage) }
            if member != nil && firmware == nil { throw CLIError("--member names a member of --firmware's archive: give --firmware ARCHIVE too", kind: .usage) }
            let media = MediaCheck(db: try ctx.database())
            // Without --firmware the check reads the drive's own firmware: the same exclusive open as `dump`.
            let readsFirmware = check && firmware == nil
            let dev = try ctx.openDevice(device, exclusive: readsFirmware)
            defer { dev.transport.close() }
            let (drive, disc) = try MediaCheck.identify(dev.transport, device: device, allSpeeds: speeds)
            var chk: MediaCheck.Result?
            if check {
                let code = try MediaCheck.code(of: disc, device: device)
                var c: MediaCheck.Result
                if let fw = firmware {
                    c = try media.check(code: code, disc: disc, image: try ctx.loadImage(fw, member: member), imageName: fw, drive: drive)
                    c.firmwareSource = fw
                } else {
                    // A vendor mode entered for the read (NEC safe mode) is left on every exit path, as in `dump`.
                    FlashSignals.acquire(newlineFirst: false)
                    defer { FlashSignals.release() }
                    let own = try media.readOwnFirmware(dev, drive: drive)
                    c = try media.check(code: code, disc: disc, image: own.image, imageName: "drive-firmware.bin", drive: drive)
                    c.firmwareSource = own.source
                    // The image read for the check is gone: a patch starts from a dump the user keeps.
                    c.patchCommand = c.patchCommand.map { "odflash dump \(device) drive-firmware.bin && " + $0 }
                }
                c.evidence = MediaCheck.evidence(c, disc: disc, strategy: media.strategyVersions(dev.transport, drive: drive))
                chk = c
            }
            let manufacturer = media.manufacturer(of: disc)
            let rep = Report(device: device, disc: disc, manufacturer: manufacturer, check: chk)
            ctx.emit(rep, text: Identify.text(rep))
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
                kv.add("Capacity", "\(a.capacityMinutes) min (last possible lead-out \(a.leadOut), LBA \(a.leadOutLBA), \(a.capacityMiB) MiB of data)")
                kv.add("ATIP disc", "\(a.discType), sub-type \(a.subType): \(a.subTypeName)" + (a.unrestrictedUse ? ", unrestricted use" : ""))
                kv.add("ATIP power", "indicative writing power \(a.writingPower); reference speed code \(a.referenceSpeedCode)" + (a.referenceSpeed.map { " (\($0))" } ?? ""))
                let extra = [("A1", a.a1), ("A2", a.a2), ("A3", a.a3)].compactMap { p in p.1.map { "\(p.0) \($0)" } }
                if !extra.isEmpty { kv.add("ATIP extra", extra.joined(separator: ", ") + (a.speedRange.map { "; recording speeds \($0) (A1, libburn's reading)" } ?? "")) }
            }
            if let m = d.mediaID {
                kv.add("Media ID", [m.mid, m.tid, m.rid.map { "rev \(Hex.byte(UInt8(truncatingIfNeeded: $0)))" }].compactMap { $0 }.joined(separator: " ") + " (from \(m.source))")
                kv.add("Manufacturer", r.manufacturer?.name ?? "not in the media-ID table")
            }
            kv.add("Media code", d.code)
            if let w = d.writeSpeeds {
                func list(_ k: [Int]) -> String { k.isEmpty ? "none" : k.map { "\(w.multiple($0)) (\($0) kB/s)" }.joined(separator: ", ") }
                kv.add("Drive offers", w.getPerformance != nil ? "\(list(w.offeredKBs)) (GET PERFORMANCE 03h, for this disc)" : "GET PERFORMANCE 03h not answered")
                if let m = w.modePage {
                    kv.add("Mode page 2Ah", list(m) + (w.modePageMaxKBs.map { "; drive maximum \(w.multiple($0)) (\($0) kB/s)" } ?? ""))
                }
            }
            if let t = d.toc {
                kv.add("TOC", "tracks \(t.firstTrack)-\(t.lastTrack): " + t.tracks.map { "\($0.number) \($0.data ? "data" : "audio") at \($0.startLBA)" }.joined(separator: ", ")
                       + (t.leadOutLBA.map { "; lead-out at \($0) (\($0 * 2048 / 1_048_576) MiB)" } ?? ""))
            }
            var s = kv.text
            if let c = r.check {
                var k2 = KeyValues()
                k2.add("Firmware", "\(c.firmware): \(c.family ?? "unknown family")\(c.version.map { ", version \($0)" } ?? "")")
                if let src = c.firmwareSource, src != c.firmware { k2.add("Read from", src) }
                k2.add("Support", c.statement)
                if !c.nearest.isEmpty {
                    k2.add("Nearest codes", c.nearest.map { n in
                        n.code + (n.manufacturer.map { " (\($0))" } ?? "") + (n.speeds.isEmpty ? "" : " at \(n.speeds.joined(separator: ","))")
                            + (n.sameDye == false ? " [\((n.dye ?? "other dye").prefix { $0 != "(" }.trimmingWhitespace): another dye type]" : "")
                    }.joined(separator: "; "))
                }
                k2.add("Patch", c.patchCommand.map { _ in "alias the nearest code's strategy to this disc (the command, on one line to paste):" })
                s += k2.text
                if let cmd = c.patchCommand { s += "  $ \(cmd)\n" }
                if c.evidence.count > 1 {
                    s += "Evidence (each with its source; only the firmware's tables say what the firmware lists):\n"
                    for e in c.evidence {
                        // The tables' verdict is the Support line above; here only its first words.
                        let st = e.kind == .firmwareTable ? String(e.statement.prefix { $0 != ":" }) + " (see Support)" : e.statement
                        s += "  \(e.kind.rawValue) [\(e.source)]: \(st)\n"
                    }
                }
                for w in c.warnings { s += "warning: \(w)\n" }
            }
            for n in d.notes + (d.writeSpeeds?.notes ?? []) { s += "note: \(n)\n" }
            return s
        }
    }
}
