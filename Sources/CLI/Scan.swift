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

    struct Row: Encodable {
        let device: String
        let transport: String
        var alsoAs: [String]
        var vendor: String?
        var product: String?
        var revision: String?
        var deviceType: String?
        var match: String
        var family: String?
        var synthetic: Bool?
        /// "matched", "known-unsupported" or "unknown" (absent when the drive could not be asked).
        var support: String?
        /// For a known but unsupported drive: why, and the sources that name it.
        var reason: String?
        var sources: [String]?
        var error: String?
        /// With --probe, for a drive no model entry names: what the identification reads found.
        var probe: IdentifyOutcome?
    }

    struct Report: Encodable {
        let devices: [Row]
        let notes: [String]
    }

    func inquire(_ t: any SCSITransport, row: inout Row, db: FirmwareDatabase) -> Bool {
        do {
            let q = try DriveIdentifier(t).inquiry()
            row.vendor = q.vendor
            row.product = q.product
            row.revision = q.revision
            row.deviceType = Hex.byte(UInt8(q.deviceType)) + "h"
            let m = DBMatch.lookup(db, vendor: q.vendor, product: q.product, revision: q.revision)
            row.match = m.label
            row.family = m.family
            row.synthetic = m.synthetic ? true : nil
            if probe && m.model == nil && q.isMMC {
                row.probe = Identifier.run(db.identificationOrder, on: t, vendor: q.vendor, idTables: db.idTables)
            }
            row.support = m.support
            row.reason = m.known?.reason
            row.sources = m.known?.sources
            return q.isMMC
        } catch {
            row.error = "\(error)"
            return true
        }
    }

    func run(_ ctx: Context) throws {
        let db = try ctx.database()
        var rows: [Row] = []
        var notes: [String] = []
        var usbCovered = Set<String>()

        for d in Sysfs.scsiDevices(root: sysfs) {
            var alsoAs: [String] = []
            if let b = d.block, d.sg != nil { alsoAs.append(b) }
            if let u = d.usb { alsoAs.append(u); usbCovered.insert(u) }
            var row = Row(device: d.node, transport: "sg", alsoAs: alsoAs, match: "unknown")
            var isMMC = d.type == 5
            do {
                let t = try ctx.open(d.node)
                defer { t.close() }
                isMMC = inquire(t, row: &row, db: db)
            } catch let e as CLIError {
                // Unopenable (permissions): still list it from sysfs, with the reason.
                row.vendor = d.vendor; row.product = d.model; row.revision = d.rev
                row.deviceType = d.type.map { Hex.byte(UInt8($0)) + "h" }
                row.error = e.message
            }
            if isMMC || all { rows.append(row) }
        }

        do {
            for u in try USBEnumerator.storageInterfaces() {
                let covered = usbCovered.contains(u.name)
                if covered && !usbProbe { continue }
                var row = Row(device: u.name, transport: "usb-bot", alsoAs: ["usb:\(u.idString)"], match: "unknown")
                do {
                    let t = try ctx.open(u.name)
                    defer { t.close() }
                    let isMMC = inquire(t, row: &row, db: db)
                    if !isMMC && !all { continue }
                } catch let e as CLIError { row.error = e.message }
                rows.append(row)
            }
        } catch {
            notes.append("USB: \(error)")
        }

        if emulated {
            for name in DriveProfile.available(in: db.emulatorDirectory) {
                var row = Row(device: "emu:\(name)", transport: "emulator", alsoAs: [], match: "unknown")
                do {
                    let t = try ctx.open(row.device)
                    defer { t.close() }
                    // The adversarial drives exist for robustness tests (reachable by name), not as drives to list.
                    if ctx.emulatedProfile(of: t)?.adversarial != nil { continue }
                    _ = inquire(t, row: &row, db: db)
                } catch let e as CLIError { row.error = e.message }
                rows.append(row)
            }
        }

        ctx.emit(Report(devices: rows, notes: notes), text: Scan.text(rows, notes))
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
