import Emulator
import FirmwareDB
import Flashing
import MMC
import SCSI
import Transports

/// Finds the drives on every transport and says what each is: INQUIRY, the firmware-db match, and with `probe` the
/// read-only identification reads for drives no model entry names.
public struct DriveScanner {
    /// nil when no firmware-db was found: drives are still listed, without a firmware-db match.
    public let db: FirmwareDatabase?
    public let opener: DeviceOpener
    public let probe: Bool

    public init(db: FirmwareDatabase?, opener: DeviceOpener, probe: Bool) {
        self.db = db; self.opener = opener; self.probe = probe
    }

    public struct Row: Encodable, Sendable {
        public let device: String
        public let transport: String
        public var alsoAs: [String]
        public var vendor: String?
        public var product: String?
        public var revision: String?
        public var deviceType: String?
        /// The unit serial number (VPD 80h): what tells two drives of one model apart.
        public var serial: String?
        /// Where the drive sits: "scsi H:C:T:L" (and its USB port path), "usb BUS-PORT.PORT", or "emulated".
        public var location: String?
        /// The firmware-db match (absent when no firmware-db was found).
        public var match: String?
        public var family: String?
        public var synthetic: Bool?
        /// "matched", "known-unsupported" or "unknown" (absent when the drive could not be asked).
        public var support: String?
        /// For a known but unsupported drive: why, and the sources that name it.
        public var reason: String?
        public var sources: [String]?
        public var error: String?
        /// With --probe, for a drive no model entry names: what the identification reads found.
        public var probe: IdentifyOutcome?
    }

    public struct Report: Encodable, Sendable {
        public let devices: [Row]
        public let notes: [String]
        public init(devices: [Row], notes: [String]) { self.devices = devices; self.notes = notes }
    }

    func inquire(_ t: any SCSITransport, row: inout Row) -> Bool {
        do {
            let q = try DriveIdentifier(t).inquiry()
            row.vendor = q.vendor
            row.product = q.product
            row.revision = q.revision
            row.deviceType = Hex.byte(UInt8(q.deviceType)) + "h"
            row.serial = DriveIdentifier(t).serialNumber()
            guard let db else { return q.isMMC }
            let m = DBMatch.lookup(db, vendor: q.vendor, product: q.product, revision: q.revision)
            row.match = m.label
            row.family = m.family
            row.synthetic = m.synthetic ? true : nil
            if probe && m.model == nil && q.isMMC {
                row.probe = Identifier.run(db.identificationOrder, on: t, vendor: q.vendor, product: q.product, idTables: db.idTables)
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

    /// Every drive: SG_IO devices from sysfs (all SCSI devices with `all`), USB Bulk-Only drives the kernel does not
    /// hold (or all with `usbProbe`), and the emulated ones with `emulated`; each identified by INQUIRY and firmware-db.
    public func scan(sysfs: String, all: Bool, usbProbe: Bool, emulated: Bool) -> ([Row], [String]) {
        var rows: [Row] = []
        var notes: [String] = []
        var usbCovered = Set<String>()

        for d in Sysfs.scsiDevices(root: sysfs) {
            var alsoAs: [String] = []
            if let b = d.block, d.sg != nil { alsoAs.append(b) }
            if let u = d.usb { alsoAs.append(u); usbCovered.insert(u) }
            var row = Row(device: d.node, transport: "sg", alsoAs: alsoAs, location: d.location, match: db == nil ? nil : "unknown")
            var isMMC = d.type == 5
            do {
                let t = try opener.open(d.node).transport
                defer { t.close() }
                isMMC = inquire(t, row: &row)
            } catch {
                // Unopenable (permissions): still list it from sysfs, with the reason.
                row.vendor = d.vendor; row.product = d.model; row.revision = d.rev
                row.deviceType = d.type.map { Hex.byte(UInt8($0)) + "h" }
                row.error = (error as? OperationError)?.message ?? "\(error)"
            }
            if isMMC || all { rows.append(row) }
        }

        do {
            for u in try USBEnumerator.storageInterfaces() {
                let covered = usbCovered.contains(u.name)
                if covered && !usbProbe { continue }
                var row = Row(device: u.name, transport: "usb-bot", alsoAs: ["usb:\(u.idString)"], location: u.location, match: db == nil ? nil : "unknown")
                do {
                    let t = try opener.open(u.name).transport
                    defer { t.close() }
                    let isMMC = inquire(t, row: &row)
                    if !isMMC && !all { continue }
                } catch { row.error = (error as? OperationError)?.message ?? "\(error)" }
                rows.append(row)
            }
        } catch {
            notes.append("USB: \(error)")
        }

        if emulated && db == nil {
            notes.append("no emulated drives: they live in firmware-db/emulator, and no firmware-db was found")
        }
        if emulated, let db {
            for name in DriveProfile.available(in: db.emulatorDirectory) {
                var row = Row(device: "emu:\(name)", transport: "emulator", alsoAs: [], location: "emulated", match: "unknown")
                do {
                    let t = try opener.open(row.device).transport
                    defer { t.close() }
                    // The adversarial drives exist for robustness tests (reachable by name), not as drives to list.
                    if EmulatedDrive.behind(t)?.profile.adversarial != nil { continue }
                    _ = inquire(t, row: &row)
                } catch { row.error = (error as? OperationError)?.message ?? "\(error)" }
                rows.append(row)
            }
        }

        return (rows, notes)
    }

}
