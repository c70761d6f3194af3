import Testing
@testable import Firmware

/// The C byte loops (CBytes) against plain Swift loops written from their stated rules, on buffers built to hold
/// ATIP runs, ASCII and 16-bit media-ID runs and noise at every stride the rules name: any difference fails.
@Suite struct ByteLoopTests {
    struct Run: Equatable { let offset: Int, stride: Int, run: Int }

    // ATIP: lead-in 96/97:SS:FF then lead-out 60-89:SS:FF; strides 8, 6, 7, 10, 12, 16, the longest run (first on a tie).
    static func atipRuns(_ p: [UInt8], minRun: Int) -> [Run] {
        func li(_ i: Int) -> Bool { (p[i] == 96 || p[i] == 97) && p[i + 1] < 60 && p[i + 2] < 75 }
        func lo(_ i: Int) -> Bool { p[i] >= 60 && p[i] <= 89 && p[i + 1] < 60 && p[i + 2] < 75 }
        var out: [Run] = [], i = 0
        while i + 6 <= p.count {
            guard li(i) && lo(i + 3) else { i += 1; continue }
            var best = (0, 0)
            for s in [8, 6, 7, 10, 12, 16] {
                var r = 1
                while i + r * s + 6 <= p.count && li(i + r * s) && lo(i + r * s + 3) { r += 1 }
                if r > best.1 { best = (s, r) }
            }
            guard best.1 >= minRun else { i += 1; continue }
            out.append(Run(offset: i, stride: best.0, run: best.1))
            i += best.0 * best.1
        }
        return out
    }

    static func token(_ p: [UInt8], _ i: Int, utf16: Bool) -> Int {
        let w = utf16 ? 2 : 1, cp = utf16 ? 1 : 0
        func isID(_ c: UInt8) -> Bool { (0x41...0x5A).contains(c) || (0x30...0x39).contains(c) || c == 0x2D || c == 0x20 }
        guard i + 3 * w <= p.count, (0x41...0x5A).contains(p[i + cp]), !utf16 || p[i] == 0 else { return 0 }
        var n = 0, letters = 0
        while n < 12, i + (n + 1) * w <= p.count, !utf16 || p[i + 2 * n] == 0, isID(p[i + n * w + cp]) {
            if (0x41...0x5A).contains(p[i + n * w + cp]) { letters += 1 }
            n += 1
        }
        if i + (n + 1) * w <= p.count, (0x61...0x7A).contains(p[i + n * w + cp]) { return 0 }
        return n >= 3 && letters >= 2 ? n : 0
    }

    static func idRuns(_ p: [UInt8], utf16: Bool, minRun: Int) -> [Run] {
        let w = utf16 ? 2 : 1, cp = utf16 ? 1 : 0
        var out: [Run] = [], i = 0
        while i + cp < p.count {
            let len = token(p, i, utf16: utf16)
            guard len > 0 else { i += 1; continue }
            var best = (0, 0)
            for s in max(len * w, 8)...64 {
                var r = 1
                while i + r * s + cp < p.count && token(p, i + r * s, utf16: utf16) > 0 { r += 1 }
                if r > best.1 { best = (s, r) }
            }
            guard best.1 >= minRun else { i += len * w; continue }
            out.append(Run(offset: i, stride: best.0, run: best.1))
            i += best.0 * best.1
        }
        return out
    }

    static func diffRanges(_ a: [UInt8], _ b: [UInt8], gap: Int) -> ([ImageDiff.RangeChange], Int) {
        var out: [ImageDiff.RangeChange] = [], changed = 0, i = 0
        let n = min(a.count, b.count)
        while i < n {
            if a[i] == b[i] { i += 1; continue }
            let start = i
            var last = i
            // Runs fewer than `gap` equal bytes apart are one range (gap 1: exact runs of differing bytes).
            while i < n && i - last - 1 < gap { if a[i] != b[i] { last = i; changed += 1 }; i += 1 }
            out.append(.init(start: start, end: last + 1, length: last + 1 - start))
            i = last + 1
        }
        if a.count != b.count { out.append(.init(start: n, end: max(a.count, b.count), length: max(a.count, b.count) - n)); changed += max(a.count, b.count) - n }
        return (out, changed)
    }

    /// A buffer with runs of ATIP records and codes at random strides over zeros or noise.
    static func buffer(_ g: inout SystemRandomNumberGenerator, size: Int) -> [UInt8] {
        var b = Bool.random(using: &g) ? [UInt8](repeating: 0, count: size) : (0..<size).map { _ in UInt8.random(in: 0...255, using: &g) }
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789- abc".utf8)
        for _ in 0..<Int.random(in: 1...6, using: &g) {
            let stride = [6, 7, 8, 9, 10, 12, 16, 20, 24, 32, 40, 64].randomElement(using: &g)!
            let at = Int.random(in: 0..<(size - 2100), using: &g)
            let kind = Int.random(in: 0...2, using: &g)
            for r in 0..<Int.random(in: 2...30, using: &g) {
                let o = at + r * stride
                switch kind {
                case 0:
                    let rec: [UInt8] = [[96, 97].randomElement(using: &g)!, .random(in: 0..<62, using: &g), .random(in: 0..<76, using: &g),
                                        .random(in: 58..<91, using: &g), .random(in: 0..<60, using: &g), .random(in: 0..<75, using: &g)]
                    for (k, v) in rec.enumerated() { b[o + k] = v }
                default:
                    let code = [UInt8(0x41 + Int.random(in: 0..<26, using: &g))] + (0..<Int.random(in: 1...13, using: &g)).map { _ in letters.randomElement(using: &g)! }
                    let bytes = kind == 1 ? code : code.flatMap { [0, $0] }
                    for (k, v) in bytes.prefix(stride).enumerated() { b[o + k] = v }
                }
            }
        }
        return b
    }

    @Test func scannerMatchesTheRules() {
        var g = SystemRandomNumberGenerator()
        var found = 0
        for _ in 0..<60 {
            let b = ByteLoopTests.buffer(&g, size: [4096, 20000, 70000].randomElement(using: &g)!)
            let tables = HeuristicScanner.scan(b)
            let got = tables.map { Run(offset: $0.offset, stride: $0.stride, run: $0.entries.count) }
            let want = (ByteLoopTests.atipRuns(b, minRun: 4) + ByteLoopTests.idRuns(b, utf16: false, minRun: 6) + ByteLoopTests.idRuns(b, utf16: true, minRun: 6))
            #expect(Set(got.map { "\($0)" }) == Set(want.map { "\($0)" }) && got.count == want.count)
            found += want.count
        }
        // The buffers hold runs: the comparison is not between two empty lists.
        #expect(found >= 15)
    }

    @Test func exactRunsAreOneRange() {
        let a = [UInt8](repeating: 0, count: 64)
        var b = a
        for i in [10, 11, 12, 20, 22] { b[i] = 1 }
        #expect(ImageDiff.byteRanges(a, b, mergeGap: 1).0.map { [$0.start, $0.end] } == [[10, 13], [20, 21], [22, 23]])
        #expect(ImageDiff.byteRanges(a, b, mergeGap: 2).0.map { [$0.start, $0.end] } == [[10, 13], [20, 23]])
        #expect(ImageDiff.byteRanges(a, b, mergeGap: 8).0.map { [$0.start, $0.end] } == [[10, 23]])
        #expect(ImageDiff.byteRanges(a, b, mergeGap: 8).1 == 5)
    }

    @Test func diffMatchesTheRule() {
        var g = SystemRandomNumberGenerator()
        for _ in 0..<60 {
            let a = ByteLoopTests.buffer(&g, size: 9000)
            var b = a
            for _ in 0..<Int.random(in: 0...40, using: &g) { b[Int.random(in: 0..<b.count, using: &g)] ^= UInt8.random(in: 1...255, using: &g) }
            if Bool.random(using: &g) { b += [1, 2, 3] }
            // Long equal stretches cross the C loop's 4 KiB blocks.
            for gap in [1, 2, 16, 300, 5000] {
                let got = ImageDiff.byteRanges(a, b, mergeGap: gap), want = ByteLoopTests.diffRanges(a, b, gap: gap)
                #expect(got.0.map { [$0.start, $0.end, $0.length] } == want.0.map { [$0.start, $0.end, $0.length] } && got.1 == want.1)
            }
        }
    }

    /// The one-pass literal search against a plain search for each literal, over random buffers with literals planted at
    /// every alignment (both ends and across the C loop's 32-byte steps), anchors of one to six distinct bytes.
    @Test func literalSearchMatchesAPlainSearch() {
        var g = SystemRandomNumberGenerator()
        func plain(_ b: [UInt8], _ l: [UInt8]) -> Bool {
            guard !l.isEmpty, l.count <= b.count else { return false }
            for i in 0...(b.count - l.count) where Array(b[i..<i + l.count]) == l { return true }
            return false
        }
        var hits = 0, misses = 0
        for round in 0..<400 {
            let size = [0, 1, 3, 31, 32, 33, 64, 100, 1000].randomElement(using: &g)!
            // A small alphabet makes near-misses (anchor found, literal not) common.
            let alphabet: [UInt8] = [0, 0xFF, 0x52, 0x72, 0x49, 0x54, 0x41]
            var b = (0..<size).map { _ in alphabet.randomElement(using: &g)! }
            let count = Int.random(in: 1...6, using: &g)
            let lits: [[UInt8]] = (0..<count).map { _ in (0..<Int.random(in: 1...6, using: &g)).map { _ in alphabet.randomElement(using: &g)! } }
            if round % 3 == 0, let l = lits.randomElement(using: &g), l.count <= b.count {
                let at = [0, b.count - l.count, Int.random(in: 0...(b.count - l.count), using: &g)].randomElement(using: &g)!
                b.replaceSubrange(at..<at + l.count, with: l)
            }
            let want = lits.contains { plain(b, $0) }
            let got = b.withUnsafeBytes { LiteralScan.contains($0, lits) }
            #expect(got == want, "buffer \(b) literals \(lits)")
            if want { hits += 1 } else { misses += 1 }
        }
        #expect(hits > 50 && misses > 50)
        // Media search's own case: the ASCII and 16-bit, upper and lower case forms of a code, in a large buffer.
        let lits = (try? MediaQuery("RITEKG03"))?.literals ?? []
        #expect(lits.count == 4)
        var big = [UInt8](repeating: 0x72, count: 1 << 20)
        #expect(!big.withUnsafeBytes { LiteralScan.contains($0, lits) })
        let wide: [UInt8] = Array("ritekG03".utf8).flatMap { [0, $0] }
        big.replaceSubrange(777_777..<777_777 + wide.count, with: wide)
        #expect(!big.withUnsafeBytes { LiteralScan.contains($0, lits) })   // mixed case is no form of the code
        let lower: [UInt8] = Array("ritekg03".utf8).flatMap { [0, $0] }
        big.replaceSubrange(777_777..<777_777 + lower.count, with: lower)
        #expect(big.withUnsafeBytes { LiteralScan.contains($0, lits) })
    }

    /// trimmedSpaces (found on the UTF-8 bytes) against trimming Characters, on blanks, tabs, newlines, non-ASCII and
    /// combining marks at either end.
    @Test func trimmedSpacesTrimsBlanksOnly() {
        func reference(_ s: Substring) -> String {
            var t = s
            while let f = t.first, f == " " || f == "\t" { t = t.dropFirst() }
            while let l = t.last, l == " " || l == "\t" { t = t.dropLast() }
            return String(t)
        }
        let cases = ["", " ", "\t \t", "a", " a ", "\ta b\t", "  ü  ", "x\n", "\n x \n", " \u{301}a", "a \u{301}", "é\t", "\t中文 ",
                     "a\r", " \r\n", "PIONEER  DVR-107 "]
        for c in cases {
            #expect(c.trimmedSpaces == reference(Substring(c)), "\(c.debugDescription)")
            let sub = ("#" + c + "#").dropFirst().dropLast()
            #expect(sub.trimmedSpaces == reference(sub), "\(c.debugDescription) as a Substring")
        }
    }
}
