// Lite-On (MediaTek 8051) DVD writer media tables, "1S" generation, located the way OmniPatcher does it:
// the table base is an immediate in the 8051 indexing code (MOV B,#len; MUL AB; ADD A,#lo; MOV DPL,A;
// MOV A,B | CLR A; ADDC A,#hi; MOV DPH,A), the entry counts are immediates of nearby MOV A,#n; MOVX @DPTR,A.
// Facts: rpc1dev/omnipatcher media_dataproc.pl, media_const.pl (re-expressed, no code copied).

import SCSI

public enum LiteOn8051 {
    static let bank = 0x10000
    public static let plusEntry = 0x1A
    public static let dashEntry = 0x0D

    /// Sample codes that mark the banks holding the tables (16-bit characters for plus, ASCII for dash).
    static let plusSample = utf16("RICOHJPNR00")
    static let plusSampleRaw = Array("RICOHJPNR00".utf8)
    static let dashSample = Array("RITEKG03".utf8)

    public static func utf16(_ s: String) -> [UInt8] { s.utf8.flatMap { [0, $0] } }

    /// The indexing code for an entry length, in both of its forms (E5 F0 or E4 before ADDC).
    static func indexing(_ len: UInt8) -> [BytePattern] {
        [BytePattern([0x75, 0xF0, len, 0xA4, 0x24, nil, 0xF5, 0x82, 0xE5, 0xF0, 0x34, nil, 0xF5, 0x83]),
         BytePattern([0x75, 0xF0, len, 0xA4, 0x24, nil, 0xF5, 0x82, 0xE4, 0x34, nil, 0xF5, 0x83])]
    }

    struct Hit { let at: Int; let end: Int; let address: Int }

    /// Every indexing-code hit in a bank, sorted, with the 16-bit table address it loads.
    static func hits(_ image: [UInt8], bank b: Range<Int>, len: UInt8) -> [Hit] {
        var out: [Hit] = []
        for p in indexing(len) {
            for at in p.allMatches(in: image, from: b.lowerBound, to: b.upperBound) {
                let lo = Int(image[at + 5]), hi = Int(image[at + p.count - 3])
                out.append(Hit(at: at, end: at + p.count, address: hi << 8 | lo))
            }
        }
        return out.sorted { $0.at < $1.at }
    }

    static func findBank(_ image: [UInt8], _ samples: [[UInt8]]) -> Range<Int>? {
        for s in samples {
            if let at = BytePattern(literal: s).firstMatch(in: image) {
                let start = at / bank * bank
                return start..<min(image.count, start + bank)
            }
        }
        return nil
    }

    /// A chain of hits with gaps in the given ranges, ending in `terminator` within `lastGap` bytes.
    static func chain(_ hits: [Hit], gaps: [ClosedRange<Int>], optionalGap: ClosedRange<Int>?, lastGap: ClosedRange<Int>,
                      terminator: BytePattern, image: [UInt8]) -> [Hit]? {
        func terminated(_ h: Hit) -> Bool {
            for g in lastGap where terminator.matches(image, at: h.end + g) { return true }
            return false
        }
        func extend(_ chain: [Hit], _ rest: ArraySlice<ClosedRange<Int>>) -> [Hit]? {
            let last = chain.last!
            guard let gap = rest.first else {
                // Optional further hit first (greedy), then the terminator.
                if let og = optionalGap {
                    for h in hits where h.at - last.end >= og.lowerBound && h.at - last.end <= og.upperBound && terminated(h) {
                        return chain + [h]
                    }
                }
                return terminated(last) ? chain : nil
            }
            for h in hits where h.at - last.end >= gap.lowerBound && h.at - last.end <= gap.upperBound {
                if let c = extend(chain + [h], rest.dropFirst()) { return c }
            }
            return nil
        }
        for h in hits { if let c = extend([h], gaps[...]) { return c } }
        return nil
    }

    static func countPair(_ image: [UInt8], bank b: Range<Int>, _ patterns: [(BytePattern, Int, Int)]) -> (Int, Int)? {
        for (p, i1, i2) in patterns {
            if let at = p.firstMatch(in: image, from: b.lowerBound, to: b.upperBound) { return (Int(image[at + i1]), Int(image[at + i2])) }
        }
        return nil
    }

    /// True when the dash bank holds the 1S count code (the parser applies only then).
    public static func dashCountCode() -> BytePattern {
        BytePattern([0xC2, 0xAF, nil, nil, 0x0B, nil, nil, 0x08, 0x90, nil, nil, 0x74, nil, 0xF0, 0x80, 0x06, 0x90, nil, nil, 0x74, nil, 0xF0])
    }

    /// Where the tables are: OmniPatcher's bank row for the firmware letter (the revision's first character), corrected
    /// only when a bank lacks the sample code and the sample is found elsewhere (fw.pl 190-265).
    public struct Banks: Equatable, Sendable {
        public var plus: Int?
        public var dash: Int?
        public var notes: [String] = []
    }

    public static func banks(_ image: [UInt8], revision: String?, table: LiteOnBankTable?) -> Banks {
        var out = Banks()
        var row: LiteOnBankTable.Row?
        if let t = table, let rev = revision, !rev.isEmpty {
            let letter = t.letter(for: rev, image: image)
            row = t.rows.first { $0.letter == letter }
            if row == nil { out.notes.append("firmware letter '\(letter)' (revision \(rev)) is not in OmniPatcher's bank table: the banks are located by the sample codes") }
        }
        func holds(_ bank: Int, _ samples: [[UInt8]]) -> Bool {
            guard bank >= 0, bank < image.count else { return false }
            let r = bank..<min(image.count, bank + Self.bank)
            return samples.contains { BytePattern(literal: $0).firstMatch(in: image, from: r.lowerBound, to: r.upperBound) != nil }
        }
        for (isPlus, samples) in [(true, [plusSample, plusSampleRaw]), (false, [dashSample])] {
            let name = isPlus ? "plus" : "dash"
            var bank = row.map { isPlus ? $0.plus : $0.dash }
            // OmniPatcher corrects a non-zero bank that lacks the sample when the sample is elsewhere; a bank-0 entry
            // (unknown letter) is not corrected there, odflash searches then too and says so.
            if bank == nil || (bank! > 0 && !holds(bank!, samples)) {
                if let found = findBank(image, samples) {
                    if let b = bank, b != found.lowerBound {
                        out.notes.append("\(name) tables: bank \(Hex.offset(b >> 16)) of the letter's row lacks the sample code; using bank \(Hex.offset(found.lowerBound >> 16)) where it is (as OmniPatcher does)")
                    }
                    bank = found.lowerBound
                }
            }
            if let b = bank, b >= image.count || b < 0 { bank = nil }
            if isPlus { out.plus = bank } else { out.dash = bank }
        }
        return out
    }

    /// The tables, and notes on how the banks were found.
    public static func read(_ image: [UInt8], layout: String, revision: String?, table: LiteOnBankTable?) -> (tables: [MediaTable], notes: [String]) {
        let b = banks(image, revision: revision, table: table)
        func range(_ start: Int?) -> Range<Int>? { start.map { $0..<min(image.count, $0 + Self.bank) } }
        return (tables(image, layout: layout, plusBank: range(b.plus), dashBank: range(b.dash)), b.notes)
    }

    /// Tables located by the sample codes alone (the fuzz target's entry).
    public static func tables(_ image: [UInt8], layout: String) -> [MediaTable] {
        read(image, layout: layout, revision: nil, table: nil).tables
    }

    static func tables(_ image: [UInt8], layout: String, plusBank: Range<Int>?, dashBank: Range<Int>?) -> [MediaTable] {
        var out: [MediaTable] = []
        let std = "7 bits, standard"

        // Dash: -RW table first, then -R.
        if let dbank = dashBank, let counts = countPair(image, bank: dbank, [(dashCountCode(), 12, 20)]),
           let c = chain(hits(image, bank: dbank, len: UInt8(dashEntry)), gaps: [43...47], optionalGap: nil, lastGap: 375...384,
                         terminator: BytePattern([0x90, nil, nil, 0xE0, 0x64, 0x0E]), image: image), c.count == 2 {
            // Counts: the first immediate is -RW, the second -R.
            for (hit, type, n) in [(c[1], MediaType.dashR, counts.1), (c[0], MediaType.dashRW, counts.0)] {
                let base = dbank.lowerBound + hit.address
                guard base + n * dashEntry + n <= image.count else { continue }
                var entries: [MediaEntry] = []
                for i in 0..<n {
                    let at = base + i * dashEntry
                    let mid = FieldDecoder.text(Array(image[at..<(at + 12)]), .ascii)
                    if mid.isEmpty || image[at + 1] == 0xFF { continue }
                    let spd = Int(image[base + dashEntry * n + i])
                    var e = MediaEntry(type: type, index: i, mid: mid, rid: Int(image[at + 12]), speedRaw: spd,
                                       speeds: SpeedBits.decode(spd, SpeedBits.liteonDash), offset: at)
                    e.locations = ["mid": [FieldLocation(offset: at, length: 12, encoding: .ascii)],
                                   "rid": [FieldLocation(offset: at + 12, length: 1, encoding: .unit(.u8))],
                                   "speed": [FieldLocation(offset: base + dashEntry * n + i, length: 1, encoding: .unit(.u8))]]
                    entries.append(e)
                }
                var t = MediaTable(name: type.rawValue, types: [type], offset: base, stride: dashEntry, entries: entries,
                                   source: .exact(layout: layout), speedEncoding: std)
                t.speedBits = SpeedBits.liteonDash
                t.strategyByIndex = true
                out.append(t)
            }
        }

        // Plus: +RW, +R, optional +R9.
        guard let pbank = plusBank else { return sorted(out) }
        let phits = hits(image, bank: pbank, len: UInt8(plusEntry))
        let pcounts = countPair(image, bank: pbank, [
            (BytePattern([0xE5, 0x24, 0x90, nil, nil, 0xB4, 0x94, 0x05, 0x74, nil, 0xF0, 0x80, 0x03, 0x74, nil, 0xF0]), 9, 14),
            (BytePattern([0xE5, 0x24, 0x64, 0x94, 0x60, 0x05, 0xE5, 0x24, 0xB4, 0x97, 0x08, 0x90, nil, nil, 0x74, nil, 0xF0, 0x80, 0x06,
                          0x90, nil, nil, 0x74, nil, 0xF0]), 15, 23),
        ])
        if let c = chain(phits, gaps: [47...66], optionalGap: 47...51, lastGap: 35...42,
                         terminator: BytePattern([0x90, nil, nil, 0xE0, 0x64, 0x0B]), image: image) {
            var specs: [(Hit, MediaType, Int?)] = [(c[1], .plusR, pcounts?.0), (c[0], .plusRW, pcounts?.1)]
            if c.count == 3 { specs.append((c[2], .plusR9, nil)) }
            for (hit, type, count) in specs {
                let base = pbank.lowerBound + hit.address
                let isR9 = type == .plusR9
                var entries: [MediaEntry] = []
                var i = 0
                while true {
                    let at = base + i * plusEntry
                    if let n = count { if i >= n { break } } else if !looksLikePlusEntry(image, at) || i > 512 { break }
                    guard at + plusEntry * (isR9 ? 2 : 1) <= image.count else { break }
                    let mid = FieldDecoder.text(Array(image[at..<(at + 16)]), .utf16be)
                    let tid = FieldDecoder.text(Array(image[(at + 0x10)..<(at + 0x16)]), .utf16be)
                    let rid = Int(image[at + 0x16]) << 8 | Int(image[at + 0x17])
                    let spd = Int(image[at + 0x18]) << 8 | Int(image[at + 0x19])
                    let dropped = (mid.isEmpty && tid.isEmpty) || (type == .plusR && mid == "MKM" && tid == "001")
                        || image[at + 3] == 0xFF || mid == "XxXxXxXx"
                    if !dropped {
                        let copies = isR9 ? [at, at + plusEntry] : [at]
                        var e = MediaEntry(type: type, index: i, mid: mid, tid: tid, rid: rid, speedRaw: spd,
                                           speeds: SpeedBits.decode(spd, SpeedBits.liteonPlus), offset: at, copies: copies)
                        e.locations = ["mid": copies.map { FieldLocation(offset: $0, length: 8, encoding: .utf16) },
                                       "tid": copies.map { FieldLocation(offset: $0 + 0x10, length: 3, encoding: .utf16) },
                                       "rid": copies.map { FieldLocation(offset: $0 + 0x16, length: 1, encoding: .unit(.be16)) },
                                       "speed": copies.map { FieldLocation(offset: $0 + 0x18, length: 1, encoding: .unit(.be16)) }]
                        entries.append(e)
                    }
                    i += isR9 ? 2 : 1
                }
                var t = MediaTable(name: type.rawValue, types: [type], offset: base, stride: plusEntry * (isR9 ? 2 : 1),
                                   entries: entries, source: .exact(layout: layout), speedEncoding: std)
                t.speedBits = SpeedBits.liteonPlus
                t.strategyByIndex = true
                out.append(t)
            }
        }
        return sorted(out)
    }

    /// Without a count: an entry is a table entry while its 16-bit characters are 7-bit and start like a code.
    static func looksLikePlusEntry(_ image: [UInt8], _ at: Int) -> Bool {
        guard at + plusEntry <= image.count else { return false }
        for k in stride(from: 0, to: 0x16, by: 2) where image[at + k] != 0 || image[at + k + 1] > 0x7F { return false }
        return true
    }

    static func sorted(_ t: [MediaTable]) -> [MediaTable] { t.sorted { ($0.types.first ?? .unknown) < ($1.types.first ?? .unknown) } }
}

/// OmniPatcher's per-letter bank rows (fw_specs.pl) and its letter rules (fw.pl), as firmware-db data.
public struct LiteOnBankTable: Equatable, Sendable {
    public struct Row: Equatable, Sendable {
        public var letter: String
        public var model: String
        public var plus: Int
        public var dash: Int
        public init(letter: String, model: String, plus: Int, dash: Int) { self.letter = letter; self.model = model; self.plus = plus; self.dash = dash }
    }
    /// A letter that stands for another row when the image contains a string or the revision starts with a prefix.
    public struct Rule: Equatable, Sendable {
        public var letter: String
        public var imageContains: String?
        public var revisionPrefixes: [String]
        public var use: String
        public init(letter: String, imageContains: String?, revisionPrefixes: [String], use: String) {
            self.letter = letter; self.imageContains = imageContains; self.revisionPrefixes = revisionPrefixes; self.use = use
        }
    }
    public var rows: [Row]
    public var rules: [Rule]
    public var provenance: String
    public init(rows: [Row], rules: [Rule], provenance: String) { self.rows = rows; self.rules = rules; self.provenance = provenance }

    public func letter(for revision: String, image: [UInt8]) -> String {
        let l = String(revision.prefix(1))
        for r in rules where r.letter == l {
            if let c = r.imageContains, BytePattern(literal: Array(c.utf8)).firstMatch(in: image) == nil { continue }
            if !r.revisionPrefixes.isEmpty && !r.revisionPrefixes.contains(where: { revision.hasPrefix($0) }) { continue }
            return r.use
        }
        return l
    }
}
