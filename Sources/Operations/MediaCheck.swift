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

/// "Will this drive write this disc": the disc's identity, its manufacturer from the public tables, and whether a
/// firmware image's media tables list it (exact or heuristic), with the nearest listed codes and the rename that would
/// alias one where the table allows it.
public struct MediaCheck {
    public let db: FirmwareDatabase
    public init(db: FirmwareDatabase) { self.db = db }

    public struct Manufacturer: Encodable, Sendable { public let name: String; public let aka: String?; public let provenance: String }
    public struct Candidate: Encodable, Sendable {
        public let code: String
        public let manufacturer: String?
        public let speeds: [String]
        /// CD-R codes: the dye class the code's frame digit stands for, and whether it is the disc's.
        public var dye: String? = nil
        public var sameDye: Bool? = nil
    }
    /// One piece of evidence, and where it comes from: the firmware's tables, the speeds the drive offers for the disc,
    /// the drive's strategy version for the disc's class.
    public struct Evidence: Encodable, Sendable {
        public enum Kind: String, Encodable, Sendable { case firmwareTable = "firmware-table", driveSpeeds = "drive-speeds", strategyVersion = "strategy-version" }
        public let kind: Kind
        public let source: String
        public let statement: String
    }
    public struct Result: Encodable, Sendable {
        /// What the firmware's tables say, and how sure: the exact tables list the code; a table found heuristically
        /// lists it; the tables of the disc's type do not list it; no table of the disc's type was found (nothing to say).
        public enum Verdict: String, Encodable, Sendable {
            case supported, listedHeuristic = "listed-heuristic", notListed = "not-listed", unknown
        }
        public let firmware: String
        public let family: String?
        public let version: String?
        public let verdict: Verdict
        public let supported: Bool
        public let speeds: [String]?
        public let table: String?
        public let heuristic: Bool
        public let confidence: Double?
        public let statement: String
        public let nearest: [Candidate]
        public var patchCommand: String?
        public let warnings: [String]
        /// Every piece of evidence, each with its source (the firmware's tables first).
        public var evidence: [Evidence] = []
        /// Where the firmware came from: the file given, or the drive's own, read for the check and deleted.
        public var firmwareSource: String? = nil
    }

    /// The drive's INQUIRY and the disc in it (read-only MMC commands).
    public static func identify(_ t: any SCSITransport, device: String, allSpeeds: Bool = false) throws -> (InquiryData, DiscInfo) {
        do {
            let inq = try DriveIdentifier(t).inquiry()
            return (inq, try DiscIdentifier(t).identify(allSpeeds: allSpeeds))
        } catch let e as IdentifyError { throw OperationError(e.description, kind: .device) }
        catch let e as TransportError { throw OperationError(e.description, kind: .device) }
        catch let e as ParseError { throw OperationError("\(device): the drive's answer is malformed: \(e)", kind: .device) }
        catch let e as DiscError { throw OperationError("\(device): \(e)", kind: .device) }
        catch let e as SCSICommandError { throw OperationError("\(device): \(e)", kind: .device) }
    }

    /// The disc's media code, or why there is none to check.
    public static func code(of disc: DiscInfo, device: String) throws -> String {
        guard disc.medium == .present else { throw OperationError("\(device): no disc in the drive (\(disc.medium.rawValue)); --check needs the disc", kind: .device) }
        guard let code = disc.code else {
            throw OperationError("\(device): the disc's media ID could not be read (\(disc.notes.first ?? "no media ID")); nothing to check", kind: .device)
        }
        return code
    }

    public func manufacturer(of disc: DiscInfo) -> Manufacturer? {
        if let a = disc.atip {
            let p = a.leadIn.split(separator: ":").compactMap { Int($0) }
            if p.count == 3, let m = db.media.atipManufacturer(p[0], p[1], p[2]) {
                return Manufacturer(name: m.name, aka: m.aka.isEmpty ? nil : m.aka, provenance: db.media.provenance["atip-manufacturers"] ?? "")
            }
        } else if let id = disc.mediaID, let m = db.media.dvdManufacturer(id.mid) {
            return Manufacturer(name: m.name, aka: nil, provenance: db.media.provenance["dvd-manufacturers"] ?? "")
        }
        return nil
    }

    func manufacturerName(_ code: String) -> String? {
        let p = code.split(separator: ":").compactMap { Int($0) }
        if p.count == 3 { return db.media.atipManufacturer(p[0], p[1], p[2])?.name }
        return db.media.dvdManufacturer(code)?.name
    }

    /// The tables of an image: the layout's exact ones, or the heuristic scanner's.
    public static func tables(_ layout: ImageLayout?, _ inspector: Inspector, _ bytes: [UInt8]) -> [MediaTable] {
        if let l = layout, !l.mediaTables.isEmpty {
            let exact = MediaTableReader.tables(of: l, image: bytes)
            if !exact.isEmpty { return exact }
        }
        return HeuristicScanner.scan(bytes, options: inspector.heuristicOptions)
    }

    /// Whether the image lists the disc's code; `drive`: the drive's INQUIRY, to warn when the image is for another model.
    public func check(code: String, disc: DiscInfo, image loaded: LoadedImage, imageName: String, drive: InquiryData?) throws -> Result {
        let insp = Inspector(layouts: db.layouts, idTables: db.idTables)
        let layout = insp.candidates(loaded.bytes).first?.0
        let r = insp.inspect(loaded)
        let tables = Self.tables(layout, insp, loaded.bytes)
        let q: MediaQuery
        do { q = try MediaQuery(code) } catch { throw OperationError(error.description, kind: .input) }
        var warnings: [String] = []
        if let q2 = drive, let v = r.vendor, let p = r.product, v != q2.vendor || p != q2.product {
            warnings.append("the image is for \(v) \(p), the drive is \(q2.vendor) \(q2.product)")
        }
        let discType: MediaType = disc.atip != nil ? (disc.atip!.rewritable ? .cdRW : .cdR) :
            (disc.profileCode.map { [0x1A, 0x2A].contains($0) ? MediaType.plusRW : [0x1B, 0x2B].contains($0) ? .plusR :
                [0x13, 0x14].contains($0) ? .dashRW : [0x11, 0x15, 0x16].contains($0) ? .dashR : [0x43].contains($0) ? .bdRE : .bdR } ?? .unknown)
        let compatible: (MediaType) -> Bool = { t in
            t == discType || (discType == .cdRW && t == .cdR) || (t == .unknown) || (discType == .plusR && t == .plusR9)
        }
        var found: (MediaTable, MediaEntry)?
        for tb in tables { for e in tb.entries where q.matches(e) && compatible(e.type) { found = (tb, e); break }; if found != nil { break } }
        let same = tables.filter { $0.entries.contains { compatible($0.type) } }
        if let (tb, e) = found {
            let conf: Double? = { if case let .heuristic(c, _) = tb.source { return c }; return nil }()
            let speeds = e.speeds.map(SpeedBits.format)
            let statement = tb.isHeuristic
                ? "LISTED (heuristic): \(code) appears in a table found heuristically (confidence \(conf ?? 0)) at \(Hex.offset(tb.offset)); the layout is not public, so this is a strong hint, not a certainty"
                : "SUPPORTED: the firmware lists \(code)" + (speeds.isEmpty ? "" : " at \(speeds.joined(separator: ", "))")
            return Result(firmware: imageName, family: r.identity.map { "\($0.family)/\($0.layout)" }, version: r.version,
                          verdict: tb.isHeuristic ? .listedHeuristic : .supported, supported: true,
                          speeds: speeds, table: tb.name, heuristic: tb.isHeuristic, confidence: conf, statement: statement,
                          nearest: [], patchCommand: nil, warnings: warnings)
        }
        // No table of the disc's type: the tables say nothing about the disc. A file that no layout identifies and that
        // holds no media table at all is not a firmware image (a text file, random bytes): an input error.
        if same.isEmpty {
            let family = r.identity.map { "\($0.family)/\($0.layout)" }
            if layout == nil && tables.isEmpty {
                throw OperationError("\(imageName): not a firmware image odflash can check: no layout in firmware-db identifies it and no media table was found in it (pass the drive's firmware: a vendor download, a dump or a patched image; .bin, .gz or .zip)", kind: .input)
            }
            let statement = "CANNOT TELL: no \(discType.rawValue) media table was found in \(family.map { "this \($0) image" } ?? "this image")"
                + (tables.isEmpty ? "" : " (only tables of other disc types)") + ", so its tables say nothing about \(code): neither listed nor missing"
                + (layout == nil ? "; no layout identifies the image" : (layout!.mediaTables.isEmpty ? "; the layout of this family's media tables is not public and the heuristic scan found none" : ""))
            return Result(firmware: imageName, family: family, version: r.version, verdict: .unknown, supported: false,
                          speeds: nil, table: nil, heuristic: false, confidence: nil, statement: statement,
                          nearest: [], patchCommand: nil, warnings: warnings)
        }
        // Not listed: the nearest codes of the same type, and the rename that would alias one. CD-R codes are ranked
        // by dye class first (the lead-in's frame digit: a write strategy is tuned to a dye), then by speed support
        // (the fastest speed listed, then how many), then by manufacturer and by how much of the code they share.
        let discMaker = manufacturerName(code)
        let discDye: String? = disc.atip.flatMap { $0.rewritable ? nil : ATIPFacts.dye(code: $0.leadIn) }
        var cands: [(MediaTable, MediaEntry)] = []
        for tb in same { for e in tb.entries where compatible(e.type) { cands.append((tb, e)) } }
        func prefix(_ a: String, _ b: String) -> Int { zip(a, b).prefix { $0 == $1 }.count }
        cands.sort { x, y in
            if let d = discDye {
                let dx = ATIPFacts.dye(code: x.1.mid) == d, dy = ATIPFacts.dye(code: y.1.mid) == d
                if dx != dy { return dx }
            }
            let sx = x.1.speeds.max() ?? 0, sy = y.1.speeds.max() ?? 0
            if sx != sy { return sx > sy }
            if x.1.speeds.count != y.1.speeds.count { return x.1.speeds.count > y.1.speeds.count }
            let mx = manufacturerName(x.1.mid) == discMaker, my = manufacturerName(y.1.mid) == discMaker
            if mx != my { return mx }
            return prefix(x.1.mid, q.mid) > prefix(y.1.mid, q.mid)
        }
        let nearest = cands.prefix(3).map { t -> Candidate in
            var c = Candidate(code: t.1.code, manufacturer: manufacturerName(t.1.mid), speeds: t.1.speeds.map(SpeedBits.format))
            if let d = discDye, let cd = ATIPFacts.dye(code: t.1.mid) { c.dye = cd; c.sameDye = cd == d }
            return c
        }
        var patch: String?
        if let best = cands.first, !best.0.isHeuristic, best.0.strategyByIndex {
            // A CD-R entry gets the disc's own lead-in (its frame digit included), so the table names this disc exactly.
            let target = disc.atip?.leadIn ?? code
            patch = "odflash fw patch \(imageName) -o patched.bin --rename '\(best.1.code)=\(target)'"
        }
        let tableWord = same.map { "\($0.name) (\($0.entries.count) codes, \($0.isHeuristic ? "heuristic" : "exact"))" }.joined(separator: ", ")
        var statement = "NOT LISTED: \(code) is not in the firmware's media tables (\(tableWord)). The drive will fall back to a generic write strategy, which is what fails with unknown discs"
        if same.allSatisfy(\.isHeuristic) { statement += "; the tables were found heuristically, so a miss is likely but not certain" }
        if let d = discDye, !nearest.isEmpty, nearest.allSatisfy({ $0.sameDye == false }) {
            statement += ". No listed code has this disc's dye class (\(d)): the nearest codes below are of another dye type, whose write strategy may not suit this disc"
        } else if let d = discDye, nearest.contains(where: { $0.sameDye == false }) {
            statement += ". Codes of this disc's dye class (\(d)) come first; the others below are of another dye type"
        }
        if patch == nil && !cands.isEmpty {
            statement += ". No rename can be offered: \(same.first?.isHeuristic == true ? "odflash never patches a table it only guessed" : "this table does not tie strategies to entries")"
        }
        return Result(firmware: imageName, family: r.identity.map { "\($0.family)/\($0.layout)" }, version: r.version, verdict: .notListed, supported: false,
                      speeds: nil, table: nil, heuristic: same.allSatisfy(\.isHeuristic), confidence: nil, statement: statement,
                      nearest: nearest, patchCommand: patch, warnings: warnings)
    }

    /// The media class of the disc in the terms of the NEC/Optiarc strategy-version list (firmware-db `media`).
    public static func strategyClass(profile: Int?) -> String? {
        switch profile {
        case 0x09: return "CD-R"
        case 0x0A: return "CD-RW"
        case 0x1B: return "DVD+R"
        case 0x2B: return "DVD+R9"
        case 0x1A: return "DVD+RW"
        case 0x2A: return "DVD+RW9"
        case 0x11: return "DVD-R"
        case 0x13, 0x14: return "DVD-RW"
        case 0x15, 0x16: return "DVD-R9"
        case 0x12: return "DVD-RAM"
        default: return nil
        }
    }

    /// The family's strategy-version read (read only, firmware-db `strategy_versions`), for a drive firmware-db names.
    public func strategyVersions(_ t: any SCSITransport, drive: InquiryData) -> StrategyVersionRead.Result? {
        guard let m = db.match(vendor: drive.vendor, product: drive.product, revision: drive.revision),
              let read = db.family(m.family)?.strategyVersions else { return nil }
        return read.read(on: t)
    }

    /// Evidence next to the firmware's tables: what the drive offers for the disc, and its strategy version for the
    /// disc's class. Each says what it is and what it is not.
    public static func evidence(_ r: Result, disc: DiscInfo, strategy: StrategyVersionRead.Result?) -> [Evidence] {
        var out = [Evidence(kind: .firmwareTable, source: "the firmware's media tables, \(r.firmware)", statement: r.statement)]
        if let w = disc.writeSpeeds {
            let offered = w.offeredKBs
            let source = w.getPerformance != nil ? "GET PERFORMANCE 03h (write speed descriptors) for the loaded disc" : "mode page 2Ah write speed descriptors"
            if offered.isEmpty {
                let why = w.notes.isEmpty ? "the drive lists no write speed for this disc" : w.notes.joined(separator: "; ")
                out.append(Evidence(kind: .driveSpeeds, source: "GET PERFORMANCE 03h and mode page 2Ah", statement: "not available: \(why)"))
            } else {
                let list = offered.map(w.multiple).joined(separator: ", ")
                var st = "the drive offers \(list) for this disc"
                if let maxKBs = w.modePageMaxKBs, let top = offered.first {
                    if top < maxKBs {
                        st += ", below its maximum of \(w.multiple(maxKBs)) (mode page 2Ah): a drive usually offers its full range for a disc its firmware knows, so this leans towards 'not known'"
                    } else {
                        st += ", up to its maximum of \(w.multiple(maxKBs)) (mode page 2Ah): a drive usually offers its full range for a disc its firmware knows"
                    }
                }
                out.append(Evidence(kind: .driveSpeeds, source: source, statement: st + ". The drive's own answer: evidence, not proof"))
            }
        }
        if let s = strategy {
            let cls = strategyClass(profile: disc.profileCode)
            if !s.available {
                out.append(Evidence(kind: .strategyVersion, source: "\(s.cdb) (read only)", statement: "not available (\(s.reason ?? "no answer"))"))
            } else if let c = cls, let v = s.versions.first(where: { $0.media == c }) {
                out.append(Evidence(kind: .strategyVersion, source: "\(s.cdb) (read only), \(c) class",
                                    statement: "the drive's \(c) write-strategy version is \(v.version): the version of its strategy set for the whole class, not a statement about this disc (compare it across firmware revisions)"))
            } else {
                out.append(Evidence(kind: .strategyVersion, source: "\(s.cdb) (read only)",
                                    statement: "the drive answered \(s.versions.count) class versions, none for \(cls ?? "this disc's class")"))
            }
        }
        return out
    }

    /// The drive's own firmware for a check without --firmware: read with the family's public read (DumpSession)
    /// into a temporary file, loaded, and the file removed before this returns; or why it cannot be read and exactly
    /// what to pass instead.
    public func readOwnFirmware(_ dev: OpenedDevice, drive: InquiryData) throws -> (image: LoadedImage, source: String) {
        let what = "\(drive.vendor) \(drive.product) \(drive.revision)"
        guard let m = db.match(vendor: drive.vendor, product: drive.product, revision: drive.revision), let fam = db.family(m.family) else {
            throw OperationError("firmware-db does not name \(what), so odflash has no way to read its firmware: give --firmware IMAGE (the vendor's firmware file for this drive, or a dump made with another tool)", kind: .usage)
        }
        guard !fam.dumpVariants.isEmpty else {
            throw OperationError("no public method reads the firmware of \(fam.name) drives: give --firmware IMAGE (the vendor's firmware file for the \(m.name) at revision \(drive.revision), or a dump made with another tool)", kind: .usage)
        }
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("odflash-media-check-\(UUID().uuidString).bin").path
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let rep: DumpSession.Report
        do { rep = try DumpSession(db: db, device: dev, output: tmp, overwrite: false).run { _, _ in } } catch let e as OperationError {
            if case .interrupted = e.kind { throw e }
            // The dump's own words name the temporary file, which never existed for the user.
            let why = e.message.replacing(", nothing was written to \(tmp)", with: "")
            throw OperationError("could not read the drive's firmware for the check (\(why)): give --firmware IMAGE (the vendor's firmware file for the \(m.name), or a dump)", kind: e.kind)
        }
        guard rep.valid != false else {
            throw OperationError("the firmware read from \(dev.name) does not validate (\(rep.verdict)); nothing to check against: give --firmware IMAGE", kind: .device)
        }
        let bytes: [UInt8]
        do { bytes = try ImageFile.readFile(tmp) } catch { throw OperationError("\(error)", kind: .device) }
        let source = "the drive's own firmware, read with \(fam.id)'s public read (\(rep.bytes) bytes, sha256 \(rep.sha256.prefix(16))…; the temporary file was deleted)"
        return (LoadedImage(path: tmp, container: "bin", member: nil, bytes: bytes), source)
    }
}
