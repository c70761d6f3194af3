import Firmware
import SCSI

/// Runs a protocol's identification reads (read-only) and checks what they return against the image.
public enum ProbeRunner {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static func run(_ p: FlashProtocol, on t: any SCSITransport) throws(Failure) -> ProbeData {
        var out = ProbeData()
        for pr in p.probes {
            let cdb: CDB
            do { cdb = try pr.cdb.cdb(["length": pr.length]) } catch { throw Failure(description: "\(pr.name): \(error)") }
            let r: CommandResult
            do { r = try t.query(cdb, .fromDevice(pr.length), timeout: 20) } catch { throw Failure(description: "\(pr.name) [\(cdb)] failed: \(error)") }
            guard r.data.count == pr.length else {
                throw Failure(description: "\(pr.name) [\(cdb)] returned \(r.data.count) bytes, not \(pr.length)")
            }
            out.answers.append((cdb.bytes, r.data))
            for c in pr.captures {
                guard c.offset >= 0, c.length >= 1, c.length <= 4, c.offset + c.length <= r.data.count else {
                    throw Failure(description: "\(pr.name): capture \(c.variable) outside the \(r.data.count)-byte answer")
                }
                out.variables[c.variable] = r.data[c.offset..<(c.offset + c.length)].reduce(0) { $0 << 8 | Int($1) }
            }
            if let k = pr.keepAs { out.blocks[k] = r.data }
            if let id = pr.driveID, id.offset + id.length <= r.data.count {
                out.driveIDs[pr.name] = String(decoding: r.data[id.offset..<(id.offset + id.length)].map { (0x20...0x7E).contains($0) ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
            }
        }
        return out
    }

    /// Preflight checks from the probes: the drive's ID and config against the image. All are hard checks.
    public static func checks(_ p: FlashProtocol, probe: ProbeData, image: [UInt8], report: InspectReport, idTables: [String: IDTable]) -> [PreflightCheck] {
        var out: [PreflightCheck] = []
        if !p.layouts.isEmpty {
            let l = report.identity?.layout ?? "none"
            out.append(.init(name: "protocol for this image", passed: p.layouts.contains(l),
                             detail: p.layouts.contains(l) ? "\(p.name) handles layout \(l)" : "\(p.name) is public only for \(p.layouts.joined(separator: ", ")); the image is \(l)", hard: true))
        }
        for pr in p.probes {
            if let m = pr.imageMatch, let ans = probe.answers.first(where: { (try? pr.cdb.cdb(["length": pr.length]).bytes) == $0.cdb })?.data {
                let ok = m.offset + m.length <= ans.count && m.imageOffset + m.length <= image.count
                    && Array(ans[m.offset..<(m.offset + m.length)]) == Array(image[m.imageOffset..<(m.imageOffset + m.length)])
                let drive = m.offset + m.length <= ans.count ? printable(Array(ans[m.offset..<(m.offset + m.length)])) : "?"
                let img = m.imageOffset + m.length <= image.count ? printable(Array(image[m.imageOffset..<(m.imageOffset + m.length)])) : "?"
                out.append(.init(name: m.what, passed: ok, detail: ok ? "drive and image: '\(drive)'" : "drive '\(drive)', image '\(img)'", hard: true))
            }
            if let d = pr.driveID, let id = probe.driveIDs[pr.name] {
                let (entry, known) = idProblems(d, id, idTables)
                let field = report.fields.first { $0.role == d.field }?.value
                let layout = report.identity?.layout
                var problems = known
                if let e = entry, let l = e.layout, l != layout { problems.append("drive ID \(id) (\(e.model)) uses layout \(l), the image is \(layout ?? "unidentified")") }
                if field != id { problems.append("the image is for drive ID \(field ?? "(none)"), the drive is \(id)") }
                out.append(.init(name: "drive ID (from drive RAM)", passed: problems.isEmpty,
                                 detail: problems.isEmpty ? "\(id) = \(entry?.model ?? "?"), as in the image" : problems.joined(separator: "; "), hard: true))
            }
        }
        return out
    }

    /// The flash class of the drive, from the first probe that reads a drive ID known to its table.
    public static func flashClass(_ probes: [FlashProtocol.Probe], probe: ProbeData, idTables: [String: IDTable]) -> String? {
        for pr in probes {
            if let d = pr.driveID, let id = probe.driveIDs[pr.name], let c = idTables[d.table]?.find(id)?.flashClass { return c }
        }
        return nil
    }

    /// The drive-ID checks alone (a dump has no image to compare with): the ID must be known and of an allowed class.
    public static func driveIDProblems(_ probes: [FlashProtocol.Probe], probe: ProbeData, idTables: [String: IDTable]) -> [String] {
        probes.flatMap { pr -> [String] in
            guard let d = pr.driveID, let id = probe.driveIDs[pr.name] else { return [] }
            return idProblems(d, id, idTables).problems
        }
    }

    /// An ID's table entry, and what keeps it from this sequence: unknown, or of a flash class the sequence is not for.
    static func idProblems(_ d: FlashProtocol.Probe.DriveID, _ id: String, _ idTables: [String: IDTable]) -> (entry: IDTable.Entry?, problems: [String]) {
        guard let e = idTables[d.table]?.find(id) else {
            return (nil, ["drive ID '\(id)' is not in \(d.table): odflash sends no vendor sequence to a drive it cannot classify"])
        }
        if !d.classes.isEmpty, !d.classes.contains(e.flashClass ?? "") {
            return (e, ["drive ID \(id) (\(e.model)) is flash class \(e.flashClass ?? "unknown"); this sequence is described only for \(d.classes.joined(separator: ", "))"])
        }
        return (e, [])
    }

    /// Where a family has variants by flash class (NEC), each variant's identification reads are tried in order until
    /// one finds an ID of a class that variant is for; otherwise the first variant and what its reads found.
    public static func select(_ variants: [FlashProtocol], on t: any SCSITransport, idTables: [String: IDTable]) throws(Failure) -> (FlashProtocol, ProbeData)? {
        var first: (FlashProtocol, ProbeData)?
        for v in variants where !v.probes.isEmpty {
            let p = try run(v, on: t)
            if first == nil { first = (v, p) }
            if let c = flashClass(v.probes, probe: p, idTables: idTables), v.probes.contains(where: { $0.driveID?.classes.contains(c) ?? true }) {
                return (v, p)
            }
        }
        return first
    }

    static func printable(_ b: [UInt8]) -> String {
        String(decoding: b.map { (0x20...0x7E).contains($0) ? $0 : UInt8(ascii: ".") }, as: UTF8.self)
    }
}
