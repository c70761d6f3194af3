#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CBytes
import SCSI
#if canImport(Glibc)
import Glibc
#endif

/// A media code as users write it: "RICOHJPN-R03", "RICOHJPN R03", "RICOHJPN/R03", "ricohjpn-r03", "CMC MAG-M01",
/// "RITEKG05", or an ATIP lead-in "97:26:66" / "97m26s66f" (cdrecord's and Nero's spellings).
public struct MediaQuery: Sendable, Equatable {
    public let text: String
    public let mid: String
    public let tid: String?
    /// ATIP manufacturer code (frame rounded down to a multiple of 10), when the query is an ATIP time.
    public let atip: (UInt8, UInt8, UInt8)?
    /// The ATIP time exactly as given (its frame digit carries the dye class: 0-4 long, 5-9 short strategy).
    public let atipExact: (UInt8, UInt8, UInt8)?
    /// "CMC MAG" may be a whole MID or MID "CMC" with TID "MAG": with a space-split query, the whole text is tried
    /// as a MID too.
    let wholeMID: String?

    public static func == (a: Self, b: Self) -> Bool { a.text == b.text }

    public enum Failure: Error, CustomStringConvertible, Equatable {
        case empty, badATIP(String)
        public var description: String {
            switch self {
            case .empty: return "give a media code, e.g. RICOHJPN-R03, RITEKG05 or an ATIP time 97:26:66"
            case let .badATIP(s): return "'\(s)' is not an ATIP time MM:SS:FF (seconds < 60, frames < 75)"
            }
        }
    }

    /// "97:26:66", "97m26s66f", "97m26s66" as three numbers; nil when the text is not shaped like a time.
    static func timeParts(_ t: String) -> [Substring]? {
        var s = t.lowercased()
        if s.last == "f" { s.removeLast() }
        let parts = s.split(omittingEmptySubsequences: false, whereSeparator: { $0 == ":" || $0 == "m" || $0 == "s" })
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isNumber) }) else { return nil }
        let seps = s.filter { !$0.isNumber }
        guard seps == "::" || seps == "ms" else { return nil }
        return parts
    }

    public init(_ s: String) throws(Failure) {
        text = s.trimmedSpaces
        guard !text.isEmpty else { throw .empty }
        if let parts = MediaQuery.timeParts(text) {
            guard let m = UInt8(parts[0]), let sec = UInt8(parts[1]), let f = UInt8(parts[2]), sec < 60, f < 75 else { throw .badATIP(text) }
            atip = (m, sec, f / 10 * 10)
            atipExact = (m, sec, f)
            mid = MSF.text(m, sec, f)
            tid = nil
            wholeMID = nil
            return
        }
        atip = nil
        atipExact = nil
        // "MID/TID" is written like "MID-TID".
        let norm = text.replacingSlashes
        // MID-TID[-RID]: the MID is everything before the last one or two dash-separated short parts.
        let dash = norm.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        let spaced = norm.split(separator: " ").map(String.init)
        if dash.count >= 2, dash.last!.count <= 3, dash.dropLast().joined(separator: "-").count >= 3 {
            var rest = dash
            var t = rest.removeLast()
            if rest.count >= 2, rest.last!.count == 3, t.count == 2, t.allSatisfy(\.isHexDigit) { t = rest.removeLast() }   // ...-TID-RID
            mid = rest.joined(separator: "-").trimmedSpaces
            tid = t
            wholeMID = nil
        } else if spaced.count == 2, spaced[1].count == 3, (3...8).contains(spaced[0].count) {
            // "RICOHJPN R03": a DVD+R/BD MID (no space in it, at most 8 characters) and its TID as tools print them.
            // "CMC MAG. AM3" stays one DVD-R ID (its first part has a space); the whole text is tried as a MID too.
            mid = spaced[0]
            tid = spaced.last!
            wholeMID = norm
        } else {
            mid = norm
            tid = nil
            wholeMID = nil
        }
    }

    /// The byte strings to look for first (ASCII and 16-bit forms of the MID as typed and in both cases, or the ATIP
    /// bytes).
    public var literals: [[UInt8]] {
        // A table may hold the lead-in with any frame digit of the manufacturer's ten (97:26:60-69).
        if let a = atip { return (0..<10).compactMap { k in a.2 + k < 75 ? [a.0, a.1, a.2 + k] : nil } }
        var out: [[UInt8]] = []
        for m in [mid, wholeMID].compactMap({ $0 }) {
            for v in [m, m.uppercased(), m.lowercased()] {
                let ascii: [UInt8] = Array(v.utf8)
                let wide: [UInt8] = ascii.flatMap { [UInt8(0), $0] }
                for l in [ascii, wide] where !out.contains(l) { out.append(l) }
            }
        }
        return out
    }

    public func matches(_ e: MediaEntry) -> Bool {
        if let a = atip {
            guard e.type == .cdR || e.type == .cdRW else { return false }
            // Tables may hold the exact lead-in or the manufacturer code: compare with the frame rounded down.
            let p = e.mid.split(separator: ":").compactMap { UInt8($0) }
            return p.count == 3 && p[0] == a.0 && p[1] == a.1 && p[2] / 10 * 10 == a.2
        }
        if MediaQuery.matches(e, mid: mid, tid: tid) { return true }
        if let w = wholeMID { return MediaQuery.matches(e, mid: w, tid: nil) }
        return false
    }

    static func matches(_ e: MediaEntry, mid: String, tid: String?) -> Bool {
        guard e.mid.equalsIgnoringCase(mid) || e.mid.uppercased().hasPrefix(mid.uppercased()) && tid == nil else { return false }
        if let t = tid { return e.tid.equalsIgnoringCase(t) }
        return true
    }
}

extension String {
    var replacingSlashes: String { String(map { $0 == "/" ? "-" : $0 }) }
}

public enum LiteralScan {
    /// True when any literal occurs in the buffer: one pass for all of them (CBytes), each found by its first byte
    /// that is not 00h or FFh and then compared whole.
    public static func contains(_ buf: UnsafeRawBufferPointer, _ literals: [[UInt8]]) -> Bool {
        guard let base = buf.baseAddress else { return false }
        let used = literals.filter { !$0.isEmpty && $0.count <= buf.count }
        guard !used.isEmpty else { return false }
        var offsets: [Int] = [], lens: [Int] = [], anchors: [Int] = []
        var all: [UInt8] = []
        for l in used {
            offsets.append(all.count)
            lens.append(l.count)
            anchors.append(l.firstIndex { $0 != 0 && $0 != 0xFF } ?? 0)
            all += l
        }
        return odflash_contains_any(base.assumingMemoryBound(to: UInt8.self), buf.count, all, offsets, lens, anchors, used.count) != 0
    }

    /// Every regular file under the paths (folders recursively, by their bytes: a name that is not UTF-8 is found and
    /// opened as it is), sorted. A path named is kept whatever it is (reading it says what is wrong); inside folders,
    /// FIFOs, devices and sockets are left out (never opened), and links are followed only to regular files.
    public static func files(_ paths: [String]) -> [String] {
        var out: [String] = []
        func isDir(_ p: String, follow: Bool) -> (dir: Bool, regular: Bool) {
            var st = stat()
            let r = FileName.withPath(p) { follow ? stat($0, &st) : lstat($0, &st) }
            guard r == 0 else { return (false, false) }
            let t = st.st_mode & S_IFMT
            if t == S_IFLNK {
                var t2 = stat()
                guard FileName.withPath(p, { stat($0, &t2) }) == 0 else { return (false, false) }
                return (false, t2.st_mode & S_IFMT == S_IFREG)
            }
            return (t == S_IFDIR, t == S_IFREG)
        }
        func walk(_ dir: String, depth: Int) {
            guard depth < 64, let d = FileName.withPath(dir, { opendir($0) }) else { return }
            defer { closedir(d) }
            while let e = readdir(d) {
                let name: String = withUnsafeBytes(of: e.pointee.d_name) { raw in
                    let b = raw.bindMemory(to: UInt8.self)
                    let n = b.firstIndex(of: 0) ?? b.count
                    return FileName.decode(b[0..<n])
                }
                if name == "." || name == ".." { continue }
                let full = dir.hasSuffix("/") ? dir + name : dir + "/" + name
                let k = isDir(full, follow: false)
                if k.dir { walk(full, depth: depth + 1) } else if k.regular { out.append(full) }
            }
        }
        for p in paths {
            if isDir(p, follow: true).dir { walk(p, depth: 0) } else { out.append(p) }
        }
        return out.sorted()
    }
}

extension StringProtocol where UTF8View: BidirectionalCollection {
    /// Spaces and tabs trimmed at both ends (hot in db loading): found on the UTF-8 bytes at the two ends, so no
    /// Character is formed (Characters only when a leading blank is followed by a non-ASCII scalar, which may combine
    /// with it). Inlinable: specialised for String and Substring where it is used.
    @inlinable public var trimmedSpaces: String {
        let u = utf8
        var a = u.startIndex, b = u.endIndex
        while a < b, u[a] == 0x20 || u[a] == 0x09 { a = u.index(after: a) }
        if a != u.startIndex, a < b, u[a] >= 0x80 {
            var t = self[...]
            while let f = t.first, f == " " || f == "\t" { t = t.dropFirst() }
            while let l = t.last, l == " " || l == "\t" { t = t.dropLast() }
            return String(t)
        }
        while b > a {
            let p = u.index(before: b)
            guard u[p] == 0x20 || u[p] == 0x09 else { break }
            b = p
        }
        return String(self[a..<b])
    }
}
