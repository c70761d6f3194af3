import Firmware
import SCSI

/// A family's read-only identification reads (firmware-db `identify:`), for drives whose INQUIRY no model entry names.
/// Every read is data-in, literal (no plan values) and marked read-only with provenance in the database; the database
/// refuses to load otherwise. Nothing here knows a vendor: what to send and what to expect is data.
public struct IdentifyRule: Equatable, Sendable {
    public enum Match: String, Sendable {
        /// Every read must pass; each is sent only when the one before it passed (MediaTek's two factors).
        case all
        /// The first read that passes identifies the drive; the later ones are not sent (NEC's RAM addresses).
        case first
    }
    /// Families are tried in this order (lower first): the database puts the safest reads first.
    public var order: Int
    public var provenance: String
    public var match: Match
    /// INQUIRY vendors this family's reads are never sent to (e.g. PIONEER for the MediaTek check).
    public var skipVendors: [String] = []
    /// When given, the reads are sent only to drives of these INQUIRY vendors (e.g. PIONEER for the Pioneer BD check).
    public var onlyVendors: [String] = []
    /// When given, the reads are sent only to drives whose last INQUIRY product word starts with one of these.
    public var productTokenPrefixes: [String] = []
    /// What a match does and does not tell (shown with it).
    public var note: String?
    public var probes: [IdentifyProbe]
    /// Whether the rule names the drives it is for by INQUIRY alone (both vendors and product words given) and this
    /// INQUIRY is one of them.
    public func claims(vendor: String, product: String) -> Bool {
        guard !onlyVendors.isEmpty, !productTokenPrefixes.isEmpty else { return false }
        let v = vendor.trimmedSpaces.uppercased()
        let token = (product.split(separator: " ").last.map(String.init) ?? "").uppercased()
        return onlyVendors.contains { $0.uppercased() == v } && productTokenPrefixes.contains { token.hasPrefix($0.uppercased()) }
    }
    public init(order: Int, provenance: String, match: Match, probes: [IdentifyProbe]) {
        self.order = order; self.provenance = provenance; self.match = match; self.probes = probes
    }
}

public struct IdentifyProbe: Equatable, Sendable {
    /// A 4-character (or other) ASCII ID in the answer, looked up in an ID table; with `classes`, only IDs of those
    /// flash classes count (Binflash compares each RAM address with its own set of IDs).
    public struct DriveID: Equatable, Sendable {
        public var offset: Int, length: Int, table: String
        public var classes: [String] = []
        public init(offset: Int, length: Int, table: String, classes: [String] = []) {
            self.offset = offset; self.length = length; self.table = table; self.classes = classes
        }
    }
    /// Bytes of the answer shown as text when the probe passes (e.g. the MT1959 boot banner).
    public struct Show: Equatable, Sendable {
        public var offset: Int, length: Int, what: String
        public init(offset: Int, length: Int, what: String) { self.offset = offset; self.length = length; self.what = what }
    }
    /// ASCII the answer must hold at a place: printable, starting with one of `prefixes`.
    public struct ASCIIPrefix: Equatable, Sendable {
        public var offset: Int, length: Int, prefixes: [String]
        public init(offset: Int, length: Int, prefixes: [String]) { self.offset = offset; self.length = length; self.prefixes = prefixes }
    }
    public var name: String
    public var provenance: String
    /// Must be true: the database refuses an identification read that is not marked read-only.
    public var readOnly: Bool
    public var cdb: CDB
    /// The data-in allocation.
    public var length: Int
    /// The answer must be exactly `length` bytes (no shorter transfer, no overrun).
    public var exactLength = false
    /// The answer must be a complete GET CONFIGURATION reply holding this one feature descriptor: 12-267 bytes,
    /// the feature code at bytes 8-9, the header's data length + 4 = 12 + the descriptor's additional length, and
    /// every declared byte received.
    public var feature: Int?
    /// ASCII the answer must contain.
    public var contains: String?
    public var driveID: DriveID?
    public var asciiPrefix: ASCIIPrefix?
    public var show: Show?
    public init(name: String, provenance: String, readOnly: Bool, cdb: CDB, length: Int) {
        self.name = name; self.provenance = provenance; self.readOnly = readOnly; self.cdb = cdb; self.length = length
    }

    /// nil when the answer satisfies every check of this probe; otherwise why not.
    public func problem(_ data: [UInt8], idTables: [String: IDTable]) -> String? {
        if exactLength && data.count != length { return "answered \(data.count) bytes, not exactly \(length)" }
        if let f = feature {
            guard (12...267).contains(data.count) else { return "a feature reply of \(data.count) bytes (12-267 expected)" }
            let code = Int(data[8]) << 8 | Int(data[9])
            guard code == f else { return "no feature \(Hex.offset(f, digits: 4)) (the reply holds \(Hex.offset(code, digits: 4)))" }
            let declared = (Int(data[0]) << 24 | Int(data[1]) << 16 | Int(data[2]) << 8 | Int(data[3])) + 4
            let needed = 12 + Int(data[11])
            guard declared == needed else { return "feature \(Hex.offset(f, digits: 4)) incomplete: the header declares \(declared) bytes, the descriptor \(needed)" }
            guard data.count >= needed else { return "feature \(Hex.offset(f, digits: 4)) incomplete: \(data.count) of \(needed) bytes" }
        }
        if let c = contains, !contains(Array(c.utf8), in: data) { return "no '\(c)' in the answer ('\(IdentifyProbe.printable(data))')" }
        if let a = asciiPrefix {
            guard a.offset + a.length <= data.count else { return "answered \(data.count) bytes, too short for bytes \(a.offset)-\(a.offset + a.length - 1)" }
            let b = data[a.offset..<(a.offset + a.length)]
            guard b.allSatisfy({ (0x20...0x7E).contains($0) }) else { return "bytes \(a.offset)-\(a.offset + a.length - 1) are not printable ASCII" }
            let text = String(decoding: b, as: UTF8.self)
            guard a.prefixes.contains(where: { text.hasPrefix($0) }) else {
                return "bytes \(a.offset)-\(a.offset + a.length - 1) are '\(text)', which starts with none of \(a.prefixes.map { "'\($0)'" }.joined(separator: ", "))"
            }
        }
        if let d = driveID {
            guard d.offset + d.length <= data.count else { return "answered \(data.count) bytes, too short for the drive ID" }
            let id = IdentifyProbe.printable(Array(data[d.offset..<(d.offset + d.length)]))
            guard let e = idTables[d.table]?.find(id) else { return "drive ID '\(id)' is not in \(d.table)" }
            if !d.classes.isEmpty, !d.classes.contains(e.flashClass ?? "") {
                return "drive ID \(id) (\(e.model)) is flash class \(e.flashClass ?? "unknown"), not one this read identifies (\(d.classes.joined(separator: ", ")))"
            }
        }
        return nil
    }

    func contains(_ needle: [UInt8], in hay: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= hay.count else { return needle.isEmpty }
        for i in 0...(hay.count - needle.count) where hay[i..<(i + needle.count)].elementsEqual(needle) { return true }
        return false
    }


    static func printable(_ b: [UInt8]) -> String {
        String(decoding: b.map { (0x20...0x7E).contains($0) ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
    }
}

/// What the identification reads found.
public struct IdentifyOutcome: Sendable, Equatable, Encodable {
    /// One read sent: its CDB, what came back, whether it passed.
    public struct Read: Sendable, Equatable, Encodable {
        public let probe: String
        public let cdb: String
        public let answer: String
        public let passed: Bool
        public let detail: String?
    }
    /// One family tried (or skipped).
    public struct Attempt: Sendable, Equatable, Encodable {
        public let family: String
        public var matched: Bool
        public var skipped: String?
        public var reads: [Read]
    }
    /// The matched family, or nil when none answered.
    public var family: String?
    public var familyName: String?
    /// The family's note on what a match tells.
    public var note: String?
    /// What identified it, e.g. "drive ID K355" or "boot banner 'MT1959 Boot BU5 '", and the reads that passed.
    public var evidence: [String] = []
    public var matchedBy: [String] = []
    public var driveID: String?
    public var model: String?
    public var flashClass: String?
    public var layout: String?
    public var attempts: [Attempt] = []
    /// Set when a read failed below SCSI status (timeout, device gone): probing stopped there.
    public var stopped: String?
    public init() {}
}

public enum Identifier {
    /// The vendor opcodes no identification read may ever use, whatever the database says (writes and state changes).
    public static let neverSent: Set<UInt8> = [0x04, 0x15, 0x1D, 0x2A, 0x2E, 0x35, 0x3B, 0x55, 0x5D, 0xA3, 0xAA, 0xBF]

    /// Runs the families' reads in their order, one family at a time, and stops at the first family that answers.
    /// `families`: (id, name, rule), already in order. Only data-in reads marked read-only are ever sent.
    public static func run(_ families: [(id: String, name: String, rule: IdentifyRule)], on t: any SCSITransport, vendor: String,
                           product: String = "", idTables: [String: IDTable]) -> IdentifyOutcome {
        var out = IdentifyOutcome()
        let v = vendor.trimmedSpaces.uppercased()
        for f in families {
            var attempt = IdentifyOutcome.Attempt(family: f.id, matched: false, reads: [])
            if f.rule.skipVendors.contains(where: { $0.uppercased() == v }) {
                attempt.skipped = "not sent to a drive whose INQUIRY vendor is \(vendor.trimmedSpaces)"
                out.attempts.append(attempt)
                continue
            }
            if !f.rule.onlyVendors.isEmpty, !f.rule.onlyVendors.contains(where: { $0.uppercased() == v }) {
                attempt.skipped = "sent only to a drive whose INQUIRY vendor is \(f.rule.onlyVendors.joined(separator: " or ")), not \(vendor.trimmedSpaces.isEmpty ? "(none)" : vendor.trimmedSpaces)"
                out.attempts.append(attempt)
                continue
            }
            let token = product.split(separator: " ").last.map(String.init) ?? ""
            if !f.rule.productTokenPrefixes.isEmpty, !f.rule.productTokenPrefixes.contains(where: { token.uppercased().hasPrefix($0.uppercased()) }) {
                attempt.skipped = "sent only to a drive whose last INQUIRY product word starts with \(f.rule.productTokenPrefixes.joined(separator: ", ")), not '\(token)'"
                out.attempts.append(attempt)
                continue
            }
            var evidence: [String] = [], passed: [String] = []
            var found: (id: String, entry: IDTable.Entry?)?
            var passedAll = true
            for p in f.rule.probes {
                guard p.readOnly, !neverSent.contains(p.cdb.opcode) else {
                    attempt.reads.append(.init(probe: p.name, cdb: p.cdb.description, answer: "not sent", passed: false, detail: "not marked read-only"))
                    passedAll = false
                    break
                }
                let r: CommandResult
                do {
                    r = try t.query(p.cdb, .fromDevice(p.length), timeout: 20)
                } catch let e as SCSICommandError {
                    attempt.reads.append(.init(probe: p.name, cdb: p.cdb.description, answer: "refused " + (e.sense.map(\.triple) ?? e.status.name),
                                               passed: false, detail: nil))
                    passedAll = false
                    if f.rule.match == .all { break } else { continue }
                } catch {
                    attempt.reads.append(.init(probe: p.name, cdb: p.cdb.description, answer: "failed", passed: false, detail: "\(error)"))
                    out.attempts.append(attempt)
                    out.stopped = "\(p.name) [\(p.cdb)]: \(error)"
                    return out
                }
                let why = p.problem(r.data, idTables: idTables)
                attempt.reads.append(.init(probe: p.name, cdb: p.cdb.description, answer: "\(r.data.count) bytes", passed: why == nil, detail: why))
                guard why == nil else {
                    passedAll = false
                    if f.rule.match == .all { break } else { continue }
                }
                if let d = p.driveID {
                    let id = IdentifyProbe.printable(Array(r.data[d.offset..<(d.offset + d.length)]))
                    found = (id, idTables[d.table]?.find(id))
                    evidence.append("drive ID \(id)")
                }
                if p.driveID == nil, let s = p.show, s.offset + s.length <= r.data.count {
                    evidence.append("\(s.what) '\(IdentifyProbe.printable(Array(r.data[s.offset..<(s.offset + s.length)])))'")
                }
                passed.append(p.name)
                if f.rule.match == .first { break }
            }
            let matched = f.rule.match == .first ? !passed.isEmpty : (passedAll && !f.rule.probes.isEmpty)
            attempt.matched = matched
            out.attempts.append(attempt)
            if matched {
                out.family = f.id
                out.familyName = f.name
                out.note = f.rule.note
                out.evidence = evidence
                out.matchedBy = passed
                if let found {
                    out.driveID = found.id
                    out.model = found.entry?.model
                    out.flashClass = found.entry?.flashClass
                    out.layout = found.entry?.layout
                }
                return out
            }
        }
        return out
    }
}

/// A family's vendor read of per-media write-strategy versions (firmware-db `strategy_versions:`): one fixed-size
/// text entry per media class, in a fixed order, up to the first entry that starts with a zero byte.
public struct StrategyVersionRead: Equatable, Sendable {
    public var provenance: String
    public var readOnly: Bool
    public var cdb: CDB
    public var length: Int
    public var entryLength: Int
    /// A padding character the source does not print.
    public var pad: String?
    /// What the versions are and are not (shown with them).
    public var note: String?
    /// The media class of each entry, in order.
    public var classes: [String]
    public init(provenance: String, readOnly: Bool, cdb: CDB, length: Int, entryLength: Int, classes: [String]) {
        self.provenance = provenance; self.readOnly = readOnly; self.cdb = cdb; self.length = length; self.entryLength = entryLength; self.classes = classes
    }

    public struct Version: Sendable, Equatable, Encodable {
        public let media: String
        public let version: String
        public let raw: String
    }

    public struct Result: Sendable, Equatable, Encodable {
        public let cdb: String
        public var versions: [Version] = []
        /// Why there are none (refused, failed, nothing in the answer).
        public var reason: String?
        public var available = false
    }

    /// Reads the versions (read-only); a refusal or a failure is a note, never an error.
    public func read(on t: any SCSITransport) -> Result {
        var res = Result(cdb: cdb.description)
        guard readOnly, !Identifier.neverSent.contains(cdb.opcode) else { res.reason = "not marked read-only; not sent"; return res }
        let r: CommandResult
        do { r = try t.query(cdb, .fromDevice(length), timeout: 20) }
        catch let e as SCSICommandError { res.reason = "the drive refused \(cdb) with " + (e.sense.map { "\($0)" } ?? e.status.name); return res }
        catch { res.reason = "\(cdb) failed: \(error)"; return res }
        res.versions = parse(r.data)
        res.available = !res.versions.isEmpty
        if res.versions.isEmpty { res.reason = "the drive answered \(r.data.count) bytes with no version entry" }
        return res
    }

    /// Entries of `entryLength` bytes, up to the first that starts with a zero byte (or the end of the answer; a
    /// partial last entry is left out); `pad` characters are dropped, the rest shown as printable ASCII.
    public func parse(_ data: [UInt8]) -> [Version] {
        guard entryLength > 0 else { return [] }
        var out: [Version] = []
        var i = 0
        while i + entryLength <= data.count, data[i] != 0 {
            let raw = IdentifyProbe.printable(Array(data[i..<(i + entryLength)]))
            let n = i / entryLength
            let media = n < classes.count ? classes[n] : "entry \(n + 1)"
            out.append(.init(media: media, version: pad.map { p in raw.filter { String($0) != p } } ?? raw, raw: raw))
            i += entryLength
        }
        return out
    }
}
