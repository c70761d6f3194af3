import Flashing
import SCSI


/// Parses a family's `read_only_commands`, `identify` and `strategy_versions`, and checks that every read they send
/// is one: a standard data-in read, or a vendor command the family marks read-only with provenance.
enum IdentifyParser {
    /// Standard SPC/MMC commands that only transfer data from the drive; an identification read may use them.
    static let standardReads: [UInt8: String] = [0x12: "INQUIRY", 0x46: "GET CONFIGURATION", 0x3C: "READ BUFFER", 0x5A: "MODE SENSE(10)"]

    static func readOnlyCommands(_ e: Entry, _ issues: inout [DBIssue]) -> [ReadOnlyCommand] {
        var out: [ReadOnlyCommand] = []
        for c in e.children("read_only_commands", issues: &issues) {
            c.checkKeys(["name", "prefix", "provenance"], issues: &issues)
            guard let name = c.string("name", issues: &issues), let p = c.string("prefix", issues: &issues),
                  let prov = c.string("provenance", issues: &issues) else { continue }
            guard let bytes = ProtocolParser.hexBytes(p), bytes.count >= 2 else {
                issues.append(c.fail("prefix must be at least two hex bytes (an opcode alone says nothing about what the command does)")); continue
            }
            if prov.trimmedSpaces.isEmpty { issues.append(c.fail("provenance is empty")); continue }
            if Identifier.neverSent.contains(bytes[0]) || standardReads[bytes[0]] != nil {
                issues.append(c.fail("opcode \(Hex.byte(bytes[0]))h is not a vendor read")); continue
            }
            out.append(.init(name: name, prefix: bytes, provenance: prov))
        }
        return out
    }

    /// Why a CDB is not an allowed read, or nil: a standard read opcode, or a prefix the family marks read-only.
    static func notARead(_ cdb: CDB, _ ro: [ReadOnlyCommand]) -> String? {
        if Identifier.neverSent.contains(cdb.opcode) { return "opcode \(Hex.byte(cdb.opcode))h changes the drive; it is never an identification read" }
        if standardReads[cdb.opcode] != nil { return nil }
        if ro.contains(where: { cdb.bytes.starts(with: $0.prefix) }) { return nil }
        return "\(cdb) is neither a standard read (\(standardReads.sorted { $0.key < $1.key }.map { "\(Hex.byte($0.key))h \($0.value)" }.joined(separator: ", "))) nor a vendor command this family marks read-only (read_only_commands)"
    }

    /// A literal CDB: identification reads name no plan values.
    static func literal(_ e: Entry, _ issues: inout [DBIssue]) -> CDB? {
        guard let t = ProtocolParser.template(e, "cdb", required: true, &issues) else { return nil }
        guard t.fieldNames.isEmpty, let c = try? t.cdb([:]) else { issues.append(e.fail("an identification CDB is literal bytes (no {fields})")); return nil }
        return c
    }

    static func readOnlyFlag(_ e: Entry, _ issues: inout [DBIssue]) -> Bool {
        let ro = e.bool("read_only", issues: &issues) ?? false
        if !ro { issues.append(e.fail("an identification read must be marked 'read_only: true'")) }
        return ro
    }

    static func identify(_ e: Entry, readOnly ro: [ReadOnlyCommand], _ issues: inout [DBIssue]) -> IdentifyRule? {
        e.checkKeys(["order", "match", "provenance", "skip_vendors", "only_vendors", "product_token_prefixes", "note", "probes"], issues: &issues)
        guard let order = e.int("order", 0...1000, required: true, issues: &issues), let prov = e.string("provenance", issues: &issues),
              let m = e.string("match", issues: &issues) else { return nil }
        guard let match = IdentifyRule.Match(rawValue: m) else { issues.append(e.fail("match is 'all' or 'first'")); return nil }
        var probes: [IdentifyProbe] = []
        for p in e.children("probes", issues: &issues) {
            p.checkKeys(["name", "read_only", "provenance", "cdb", "length", "exact_length", "feature", "contains", "drive_id", "ascii_prefix", "show"], issues: &issues)
            let readOnly = readOnlyFlag(p, &issues)
            guard let name = p.string("name", issues: &issues), let pv = p.string("provenance", issues: &issues),
                  let cdb = literal(p, &issues), let len = p.int("length", Limit.transfer, required: true, issues: &issues) else { continue }
            if pv.trimmedSpaces.isEmpty { issues.append(p.fail("provenance is empty")) }
            if let why = notARead(cdb, ro) { issues.append(p.fail(why)) }
            guard (1...0x10000).contains(len) else { issues.append(p.fail("length must be 1-10000h")); continue }
            var pr = IdentifyProbe(name: name, provenance: pv, readOnly: readOnly, cdb: cdb, length: len)
            pr.exactLength = p.bool("exact_length", issues: &issues) ?? false
            pr.feature = p.int("feature", Limit.u16, issues: &issues)
            if let f = pr.feature, !(0...0xFFFF).contains(f) { issues.append(p.fail("feature is a 16-bit code")) }
            pr.contains = p.string("contains", required: false, issues: &issues)
            if let c = pr.contains, c.isEmpty || c.utf8.count > len { issues.append(p.fail("contains must be 1 to length characters")) }
            if let d = p.child("drive_id", "drive_id") {
                d.checkKeys(["offset", "length", "table", "classes"], issues: &issues)
                if let o = d.int("offset", Limit.inTransfer, required: true, issues: &issues), let l = d.int("length", Limit.transfer, required: true, issues: &issues),
                   let tb = d.string("table", issues: &issues) {
                    if o >= 0, l > 0, o + l <= len { pr.driveID = .init(offset: o, length: l, table: tb, classes: d["classes"]?.sequence?.compactMap { $0.string } ?? []) }
                    else { issues.append(d.fail("the ID must lie in the answer")) }
                }
            }
            if let a = p.child("ascii_prefix", "ascii_prefix") {
                a.checkKeys(["offset", "length", "prefixes"], issues: &issues)
                let prefixes = a["prefixes"]?.sequence?.compactMap { $0.string } ?? []
                if let o = a.int("offset", Limit.inTransfer, required: true, issues: &issues), let l = a.int("length", Limit.transfer, required: true, issues: &issues) {
                    if o >= 0, l > 0, o + l <= len, !prefixes.isEmpty, prefixes.allSatisfy({ !$0.isEmpty && $0.utf8.count <= l }) {
                        pr.asciiPrefix = .init(offset: o, length: l, prefixes: prefixes)
                    } else { issues.append(a.fail("the bytes must lie in the answer, with prefixes of 1 to length characters")) }
                }
            }
            if let s = p.child("show", "show") {
                s.checkKeys(["offset", "length", "what"], issues: &issues)
                if let o = s.int("offset", Limit.inTransfer, required: true, issues: &issues), let l = s.int("length", Limit.transfer, required: true, issues: &issues),
                   let w = s.string("what", issues: &issues) {
                    if o >= 0, l > 0, o + l <= len { pr.show = .init(offset: o, length: l, what: w) } else { issues.append(s.fail("the shown bytes must lie in the answer")) }
                }
            }
            if pr.feature == nil && pr.contains == nil && pr.driveID == nil && pr.asciiPrefix == nil {
                issues.append(p.fail("an identification read needs something to check: feature, contains, drive_id or ascii_prefix"))
            }
            probes.append(pr)
        }
        if probes.isEmpty { issues.append(e.fail("identify needs probes")) }
        var r = IdentifyRule(order: order, provenance: prov, match: match, probes: probes)
        r.skipVendors = e["skip_vendors"]?.sequence?.compactMap { $0.string } ?? []
        r.onlyVendors = e["only_vendors"]?.sequence?.compactMap { $0.string } ?? []
        r.productTokenPrefixes = e["product_token_prefixes"]?.sequence?.compactMap { $0.string } ?? []
        r.note = e.string("note", required: false, issues: &issues)
        return r
    }

    static func strategyVersions(_ e: Entry, readOnly ro: [ReadOnlyCommand], _ issues: inout [DBIssue]) -> StrategyVersionRead? {
        e.checkKeys(["read_only", "provenance", "cdb", "length", "entry_length", "pad", "media", "note"], issues: &issues)
        let readOnly = readOnlyFlag(e, &issues)
        guard let prov = e.string("provenance", issues: &issues), let cdb = literal(e, &issues),
              let len = e.int("length", Limit.transfer, required: true, issues: &issues), let el = e.int("entry_length", 1...64, required: true, issues: &issues) else { return nil }
        if let why = notARead(cdb, ro) { issues.append(e.fail(why)) }
        guard (1...0x10000).contains(len), (1...64).contains(el) else { issues.append(e.fail("length 1-10000h, entry_length 1-64")); return nil }
        let media = e["media"]?.sequence?.compactMap { $0.string } ?? []
        if media.isEmpty { issues.append(e.fail("strategy_versions needs the media class of each entry (media)")) }
        var s = StrategyVersionRead(provenance: prov, readOnly: readOnly, cdb: cdb, length: len, entryLength: el, classes: media)
        s.pad = e.string("pad", required: false, issues: &issues)
        if let p = s.pad, p.count != 1 { issues.append(e.fail("pad is one character")) }
        s.note = e.string("note", required: false, issues: &issues)
        return s
    }

    /// Every CDB template of the family that changes the drive or runs in a sequence that does (flash, dump set-up,
    /// region resets, book-type changes): none may start like a command the family marks read-only.
    static func writeTemplates(_ f: Family) -> [(String, CDBTemplate)] {
        var out: [(String, CDBTemplate)] = []
        func steps(_ what: String, _ ss: [FlashProtocol.Step]) {
            for s in ss.flatMap(\.flattened) {
                switch s {
                case let .command(name, t, _, _): out.append(("\(what) '\(name)'", t))
                case let .chunks(c): for t in [c.cdb, c.first, c.last, c.before].compactMap({ $0 }) { out.append(("\(what) '\(c.name)'", t)) }
                case let .sweep(name, t, _, _, _): out.append(("\(what) '\(name)'", t))
                case let .blocks(b): out += [("\(what) '\(b.chunks.name)'", b.chunks.cdb), ("\(what) '\(b.afterName)'", b.afterEach)]
                case let .challenge(c): out += [("\(what) '\(c.name)'", c.reset)] + c.responses.map { ("\(what) '\(c.name)'", $0.cdb) }
                case let .senseGate(g): out.append(("\(what) '\(g.name)'", g.cdb))
                default: break
                }
            }
        }
        for v in f.flashVariants { steps("flash \(v.name)", v.prepare + v.commit + v.after + v.cleanup) }
        for d in f.dumpVariants { steps("dump", d.prepare + d.cleanup) }
        if let r = f.region { out += (r.vendor + r.global).map { ("region reset", $0) } }
        if let b = f.booktype { out += [b.setPermanent, b.setTemporary, b.select, b.clear].compactMap { $0 }.map { ("book type", $0) } }
        return out
    }

    /// A write template that may start like a read-only command (they agree on every fixed byte both have).
    static func conflicts(_ f: Family) -> [String] {
        var out: [String] = []
        for c in f.readOnlyCommands {
            for (what, t) in writeTemplates(f) {
                let lp = t.literalPrefix, n = min(lp.count, c.prefix.count)
                if n > 0, Array(lp.prefix(n)) == Array(c.prefix.prefix(n)) {
                    out.append("\(what) [\(t)] may start like the read-only command '\(c.name)' (\(Hex.bytes(c.prefix))): a read-only prefix must not cover a write")
                }
            }
        }
        return out
    }
}
