import Operations
import ArgumentParser
import Firmware
import FirmwareDB
import Flashing
import Foundation
import MMC
import SCSI
#if canImport(Glibc)
import Glibc
#endif

struct DumpCommand: ODCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump",
        abstract: "Read a drive's firmware into an image file, for families with a public read method.",
        discussion: """
        Only read commands and the mode changes they need (e.g. NEC safe mode, always left again) are sent.
        The file is written to a temporary name and renamed when complete; an existing file is never replaced
        unless --force-overwrite is given. The result is inspected like 'odflash fw inspect'.
        """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The drive.") var device: String
    @Argument(help: "The image file to write.") var output: String
    @Flag(help: "Replace OUTPUT if it exists.") var forceOverwrite = false

    struct Report: Encodable {
        let device: String
        let output: String
        let family: String
        let bytes: Int
        let sha256: String
        let commandsSent: Int
        let layout: String?
        let valid: Bool?
        let verdict: String
        let notes: [String]
        let synthetic: Bool
    }

    func run(_ ctx: Context) throws {
        let db = try ctx.database()
        if !forceOverwrite && FileManager.default.fileExists(atPath: output) {
            throw CLIError("\(output) exists: choose another name or add --force-overwrite", kind: .output)
        }
        let t = try ctx.open(device, exclusive: !device.hasPrefix("emu:"))
        defer { t.close() }
        let inq: InquiryData
        do { inq = try DriveIdentifier(t).inquiry() }
        catch let e as IdentifyError { throw CLIError(e.description, kind: .device) }
        catch let e as TransportError { throw CLIError(e.description, kind: .device) }
        guard let model = db.match(vendor: inq.vendor, product: inq.product, revision: inq.revision), let family = db.family(model.family) else {
            throw CLIError(DBMatch.refusal(db, vendor: inq.vendor, product: inq.product, revision: inq.revision) + ": odflash sends no vendor command to it",
                           kind: .refused)
        }
        guard !family.dumpVariants.isEmpty else {
            throw CLIError("no public method reads the firmware of \(family.name) (\(family.id)) drives", kind: .refused)
        }
        var dumper = Dumper(transport: t)
        let console = ctx.console, tty = isatty(2) == 1 && !ctx.json
        var last = -1
        dumper.progress = { done, total in
            let pct = total == 0 ? 100 : done * 100 / total
            if tty && pct != last { last = pct; console.err("\rreading firmware: \(pct)%   ") }
        }
        // The identification reads first: the drive's ID must be known and of a class a read sequence is for.
        let proto: DumpProtocol, probe: ProbeData
        do { (proto, probe) = try Dumper.select(family.dumpVariants, on: t, idTables: db.idTables) } catch {
            if !error.refused {
                throw CLIError("dump failed, nothing was written to \(output): \(error.description)", kind: .device)
            }
            throw CLIError("dump refused, nothing was sent but identification: \(error.description)", kind: .refused)
        }
        // A vendor mode entered for the read (NEC safe mode) is left on every exit path: a signal stops the read
        // between commands and the cleanup runs.
        let result: Dumper.Result
        FlashSignals.acquire(newlineFirst: tty)
        defer { FlashSignals.release() }
        dumper.interruptible = true
        do { result = try dumper.run(proto, probe: probe) } catch {
            if tty { console.err("\n") }
            if let s = error.interrupted {
                throw CLIError("dump interrupted (\(FlashSignals.name(s))), nothing was written to \(output); drive: \(error.driveState)", kind: .interrupted(signal: s))
            }
            let cleanup = error.cleanupNotes.isEmpty ? "" : "; restoring the drive also failed (\(error.cleanupNotes.joined(separator: "; "))): power-cycle it"
            throw CLIError("dump failed, nothing was written to \(output): \(error.description)\(cleanup)", kind: .device)
        }
        if tty { console.err("\n") }
        try AtomicFile.write(Data(result.bytes), to: output, overwrite: forceOverwrite)
        let rep = Inspector(layouts: db.layouts, idTables: db.idTables).inspect(LoadedImage(path: output, container: "bin", member: nil, bytes: result.bytes))
        var notes = result.notes
        if let want = proto.layout, rep.identity?.layout != want { notes.append("the result does not inspect as \(want)") }
        if rep.valid == false { notes.append("the result does not validate" + (rep.warnings.isEmpty ? " (an erased or foreign flash reads like this)" : ": \(rep.warnings.joined(separator: "; "))")) }
        let r = Report(device: device, output: output, family: family.id, bytes: result.bytes.count, sha256: SHA256.hex(result.bytes),
                       commandsSent: result.commandsSent, layout: rep.identity?.layout, valid: rep.valid, verdict: rep.verdict, notes: notes,
                       synthetic: family.synthetic || model.synthetic)
        var kv = KeyValues()
        kv.add("Device", "\(device): \(inq.vendor) \(inq.product) \(inq.revision)")
        kv.add("Family", family.synthetic ? "\(family.id) (SYNTHETIC: emulated drives only)" : family.id)
        kv.add("Wrote", "\(output): \(result.bytes.count) bytes, sha256 \(r.sha256)")
        kv.add("Read", "flash \(String(proto.from, radix: 16, uppercase: true))h-\(String(proto.to, radix: 16, uppercase: true))h in \(result.commandsSent) commands")
        kv.add("Layout", rep.identity.map { "\($0.family)/\($0.layout)" } ?? "not identified")
        kv.add("Valid", rep.verdict)
        for n in notes { kv.add("Note", n) }
        ctx.emit(r, text: kv.text)
        // A dump that does not validate is kept (it is evidence) but the run found a problem.
        if rep.valid != true { throw ExitCode(1) }
    }
}
