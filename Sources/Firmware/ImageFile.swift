import CZlibShim
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import SCSI
#if canImport(Glibc)
import Glibc
#endif

/// A firmware image as loaded from a .bin, a .gz or a member of a .zip. The input file is only read.
public struct LoadedImage: Sendable {
    public let path: String
    public let container: String      // "bin", "gzip", "zip"
    public let member: String?
    public let bytes: [UInt8]
    public var name: String { member.map { "\(path):\($0)" } ?? path }

    public init(path: String, container: String, member: String?, bytes: [UInt8]) {
        self.path = path; self.container = container; self.member = member; self.bytes = bytes
    }
}

public enum ImageFileError: Error, Equatable, CustomStringConvertible {
    case notFound(String)
    case isDirectory(String)
    case unreadable(String, String)
    case empty(String)
    case tooLarge(String, Int, max: Int)
    case corrupt(String, String)
    case noFirmwareInZip(String, members: [String])
    case ambiguousZip(String, members: [String])
    case noSuchMember(String, String, members: [String])
    case ambiguousMember(String, String, members: [String])

    public var description: String {
        switch self {
        case let .notFound(p): return "\(p): no such file"
        case let .isDirectory(p): return "\(p) is a directory, not a firmware image"
        case let .unreadable(p, why): return "\(p): cannot read: \(why)"
        case let .empty(p): return "\(p) is empty (0 bytes)"
        case let .tooLarge(p, n, max): return "\(p) is \(n > max ? "more than \(max)" : "\(n)") bytes; firmware images are at most \(max) bytes"
        case let .corrupt(p, why): return "\(p) is corrupt: \(why)"
        case let .noFirmwareInZip(p, m): return "\(p) holds no firmware image (members: \(m.isEmpty ? "none" : ImageFile.list(m)))"
        case let .ambiguousZip(p, m): return "\(p) holds several images: choose one with --member (\(ImageFile.list(m)))"
        case let .noSuchMember(p, want, m): return "\(p) has no member '\(want)' (members: \(m.isEmpty ? "none" : ImageFile.list(m)))"
        case let .ambiguousMember(p, want, m): return "\(p): --member '\(want)' matches \(m.count) members (\(ImageFile.list(m))): give the full name"
        }
    }

    init(_ f: InputFile.Failure) {
        switch f {
        case let .notFound(p): self = .notFound(p)
        case let .isDirectory(p): self = .isDirectory(p)
        case let .tooLarge(p, size, limit, _): self = .tooLarge(p, size ?? limit + 1, max: limit)
        default: self = .unreadable(f.path, f.description.hasPrefix(f.path + ": cannot read: ") ? String(f.description.dropFirst(f.path.count + 15)) : Self.reason(f))
        }
    }

    static func reason(_ f: InputFile.Failure) -> String {
        switch f {
        case let .notRegular(_, kind): return "it is \(kind), not a file"
        case let .pseudo(_, fs): return "it is a \(fs) pseudo-file, not a firmware image"
        default: return f.description
        }
    }
}

/// One member of a zip archive as its central directory describes it, checked against the file (see ZipReader).
public struct ZipMember: Sendable, Equatable {
    public let name: String          // FileName.decode of the stored bytes
    public let isFolder: Bool
    let method: UInt16
    let flags: UInt16
    let crc: UInt32
    let compressedSize: Int
    public let size: Int
    let dataOffset: Int
}

public enum ImageFile {
    /// Larger than any optical-drive firmware by far; protects against zip bombs and wrong files.
    public static let maxSize = 64 << 20
    /// Vendor downloads hold a handful of files; more members than this is not a firmware download.
    public static let maxZipMembers = 1000
    /// The longest member name (bytes) odflash accepts in a zip.
    public static let maxMemberName = 1024

    /// Reads a whole regular file (never a folder, FIFO, device or /proc file) of at most `max` bytes.
    public static func readFile(_ path: String, max: Int = maxSize) throws(ImageFileError) -> [UInt8] {
        let bytes: [UInt8]
        do { bytes = try InputFile.read(path, limit: max, what: "firmware images") } catch { throw ImageFileError(error) }
        if bytes.isEmpty { throw .empty(path) }
        return bytes
    }

    /// "a, b, c ... (N more)": a list of names for one line.
    static func list(_ names: [String], max: Int = 8) -> String {
        names.count <= max ? names.joined(separator: ", ")
            : names.prefix(max).joined(separator: ", ") + " ... (\(names.count - max) more)"
    }

    static func isGzip(_ raw: [UInt8]) -> Bool { raw.count >= 2 && raw[0] == 0x1F && raw[1] == 0x8B }
    static func isZip(_ raw: [UInt8]) -> Bool { raw.count >= 4 && raw[0] == 0x50 && raw[1] == 0x4B && (raw[2] == 3 || raw[2] == 5) }

    /// Loads an image: gzip and zip containers are recognised by their magic bytes, not their names.
    public static func load(_ path: String, member: String? = nil) throws(ImageFileError) -> LoadedImage {
        let raw = try readFile(path)
        if isGzip(raw) {
            return LoadedImage(path: path, container: "gzip", member: nil, bytes: try gunzip(raw, path: path))
        }
        if isZip(raw) {
            let (name, bytes) = try unzip(raw, path: path, member: member)
            return LoadedImage(path: path, container: "zip", member: name, bytes: bytes)
        }
        return LoadedImage(path: path, container: "bin", member: nil, bytes: raw)
    }

    /// Every image a file holds, one at a time: the file itself, the gzip stream, or each zip member that looks like
    /// firmware (media search). A container that lies is an error, never a partly read image.
    public static func forEachImage(_ path: String, _ body: (LoadedImage) -> Void) throws(ImageFileError) {
        let raw = try readFile(path)
        if isGzip(raw) {
            body(LoadedImage(path: path, container: "gzip", member: nil, bytes: try gunzip(raw, path: path)))
        } else if isZip(raw) {
            let members = try zipDirectory(raw, path: path)
            var total = 0
            for m in members where !m.isFolder && looksLikeFirmware(m.name) {
                total += m.size
                if total > 4 * maxSize { throw .corrupt(path, "its images inflate to more than \(4 * maxSize) bytes; a zip searched is at most that") }
                body(LoadedImage(path: path, container: "zip", member: m.name, bytes: try extract(m, from: raw, path: path)))
            }
        } else {
            body(LoadedImage(path: path, container: "bin", member: nil, bytes: raw))
        }
    }

    /// Why inflating could not start: zlib could not be loaded (it is loaded at the first container), or it refused.
    static var zlibFailure: String {
        guard odflash_zlib_available() != 0 else {
            let why = odflash_zlib_failure().map { String(cString: $0) } ?? "not found"
            return "zlib could not be loaded (\(why)): compressed containers need it; install the zlib1g package"
        }
        return "zlib could not start"
    }

    /// A whole gzip stream: every member (RFC 1952 allows several, `cat a.gz b.gz`), each checked by its CRC-32 and
    /// length; anything after the last member that is not another member is an error, not ignored.
    public static func gunzip(_ data: [UInt8], path: String) throws(ImageFileError) -> [UInt8] {
        var stream = z_stream()
        var out: [UInt8] = []
        var failure: String?
        data.withUnsafeBufferPointer { inBuf in
            stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
            stream.avail_in = uInt(inBuf.count)
            guard odflash_inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                failure = ImageFile.zlibFailure
                return
            }
            defer { odflash_inflateEnd(&stream) }
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            var members = 1
            while true {
                let status: Int32 = chunk.withUnsafeMutableBufferPointer { cb in
                    stream.next_out = cb.baseAddress
                    stream.avail_out = uInt(cb.count)
                    return odflash_inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.avail_out)
                if out.count + produced > maxSize { failure = "it expands past \(maxSize) bytes; firmware images are at most \(maxSize) bytes"; return }
                out.append(contentsOf: chunk[0..<produced])
                if status == Z_STREAM_END {
                    let left = Int(stream.avail_in)
                    if left == 0 { return }
                    let at = inBuf.count - left
                    guard left >= 2, inBuf[at] == 0x1F, inBuf[at + 1] == 0x8B else {
                        failure = "\(left) bytes of trailing data after the gzip stream (member \(members) ends at byte \(at))"
                        return
                    }
                    members += 1
                    guard odflash_inflateReset(&stream) == Z_OK else { failure = "zlib could not restart"; return }
                    continue
                }
                if status != Z_OK && status != Z_BUF_ERROR {
                    failure = status == Z_DATA_ERROR ? "gzip data error (damaged data, or a CRC-32 or length that does not match)" : "gzip stream damaged (zlib \(status))"
                    return
                }
                if stream.avail_in == 0 && produced == 0 { failure = "gzip stream truncated"; return }
                if status == Z_BUF_ERROR && produced == 0 { failure = "gzip stream truncated"; return }
            }
        }
        if let f = failure { throw .corrupt(path, f) }
        if out.isEmpty { throw .empty(path) }
        return out
    }

    /// Names that look like firmware inside vendor zips.
    static func looksLikeFirmware(_ name: String) -> Bool {
        let n = name.lowercased()
        if n.hasSuffix("/") || n.hasPrefix("__macosx/") { return false }
        return [".bin", ".rom", ".fw", ".hex", ".img"].contains { n.hasSuffix($0) }
    }

    static func le16(_ d: [UInt8], _ o: Int) -> Int { Int(d[o]) | Int(d[o + 1]) << 8 }
    static func le32(_ d: [UInt8], _ o: Int) -> Int { le16(d, o) | le16(d, o + 2) << 16 }

    /// The members of a zip, every field checked against the file before anything is extracted: the end record and
    /// the central directory within the file, at most `maxZipMembers` members with names of at most `maxMemberName`
    /// bytes, each local header where its entry says with the same name, each member's data inside the file and apart
    /// from every other member's (entries that share bytes are how zip bombs multiply), no zip64 markers (firmware
    /// zips are far below 4 GiB), stored sizes that agree, methods stored or deflate, no encryption.
    public static func zipDirectory(_ d: [UInt8], path: String) throws(ImageFileError) -> [ZipMember] {
        func bad(_ why: String) -> ImageFileError { .corrupt(path, why) }
        guard d.count >= 22 else { throw bad("too short for a zip archive (\(d.count) bytes)") }
        var eocd = -1
        var i = d.count - 22
        let lowest = max(0, d.count - 22 - 0xFFFF)
        while i >= lowest {
            if d[i] == 0x50 && d[i + 1] == 0x4B && d[i + 2] == 5 && d[i + 3] == 6 && i + 22 + le16(d, i + 20) <= d.count { eocd = i; break }
            i -= 1
        }
        guard eocd >= 0 else { throw bad("no end-of-central-directory record (not a zip, or truncated)") }
        if eocd >= 20 && d[eocd - 20] == 0x50 && d[eocd - 19] == 0x4B && d[eocd - 18] == 6 && d[eocd - 17] == 7 {
            throw bad("a zip64 archive; odflash reads zips below 4 GiB (firmware downloads are)")
        }
        let disk = le16(d, eocd + 4), cdDisk = le16(d, eocd + 6)
        let here = le16(d, eocd + 8), count = le16(d, eocd + 10)
        let cdSize = le32(d, eocd + 12), cdOffset = le32(d, eocd + 16)
        if count == 0xFFFF || cdSize == 0xFFFF_FFFF || cdOffset == 0xFFFF_FFFF {
            throw bad("zip64 markers (FFFFh/FFFFFFFFh) in the end record; odflash reads zips below 4 GiB")
        }
        guard disk == 0, cdDisk == 0, here == count else { throw bad("a multi-part (spanned) zip") }
        if count > maxZipMembers { throw bad("it holds \(count) members; odflash reads zips of at most \(maxZipMembers) members") }
        guard cdOffset <= eocd, cdSize <= eocd - cdOffset else {
            throw bad("its central directory (\(cdSize) bytes at \(cdOffset)) lies beyond the file (\(d.count) bytes)")
        }
        var members: [ZipMember] = []
        var spans: [(start: Int, end: Int, name: String)] = []
        var p = cdOffset
        let cdEnd = cdOffset + cdSize
        for k in 0..<count {
            guard p + 46 <= cdEnd, le32(d, p) == 0x0201_4B50 else { throw bad("central directory entry \(k + 1) is damaged or lies beyond it") }
            let flags = UInt16(le16(d, p + 8)), method = UInt16(le16(d, p + 10))
            let crc = UInt32(le32(d, p + 16)), csize = le32(d, p + 20), usize = le32(d, p + 24)
            let nlen = le16(d, p + 28), elen = le16(d, p + 30), clen = le16(d, p + 32)
            let lho = le32(d, p + 42)
            guard p + 46 + nlen + elen + clen <= cdEnd else { throw bad("central directory entry \(k + 1) runs past the directory") }
            if nlen > maxMemberName { throw bad("member \(k + 1) has a name of \(nlen) bytes; names are at most \(maxMemberName) bytes") }
            let nameBytes = Array(d[(p + 46)..<(p + 46 + nlen)])
            let name = FileName.decode(nameBytes)
            if csize == 0xFFFF_FFFF || usize == 0xFFFF_FFFF || lho == 0xFFFF_FFFF {
                throw bad("member '\(name)' has zip64 sizes or offset (FFFFFFFFh); odflash reads zips below 4 GiB")
            }
            if nameBytes.contains(0) { throw bad("member \(k + 1) has a NUL byte in its name") }
            let isFolder = name.hasSuffix("/") && usize == 0
            if flags & 1 != 0 { throw bad("member '\(name)' is encrypted") }
            if method != 0 && method != 8 { throw bad("member '\(name)' uses compression method \(method); odflash reads stored and deflated members") }
            if method == 0 && csize != usize { throw bad("member '\(name)' is stored but declares \(csize) bytes stored and \(usize) bytes of data") }
            // Deflate cannot expand beyond about 1032:1; a size declared past that is a lie.
            if method == 8 && usize > csize * 1032 + 1024 {
                throw bad("member '\(name)' declares \(usize) bytes from \(csize) compressed bytes, more than deflate can hold (a declared size that lies)")
            }
            // The local header: inside the file, before the central directory, naming the same member.
            guard lho <= cdOffset, cdOffset - lho >= 30, le32(d, lho) == 0x0403_4B50 else {
                throw bad("the local header of member '\(name)' (at \(lho)) lies beyond the file's data or is damaged")
            }
            let lnlen = le16(d, lho + 26), lelen = le16(d, lho + 28)
            let dataOffset = lho + 30 + lnlen + lelen
            guard dataOffset <= cdOffset, lnlen == nlen, Array(d[(lho + 30)..<(lho + 30 + lnlen)]) == nameBytes else {
                throw bad("the local header of member '\(name)' names another member or is damaged")
            }
            guard csize <= cdOffset - dataOffset else {
                throw bad("member '\(name)' declares \(csize) compressed bytes, more than the file holds after its header")
            }
            spans.append((lho, dataOffset + csize, name))
            members.append(ZipMember(name: name, isFolder: isFolder, method: method, flags: flags, crc: crc,
                                     compressedSize: csize, size: usize, dataOffset: dataOffset))
            p += 46 + nlen + elen + clen
        }
        spans.sort { $0.start < $1.start }
        for j in spans.indices.dropFirst() where spans[j].start < spans[j - 1].end {
            throw bad("members '\(spans[j - 1].name)' and '\(spans[j].name)' share bytes (overlapping entries: a zip bomb or a damaged zip)")
        }
        // Members follow each other: the bytes between one member's data and the next header may only be a data
        // descriptor (12 or 16 bytes, 24 with zip64 sizes). Undescribed bytes mean a declared size that lies.
        var expect = 0
        for (j, s) in spans.enumerated() {
            let gap = s.start - expect
            if gap != 0 && !(j > 0 && [12, 16, 20, 24].contains(gap)) {
                throw bad("\(gap) bytes before member '\(s.name)' that no entry describes (a declared size that lies, or a damaged zip)")
            }
            expect = s.end
        }
        let tail = cdOffset - expect
        if !spans.isEmpty && tail != 0 && ![12, 16, 20, 24].contains(tail) {
            throw bad("\(tail) bytes after member '\(spans.last!.name)' that no entry describes (a declared size that lies, or a damaged zip)")
        }
        return members
    }

    /// A member's bytes: inflated to exactly its declared size (never past it, never past maxSize) and checked by its
    /// CRC-32.
    static func extract(_ m: ZipMember, from d: [UInt8], path: String) throws(ImageFileError) -> [UInt8] {
        let where_ = "\(path):\(m.name)"
        if m.size > maxSize { throw .tooLarge(where_, m.size, max: maxSize) }
        let input = d[m.dataOffset..<(m.dataOffset + m.compressedSize)]
        var out: [UInt8]
        if m.method == 0 {
            out = Array(input)
        } else {
            out = [UInt8](repeating: 0, count: m.size + 1)
            var failure: String?
            var produced = 0
            input.withUnsafeBufferPointer { inBuf in
                var s = z_stream()
                s.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
                s.avail_in = uInt(inBuf.count)
                guard odflash_inflateInit2_(&s, -MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                    failure = ImageFile.zlibFailure; return
                }
                defer { odflash_inflateEnd(&s) }
                out.withUnsafeMutableBufferPointer { ob in
                    s.next_out = ob.baseAddress
                    s.avail_out = uInt(ob.count)      // one byte more than declared: a member that inflates past it shows
                    let status = odflash_inflate(&s, Z_FINISH)
                    produced = ob.count - Int(s.avail_out)
                    if produced > m.size { failure = "it inflates past its declared size of \(m.size) bytes"; return }
                    if status == Z_DATA_ERROR { failure = "its deflate data is damaged"; return }
                    if status != Z_STREAM_END { failure = "its deflate data ends early (\(produced) of \(m.size) bytes)"; return }
                }
            }
            if let f = failure { throw .corrupt(where_, f) }
            if produced != m.size { throw .corrupt(where_, "it inflates to \(produced) bytes but declares \(m.size)") }
            out.removeLast(out.count - produced)
        }
        let crc = out.withUnsafeBufferPointer { UInt32(odflash_crc32(0, $0.baseAddress, uInt($0.count))) }
        if crc != m.crc {
            throw .corrupt(where_, "CRC-32 mismatch (stored \(String(m.crc, radix: 16, uppercase: true))h, computed \(String(crc, radix: 16, uppercase: true))h): the member is damaged")
        }
        if out.isEmpty { throw .empty(where_) }
        return out
    }

    static func unzip(_ data: [UInt8], path: String, member: String?) throws(ImageFileError) -> (String, [UInt8]) {
        let entries = try zipDirectory(data, path: path).filter { !$0.isFolder }
        let names = entries.map(\.name)
        let chosen: ZipMember
        if let m = member {
            let exact = entries.filter { $0.name == m }
            let byBase = entries.filter { !m.isEmpty && PathName.last($0.name) == m }
            if exact.count == 1 { chosen = exact[0] }
            else if exact.isEmpty && byBase.count == 1 { chosen = byBase[0] }
            else if exact.count + byBase.count > 1 { throw .ambiguousMember(path, m, members: (exact.isEmpty ? byBase : exact).map(\.name)) }
            else { throw .noSuchMember(path, m, members: names) }
        } else {
            let fw = entries.filter { looksLikeFirmware($0.name) }
            if fw.count > 1 { throw .ambiguousZip(path, members: fw.map(\.name)) }
            guard let e = fw.first else { throw .noFirmwareInZip(path, members: names) }
            chosen = e
        }
        let bytes = try extract(chosen, from: data, path: path)
        if isZip(bytes) || isGzip(bytes) {
            throw .corrupt("\(path):\(chosen.name)", "the member is itself a \(isZip(bytes) ? "zip" : "gzip") archive; unpack it and give odflash the image")
        }
        return (chosen.name, bytes)
    }

    /// The members of a zip (for --list).
    public static func zipMembers(_ path: String) throws(ImageFileError) -> [(name: String, size: Int)] {
        let raw = try readFile(path)
        guard isZip(raw) else { throw .corrupt(path, "not a readable zip archive (no PK signature at its start)") }
        return try zipDirectory(raw, path: path).filter { !$0.isFolder }.map { ($0.name, $0.size) }
    }
}
