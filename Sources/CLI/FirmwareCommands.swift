import Operations
import ArgumentParser
import Firmware
import FirmwareDB
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import SCSI

struct FWCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fw", abstract: "Inspect, compare and generate firmware images.",
        subcommands: [Inspect.self, Diff.self, Patch.self, Generate.self, Members.self])
}

/// The image tools share the database-derived Inspector and the db lookups of models.
extension Context {
    func inspector(heuristicAlways: Bool = false) throws -> (FirmwareDatabase, Inspector) {
        let db = try database()
        var insp = Inspector(layouts: db.layouts, idTables: db.idTables)
        insp.alwaysHeuristic = heuristicAlways
        return (db, insp)
    }

    func loadImage(_ path: String, member: String?) throws -> LoadedImage {
        inputs.append(path)
        let loaded: LoadedImage
        do { loaded = try ImageFile.load(path, member: member) }
        catch { throw CLIError(error.description, kind: .input) }
        if let m = member, loaded.container != "zip" {
            throw CLIError("--member \(m) applies to zip archives; \(path) is not one", kind: .usage)
        }
        return loaded
    }
}

/// firmware-db models an image is for: by its INQUIRY strings, its embedded model/config ID, or its drive ID.
func modelsFor(_ r: InspectReport, _ db: FirmwareDatabase) -> [String] {
    var out: [String] = []
    if let v = r.vendor, let p = r.product, let m = db.match(vendor: v, product: p, revision: "*") { out.append(m.name) }
    for id in r.modelIDs {
        for m in db.models where m.isNamed(byImageID: id) { out.append(m.name) }
    }
    out += r.models.map { "\($0) (by its ID table)" }
    var seen = Set<String>()
    return out.filter { seen.insert($0).inserted }
}

struct InspectOutput: Encodable {
    let identified: Bool
    let valid: Bool?
    let verdict: String
    let image: InspectReport
    let family: String?
    let familyName: String?
    let familyStatus: [String: String]?
    let firmwareDBModels: [String]
    let region: String
    let bitsetting: String

    enum CodingKeys: String, CodingKey {
        case identified, valid, verdict, image, family, familyName, familyStatus, firmwareDBModels, region, bitsetting
    }

    /// `valid` is always present (null: nothing verifiable); `family` is "unknown" for an unidentified image.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(identified, forKey: .identified)
        if let v = valid { try c.encode(v, forKey: .valid) } else { try c.encodeNil(forKey: .valid) }
        try c.encode(verdict, forKey: .verdict)
        try c.encode(image, forKey: .image)
        try c.encode(family ?? "unknown", forKey: .family)
        try c.encodeIfPresent(familyName, forKey: .familyName)
        try c.encodeIfPresent(familyStatus, forKey: .familyStatus)
        try c.encode(firmwareDBModels, forKey: .firmwareDBModels)
        try c.encode(region, forKey: .region)
        try c.encode(bitsetting, forKey: .bitsetting)
    }
}

extension FWCommand {
    struct Inspect: ODCommand {
        static let configuration = CommandConfiguration(
            commandName: "inspect",
            abstract: "Show an image's family, model, version, checksums, media tables, region and bitsetting state.",
            discussion: "IMAGE may be a .bin, a .gz or a .zip (vendor downloads); pick a zip member with --member.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The firmware image (.bin, .gz, .zip).") var image: String
        @Option(help: "The member of a zip archive to inspect.") var member: String?
        @Flag(help: "Also run the heuristic media-table scanner when the layout's tables are known.") var heuristic = false
        @Flag(help: "List every media-table entry (default: the first 40 of each table).") var allEntries = false

        func run(_ ctx: Context) throws {
            // Read the image and start hashing it before the database loads: the two overlap on two cores.
            ctx.mark("start")
            let loaded = try ctx.loadImage(image, member: member)
            let digest = BackgroundDigest(loaded.bytes)
            ctx.mark("image read")
            let (db, insp) = try ctx.inspector(heuristicAlways: heuristic)
            ctx.mark("database loaded")
            let r = insp.inspect(loaded, digest: digest)
            ctx.mark("inspected")
            let fam = r.identity.flatMap { db.family($0.family) }
            let out = InspectOutput(
                identified: r.identified, valid: r.valid, verdict: r.verdict, image: r, family: fam?.id, familyName: fam?.name,
                familyStatus: fam.map { Dictionary(uniqueKeysWithValues: $0.status.map { ($0.key.rawValue, $0.value.rawValue) }) },
                firmwareDBModels: modelsFor(r, db),
                region: Inspect.patchState(r, region: true, fam?.id),
                bitsetting: Inspect.patchState(r, region: false, fam?.id))
            ctx.emit(out, text: Inspect.text(out, all: allEntries))
            ctx.mark("printed")
            // Exit 1: the image was examined and found wrong (README's exit table).
            if r.valid == false { throw ExitCode(1) }
        }

        static func patchState(_ r: InspectReport, region: Bool, _ family: String?) -> String {
            let ps = r.patches.filter { region ? $0.kind.isRegion : $0.kind.isBooktype }
            guard !ps.isEmpty else {
                return "no \(region ? "region" : "book-type") patch is defined for \(family ?? "an unidentified image") in firmware-db"
            }
            return ps.map { "\($0.kind): \($0.state.rawValue)\($0.offset.map { " at \(Hex.offset($0))" } ?? "")\($0.synthetic ? " [synthetic patch]" : "")" }
                .joined(separator: "; ")
        }

        static func text(_ o: InspectOutput, all: Bool) -> String {
            let r = o.image
            var kv = KeyValues()
            kv.add("File", "\(r.member.map { "\(r.file) -> \($0)" } ?? r.file) (\(r.size) bytes, \(r.container))")
            kv.add("SHA-256", r.sha256)
            if let id = r.identity {
                kv.add("Family", "\(id.family) (\(o.familyName ?? "")), layout \(id.layout)\(id.synthetic ? " [SYNTHETIC/UNVERIFIED]" : "")")
                kv.add("Layout", id.layoutName)
                kv.add("Identified by", id.identifiedBy.rawValue)
                kv.add("Provenance", id.provenance)
            } else {
                kv.add("Family", "unknown: no firmware-db layout matches this image (size, signatures, checksums)")
            }
            kv.add("Vendor", r.vendor)
            kv.add("Product", r.product)
            kv.add("Version", r.version ?? (r.identity == nil ? nil : "not located (no public fact for this layout)"))
            for f in r.fields where ![FieldRole.vendor, .product, .revision, .version, .bootcode].contains(f.role) {
                kv.add(f.name.prefix(1).uppercased() + f.name.dropFirst(), f.value + (f.names.map { " -> \($0)" } ?? ""))
            }
            kv.add("Bootcode", r.identity == nil ? nil : (r.bootcode ?? "none in this image"))
            kv.add("Models", o.firmwareDBModels.isEmpty ? (r.identity == nil ? nil : "none in firmware-db") : o.firmwareDBModels.joined(separator: ", "))
            kv.add("Valid", r.verdict)
            var s = kv.text
            if !r.checksums.isEmpty {
                s += "Checksums:\n" + TextTable.render(["  NAME", "STATUS", "STORED", "COMPUTED", "ALGORITHM"],
                    r.checksums.map { ["  " + $0.name, $0.status.rawValue, $0.stored ?? "-", $0.computed ?? "-",
                                       $0.algorithm + ($0.firstDifference.map { " (first difference at \(Hex.offset($0)))" } ?? "")] }, width: TextTable.width)
            }
            if r.mediaTables.isEmpty {
                s += "Media tables:     none found\n"
            } else {
                s += "Media tables:\n"
                for t in r.mediaTables {
                    let kind = t.heuristic ? "HEURISTIC, confidence \(t.confidence ?? 0): \(t.reason ?? "")" : "exact"
                    s += "  \(t.name) at \(Hex.offset(t.offset)), \(t.count) entries of \(t.stride) bytes (\(kind))\n"
                    let shown = all ? t.entries : Array(t.entries.prefix(40))
                    s += TextTable.render(["    TYPE", "CODE", "SPEEDS", "OFFSET"], shown.map {
                        ["    " + $0.type, $0.code + ($0.leadOut.map { " (lead-out \($0))" } ?? ""),
                         $0.speeds.isEmpty ? ($0.speedRaw.map { "none (\($0))" } ?? "-") : $0.speeds.joined(separator: ","),
                         Hex.offset($0.offset)]
                    }, width: TextTable.width)
                    if shown.count < t.entries.count { s += "    ... \(t.entries.count - shown.count) more (--all-entries)\n" }
                }
            }
            s += "Region:           \(o.region)\nBitsetting:       \(o.bitsetting)\n"
            for w in r.warnings { s += "warning: \(w)\n" }
            return s
        }
    }

    struct Diff: ODCommand {
        static let configuration = CommandConfiguration(commandName: "diff", abstract: "Compare two images: version, media codes, speeds, changed byte ranges.",
                                                        discussion: "Exits 0 when the images are identical and 1 when they differ.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The old image.") var a: String
        @Argument(help: "The new image.") var b: String
        @Option(help: "Show at most this many changed ranges (0-1000000).") var maxRanges = "40"

        static func word(_ v: Bool?) -> String { v.map { $0 ? "valid" : "NOT valid" } ?? "not verifiable" }

        typealias MediaChange = ImageDiff.MediaChange
        typealias RangeChange = ImageDiff.RangeChange
        struct Report: Encodable {
            let a: String, b: String
            let familyA: String?, familyB: String?
            let versionA: String?, versionB: String?
            let sizeA: Int, sizeB: Int
            let validA: Bool?, validB: Bool?
            let media: [MediaChange]
            let changedBytes: Int
            let changedRanges: Int
            let ranges: [RangeChange]
            let identical: Bool
        }

        func run(_ ctx: Context) throws {
            let maxRanges = try CLINumber.integer(maxRanges, option: "--max-ranges", 0...1_000_000)
            let (_, insp) = try ctx.inspector()
            let la = try ctx.loadImage(a, member: nil), lb = try ctx.loadImage(b, member: nil)
            let ra = insp.inspect(la), rb = insp.inspect(lb)
            let media = ImageDiff.mediaChanges(ra, rb)
            let (ranges, changed) = ImageDiff.byteRanges(la.bytes, lb.bytes, mergeGap: 16)
            let rep = Report(a: a, b: b, familyA: ra.identity.map { "\($0.family)/\($0.layout)" }, familyB: rb.identity.map { "\($0.family)/\($0.layout)" },
                             versionA: ra.version, versionB: rb.version, sizeA: la.bytes.count, sizeB: lb.bytes.count,
                             validA: ra.valid, validB: rb.valid, media: media, changedBytes: changed, changedRanges: ranges.count,
                             ranges: Array(ranges.prefix(maxRanges)), identical: la.bytes == lb.bytes)
            ctx.emit(rep, text: Diff.text(rep))
            // Exit 1: the files differ (README's exit table, as cmp and diff do).
            if !rep.identical { throw ExitCode(ExitStatus.failed.rawValue) }
        }

        static func text(_ r: Report) -> String {
            var kv = KeyValues()
            kv.add("Old", "\(r.a): \(r.familyA ?? "unknown family"), version \(r.versionA ?? "?"), \(r.sizeA) bytes, \(Diff.word(r.validA))")
            kv.add("New", "\(r.b): \(r.familyB ?? "unknown family"), version \(r.versionB ?? "?"), \(r.sizeB) bytes, \(Diff.word(r.validB))")
            if r.versionA != r.versionB { kv.add("Version", "\(r.versionA ?? "?") -> \(r.versionB ?? "?")") }
            kv.add("Changed", r.identical ? "nothing: the images are identical" : "\(r.changedBytes) bytes in \(r.changedRanges) ranges")
            var s = kv.text
            if !r.media.isEmpty {
                s += "Media codes:\n" + TextTable.render(["  CHANGE", "TYPE", "CODE", "BEFORE", "AFTER"], r.media.map {
                    ["  " + $0.change, $0.type, $0.code, $0.before?.joined(separator: ",") ?? "-", $0.after?.joined(separator: ",") ?? "-"]
                })
            }
            if !r.ranges.isEmpty {
                s += "Changed byte ranges:\n" + TextTable.render(["  START", "END", "LENGTH"], r.ranges.map {
                    ["  " + Hex.offset($0.start), Hex.offset($0.end), "\($0.length)"]
                })
                if r.changedRanges > r.ranges.count { s += "  ... \(r.changedRanges - r.ranges.count) more ranges (--max-ranges)\n" }
            }
            return s
        }
    }

    struct Patch: ODCommand {
        static let configuration = CommandConfiguration(
            commandName: "patch",
            abstract: "Patch media speeds, codes, strategies, region and book type; repair checksums; write only a validating image.",
            discussion: """
            Operations combine in one run and apply in order:
              --speed 'MCC-004=8x,12x,16x'       allowed write speeds of a code (within what the table can encode)
              --rename 'RITEKG05=CMC MAG. AE1'   give an entry another media ID; it keeps its write strategy (MCSE-style alias)
              --swap 'MCC-004<->YUDEN000-T02'    exchange two entries' strategies (IDs trade places)
              --region-free, --booktype dvd+r=dvd-rom   only where firmware-db defines the byte patch for the family
            Only tables that the family's layout locates exactly are patched; heuristic tables never are.
            """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The input image (.bin, .gz, .zip); it is never modified.") var input: String
        @Option(name: .shortAndLong, help: "Where to write the patched image.") var output: String?
        @Option(help: "A zip member to patch.") var member: String?
        @Option(help: "Set speeds: 'CODE=SPEED,SPEED'.") var speed: [String] = []
        @Option(help: "Rename: 'OLDCODE=NEWCODE'.") var rename: [String] = []
        @Option(help: "Swap strategies: 'CODE<->CODE'.") var swap: [String] = []
        @Flag(help: "Apply the family's region-free patch.") var regionFree = false
        @Option(help: "Book type: 'MEDIA=BOOKTYPE' (e.g. dvd+r=dvd-rom).") var booktype: [String] = []
        @Flag(help: "Show what would change; write nothing.") var dryRun = false
        @Flag(help: "Replace OUTPUT if it exists.") var forceOverwrite = false
        @Flag(help: "Also recompute checksums that are already BAD in the input (refused without it: a BAD checksum may mean a corrupt download).")
        var repairChecksums = false

        struct Out: Encodable {
            let input: String
            let output: String?
            let written: Bool
            let report: PatchReport
        }

        func operations() throws -> [PatchOperation] {
            // Keep the order the user gave within each kind; kinds apply speed, rename, swap, region, booktype.
            do {
                var ops: [PatchOperation] = []
                ops += try speed.map { s throws(PatchError) in try PatchOperation.speeds(s) }
                ops += try rename.map { s throws(PatchError) in try PatchOperation.rename(s) }
                ops += try swap.map { s throws(PatchError) in try PatchOperation.swap(s) }
                if regionFree { ops.append(.regionFree) }
                ops += try booktype.map { s throws(PatchError) in try PatchOperation.booktype(s) }
                return ops
            } catch { throw CLIError(error.description, kind: .usage) }
        }

        func run(_ ctx: Context) throws {
            let ops = try operations()
            guard !ops.isEmpty else { throw CLIError(PatchError.noChange.description, kind: .usage) }
            guard dryRun || output != nil else { throw CLIError("give -o OUTPUT (or --dry-run)", kind: .usage) }
            if let o = output {
                let inReal = URL(fileURLWithPath: input).resolvingSymlinksInPath().path
                let outReal = URL(fileURLWithPath: o).resolvingSymlinksInPath().path
                if inReal == outReal || FileIdentity.wouldOverwrite(o, anyOf: [input]) {
                    throw CLIError("the output is the input: odflash never modifies its input", kind: .usage)
                }
                // A folder, a link, a device node or a FIFO is never an output (exit 2), whatever --force-overwrite says.
                if !dryRun, let problem = AtomicFile.targetProblem(o).problem { throw problem }
                if !dryRun && !forceOverwrite && FileName.exists(o) {
                    throw CLIError("\(o) exists; refusing to overwrite it (use --force-overwrite)", kind: .outputExists)
                }
            }
            let loaded = try ctx.loadImage(input, member: member)
            let (db, insp) = try ctx.inspector()
            let result: (image: [UInt8], report: PatchReport)
            do { result = try Patcher(inspector: insp).apply(ops, to: loaded.bytes, repairBadChecksums: repairChecksums) }
            catch { throw CLIError(error.description, kind: error.isBadRequest ? .usage : .refused) }
            if !dryRun, let o = output {
                try AtomicFile.write(Data(result.image), to: o, overwrite: forceOverwrite)
            }
            let fam = db.family(result.report.family)
            if result.report.synthetic || fam?.synthetic == true { ctx.warn("\(result.report.family) is a SYNTHETIC family: this image is for tests only") }
            ctx.emit(Out(input: input, output: output, written: !dryRun, report: result.report), text: Patch.text(result.report, output: dryRun ? nil : output))
        }

        static func text(_ r: PatchReport, output: String?) -> String {
            var s = "\(r.family)/\(r.layout)\(r.synthetic ? " [SYNTHETIC]" : ""): " + r.operations.joined(separator: "; ") + "\n"
            s += TextTable.render(["  TARGET", "FIELD", "BEFORE", "AFTER", "OFFSET"], r.changes.map {
                ["  " + $0.target, $0.field, $0.before, $0.after, Hex.offset($0.offset)]
            })
            s += "Checksums (stored / computed):\n" + TextTable.render(["  NAME", "BEFORE", "AFTER", "STATUS"], r.checksums.map {
                ["  " + $0.name, "\($0.storedBefore ?? "-") / \($0.computedBefore ?? "-") \($0.statusBefore.rawValue)",
                 "\($0.storedAfter ?? "-") / \($0.computedAfter ?? "-")", $0.status.rawValue]
            })
            s += "Changed byte ranges: " + r.changedRanges.map { "\(Hex.offset($0[0]))-\(Hex.offset($0[1]))" }.joined(separator: ", ") + "\n"
            let verified = r.checksums.isEmpty ? "re-inspected: same layout, tables where they were; the layout has no checksum"
                : "re-inspected: same layout, every checksum OK"
            s += output.map { "wrote \($0): \(verified)\n" } ?? "dry run: nothing written\n"
            return s
        }
    }

    struct Generate: ODCommand {
        static let configuration = CommandConfiguration(
            commandName: "generate",
            abstract: "Write SYNTHETIC images from a family's layout (for tests and benchmarks; never real firmware).",
            discussion: "With --count N, OUTPUT is a folder and N images are written there (seeds SEED ... SEED+N-1); --family all cycles through every layout of every family.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Family id (the files in firmware-db/families), or 'all'.") var family: String
        @Option(help: "Layout id within the family (default: its first).") var layout: String?
        @Option(help: "Seed for the filler bytes (a 64-bit number, decimal or 0x hex).") var seed = "1"
        @Option(help: "Image size for layouts without a fixed size (decimal or 0x hex, 1 byte to 64 MiB).") var size: String?
        @Option(help: "How many images, 1-10000 (OUTPUT is then a folder).") var count = "1"
        @Option(help: "Embed a CD-R ATIP table: comma-separated lead-in times, e.g. 97:26:60,97:24:00.") var cdr: String?
        @Option(help: "Vendor string to embed where the layout has one.") var vendor: String?
        @Option(help: "Product string to embed where the layout has one.") var product: String?
        @Option(help: "Revision string to embed where the layout has one.") var revision: String?
        @Option(help: "Drive ID to embed where the layout has one (NEC: 4 characters, e.g. G245).") var driveId: String?
        @Option(help: "Boot code to embed where the layout has one (NEC: 2 characters, e.g. 08).") var bootcode: String?
        @Option(help: "Config/model ID to embed where the layout has one (e.g. 'MT1959 Boot BU5 ').") var configId: String?
        @Option(help: "A layout field by name: 'NAME=VALUE' (e.g. chip-tag=MTEKMT1939, downgrade-enable=DE on mediatek-mt1959).") var field: [String] = []
        @Option(name: .shortAndLong, help: "Output file (or folder with --count).") var output: String
        @Flag(help: "Replace existing files.") var forceOverwrite = false

        func run(_ ctx: Context) throws {
            var r = ImageGenerator.Request(family: family, output: output)
            for f in field {
                guard let eq = f.firstIndex(of: "="), eq != f.startIndex else { throw CLIError("--field: '\(f)' is not NAME=VALUE", kind: .usage) }
                r.fields[String(f[..<eq])] = String(f[f.index(after: eq)...])
            }
            let count = try CLINumber.integer(count, option: "--count", 1...10_000)
            r.layout = layout; r.seed = try CLINumber.unsigned(seed, option: "--seed"); r.count = count; r.overwrite = forceOverwrite
            r.size = try size.map { try CLINumber.integer($0, option: "--size", 1...(64 << 20), hex: true, unit: "bytes") }
            r.cdr = try cdr.map(ImageGenerator.parseCDR)
            r.vendor = vendor; r.product = product; r.revision = revision; r.driveID = driveId; r.bootcode = bootcode; r.configID = configId
            let outs = try ImageGenerator(db: try ctx.database()).run(r)
            if count == 1, let o = outs.first {
                ctx.emit(o, text: "wrote \(o.output): SYNTHETIC \(o.family)/\(o.layout) image, \(o.size) bytes, sha256 \(o.sha256)\n")
            } else {
                ctx.emit(outs, text: "wrote \(outs.count) SYNTHETIC images to \(output)\n")
            }
        }
    }

    struct Members: ODCommand {
        static let readsFirmwareDB = false
        static let configuration = CommandConfiguration(commandName: "members", abstract: "List the members of a zip archive.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The zip archive.") var archive: String

        func run(_ ctx: Context) throws {
            struct M: Encodable { let name: String; let size: Int }
            let list: [M]
            do { list = try ImageFile.zipMembers(archive).map { M(name: $0.name, size: $0.size) } }
            catch { throw CLIError(error.description, kind: .input) }
            ctx.emit(list, text: TextTable.render(["MEMBER", "SIZE"], list.map { [$0.name, "\($0.size)"] }))
        }
    }
}
