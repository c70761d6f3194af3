import Dispatch
import SCSI

/// A table of identifiers embedded in images (e.g. NEC's 4-character drive IDs) and what they name.
public struct IDTable: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var ids: [String]
        public var model: String
        /// The image layout this ID belongs to, when the source says.
        public var layout: String?
        /// The flash class (which flash sequence the drive takes), when the table has one.
        public var flashClass: String?
        public init(ids: [String], model: String, layout: String?, flashClass: String? = nil) {
            self.ids = ids; self.model = model; self.layout = layout; self.flashClass = flashClass
        }
    }
    public var name: String
    public var provenance: String
    public var entries: [Entry]

    public init(name: String, provenance: String, entries: [Entry]) { self.name = name; self.provenance = provenance; self.entries = entries }

    public func find(_ id: String) -> Entry? { entries.first { $0.ids.contains(id) } }
}

/// Everything `fw inspect` reports.
public struct InspectReport: Sendable, Encodable {
    enum CodingKeys: String, CodingKey {
        case file, container, member, size, sha256, identity, alsoMatches, fields, vendor, product, version, bootcode, modelIDs, models
        case checksums, identified, valid, problems, verified, mediaTables, patches, warnings, mediatek, pioneer
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(file, forKey: .file); try c.encode(container, forKey: .container); try c.encodeIfPresent(member, forKey: .member)
        try c.encode(size, forKey: .size); try c.encode(sha256, forKey: .sha256); try c.encodeIfPresent(identity, forKey: .identity)
        try c.encode(alsoMatches, forKey: .alsoMatches); try c.encode(fields, forKey: .fields)
        try c.encodeIfPresent(vendor, forKey: .vendor); try c.encodeIfPresent(product, forKey: .product)
        try c.encodeIfPresent(version, forKey: .version); try c.encodeIfPresent(bootcode, forKey: .bootcode)
        try c.encode(modelIDs, forKey: .modelIDs); try c.encode(models, forKey: .models); try c.encode(checksums, forKey: .checksums)
        try c.encode(identified, forKey: .identified)
        if let v = valid { try c.encode(v, forKey: .valid) } else { try c.encodeNil(forKey: .valid) }
        try c.encode(problems, forKey: .problems); try c.encode(verified, forKey: .verified)
        try c.encode(mediaTables, forKey: .mediaTables); try c.encode(patches, forKey: .patches); try c.encode(warnings, forKey: .warnings)
        try c.encodeIfPresent(mediatek, forKey: .mediatek)
        try c.encodeIfPresent(pioneer, forKey: .pioneer)
    }

    /// What a MediaTek MT19xx image is beyond its fields and checksums.
    public struct MediaTek: Sendable, Encodable {
        public let descriptor: MediaTekMT19.Descriptor?
        public let chip: String?
        public let chipSource: String
        public let chipProblem: String?
        /// The boot page equals the mirror at 10000h: a raw read from a drive.
        public let driveRead: Bool
        /// Why the file must not be flashed although its integrity holds (a drive read); nil when nothing says so.
        public let notFlashable: String?
        public let fingerprint: String?
        public let driveWrittenRegions: [MediaTekMT19.Region]
    }
    public var mediatek: MediaTek? = nil
    /// A Pioneer BD firmware component (envelope): banner lines, File Type, required Kernel tag, sizes.
    public var pioneer: PioneerBD.Component? = nil

    /// The verdict in words: what was verified, or what is wrong, or why nothing could be verified.
    public var verdict: String {
        guard let id = identity else { return "unknown (no firmware-db layout matches this image)" }
        switch valid {
        case true?: return "yes (verified: \(verified.joined(separator: ", ")))"
        case false?:
            let bad = checksums.filter { $0.status == .bad || $0.status == .unsigned }.map { "checksum \($0.name) \($0.status.rawValue)" }
            return "NO: " + (problems + bad).joined(separator: "; ")
        case nil:
            let unverifiable = checksums.filter { $0.status == .unverifiable }.map(\.name)
            if !unverifiable.isEmpty {
                return "not verifiable: \(unverifiable.joined(separator: ", ")) cannot be computed (no public algorithm); nothing else is wrong"
            }
            return "not verifiable (identified by \(id.identifiedBy == .size ? "size" : id.identifiedBy.rawValue); no checksum)"
        }
    }

    public struct Identity: Sendable, Encodable {
        public let family: String
        public let layout: String
        public let layoutName: String
        public let identifiedBy: ImageLayout.Identification
        public let provenance: String
        public let synthetic: Bool
    }
    public struct Field: Sendable, Encodable {
        public let name: String
        public let role: FieldRole
        public let offset: Int
        public let value: String
        public let names: String?
        public let warning: String?
    }
    public struct Checksum: Sendable, Encodable {
        public let name: String
        public let status: ChecksumResult.Status
        public let stored: String?
        public let computed: String?
        public let algorithm: String
        public let firstDifference: Int?
    }
    public struct Entry: Sendable, Encodable {
        public let type: String
        public let index: Int
        public let code: String
        public let mid: String
        public let tid: String?
        public let rid: String?
        public let speeds: [String]
        public let speedRaw: String?
        public let offset: Int
        public let leadOut: String?
    }
    public struct Table: Sendable, Encodable {
        public let name: String
        public let types: [String]
        public let offset: Int
        public let stride: Int
        public let count: Int
        public let heuristic: Bool
        public let confidence: Double?
        public let reason: String?
        public let speedEncoding: String?
        public let entries: [Entry]
    }

    public let file: String
    public let container: String
    public let member: String?
    public let size: Int
    public let sha256: String
    public let identity: Identity?
    public let alsoMatches: [String]
    public let fields: [Field]
    public let vendor: String?
    public let product: String?
    public let version: String?
    public let bootcode: String?
    public let modelIDs: [String]
    public let models: [String]
    public let checksums: [Checksum]
    /// An image no layout claims is not identified; one claimed with problems is identified and invalid.
    public var identified: Bool { identity != nil }
    /// true: a checksum was computed and matched, and nothing is wrong; false: something is wrong (a problem, a BAD
    /// checksum); nil: nothing could be verified (identified by size with no checksum, a checksum whose algorithm is not
    /// public, or an unidentified image).
    public let valid: Bool?
    /// What is wrong although the family is evident (size, drive ID, bank marker, an expected field).
    public let problems: [String]
    /// What was verified, in words (e.g. "checksum dump").
    public let verified: [String]
    public let mediaTables: [Table]
    public struct Patch: Sendable, Encodable {
        public let id: String
        public let kind: BytePatch.Kind
        public let state: BytePatch.State
        public let offset: Int?
        public let synthetic: Bool
    }
    /// The layout's region and book-type patches and whether each is applied.
    public let patches: [Patch]
    public let warnings: [String]
}

/// SHA-256 of an image computed on another core; `value` waits for it. The hashing thread holds only the state, not
/// the digest, so dropping the digest (an error path) waits for the thread in deinit; BackgroundWork joins it at exit too.
public final class BackgroundDigest: @unchecked Sendable {
    private final class State: @unchecked Sendable {
        var result = ""
        let done = DispatchSemaphore(value: 0)
    }
    private let state = State()
    private var waited = false

    public init(_ bytes: [UInt8]) {
        let s = state
        BackgroundWork.run {
            s.result = SHA256.hex(bytes)
            s.done.signal()
        }
    }

    public var value: String {
        if !waited { state.done.wait(); waited = true }
        return state.result
    }

    /// The hashing thread never outlives its result: an error path that drops the digest waits for it.
    deinit { if !waited { state.done.wait() } }
}

public struct Inspector: Sendable {
    public var layouts: [ImageLayout]
    public var idTables: [String: IDTable]
    public var heuristicOptions = HeuristicScanner.Options()
    /// Run the heuristic scanner even when the layout has exact tables.
    public var alwaysHeuristic = false
    /// Read the media tables (the layout's, else the heuristic scanner's over the whole image). A flash, a restore and
    /// their backup check need the identity, fields and checksums only: without the tables a 16 MiB image is not
    /// scanned byte by byte for media IDs before the first command is sent.
    public var readsMediaTables = true

    public init(layouts: [ImageLayout], idTables: [String: IDTable]) {
        self.layouts = layouts
        self.idTables = idTables
    }

    /// The layouts that claim the image, strongest first.
    public func matches(_ image: [UInt8]) -> [(ImageLayout, ImageLayout.Match)] {
        layouts.compactMap { l in l.match(image, idTables: idTables).map { (l, $0) } }.sorted { $0.1.isStronger(than: $1.1) }
    }

    /// The layouts that claim the image, strongest first, with how each does.
    public func candidates(_ image: [UInt8]) -> [(ImageLayout, ImageLayout.Identification)] {
        matches(image).map { ($0.0, $0.1.how) }
    }

    /// `digest`: a hash already started (the CLI starts it before loading the database).
    public func inspect(_ loaded: LoadedImage, digest: BackgroundDigest? = nil) -> InspectReport {
        let image = loaded.bytes
        // The digest runs on the other core while the image is parsed.
        let digest = digest ?? BackgroundDigest(image)
        let cands = matches(image)
        let best = cands.first
        var warnings: [String] = []
        let strongest = cands.filter { m in best.map { !$0.1.isStronger(than: m.1) && !m.1.isStronger(than: $0.1) } ?? false }
        if strongest.count > 1 {
            warnings.append("the image also fits " + strongest.dropFirst().map { "\($0.0.family)/\($0.0.id)" }.joined(separator: ", ") + " equally well")
        }
        if let b = best, b.1.how == .size {
            warnings.append("identified by size alone: no signature, drive ID or checksum confirms the family")
        }
        var fields: [InspectReport.Field] = []
        var checks: [InspectReport.Checksum] = []
        var tables: [MediaTable] = []
        var problems = best?.1.problems ?? []
        var vendor: String?, product: String?, version: String?, bootcode: String?
        var modelIDs: [String] = [], models: [String] = []

        if let (layout, _) = best {
            for f in layout.fields {
                guard let d = layout.decode(f, in: image) else { continue }
                var names: String?
                var warning: String?
                if let t = f.lookup.flatMap({ idTables[$0] }) {
                    if let e = t.find(d.text) {
                        names = e.model
                        if let l = e.layout, l != layout.id {
                            warning = "\(f.name) \(d.text) belongs to layout '\(l)', not '\(layout.id)'"
                            if !f.identifies { problems.append(warning!) }
                        }
                        models.append(e.model)
                    } else {
                        warning = "\(f.name) '\(d.text)' is not in \(t.name)"
                        if !f.identifies { warnings.append(warning!) }
                    }
                }
                if let e = f.expect, d.text != e {
                    warning = "\(f.name) is '\(d.text)', expected '\(e)'"
                    problems.append(warning!)
                }
                switch f.role {
                case .vendor: vendor = d.text
                case .product: product = d.text
                case .revision, .version: version = d.text
                case .bootcode: bootcode = d.raw.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) ? "\(Hex.bytes(d.raw)) (\"\(d.text)\")" : Hex.bytes(d.raw)
                case .modelID, .driveID, .configID: modelIDs.append(d.text)
                default: break
                }
                fields.append(.init(name: f.name, role: f.role, offset: d.offset, value: d.text, names: names, warning: warning))
            }
            for c in layout.checksums {
                do {
                    for r in try ChecksumEngine.verifyAll(c, image: image) {
                        let digits = max(1, r.width / 4)
                        func fmt(_ v: UInt64?) -> String? { v.map { Hex.offset($0, digits: digits) } }
                        checks.append(.init(name: r.name, status: r.status, stored: r.storedText ?? fmt(r.stored), computed: r.computedText ?? fmt(r.computed),
                                            algorithm: r.summary, firstDifference: r.firstDifference))
                    }
                } catch {
                    // It cannot hold on this image (its range or place lies beyond the end): it does not verify.
                    checks.append(.init(name: c.name, status: .bad, stored: nil, computed: nil,
                                        algorithm: "cannot be computed on this image: \(error.description)", firstDifference: nil))
                }
            }
            for spec in layout.mediaTables where readsMediaTables {
                let r = MediaTableReader.read(spec, in: layout, image: image)
                tables += r.tables
                warnings += r.notes
            }
            if readsMediaTables && !layout.mediaTables.isEmpty && tables.isEmpty {
                warnings.append("the layout's media tables were not found in this image")
            }
        }
        if readsMediaTables && (best == nil || best!.0.mediaTables.isEmpty || alwaysHeuristic) {
            tables += HeuristicScanner.scan(image, options: heuristicOptions)
        }

        var mediatek: InspectReport.MediaTek?
        if let (layout, _) = best, layout.structure == .mediatekMT19xx {
            let m = Self.mediatek(image)
            mediatek = m
            if let p = m.chipProblem { problems.append(p) }
            if m.descriptor == nil { problems.append("no descriptor at \(Hex.offset(MediaTekMT19.descriptorOffset)) (no vendor or model there)") }
            if let n = m.notFlashable { warnings.append(n) }
        }

        var pioneer: PioneerBD.Component?
        if let (layout, _) = best, layout.structure == .pioneerBDComponent {
            let c = PioneerBD.component(image)
            pioneer = c
            problems += c.problems
            warnings += c.notes
        }

        // The verdict says exactly what was verified.
        let verified = checks.filter { $0.status == .ok }.map { "checksum \($0.name)" }
        let valid: Bool?
        if best == nil {
            valid = nil
        } else if !problems.isEmpty || checks.contains(where: { $0.status == .bad || $0.status == .unsigned }) {
            valid = false
        } else if checks.contains(where: { $0.status == .unverifiable }) || verified.isEmpty {
            valid = nil
        } else {
            valid = true
        }

        let identity = best.map { l, m in
            InspectReport.Identity(family: l.family, layout: l.id, layoutName: l.name, identifiedBy: m.how,
                                   provenance: l.provenance, synthetic: l.synthetic)
        }
        var report = InspectReport(
            file: loaded.path, container: loaded.container, member: loaded.member, size: image.count, sha256: digest.value,
            identity: identity, alsoMatches: cands.dropFirst().map { "\($0.0.family)/\($0.0.id) (\($0.1.how.rawValue))" },
            fields: fields, vendor: vendor, product: product, version: version, bootcode: bootcode, modelIDs: modelIDs,
            models: models, checksums: checks, valid: valid, problems: problems, verified: verified,
            mediaTables: tables.map(Inspector.table),
            patches: (best?.0.patches ?? []).map { p in
                let (o, st) = p.state(in: image)
                return .init(id: p.id, kind: p.kind, state: st, offset: o, synthetic: p.synthetic)
            },
            warnings: warnings)
        report.mediatek = mediatek
        report.pioneer = pioneer
        return report
    }

    /// The MediaTek MT19xx facts of an image.
    static func mediatek(_ image: [UInt8]) -> InspectReport.MediaTek {
        let d = image.count >= MediaTekMT19.descriptorOffset + MediaTekMT19.descriptorLength
            ? MediaTekMT19.descriptor(Array(image[MediaTekMT19.descriptorOffset..<(MediaTekMT19.descriptorOffset + MediaTekMT19.descriptorLength)])) : nil
        let chip = MediaTekMT19.chip(image: image)
        let read = MediaTekMT19.isDriveRead(image)
        return .init(descriptor: d, chip: chip.chip?.rawValue, chipSource: chip.source, chipProblem: chip.problem, driveRead: read,
                     notFlashable: read ? "this is a raw read from a drive (its boot page equals the mirror at 10000h: the drive returns the boot page decrypted), not an image a drive can boot: it is never flashed. It is good for the drive's own regions (revocation lists, NVRAM, calibration), identification and support" : nil,
                     fingerprint: MediaTekMT19.fingerprint(image: image), driveWrittenRegions: MediaTekMT19.driveWrittenRegions)
    }

    static func table(_ t: MediaTable) -> InspectReport.Table {
        var conf: Double?, reason: String?
        if case let .heuristic(c, r) = t.source { conf = c; reason = r }
        return .init(name: t.name, types: t.types.map(\.rawValue), offset: t.offset, stride: t.stride, count: t.entries.count,
                     heuristic: t.isHeuristic, confidence: conf, reason: reason, speedEncoding: t.speedEncoding,
                     entries: t.entries.map { e in
                         .init(type: e.type.rawValue, index: e.index, code: e.code, mid: e.mid, tid: e.tid.isEmpty ? nil : e.tid,
                               rid: e.rid.map { Hex.word($0, digits: 2) }, speeds: e.speeds.map(SpeedBits.format),
                               speedRaw: e.speedRaw.map { Hex.offset($0) }, offset: e.offset, leadOut: e.extra)
                     })
    }
}
