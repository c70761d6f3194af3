import Operations
import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import SCSI

struct SenseCommand: ODCommand {
    static let configuration = CommandConfiguration(
        commandName: "sense",
        abstract: "Decode a SCSI sense code with the full T10 table.",
        discussion: """
        Accepts KEY/ASC/ASCQ (03/0C/00), three hex numbers (3 0c 0), raw sense bytes (70 00 03 00 ...), \
        or lines pasted from logs: Nero ("Sense Key: 0x03 (KEY_MEDIUM_ERROR)" ...), cdrecord and wodim \
        ("Sense Bytes:", "Sense Code: 0x0C Qual 0x00"), growisofs ("SK=3h/ASC=0Ch/ACQ=00h"), libburn, xorriso and \
        Brasero ("[3 0C 00]"), the Linux kernel ("Sense Key : Medium Error [current]", "Add. Sense: Write error") \
        and ImgBurn ("Reason: Power Calibration Area Error"; it names no sense key). \
        Use '-' or no argument to read standard input.
        """)

    /// It reads firmware-db/media alone (Context.mediaKnowledge), not the whole database.
    static let readsFirmwareDB = false

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The sense code or log text; '-' reads standard input.")
    var code: [String] = []

    struct Report: Encodable {
        let input: String
        let source: String
        let logFormat: String?
        let key: String
        let keyName: String
        let asc: String
        let ascq: String
        let description: String
        let format: String?
        let current: Bool?
        let information: String?
        let commandSpecific: String?
        let fru: String?
        let senseKeySpecific: String?
        let progressPercent: Double?
        let advice: String?
    }

    /// Sense bytes or a pasted log excerpt: far below this; /dev/zero or a huge file on stdin is refused at it.
    static let inputLimit = 1 << 20

    func run(_ ctx: Context) throws { try SenseCommand.decode(code, ctx) }

    /// The codes of `sense CODE...` when the line has nothing else (no option, no '-' or '--'): what the parser would
    /// give the command, read without it (start-up is most of this command's time).
    static func fastPath(_ args: [String]) -> [String]? {
        guard args.count >= 2, args[0] == "sense" else { return nil }
        let codes = Array(args.dropFirst())
        return codes.allSatisfy { !$0.hasPrefix("-") } ? codes : nil
    }

    static func decode(_ code: [String], _ ctx: Context) throws {
        var text = code.joined(separator: " ")
        if code.isEmpty || code == ["-"] {
            let data: [UInt8]
            do { data = try InputFile.readStandardInput(limit: SenseCommand.inputLimit, what: "sense inputs") }
            catch { throw CLIError(error.description, kind: .input) }
            text = String(decoding: data, as: UTF8.self)
        }
        let parsed: SenseInput
        do { parsed = try SenseInput.parse(text) }
        catch { throw CLIError(error.description, kind: .input) }
        let s = parsed.sense
        let raw = parsed.fromBytes
        let media = try? ctx.optionalMediaKnowledge(announce: !ctx.json)   // media tables only; without a db: said once, no advice
        // Burn-failure advice from firmware-db/media/advice.tsv, when the database is at hand; a log without the sense
        // key (ImgBurn) gets the advice for the additional sense under any key.
        let advice = parsed.keyGiven ? media?.advice(key: s.key, asc: s.asc, ascq: s.ascq) : media?.advice(asc: s.asc, ascq: s.ascq)
        let r = Report(
            input: text.trimmingWhitespaceAndNewlines, source: parsed.source.rawValue,
            logFormat: parsed.logFormat?.rawValue,
            key: parsed.keyGiven ? Hex.byte(s.key) + "h" : "unknown", keyName: parsed.keyGiven ? s.keyName : "not in the log",
            asc: Hex.byte(s.asc) + "h", ascq: Hex.byte(s.ascq) + "h",
            description: s.ascDescription,
            format: raw ? s.format.rawValue : nil, current: raw ? s.current : nil,
            information: s.information.map { Hex.offset($0) },
            commandSpecific: s.commandSpecific.map { Hex.offset($0) },
            fru: raw && s.fru != 0 ? Hex.byte(s.fru) + "h" : nil,
            senseKeySpecific: s.senseKeySpecific.map { Hex.bytes($0) },
            progressPercent: s.progress.map { ($0 * 1000).rounded() / 10 },
            advice: advice)
        var kv = KeyValues()
        kv.add("Sense", parsed.keyGiven ? s.triple : "?/\(Hex.byte(s.asc))/\(Hex.byte(s.ascq))")
        kv.add("Sense key", parsed.keyGiven ? "\(Hex.byte(s.key))h \(s.keyName)" : "not in the log (it names only the additional sense)")
        kv.add("ASC/ASCQ", "\(Hex.byte(s.asc))h/\(Hex.byte(s.ascq))h \(s.ascDescription)")
        if raw {
            kv.add("Format", "\(s.format.rawValue), \(s.current ? "current" : "deferred") error")
            kv.add("Information", r.information)
            kv.add("Command-specific", r.commandSpecific)
            kv.add("FRU", r.fru)
            kv.add("Key-specific", r.senseKeySpecific)
            kv.add("Progress", r.progressPercent.map { "\($0)%" })
        }
        kv.add("Read as", r.logFormat)
        kv.add("For a burner", r.advice)
        ctx.emit(r, text: kv.text)
    }
}
