import Operations
import ArgumentParser
import FirmwareDB
import Flashing
import Foundation
import MMC
import SCSI

struct BooktypeCommand: ODCommand {
    static let configuration = CommandConfiguration(
        commandName: "booktype",
        abstract: "Show the drive's book-type (bitsetting) settings; --set MEDIA=BOOKTYPE changes one, --clear-counter resets the change counter.",
        discussion: """
        Uses the vendor commands of the drive's family in firmware-db (NEC/Optiarc: C9h 'BTYPE'; Plextor: E9h mode 22h,
        DVD-ROM on or off for DVD+R and DVD+R DL); a drive whose family
        has none gets "no known book-type command for this drive" and no command beyond identification. Media: dvd+r,
        dvd+rw, dvd+r-dl. Book types: dvd-rom, dvd-ram, dvd-r, dvd-rw, dvd+rw, dvd+r, dvd+rw-dl, dvd+r-dl. A permanent
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
        var wanted: (media: String, code: Int)?
        if let s = set {
            let p = s.lowercased().split(separator: "=").map(String.init)
            guard p.count == 2, let bt = BooktypeCommands.bookTypes.first(where: { $0.name == p[1] }) else {
                throw CLIError("--set takes MEDIA=BOOKTYPE, e.g. dvd+r=dvd-rom (book types: \(BooktypeCommands.bookTypes.map(\.name).joined(separator: ", ")))", kind: .usage)
            }
            wanted = (p[0], bt.code)
        }
        let db = try ctx.database()
        let t = try ctx.open(device, exclusive: set != nil || clearCounter)
        defer { t.close() }
        let inq: InquiryData
        do { inq = try DriveIdentifier(t).identify(requireMMC: true).inquiry }
        catch let e as IdentifyError { throw CLIError(e.description, kind: .device) }
        catch let e as TransportError { throw CLIError(e.description, kind: .device) }
        guard let model = db.match(vendor: inq.vendor, product: inq.product, revision: inq.revision), let family = db.family(model.family),
              let cmds = family.booktype else {
            if db.match(vendor: inq.vendor, product: inq.product, revision: inq.revision) == nil {
                throw CLIError("no known book-type command for this drive: " + DBMatch.refusal(db, vendor: inq.vendor, product: inq.product, revision: inq.revision),
                               kind: .refused)
            }
            throw CLIError("no known book-type command for this drive (\(inq.vendor) \(inq.product)): firmware-db names none for its family",
                           kind: .refused)
        }
        let runner = BooktypeRunner(transport: t, commands: cmds)
        func readAll() throws -> (Int?, [BooktypeSetting]) {
            do { return try runner.readAll() } catch { throw CLIError(explain(error), kind: .device) }
        }
        var (version, settings) = try readAll()
        let left = settings.first { $0.changesLeft != nil }?.changesLeft
        var changed: String?
        if let w = wanted {
            guard cmds.media[w.media] != nil else {
                throw CLIError("\(w.media) has no book-type setting on \(family.name) drives (media: \(cmds.media.keys.sorted().joined(separator: ", ")))", kind: .usage)
            }
            if cmds.flagMasks[w.media] != nil, w.code != 0x01, w.code != BooktypeCommands.native(w.media) {
                throw CLIError("\(family.name) drives set \(w.media) only to dvd-rom or back to \(BooktypeCommands.bookTypeName(BooktypeCommands.native(w.media) ?? 0).lowercased())",
                               kind: .usage)
            }
            guard runner.supported(w.media, temporary: temporary, version: version) else {
                throw CLIError("this drive's book-type command set (version \(version.map(String.init) ?? "?")) has no \(temporary ? "temporary" : "permanent") \(w.media) setting",
                               kind: .refused)
            }
            if let current = settings.first(where: { $0.media == w.media && $0.temporary == temporary }), current.bookTypeCode == w.code {
                ctx.emit(Report(device: device, family: family.id, version: version, changesLeft: left, settings: settings, changed: nil, provenance: cmds.provenance),
                         text: "The \(temporary ? "temporary" : "permanent") \(w.media) book type is already \(BooktypeCommands.bookTypeName(w.code)); nothing was sent.\n" + text(settings, version, left))
                return
            }
            if !temporary, let l = left, l <= 0 {
                throw CLIError("the drive has no permanent book-type changes left", kind: .refused)
            }
            if !yes {
                let cost = temporary ? "The temporary setting lasts until the drive is reset." :
                    "This spends one permanent change" + (left.map { ": \($0 - 1) will be left." } ?? ".")
                try ctx.confirm("Set the \(temporary ? "temporary" : "permanent") \(w.media) book type to \(BooktypeCommands.bookTypeName(w.code)) on \(device)? \(cost)",
                                action: "changing the book type", undone: "nothing was sent")
            }
            do { try runner.set(w.media, bookType: w.code, temporary: temporary) } catch { throw CLIError(explain(error), kind: .device) }
            changed = "\(temporary ? "temporary" : "permanent") \(w.media) -> \(BooktypeCommands.bookTypeName(w.code))"
            (version, settings) = try readAll()
        } else if clearCounter {
            if !yes { try ctx.confirm("Reset the book-type change counter of \(device)? Every book-type setting returns to its default.", action: "resetting the book-type counter", undone: "nothing was sent") }
            do { try runner.clear() } catch { throw CLIError(explain(error), kind: .device) }
            changed = "counter reset, settings restored to their defaults"
            (version, settings) = try readAll()
        }
        let nowLeft = settings.first { $0.changesLeft != nil }?.changesLeft
        ctx.emit(Report(device: device, family: family.id, version: version, changesLeft: nowLeft, settings: settings, changed: changed, provenance: cmds.provenance),
                 text: (changed.map { "Changed: \($0)\n" } ?? "") + text(settings, version, nowLeft))
    }

    /// A refusal's sense in words, and what it usually means here.
    func explain(_ e: BooktypeRunner.Failure) -> String {
        guard let s = e.sense else { return e.description }
        if s.key == 5 && s.asc == 0x2C { return e.description + " (the drive refuses the change in its current state: no changes left, or a disc is in the drive)" }
        if s.key == 5 && (s.asc == 0x20 || s.asc == 0x24) { return e.description + " (the firmware does not support this book-type command)" }
        return e.description
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
