import Operations
import ArgumentParser
import FirmwareDB
import Flashing
import Foundation
import MMC
import SCSI

struct RegionCommand: ODCommand {
    static let configuration = CommandConfiguration(
        commandName: "region",
        abstract: "Show the drive's DVD region (RPC) state; --set N changes it, spending one of its limited changes.",
        discussion: "Reads REPORT KEY key format 08h; sets with SEND KEY key format 06h (MMC). A drive that rejects REPORT KEY 08h runs RPC-I firmware: it does not enforce regions.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The drive.") var device: String
    @Option(help: "Set the region (1-8). Each change counts down the drive's user changes; at 0 the region is permanent.") var set: Int?
    @Flag(help: "Restore the user changes with the family's vendor reset (spends one vendor reset; NEC/Optiarc only).") var vendorReset = false
    @Flag(help: "Restore both counters with the family's global reset, keyed by the drive ID read from RAM (NEC/Optiarc only).") var globalReset = false
    @Flag(help: "Do not ask for confirmation (required with --json or without a terminal).") var yes = false

    struct Report: Encodable {
        let device: String
        let rpc: DriveInfo.RPCReport
        let changed: Bool
        let before: String?
    }

    static func report(_ s: RPCState) -> DriveInfo.RPCReport {
        .init(available: true, typeCode: s.typeCode, type: s.typeName, regionMask: Bytes.hex2(UInt8(s.regionMask)) + "h", regions: s.regionDescription,
              vendorResetsLeft: s.vendorResetsLeft, userChangesLeft: s.userChangesLeft, scheme: s.schemeName, note: nil)
    }

    func read(_ t: any SCSITransport) throws -> RPCState? {
        do {
            let r = try t.query(.reportKey(keyFormat: 0x08, allocation: 8), .fromDevice(8), timeout: 20)
            return try RPCState(bytes: r.data)
        } catch let e as SCSICommandError where e.sense?.key == 5 {
            return nil   // 05/24/00 or 05/20/00: RPC-I firmware
        } catch let e as TransportError {
            if case .hostError = e { return nil }   // QEMU's scsi-cd: REPORT KEY is not emulated
            throw CLIError(e.description, kind: .device)
        } catch let e as ParseError {
            throw CLIError("\(device): the drive's RPC state is malformed: \(e)", kind: .device)
        }
    }

    func run(_ ctx: Context) throws {
        if let n = set, !(1...8).contains(n) { throw CLIError("--set takes a region from 1 to 8", kind: .usage) }
        if [set != nil, vendorReset, globalReset].filter({ $0 }).count > 1 {
            throw CLIError("--set, --vendor-reset and --global-reset are separate operations: one at a time", kind: .usage)
        }
        let t = try ctx.open(device)
        defer { t.close() }
        let inq: InquiryData
        do { inq = try DriveIdentifier(t).identify(requireMMC: true).inquiry }
        catch let e as IdentifyError { throw CLIError(e.description, kind: .device) }
        catch let e as TransportError { throw CLIError(e.description, kind: .device) }
        if vendorReset || globalReset { return try reset(ctx, t, inq) }
        guard let state = try read(t) else {
            let rep = DriveInfo.RPCReport(available: false, typeCode: nil, type: nil, regionMask: nil, regions: nil, vendorResetsLeft: nil,
                                          userChangesLeft: nil, scheme: nil, note: "RPC-I (not enforced): the drive does not report a region state")
            if set != nil { throw CLIError("\(device) runs RPC-I firmware (no region state): there is no region to set", kind: .refused) }
            ctx.emit(Report(device: device, rpc: rep, changed: false, before: nil), text: "Region: RPC-I (not enforced): the drive does not report a region state\n")
            return
        }
        guard let n = set else {
            ctx.emit(Report(device: device, rpc: RegionCommand.report(state), changed: false, before: nil), text: RegionCommand.text(state))
            return
        }
        if state.playableRegions == [n] && state.regionMask != 0xFF {
            ctx.emit(Report(device: device, rpc: RegionCommand.report(state), changed: false, before: state.regionDescription),
                     text: "The drive is already set to region \(n); nothing was sent.\n" + RegionCommand.text(state))
            return
        }
        guard state.userChangesLeft > 0, state.typeCode != 3 else {
            throw CLIError("the drive's region is permanent (no user changes left): only a vendor reset could change it", kind: .refused)
        }
        if !yes {
            try ctx.confirm("Set region \(n) on \(device)? This spends one change: \(state.userChangesLeft - 1) will be left\(state.userChangesLeft == 1 ? " and the region becomes PERMANENT" : "").",
                            action: "changing the region", undone: "nothing was sent")
        }
        // SEND KEY format 06h: 8-byte parameter list, byte 1 = 6, byte 4 = the region as a mask with one bit clear.
        let mask = UInt8(0xFF & ~(1 << (n - 1)))
        let r = try t.execute(.sendKey(keyFormat: 0x06, parameterLength: 8), .toDevice([0, 6, 0, 0, mask, 0, 0, 0]), timeout: 20)
        guard r.isGood else {
            throw CLIError("the drive refused the region change: \(r.sense?.description ?? r.status.name)", kind: .device)
        }
        guard let after = try read(t) else { throw CLIError("the drive no longer reports its region state", kind: .device) }
        ctx.emit(Report(device: device, rpc: RegionCommand.report(after), changed: true, before: state.regionDescription),
                 text: "Region changed: \(state.regionDescription) -> \(after.regionDescription)\n" + RegionCommand.text(after))
    }

    /// A vendor region reset, only for drives whose family in firmware-db names one.
    func reset(_ ctx: Context, _ t: any SCSITransport, _ inq: InquiryData) throws {
        let db = try ctx.database()
        let kind = globalReset ? "global" : "vendor"
        guard let model = db.match(vendor: inq.vendor, product: inq.product, revision: inq.revision), let family = db.family(model.family),
              let resets = family.region, !(globalReset ? resets.global : resets.vendor).isEmpty else {
            if db.match(vendor: inq.vendor, product: inq.product, revision: inq.revision) == nil {
                throw CLIError("no known \(kind) region reset for this drive: " + DBMatch.refusal(db, vendor: inq.vendor, product: inq.product, revision: inq.revision),
                               kind: .refused)
            }
            throw CLIError("no known \(kind) region reset for this drive (\(inq.vendor) \(inq.product)): firmware-db names none for its family",
                           kind: .refused)
        }
        guard let before = try read(t) else {
            throw CLIError("\(device) runs RPC-I firmware (no region state): there is nothing to reset", kind: .refused)
        }
        if !globalReset && before.vendorResetsLeft == 0 {
            throw CLIError("the drive has no vendor resets left: only a global reset could restore it", kind: .refused)
        }
        var probe = ProbeData()
        if globalReset {
            var p = FlashProtocol(name: "region", provenance: resets.provenance, commit: [])
            p.probes = resets.probes
            do { probe = try ProbeRunner.run(p, on: t) } catch { throw CLIError("identification read: \(error.description)", kind: .device) }
            for pr in resets.probes {
                guard let d = pr.driveID, let id = probe.driveIDs[pr.name] else { continue }
                guard db.idTables[d.table]?.find(id) != nil else {
                    throw CLIError("the drive ID read from RAM ('\(id)') is not in \(d.table): odflash sends no reset keyed by an unknown ID", kind: .refused)
                }
            }
        }
        let cdbs: [CDB]
        do { cdbs = try resets.cdbs(global: globalReset, probe: probe) } catch { throw CLIError("\(error)", kind: .refused) }
        if !yes {
            try ctx.confirm("Send the \(kind) region reset to \(device) (\(inq.vendor) \(inq.product))? \(resets.warning ?? "")",
                            action: "a region reset", undone: "nothing was sent")
        }
        for c in cdbs {
            let r: CommandResult
            do { r = try t.execute(c, .none, timeout: 20) } catch { throw CLIError("\(kind) reset [\(c)] failed: \(error)", kind: .device) }
            guard r.isGood else {
                throw CLIError("the drive refused the \(kind) reset [\(c)]: \(r.sense?.description ?? r.status.name)", kind: .device)
            }
        }
        guard let after = try read(t) else { throw CLIError("the drive no longer reports its region state", kind: .device) }
        ctx.emit(Report(device: device, rpc: RegionCommand.report(after), changed: true, before: before.regionDescription),
                 text: "\(kind.capitalized) reset sent: user changes \(before.userChangesLeft) -> \(after.userChangesLeft), vendor resets \(before.vendorResetsLeft) -> \(after.vendorResetsLeft)\n" + RegionCommand.text(after))
    }

    static func text(_ s: RPCState) -> String {
        var kv = KeyValues()
        kv.add("Scheme", s.schemeName)
        kv.add("State", s.typeName)
        kv.add("Region", "\(s.regionDescription) (mask \(Bytes.hex2(UInt8(s.regionMask)))h)")
        kv.add("User changes left", "\(s.userChangesLeft)")
        kv.add("Vendor resets left", "\(s.vendorResetsLeft)")
        return kv.text
    }
}
