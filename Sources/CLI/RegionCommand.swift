import Operations
import ArgumentParser
import FirmwareDB
import Flashing
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MMC
import SCSI

struct RegionCommand: ODCommand {
    static let configuration = CommandConfiguration(
        commandName: "region",
        abstract: "Show the drive's DVD region (RPC) state; --set N changes it, spending one of its limited changes.",
        discussion: "Reads REPORT KEY key format 08h; sets with SEND KEY key format 06h (MMC). A drive that rejects REPORT KEY 08h runs RPC-I firmware: it does not enforce regions.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The drive.") var device: String
    @Option(help: "Set the region (1-8). Each change counts down the drive's user changes; at 0 the region is permanent.") var set: String?
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
        .init(available: true, typeCode: s.typeCode, type: s.typeName, regionMask: Hex.byte(UInt8(s.regionMask)) + "h", regions: s.regionDescription,
              vendorResetsLeft: s.vendorResetsLeft, userChangesLeft: s.userChangesLeft, scheme: s.schemeName, note: nil)
    }

    func run(_ ctx: Context) throws {
        if [set != nil, vendorReset, globalReset].filter({ $0 }).count > 1 {
            throw CLIError("--set, --vendor-reset and --global-reset are separate operations: one at a time", kind: .usage)
        }
        let set = try self.set.map { try CLINumber.integer($0, option: "--set", 1...8, what: "a region") }
        let dev = try ctx.openDevice(device)
        defer { dev.transport.close() }
        let svc = RegionService(device: dev, database: ctx.database)
        let inq = try svc.identify()
        let change: RegionService.Change?
        if vendorReset || globalReset {
            change = try svc.prepareReset(global: globalReset, inquiry: inq)
        } else {
            let state = try svc.state()
            guard let n = set else { return show(ctx, state) }
            change = try svc.prepareSet(n, state: state)
            guard change != nil, let state else {
                return ctx.emit(Report(device: device, rpc: RegionCommand.report(state!), changed: false, before: state?.regionDescription),
                                text: "The drive is already set to region \(n); nothing was sent.\n" + RegionCommand.text(state!))
            }
        }
        guard let c = change else { return }
        if !yes { try ctx.confirm(c.question, action: c.kind == .globalReset || c.kind == .vendorReset ? "a region reset" : "changing the region", undone: "nothing was sent") }
        let after = try svc.apply(c)
        let text: String
        switch c.kind {
        case .set: text = "Region changed: \(c.before.regionDescription) -> \(after.regionDescription)\n"
        case .vendorReset, .globalReset:
            text = "\(c.kind == .globalReset ? "Global" : "Vendor") reset sent: user changes \(c.before.userChangesLeft) -> \(after.userChangesLeft), vendor resets \(c.before.vendorResetsLeft) -> \(after.vendorResetsLeft)\n"
        }
        ctx.emit(Report(device: device, rpc: RegionCommand.report(after), changed: true, before: c.before.regionDescription), text: text + RegionCommand.text(after))
    }

    func show(_ ctx: Context, _ state: RPCState?) {
        guard let state else {
            let rep = DriveInfo.RPCReport(available: false, typeCode: nil, type: nil, regionMask: nil, regions: nil, vendorResetsLeft: nil,
                                          userChangesLeft: nil, scheme: nil, note: "RPC-I (not enforced): the drive does not report a region state")
            return ctx.emit(Report(device: device, rpc: rep, changed: false, before: nil), text: "Region: RPC-I (not enforced): the drive does not report a region state\n")
        }
        ctx.emit(Report(device: device, rpc: RegionCommand.report(state), changed: false, before: nil), text: RegionCommand.text(state))
    }

    static func text(_ s: RPCState) -> String {
        var kv = KeyValues()
        kv.add("Scheme", s.schemeName)
        kv.add("State", s.typeName)
        kv.add("Region", "\(s.regionDescription) (mask \(Hex.byte(UInt8(s.regionMask)))h)")
        kv.add("User changes left", "\(s.userChangesLeft)")
        kv.add("Vendor resets left", "\(s.vendorResetsLeft)")
        return kv.text
    }
}
