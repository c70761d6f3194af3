import Firmware
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import YAML
import SCSI

/// Parses the image layouts of a family file (the `images:` list) into Firmware's descriptors.
enum LayoutParser {
    static let layoutKeys = ["id", "name", "provenance", "synthetic", "sizes", "min_size", "max_size", "signatures",
                             "identify_by_checksum", "size_field", "bank_start_byte", "fields", "checksums", "media_tables", "notes", "patches",
                             "structure"]
    static let patchKeys = ["id", "kind", "media", "booktype", "provenance", "synthetic", "offset", "search_from", "search_to",
                            "ascii", "hex", "delta", "original", "replacement"]
    static let signatureKeys = ["name", "offset", "search_from", "search_to", "ascii", "hex", "utf16", "optional", "fallback_hex"]
    static let fieldKeys = ["name", "role", "offset", "anchor", "length", "encoding", "sizes", "lookup", "expect", "example", "identifies"]
    static let checksumKeys = ["name", "algorithm", "unit", "initial", "width", "transform", "ranges", "stored", "zero_sum",
                               "not_stored", "stride", "table", "provenance", "entries", "entry_size", "key_hex"]
    static let recordKeys = ["kind", "name", "type", "offset", "count", "count_field", "stride", "mid", "tid", "rid", "speed",
                             "speed_bits", "atip_lead_out", "provenance", "synthetic", "strategy_by_index"]

    static func layout(_ e: Entry, family: String, familyProvenance: String, familySynthetic: Bool, _ issues: inout [DBIssue]) -> ImageLayout? {
        e.checkKeys(layoutKeys, issues: &issues)
        guard let id = e.string("id", issues: &issues), let name = e.string("name", issues: &issues) else { return nil }
        let prov = e.string("provenance", required: false, issues: &issues) ?? familyProvenance
        let synthetic = (e.bool("synthetic", issues: &issues) ?? false) || familySynthetic
        if synthetic && !prov.lowercased().contains("synthetic") { issues.append(e.fail("synthetic layouts must say 'synthetic' in their provenance")) }
        let sizes = e.intList("sizes", Limit.size, maxCount: 64, issues: &issues) ?? []
        let minSize = e.int("min_size", Limit.size, issues: &issues) ?? 1
        if sizes.isEmpty && e.fields?["min_size"] == nil { issues.append(e.fail("needs 'sizes' or 'min_size'")) }
        var layout = ImageLayout(id: id, family: family, name: name, provenance: prov, synthetic: synthetic, sizes: sizes, minSize: minSize,
                                 maxSize: e.int("max_size", Limit.size, issues: &issues),
                                 identifyByChecksum: e.bool("identify_by_checksum", issues: &issues) ?? false,
                                 notes: e.string("notes", required: false, issues: &issues))
        // The largest image of this layout: every fixed place in it must lie inside.
        let bound = sizes.max() ?? layout.maxSize ?? Limit.image
        if let b = e.int("bank_start_byte", Limit.byte, issues: &issues) { layout.bankStartByte = UInt8(b) }
        if let st = e.string("structure", required: false, issues: &issues) {
            if let v = ImageLayout.Structure(rawValue: st) { layout.structure = v }
            else { issues.append(e.fail("structure '\(st)' is not one of \(ImageLayout.Structure.allCases.map(\.rawValue).joined(separator: ", "))")) }
        }
        if let sf = e.child("size_field", "size_field") {
            sf.checkKeys(["offset", "unit", "delta"], issues: &issues)
            if let o = sf.int("offset", Limit.place, required: true, issues: &issues), let u = unit(sf, "unit", &issues), sf.fits("offset", at: o, bytes: u.size, in: bound, &issues) {
                layout.sizeField = .init(offset: o, unit: u, delta: sf.int("delta", Limit.signedPlace, issues: &issues) ?? 0)
            }
        }
        for s in e.children("signatures", issues: &issues) { if let sig = signature(s, bound, &issues) { layout.signatures.append(sig) } }
        for f in e.children("fields", issues: &issues) { if let fs = field(f, bound, &issues) { layout.fields.append(fs) } }
        for c in e.children("checksums", issues: &issues) { if let cs = checksum(c, bound, smallest: sizes.min(), &issues) { layout.checksums.append(cs) } }
        for m in e.children("media_tables", issues: &issues) { if let ms = mediaTable(m, bound, &issues) { layout.mediaTables.append(ms) } }
        for p in e.children("patches", issues: &issues) { if let bp = patch(p, layoutSynthetic: synthetic, bound, &issues) { layout.patches.append(bp) } }

        // Cross-checks within the layout.
        let sigNames = Set(layout.signatures.map(\.name))
        for f in layout.fields where f.anchor != nil && !sigNames.contains(f.anchor!) {
            issues.append(e.fail("field '\(f.name)' is anchored to an unknown signature '\(f.anchor!)'"))
        }
        if let maxExact = sizes.max(), sizes.count > 0 {
            let minExact = sizes.min()!
            for c in layout.checksums {
                for r in c.ranges where r.resolved(size: minExact) == nil || r.resolved(size: maxExact) == nil {
                    issues.append(e.fail("checksum '\(c.name)' range \(r) does not fit the layout's sizes"))
                }
                if case let .stored(o, u) = c.storage, o + u.size > minExact { issues.append(e.fail("checksum '\(c.name)' is stored past the end of a \(minExact)-byte image")) }
                if case let .stored(o, u) = c.storage, case .sum = c.algorithm,
                   c.ranges.contains(where: { $0.resolved(size: minExact)?.overlaps(o..<(o + u.size)) ?? false }) {
                    issues.append(e.fail("checksum '\(c.name)' is stored inside the bytes it sums"))
                }
            }
            for f in layout.fields where f.anchor == nil && f.offset >= 0 {
                let applicable = f.sizes ?? sizes
                if let smallest = applicable.min(), f.offset + f.length > smallest {
                    issues.append(e.fail("field '\(f.name)' lies past the end of a \(smallest)-byte image"))
                }
            }
        }
        if layout.signatures.isEmpty && !layout.identifyByChecksum && sizes.isEmpty {
            issues.append(e.fail("a layout without exact sizes needs a signature or identify_by_checksum"))
        }
        return layout
    }

    static func unit(_ e: Entry, _ key: String, _ issues: inout [DBIssue]) -> WordUnit? {
        guard let s = e.string(key, issues: &issues) else { return nil }
        guard let u = WordUnit(rawValue: s) else {
            issues.append(e.fail("\(key) '\(s)' is not one of \(WordUnit.allCases.map(\.rawValue).joined(separator: ", "))"))
            return nil
        }
        return u
    }

    static func signature(_ e: Entry, _ bound: Int, _ issues: inout [DBIssue]) -> Signature? {
        e.checkKeys(signatureKeys, issues: &issues)
        guard let name = e.string("name", issues: &issues) else { return nil }
        var pattern: BytePattern?
        if let a = e.string("ascii", required: false, issues: &issues) { pattern = BytePattern(literal: Array(a.utf8)) }
        else if let u = e.string("utf16", required: false, issues: &issues) { pattern = BytePattern(literal: u.utf8.flatMap { [0, $0] }) }
        else if let h = e.string("hex", required: false, issues: &issues) {
            pattern = BytePattern(hex: h)
            if pattern == nil { issues.append(e.fail("hex pattern '\(h)' is malformed (pairs of hex digits or ??)")) ; return nil }
        }
        guard let p = pattern, p.count > 0 else { issues.append(e.fail("needs ascii, utf16 or hex")); return nil }
        let offset = e.int("offset", Limit.place, issues: &issues)
        if let o = offset, !e.fits("offset", at: o, bytes: p.count, in: bound, &issues) { return nil }
        var sig = Signature(name: name, offset: offset, searchFrom: e.int("search_from", Limit.place, issues: &issues) ?? 0,
                            searchTo: e.int("search_to", Limit.place, issues: &issues), pattern: p, optional: e.bool("optional", issues: &issues) ?? false)
        if let v = e["fallback_hex"] {
            guard let seq = v.sequence else { issues.append(e.fail("'fallback_hex' must be a list of hex patterns")); return nil }
            for item in seq {
                guard let h = item.string, let fp = BytePattern(hex: h), fp.count == p.count else {
                    issues.append(DBIssue(file: e.file, line: item.mark?.line ?? e.line, message: "\(e.what): each fallback_hex is a hex pattern as long as the signature"))
                    return nil
                }
                sig.fallbacks.append(fp)
            }
        }
        return sig
    }

    static func field(_ e: Entry, _ bound: Int, _ issues: inout [DBIssue]) -> FieldSpec? {
        e.checkKeys(fieldKeys, issues: &issues)
        guard let name = e.string("name", issues: &issues), let roleS = e.string("role", issues: &issues),
              let offset = e.int("offset", Limit.signedPlace, required: true, issues: &issues), let length = e.int("length", 1...256, required: true, issues: &issues),
              let encS = e.string("encoding", issues: &issues) else { return nil }
        guard let role = FieldRole(rawValue: roleS) else {
            issues.append(e.fail("role '\(roleS)' is not one of \(FieldRole.allCases.map(\.rawValue).joined(separator: ", "))")); return nil
        }
        guard let enc = FieldEncoding(rawValue: encS) else {
            issues.append(e.fail("encoding '\(encS)' is not one of \(FieldEncoding.allCases.map(\.rawValue).joined(separator: ", "))")); return nil
        }
        guard length > 0 && length <= 256 else { issues.append(e.fail("length must be 1-256")); return nil }
        if e.fields?["anchor"] == nil, !e.fits("offset", at: offset, bytes: length * (enc == .utf16be ? 2 : 1), in: bound, &issues) { return nil }
        var f = FieldSpec(name: name, role: role, offset: offset, anchor: e.string("anchor", required: false, issues: &issues),
                          length: length, encoding: enc, sizes: e.intList("sizes", Limit.size, maxCount: 64, issues: &issues),
                          lookup: e.string("lookup", required: false, issues: &issues), expect: e.string("expect", required: false, issues: &issues))
        f.example = e.string("example", required: false, issues: &issues)
        f.identifies = e.bool("identifies", issues: &issues) ?? false
        if f.identifies && f.lookup == nil { issues.append(e.fail("a field that identifies the image needs a 'lookup' table")) }
        if let x = f.example {
            if [.ascii, .utf16be].contains(enc) {
                if x.utf8.count > length { issues.append(e.fail("example '\(x)' is longer than the \(length)-byte field")) }
            } else if WordUnit(encoding: enc) != nil {
                guard let v = Entry.parseInt(x), v >= 0, length >= 8 || v < 1 << (8 * length) else {
                    issues.append(e.fail("example '\(x)' is not a number that fits the \(length)-byte field")); return nil
                }
            } else { issues.append(e.fail("a \(encS) field takes no example")) }
        }
        return f
    }

    /// `bound`: the layout's largest image; `smallest`: its smallest exact size, which every range must fit too.
    static func ranges(_ e: Entry, _ key: String, _ bound: Int, smallest: Int? = nil, _ issues: inout [DBIssue]) -> [ByteRange]? {
        guard let v = e.fields?[key] else { issues.append(e.fail("missing '\(key)'")); return nil }
        guard let seq = v.sequence else { issues.append(e.fail("'\(key)' must be a list of [start, end] pairs")); return nil }
        var out: [ByteRange] = []
        for item in seq {
            guard let pair = item.sequence, pair.count == 2 else {
                issues.append(DBIssue(file: e.file, line: item.mark?.line, message: "\(e.what): each range is [start, end]"))
                return nil
            }
            guard let a = e.number(pair[0], key, Limit.signedPlace, &issues), let b = e.number(pair[1], key, Limit.signedPlace, &issues) else { return nil }
            if a >= 0 && b >= 0 && b < a { issues.append(DBIssue(file: e.file, line: item.mark?.line ?? e.line, message: "\(e.what): range [\(a), \(b)) ends before it starts")) }
            let r = ByteRange(a, b)
            let n = smallest ?? bound
            if r.resolved(size: n) == nil || r.resolved(size: bound) == nil {
                issues.append(DBIssue(file: e.file, line: item.mark?.line ?? e.line, message: "\(e.what): range \(r) does not fit the layout's sizes (\(Entry.show(n)) to \(Entry.show(bound)) bytes)"))
                return nil
            }
            out.append(r)
        }
        return out
    }

    static func checksum(_ e: Entry, _ bound: Int, smallest: Int?, _ issues: inout [DBIssue]) -> ChecksumSpec? {
        e.checkKeys(checksumKeys, issues: &issues)
        guard let name = e.string("name", issues: &issues), let alg = e.string("algorithm", issues: &issues) else { return nil }
        let prov = e.string("provenance", required: false, issues: &issues) ?? ""
        var storage: ChecksumSpec.Storage = .notStored
        if let s = e.child("stored", "stored") {
            s.checkKeys(["offset", "unit"], issues: &issues)
            guard let o = s.int("offset", Limit.signedPlace, required: true, issues: &issues), let u = unit(s, "unit", &issues),
                  s.fits("offset", at: o, bytes: u.size, in: bound, thing: "the checksum is stored", &issues) else { return nil }
            storage = .stored(offset: o, unit: u)
        } else if let z = e.child("zero_sum", "zero_sum") {
            z.checkKeys(["key", "unit"], issues: &issues)
            guard let k = z.int("key", Limit.signedPlace, required: true, issues: &issues), let u = unit(z, "unit", &issues),
                  z.fits("key", at: k, bytes: u.size, in: bound, &issues) else { return nil }
            storage = .zeroSum(keyOffset: k, unit: u)
        } else if e.bool("not_stored", issues: &issues) != true && alg != "running-sum-table" && alg != "aes-cmac-table" {
            issues.append(e.fail("say where the checksum lives: stored, zero_sum or not_stored: true"))
        }
        switch alg {
        case "sum":
            guard let u = unit(e, "unit", &issues), let r = ranges(e, "ranges", bound, smallest: smallest, &issues) else { return nil }
            let width = e.int("width", 8...32, issues: &issues) ?? 16
            guard [8, 16, 32].contains(width) else { issues.append(e.fail("width must be 8, 16 or 32")); return nil }
            if case let .stored(_, su) = storage, su.size * 8 != width { issues.append(e.fail("a \(width)-bit checksum stored as \(su.rawValue) loses bits: make them agree")) }
            if case let .zeroSum(_, ku) = storage, ku != u || width > ku.size * 8 {
                issues.append(e.fail("the zero-sum key must be one of the summed units (\(u.rawValue)) and as wide as the sum"))
            }
            let tS = e.string("transform", required: false, issues: &issues) ?? "none"
            guard let t = ChecksumTransform(rawValue: tS) else { issues.append(e.fail("transform '\(tS)' is not none, complement or negate")); return nil }
            return ChecksumSpec(name: name, algorithm: .sum(unit: u, initial: UInt64(e.int("initial", Limit.u32, issues: &issues) ?? 0), width: width, transform: t),
                                ranges: r, storage: storage, provenance: prov)
        case "running-sum-table":
            guard let u = unit(e, "unit", &issues), let r = ranges(e, "ranges", bound, smallest: smallest, &issues), let stride = e.int("stride", 1...0x10000, required: true, issues: &issues),
                  let t = e.intList("table", 0...bound, issues: &issues), t.count == 2, t[0] < t[1] else {
                issues.append(e.fail("running-sum-table needs unit, ranges, stride and table: [start, end]")); return nil
            }
            return ChecksumSpec(name: name, algorithm: .runningSumTable(unit: u, stride: stride, table: ByteRange(t[0], t[1])),
                                ranges: r, storage: .table, provenance: prov)
        case "unknown":
            return ChecksumSpec(name: name, algorithm: .unknown, ranges: [], storage: storage, provenance: prov)
        case "aes-cmac-table":
            // An integrity table: entries name their own ranges; verified entry by entry, never repaired.
            guard let t = e.int("table", 0...bound, required: true, issues: &issues), let n = e.int("entries", 1...64, required: true, issues: &issues),
                  let size = e.int("entry_size", 28...0x1000, required: true, issues: &issues), let k = e.string("key_hex", issues: &issues) else { return nil }
            let key = BytePattern(hex: k)?.bytes.compactMap { $0 } ?? []
            guard key.count == 16, k.filter({ $0.isHexDigit }).count == 32 else { issues.append(e.fail("key_hex must be 16 bytes of hex")); return nil }
            guard t + n * size <= bound else { issues.append(e.fail("the aes-cmac-table (\(n) entries of \(size) bytes at \(Hex.offset(t))) runs past the image (\(Hex.offset(bound)))")); return nil }
            if prov.isEmpty { issues.append(e.fail("an aes-cmac-table names the provenance of its recipe and key")) }
            return ChecksumSpec(name: name, algorithm: .aesCMACTable(table: t, count: n, entrySize: size, key: key), ranges: [], storage: .table, provenance: prov)
        default:
            issues.append(e.fail("algorithm '\(alg)' is not sum, running-sum-table, aes-cmac-table or unknown"))
            return nil
        }
    }

    static func mediaTable(_ e: Entry, _ bound: Int, _ issues: inout [DBIssue]) -> MediaTableSpec? {
        guard let kind = e.string("kind", issues: &issues) else { return nil }
        switch kind {
        case "liteon-8051":
            e.checkKeys(["kind", "provenance", "banks", "letter_rules"], issues: &issues)
            let rows = e.children("banks", issues: &issues).compactMap { r -> LiteOnBankTable.Row? in
                r.checkKeys(["letter", "model", "plus", "dash"], issues: &issues)
                guard let l = r.string("letter", issues: &issues), let m = r.string("model", issues: &issues),
                      let p = r.int("plus", Limit.place, required: true, issues: &issues), let d = r.int("dash", Limit.place, required: true, issues: &issues) else { return nil }
                guard l.count == 1 else { issues.append(r.fail("letter must be one character")); return nil }
                guard (0...0x1000000).contains(p), (0...0x1000000).contains(d), p % 0x10000 == 0, d % 0x10000 == 0 else {
                    issues.append(r.fail("plus and dash are 64 KiB bank addresses (multiples of 10000h up to 1000000h)")); return nil
                }
                return .init(letter: l, model: m, plus: p, dash: d)
            }
            let rules = e.children("letter_rules", issues: &issues).compactMap { r -> LiteOnBankTable.Rule? in
                r.checkKeys(["letter", "image_contains", "revision_starts", "use"], issues: &issues)
                guard let l = r.string("letter", issues: &issues), let u = r.string("use", issues: &issues) else { return nil }
                var prefixes: [String] = []
                if let seq = r["revision_starts"]?.sequence { prefixes = seq.compactMap { $0.string } }
                return .init(letter: l, imageContains: r.string("image_contains", required: false, issues: &issues), revisionPrefixes: prefixes, use: u)
            }
            if rows.isEmpty { return .liteon8051(nil) }
            var seen = Set<String>()
            for r in rows where !seen.insert(r.letter).inserted { issues.append(e.fail("bank row for letter '\(r.letter)' appears twice")) }
            for r in rules where !rows.contains(where: { $0.letter == r.use }) { issues.append(e.fail("letter rule for '\(r.letter)' uses '\(r.use)', which has no bank row")) }
            let prov = e.string("provenance", issues: &issues) ?? ""
            return .liteon8051(LiteOnBankTable(rows: rows, rules: rules, provenance: prov))
        case "records":
            e.checkKeys(recordKeys, issues: &issues)
            guard let name = e.string("name", issues: &issues), let typeS = e.string("type", issues: &issues),
                  let offset = e.int("offset", Limit.place, required: true, issues: &issues), let stride = e.int("stride", 1...0x10000, required: true, issues: &issues),
                  let prov = e.string("provenance", issues: &issues) else { return nil }
            guard e.fits("offset", at: offset, bytes: stride, in: bound, &issues) else { return nil }
            guard let type = MediaType(rawValue: typeS) else { issues.append(e.fail("media type '\(typeS)' is unknown")); return nil }
            func str(_ k: String) -> RecordTableSpec.StringField? {
                guard let c = e.child(k, k) else { return nil }
                c.checkKeys(["offset", "length", "utf16"], issues: &issues)
                guard let o = c.int("offset", 0...(stride - 1), required: true, issues: &issues), let l = c.int("length", 1...stride, required: true, issues: &issues) else { return nil }
                let utf16 = c.bool("utf16", issues: &issues) ?? false
                let bytes = utf16 ? 2 * l : l
                guard o + bytes <= stride else { issues.append(DBIssue(file: c.file, line: c.line, message: "\(c.what): \(bytes) bytes at \(o) lie past the \(stride)-byte record")); return nil }
                return .init(offset: o, length: l, utf16: utf16)
            }
            func num(_ k: String) -> RecordTableSpec.IntField? {
                guard let c = e.child(k, k) else { return nil }
                c.checkKeys(["offset", "unit"], issues: &issues)
                guard let o = c.int("offset", k == "count_field" ? Limit.place : 0...(stride - 1), required: true, issues: &issues), let u = unit(c, "unit", &issues) else { return nil }
                if k == "count_field", !c.fits("offset", at: o, bytes: u.size, in: bound, &issues) { return nil }
                if k != "count_field", o + u.size > stride { issues.append(DBIssue(file: c.file, line: c.line, message: "\(c.what): a \(u.rawValue) at \(o) lies past the \(stride)-byte record")); return nil }
                return .init(offset: o, unit: u)
            }
            guard let mid = str("mid") else { issues.append(e.fail("records need 'mid'")); return nil }
            let count = e.int("count", Limit.u16, issues: &issues)
            let countField = num("count_field")
            if count == nil && countField == nil { issues.append(e.fail("records need 'count' or 'count_field'")) }
            let synthetic = e.bool("synthetic", issues: &issues) ?? false
            if synthetic && !prov.lowercased().contains("synthetic") { issues.append(e.fail("synthetic tables must say 'synthetic' in their provenance")) }
            var bits: [Double] = []
            if let v = e.fields?["speed_bits"] {
                guard let seq = v.sequence, seq.count <= 32 else {
                    issues.append(DBIssue(file: e.file, line: v.mark?.line ?? e.line, message: "\(e.what): 'speed_bits' must be a list of at most 32 speeds (one per bit of the speed field)")); return nil
                }
                for item in seq { guard let d = e.decimal(item, "speed_bits", Limit.speed, &issues) else { return nil }; bits.append(d) }
            }
            return .records(RecordTableSpec(name: name, type: type, offset: offset, count: count, countField: countField, stride: stride,
                                            mid: mid, tid: str("tid"), rid: num("rid"), speed: num("speed"), speedBits: bits,
                                            atipLeadOut: e.int("atip_lead_out", 0...(stride - 1), issues: &issues), provenance: prov, synthetic: synthetic,
                                            strategyByIndex: e.bool("strategy_by_index", issues: &issues) ?? false))
        default:
            issues.append(e.fail("media table kind '\(kind)' is not liteon-8051 or records"))
            return nil
        }
    }

    /// A region or book-type byte patch. Only synthetic layouts may carry synthetic patches.
    static func patch(_ e: Entry, layoutSynthetic: Bool, _ bound: Int, _ issues: inout [DBIssue]) -> BytePatch? {
        e.checkKeys(patchKeys, issues: &issues)
        guard let id = e.string("id", issues: &issues), let kindS = e.string("kind", issues: &issues),
              let prov = e.string("provenance", issues: &issues),
              let origS = e.string("original", issues: &issues), let replS = e.string("replacement", issues: &issues) else { return nil }
        let synthetic = e.bool("synthetic", issues: &issues) ?? false
        if synthetic && !prov.lowercased().contains("synthetic") { issues.append(e.fail("synthetic patches must say 'synthetic' in their provenance")) }
        if synthetic && !layoutSynthetic { issues.append(e.fail("a synthetic patch may only belong to a synthetic layout (it must never touch a real image)")) }
        guard let orig = BytePattern(hex: origS)?.bytes.compactMap({ $0 }), let repl = BytePattern(hex: replS)?.bytes.compactMap({ $0 }),
              !orig.isEmpty, orig.count == repl.count else {
            issues.append(e.fail("original and replacement must be hex bytes of the same length")); return nil
        }
        if orig == repl { issues.append(e.fail("replacement equals original")) }
        let kind: BytePatch.Kind
        switch kindS {
        case "region": kind = .region
        case "booktype":
            guard let m = e.string("media", issues: &issues), let v = e.string("booktype", issues: &issues) else { return nil }
            kind = .booktype(media: m.lowercased(), value: v.lowercased())
        default:
            issues.append(e.fail("patch kind '\(kindS)' is not region or booktype")); return nil
        }
        let locate: Signature
        let delta: Int
        if let o = e.int("offset", Limit.place, issues: &issues) {
            guard e.fits("offset", at: o, bytes: orig.count, in: bound, &issues) else { return nil }
            // A fixed place: locate the place itself (any bytes); the state check compares original/replacement.
            locate = Signature(name: id, offset: o, pattern: BytePattern([UInt8?](repeating: nil, count: orig.count)))
            delta = 0
        } else {
            var pattern: BytePattern?
            if let a = e.string("ascii", required: false, issues: &issues) { pattern = BytePattern(literal: Array(a.utf8)) }
            else if let h = e.string("hex", required: false, issues: &issues) { pattern = BytePattern(hex: h) }
            guard let p = pattern, p.count > 0 else { issues.append(e.fail("say where: offset, or a search pattern (ascii or hex)")); return nil }
            locate = Signature(name: id, offset: nil, searchFrom: e.int("search_from", Limit.place, issues: &issues) ?? 0,
                               searchTo: e.int("search_to", Limit.place, issues: &issues), pattern: p)
            delta = e.int("delta", Limit.signedPlace, issues: &issues) ?? 0
        }
        return BytePatch(id: id, kind: kind, provenance: prov, synthetic: synthetic, locate: locate, delta: delta,
                         original: orig, replacement: repl)
    }

    /// An id table: tab-separated rows (layout or -, comma-separated IDs, model) after '# name:' and
    /// '# provenance:' header lines. A plain table keeps the db fast to load.
    static func idTable(_ text: String, file: String, _ issues: inout [DBIssue]) -> IDTable? {
        guard let t = TSVTable.parse(text, file: file, columns: 3, optional: 1, &issues) else { return nil }
        var entries: [IDTable.Entry] = []
        for r in t.rows {
            let ids = r[1].split(separator: ",").map(String.init)
            guard !ids.isEmpty, !r[2].isEmpty else {
                issues.append(DBIssue(file: file, line: nil, message: "id table row must be: layout<TAB>ID,ID...<TAB>model"))
                continue
            }
            entries.append(.init(ids: ids, model: r[2], layout: r[0] == "-" ? nil : r[0], flashClass: r.count > 3 && !r[3].isEmpty ? r[3] : nil))
        }
        return IDTable(name: t.name, provenance: t.provenance, entries: entries)
    }
}
