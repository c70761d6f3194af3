import Emulator
import Firmware
import FirmwareDB
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MMC
import SCSI
import Transports

/// A device name as the user writes it: /dev/sgN, /dev/srN (or sgN, srN), usb:BUS:ADDR, usb:VID:PID, emu:NAME,
/// replay:FILE, serial:SERIAL (the drive whose VPD 80h serial number is SERIAL). The one place that grammar is interpreted.
public enum DeviceName: Equatable, Sendable {
    case emulated(profile: String)
    case serial(String)
    case usb(String)
    case replay(path: String)
    case sg(path: String)

    public init(_ name: String) {
        if name.hasPrefix("emu:") { self = .emulated(profile: String(name.dropFirst(4))) }
        else if name.hasPrefix("usb:") { self = .usb(name) }
        else if name.hasPrefix("replay:") { self = .replay(path: String(name.dropFirst(7))) }
        else if name.hasPrefix("serial:") { self = .serial(String(name.dropFirst(7))) }
        else { self = .sg(path: name.hasPrefix("/") ? name : "/dev/" + name) }
    }

    /// An emulated drive: flashing it writes emulated memory, and no other program can hold it.
    public var isEmulated: Bool { if case .emulated = self { return true }; return false }
}

/// An opened device: the transport (with any transcript or echo wrappers) and what is behind it.
public struct OpenedDevice {
    public let name: String
    public let kind: DeviceName
    public let transport: any SCSITransport
    /// Whether the device was opened for exclusive use (O_EXCL on SG_IO).
    public let exclusive: Bool

    /// The emulated drive behind the wrappers, if the device is one.
    public var emulated: EmulatedDrive? { EmulatedDrive.behind(transport) }

    /// The same device through another transport that wraps this one's (a recorder, an echo).
    public func through(_ t: any SCSITransport) -> OpenedDevice {
        OpenedDevice(name: name, kind: kind, transport: t, exclusive: exclusive)
    }
}

extension EmulatedDrive {
    /// The emulated drive behind transcript and echo wrappers, if there is one.
    public static func behind(_ t: any SCSITransport) -> EmulatedDrive? {
        var cur: any SCSITransport = t
        while true {
            if let e = cur as? EmulatedDrive { return e }
            if let w = cur as? EchoingTransport { cur = w.inner; continue }
            if let w = cur as? TranscriptRecorder { cur = w.inner; continue }
            return nil
        }
    }
}

/// Opens devices by name, wrapping them in a transcript recorder and a CDB echo when asked.
public final class DeviceOpener {
    /// firmware-db: where emulator profiles live, and the layouts of their initial images; asked only for emu: names.
    let database: () throws -> FirmwareDatabase
    /// Record every command (the transcript is written by whoever owns the recorders).
    public let recordTranscripts: Bool
    /// Echo every CDB and its status.
    public let echo: ((String) -> Void)?
    /// With the echo: 1 adds each response's bytes in hex, 2 every byte sent and received (EchoingTransport.dataLevel).
    public var echoData = 0
    public private(set) var recorders: [TranscriptRecorder] = []

    public init(database: @escaping () throws -> FirmwareDatabase, recordTranscripts: Bool, echo: ((String) -> Void)?) {
        self.database = database
        self.recordTranscripts = recordTranscripts
        self.echo = echo
    }

    public func open(_ name: String, exclusive: Bool = false) throws -> OpenedDevice {
        let kind = DeviceName(name)
        if case let .serial(serial) = kind { return try open(try resolve(serial: serial), exclusive: exclusive) }
        let t: any SCSITransport
        do {
            switch kind {
            case .serial: throw OperationError("\(name): a serial number names no device by itself", kind: .usage)
            case let .emulated(profile):
                let db = try database()
                let p = try DriveProfile.resolve(profile, emulatorDir: db.emulatorDirectory)
                let drive = EmulatedDrive(profile: p, deviceName: name)
                if let i = p.initialImage { try Self.install(i, of: p, into: drive, db: db) }
                t = drive
            case .usb:
                let iface = try USBEnumerator.resolve(name)
                t = BOTTransport(pipe: try LibUSBDevice(iface), deviceName: iface.name)
            case let .replay(path):
                let data: [UInt8]
                do { data = try InputFile.read(path, limit: ReplayTransport.maxBytes, what: "transcripts") }
                catch { throw OperationError("cannot read the transcript: \(error.description)", kind: .input) }
                t = try ReplayTransport(data: data, source: path, deviceName: name)
            case let .sg(path):
                t = try SGIOTransport(path: path, exclusive: exclusive)
            }
        } catch let e as DriveProfile.Failure {
            // A profile that is there but malformed is a firmware-db problem (exit 2), a name that is none a device's.
            if case .invalid = e { throw OperationError(e.description, kind: .db) }
            throw OperationError(e.description, kind: .device)
        } catch let e as TransportError {
            throw OperationError(e.description, kind: .device)
        } catch let e as ReplayTransport.Failure {
            throw OperationError(e.description, kind: .input)
        }
        var wrapped = t
        if recordTranscripts {
            let rec = TranscriptRecorder(t)
            recorders.append(rec)
            wrapped = rec
        }
        if let echo {
            let e = EchoingTransport(wrapped) { echo("  " + $0 + "\n") }
            e.dataLevel = echoData
            wrapped = e
        }
        return OpenedDevice(name: name, kind: kind, transport: wrapped, exclusive: exclusive && !kind.isEmulated)
    }

    /// The device whose unit serial number (VPD 80h) is `serial`: every SG_IO drive (sysfs), every USB Bulk-Only drive
    /// the kernel does not hold, and the emulated drives, asked with read-only INQUIRYs. Exactly one must answer it.
    public func resolve(serial: String, sysfs: String = "/sys") throws -> String {
        let want = serial.trimmingWhitespace
        guard !want.isEmpty else { throw OperationError("serial: needs the drive's serial number, as 'odflash scan' shows it (serial:SERIAL)", kind: .usage) }
        var found: [String] = [], unasked: [String] = []
        func ask(_ name: String) {
            do {
                let t = try open(name).transport
                defer { t.close() }
                if let s = DriveIdentifier(t).serialNumber(), s.equalsIgnoringCase(want) { found.append(name) }
            } catch { unasked.append(name) }
        }
        var covered = Set<String>()
        for d in Sysfs.scsiDevices(root: sysfs) where d.type == nil || d.type == 5 {
            if let u = d.usb { covered.insert(u) }
            ask(d.node)
        }
        for u in (try? USBEnumerator.storageInterfaces()) ?? [] where !covered.contains(u.name) { ask(u.name) }
        // Emulated drives: by their profile's serial, without opening them.
        if let db = try? database() {
            for p in DriveProfile.available(in: db.emulatorDirectory) {
                guard let profile = try? DriveProfile.resolve(p, emulatorDir: db.emulatorDirectory), profile.adversarial == nil,
                      let s = profile.serial, s.equalsIgnoringCase(want) else { continue }
                found.append("emu:" + p)
            }
        }
        if found.count > 1 {
            throw OperationError("serial:\(want) is reported by \(found.count) drives (\(found.joined(separator: ", "))): name one by its device", kind: .device)
        }
        guard let name = found.first else {
            throw OperationError("no drive reports serial \(want)" + (unasked.isEmpty ? "" : " (could not ask \(unasked.joined(separator: ", ")))")
                                 + ": 'odflash scan' lists the drives and their serials", kind: .device)
        }
        return name
    }

    /// Fills an emulated drive's flash with a synthetic image of its model's layout.
    static func install(_ i: DriveProfile.InitialImage, of p: DriveProfile, into drive: EmulatedDrive, db: FirmwareDatabase) throws {
        guard let layout = db.family(i.family)?.layouts.first(where: { $0.id == i.layout }) else {
            throw OperationError("emulated drive \(p.name): its initial image names \(i.family)/\(i.layout), which firmware-db does not have", kind: .device)
        }
        var spec = SyntheticSpec()
        spec.vendor = p.inquiry.vendor; spec.product = p.inquiry.product; spec.revision = p.inquiry.revision
        if let seed = i.seed { spec.seed = UInt64(truncatingIfNeeded: seed) }
        let bytes: [UInt8]
        do { bytes = try SyntheticImage.generate(layout, spec, idTables: db.idTables) } catch {
            throw OperationError("emulated drive \(p.name): its initial image cannot be made: \(error)", kind: .device)
        }
        let from = min(i.from ?? 0, bytes.count), to = min(i.to ?? bytes.count, bytes.count)
        drive.memory?.install(bytes[from..<max(from, to)], at: i.at ?? 0)
    }

    /// Hands over the recorders (to write the transcript) and forgets them.
    public func takeRecorders() -> [TranscriptRecorder] {
        defer { recorders = [] }
        return recorders
    }
}
