import Firmware
import FirmwareDB
import MMC
import SCSI

/// "Will this drive write this disc": the disc's identity, its manufacturer from the public tables, and whether a
/// firmware image's media tables list it (exact or heuristic), with the nearest listed codes and the rename that would
/// alias one where the table allows it.
public struct MediaCheck {
    public let db: FirmwareDatabase
    public init(db: FirmwareDatabase) { self.db = db }

    public struct Manufacturer: Encodable, Sendable { public let name: String; public let aka: String?; public let provenance: String }
    public struct Candidate: Encodable, Sendable { public let code: String; public let manufacturer: String?; public let speeds: [String] }
    public struct Result: Encodable, Sendable {
        public let firmware: String
        public let family: String?
        public let version: String?
        public let supported: Bool
        public let speeds: [String]?
        public let table: String?
        public let heuristic: Bool
        public let confidence: Double?
        public let statement: String
        public let nearest: [Candidate]
        public let patchCommand: String?
        public let warnings: [String]
    }

    /// The drive's INQUIRY and the disc in it (read-only MMC commands).
    public static func identify(_ t: any SCSITransport, device: String) throws -> (InquiryData, DiscInfo) {
        do {
            let inq = try DriveIdentifier(t).inquiry()
            return (inq, try DiscIdentifier(t).identify())
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
            return Result(firmware: imageName, family: r.identity.map { "\($0.family)/\($0.layout)" }, version: r.version, supported: true,
                          speeds: speeds, table: tb.name, heuristic: tb.isHeuristic, confidence: conf, statement: statement,
                          nearest: [], patchCommand: nil, warnings: warnings)
        }
        // Not listed: the nearest codes of the same type, and the rename that would alias one.
        let discMaker = manufacturerName(code)
        var cands: [(MediaTable, MediaEntry)] = []
        for tb in same { for e in tb.entries where compatible(e.type) { cands.append((tb, e)) } }
        func prefix(_ a: String, _ b: String) -> Int { zip(a, b).prefix { $0 == $1 }.count }
        cands.sort { x, y in
            let mx = manufacturerName(x.1.mid) == discMaker, my = manufacturerName(y.1.mid) == discMaker
            if mx != my { return mx }
            let px = prefix(x.1.mid, q.mid), py = prefix(y.1.mid, q.mid)
            if px != py { return px > py }
            return (x.1.speeds.max() ?? 0) > (y.1.speeds.max() ?? 0)
        }
        let nearest = cands.prefix(3).map { Candidate(code: $0.1.code, manufacturer: manufacturerName($0.1.mid), speeds: $0.1.speeds.map(SpeedBits.format)) }
        var patch: String?
        if let best = cands.first, !best.0.isHeuristic, best.0.strategyByIndex {
            let target = q.atip != nil ? q.mid : code
            patch = "odflash fw patch \(imageName) -o patched.bin --rename '\(best.1.code)=\(target)'"
        }
        let tableWord = same.isEmpty ? "no \(discType.rawValue) table was found in the image" :
            same.map { "\($0.name) (\($0.entries.count) codes, \($0.isHeuristic ? "heuristic" : "exact"))" }.joined(separator: ", ")
        var statement = "NOT LISTED: \(code) is not in the firmware's media tables (\(tableWord)). The drive will fall back to a generic write strategy, which is what fails with unknown discs"
        if same.allSatisfy(\.isHeuristic) && !same.isEmpty { statement += "; the tables were found heuristically, so a miss is likely but not certain" }
        if patch == nil && !cands.isEmpty {
            statement += ". No rename can be offered: \(same.first?.isHeuristic == true ? "odflash never patches a table it only guessed" : "this table does not tie strategies to entries")"
        }
        return Result(firmware: imageName, family: r.identity.map { "\($0.family)/\($0.layout)" }, version: r.version, supported: false,
                      speeds: nil, table: nil, heuristic: same.allSatisfy(\.isHeuristic), confidence: nil, statement: statement,
                      nearest: nearest, patchCommand: patch, warnings: warnings)
    }
}
