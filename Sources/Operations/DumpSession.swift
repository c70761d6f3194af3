import Firmware
import FirmwareDB
import Flashing
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MMC
import SCSI

/// Reads a drive's firmware into an image file with its family's public read sequence (only reads, and the mode
/// changes they need, always left again), written atomically, then inspected like `fw inspect`.
public struct DumpSession {
    public let db: FirmwareDatabase
    public let device: OpenedDevice
    public let output: String
    public let overwrite: Bool

    public init(db: FirmwareDatabase, device: OpenedDevice, output: String, overwrite: Bool) {
        self.db = db; self.device = device; self.output = output; self.overwrite = overwrite
    }

    public struct Report: Encodable, Sendable {
        public let device: String
        /// The drive's unit serial number (VPD 80h), when it reports one.
        public let serial: String?
        public let output: String
        public let family: String
        public let bytes: Int
        public let sha256: String
        public let commandsSent: Int
        public let layout: String?
        public let valid: Bool?
        public let verdict: String
        public let notes: [String]
        public let synthetic: Bool
        /// Flash ranges that could not be read ([start, end)), filled with the protocol's fill byte.
        public let gaps: [[Int]]
        /// For the text: the drive, and the flash range read.
        public let drive: String
        public let from: Int, to: Int

        enum CodingKeys: String, CodingKey { case device, serial, output, family, bytes, sha256, commandsSent, layout, valid, verdict, notes, synthetic, gaps }
    }

    /// The whole dump; `progress` gets bytes read so far and the total.
    public func run(progress: @escaping (Int, Int) -> Void) throws -> Report {
        // A folder, a link, a device node or a FIFO is never an output (exit 2), whatever --force-overwrite says.
        if let problem = AtomicFile.targetProblem(output).problem { throw problem }
        if !overwrite && FileName.exists(output) {
            throw OperationError("\(output) exists: choose another name or add --force-overwrite", kind: .outputExists)
        }
        let t = device.transport
        let inq: InquiryData
        do { inq = try DriveIdentifier(t).inquiry() }
        catch let e as IdentifyError { throw OperationError(e.description, kind: .device) }
        catch let e as TransportError { throw OperationError(e.description, kind: .device) }
        let serial = DriveIdentifier(t).serialNumber()
        guard let model = db.match(vendor: inq.vendor, product: inq.product, revision: inq.revision), let family = db.family(model.family) else {
            throw OperationError(DBMatch.refusal(db, vendor: inq.vendor, product: inq.product, revision: inq.revision) + ": odflash sends no vendor command to it",
                                 kind: .refused)
        }
        guard !family.dumpVariants.isEmpty else {
            throw OperationError("no public method reads the firmware of \(family.name) (\(family.id)) drives", kind: .refused)
        }
        var dumper = Dumper(transport: t)
        dumper.progress = progress
        dumper.interruptible = true
        // The identification reads first: the drive's ID must be known and of a class a read sequence is for.
        let proto: DumpProtocol, probe: ProbeData
        do { (proto, probe) = try Dumper.select(family.dumpVariants, on: t, idTables: db.idTables) } catch {
            if !error.refused {
                throw OperationError("dump failed, nothing was written to \(output): \(error.description)", kind: .device)
            }
            throw OperationError("dump refused, nothing was sent but identification: \(error.description)", kind: .refused)
        }
        let result: Dumper.Result
        do { result = try dumper.run(proto, probe: probe) } catch {
            if let s = error.interrupted {
                throw OperationError("dump interrupted (\(FlashSignals.name(s))), nothing was written to \(output); drive: \(error.driveState)", kind: .interrupted(signal: s))
            }
            let cleanup = error.cleanupNotes.isEmpty ? "" : "; restoring the drive also failed (\(error.cleanupNotes.joined(separator: "; "))): power-cycle it"
            throw OperationError("dump failed, nothing was written to \(output): \(error.description)\(cleanup)", kind: .device)
        }
        try AtomicFile.write(Data(result.bytes), to: output, overwrite: overwrite)
        let rep = Inspector(layouts: db.layouts, idTables: db.idTables).inspect(LoadedImage(path: output, container: "bin", member: nil, bytes: result.bytes))
        var notes = result.notes
        if let want = proto.layout, rep.identity?.layout != want { notes.append("the result does not inspect as \(want)") }
        if let n = proto.notice { notes.append(n) }
        if !result.gaps.isEmpty { notes.append("this read has gaps: it cannot serve as a backup (a backup needs every byte read)") }
        if rep.valid == false { notes.append("the result does not validate" + (rep.warnings.isEmpty ? " (an erased or foreign flash reads like this)" : ": \(rep.warnings.joined(separator: "; "))")) }
        return Report(device: device.name, serial: serial, output: output, family: family.id, bytes: result.bytes.count, sha256: rep.sha256,
                      commandsSent: result.commandsSent, layout: rep.identity?.layout,
                      valid: rep.valid, verdict: rep.verdict, notes: notes, synthetic: family.synthetic || model.synthetic,
                      gaps: result.gaps.map { [$0.lowerBound, $0.upperBound] },
                      drive: "\(inq.vendor) \(inq.product) \(inq.revision)", from: proto.from, to: proto.to)
    }
}
