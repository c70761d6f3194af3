import Dispatch
import Emulator
import Firmware
import Flashing
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import SCSI
#if canImport(Glibc)
import Glibc
#endif
import YAML

/// firmware-db/: families and models, each with provenance. Loaded once, checked strictly.
public struct FirmwareDatabase: Sendable {
    public let root: String
    public let families: [Family]
    public let models: [Model]
    public let idTables: [String: IDTable]
    public let media: MediaKnowledge
    /// Every drive the public sources name (firmware-db/drives/*.tsv), matched to a model or known as unsupported.
    public let driveTables: [DriveTable]
    /// The models' patterns and those of the unsupported rows with INQUIRY strings, prepared for matching.
    let modelPatterns: [InquiryPattern]
    let knownPatterns: [(drive: KnownDrive, pattern: InquiryPattern)]

    /// The rows of every drives table, in file order.
    public var knownDrives: [KnownDrive] { driveTables.flatMap(\.drives) }

    /// Every image layout of every family.
    public var layouts: [ImageLayout] { families.flatMap(\.layouts) }

    public var emulatorDirectory: String { root + "/emulator" }

    public struct LoadError: Error, CustomStringConvertible, Sendable {
        public let issues: [DBIssue]
        public var description: String {
            issues.count == 1 ? "firmware-db: \(issues[0])" : "firmware-db has \(issues.count) problems; first: \(issues[0]) (run 'odflash db lint' for all)"
        }
    }

    public static let familyKeys = ["schema", "id", "name", "provenance", "synthetic", "protocol", "status", "notes", "images", "flash", "dump", "booktype", "region",
                                     "read_only_commands", "identify", "strategy_versions", "flash_missing_facts"]
    public static let modelKeys = ["id", "name", "vendor", "product", "revision", "family", "provenance", "synthetic", "notes", "image_id"]
    public static let topKeys = ["schema", "provenance", "models"]

    /// Loads and validates; any problem is a LoadError listing every issue found.
    public static func load(root: String) throws(LoadError) -> FirmwareDatabase {
        var issues: [DBIssue] = []
        let db = read(root: root, issues: &issues)
        guard issues.isEmpty else { throw LoadError(issues: issues) }
        return db
    }

    /// Every problem in the database (empty when it is clean): `odflash db lint`.
    public static func lint(root: String) -> [DBIssue] { lintAndRead(root: root).issues }

    /// One read: the problems and what could be loaded.
    public static func lintAndRead(root: String) -> (issues: [DBIssue], db: FirmwareDatabase) {
        var issues: [DBIssue] = []
        let db = read(root: root, issues: &issues)
        issues += lintProfiles(db)
        guard LocalPath.exists(root + "/families") else { return (issues, db) }
        issues += lintVersion(root: root)
        // The tables the commands read only when they need them (MediaTek builds, Pioneer cross-flash families).
        do { _ = try BuildCatalog.load(root: root) } catch { issues.append(error.issue) }
        do { _ = try PioneerCrossflash.load(root: root) } catch { issues.append(error.issue) }
        return (issues, db)
    }

    /// The VERSION file (`odflash --version` shows it): a "version: YYYY.MM.DD[.N]" line and a "date: YYYY-MM-DD" line
    /// naming a real day, the version being that date (".N" for a second change on one day).
    static func lintVersion(root: String) -> [DBIssue] {
        let path = root + "/VERSION"
        guard let bytes = try? ImageFile.readFile(path, max: 4096), let text = String(validating: bytes, as: UTF8.self) else {
            return [DBIssue(file: path, line: nil, message: "missing or unreadable: firmware-db states its version and date in VERSION ('version: YYYY.MM.DD', 'date: YYYY-MM-DD')")]
        }
        var issues: [DBIssue] = []
        let fields = versionFields(text) { line, why in issues.append(DBIssue(file: path, line: line, message: why)) }
        guard let (date, dateLine) = fields["date"] else { return issues + [DBIssue(file: path, line: nil, message: "no 'date: YYYY-MM-DD' line")] }
        guard let (version, versionLine) = fields["version"] else { return issues + [DBIssue(file: path, line: nil, message: "no 'version: YYYY.MM.DD' line")] }
        let d = date.split(separator: "-", omittingEmptySubsequences: false)
        let days = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard d.count == 3, d[0].count == 4, d[1].count == 2, d[2].count == 2, d.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let y = Int(d[0]), let m = Int(d[1]), let day = Int(d[2]), y >= 2000, (1...12).contains(m), (1...days[m - 1]).contains(day),
              m != 2 || day < 29 || (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) else {
            return issues + [DBIssue(file: path, line: dateLine, message: "date '\(date)' is not a day written YYYY-MM-DD")]
        }
        let stem = d.joined(separator: ".")
        let rest = version.hasPrefix(stem) ? version.dropFirst(stem.count) : nil
        if rest == nil || !(rest!.isEmpty || (rest!.hasPrefix(".") && rest!.count > 1 && rest!.dropFirst().allSatisfy { $0.isASCII && $0.isNumber })) {
            issues.append(DBIssue(file: path, line: versionLine, message: "version '\(version)' is not the date's \(stem) (or \(stem).N for another change that day)"))
        }
        return issues
    }

    /// The emulated drives' profiles (emulator/*.yaml), as `emu:NAME` reads them, and their initial images against
    /// the layouts they name. Only the lint reads them all; a command reads the one profile it opens.
    static func lintProfiles(_ db: FirmwareDatabase) -> [DBIssue] {
        var issues: [DBIssue] = []
        for path in yamlFiles(db.emulatorDirectory) {
            do {
                let p = try DriveProfile.load(path: path)
                if let i = p.initialImage {
                    if let l = db.family(i.family)?.layouts.first(where: { $0.id == i.layout }) {
                        let size = p.firmware?.size ?? 0x100000
                        let length = min(i.to ?? Int.max, l.sizes.max() ?? l.minSize) - (i.from ?? 0)
                        if (i.at ?? 0) + max(0, length) > size {
                            issues.append(DBIssue(file: path, line: nil, message: "initialImage: \(i.family)/\(i.layout) placed at \(i.at ?? 0) does not fit the \(size)-byte flash"))
                        }
                    } else {
                        issues.append(DBIssue(file: path, line: nil, message: "initialImage names \(i.family)/\(i.layout), which firmware-db does not have"))
                    }
                }
            } catch {
                switch error {
                case let .invalid(_, why, line): issues.append(DBIssue(file: path, line: line, message: why))
                case let .unreadable(_, why): issues.append(DBIssue(file: path, line: nil, message: why))
                case .notFound: break
                }
            }
        }
        return issues
    }

    static func compose(_ path: String, _ issues: inout [DBIssue]) -> Node? {
        let text: String
        do {
            // read(2) with a size cap; db files are small text.
            let bytes = try ImageFile.readFile(path, max: 4 << 20)
            guard let t = String(validating: bytes, as: UTF8.self) else {
                issues.append(DBIssue(file: path, line: nil, message: "not UTF-8 text"))
                return nil
            }
            text = t
        } catch {
            issues.append(DBIssue(file: path, line: nil, message: error.description))
            return nil
        }
        do {
            guard let n = try CheckedYAML.compose(text) else {
                issues.append(DBIssue(file: path, line: nil, message: "empty file"))
                return nil
            }
            guard n.mapping != nil else {
                issues.append(DBIssue(file: path, line: n.mark?.line, message: "the top level must be a mapping"))
                return nil
            }
            return n
        } catch let e as CheckedYAML.Problem {
            issues.append(DBIssue(file: path, line: e.line, message: e.message))
        } catch let e as YAMLError {
            issues.append(DBIssue(file: path, line: e.line, message: "YAML syntax error: \(e.problem)"))
        } catch {
            issues.append(DBIssue(file: path, line: nil, message: "YAML error: \(error)"))
        }
        return nil
    }

    /// The .yaml files of a folder, sorted; paths never leave the folder (no links followed out of it).
    static func yamlFiles(_ dir: String) -> [String] { files(dir, ext: ".yaml") }

    static func files(_ dir: String, ext: String) -> [String] {
        let names = LocalPath.entries(dir) ?? []
        guard let base = realPath(dir) else { return [] }
        return names.filter { $0.hasSuffix(ext) && !$0.hasPrefix(".") }.sorted().compactMap { n in
            let p = dir + "/" + n
            guard let real = realPath(p) else { return nil }
            return real.hasPrefix(base + "/") ? p : nil
        }
    }

    /// realpath(3): the path with every link resolved, or nil when it does not exist.
    static func realPath(_ p: String) -> String? { LocalPath.real(p) }

    static func read(root: String, issues: inout [DBIssue]) -> FirmwareDatabase {
        var families: [Family] = []
        var models: [Model] = []
        var idTables: [String: IDTable] = [:]
        guard LocalPath.isDirectory(root) else {
            issues.append(DBIssue(file: root, line: nil, message: "firmware-db folder not found"))
            return FirmwareDatabase(root: root, families: [], models: [], idTables: [:], media: MediaKnowledge(), driveTables: [],
                                    modelPatterns: [], knownPatterns: [])
        }
        let famFiles = yamlFiles(root + "/families")
        if famFiles.isEmpty { issues.append(DBIssue(file: root + "/families", line: nil, message: "no family files")) }
        // The files are independent: parse them on every core (families, models, id tables, drives tables, media), then merge in order.
        final class Slot: @unchecked Sendable {
            var family: Family?
            var models: [Model] = []
            var idTables: [IDTable] = []
            var media: MediaKnowledge?
            var driveTables: [DriveTable] = []
            var issues: [DBIssue] = []
        }
        // One job per file (the id tables and the media tables, small, one job each); the slots keep the files' order
        // for the merge, and the largest files start first so that no core is left with a big file at the end.
        enum Job { case family(String), idTables, models, drives(String), media }
        let driveFiles = files(root + "/drives", ext: ".tsv")
        let jobs: [Job] = famFiles.map { .family($0) } + [.idTables, .models] + driveFiles.map { .drives($0) } + [.media]
        let slots = jobs.map { _ in Slot() }
        let modelsPath = root + "/models.yaml"
        func size(_ p: String) -> Int { var st = stat(); return stat(p, &st) == 0 ? Int(st.st_size) : 0 }
        let cost = jobs.map { j -> Int in
            switch j {
            case let .family(p), let .drives(p): return size(p)
            case .models: return size(modelsPath)
            case .idTables, .media: return 0
            }
        }
        let order = jobs.indices.sorted { cost[$0] != cost[$1] ? cost[$0] > cost[$1] : $0 < $1 }
        DispatchQueue.concurrentPerform(iterations: jobs.count) { k in
            let i = order[k]
            let slot = slots[i]
            switch jobs[i] {
            case let .family(path):
                guard let node = compose(path, &slot.issues) else { return }
                let e = Entry(node: node, file: path, what: "family")
                if e.fields?["schema"]?.int != 1 { slot.issues.append(DBIssue(file: path, line: e.fields?["schema"]?.mark?.line ?? e.line, message: "family: 'schema: 1' is required")) }
                if var f = family(e, &slot.issues) {
                    f.file = path
                    if PathName.last(path) != f.id + ".yaml" {
                        slot.issues.append(e.fail("family '\(f.id)' must live in \(f.id).yaml"))
                    }
                    slot.family = f
                }
            case .idTables:
                for path in files(root + "/idtables", ext: ".tsv") {
                    guard let bytes = try? ImageFile.readFile(path, max: 4 << 20), let text = String(validating: bytes, as: UTF8.self) else {
                        slot.issues.append(DBIssue(file: path, line: nil, message: "unreadable or not UTF-8 text"))
                        continue
                    }
                    if let t = LayoutParser.idTable(text, file: path, &slot.issues) { slot.idTables.append(t) }
                }
            case .models:
                if let node = compose(modelsPath, &slot.issues) {
                    let top = Entry(node: node, file: modelsPath, what: "top level")
                    top.checkKeys(topKeys, issues: &slot.issues)
                    if top.fields?["schema"]?.int != 1 { slot.issues.append(DBIssue(file: modelsPath, line: top.fields?["schema"]?.mark?.line ?? top.line, message: "top level: 'schema: 1' is required")) }
                    if (top.string("provenance", issues: &slot.issues) ?? "").isEmpty { slot.issues.append(top.fail("file-level provenance is empty")) }
                    for e in top.children("models", issues: &slot.issues) {
                        guard e.mapping != nil else { slot.issues.append(e.fail("must be a mapping")); continue }
                        if let m = model(e, &slot.issues) { slot.models.append(m) }
                    }
                }
            case let .drives(path):
                guard let bytes = try? ImageFile.readFile(path, max: 4 << 20), let text = String(validating: bytes, as: UTF8.self) else {
                    slot.issues.append(DBIssue(file: path, line: nil, message: "unreadable or not UTF-8 text"))
                    return
                }
                if let t = driveTable(text, file: path, &slot.issues) { slot.driveTables.append(t) }
            case .media:
                slot.media = MediaKnowledge.load(root: root, &slot.issues)
            }
        }
        var driveTables: [DriveTable] = []
        for slot in slots {
            issues += slot.issues
            if let f = slot.family { families.append(f) }
            models += slot.models
            for t in slot.idTables { idTables[t.name] = t }
            driveTables += slot.driveTables
        }
        // Cross-checks: unique ids, every model's family exists, every lookup names a table.
        for (kind, ids) in [("family", families.map(\.id)), ("model", models.map(\.id)),
                            ("layout", families.flatMap { f in f.layouts.map { "\(f.id)/\($0.id)" } })] {
            var seen = Set<String>()
            for id in ids where !seen.insert(id).inserted {
                issues.append(DBIssue(file: root, line: nil, message: "duplicate \(kind) id '\(id)'"))
            }
        }
        let famIDs = Set(families.map(\.id))
        for m in models where !famIDs.contains(m.family) {
            issues.append(DBIssue(file: modelsPath, line: nil, message: "model '\(m.id)': unknown family '\(m.family)'"))
        }
        for f in families {
            for l in f.layouts {
                for fs in l.fields where fs.lookup != nil && idTables[fs.lookup!] == nil {
                    issues.append(DBIssue(file: f.file, line: nil, message: "layout '\(l.id)': field '\(fs.name)' looks up unknown id table '\(fs.lookup!)'"))
                }
            }
        }
        // Identification: one order per family, every drive ID read names a table and flash classes it has.
        var orders: [Int: String] = [:]
        for f in families {
            guard let r = f.identify else { continue }
            if let other = orders[r.order] { issues.append(DBIssue(file: f.file, line: nil, message: "identify order \(r.order) is also \(other)'s: families are tried one at a time in a fixed order")) }
            orders[r.order] = f.id
            for p in r.probes {
                guard let d = p.driveID else { continue }
                guard let t = idTables[d.table] else {
                    issues.append(DBIssue(file: f.file, line: nil, message: "identify '\(p.name)': unknown id table '\(d.table)'")); continue
                }
                let known = Set(t.entries.compactMap(\.flashClass))
                for c in d.classes where !known.contains(c) {
                    issues.append(DBIssue(file: f.file, line: nil, message: "identify '\(p.name)': id table '\(d.table)' has no flash class '\(c)'"))
                }
            }
        }
        for t in idTables.values {
            let layoutIDs = Set(families.flatMap { $0.layouts.map(\.id) })
            for e in t.entries where e.layout != nil && !layoutIDs.contains(e.layout!) {
                issues.append(DBIssue(file: root + "/idtables", line: nil, message: "id table '\(t.name)': \(e.ids.joined(separator: "/")) names unknown layout '\(e.layout!)'"))
            }
        }
        var seenTables: [String: String] = [:]
        for t in driveTables {
            if let other = seenTables[t.name] { issues.append(DBIssue(file: t.file, line: nil, message: "drives table name '\(t.name)' is also used by \(other)")) }
            seenTables[t.name] = t.file
        }
        let modelPatterns = models.map { InquiryPattern(vendor: $0.vendor, product: $0.product, revision: $0.revision) }
        let knownPatterns = driveTables.flatMap(\.drives).compactMap { d -> (drive: KnownDrive, pattern: InquiryPattern)? in
            guard d.model == nil, let v = d.vendor, let p = d.product else { return nil }
            return (d, InquiryPattern(vendor: v, product: p, revision: "*"))
        }
        issues += checkModelPatterns(models, modelPatterns, file: modelsPath)
        issues += checkDrives(driveTables, models: models, modelPatterns, idTables: idTables)
        return FirmwareDatabase(root: root, families: families, models: models, idTables: idTables, media: slots.last?.media ?? MediaKnowledge(),
                                driveTables: driveTables, modelPatterns: modelPatterns, knownPatterns: knownPatterns)
    }


    static func checkID(_ id: String?, _ e: Entry, _ issues: inout [DBIssue]) -> String? {
        guard let id else { return nil }
        guard !id.isEmpty, id.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "-" }) else {
            issues.append(e.fail("id '\(id)' must be lowercase letters, digits and '-'"))
            return nil
        }
        return id
    }

    static func provenance(_ e: Entry, _ issues: inout [DBIssue]) -> (String, Bool)? {
        let synthetic = e.bool("synthetic", issues: &issues) ?? false
        guard let p = e.string("provenance", issues: &issues) else { return nil }
        if p.trimmedSpaces.isEmpty { issues.append(e.fail("provenance is empty")); return nil }
        if synthetic && !p.lowercased().contains("synthetic") {
            issues.append(e.fail("synthetic entries must say 'synthetic' in their provenance"))
        }
        return (p, synthetic)
    }

    static func family(_ e: Entry, _ issues: inout [DBIssue]) -> Family? {
        e.checkKeys(familyKeys, issues: &issues)
        let id = checkID(e.string("id", issues: &issues), e, &issues)
        let name = e.string("name", issues: &issues)
        let prov = provenance(e, &issues)
        var status: [FamilyOperation: TestStatus] = [:]
        if let s = e.fields?["status"] {
            if let m = s.mapping {
                for (k, v) in m {
                    guard let ks = k.string, let op = FamilyOperation(rawValue: ks) else {
                        issues.append(DBIssue(file: e.file, line: k.mark?.line, message: "\(e.what): unknown operation '\(k.string ?? "?")' in status (known: \(FamilyOperation.allCases.map(\.rawValue).joined(separator: ", ")))"))
                        continue
                    }
                    guard let vs = v.string, let st = TestStatus(rawValue: vs) else {
                        issues.append(DBIssue(file: e.file, line: v.mark?.line, message: "\(e.what): status '\(v.string ?? "?")' for \(ks) is not one of \(TestStatus.allCases.map(\.rawValue).joined(separator: ", "))"))
                        continue
                    }
                    status[op] = st
                }
            } else { issues.append(e.fail("'status' must be a mapping of operation: status")) }
        }
        guard let id, let name, let prov else { return nil }
        var layouts: [ImageLayout] = []
        for le in e.children("images", issues: &issues) {
            if let l = LayoutParser.layout(le, family: id, familyProvenance: prov.0, familySynthetic: prov.1, &issues) { layouts.append(l) }
        }
        var f = Family(id: id, name: name, provenance: prov.0, synthetic: prov.1,
                       protocolName: e.string("protocol", required: false, issues: &issues), status: status,
                       notes: e.string("notes", required: false, issues: &issues), layouts: layouts)
        if let fe = e.child("flash", "flash") {
            if fe.node.sequence != nil {
                for (i, v) in e.children("flash", issues: &issues).enumerated() {
                    if let p = ProtocolParser.flash(v, name: (f.protocolName ?? id) + (i == 0 ? "" : "-\(i + 1)"), &issues) { f.flashVariants.append(p) }
                }
            } else if let p = ProtocolParser.flash(fe, name: f.protocolName ?? id, &issues) {
                f.flashVariants = [p]
            }
        }
        if f.flash != nil && f.status[.flash] == nil { issues.append(e.fail("a family with a flash protocol needs a flash status")) }
        if let de = e.child("dump", "dump") {
            // One read-out sequence, or a list of them (one per flash class).
            let entries = de.node.sequence != nil ? e.children("dump", issues: &issues) : [de]
            let flashBootcodes = f.flash?.bootcodes ?? []
            for x in entries {
                guard var d = ProtocolParser.dump(x, &issues) else { continue }
                if d.bootcodes.isEmpty { d.bootcodes = flashBootcodes }
                if let l = d.layout, !layouts.contains(where: { $0.id == l }) { issues.append(x.fail("layout '\(l)' is not one of this family's images")) }
                if entries.count > 1 && d.layout == nil { issues.append(x.fail("each of several dump sequences names the layout it yields")) }
                f.dumpVariants.append(d)
            }
        }
        if let be = e.child("booktype", "booktype") { f.booktype = ProtocolParser.booktype(be, &issues) }
        if let re = e.child("region", "region") { f.region = ProtocolParser.region(re, &issues) }
        f.readOnlyCommands = IdentifyParser.readOnlyCommands(e, &issues)
        if let ie = e.child("identify", "identify") { f.identify = IdentifyParser.identify(ie, readOnly: f.readOnlyCommands, &issues) }
        if let se = e.child("strategy_versions", "strategy_versions") { f.strategyVersions = IdentifyParser.strategyVersions(se, readOnly: f.readOnlyCommands, &issues) }
        f.flashMissingFacts = e.string("flash_missing_facts", required: false, issues: &issues)
        if f.flashMissingFacts != nil && !f.flashVariants.isEmpty { issues.append(e.fail("a family with a flash sequence names no missing facts (flash_missing_facts)")) }
        for c in IdentifyParser.conflicts(f) { issues.append(e.fail(c)) }
        if f.booktype != nil && f.status[.booktype] == nil { issues.append(e.fail("a family with book-type commands needs a booktype status")) }
        if f.region != nil && f.status[.region] == nil { issues.append(e.fail("a family with region resets needs a region status")) }
        if f.dump != nil && f.status[.dump] == nil { issues.append(e.fail("a family with a dump protocol needs a dump status")) }
        return f
    }

    static func model(_ e: Entry, _ issues: inout [DBIssue]) -> Model? {
        e.checkKeys(modelKeys, issues: &issues)
        let id = checkID(e.string("id", issues: &issues), e, &issues)
        let name = e.string("name", issues: &issues)
        let vendor = e.string("vendor", issues: &issues)
        let product = e.string("product", issues: &issues)
        let revision = e.string("revision", required: false, issues: &issues) ?? "*"
        let family = e.string("family", issues: &issues)
        let prov = provenance(e, &issues)
        if let v = vendor, v.count > 8 && !v.contains("*") { issues.append(e.fail("vendor '\(v)' is longer than the 8-byte INQUIRY field")) }
        if let p = product, p.count > 16 && !p.contains("*") { issues.append(e.fail("product '\(p)' is longer than the 16-byte INQUIRY field")) }
        guard let id, let name, let vendor, let product, let family, let prov else { return nil }
        return Model(id: id, name: name, vendor: vendor, product: product, revision: revision, family: family,
                     provenance: prov.0, synthetic: prov.1, notes: e.string("notes", required: false, issues: &issues),
                     imageID: e.string("image_id", required: false, issues: &issues), line: e.line)
    }

    public func family(_ id: String) -> Family? { families.first { $0.id == id } }

    /// The families with identification reads, in the order they are tried (each family's `identify.order`).
    public var identificationOrder: [(id: String, name: String, rule: IdentifyRule)] {
        families.compactMap { f in f.identify.map { (f.id, f.name, $0) } }.sorted { $0.rule.order < $1.rule.order }
    }

    /// The model entry for a drive's INQUIRY strings, or nil when none matches or the most specific match is a drive
    /// known to be unsupported (then nothing vendor-specific may be sent to it).
    public func match(vendor: String, product: String, revision: String) -> Model? {
        if case .model(let m)? = identify(vendor: vendor, product: product, revision: revision) { return m }
        return nil
    }

    /// What firmware-db knows about a drive's INQUIRY strings: the most specific pattern among the models and the
    /// unsupported rows of the drives tables wins; on a tie the unsupported row wins (the cautious answer). Several
    /// unsupported rows of the same specificity (sources naming the same drive) are returned together.
    public func identify(vendor: String, product: String, revision: String) -> DriveMatch? {
        let text = InquiryPattern.Text(vendor: vendor, product: product, revision: revision)
        var best: Model?
        var bestScore = -1
        for (m, p) in zip(models, modelPatterns) where p.specificity > bestScore && p.matches(text) {
            best = m; bestScore = p.specificity
        }
        var known: [KnownDrive] = []
        var knownScore = -1
        for (d, p) in knownPatterns where p.specificity >= knownScore && p.matches(text) {
            if p.specificity > knownScore { known = [d]; knownScore = p.specificity } else { known.append(d) }
        }
        if !known.isEmpty && knownScore >= bestScore { return .unsupported(known) }
        return best.map { .model($0) }
    }

    /// The drives-table rows that name a model (every public source that lists the drive).
    public func sources(ofModel id: String) -> [KnownDrive] { knownDrives.filter { $0.model == id } }

    /// A drives table: '# name:', '# provenance:' and '# origin:' (repository @commit) lines, then tab-separated rows of vendor, product (each '-' when
    /// the source gives no INQUIRY string), name, model (a models.yaml id, or '-' for a drive odflash does not
    /// support), note (the reason, required for an unsupported drive), source (file:lines in the table's repository)
    /// and, optionally, the route by which a drive without INQUIRY strings is identified.
    static func driveTable(_ text: String, file: String, _ issues: inout [DBIssue]) -> DriveTable? {
        guard let t = TSVTable.parse(text, file: file, columns: 6, optional: 1, &issues) else { return nil }
        guard let origin = t.origin else {
            issues.append(DBIssue(file: file, line: nil, message: "needs an '# origin:' line naming the source in short (repository @commit)"))
            return nil
        }
        var drives: [KnownDrive] = []
        func opt(_ s: String) -> String? { s.isEmpty || s == "-" ? nil : s }
        for (r, line) in zip(t.rows, t.lines) {
            func fail(_ m: String) { issues.append(DBIssue(file: file, line: line, message: m)) }
            let vendor = opt(r[0]), product = opt(r[1]), name = r[2], model = opt(r[3]), note = opt(r[4]), source = r[5]
            let what = name.isEmpty ? "row" : "'\(name)'"
            if name.isEmpty || name == "-" { fail("the drive has no name: give it as the source names it"); continue }
            if (vendor == nil) != (product == nil) { fail("\(what): give both INQUIRY vendor and product, or '-' for both when the source names neither"); continue }
            if source.isEmpty || source == "-" || !isSourcePlace(source) {
                fail("\(what): source '\(source)' must name the file and lines in the source, e.g. drive.ixx:154 or pxfw.cpp:108-110")
            }
            var route: KnownDrive.Route?
            if r.count > 6, let rt = opt(r[6]) {
                route = KnownDrive.Route(rt)
                if route == nil { fail("\(what): route '\(rt)' is not one of \(KnownDrive.Route.kinds.joined(separator: ", ")) (with its IDs or number)") }
            }
            if vendor == nil && route == nil { fail("\(what): say how the drive is identified: INQUIRY vendor and product, or a route (\(KnownDrive.Route.kinds.joined(separator: ", ")))") }
            if model == nil && note == nil {
                fail("\(what) is unsupported (model '-') but gives no reason: name the models.yaml entry that matches it, or say why odflash does not support it")
            }
            drives.append(KnownDrive(table: t.name, file: file, line: line, vendor: vendor, product: product, name: name, model: model,
                                     note: note, source: source, route: route, tableProvenance: t.provenance, origin: origin))
        }
        return DriveTable(name: t.name, provenance: t.provenance, origin: origin, file: file, drives: drives)
    }

    /// "file:12", "file:12-14", "file:12,20-22" (a path without blanks, then line numbers).
    static func isSourcePlace(_ s: String) -> Bool {
        // ASCII (every row of today's tables): the same test on the bytes, without forming Characters.
        if s.utf8.allSatisfy({ $0 < 0x80 }) {
            let u = Array(s.utf8)
            guard let colon = u.lastIndex(of: UInt8(ascii: ":")) else { return false }
            let path = u[..<colon], lines = u[(colon + 1)...]
            func digit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
            return !path.isEmpty && !path.contains(0x20) && !lines.isEmpty && digit(lines.first!)
                && lines.allSatisfy { digit($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ",") }
        }
        guard let colon = s.lastIndex(of: ":") else { return false }
        let path = s[..<colon], lines = s[s.index(after: colon)...]
        return !path.isEmpty && !path.contains(" ") && !lines.isEmpty && lines.first!.isNumber
            && lines.allSatisfy { $0.isNumber || $0 == "-" || $0 == "," }
    }

    /// No two models with the same patterns: the most-specific rule could not choose between them.
    static func checkModelPatterns(_ models: [Model], _ patterns: [InquiryPattern], file: String) -> [DBIssue] {
        var issues: [DBIssue] = []
        var seen: [String: Model] = [:]
        for (m, p) in zip(models, patterns) {
            let key = String(p.vendor) + "\u{1}" + String(p.product) + "\u{1}" + String(p.revision)
            if let o = seen[key] {
                issues.append(DBIssue(file: file, line: m.line, message: "model '\(m.id)' has the same vendor, product and revision patterns as '\(o.id)'\(o.line.map { " (line \($0))" } ?? ""): merge them or make one more specific"))
            } else { seen[key] = m }
        }
        return issues
    }

    /// The drives tables against the models and id tables: every model named exists and matches the row's INQUIRY
    /// strings; an unsupported row is not matched as specifically by a model (it would never be shown) and not
    /// repeated in its table; a row identified by NEC drive ID names the IDs and model of an id table.
    static func checkDrives(_ tables: [DriveTable], models: [Model], _ patterns: [InquiryPattern], idTables: [String: IDTable]) -> [DBIssue] {
        var issues: [DBIssue] = []
        let byID = Dictionary(models.indices.map { (models[$0].id, $0) }, uniquingKeysWith: { a, _ in a })
        // Binflash repeats some IDs for two drives (the second branch is never reached): either name is the table's.
        var idNames: [[String]: [String]] = [:]
        for t in idTables.values { for e in t.entries { idNames[e.ids, default: []].append(e.model) } }
        /// Vendor and product only: a drives-table row carries no revision.
        func covers(_ p: InquiryPattern, _ t: InquiryPattern.Text) -> Bool { Glob.match(p.vendor, t.vendor) && Glob.match(p.product, t.product) }
        for t in tables {
            var seen: [String: Int] = [:]
            for d in t.drives {
                func fail(_ m: String) { issues.append(DBIssue(file: t.file, line: d.line, message: "'\(d.name)': \(m)")) }
                if let v = d.vendor, let p = d.product {
                    // The row's strings without their wildcards, as a drive would report them.
                    let sample = InquiryPattern.Text(vendor: v.filter { $0 != "*" && $0 != "?" }, product: p.filter { $0 != "*" && $0 != "?" }, revision: "")
                    if let id = d.model {
                        guard let i = byID[id] else { fail("names unknown model '\(id)': add it to models.yaml or fix the id"); continue }
                        if !covers(patterns[i], sample) {
                            fail("names model '\(id)', whose patterns ('\(models[i].vendor)' / '\(models[i].product)') do not match '\(v)' / '\(p)': fix the row or the model")
                        }
                    } else {
                        let own = InquiryPattern(vendor: v, product: p, revision: "*")
                        let key = String(own.vendor) + "\u{1}" + String(own.product)
                        if let other = seen[key] { fail("duplicate pattern '\(v)' / '\(p)' (also line \(other)): keep one row") } else { seen[key] = d.line }
                        if let i = patterns.indices.first(where: { patterns[$0].specificity >= own.specificity && covers(patterns[$0], sample) }) {
                            fail("is unsupported, but model '\(models[i].id)' matches '\(v)' / '\(p)' at least as specifically, so this row would never be shown: name '\(models[i].id)' in the model column, or narrow its patterns")
                        }
                    }
                } else if let id = d.model, byID[id] == nil {
                    fail("names unknown model '\(id)': add it to models.yaml or fix the id")
                }
                if case .necID(let ids)? = d.route {
                    if let names = idNames[ids] {
                        if !names.contains(d.name) { fail("the id table names drive IDs \(ids.joined(separator: ",")) '\(names[0])', not '\(d.name)': use the id table's name") }
                    } else {
                        fail("no id table (idtables/*.tsv) lists drive IDs \(ids.joined(separator: ",")): add them there or fix the row")
                    }
                }
            }
        }
        return issues
    }

    /// Where firmware-db lives: --db, $ODFLASH_DB, beside the executable (share/odflash), or the source tree.
    public static func locate(explicit: String?, environment: [String: String], executable: String, cwd: String) -> String? {
        if let e = explicit { return e }
        if let e = environment["ODFLASH_DB"], !e.isEmpty { return e }
        return searchPlaces(executable: executable, cwd: cwd).first { LocalPath.exists($0 + "/models.yaml") }
    }

    /// The folders searched when neither --db nor $ODFLASH_DB names one, in order: <prefix>/share/odflash/firmware-db
    /// for an installed binary (<prefix>/bin/odflash), firmware-db beside the executable and in its parents (a build in
    /// the source tree), then in the current folder.
    public static func searchPlaces(executable: String, cwd: String) -> [String] {
        var candidates: [String] = []
        var dir = PathName.deletingLast(LocalPath.resolvingLinks(executable))
        candidates.append(LocalPath.standardized(dir + "/../share/odflash/firmware-db"))
        for _ in 0..<6 {
            candidates.append((dir == "/" ? "" : dir) + "/firmware-db")
            if dir == "/" { break }
            dir = PathName.deletingLast(dir)
        }
        candidates.append(cwd + "/firmware-db")
        var seen = Set<String>()
        return candidates.filter { seen.insert($0).inserted }
    }

    /// firmware-db's own version and date (the VERSION file at its root: "version: X" and "date: YYYY-MM-DD" lines),
    /// nil when the folder has none.
    public static func versionInfo(root: String) -> (version: String, date: String?)? {
        guard let bytes = try? ImageFile.readFile(root + "/VERSION", max: 1 << 20), let text = String(validating: bytes, as: UTF8.self) else { return nil }
        let fields = versionFields(text) { _, _ in }   // db lint reports the file's problems; here what it says is shown
        guard let v = fields["version"]?.value, !v.isEmpty else { return nil }
        return (v, fields["date"]?.value)
    }

    /// The VERSION file's "version:" and "date:" lines with their line numbers (comments and blank lines skipped; the
    /// last of a key given twice); `problem` hears every other line and every repeated key.
    static func versionFields(_ text: String, problem: (Int, String) -> Void) -> [String: (value: String, line: Int)] {
        var fields: [String: (value: String, line: Int)] = [:]
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingWhitespace
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let colon = line.firstIndex(of: ":"), ["version", "date"].contains(String(line[..<colon])) else {
                problem(i + 1, "expected 'version: ...' or 'date: ...'")
                continue
            }
            let key = String(line[..<colon])
            if fields[key] != nil { problem(i + 1, "'\(key)' is given twice") }
            fields[key] = (line[line.index(after: colon)...].trimmingWhitespace, i + 1)
        }
        return fields
    }
}
