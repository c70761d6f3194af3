import Operations
import ArgumentParser
import Emulator
import FirmwareDB
import Flashing
import MMC
import SCSI
import Transports

/// The firmware-db view of a drive: its model and family, with provenance; or, for a drive a public source names but
/// odflash does not support, that it is known and why it is not supported.
struct Info: ODCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Identify a drive: INQUIRY, serial, profiles, write capabilities, region state, medium.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The device: /dev/sgN, /dev/srN, usb:BUS:ADDR, usb:VID:PID, serial:SERIAL, emu:NAME.")
    var device: String

    @Flag(help: "When no model entry names the drive: send the families' read-only identification reads (firmware-db identify), one family at a time in the database's order, and show which family answered.")
    var probe = false

    @Flag(help: "After the report, every answer the drive gave, in hex (as sg_inq --hex), each under its command.")
    var hex = false

    @Flag(help: "Instead of the report, the bytes of every answer the drive gave, back to back in the order --hex lists them (binary: redirect standard output to a file).")
    var raw = false

    typealias Report = DriveReport

    func run(_ ctx: Context) throws {
        if raw && (hex || ctx.json) { throw CLIError("--raw writes only the drive's answers: not with --hex or --json", kind: .usage) }
        if hex && ctx.json { throw CLIError("--hex adds to the text report: not with --json", kind: .usage) }
        if raw && ctx.console.outIsTerminal { throw CLIError("--raw writes binary: redirect standard output to a file or a pipe", kind: .usage) }
        let opened = try ctx.openDevice(device)
        defer { opened.transport.close() }
        // --hex and --raw: the answers as the drive sent them, recorded on their way to the report.
        let recorder = hex || raw ? TranscriptRecorder(opened.transport) : nil
        let dev = recorder.map { opened.through($0) } ?? opened
        let r = try DriveReport.gather(dev, db: try ctx.optionalDatabase(announce: !ctx.json && !raw), probe: probe)
        let answers = (recorder?.entries ?? []).compactMap { e -> (TranscriptEntry, [UInt8])? in
            guard let d = e.dataIn, let bytes = Bytes.parseHex(d), !bytes.isEmpty else { return nil }
            return (e, bytes)
        }
        if raw {
            ctx.console.write(bytes: answers.flatMap(\.1))
            return
        }
        let (info, match, outcome, emu, strategy, ops) = (r.drive, r.firmwareDB, r.probe, r.emulated, r.strategyVersions, r.operations)
        var text = Info.text(info, match, probed: outcome)
        if let e = emu {
            text += "Emulated drive:   profile '\(e.profile)'\(e.synthetic ? " [SYNTHETIC]" : ""): \(e.provenance)\n"
        }
        if probe && outcome == nil {
            text += match?.model != nil ? "Probe:            not needed (the model entry names the drive)\n" : "Probe:            not sent (not an MMC drive)\n"
        }
        if let o = outcome { text += ProbeText.info(o) }
        if let s = strategy { text += ProbeText.strategy(s) }
        if let m = r.mediatek { text += Info.mediatek(m) }
        if let p = r.pioneer { text += Info.pioneer(p) }
        if !ops.isEmpty {
            text += "Operations:\n" + TextTable.render(["  OPERATION", "STATUS", "DETAIL"], ops.map {
                ["  " + $0.name, $0.available ? ($0.status == .ok ? "yes" : "yes (\($0.status?.rawValue ?? "?"))") : "no", $0.detail]
            }, width: TextTable.width)
        }
        if hex {
            text += "Answers (hex):\n"
            for (e, bytes) in answers {
                text += "\(e.name) [\(e.cdb)]: \(bytes.count) bytes\n" + Hex.dump(bytes).map { $0 + "\n" }.joined()
            }
        }
        ctx.emit(r, text: text)
    }

    /// A MediaTek MT19xx drive's own reads (READ BUFFER 06h at 3000h and 1EC000h).
    static func mediatek(_ m: MediaTekDriveReport) -> String {
        var kv = KeyValues()
        kv.add("Boot banner", m.banner.map { "'\($0)' (READ BUFFER 06h at 3000h, 20h bytes)" } ?? "not read")
        kv.add("Chip", m.chip.map { "\($0) (\(m.chipSource))" } ?? "UNKNOWN: \(m.chipProblem ?? "not read") (odflash refuses to flash it)")
        if let d = m.descriptor {
            kv.add("Descriptor", "\(d.vendor) \(d.model) \(d.revision), region/SKU code '\(d.regionCode)', \(d.unique.isEmpty ? "no UNIQUE stamp" : d.unique)")
            kv.add("Downgrade byte", "\(d.downgradeEnable) at 1EC056h (\(d.downgradeEnabled ? "enabled: a foreign image may be accepted" : "not DEh: the drive will likely reject a foreign (cross-flash) image"))")
        } else {
            kv.add("Descriptor", "not read")
        }
        kv.add("Fingerprint", m.fingerprint ?? "not available")
        kv.add("Build", m.build.map { "\($0) (\(m.buildSource))" } ?? m.buildSource)
        for n in m.notes { kv.add("Note", n) }
        return kv.text
    }

    /// A Pioneer BD writer's identity block (READ BUFFER 02h, buffer F1h).
    static func pioneer(_ p: PioneerBDDriveReport) -> String {
        var kv = KeyValues()
        if let i = p.identity {
            kv.add("Pioneer serial", i.serial.isEmpty ? "(empty)" : i.serial)
            kv.add("Platform", i.platform + (i.controllerID.map { " (controller id \($0))" } ?? ""))
            kv.add("Kernel tag", i.kernelTag.isEmpty ? "(empty)" : i.kernelTag)
            kv.add("Normal tag", i.normalTag.isEmpty ? "(empty: the drive is in an update session)" : i.normalTag)
        } else {
            kv.add("Identity block", "not read")
        }
        if let pr = p.problem { kv.add("Identity problem", pr) }
        kv.add("Dialect", p.dialect ?? "none (neither a BD- product nor a DVD-R product on a DVR platform)")
        kv.add("Cross-flash", p.crossflashFamily.map { "family \($0) (\(p.crossflashModels ?? "")): same SAT or same family allowed, another family denied" } ?? p.crossflashSource)
        kv.add("Flash", p.flash)
        return kv.text
    }

    static func text(_ i: DriveInfo, _ m: DBMatch?, probed: IdentifyOutcome? = nil) -> String {
        var kv = KeyValues()
        let q = i.inquiry
        kv.add("Device", "\(i.device) (\(i.transport))")
        kv.add("Vendor", q.vendor)
        kv.add("Product", q.product)
        kv.add("Revision", q.revision)
        kv.add("Device type", "\(Hex.byte(UInt8(q.deviceType)))h \(q.deviceTypeName)\(q.removable ? ", removable" : "")")
        kv.add("SPC version", Hex.byte(UInt8(truncatingIfNeeded: q.version)) + "h")
        if !q.vendorSpecific.isEmpty { kv.add("Vendor specific", q.vendorSpecific) }
        kv.add("Serial (VPD 80h)", i.serial ?? "not reported")
        kv.add("firmware-db", m == nil ? "" : probed == nil ? m?.summary : "unknown by INQUIRY (no model entry); identification reads sent, see below")
        if let k = m?.known { kv.add("Named by", k.sources.joined(separator: "; ")) }
        kv.add("Current profile", i.currentProfile.map { "\($0.code) \($0.name)" } ?? "none")
        kv.add("Profiles", i.profiles.isEmpty ? "not reported" : i.profiles.map { $0.name + ($0.current ? "*" : "") }.joined(separator: ", "))
        kv.add("Can write", i.writeCapabilities.isEmpty ? "nothing reported" : i.writeCapabilities.joined(separator: ", "))
        if let c = i.capabilities {
            if !c.writeSpeedsKBs.isEmpty {
                kv.add("Write speeds", c.writeSpeedsKBs.map { "\($0) kB/s" }.joined(separator: ", "))
            }
            kv.add("Buffer", c.bufferSizeKB.map { "\($0) KB\(c.bufferUnderrunProtection ? ", underrun protection" : "")" })
            kv.add("Loading", c.loadingMechanism)
        }
        if i.rpc.available {
            kv.add("Region (RPC)", "\(i.rpc.scheme ?? ""): \(i.rpc.type ?? ""), region \(i.rpc.regions ?? "") (mask \(i.rpc.regionMask ?? "")); \(i.rpc.userChangesLeft ?? 0) user changes, \(i.rpc.vendorResetsLeft ?? 0) vendor resets left")
        } else {
            kv.add("Region (RPC)", i.rpc.note ?? "not reported")
        }
        kv.add("Medium", i.medium.rawValue)
        var s = kv.text
        if !i.notes.isEmpty { s += "Not available:\n" + i.notes.map { "  - \($0)\n" }.joined() }
        return s
    }
}
