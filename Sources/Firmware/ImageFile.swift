import CZlibShim
import Foundation
import ZIPFoundation
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

    public var description: String {
        switch self {
        case let .notFound(p): return "\(p): no such file"
        case let .isDirectory(p): return "\(p) is a directory, not a firmware image"
        case let .unreadable(p, why): return "\(p): cannot read: \(why)"
        case let .empty(p): return "\(p) is empty (0 bytes)"
        case let .tooLarge(p, n, max): return "\(p) is \(n) bytes; firmware images are at most \(max) bytes"
        case let .corrupt(p, why): return "\(p) is corrupt: \(why)"
        case let .noFirmwareInZip(p, m): return "\(p) holds no firmware image (members: \(m.isEmpty ? "none" : m.joined(separator: ", ")))"
        case let .ambiguousZip(p, m): return "\(p) holds several images: choose one with --member (\(m.joined(separator: ", ")))"
        case let .noSuchMember(p, want, m): return "\(p) has no member '\(want)' (members: \(m.joined(separator: ", ")))"
        }
    }
}

public enum ImageFile {
    /// Larger than any optical-drive firmware by far; protects against zip bombs and wrong files.
    public static let maxSize = 64 << 20

    /// Reads a whole regular file with read(2), without following into directories or devices.
    public static func readFile(_ path: String, max: Int = maxSize) throws(ImageFileError) -> [UInt8] {
        var st = stat()
        guard stat(path, &st) == 0 else {
            let e = errno
            if e == ENOENT || e == ENOTDIR { throw .notFound(path) }
            throw .unreadable(path, String(cString: strerror(e)))
        }
        if st.st_mode & S_IFMT == S_IFDIR { throw .isDirectory(path) }
        guard st.st_mode & S_IFMT == S_IFREG else { throw .unreadable(path, "not a regular file") }
        let size = Int(st.st_size)
        if size == 0 { throw .empty(path) }
        if size > max { throw .tooLarge(path, size, max: max) }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadable(path, String(cString: strerror(errno))) }
        defer { close(fd) }
        var got = 0
        var failure: Int32 = 0
        // Read straight into uninitialised storage (no zero fill of megabytes that read(2) overwrites).
        let buf = [UInt8](unsafeUninitializedCapacity: size) { raw, count in
            while got < size {
                let n = read(fd, raw.baseAddress! + got, size - got)
                if n < 0 { if errno == EINTR { continue }; failure = errno; break }
                if n == 0 { break }
                got += n
            }
            count = got
        }
        if failure != 0 { throw .unreadable(path, String(cString: strerror(failure))) }
        if got != size { throw .unreadable(path, "file changed while reading (\(got) of \(size) bytes)") }
        return buf
    }

    /// Loads an image: gzip and zip containers are recognised by their magic bytes, not their names.
    public static func load(_ path: String, member: String? = nil) throws(ImageFileError) -> LoadedImage {
        let raw = try readFile(path)
        if raw.count >= 2 && raw[0] == 0x1F && raw[1] == 0x8B {
            return LoadedImage(path: path, container: "gzip", member: nil, bytes: try gunzip(raw, path: path))
        }
        if raw.count >= 4 && raw[0] == 0x50 && raw[1] == 0x4B && (raw[2] == 3 || raw[2] == 5) {
            let (name, bytes) = try unzip(raw, path: path, member: member)
            return LoadedImage(path: path, container: "zip", member: name, bytes: bytes)
        }
        return LoadedImage(path: path, container: "bin", member: nil, bytes: raw)
    }

    public static func gunzip(_ data: [UInt8], path: String) throws(ImageFileError) -> [UInt8] {
        var stream = z_stream()
        var out: [UInt8] = []
        var failure: String?
        data.withUnsafeBufferPointer { inBuf in
            stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
            stream.avail_in = uInt(inBuf.count)
            guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                failure = "zlib could not start"
                return
            }
            defer { inflateEnd(&stream) }
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let status: Int32 = chunk.withUnsafeMutableBufferPointer { cb in
                    stream.next_out = cb.baseAddress
                    stream.avail_out = uInt(cb.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.avail_out)
                out.append(contentsOf: chunk[0..<produced])
                if out.count > maxSize { failure = "it expands past \(maxSize) bytes"; return }
                if status == Z_STREAM_END { return }
                if status != Z_OK {
                    failure = status == Z_DATA_ERROR ? "gzip data error" : "gzip stream truncated or damaged (zlib \(status))"
                    return
                }
                if stream.avail_in == 0 && produced == 0 { failure = "gzip stream truncated"; return }
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

    /// Where a zip's end-of-central-directory record starts: the last 'PK 05 06' in the final 22 + 65535 bytes (the
    /// record and the longest comment) whose comment lies inside the data; nil when there is none. ZIPFoundation
    /// looks for it too, but its in-memory archive leaks its memory file when it finds none (the FILE it opened is
    /// never closed: the 40 bytes LeakSanitizer reports) and scans the whole data byte by byte: odflash looks first,
    /// and ZIPFoundation, scanning back from the same end, then finds the same record.
    static func endOfCentralDirectory(_ d: [UInt8]) -> Int? {
        guard d.count >= 22 else { return nil }
        var at = d.count - 22
        let lowest = max(0, d.count - 22 - 0xFFFF)
        while at >= lowest {
            if d[at] == 0x50 && d[at + 1] == 0x4B && d[at + 2] == 0x05 && d[at + 3] == 0x06 {
                let comment = Int(d[at + 20]) | Int(d[at + 21]) << 8
                return at + 22 + comment <= d.count ? at : nil
            }
            at -= 1
        }
        return nil
    }

    /// An archive over the bytes, or nil when they hold no end-of-central-directory record.
    static func archive(_ data: [UInt8], path: String) throws(ImageFileError) -> Archive {
        guard endOfCentralDirectory(data) != nil else { throw .corrupt(path, "not a readable zip archive (no end-of-central-directory record)") }
        do { return try Archive(data: Data(data), accessMode: .read) }
        catch { throw .corrupt(path, "not a readable zip archive") }
    }

    static func unzip(_ data: [UInt8], path: String, member: String?) throws(ImageFileError) -> (String, [UInt8]) {
        let archive = try archive(data, path: path)
        let entries = archive.filter { $0.type == .file }
        let names = entries.map(\.path)
        let chosen: Entry
        if let m = member {
            guard let e = entries.first(where: { $0.path == m || ($0.path as NSString).lastPathComponent == m }) else {
                throw .noSuchMember(path, m, members: names)
            }
            chosen = e
        } else {
            let fw = entries.filter { looksLikeFirmware($0.path) }
            if fw.count > 1 { throw .ambiguousZip(path, members: fw.map(\.path)) }
            guard let e = fw.first else { throw .noFirmwareInZip(path, members: names) }
            chosen = e
        }
        if chosen.uncompressedSize > UInt64(maxSize) { throw .tooLarge("\(path):\(chosen.path)", Int(chosen.uncompressedSize), max: maxSize) }
        var out: [UInt8] = []
        out.reserveCapacity(Int(chosen.uncompressedSize))
        do {
            _ = try archive.extract(chosen, skipCRC32: false) { chunk in
                out.append(contentsOf: chunk)
                if out.count > maxSize { throw ImageFileError.tooLarge("\(path):\(chosen.path)", out.count, max: maxSize) }
            }
        } catch let e as ImageFileError {
            throw e
        } catch {
            throw .corrupt("\(path):\(chosen.path)", "cannot extract (\(error))")
        }
        if out.isEmpty { throw .empty("\(path):\(chosen.path)") }
        return (chosen.path, out)
    }

    /// The members of a zip (for --list).
    public static func zipMembers(_ path: String) throws(ImageFileError) -> [(name: String, size: Int)] {
        let raw = try readFile(path)
        let archive = try archive(raw, path: path)
        return archive.filter { $0.type == .file }.map { ($0.path, Int($0.uncompressedSize)) }
    }
}
