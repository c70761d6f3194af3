import Operations
import ArgumentParser
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
#if canImport(Glibc)
import Glibc
#endif

struct DumpCommand: ODCommand {
    static let streamsJSON = true
    static let configuration = CommandConfiguration(
        commandName: "dump",
        abstract: "Read a drive's firmware into an image file, for families with a public read method.",
        discussion: """
        Only read commands and the mode changes they need (e.g. NEC safe mode, always left again) are sent. \
        The file is written to a temporary name and renamed when complete; an existing file is never replaced \
        unless --force-overwrite is given. The result is inspected like 'odflash fw inspect'. \
        With --json the output is NDJSON: progress lines while reading, then a result (or error) line.
        """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The drive: /dev/sgN, usb:BUS:ADDR, serial:SERIAL (two drives of one model told apart), emu:NAME.") var device: String
    @Argument(help: "The image file to write.") var output: String
    @Flag(help: "Replace OUTPUT if it exists.") var forceOverwrite = false

    /// An NDJSON progress line's body (--json), as flash's: bytes read so far.
    struct Progress: Encodable {
        let phase = "read"
        let bytesDone: Int, bytesTotal: Int, percent: Double
    }

    func run(_ ctx: Context) throws {
        let db = try ctx.database()
        let dev = try ctx.openDevice(device, exclusive: true)
        defer { dev.transport.close() }
        let console = ctx.console, tty = isatty(2) == 1 && !ctx.json, json = ctx.json
        var last = -1
        let r: DumpSession.Report
        // A vendor mode entered for the read (NEC safe mode) is left on every exit path: a signal stops the read
        // between commands and the cleanup runs.
        FlashSignals.acquire(newlineFirst: tty)
        defer { FlashSignals.release() }
        do {
            r = try DumpSession(db: db, device: dev, output: output, overwrite: forceOverwrite).run { done, total in
                if json {
                    let percent = total == 0 ? 100 : (Double(done) * 1000 / Double(total)).rounded() / 10
                    console.out(JSON.compact(FlashOutput.Line(type: "progress", body: Progress(bytesDone: done, bytesTotal: total, percent: percent))) + "\n")
                    return
                }
                let pct = total == 0 ? 100 : done * 100 / total
                if tty && pct != last { last = pct; console.err("\rreading firmware: \(pct)%   ") }
            }
        } catch { if tty && last >= 0 { console.err("\n") }; throw error }
        if tty && last >= 0 { console.err("\n") }
        var kv = KeyValues()
        kv.add("Device", "\(device): \(r.drive)" + (r.serial.map { ", serial \($0)" } ?? ""))
        kv.add("Family", r.synthetic ? "\(r.family) (SYNTHETIC: emulated drives only)" : r.family)
        kv.add("Wrote", "\(output): \(r.bytes) bytes, sha256 \(r.sha256)")
        kv.add("Read", "flash \(Hex.offset(r.from))-\(Hex.offset(r.to)) in \(r.commandsSent) commands")
        kv.add("Layout", r.layout.map { "\(r.family)/\($0)" } ?? "not identified")
        kv.add("Valid", r.verdict)
        for n in r.notes { kv.add("Note", n) }
        console.out(ctx.json ? JSON.compact(FlashOutput.Line(type: "result", body: r)) + "\n" : ctx.fit(kv.text))
        // A dump that does not validate, or has unreadable gaps, is kept (it is evidence) but the run found a problem.
        if r.valid != true || !r.gaps.isEmpty { throw ExitCode(1) }
    }
}
