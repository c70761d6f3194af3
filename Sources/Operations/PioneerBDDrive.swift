import Firmware
import FirmwareDB
import Flashing
import MMC
import SCSI

/// What a Pioneer BD writer says about itself through its identity block (READ BUFFER 02h, buffer F1h, 48 bytes), the
/// dialect of its INQUIRY product, and the public cross-flash family of its platform. The read is the family's own
/// identification read from firmware-db, sent only to a drive the positive rule claims (vendor PIONEER, product word
/// BDR-, BDC- or DVR-); nothing else is sent.
public struct PioneerBDDriveReport: Encodable, Sendable {
    public let identity: PioneerBD.Identity?
    /// Why the answer is not an identity block (or the read failed); nil when it is one.
    public let problem: String?
    /// BD or DVR (nil: neither, and the drive is never flashed).
    public let dialect: String?
    /// The platform's cross-flash family (F1-F13) and the model group the source names, or why there is none.
    public let crossflashFamily: String?
    public let crossflashModels: String?
    public let crossflashSource: String
    /// Why odflash does not flash it.
    public let flash: String
}

public enum PioneerBDDrive {
    /// Whether the family is the one these reads are for (a Pioneer BD component layout and an identification read).
    public static func applies(_ family: Family?) -> Bool {
        guard let f = family, f.layouts.contains(where: { $0.structure == .pioneerBDComponent }) else { return false }
        return f.identify?.probes.first != nil
    }

    public static func report(_ t: any SCSITransport, inquiry: InquiryData, family: Family, table: PioneerCrossflash?) -> PioneerBDDriveReport? {
        guard PioneerBD.claims(vendor: inquiry.vendor, product: inquiry.product), let p = family.identify?.probes.first,
              p.readOnly, !Identifier.neverSent.contains(p.cdb.opcode) else { return nil }
        var data: [UInt8]?
        var problem: String?
        do { data = try t.query(p.cdb, .fromDevice(p.length), timeout: 20).data }
        catch let e as SCSICommandError { problem = "\(p.cdb) refused with " + (e.sense.map(\.triple) ?? e.status.name) }
        catch { problem = "\(p.cdb) failed: \(error)" }
        if let d = data { problem = PioneerBD.identityProblem(d) }
        let id = data.flatMap(PioneerBD.identity)
        let dialect = id.flatMap { PioneerBD.dialect(product: inquiry.product, platform: $0.platform) }
        let cid = id?.controllerID
        let entry = cid.flatMap { table?.entries[$0] }
        let source: String
        if let table {
            source = entry != nil ? table.provenance
                : (cid == nil ? "no SAT controller id (the platform is not 'SAT' and four hex digits)" : "SAT \(cid!) is in none of the \(Set(table.entries.values.map(\.family)).count) public families")
        } else { source = "firmware-db has no cross-flash family table" }
        return PioneerBDDriveReport(identity: id, problem: problem, dialect: dialect?.rawValue, crossflashFamily: entry?.family,
                                    crossflashModels: entry?.models, crossflashSource: source,
                                    flash: family.flashMissingFacts.map { "not implemented: \($0)" } ?? "no flash sequence in firmware-db")
    }
}
