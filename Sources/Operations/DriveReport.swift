import Emulator
import FirmwareDB
import Flashing
import MMC
import SCSI
import Transports

/// Everything `info` says about a drive: what it answers (read-only MMC commands), how firmware-db names it, what
/// the read-only identification reads found (with `probe`, for a drive no model entry names), the family's
/// strategy versions, and what odflash can do with it.
public struct DriveReport: Encodable, Sendable {
    public struct Emulation: Encodable, Sendable {
        public let profile: String
        public let synthetic: Bool
        public let provenance: String
    }
    public let drive: DriveInfo
    /// Absent when no firmware-db was found.
    public let firmwareDB: DBMatch?
    public let emulated: Emulation?
    /// With --probe, for a drive no model entry names: what the identification reads found.
    public let probe: IdentifyOutcome?
    /// For a drive of a family with a strategy-version read (by model or by probe).
    public let strategyVersions: StrategyVersionRead.Result?
    /// What odflash can do with the drive (its family's operations), before the user tries them.
    public let operations: [DriveOperation]
    /// A MediaTek MT19xx drive: banner, chip, descriptor, fingerprint and the build the public catalog names.
    public var mediatek: MediaTekDriveReport? = nil
    /// A Pioneer BD writer: its identity block (serial, platform, Kernel and Normal tags), dialect and cross-flash family.
    public var pioneer: PioneerBDDriveReport? = nil

    /// Without a firmware-db (`db` nil) the report has what the drive answers and nothing from the database.
    public static func gather(_ dev: OpenedDevice, db: FirmwareDatabase?, probe: Bool) throws -> DriveReport {
        let t = dev.transport
        let info: DriveInfo
        do { info = try DriveIdentifier(t).identify() }
        catch let e as IdentifyError { throw OperationError(e.description, kind: .device) }
        catch let e as TransportError { throw OperationError(e.description, kind: .device) }
        let emu = dev.emulated.map { Emulation(profile: $0.profile.name, synthetic: $0.profile.synthetic ?? false, provenance: $0.profile.provenance) }
        guard let db else {
            return DriveReport(drive: info, firmwareDB: nil, emulated: emu, probe: nil, strategyVersions: nil, operations: [])
        }
        let match = DBMatch.lookup(db, vendor: info.inquiry.vendor, product: info.inquiry.product, revision: info.inquiry.revision)
        // Identification reads only for a drive no model entry names, and only for an MMC drive (as Binflash's scan).
        var outcome: IdentifyOutcome?
        if probe && match.model == nil && info.inquiry.isMMC {
            outcome = Identifier.run(db.identificationOrder, on: t, vendor: info.inquiry.vendor, product: info.inquiry.product, idTables: db.idTables)
        }
        let family = match.model != nil ? match.family : outcome?.family
        let strategy = family.flatMap { db.family($0)?.strategyVersions }.map { $0.read(on: t) }
        let ops = family.flatMap { db.family($0) }.map(DriveOperation.list) ?? []
        var r = DriveReport(drive: info, firmwareDB: match, emulated: emu, probe: outcome, strategyVersions: strategy, operations: ops)
        if let f = family.flatMap({ db.family($0) }), MediaTekDrive.applies(f), info.inquiry.vendor.trimmingWhitespace.uppercased() != "PIONEER" {
            let catalog: BuildCatalog?
            do { catalog = try BuildCatalog.load(root: db.root) } catch { throw OperationError(error.description, kind: .db) }
            r.mediatek = MediaTekDrive.report(t, family: f, catalog: catalog)
        }
        if let f = family.flatMap({ db.family($0) }), PioneerBDDrive.applies(f) {
            let table: PioneerCrossflash?
            do { table = try PioneerCrossflash.load(root: db.root) } catch { throw OperationError(error.description, kind: .db) }
            r.pioneer = PioneerBDDrive.report(t, inquiry: info.inquiry, family: f, table: table)
        }
        return r
    }
}
