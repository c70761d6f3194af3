import Emulator
import Firmware
import FirmwareDB
import Foundation
import SCSI
import Transports

/// A device name as the user writes it: /dev/sgN, /dev/srN (or sgN, srN), usb:BUS:ADDR, usb:VID:PID, emu:NAME,
/// replay:FILE. The one place that grammar is interpreted.
public enum DeviceName: Equatable, Sendable {
    case emulated(profile: String)
    case usb(String)
    case replay(path: String)
    case sg(path: String)

    public init(_ name: String) {
        if name.hasPrefix("emu:") { self = .emulated(profile: String(name.dropFirst(4))) }
        else if name.hasPrefix("usb:") { self = .usb(name) }
        else if name.hasPrefix("replay:") { self = .replay(path: String(name.dropFirst(7))) }
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
    public private(set) var recorders: [TranscriptRecorder] = []

    public init(database: @escaping () throws -> FirmwareDatabase, recordTranscripts: Bool, echo: ((String) -> Void)?) {
        self.database = database
        self.recordTranscripts = recordTranscripts
        self.echo = echo
    }

    public func open(_ name: String, exclusive: Bool = false) throws -> OpenedDevice {
        let kind = DeviceName(name)
        let t: any SCSITransport
        do {
            switch kind {
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
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw OperationError("\(path): cannot read the transcript", kind: .input)
                }
                t = try ReplayTransport(jsonLines: String(decoding: data, as: UTF8.self), deviceName: name)
            case let .sg(path):
                t = try SGIOTransport(path: path, exclusive: exclusive)
            }
        } catch let e as DriveProfile.Failure {
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
        if let echo { wrapped = EchoingTransport(wrapped) { echo("  " + $0 + "\n") } }
        return OpenedDevice(name: name, kind: kind, transport: wrapped, exclusive: exclusive && !kind.isEmulated)
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
