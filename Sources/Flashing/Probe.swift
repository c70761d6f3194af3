import Firmware
import SCSI

/// What the identification reads returned: named numbers for CDBs and raw blocks for the image transform.
public struct ProbeData: Sendable, Equatable {
    public var variables: [String: Int] = [:]
    public var blocks: [String: [UInt8]] = [:]
    /// Every probe's CDB and answer, so that a dry-run copy answers exactly as the drive did.
    public var answers: [RecordedAnswer] = []
    /// Drive IDs read (probe name -> ID text).
    public var driveIDs: [String: String] = [:]
    /// Optional reads the drive refused: their CDB and sense key/ASC/ASCQ (a dry-run copy refuses them the same way),
    /// and why, by probe name.
    public var refusals: [RecordedRefusal] = []
    public var skipped: [String: String] = [:]
    public init() {}
}

/// Runs a protocol's identification reads (read-only) and checks what they return against the image.
public enum ProbeRunner {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static func run(_ p: FlashProtocol, on t: any SCSITransport) throws(Failure) -> ProbeData {
        try run(p.probes, on: t)
    }

    /// The identification reads alone (a dump's, a region reset's): no protocol is built to run them.
    public static func run(_ probes: [FlashProtocol.Probe], on t: any SCSITransport) throws(Failure) -> ProbeData {
        var out = ProbeData()
        for pr in probes {
            let cdb: CDB
            do { cdb = try pr.cdb.cdb(["length": pr.length]) } catch { throw Failure(description: "\(pr.name): \(error)") }
            let r: CommandResult
            do { r = try t.query(cdb, .fromDevice(pr.length), timeout: 20) } catch {
                if pr.optional, let e = error as? SCSICommandError, let sense = e.sense {
                    // The drive does not support this read: its checks are skipped, and a dry-run copy refuses it too.
                    out.refusals.append(RecordedRefusal(cdb: cdb.bytes, sense: [sense.key, sense.asc, sense.ascq]))
                    out.skipped[pr.name] = "the drive refused \(pr.name) [\(cdb)] with \(sense)"
                    continue
                }
                throw Failure(description: "\(pr.name) [\(cdb)] failed: \(error)")
            }
            guard r.data.count == pr.length else {
                throw Failure(description: "\(pr.name) [\(cdb)] returned \(r.data.count) bytes, not \(pr.length)")
            }
            out.answers.append(RecordedAnswer(cdb: cdb.bytes, data: r.data))
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
            out.append(.init(.protocolForImage, name: "protocol for this image", passed: p.layouts.contains(l),
                             detail: p.layouts.contains(l) ? "\(p.name) handles layout \(l)" : "\(p.name) is public only for \(p.layouts.joined(separator: ", ")); the image is \(l)", hard: true))
        }
        for pr in p.probes {
            let ans = answer(pr, probe)
            for m in pr.imageMatches {
                guard let ans else { continue }
                let inAnswer = m.offset + m.length <= ans.count, inImage = m.imageOffset + m.length <= image.count
                let drive = inAnswer ? printable(Array(ans[m.offset..<(m.offset + m.length)])) : "?"
                let ok: Bool
                var img = inImage ? printable(Array(image[m.imageOffset..<(m.imageOffset + m.length)])) : "?"
                if m.decimal {
                    // atoi on both sides; the image's number may run past the drive's field width, as it would in C.
                    let d = inAnswer ? FlashProtocol.Probe.atoi(ans[m.offset..<(m.offset + m.length)]) : nil
                    let i = m.imageOffset < image.count ? FlashProtocol.Probe.atoi(image[m.imageOffset..<min(image.count, m.imageOffset + 32)]) : nil
                    img = i.map(String.init) ?? "no number"
                    ok = d != nil && d == i
                } else {
                    ok = inAnswer && inImage && Array(ans[m.offset..<(m.offset + m.length)]) == Array(image[m.imageOffset..<(m.imageOffset + m.length)])
                }
                out.append(.init(.probe, name: m.what, passed: ok, detail: ok ? "drive and image: '\(drive)'" : "drive '\(drive)', image '\(img)'", hard: true))
            }
            if pr.descriptor {
                out.append(descriptorCheck(p, ans: ans, skipped: probe.skipped[pr.name], image: image))
            }
            for x in pr.expects {
                guard let ans else { continue }
                let why = x.problem(ans)
                out.append(.init(.probe, name: x.what, passed: why == nil, detail: why ?? "drive: '\(printable(Array(ans[x.offset..<(x.offset + x.length)])))'", hard: true))
            }
            if let d = pr.driveID, let id = probe.driveIDs[pr.name] {
                let (entry, known) = idProblems(d, id, idTables)
                let field = report.fields.first { $0.name == d.field }?.value
                let layout = report.identity?.layout
                var problems = known
                if let e = entry, let l = e.layout, l != layout { problems.append("drive ID \(id) (\(e.model)) uses layout \(l), the image is \(layout ?? "unidentified")") }
                if field != id { problems.append("the image is for drive ID \(field ?? "(none)"), the drive is \(id)") }
                out.append(.init(.driveID, name: "drive ID (from drive RAM)", passed: problems.isEmpty,
                                 detail: problems.isEmpty ? "\(id) = \(entry?.model ?? "?"), as in the image" : problems.joined(separator: "; "), hard: true))
            }
        }
        return out
    }

    /// SPC READ BUFFER descriptor (mode 03h): byte 0 is the offset boundary (segment offsets must be multiples of
    /// 2^boundary; FFh: the offset must be 0), bytes 1-3 the buffer capacity (0: not reported). The image must fit and
    /// every segment of the protocol must start on the boundary.
    static func descriptorCheck(_ p: FlashProtocol, ans: [UInt8]?, skipped: String?, image: [UInt8]) -> PreflightCheck {
        let name = "download buffer (capacity, offset boundary)"
        guard let ans, ans.count >= 4 else {
            return .init(.descriptor, name: name, passed: true, detail: (skipped ?? "no buffer descriptor") + ": capacity and alignment not checked", hard: true)
        }
        let boundary = Int(ans[0]), capacity = Int(ans[1]) << 16 | Int(ans[2]) << 8 | Int(ans[3])
        // Segment offsets the protocol will send: each chunk step starts at its bias and advances by its chunk size.
        var offsets: [Int] = []
        var sentBytes = 0
        for s in (p.prepare + p.commit).flatMap(\.flattened) {
            switch s {
            case let .chunks(c):
                let end = min(c.end ?? image.count, image.count)
                var o = c.start
                while o < end { offsets.append(o - c.start + c.bias); o += c.chunkSize }
                sentBytes = max(sentBytes, end - c.start + c.bias)
            case let .command(_, _, data?, _):
                if case let .image(r) = data { sentBytes = max(sentBytes, r.count) }
            default: break
            }
        }
        var problems: [String] = []
        if capacity > 0 && sentBytes > capacity {
            problems.append("the image needs \(sentBytes) bytes of download buffer, the drive has \(capacity)")
        }
        if boundary == 0xFF {
            if offsets.contains(where: { $0 != 0 }) { problems.append("the drive takes only offset 0 (boundary FFh), the sequence sends \(offsets.count) segments") }
        } else if boundary < 31 {
            let align = 1 << boundary
            if let bad = offsets.first(where: { $0 % align != 0 }) {
                problems.append("segment offset \(Hex.offset(bad)) is not a multiple of the drive's \(align)-byte boundary")
            }
        }
        let detail = "capacity \(capacity == 0 ? "not reported" : "\(capacity) bytes"), boundary \(boundary == 0xFF ? "offset 0 only" : "2^\(boundary)")"
        return .init(.descriptor, name: name, passed: problems.isEmpty, detail: problems.isEmpty ? detail : problems.joined(separator: "; "), hard: true)
    }

    /// The answer a probe got, found by its CDB.
    static func answer(_ pr: FlashProtocol.Probe, _ probe: ProbeData) -> [UInt8]? {
        guard let cdb = try? pr.cdb.cdb(["length": pr.length]).bytes else { return nil }
        return probe.answers.first { $0.cdb == cdb }?.data
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

    /// Where a family has variants (NEC by flash class, Pioneer by generation), each variant's identification reads are
    /// tried in order until one fits the drive: its drive ID is of a class the variant is for, and every `expect` of
    /// its reads holds. Otherwise the first variant and what its reads found (its preflight checks then say why not).
    /// With the image's `layout`, the variants for that layout are tried first (Pioneer: Normal or Kernel image); a
    /// variant that fits the drive but not the image comes next, so that its checks say why the image cannot go there.
    public static func select(_ variants: [FlashProtocol], on t: any SCSITransport, idTables: [String: IDTable],
                              layout: String? = nil) throws(Failure) -> (FlashProtocol, ProbeData)? {
        func forImage(_ v: FlashProtocol) -> Bool { layout == nil || v.layouts.isEmpty || v.layouts.contains(layout!) }
        var first: (FlashProtocol, ProbeData)?
        for v in variants.filter(forImage) + variants.filter({ !forImage($0) }) where !v.probes.isEmpty {
            let p = try run(v, on: t)
            if first == nil { first = (v, p) }
            if fits(v, p, idTables) { return (v, p) }
        }
        return first
    }

    static func fits(_ v: FlashProtocol, _ p: ProbeData, _ idTables: [String: IDTable]) -> Bool {
        let classed = v.probes.contains { $0.driveID != nil }, expecting = v.probes.contains { !$0.expects.isEmpty }
        guard classed || expecting else { return false }
        if classed {
            guard let c = flashClass(v.probes, probe: p, idTables: idTables), v.probes.contains(where: { $0.driveID?.classes.contains(c) ?? true }) else { return false }
        }
        for pr in v.probes where !pr.expects.isEmpty {
            guard let ans = answer(pr, p), pr.expects.allSatisfy({ $0.problem(ans) == nil }) else { return false }
        }
        return true
    }

    static func printable(_ b: [UInt8]) -> String {
        String(decoding: b.map { (0x20...0x7E).contains($0) ? $0 : UInt8(ascii: ".") }, as: UTF8.self)
    }
}
