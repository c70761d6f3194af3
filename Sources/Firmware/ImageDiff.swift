import CBytes
/// What differs between two images: media codes (added, removed, re-speeded) and changed byte ranges. The one
/// implementation `fw diff` and `fw patch`'s report share.
public enum ImageDiff {
    public struct MediaChange: Encodable, Sendable {
        public let type: String; public let code: String; public let change: String; public let before: [String]?; public let after: [String]?
    }
    public struct RangeChange: Encodable, Sendable, Equatable {
        public let start: Int; public let end: Int; public let length: Int
    }

    static func key(_ e: InspectReport.Entry) -> String { "\(e.type) \(e.code)" }

    public static func mediaChanges(_ a: InspectReport, _ b: InspectReport) -> [MediaChange] {
        func entries(_ r: InspectReport) -> [String: InspectReport.Entry] {
            var d: [String: InspectReport.Entry] = [:]
            for t in r.mediaTables { for e in t.entries where d[key(e)] == nil { d[key(e)] = e } }
            return d
        }
        let ea = entries(a), eb = entries(b)
        var out: [MediaChange] = []
        for k in Set(ea.keys).union(eb.keys).sorted() {
            switch (ea[k], eb[k]) {
            case let (nil, y?): out.append(.init(type: y.type, code: y.code, change: "added", before: nil, after: y.speeds))
            case let (x?, nil): out.append(.init(type: x.type, code: x.code, change: "removed", before: x.speeds, after: nil))
            case let (x?, y?) where x.speeds != y.speeds:
                out.append(.init(type: x.type, code: x.code, change: "speeds", before: x.speeds, after: y.speeds))
            default: break
            }
        }
        return out
    }

    /// Changed runs, merging runs less than `mergeGap` bytes apart (1: exact runs), and the count of changed bytes; a
    /// size difference is one more run at the end.
    public static func byteRanges(_ a: [UInt8], _ b: [UInt8], mergeGap: Int) -> ([RangeChange], Int) {
        var out: [RangeChange] = []
        var changed = 0
        let n = min(a.count, b.count)
        let gap = max(1, mergeGap)
        var i = 0
        // The byte loop is C (odflash_next_diff): it visits every byte of images up to 64 MiB.
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                guard let ba = pa.baseAddress, let bb = pb.baseAddress else { return }
                while i < n {
                    var end = 0, count = 0
                    let start = odflash_next_diff(ba, bb, n, i, gap, &end, &count)
                    guard start < n else { break }
                    out.append(.init(start: start, end: end, length: end - start))
                    changed += count
                    i = end
                }
            }
        }
        if a.count != b.count {
            let lo = n, hi = max(a.count, b.count)
            out.append(.init(start: lo, end: hi, length: hi - lo))
            changed += hi - lo
        }
        return (out, changed)
    }
}
