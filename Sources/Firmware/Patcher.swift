// Patching images: media speeds, renames (aliases), strategy swaps, region and book-type byte patches,
// then checksum repair and re-validation. Works on a copy; the caller writes the result only if it validates.

import SCSI

public enum PatchOperation: Equatable, Sendable, CustomStringConvertible {
    /// Set the allowed write speeds of a media code.
    case speed(code: String, speeds: [Double])
    /// Give an existing entry another media ID (it keeps its write strategy).
    case rename(from: String, to: String)
    /// Exchange two entries' strategies (their IDs trade places).
    case swap(String, String)
    case regionFree
    case booktype(media: String, value: String)

    public var description: String {
        switch self {
        case let .speed(c, s): return "speed \(c)=\(s.map(SpeedBits.format).joined(separator: ","))"
        case let .rename(a, b): return "rename \(a)=\(b)"
        case let .swap(a, b): return "swap \(a)<->\(b)"
        case .regionFree: return "region-free"
        case let .booktype(m, v): return "booktype \(m)=\(v)"
        }
    }

    /// Parses the command-line forms: 'CODE=8x,12x', 'OLD=NEW', 'A<->B', 'dvd+r=dvd-rom'. Speeds follow the one
    /// strict grammar of NumberSyntax; a media code holding a control character is refused (named escaped) before
    /// anything else is checked about it.
    public static func speeds(_ s: String) throws(PatchError) -> PatchOperation {
        guard let eq = s.lastIndex(of: "=") else { throw .usage("--speed takes 'CODE=SPEED,SPEED' (e.g. 'MCC-004=8x,12x')") }
        let code = String(s[..<eq]).trimmedSpaces
        guard !code.isEmpty else { throw .usage("--speed takes 'CODE=SPEED,SPEED': the media code is missing") }
        try printable(code, "--speed")
        switch NumberSyntax.speeds(s[s.index(after: eq)...]) {
        case .success(let list): return .speed(code: code, speeds: list)
        case .failure(let e): throw .usage("--speed \(NumberSyntax.escaped(code, max: 40)): \(e)")
        }
    }

    public static func rename(_ s: String) throws(PatchError) -> PatchOperation {
        let parts = s.split(separator: "=", maxSplits: 1).map { $0.trimmedSpaces }
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { throw .usage("--rename takes 'OLDCODE=NEWCODE' (e.g. 'RITEKG05=CMC MAG. AE1')") }
        try printable(parts[0], "--rename"); try printable(parts[1], "--rename")
        return .rename(from: parts[0], to: parts[1])
    }

    /// Media codes are printable text: a control character (ESC, CR, DEL, a C1 code) is refused by name.
    static func printable(_ code: String, _ option: String) throws(PatchError) {
        if let c = NumberSyntax.controlCharacter(in: code) {
            throw .usage("\(option): '\(NumberSyntax.escaped(code, max: 40))' holds the control character \(c); media codes are printable text")
        }
    }

    public static func swap(_ s: String) throws(PatchError) -> PatchOperation {
        let parts = s.split(separator: "<->", omittingEmptySubsequences: false).map { $0.trimmedSpaces }
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { throw .usage("--swap takes 'CODE<->CODE'") }
        try printable(parts[0], "--swap"); try printable(parts[1], "--swap")
        return .swap(parts[0], parts[1])
    }

    public static func booktype(_ s: String) throws(PatchError) -> PatchOperation {
        let parts = s.split(separator: "=", maxSplits: 1).map { $0.trimmedSpaces.lowercased() }
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { throw .usage("--booktype takes 'MEDIA=BOOKTYPE' (e.g. dvd+r=dvd-rom)") }
        try printable(parts[0], "--booktype"); try printable(parts[1], "--booktype")
        return .booktype(media: parts[0], value: parts[1])
    }
}

public enum PatchError: Error, Equatable, CustomStringConvertible {
    case usage(String)
    case unidentified
    case noExactTables(String)
    case heuristicOnly(String)
    case unknownCode(String, known: [String])
    case ambiguousCode(String, matches: [String])
    case notEncodable(String, speeds: [Double], allowed: [Double])
    case tooLong(String, field: String, max: Int)
    case duplicate(String)
    case differentTables(String, String)
    case swapNotDefined(String)
    case noKnownPatch(family: String, what: String)
    case wrongBytes(patch: String, offset: Int?, found: [UInt8], expected: [UInt8])
    case alreadyApplied(String)
    case unverifiableChecksum(String)
    case checksum(String)
    case validationFailed(String)
    case noChange
    /// The input itself is wrong (size, drive ID, bank marker): patching would hide it.
    case invalidInput(String)

    /// A request that cannot mean anything for this image (a code it does not list, a speed its table cannot encode,
    /// a name too long): bad arguments, not a safety refusal.
    public var isBadRequest: Bool {
        switch self {
        case .usage, .unknownCode, .ambiguousCode, .notEncodable, .tooLong, .duplicate, .differentTables, .noChange: return true
        default: return false
        }
    }
    /// The input's stored checksums do not match its contents: repairing them would launder a corrupt image.
    case badChecksumsInInput(String)

    public var description: String {
        switch self {
        case let .usage(m): return m
        case .unidentified: return "the image's family is not known: odflash patches only images whose layout firmware-db describes"
        case let .noExactTables(f): return "\(f) has no media table odflash can locate exactly; speeds and codes cannot be patched"
        case let .heuristicOnly(f): return "\(f)'s media tables are found heuristically only; odflash does not patch a guessed table"
        case let .unknownCode(c, k): return "no media code '\(c)' in the image's tables (known: \(k.prefix(12).joined(separator: ", "))\(k.count > 12 ? ", ..." : ""))"
        case let .ambiguousCode(c, m): return "'\(c)' matches several entries (\(m.joined(separator: ", "))): give MID-TID or MID-TID-RID"
        case let .notEncodable(c, s, a): return "\(c): speeds \(s.map(SpeedBits.format).joined(separator: ",")) cannot be encoded; this table encodes \(a.filter { $0 > 0 }.map(SpeedBits.format).joined(separator: ","))"
        case let .tooLong(v, f, m): return "'\(v)' is too long for the \(f) field (\(m) characters)"
        case let .duplicate(c): return "the table already lists \(c): renaming to it would hide one of the two entries"
        case let .differentTables(a, b): return "\(a) and \(b) are in different tables: strategies can only be swapped within one media type"
        case let .swapNotDefined(t): return "the \(t) table does not tie strategies to entries; no swap is defined for it"
        case let .noKnownPatch(f, w): return "\(f) has no known \(w) patch in firmware-db (odflash never guesses one)"
        case let .wrongBytes(p, o, f, e):
            let at = o.map { Hex.offset($0) } ?? "its search pattern (not found)"
            return "patch \(p) refused: at \(at) the image holds [\(Hex.bytes(f))], expected [\(Hex.bytes(e))] (a different firmware version?)"
        case let .alreadyApplied(p): return "patch \(p) is already applied to this image"
        case let .unverifiableChecksum(c): return "the layout's checksum '\(c)' uses an algorithm that is not public: a modified image could not be given a valid checksum"
        case let .checksum(m): return "checksum repair failed: \(m)"
        case let .validationFailed(m): return "the patched image does not validate (\(m)); nothing was written"
        case .noChange: return "no operation given: say what to patch (--speed, --rename, --swap, --region-free, --booktype)"
        case let .invalidInput(m): return "the input image is not valid (\(m)); odflash does not patch it: start from an intact image"
        case let .badChecksumsInInput(m):
            return "the input image's checksums are already BAD (\(m)): it may be a corrupt download. Start from an intact image, or pass --repair-checksums if you know why they differ"
        }
    }
}

/// What a patch run did.
public struct PatchReport: Sendable, Encodable {
    public struct Change: Sendable, Encodable {
        public let operation: String
        public let target: String
        public let field: String
        public let before: String
        public let after: String
        public let offset: Int
        public let length: Int
    }
    /// A checksum's stored and computed values in the input and in the output.
    public struct ChecksumChange: Sendable, Encodable {
        public let name: String
        public let storedBefore: String?
        public let computedBefore: String?
        public let statusBefore: ChecksumResult.Status
        public let storedAfter: String?
        public let computedAfter: String?
        public let status: ChecksumResult.Status
    }
    public let family: String
    public let layout: String
    public let operations: [String]
    public let changes: [Change]
    public let checksums: [ChecksumChange]
    /// Byte ranges that differ between input and output, [start, end).
    public let changedRanges: [[Int]]
    public let synthetic: Bool
}

public struct Patcher {
    public let inspector: Inspector

    public init(inspector: Inspector) { self.inspector = inspector }

    /// `repairBadChecksums`: the user asked for checksums that are already BAD in the input to be recomputed too;
    /// without it such an input is refused (no laundering of a corrupt image).
    public func apply(_ ops: [PatchOperation], to input: [UInt8], repairBadChecksums: Bool = false) throws(PatchError) -> (image: [UInt8], report: PatchReport) {
        guard !ops.isEmpty else { throw .noChange }
        guard let (layout, _) = inspector.matches(input).first else { throw .unidentified }
        let beforeReport = inspector.inspect(LoadedImage(path: "in", container: "bin", member: nil, bytes: input))
        if !beforeReport.problems.isEmpty { throw .invalidInput(beforeReport.problems.joined(separator: "; ")) }
        let badBefore = beforeReport.checksums.filter { $0.status == .bad }
        if !badBefore.isEmpty && !repairBadChecksums {
            throw .badChecksumsInInput(badBefore.map { "\($0.name): stored \($0.stored ?? "-"), computed \($0.computed ?? "-")" }.joined(separator: "; "))
        }
        var img = input
        var changes: [PatchReport.Change] = []

        for op in ops {
            switch op {
            case let .speed(code, speeds):
                let (table, entry) = try find(code, layout, img)
                guard !table.speedBits.isEmpty, let locs = entry.locations["speed"], !locs.isEmpty else {
                    throw .notEncodable(code, speeds: speeds, allowed: [])
                }
                guard let v = SpeedBits.encode(speeds, table.speedBits) else { throw .notEncodable(code, speeds: speeds, allowed: table.speedBits) }
                for l in locs {
                    changes.append(write(number: v, at: l, in: &img, op: op, target: entry.code, field: "speed",
                                         show: { SpeedBits.decode($0, table.speedBits).map(SpeedBits.format).joined(separator: ",") }))
                }
            case let .rename(from, to):
                let (table, entry) = try find(from, layout, img)
                let q: MediaQuery
                do { q = try MediaQuery(to) } catch { throw .usage("--rename: \(error.description)") }
                if let a = q.atipExact {
                    // A CD-R entry: the new lead-in replaces the old one exactly as typed; its frame digit carries the
                    // dye class (0-4 long, 5-9 short strategy), so it is never rounded.
                    guard let l = entry.locations["atip"]?.first else { throw .usage("\(entry.code) is not a CD-R ATIP entry") }
                    if let clash = table.entries.first(where: { $0.index != entry.index && q.matches($0) }) { throw .duplicate(clash.code) }
                    let old = Array(img[l.offset..<(l.offset + 3)])
                    img.replaceSubrange(l.offset..<(l.offset + 3), with: [a.0, a.1, a.2])
                    changes.append(.init(operation: op.description, target: entry.code, field: "atip",
                                         before: MSF.text(old[0], old[1], old[2]),
                                         after: MSF.text(a.0, a.1, a.2), offset: l.offset, length: 3))
                    continue
                }
                if let clash = table.entries.first(where: { $0.index != entry.index && q.matches($0) && $0.mid.uppercased() == q.mid.uppercased() && ($0.tid.uppercased() == (q.tid ?? $0.tid).uppercased()) }) {
                    throw .duplicate(clash.code)
                }
                for l in entry.locations["mid"] ?? [] { changes.append(try write(text: q.mid, at: l, in: &img, op: op, target: entry.code, field: "mid")) }
                if let t = q.tid {
                    guard let tl = entry.locations["tid"], !tl.isEmpty else { throw .usage("\(table.name) entries have no type ID: give the new code without -TID") }
                    for l in tl { changes.append(try write(text: t, at: l, in: &img, op: op, target: entry.code, field: "tid")) }
                }
            case let .swap(a, b):
                let (ta, ea) = try find(a, layout, img)
                let (tb, eb) = try find(b, layout, img)
                guard ta.offset == tb.offset else { throw .differentTables(ea.code, eb.code) }
                guard ta.strategyByIndex else { throw .swapNotDefined(ta.name) }
                // Exchange the ID fields: each code now selects the other's strategy (its index); speeds stay with the index.
                for field in ["mid", "tid", "rid"] {
                    guard let la = ea.locations[field], let lb = eb.locations[field] else { continue }
                    for (x, y) in zip(la, lb) {
                        let bx = Array(img[x.offset..<(x.offset + x.byteCount)]), by = Array(img[y.offset..<(y.offset + y.byteCount)])
                        if bx == by { continue }   // equal fields (e.g. both revisions 00): nothing to exchange
                        img.replaceSubrange(x.offset..<(x.offset + x.byteCount), with: by)
                        img.replaceSubrange(y.offset..<(y.offset + y.byteCount), with: bx)
                        changes.append(.init(operation: op.description, target: ea.code, field: field, before: describe(bx, x.encoding),
                                             after: describe(by, x.encoding), offset: x.offset, length: x.byteCount))
                        changes.append(.init(operation: op.description, target: eb.code, field: field, before: describe(by, y.encoding),
                                             after: describe(bx, y.encoding), offset: y.offset, length: y.byteCount))
                    }
                }
            case .regionFree:
                let p = try patch(layout, "region") { if case .region = $0.kind { return true }; return false }
                changes.append(try applyBytes(p, &img, op))
            case let .booktype(media, value):
                let p = try patch(layout, "book-type \(media)=\(value)") {
                    if case let .booktype(m, v) = $0.kind { return m == media && v == value }; return false
                }
                changes.append(try applyBytes(p, &img, op))
            }
        }

        // Checksums: every one must be recomputable, then the output must validate as the same layout.
        for c in layout.checksums { if case .unknown = c.algorithm { throw .unverifiableChecksum(c.name) } }
        let before = beforeReport.checksums
        do { img = try ChecksumEngine.repair(layout.checksums, image: img) } catch { throw .checksum(error.description) }
        let after = inspector.inspect(LoadedImage(path: "out", container: "bin", member: nil, bytes: img))
        guard after.identity?.layout == layout.id, after.identity?.family == layout.family else {
            throw .validationFailed("it is no longer recognised as \(layout.family)/\(layout.id)")
        }
        guard after.valid != false else {
            throw .validationFailed((after.problems + after.checksums.filter { $0.status != .ok }.map { "\($0.name) \($0.status.rawValue)" }).joined(separator: ", "))
        }
        // The tables must still be found where they were, with as many entries (a rename must not hide a table's marker).
        let tablesBefore = MediaTableReader.tables(of: layout, image: input)
        let tablesAfter = MediaTableReader.tables(of: layout, image: img)
        guard tablesBefore.map({ "\($0.name)@\($0.offset):\($0.entries.count)" }) == tablesAfter.map({ "\($0.name)@\($0.offset):\($0.entries.count)" }) else {
            throw .validationFailed("the media tables can no longer be located as before (a code the layout uses to find them was changed)")
        }
        let sums = layout.checksums.map { c in
            let b = before.first { $0.name == c.name }, a = after.checksums.first { $0.name == c.name }
            return PatchReport.ChecksumChange(name: c.name, storedBefore: b?.stored, computedBefore: b?.computed, statusBefore: b?.status ?? .bad,
                                              storedAfter: a?.stored, computedAfter: a?.computed, status: a?.status ?? .bad)
        }
        return (img, PatchReport(family: layout.family, layout: layout.id, operations: ops.map(\.description), changes: changes,
                                 checksums: sums, changedRanges: Patcher.ranges(input, img), synthetic: layout.synthetic))
    }

    /// Exact tables only: a guessed table is never written to.
    func find(_ code: String, _ layout: ImageLayout, _ img: [UInt8]) throws(PatchError) -> (MediaTable, MediaEntry) {
        let tables = MediaTableReader.tables(of: layout, image: img)
        if tables.isEmpty {
            throw layout.mediaTables.isEmpty ? (HeuristicScanner.scan(img).isEmpty ? .noExactTables(layout.family) : .heuristicOnly(layout.family))
                                             : .noExactTables(layout.family)
        }
        let q: MediaQuery
        do { q = try MediaQuery(code) } catch { throw .usage(error.description) }
        var hits: [(MediaTable, MediaEntry)] = []
        for t in tables { for e in t.entries where q.matches(e) || e.code.equalsIgnoringCase(code) { hits.append((t, e)) } }
        // An exact full code wins over prefix matches.
        if let exact = hits.first(where: { $0.1.code.equalsIgnoringCase(code) }) { return exact }
        guard let first = hits.first else { throw .unknownCode(code, known: tables.flatMap { $0.entries.map(\.code) }) }
        guard hits.count == 1 else { throw .ambiguousCode(code, matches: hits.map { "\($0.1.type.rawValue) \($0.1.code)" }) }
        // A CD-R code names the entry exactly as stored: a lead-in whose frame digit differs (matched through the
        // manufacturer code) is another dye class, so the entry is not patched in its name without being named.
        if let a = q.atipExact, first.1.code != MSF.text(a.0, a.1, a.2) {
            let typed = MSF.text(a.0, a.1, a.2)
            throw .usage("\(typed) is not in the table as typed: the entry for its manufacturer code is \(first.1.code) (frame digit \(first.1.code.last.map(String.init) ?? "?"): \(ATIPDye.name(first.1.code)); you typed \(typed.last.map(String.init) ?? "?"): \(ATIPDye.name(typed))). Name the entry as stored: \(first.1.code)")
        }
        return first
    }

    func patch(_ layout: ImageLayout, _ what: String, _ match: (BytePatch) -> Bool) throws(PatchError) -> BytePatch {
        guard let p = layout.patches.first(where: match) else { throw .noKnownPatch(family: "\(layout.family)/\(layout.id)", what: what) }
        return p
    }

    func applyBytes(_ p: BytePatch, _ img: inout [UInt8], _ op: PatchOperation) throws(PatchError) -> PatchReport.Change {
        let (at, state) = p.state(in: img)
        switch state {
        case .patched: throw .alreadyApplied(p.id)
        case .unknown:
            let found = at.map { Array(img[$0..<min(img.count, $0 + p.original.count)]) } ?? []
            throw .wrongBytes(patch: p.id, offset: at, found: found, expected: p.original)
        case .original:
            let o = at!
            img.replaceSubrange(o..<(o + p.replacement.count), with: p.replacement)
            return .init(operation: op.description, target: p.id, field: "bytes", before: Hex.bytes(p.original), after: Hex.bytes(p.replacement),
                         offset: o, length: p.replacement.count)
        }
    }

    func write(number v: Int, at l: FieldLocation, in img: inout [UInt8], op: PatchOperation, target: String, field: String,
               show: (Int) -> String) -> PatchReport.Change {
        guard case let .unit(u) = l.encoding else { return .init(operation: op.description, target: target, field: field, before: "", after: "", offset: l.offset, length: 0) }
        let old = Int(u.read(img, l.offset) ?? 0)
        u.write(UInt64(v), into: &img, at: l.offset)
        return .init(operation: op.description, target: target, field: field, before: show(old), after: show(v), offset: l.offset, length: u.size)
    }

    func write(text: String, at l: FieldLocation, in img: inout [UInt8], op: PatchOperation, target: String, field: String) throws(PatchError) -> PatchReport.Change {
        let chars = Array(text.utf8)
        guard chars.count <= l.length else { throw .tooLong(text, field: field, max: l.length) }
        guard chars.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { throw .usage("'\(text)' must be printable ASCII") }
        let old = Array(img[l.offset..<(l.offset + l.byteCount)])
        var new = [UInt8](repeating: 0, count: l.byteCount)
        for (k, c) in chars.enumerated() {
            if case .utf16 = l.encoding { new[2 * k + 1] = c } else { new[k] = c }
        }
        img.replaceSubrange(l.offset..<(l.offset + l.byteCount), with: new)
        return .init(operation: op.description, target: target, field: field, before: describe(old, l.encoding), after: describe(new, l.encoding),
                     offset: l.offset, length: l.byteCount)
    }

    func describe(_ b: [UInt8], _ e: FieldLocation.Encoding) -> String {
        switch e {
        case .ascii: return FieldDecoder.text(b, .ascii)
        case .utf16: return FieldDecoder.text(b, .utf16be)
        case let .unit(u): return Hex.offset(u.read(b, 0) ?? 0)
        }
    }

    /// Exact changed runs as [start, end) pairs.
    public static func ranges(_ a: [UInt8], _ b: [UInt8]) -> [[Int]] {
        ImageDiff.byteRanges(a, b, mergeGap: 1).0.map { [$0.start, $0.end] }
    }
}

/// The dye class a CD-R code's lead-in frame digit stands for (0-4 long strategy, 5-9 short strategy; cdrkit, libburn).
enum ATIPDye {
    static func name(_ code: String) -> String {
        guard let f = code.split(separator: ":").last.flatMap({ Int($0) }) else { return "unknown dye class" }
        return f % 10 >= 5 ? "short strategy" : "long strategy"
    }
}
