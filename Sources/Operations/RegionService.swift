import FirmwareDB
import Flashing
import MMC
import SCSI

/// The drive's DVD region (RPC): read it (REPORT KEY 08h), set it (SEND KEY 06h), or restore its counters with the
/// family's vendor or global reset where firmware-db names one. Every change is prepared first (all checks, the
/// question to ask) and sent only by `apply`.
public struct RegionService {
    public let device: OpenedDevice
    let database: () throws -> FirmwareDatabase

    public init(device: OpenedDevice, database: @escaping () throws -> FirmwareDatabase) {
        self.device = device
        self.database = database
    }

    var t: any SCSITransport { device.transport }

    /// INQUIRY of an MMC drive (anything else is refused before a region command is sent).
    public func identify() throws -> InquiryData {
        do { return try DriveIdentifier(t).identify(requireMMC: true).inquiry }
        catch let e as IdentifyError { throw OperationError(e.description, kind: .device) }
        catch let e as TransportError { throw OperationError(e.description, kind: .device) }
    }

    /// The RPC state, or nil for RPC-I firmware (the drive rejects REPORT KEY 08h: it does not enforce regions).
    public func state() throws -> RPCState? {
        do {
            let r = try t.query(.reportKey(keyFormat: 0x08, allocation: 8), .fromDevice(8), timeout: 20)
            return try RPCState(bytes: r.data)
        } catch let e as SCSICommandError where e.sense?.key == 5 {
            return nil   // 05/24/00 or 05/20/00: RPC-I firmware
        } catch let e as TransportError {
            if case .hostError = e { return nil }   // QEMU's scsi-cd: REPORT KEY is not emulated
            throw OperationError(e.description, kind: .device)
        } catch let e as ParseError {
            throw OperationError("\(device.name): the drive's RPC state is malformed: \(e)", kind: .device)
        }
    }

    /// A change ready to send: what it is, the question to ask first, the state before.
    public struct Change {
        public enum Kind: Equatable { case set(Int), vendorReset, globalReset }
        public let kind: Kind
        public let before: RPCState
        public let question: String
        let cdbs: [(CDB, DataTransfer)]
        public var name: String {
            switch kind {
            case .set: "region change"
            case .vendorReset: "vendor reset"
            case .globalReset: "global reset"
            }
        }
    }

    /// What setting region `n` means: nil when the drive is already set to it (nothing to send).
    public func prepareSet(_ n: Int, state: RPCState?) throws -> Change? {
        guard (1...8).contains(n) else { throw OperationError("--set takes a region from 1 to 8", kind: .usage) }
        guard let state else { throw OperationError("\(device.name) runs RPC-I firmware (no region state): there is no region to set", kind: .refused) }
        if state.playableRegions == [n] && state.regionMask != 0xFF { return nil }
        guard state.userChangesLeft > 0, state.typeCode != 3 else {
            throw OperationError("the drive's region is permanent (no user changes left): only a vendor reset could change it", kind: .refused)
        }
        // SEND KEY format 06h: 8-byte parameter list, byte 1 = 6, byte 4 = the region as a mask with one bit clear.
        let mask = UInt8(0xFF & ~(1 << (n - 1)))
        let question = "Set region \(n) on \(device.name)? This spends one change: \(state.userChangesLeft - 1) will be left\(state.userChangesLeft == 1 ? " and the region becomes PERMANENT" : "")."
        return Change(kind: .set(n), before: state, question: question,
                      cdbs: [(.sendKey(keyFormat: 0x06, parameterLength: 8), .toDevice([0, 6, 0, 0, mask, 0, 0, 0]))])
    }

    /// A vendor or global reset, only for drives whose family in firmware-db names one; the global reset is keyed by
    /// the drive ID read from RAM (a read-only identification read, sent here).
    public func prepareReset(global: Bool, inquiry inq: InquiryData) throws -> Change {
        let db = try database()
        let kind = global ? "global" : "vendor"
        guard let model = db.match(vendor: inq.vendor, product: inq.product, revision: inq.revision), let family = db.family(model.family),
              let resets = family.region, !(global ? resets.global : resets.vendor).isEmpty else {
            if db.match(vendor: inq.vendor, product: inq.product, revision: inq.revision) == nil {
                throw OperationError("no known \(kind) region reset for this drive: " + DBMatch.refusal(db, vendor: inq.vendor, product: inq.product, revision: inq.revision),
                                     kind: .refused)
            }
            throw OperationError("no known \(kind) region reset for this drive (\(inq.vendor) \(inq.product)): firmware-db names none for its family",
                                 kind: .refused)
        }
        guard let before = try state() else {
            throw OperationError("\(device.name) runs RPC-I firmware (no region state): there is nothing to reset", kind: .refused)
        }
        if !global && before.vendorResetsLeft == 0 {
            throw OperationError("the drive has no vendor resets left: only a global reset could restore it", kind: .refused)
        }
        var probe = ProbeData()
        if global {
            do { probe = try ProbeRunner.run(resets.probes, on: t) } catch { throw OperationError("identification read: \(error.description)", kind: .device) }
            for pr in resets.probes {
                guard let d = pr.driveID, let id = probe.driveIDs[pr.name] else { continue }
                guard db.idTables[d.table]?.find(id) != nil else {
                    throw OperationError("the drive ID read from RAM ('\(id)') is not in \(d.table): odflash sends no reset keyed by an unknown ID", kind: .refused)
                }
            }
        }
        let cdbs: [CDB]
        do { cdbs = try resets.cdbs(global: global, probe: probe) } catch { throw OperationError("\(error)", kind: .refused) }
        return Change(kind: global ? .globalReset : .vendorReset, before: before,
                      question: "Send the \(kind) region reset to \(device.name) (\(inq.vendor) \(inq.product))? \(resets.warning ?? "")",
                      cdbs: cdbs.map { ($0, .none) })
    }

    /// Sends a prepared change and reads the state back.
    public func apply(_ c: Change) throws -> RPCState {
        for (cdb, data) in c.cdbs {
            let r: CommandResult
            do { r = try t.execute(cdb, data, timeout: 20) } catch { throw OperationError("\(c.name) [\(cdb)] failed: \(error)", kind: .device) }
            guard r.isGood else {
                throw OperationError("the drive refused the \(c.name) [\(cdb)]: \(r.sense?.description ?? r.status.name)", kind: .device)
            }
        }
        guard let after = try state() else { throw OperationError("the drive no longer reports its region state", kind: .device) }
        return after
    }
}
