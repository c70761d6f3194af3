// Heuristic media-table scanner for images whose table layout is not public: runs of fixed-stride records
// that decode as plausible ATIP codes (CD-R) or DVD/BD media IDs. Always reported as heuristic, with a confidence.

import CBytes
import SCSI

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

    static func atipTables(_ image: [UInt8], _ o: Options) -> [MediaTable] {
        var tables: [MediaTable] = []
        image.withUnsafeBufferPointer { p in
            guard let base = p.baseAddress else { return }
            let n = p.count
            var i = 0
            // The byte loop is C (odflash_next_atip_run): it visits every byte of images up to 64 MiB.
            while i < n {
                var stride = 0, run = 0
                i = odflash_next_atip_run(base, n, i, max(1, o.minRun), &stride, &run)
                guard i < n else { break }
                var entries: [MediaEntry] = []
                var known = 0
                for k in 0..<run {
                    let at = i + k * stride
                    if o.knownATIP?(p[at], p[at + 1], p[at + 2]) == true { known += 1 }
                    entries.append(MediaEntry(type: .cdR, index: k, mid: msf(p, at), offset: at, extra: msf(p, at + 3)))
                }
                let conf = confidence(run: run, known: known, haveTable: o.knownATIP != nil)
                tables.append(MediaTable(name: "CD-R (ATIP)", types: [.cdR], offset: i, stride: stride, entries: entries,
                                         source: .heuristic(confidence: conf, reason: "\(run) records of \(stride) bytes decode as ATIP lead-in/lead-out times\(o.knownATIP != nil ? ", \(known) known manufacturers" : "")"),
                                         speedEncoding: nil))
                i += run * stride
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

    /// Length of the code starting at i (ASCII or 16-bit characters), 0 when it is not one (odflash_id_token).
    static func token(_ p: UnsafeBufferPointer<UInt8>, _ i: Int, utf16: Bool) -> Int {
        guard let base = p.baseAddress, i >= 0, i < p.count else { return 0 }
        return odflash_id_token(base, p.count, i, utf16 ? 1 : 0)
    }

    static func idTables(_ image: [UInt8], _ o: Options, utf16: Bool) -> [MediaTable] {
        var tables: [MediaTable] = []
        image.withUnsafeBufferPointer { p in
            guard let base = p.baseAddress else { return }
            let n = p.count
            var i = 0
            // The byte loop is C (odflash_next_id_run): it visits every byte of images up to 64 MiB.
            while i < n {
                var stride = 0, run = 0, len = 0
                i = odflash_next_id_run(base, n, i, utf16 ? 1 : 0, max(o.minRun, 6), &stride, &run, &len)
                guard i < n else { break }
                var entries: [MediaEntry] = []
                var known = 0
                for k in 0..<run {
                    let at = i + k * stride
                    let tl = token(p, at, utf16: utf16)
                    let raw = Array(p[at..<(at + tl * (utf16 ? 2 : 1))])
                    let mid = FieldDecoder.text(raw, utf16 ? .utf16be : .ascii)
                    if o.knownMID?(mid) == true { known += 1 }
                    entries.append(MediaEntry(type: guessType(len: tl, utf16: utf16, stride: stride), index: k, mid: mid, offset: at))
                }
                let types = Array(Set(entries.map(\.type))).sorted()
                let conf = confidence(run: run, known: known, haveTable: o.knownMID != nil) * 0.9
                tables.append(MediaTable(name: "media IDs (\(utf16 ? "16-bit" : "ASCII") characters)", types: types, offset: i,
                                         stride: stride, entries: entries,
                                         source: .heuristic(confidence: (conf * 100).rounded() / 100, reason: "\(run) records of \(stride) bytes start with media-ID-like codes"),
                                         speedEncoding: nil))
                i += run * stride
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
