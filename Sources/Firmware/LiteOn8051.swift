// Lite-On (MediaTek 8051) DVD writer media tables, "1S" generation, located the way OmniPatcher does it:
// the table base is an immediate in the 8051 indexing code (MOV B,#len; MUL AB; ADD A,#lo; MOV DPL,A;
// MOV A,B | CLR A; ADDC A,#hi; MOV DPH,A), the entry counts are immediates of nearby MOV A,#n; MOVX @DPTR,A.
// Facts: rpc1dev/omnipatcher media_dataproc.pl, media_const.pl (re-expressed, no code copied).

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

    public static func tables(_ image: [UInt8], layout: String) -> [MediaTable] {
        guard let dbank = findBank(image, [dashSample]),
              let counts = countPair(image, bank: dbank, [(dashCountCode(), 12, 20)]) else { return [] }
        var out: [MediaTable] = []
        let std = "7 bits, standard"

        // Dash: -RW table first, then -R.
        let dhits = hits(image, bank: dbank, len: UInt8(dashEntry))
        if let c = chain(dhits, gaps: [43...47], optionalGap: nil, lastGap: 375...384,
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
        guard let pbank = findBank(image, [plusSample, plusSampleRaw]) else { return sorted(out) }
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
