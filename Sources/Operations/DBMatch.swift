import FirmwareDB

/// How firmware-db names a drive: a model (and its family), a known but unsupported drive, or nothing.
public struct DBMatch: Encodable, Sendable {
    public let model: String?
    public let modelName: String?
    public let family: String
    public let familyName: String
    public let provenance: String
    public let synthetic: Bool
    public let status: [String: String]
    /// "matched" (a models.yaml entry), "known-unsupported" (named by a public source, not supported) or "unknown".
    public let support: String
    /// For a known but unsupported drive: its name, the reason, and every source that names it (repo@commit: file:lines).
    public let known: Known?

    public struct Known: Encodable, Sendable {
        public let name: String
        public let reason: String
        public let sources: [String]
    }

    public static func lookup(_ db: FirmwareDatabase, vendor: String, product: String, revision: String) -> DBMatch {
        let f = db.family("unknown")
        let unknownStatus = Dictionary(uniqueKeysWithValues: (f?.status ?? [:]).map { ($0.key.rawValue, $0.value.rawValue) })
        switch db.identify(vendor: vendor, product: product, revision: revision) {
        case .model(let m)?:
            if let mf = db.family(m.family) {
                return DBMatch(model: m.id, modelName: m.name, family: mf.id, familyName: mf.name, provenance: m.provenance,
                               synthetic: m.synthetic || mf.synthetic,
                               status: Dictionary(uniqueKeysWithValues: mf.status.map { ($0.key.rawValue, $0.value.rawValue) }),
                               support: "matched", known: nil)
            }
        case .unsupported(let rows)?:
            let first = rows[0]
            return DBMatch(model: nil, modelName: nil, family: "unknown", familyName: f?.name ?? "Unknown family", provenance: first.provenance,
                           synthetic: false, status: unknownStatus, support: "known-unsupported",
                           known: Known(name: first.name, reason: first.reason ?? "", sources: rows.map(\.provenance)))
        case nil:
            break
        }
        return DBMatch(model: nil, modelName: nil, family: "unknown", familyName: f?.name ?? "Unknown family",
                       provenance: f?.provenance ?? "", synthetic: false, status: unknownStatus, support: "unknown", known: nil)
    }

    /// Why odflash sends this drive no vendor command, in one clause: not in firmware-db, or known but unsupported.
    public static func refusal(_ db: FirmwareDatabase, vendor: String, product: String, revision: String) -> String {
        if case .unsupported(let rows)? = db.identify(vendor: vendor, product: product, revision: revision) {
            return "\(vendor) \(product) is known to firmware-db as \(rows[0].name) but not supported (\(rows[0].reason ?? "no reason given"))"
        }
        return "\(vendor) \(product) \(revision) is not in firmware-db"
    }

    /// The short form `scan` shows: the model's name, "known: NAME (unsupported: REASON)" or "unknown".
    public var label: String {
        if let k = known { return "known: \(k.name) (unsupported: \(k.reason))" }
        return modelName ?? "unknown"
    }

    public var summary: String {
        if let k = known { return "known: \(k.name) (unsupported: \(k.reason)); nothing vendor-specific will be sent" }
        guard let name = modelName else { return "unknown (not in firmware-db; nothing vendor-specific will be sent)" }
        return "\(name) -> family \(family)\(synthetic ? " [SYNTHETIC/UNVERIFIED]" : "")"
    }
}

