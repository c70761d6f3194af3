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
    public struct Identity: Sendable, Encodable {
        public let family: String
        public let layout: String
        public let layoutName: String
        public let identifiedBy: String
        public let provenance: String
        public let synthetic: Bool
    }
    public struct Field: Sendable, Encodable {
        public let name: String
        public let role: String
        public let offset: Int
        public let value: String
        public let names: String?
        public let warning: String?
    }
    public struct Checksum: Sendable, Encodable {
        public let name: String
        public let status: String
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
    /// Every verifiable checksum is OK and every expected field matches.
    public let valid: Bool
    public let mediaTables: [Table]
    public struct Patch: Sendable, Encodable {
        public let id: String
        public let kind: String
        public let state: String
        public let offset: Int?
        public let synthetic: Bool
    }
    /// The layout's region and book-type patches and whether each is applied.
    public let patches: [Patch]
    public let warnings: [String]
}

/// SHA-256 of an image computed on another core; `value` waits for it.
public final class BackgroundDigest: @unchecked Sendable {
    private var result = ""
    private let done = DispatchSemaphore(value: 0)
    private var waited = false

    public init(_ bytes: [UInt8]) {
        DispatchQueue.global().async {
            self.result = SHA256.hex(bytes)
            self.done.signal()
        }
    }

    public var value: String {
        if !waited { done.wait(); waited = true }
        return result
    }
}

public struct Inspector: Sendable {
    public var layouts: [ImageLayout]
    public var idTables: [String: IDTable]
    public var heuristicOptions = HeuristicScanner.Options()
    /// Run the heuristic scanner even when the layout has exact tables.
    public var alwaysHeuristic = false

    public init(layouts: [ImageLayout], idTables: [String: IDTable]) {
        self.layouts = layouts
        self.idTables = idTables
    }

    /// The layouts that claim the image, strongest first.
    public func candidates(_ image: [UInt8]) -> [(ImageLayout, ImageLayout.Identification)] {
        layouts.compactMap { l in l.identify(image).map { (l, $0) } }.sorted { $0.1 > $1.1 }
    }

    /// `digest`: a hash already started (the CLI starts it before loading the database).
    public func inspect(_ loaded: LoadedImage, digest: BackgroundDigest? = nil) -> InspectReport {
        let image = loaded.bytes
        // The digest runs on the other core while the image is parsed.
        let digest = digest ?? BackgroundDigest(image)
        let cands = candidates(image)
        let best = cands.first
        var warnings: [String] = []
        let strongest = cands.filter { $0.1 == best?.1 }
        if strongest.count > 1 {
            warnings.append("the image also fits " + strongest.dropFirst().map { "\($0.0.family)/\($0.0.id)" }.joined(separator: ", ") + " equally well")
        }
        if let b = best, b.1 == .size {
            warnings.append("identified by size alone: no signature or checksum confirms the family")
        }
        var fields: [InspectReport.Field] = []
        var checks: [InspectReport.Checksum] = []
        var tables: [MediaTable] = []
        var valid = best != nil
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
                            warnings.append(warning!)
                            valid = false
                        }
                        models.append(e.model)
                    } else {
                        warning = "\(f.name) '\(d.text)' is not in \(t.name)"
                        warnings.append(warning!)
                    }
                }
                if let e = f.expect, d.text != e {
                    warning = "\(f.name) is '\(d.text)', expected '\(e)'"
                    warnings.append(warning!)
                    valid = false
                }
                switch f.role {
                case .vendor: vendor = d.text
                case .product: product = d.text
                case .revision, .version: version = d.text
                case .bootcode: bootcode = d.raw.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) ? "\(Bytes2.hex(d.raw)) (\"\(d.text)\")" : Bytes2.hex(d.raw)
                case .modelID, .driveID, .configID: modelIDs.append(d.text)
                default: break
                }
                fields.append(.init(name: f.name, role: f.role.rawValue, offset: d.offset, value: d.text, names: names, warning: warning))
            }
            for c in layout.checksums {
                do {
                    let r = try ChecksumEngine.verify(c, image: image)
                    let digits = max(1, r.width / 4)
                    func fmt(_ v: UInt64?) -> String? { v.map { String($0, radix: 16, uppercase: true).leftPad(digits) + "h" } }
                    checks.append(.init(name: r.name, status: r.status.rawValue, stored: fmt(r.stored), computed: fmt(r.computed),
                                        algorithm: r.summary, firstDifference: r.firstDifference))
                    if r.status == .bad { valid = false }
                } catch {
                    checks.append(.init(name: c.name, status: "ERROR", stored: nil, computed: nil, algorithm: error.description, firstDifference: nil))
                    valid = false
                }
            }
            for spec in layout.mediaTables { tables += MediaTableReader.read(spec, layout: layout.id, image: image) }
            if !layout.mediaTables.isEmpty && tables.isEmpty {
                warnings.append("the layout's media tables were not found in this image")
            }
        }
        if best == nil || best!.0.mediaTables.isEmpty || alwaysHeuristic {
            tables += HeuristicScanner.scan(image, options: heuristicOptions)
        }

        let identity = best.map { l, how in
            InspectReport.Identity(family: l.family, layout: l.id, layoutName: l.name, identifiedBy: how.rawValue,
                                   provenance: l.provenance, synthetic: l.synthetic)
        }
        return InspectReport(
            file: loaded.path, container: loaded.container, member: loaded.member, size: image.count, sha256: digest.value,
            identity: identity, alsoMatches: cands.dropFirst().map { "\($0.0.family)/\($0.0.id) (\($0.1.rawValue))" },
            fields: fields, vendor: vendor, product: product, version: version, bootcode: bootcode, modelIDs: modelIDs,
            models: models, checksums: checks, valid: valid, mediaTables: tables.map(Inspector.table),
            patches: (best?.0.patches ?? []).map { p in
                let (o, st) = p.state(in: image)
                let kind: String
                switch p.kind {
                case .region: kind = "region"
                case let .booktype(m, v): kind = "booktype \(m)=\(v)"
                }
                return .init(id: p.id, kind: kind, state: st.rawValue, offset: o, synthetic: p.synthetic)
            },
            warnings: warnings)
    }

    static func table(_ t: MediaTable) -> InspectReport.Table {
        var conf: Double?, reason: String?
        if case let .heuristic(c, r) = t.source { conf = c; reason = r }
        return .init(name: t.name, types: t.types.map(\.rawValue), offset: t.offset, stride: t.stride, count: t.entries.count,
                     heuristic: t.isHeuristic, confidence: conf, reason: reason, speedEncoding: t.speedEncoding,
                     entries: t.entries.map { e in
                         .init(type: e.type.rawValue, index: e.index, code: e.code, mid: e.mid, tid: e.tid.isEmpty ? nil : e.tid,
                               rid: e.rid.map { String(format2: $0) }, speeds: e.speeds.map(SpeedBits.format),
                               speedRaw: e.speedRaw.map { String($0, radix: 16, uppercase: true) + "h" }, offset: e.offset, leadOut: e.extra)
                     })
    }
}
