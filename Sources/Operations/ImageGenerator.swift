import Firmware
import FirmwareDB
import Flashing
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import SCSI

/// SYNTHETIC images of firmware-db layouts (tests, benchmarks, demos; never real firmware), written atomically.
public struct ImageGenerator {
    public let db: FirmwareDatabase
    public init(db: FirmwareDatabase) { self.db = db }

    public struct Request: Sendable {
        /// A family id, or "all" (every layout of every family, cycled through).
        public var family: String
        public var layout: String?
        public var seed: UInt64 = 1
        public var size: Int?
        public var count = 1
        public var cdr: [SyntheticATIP]?
        public var vendor: String?, product: String?, revision: String?
        public var driveID: String?, bootcode: String?, configID: String?
        /// Layout fields by name (--field NAME=VALUE).
        public var fields: [String: String] = [:]
        /// A file, or a folder with `count` > 1.
        public var output: String
        public var overwrite = false
        public init(family: String, output: String) { self.family = family; self.output = output }
    }

    public struct Output: Encodable, Sendable {
        public let output: String; public let family: String; public let layout: String; public let size: Int; public let sha256: String; public let synthetic: Bool
    }

    /// --size: decimal or 0x hex, 1 byte to 64 MiB.
    public static func parseSize(_ t: String) throws -> Int {
        guard let n = NumberSyntax.integer(t, 1...(64 << 20), hex: true) else { throw OperationError("--size: '\(t)' is not a size of 1 byte to 64 MiB", kind: .usage) }
        return n
    }

    /// --cdr: comma-separated ATIP lead-in times (MM:SS:FF), each with an 80-minute lead-out.
    public static func parseCDR(_ c: String) throws -> [SyntheticATIP] {
        try c.split(separator: ",").map { t in
            let p = t.split(separator: ":").compactMap { UInt8($0) }
            guard p.count == 3, p[1] < 60, p[2] < 75 else { throw OperationError("--cdr: '\(t)' is not MM:SS:FF", kind: .usage) }
            return SyntheticATIP((p[0], p[1], p[2]), (79, 59, 74))
        }
    }

    public func run(_ r: Request) throws -> [Output] {
        guard r.count >= 1 && r.count <= 100_000 else { throw OperationError("--count must be 1-100000", kind: .usage) }
        var targets: [(Family, ImageLayout)] = []
        if r.family == "all" {
            targets = db.families.flatMap { f in f.layouts.map { (f, $0) } }
        } else {
            guard let fam = db.family(r.family) else {
                throw OperationError("no family '\(r.family)' in firmware-db (known: all, \(db.families.map(\.id).joined(separator: ", ")))", kind: .input)
            }
            guard let l = r.layout.map({ id in fam.layouts.first { $0.id == id } }) ?? fam.layouts.first else {
                throw OperationError(fam.layouts.isEmpty ? "family '\(r.family)' has no image layout to generate" :
                                     "family '\(r.family)' has no layout '\(r.layout ?? "")' (known: \(fam.layouts.map(\.id).joined(separator: ", ")))", kind: .input)
            }
            targets = [(fam, l)]
        }
        if r.count > 1 {
            do { try FileManager.default.createDirectory(atPath: r.output, withIntermediateDirectories: true) }
            catch { throw OperationError("cannot create folder \(r.output): \(foundationDescription(error))", kind: .output) }
        }
        var outs: [Output] = []
        for i in 0..<r.count {
            let (fam, l) = targets[i % targets.count]
            var spec = SyntheticSpec()
            spec.seed = r.seed &+ UInt64(i)
            spec.size = r.size
            spec.cdrTable = r.cdr
            if let v = r.vendor { spec.vendor = v }
            if let p = r.product { spec.product = p }
            if let v = r.revision { spec.revision = v }
            if let m = db.models.first(where: { $0.family == fam.id && $0.imageID != nil }) { spec.configID = m.imageID }
            if let c = r.configID { spec.configID = c }
            if let d = r.driveID { spec.driveID = d }
            if let b = r.bootcode { spec.bootcode = b }
            for (name, _) in r.fields where !l.fields.contains(where: { $0.name == name }) {
                throw OperationError("--field \(name): \(fam.id)/\(l.id) has no field of that name (it has: \(l.fields.map(\.name).joined(separator: ", ")))", kind: .usage)
            }
            spec.fields = r.fields
            let bytes: [UInt8]
            do { bytes = try SyntheticImage.generate(l, spec, idTables: db.idTables) }
            catch { throw OperationError("\(fam.id)/\(l.id): \(error.description)", kind: .input) }
            let path = r.count == 1 ? r.output : "\(r.output)/\(fam.id)-\(l.id)-\(spec.seed).bin"
            try AtomicFile.write(Data(bytes), to: path, overwrite: r.overwrite)
            outs.append(Output(output: path, family: fam.id, layout: l.id, size: bytes.count, sha256: r.count == 1 ? SHA256.hex(bytes) : "", synthetic: true))
        }
        return outs
    }
}

/// `error.localizedDescription` as swift-corelibs-foundation wrote it for the CocoaErrors FileManager throws (no
/// localized description in them: a fixed sentence and the reason its table gives the code, or the domain and code).
func foundationDescription(_ error: any Error) -> String {
    let reasons: [Int: String] = [
        4: "The file doesn’t exist.", 255: "The file couldn’t be locked.", 257: "You don’t have permission.",
        258: "The file name is invalid.", 259: "The file isn’t in the correct format.", 260: "The file doesn’t exist.",
        513: "You don’t have permission.", 514: "The file name is invalid.", 516: "A file with the same name already exists.",
        517: "The specified text encoding isn’t applicable.", 518: "The specified URL type isn’t supported.",
        640: "There isn’t enough space.", 642: "The volume is read only.",
    ]
    if let e = error as? CocoaError {
        return "The operation could not be completed. " + (reasons[e.code.rawValue] ?? "(NSCocoaErrorDomain error \(e.code.rawValue).)")
    }
    return "The operation could not be completed. (\(error._domain) error \(error._code).)"
}
