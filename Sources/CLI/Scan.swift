import Operations
import ArgumentParser
import Emulator
import FirmwareDB
import Flashing
import MMC
import SCSI
import Transports

struct Scan: ODCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "List optical drives on every transport (SG_IO, USB Bulk-Only, emulated).")

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Also list emulated drives from firmware-db/emulator.")
    var emulated = false

    @Flag(help: "Also list SCSI devices that are not optical drives.")
    var all = false

    @Flag(help: "Probe USB drives through libusb even when the kernel's usb-storage driver holds them (detached, then re-attached).")
    var usbProbe = false

    @Flag(help: "For drives no model entry names: send the families' read-only identification reads (firmware-db identify), one family at a time, and show which family answered.")
    var probe = false

    @Option(help: "sysfs root (for tests).")
    var sysfs: String = "/sys"

    typealias Row = DriveScanner.Row

    func run(_ ctx: Context) throws {
        // Without a firmware-db the drives are still listed (said once on stderr; the firmware-db column stays empty).
        let db = try ctx.optionalDatabase(announce: !ctx.json)
        let scanner = DriveScanner(db: db, opener: ctx.opener, probe: probe)
        var (rows, notes) = scanner.scan(sysfs: sysfs, all: all, usbProbe: usbProbe, emulated: emulated)
        if db == nil && ctx.json { notes.insert("firmware-db not found (searched \(ctx.search.places.joined(separator: ", "))): no firmware-db match", at: 0) }
        ctx.emit(DriveScanner.Report(devices: rows, notes: notes), text: Scan.text(rows, notes, emulatedAsked: emulated))
    }

    static func text(_ rows: [Row], _ notes: [String], emulatedAsked: Bool = false) -> String {
        if rows.isEmpty {
            // The hint only where it helps: with --emulated given, the note above says why there are none.
            return "No optical drives found." + (notes.isEmpty ? "" : " (" + notes.joined(separator: "; ") + ")")
                + (emulatedAsked ? "\n" : "\nTry 'odflash scan --emulated' to list the emulated drives.\n")
        }
        // Under the device: its other names and where it sits. The serial and the location tell two drives of one model
        // apart.
        var s = TextTable.render(
            ["DEVICE", "DRIVE", "REV", "SERIAL", "FIRMWARE-DB"],
            lines: rows.map { r in
                [[r.device] + r.alsoAs + [r.location == "emulated" ? nil : r.location].compactMap { $0 },
                 [r.vendor ?? "?", r.product ?? "?"], [r.revision ?? "?"], [r.serial ?? "-"],
                 [r.error.map { "error: \($0)" } ?? ((r.match ?? "") + (r.synthetic == true ? " [synthetic]" : "") + (r.probe.map { " [probe: \(ProbeText.summary($0))]" } ?? ""))]]
            }, width: TextTable.width)
        for n in notes { s += "note: \(n)\n" }
        return s
    }
}
