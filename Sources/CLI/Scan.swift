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
        let scanner = DriveScanner(db: try ctx.database(), opener: ctx.opener, probe: probe)
        let (rows, notes) = scanner.scan(sysfs: sysfs, all: all, usbProbe: usbProbe, emulated: emulated)
        ctx.emit(DriveScanner.Report(devices: rows, notes: notes), text: Scan.text(rows, notes))
    }

    static func text(_ rows: [Row], _ notes: [String]) -> String {
        if rows.isEmpty {
            return "No optical drives found." + (notes.isEmpty ? "" : " (" + notes.joined(separator: "; ") + ")") + "\nTry 'odflash scan --emulated' to list the emulated drives.\n"
        }
        var s = TextTable.render(
            ["DEVICE", "TRANSPORT", "VENDOR", "PRODUCT", "REV", "FIRMWARE-DB", "ALSO"],
            rows.map { r in
                [r.device, r.transport, r.vendor ?? "?", r.product ?? "?", r.revision ?? "?",
                 r.error.map { "error: \($0)" } ?? (r.match + (r.synthetic == true ? " [synthetic]" : "") + (r.probe.map { " [probe: \(ProbeText.summary($0))]" } ?? "")),
                 r.alsoAs.joined(separator: " ")]
            })
        for n in notes { s += "note: \(n)\n" }
        return s
    }
}
