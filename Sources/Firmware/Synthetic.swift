import SCSI

// Synthetic firmware images, built from a layout's own description: right size, signatures, fields, media
// tables and checksums, with deterministic pseudo-random filler. For tests and benchmarks only: they contain
// no vendor code and are never flashable to a real drive.

public struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    public init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    public mutating func next() -> UInt64 {
        // splitmix64
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    public mutating func bytes(_ n: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: n)
        var i = 0
        while i < n {
            var v = next()
            for _ in 0..<8 where i < n { out[i] = UInt8(truncatingIfNeeded: v); v >>= 8; i += 1 }
        }
        return out
    }
}

public struct SyntheticSpec: Sendable {
    public var seed: UInt64 = 1
    public var size: Int?
    public var vendor = "SYNTHETC"
    public var product = "SYNTHETIC DRIVE"
    public var revision = "1.00"
    /// For fields with a lookup (NEC drive ID): an ID valid for the layout.
    public var driveID: String?
    public var bootcode: String?
    public var configID: String?
    /// Media codes for exact tables (type -> entries).
    public var media: [MediaType: [SyntheticMedia]] = SyntheticSpec.defaultMedia
    /// A CD-R table of ATIP codes placed in the image (found by the heuristic scanner).
    public var cdrTable: [SyntheticATIP]? = nil
    public var cdrTableOffset: Int? = nil
    /// Text (or a number, for numeric fields) for fields by name, over the role's value and the layout's example.
    public var fields: [String: String] = [:]
    public init() {}

    public static let defaultMedia: [MediaType: [SyntheticMedia]] = [
        .plusR: [.init("RICOHJPN", "R00", 1, [2.4, 4, 8]), .init("RICOHJPN", "R01", 2, [2.4, 4, 8, 12, 16]),
                 .init("YUDEN000", "T02", 0, [2.4, 4, 8, 12, 16]), .init("MCC", "004", 0, [4, 8, 12, 16]),
                 .init("CMC MAG", "M01", 0, [4, 8])],
        .plusRW: [.init("RICOHJPN", "W11", 1, [2.4, 4]), .init("MKM", "A02", 0, [2.4, 4])],
        .dashR: [.init("RITEKG03", "", 1, [1, 2, 4, 8]), .init("TYG02", "", 0, [2, 4, 8, 12, 16]),
                 .init("MCC 03RG20", "", 0, [4, 8, 12, 16]), .init("CMC MAG. AE1", "", 0, [4, 8])],
        .dashRW: [.init("RITEKW01", "", 1, [1, 2]), .init("TDK601saku", "", 0, [2, 4])],
    ]
}

public struct SyntheticMedia: Sendable, Equatable {
    public var mid: String, tid: String, rid: Int, speeds: [Double]
    public init(_ mid: String, _ tid: String, _ rid: Int, _ speeds: [Double]) { self.mid = mid; self.tid = tid; self.rid = rid; self.speeds = speeds }
}

public struct SyntheticATIP: Sendable, Equatable {
    public var leadIn: (UInt8, UInt8, UInt8)
    public var leadOut: (UInt8, UInt8, UInt8)
    public var extra: (UInt8, UInt8)
    /// For tables with a speed field.
    public var speeds: [Double]
    public init(_ leadIn: (UInt8, UInt8, UInt8), _ leadOut: (UInt8, UInt8, UInt8), _ extra: (UInt8, UInt8) = (0x00, 0x10), speeds: [Double] = []) {
        self.leadIn = leadIn; self.leadOut = leadOut; self.extra = extra; self.speeds = speeds
    }
    public static func == (a: Self, b: Self) -> Bool {
        a.leadIn == b.leadIn && a.leadOut == b.leadOut && a.extra == b.extra && a.speeds == b.speeds
    }

    /// Taiyo Yuden, Ritek, Mitsubishi Chemical (lead-in codes from the public ATIP tables), 80-minute discs.
    public static let defaults: [SyntheticATIP] = [
        SyntheticATIP((97, 24, 0), (79, 59, 74), speeds: [16, 24, 48]), SyntheticATIP((97, 31, 0), (79, 59, 74), speeds: [16, 24]),
        SyntheticATIP((97, 34, 20), (79, 59, 74), speeds: [16, 24, 48]), SyntheticATIP((97, 27, 10), (79, 59, 74), speeds: [8, 16]),
    ]
}

public enum SyntheticError: Error, CustomStringConvertible, Equatable {
    case noSize(String)
    case cannotPlace(String)
    public var description: String {
        switch self {
        case let .noSize(l): return "layout \(l) has no fixed size: give one"
        case let .cannotPlace(why): return "cannot build the image: \(why)"
        }
    }
}

public enum SyntheticImage {
    public static func generate(_ layout: ImageLayout, _ spec: SyntheticSpec, idTables: [String: IDTable] = [:]) throws(SyntheticError) -> [UInt8] {
        var rng = SeededRandom(seed: spec.seed)
        guard let size = spec.size ?? layout.sizes.first ?? (layout.minSize > 1 ? max(layout.minSize, 0x10000) : nil) else {
            throw .noSize(layout.id)
        }
        var img = rng.bytes(size)
        // Keep the filler free of the 7-bit text that heuristic scanners look for: random bytes >= 80h.
        for i in 0..<img.count { img[i] |= 0x80 }

        if let b = layout.bankStartByte { for bank in stride(from: 0, to: size, by: 0x10000) { img[bank] = b } }
        if let sf = layout.sizeField { sf.unit.write(UInt64(size - sf.delta), into: &img, at: sf.offset) }

        // Signatures: fixed ones where they belong, searched ones at a chosen place after their window start.
        var anchors: [String: Int] = [:]
        for s in layout.signatures {
            let at = s.offset.map { $0 < 0 ? size + $0 : $0 } ?? (s.searchFrom + 0x200)
            guard at >= 0, at + s.pattern.count <= size else { throw .cannotPlace("signature \(s.name) does not fit") }
            for (k, b) in s.pattern.bytes.enumerated() { img[at + k] = b ?? rng.bytes(1)[0] & 0x7F }
            anchors[s.name] = at
        }

        for f in layout.fields {
            if let sz = f.sizes, !sz.contains(size) { continue }
            let base = f.anchor.flatMap { anchors[$0] } ?? 0
            let at = base + (f.anchor == nil && f.offset < 0 ? size + f.offset : f.offset)
            guard at >= 0, at + f.length <= size else { throw .cannotPlace("field \(f.name) does not fit") }
            var text: String?
            switch f.role {
            case .vendor: text = spec.vendor
            case .product: text = spec.product
            case .revision, .version: text = f.encoding == .ascii ? spec.revision : nil
            case .driveID:
                text = spec.driveID ?? f.lookup.flatMap { idTables[$0] }?.entries.first { $0.layout == layout.id }?.ids.first
            case .bootcode: text = spec.bootcode ?? "08"
            case .configID, .modelID: text = spec.configID
            case .date: text = "2012/05/11 11:00"
            default: text = nil
            }
            // A value given by name, else the role's, else the layout's example; `expect` overrides them all.
            let given = spec.fields[f.name] ?? (text == nil ? f.example : nil)
            if let e = f.expect { text = e } else if let g = given { text = g }
            // A numeric field takes the given value as a number (decimal or 0x hex) in the field's encoding.
            if f.expect == nil, let g = given, let unit = WordUnit(encoding: f.encoding) {
                let hex = g.hasPrefix("0x")
                if let v = UInt64(hex ? String(g.dropFirst(2)) : g, radix: hex ? 16 : 10) { unit.write(v, into: &img, at: at) }
                continue
            }
            // A hex field takes the given value as hex bytes.
            if f.expect == nil, f.encoding == .hex, let g = given, let p = BytePattern(hex: g), p.count <= f.length {
                for (k, b) in p.bytes.enumerated() { img[at + k] = b ?? 0 }
                continue
            }
            guard let t = text, f.encoding == .ascii || f.encoding == .utf16be else { continue }
            // Fields that overlap a signature keep the signature's bytes (Plextor headers are both).
            let bytes: [UInt8] = f.encoding == .utf16be ? t.utf8.flatMap { [0, $0] } : Array(t.utf8)
            func covered(_ pos: Int) -> Bool {
                layout.signatures.contains { s in anchors[s.name].map { pos >= $0 && pos < $0 + s.pattern.count } ?? false }
            }
            // A field that begins inside a signature (Plextor's header, BTC's vendor) keeps the signature and is
            // padded after it; any other field gets the text.
            // A text that agrees with the signature bytes it overlaps (MT1959's config ID) is written whole.
            let agrees = (0..<f.length).allSatisfy { k in !covered(at + k) || (k < bytes.count && bytes[k] == img[at + k]) }
            let padOnly = covered(at) && !agrees
            for k in 0..<f.length {
                let pos = at + k
                if covered(pos) { continue }
                let pad: UInt8 = f.encoding == .utf16be ? 0 : 0x20
                img[pos] = padOnly ? pad : (k < bytes.count ? bytes[k] : pad)
            }
        }

        for t in layout.mediaTables {
            switch t {
            case .liteon8051: try buildLiteOn(&img, spec, &rng)
            case let .records(r): try buildRecords(&img, r, spec)
            }
        }
        // The layout's byte patches start out unapplied: their original bytes are where the patch looks.
        for p in layout.patches {
            let at: Int
            if let o = p.locate.offset { at = o < 0 ? size + o : o }
            else {
                let s = p.locate.searchFrom + 0x300
                guard s + p.locate.pattern.count <= size else { throw .cannotPlace("patch \(p.id) does not fit") }
                for (k, b) in p.locate.pattern.bytes.enumerated() { img[s + k] = b ?? 0 }
                at = s + p.delta
            }
            guard at >= 0, at + p.original.count <= size else { throw .cannotPlace("patch \(p.id) does not fit") }
            img.replaceSubrange(at..<(at + p.original.count), with: p.original)
        }
        if layout.mediaTables.contains(where: { if case let .records(r) = $0 { return r.atipLeadOut != nil }; return false }) {
            // The CD-R records table took the ATIP list.
        } else if let atip = spec.cdrTable {
            let at = spec.cdrTableOffset ?? (size / 2 + 0x1234)
            guard at + atip.count * 8 <= size else { throw .cannotPlace("CD-R table does not fit") }
            for (i, a) in atip.enumerated() {
                let p = at + i * 8
                img.replaceSubrange(p..<(p + 8), with: [a.leadIn.0, a.leadIn.1, a.leadIn.2, a.leadOut.0, a.leadOut.1, a.leadOut.2, a.extra.0, a.extra.1])
            }
        }

        if layout.structure == .mediatekMT19xx { buildMT19xx(&img) }
        if layout.structure == .pioneerBDComponent { buildPioneerComponent(&img, spec) }
        let tables = layout.checksums.filter { if case .aesCMACTable = $0.algorithm { return true }; return false }
        do { img = try ChecksumEngine.repair(layout.checksums.filter { c in !tables.contains(c) }, image: img) }
        catch { throw .cannotPlace(error.description) }
        // The integrity table of a SYNTHETIC image is signed here (odflash signs nothing else).
        for t in tables {
            guard case let .aesCMACTable(at, count, entrySize, keyBytes) = t.algorithm, let key = AES128(key: keyBytes) else { continue }
            guard at + count * entrySize <= img.count else { throw .cannotPlace("the table of \(t.name) does not fit") }
            if layout.structure == .mediatekMT19xx { fillMT19Table(&img, at: at, count: count, entrySize: entrySize) }
            CMACTable.signSynthetic(&img, at: at, count: count, entrySize: entrySize, key: key)
        }
        return img
    }

    /// A Pioneer BD Normal component's 200h-byte header (facts 5, "Envelope facts"): the banner lines, the required
    /// Kernel tag at D0h, an all-zero signature (the "not OEM" sentinel: a SYNTHETIC file is no OEM one) and the file name
    /// at 1F0h. The platform and tags are SYNTHETIC.
    static func buildPioneerComponent(_ img: inout [UInt8], _ spec: SyntheticSpec) {
        guard img.count >= PioneerBD.headerLength else { return }
        for i in 0..<PioneerBD.headerLength { img[i] = 0 }
        let model = spec.product.split(separator: " ").last.map(String.init) ?? "SYNTH"
        let lines = [PioneerBD.bannerMagic, "ID : \(spec.vendor) \(spec.product)", "Revision Level : \(spec.revision)",
                     "Hardware Version : SAT 0000", "Destination : SYNT", "File Type : Normal"].joined(separator: "\r\n") + "\r\n"
        let text = Array(lines.utf8.prefix(PioneerBD.requiredKernelTagRange.lowerBound))
        img.replaceSubrange(0..<text.count, with: text)
        img.replaceSubrange(PioneerBD.requiredKernelTagRange, with: Array("SYNT    ".utf8))
        let name = Array("\(model.prefix(8)).SYN".utf8.filter { $0 >= 0x21 && $0 < 0x7F })
        img.replaceSubrange(PioneerBD.filenameRange.lowerBound..<(PioneerBD.filenameRange.lowerBound + name.count), with: name)
    }

    /// A MediaTek MT19xx image's structure: a boot page that differs from its plaintext mirror at 10000h (the file is an
    /// image, not a drive read), the descriptor's marker and downgrade-enable bytes at their places.
    static func buildMT19xx(_ img: inout [UInt8]) {
        let n = MediaTekMT19.bootPageLength, m = MediaTekMT19.mirrorOffset
        guard img.count >= m + n else { return }
        // The mirror holds the "plaintext"; the boot page a different (SYNTHETIC, not encrypted) byte pattern.
        for i in 0..<n { img[i] = img[m + i] ^ 0x5A }
        let d = MediaTekMT19.descriptorOffset
        if img.count >= d + MediaTekMT19.descriptorLength {
            img[d + 0x50] = 0x78
            if img[d + 0x56] != MediaTekMT19.downgradeEnabled { img[d + 0x56] = 0x00 }
        }
    }

    /// The table's entries for a SYNTHETIC image: four active ranges in flash above 1000h (the third covers the mirror
    /// and the first two entries, ending before its own digest), the rest unused.
    static func fillMT19Table(_ img: inout [UInt8], at table: Int, count: Int, entrySize: Int) {
        let ranges = [(0x11000, 0x19FFF), (0x20000, 0x7FFFF), (0x10000, table + 2 * entrySize - 1), (0x80000, 0x1D7FFF)].filter { $0.1 < img.count }
        func le32(_ v: UInt32, _ at: Int) { for k in 0..<4 { img[at + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(k))) } }
        for k in 0..<count {
            let e = table + k * entrySize
            if k < ranges.count {
                le32(1, e); le32(UInt32(ranges[k].0), e + 4); le32(UInt32(ranges[k].1), e + 8)
            } else {
                for i in 0..<entrySize { img[e + i] = 0xFF }
            }
        }
    }

    static func buildRecords(_ img: inout [UInt8], _ r: RecordTableSpec, _ spec: SyntheticSpec) throws(SyntheticError) {
        if r.atipLeadOut != nil {
            let list = spec.cdrTable ?? SyntheticATIP.defaults
            let n = r.count ?? list.count
            guard r.offset + n * r.stride <= img.count else { throw .cannotPlace("table \(r.name) does not fit") }
            if let cf = r.countField { cf.unit.write(UInt64(n), into: &img, at: cf.offset) }
            for (i, a) in list.prefix(n).enumerated() {
                let base = r.offset + i * r.stride
                img.replaceSubrange((base + r.mid.offset)..<(base + r.mid.offset + 3), with: [a.leadIn.0, a.leadIn.1, a.leadIn.2])
                let lo = base + r.atipLeadOut!
                img.replaceSubrange(lo..<(lo + 3), with: [a.leadOut.0, a.leadOut.1, a.leadOut.2])
                if let sf = r.speed { sf.unit.write(UInt64(SpeedBits.encode(a.speeds, r.speedBits) ?? 0), into: &img, at: base + sf.offset) }
            }
            return
        }
        let entries = spec.media[r.type] ?? []
        let n = r.count ?? entries.count
        guard r.offset + n * r.stride <= img.count else { throw .cannotPlace("table \(r.name) does not fit") }
        if let cf = r.countField { cf.unit.write(UInt64(n), into: &img, at: cf.offset) }
        for i in 0..<n {
            let base = r.offset + i * r.stride
            let m = i < entries.count ? entries[i] : SyntheticMedia("", "", 0, [])
            func put(_ s: String, _ f: RecordTableSpec.StringField) {
                let b: [UInt8] = f.utf16 ? s.utf8.flatMap { [0, $0] } : Array(s.utf8)
                let len = f.utf16 ? f.length * 2 : f.length
                for k in 0..<len { img[base + f.offset + k] = k < b.count ? b[k] : 0 }
            }
            put(m.mid, r.mid)
            if let t = r.tid { put(m.tid, t) }
            if let rf = r.rid { rf.unit.write(UInt64(m.rid), into: &img, at: base + rf.offset) }
            if let sf = r.speed { sf.unit.write(UInt64(SpeedBits.encode(m.speeds, r.speedBits) ?? 0), into: &img, at: base + sf.offset) }
        }
    }

    /// Builds the two Lite-On media banks: tables, their indexing code and the count code, as the parser expects.
    static func buildLiteOn(_ img: inout [UInt8], _ spec: SyntheticSpec, _ rng: inout SeededRandom) throws(SyntheticError) {
        guard img.count >= 0x100000 else { throw .cannotPlace("Lite-On tables need a 1 MiB image") }
        let pbank = 0xC0000, dbank = 0xD0000
        func code(_ len: UInt8, _ addr: Int, _ e4: Bool) -> [UInt8] {
            [0x75, 0xF0, len, 0xA4, 0x24, UInt8(addr & 0xFF), 0xF5, 0x82] + (e4 ? [0xE4] : [0xE5, 0xF0]) + [0x34, UInt8(addr >> 8), 0xF5, 0x83]
        }
        func filler(_ n: Int) -> [UInt8] { rng.bytes(n).map { $0 | 0x80 } }

        // Dash bank: -RW and -R tables at 8000h, 9000h; code at 1000h.
        let drw = spec.media[.dashRW] ?? [], dr = spec.media[.dashR] ?? []
        guard dr.contains(where: { $0.mid == "RITEKG03" }) else { throw .cannotPlace("the -R table must hold RITEKG03 (the bank marker)") }
        for (type, list, addr) in [(MediaType.dashRW, drw, 0x8000), (.dashR, dr, 0x9000)] {
            let base = dbank + addr
            for (i, m) in list.enumerated() {
                let at = base + i * LiteOn8051.dashEntry
                let mid = Array(m.mid.utf8.prefix(12))
                for k in 0..<12 { img[at + k] = k < mid.count ? mid[k] : 0 }
                img[at + 12] = UInt8(m.rid)
                img[base + LiteOn8051.dashEntry * list.count + i] = UInt8(SpeedBits.encode(m.speeds, SpeedBits.liteonDash) ?? 0)
            }
            _ = type
        }
        var dcode = code(0x0D, 0x8000, false) + filler(45) + code(0x0D, 0x9000, true) + filler(380) + [0x90, 0x12, 0x34, 0xE0, 0x64, 0x0E]
        dcode += filler(16) + [0xC2, 0xAF, 0x81, 0x82, 0x0B, 0x83, 0x84, 0x08, 0x90, 0x85, 0x86, 0x74, UInt8(drw.count), 0xF0,
                               0x80, 0x06, 0x90, 0x87, 0x88, 0x74, UInt8(dr.count), 0xF0]
        img.replaceSubrange((dbank + 0x1000)..<(dbank + 0x1000 + dcode.count), with: dcode)

        // Plus bank: +RW at 8000h, +R at 9000h; code at 1000h.
        let prw = spec.media[.plusRW] ?? [], pr = spec.media[.plusR] ?? []
        guard pr.contains(where: { $0.mid == "RICOHJPN" && $0.tid == "R00" }) else { throw .cannotPlace("the +R table must hold RICOHJPN-R00 (the bank marker)") }
        for (list, addr) in [(prw, 0x8000), (pr, 0x9000)] {
            let base = pbank + addr
            for (i, m) in list.enumerated() {
                let at = base + i * LiteOn8051.plusEntry
                let mid = LiteOn8051.utf16(m.mid), tid = LiteOn8051.utf16(m.tid)
                for k in 0..<16 { img[at + k] = k < mid.count ? mid[k] : 0 }
                for k in 0..<6 { img[at + 0x10 + k] = k < tid.count ? tid[k] : 0 }
                img[at + 0x16] = UInt8(m.rid >> 8); img[at + 0x17] = UInt8(m.rid & 0xFF)
                let spd = SpeedBits.encode(m.speeds, SpeedBits.liteonPlus) ?? 0
                img[at + 0x18] = UInt8(spd >> 8); img[at + 0x19] = UInt8(spd & 0xFF)
            }
        }
        var pcode = code(0x1A, 0x8000, false) + filler(50) + code(0x1A, 0x9000, false) + filler(38) + [0x90, 0x12, 0x34, 0xE0, 0x64, 0x0B]
        pcode += filler(16) + [0xE5, 0x24, 0x90, 0x81, 0x82, 0xB4, 0x94, 0x05, 0x74, UInt8(pr.count), 0xF0, 0x80, 0x03, 0x74, UInt8(prw.count), 0xF0]
        img.replaceSubrange((pbank + 0x1000)..<(pbank + 0x1000 + pcode.count), with: pcode)
    }
}
