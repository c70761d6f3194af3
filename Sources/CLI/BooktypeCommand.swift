import Operations
import ArgumentParser
import FirmwareDB
import Flashing
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MMC
import SCSI

struct BooktypeCommand: ODCommand {
    static let configuration = CommandConfiguration(
        commandName: "booktype",
        abstract: "Show the drive's book-type (bitsetting) settings; --set MEDIA=BOOKTYPE changes one, --clear-counter resets the change counter.",
        discussion: """
        Uses the vendor commands of the drive's family in firmware-db (NEC/Optiarc: C9h 'BTYPE'; Plextor: E9h mode 22h, \
        DVD-ROM on or off for DVD+R and DVD+R DL); a drive whose family \
        has none gets "no known book-type command for this drive" and no command beyond identification. Media: dvd+r, \
        dvd+rw, dvd+r-dl. Book types: dvd-rom, dvd-ram, dvd-r, dvd-rw, dvd+rw, dvd+r, dvd+rw-dl, dvd+r-dl. A permanent \
        change spends one of the drive's limited changes; --temporary does not.
        """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The drive.") var device: String
    @Option(help: "Change a setting, e.g. dvd+r=dvd-rom.") var set: String?
    @Flag(help: "With --set: change the temporary setting (kept until the drive is reset) instead of the permanent one.") var temporary = false
    @Flag(help: "Reset the permanent-change counter, restoring the default book-type settings (the family's clear command; Binflash -clearbt).") var clearCounter = false
    @Flag(help: "Do not ask for confirmation (required with --json or without a terminal).") var yes = false

    struct Report: Encodable {
        let device: String
        let family: String
        let version: Int?
        let changesLeft: Int?
        let settings: [BooktypeSetting]
        let changed: String?
        let provenance: String
    }

    func run(_ ctx: Context) throws {
        if set != nil && clearCounter { throw CLIError("--set and --clear-counter cannot be combined", kind: .usage) }
        if temporary && set == nil { throw CLIError("--temporary goes with --set", kind: .usage) }
        let wanted = try set.map(BooktypeService.parse)
        let db = try ctx.database()
        let dev = try ctx.openDevice(device, exclusive: set != nil || clearCounter)
        defer { dev.transport.close() }
        let svc = try BooktypeService(device: dev, db: db)
        var now = try svc.read()
        let change = try wanted.map { try svc.prepareSet(media: $0.media, code: $0.code, temporary: temporary, current: now) } ?? (clearCounter ? svc.prepareClear() : nil)
        if let w = wanted, change == nil {
            return emit(ctx, svc, now, changed: nil, prefix: "The \(temporary ? "temporary" : "permanent") \(w.media) book type is already \(BooktypeCommands.bookTypeName(w.code)); nothing was sent.\n")
        }
        if let c = change {
            if !yes { try ctx.confirm(c.question, action: clearCounter ? "resetting the book-type counter" : "changing the book type", undone: "nothing was sent") }
            now = try svc.apply(c)
        }
        emit(ctx, svc, now, changed: change?.summary, prefix: change.map { "Changed: \($0.summary)\n" } ?? "")
    }

    func emit(_ ctx: Context, _ svc: BooktypeService, _ s: BooktypeService.Settings, changed: String?, prefix: String) {
        ctx.emit(Report(device: device, family: svc.family.id, version: s.version, changesLeft: s.changesLeft, settings: s.settings, changed: changed,
                        provenance: svc.commands.provenance),
                 text: prefix + text(s.settings, s.version, s.changesLeft))
    }

    func text(_ s: [BooktypeSetting], _ version: Int?, _ left: Int?) -> String {
        var rows: [[String]] = []
        for media in ["dvd+r", "dvd+rw", "dvd+r-dl"] {
            let p = s.first { $0.media == media && !$0.temporary }, t = s.first { $0.media == media && $0.temporary }
            guard p != nil || t != nil else { continue }
            let active = (t?.temporaryActive ?? p?.temporaryActive) == true ? "temporary" : "permanent"
            rows.append(["  " + media.uppercased(), p?.bookType ?? "-", t?.bookType ?? "-", active])
        }
        var out = "Book type:\n" + TextTable.render(["  MEDIA", "PERMANENT", "TEMPORARY", "ACTIVE"], rows)
        var kv = KeyValues()
        kv.add("Changes left", left.map { "\($0) (permanent settings)" })
        kv.add("Command set", version.map { "version \($0)" })
        out += kv.text
        return out
    }
}
