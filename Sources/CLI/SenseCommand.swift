import Operations
import ArgumentParser
import Foundation
import SCSI

struct SenseCommand: ODCommand {
    static let configuration = CommandConfiguration(
        commandName: "sense",
        abstract: "Decode a SCSI sense code with the full T10 table.",
        discussion: """
        Accepts KEY/ASC/ASCQ (03/0C/00), three hex numbers (3 0c 0), raw sense bytes (70 00 03 00 ...), \
        or lines pasted from Nero, cdrecord or ImgBurn logs ("Sense Key: 0x03 (KEY_MEDIUM_ERROR)" ...). \
        Use '-' or no argument to read standard input.
        """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The sense code or log text; '-' reads standard input.")
    var code: [String] = []

    struct Report: Encodable {
        let input: String
        let source: String
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

    func run(_ ctx: Context) throws {
        var text = code.joined(separator: " ")
        if code.isEmpty || code == ["-"] {
            let data = FileHandle.standardInput.readDataToEndOfFile()
            text = String(decoding: data, as: UTF8.self)
        }
        let parsed: SenseInput
        do { parsed = try SenseInput.parse(text) }
        catch { throw CLIError(error.description, kind: .input) }
        let s = parsed.sense
        let raw = parsed.fromBytes
        let r = Report(
            input: text.trimmingCharacters(in: .whitespacesAndNewlines), source: parsed.source.rawValue,
            key: Hex.byte(s.key) + "h", keyName: s.keyName, asc: Hex.byte(s.asc) + "h", ascq: Hex.byte(s.ascq) + "h",
            description: s.ascDescription,
            format: raw ? s.format.rawValue : nil, current: raw ? s.current : nil,
            information: s.information.map { Hex.offset($0) },
            commandSpecific: s.commandSpecific.map { Hex.offset($0) },
            fru: raw && s.fru != 0 ? Hex.byte(s.fru) + "h" : nil,
            senseKeySpecific: s.senseKeySpecific.map { Hex.bytes($0) },
            progressPercent: s.progress.map { ($0 * 1000).rounded() / 10 },
            // Burn-failure advice from firmware-db/media/advice.tsv, when the database is at hand.
            advice: (try? ctx.optionalDatabase(announce: !ctx.json))??.media.advice(key: s.key, asc: s.asc, ascq: s.ascq))
        var kv = KeyValues()
        kv.add("Sense", s.triple)
        kv.add("Sense key", "\(Hex.byte(s.key))h \(s.keyName)")
        kv.add("ASC/ASCQ", "\(Hex.byte(s.asc))h/\(Hex.byte(s.ascq))h \(s.ascDescription)")
        if raw {
            kv.add("Format", "\(s.format.rawValue), \(s.current ? "current" : "deferred") error")
            kv.add("Information", r.information)
            kv.add("Command-specific", r.commandSpecific)
            kv.add("FRU", r.fru)
            kv.add("Key-specific", r.senseKeySpecific)
            kv.add("Progress", r.progressPercent.map { "\($0)%" })
        }
        kv.add("For a burner", r.advice)
        ctx.emit(r, text: kv.text)
    }
}
