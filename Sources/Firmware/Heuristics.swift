// Heuristic media-table scanner for images whose table layout is not public: runs of fixed-stride records
// that decode as plausible ATIP codes (CD-R) or DVD/BD media IDs. Always reported as heuristic, with a confidence.

import SCSI

/// Word-at-a-time skipping: finds the next byte within [lo, hi] (both < 80h) eight bytes at a time.
enum SWAR {
    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let highs: UInt64 = 0x8080_8080_8080_8080

    @inline(__always)
    static func mayHaveBetween(_ x: UInt64, _ lo: UInt64, _ hi: UInt64) -> Bool {
        // Bit-twiddling "has byte between m and n" for m, n < 128 (exact for bytes < 80h; bytes >= 80h never match).
        let l = x & (ones &* 127)
        return ((ones &* (127 &+ hi) &- l) & ~x & (l &+ ones &* (127 &- lo)) & highs) != 0
    }

    /// The first index >= i whose byte may lie in [lo, hi] (exact candidates are re-checked by the caller).
    @inline(__always)
    static func skip(_ p: UnsafeBufferPointer<UInt8>, _ i: Int, _ lo: UInt8, _ hi: UInt8) -> Int {
        var j = i
        let raw = UnsafeRawPointer(p.baseAddress!)
        let l = UInt64(lo - 1), h = UInt64(hi + 1)   // the trick tests lo < b < hi
        while j + 8 <= p.count {
            let x = raw.loadUnaligned(fromByteOffset: j, as: UInt64.self)
            if mayHaveBetween(x, l, h) { return j }
            j += 8
        }
        return j
    }
}

public enum HeuristicScanner {
    public struct Options: Sendable {
        public var minRun = 4
        /// Manufacturer-code predicate (e.g. the ATIP table of firmware-db), raising confidence when codes are known.
        public var knownATIP: (@Sendable (UInt8, UInt8, UInt8) -> Bool)?
        public var knownMID: (@Sendable (String) -> Bool)?
        public init() {}
    }

    public static func scan(_ image: [UInt8], options: Options = Options()) -> [MediaTable] {
        var out = atipTables(image, options)
        out += idTables(image, options, utf16: false)
        out += idTables(image, options, utf16: true)
        return out.sorted { $0.offset < $1.offset }
    }

    // MARK: CD-R: records starting with lead-in MSF 97:SS:FF and a lead-out MSF 6x-8x:SS:FF.

    @inline(__always)
    static func validLeadIn(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> Bool {
        (p[i] == 97 || p[i] == 96) && p[i + 1] < 60 && p[i + 2] < 75
    }
    @inline(__always)
    static func validLeadOut(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> Bool {
        p[i] >= 60 && p[i] <= 89 && p[i + 1] < 60 && p[i + 2] < 75
    }

    static func atipTables(_ image: [UInt8], _ o: Options) -> [MediaTable] {
        var tables: [MediaTable] = []
        image.withUnsafeBufferPointer { p in
            let n = p.count
            var i = 0
            while i + 6 <= n {
                if i & 7 == 0 { i = SWAR.skip(p, i, 96, 97); if i + 6 > n { break } }
                let m = p[i]
                if m != 97 && m != 96 { i += 1; continue }
                guard validLeadIn(p, i) && validLeadOut(p, i + 3) else { i += 1; continue }
                var best: (stride: Int, run: Int) = (0, 0)
                for stride in [8, 6, 7, 10, 12, 16] {
                    var run = 1
                    while i + run * stride + 6 <= n && validLeadIn(p, i + run * stride) && validLeadOut(p, i + run * stride + 3) { run += 1 }
                    if run > best.run { best = (stride, run) }
                }
                guard best.run >= o.minRun else { i += 1; continue }
                var entries: [MediaEntry] = []
                var known = 0
                for k in 0..<best.run {
                    let at = i + k * best.stride
                    if o.knownATIP?(p[at], p[at + 1], p[at + 2]) == true { known += 1 }
                    entries.append(MediaEntry(type: .cdR, index: k, mid: msf(p, at), offset: at, extra: msf(p, at + 3)))
                }
                let conf = confidence(run: best.run, known: known, haveTable: o.knownATIP != nil)
                tables.append(MediaTable(name: "CD-R (ATIP)", types: [.cdR], offset: i, stride: best.stride, entries: entries,
                                         source: .heuristic(confidence: conf, reason: "\(best.run) records of \(best.stride) bytes decode as ATIP lead-in/lead-out times\(o.knownATIP != nil ? ", \(known) known manufacturers" : "")"),
                                         speedEncoding: nil))
                i += best.run * best.stride
            }
        }
        return tables
    }

    static func msf(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> String {
        MSF.text(p[i], p[i + 1], p[i + 2])
    }

    static func confidence(run: Int, known: Int, haveTable: Bool) -> Double {
        var c = min(0.8, 0.3 + 0.05 * Double(run))
        if haveTable { c = 0.5 * c + 0.5 * Double(known) / Double(run) }
        return (c * 100).rounded() / 100
    }

    // MARK: DVD/BD IDs: fixed-stride records that start with an uppercase code of 3-12 characters.

    @inline(__always)
    static func isIDChar(_ c: UInt8) -> Bool { (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x20 }

    /// Length of the code starting at i (ASCII or 16-bit characters), 0 when it is not one.
    static func token(_ p: UnsafeBufferPointer<UInt8>, _ i: Int, utf16: Bool) -> Int {
        let w = utf16 ? 2 : 1
        let cp = utf16 ? 1 : 0
        guard i + w * 3 <= p.count, p[i + cp] >= 0x41 && p[i + cp] <= 0x5A else { return 0 }
        if utf16 && p[i] != 0 { return 0 }
        var n = 0, letters = 0
        while n < 12, i + (n + 1) * w <= p.count {
            if utf16 && p[i + n * 2] != 0 { break }
            let c = p[i + n * w + cp]
            guard isIDChar(c) else { break }
            if c >= 0x41 && c <= 0x5A { letters += 1 }
            n += 1
        }
        // The code must end with padding or a binary byte, not run on as text.
        if i + (n + 1) * w <= p.count {
            let next = p[i + n * w + cp]
            if next >= 0x61 && next <= 0x7A { return 0 }
        }
        return n >= 3 && letters >= 2 ? n : 0
    }

    static func idTables(_ image: [UInt8], _ o: Options, utf16: Bool) -> [MediaTable] {
        var tables: [MediaTable] = []
        image.withUnsafeBufferPointer { p in
            var i = 0
            let n = p.count
            let cp = utf16 ? 1 : 0
            while i + cp < n {
                // Skip eight bytes at a time while none can start a code, then reject cheaply.
                if (i + cp) & 7 == 0 { i = SWAR.skip(p, i + cp, 0x41, 0x5A) - cp; if i + cp >= n { break } }
                let c = p[i + cp]
                if c < 0x41 || c > 0x5A || (utf16 && p[i] != 0) { i += 1; continue }
                let len = token(p, i, utf16: utf16)
                guard len > 0 else { i += 1; continue }
                var best: (stride: Int, run: Int) = (0, 0)
                let minStride = max(len * (utf16 ? 2 : 1), 8)
                var stride = minStride
                while stride <= 64 {
                    var run = 1
                    // The first byte of a code is a capital letter: checked here before the call (most strides fail at once).
                    while i + run * stride + cp < n, p[i + run * stride + cp] &- 0x41 <= 0x19, token(p, i + run * stride, utf16: utf16) > 0 { run += 1 }
                    if run > best.run { best = (stride, run) }
                    stride += 1
                }
                guard best.run >= max(o.minRun, 6) else { i += len * (utf16 ? 2 : 1); continue }
                var entries: [MediaEntry] = []
                var known = 0
                for k in 0..<best.run {
                    let at = i + k * best.stride
                    let tl = token(p, at, utf16: utf16)
                    let raw = Array(p[at..<(at + tl * (utf16 ? 2 : 1))])
                    let mid = FieldDecoder.text(raw, utf16 ? .utf16be : .ascii)
                    if o.knownMID?(mid) == true { known += 1 }
                    entries.append(MediaEntry(type: guessType(len: tl, utf16: utf16, stride: best.stride), index: k, mid: mid, offset: at))
                }
                let types = Array(Set(entries.map(\.type))).sorted()
                let conf = confidence(run: best.run, known: known, haveTable: o.knownMID != nil) * 0.9
                tables.append(MediaTable(name: "media IDs (\(utf16 ? "16-bit" : "ASCII") characters)", types: types, offset: i,
                                         stride: best.stride, entries: entries,
                                         source: .heuristic(confidence: (conf * 100).rounded() / 100, reason: "\(best.run) records of \(best.stride) bytes start with media-ID-like codes"),
                                         speedEncoding: nil))
                i += best.run * best.stride
            }
        }
        return tables
    }

    static func guessType(len: Int, utf16: Bool, stride: Int) -> MediaType {
        if utf16 && stride >= 0x16 { return .plusR }       // 8-char MID + 3-char TID in 16-bit characters
        if !utf16 && len <= 6 && stride >= 9 { return .bdR }
        if !utf16 && stride >= 12 { return .dashR }
        return .unknown
    }
}
