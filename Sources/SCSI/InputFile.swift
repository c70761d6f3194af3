import CBytes
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one way odflash reads an input file (an image, a zip, a journal, a transcript) or standard input: bounded, never
/// blocking on a FIFO nobody writes to, never reading a device, a folder or a /proc or /sys file as if it were a file.
///
/// A named input must be a regular file on a real file system: it is opened with O_NONBLOCK (a FIFO without a writer
/// does not block the open) and checked with fstat and fstatfs before a byte is read; its size must be within the
/// limit the caller states, and the read stops one byte past the limit whatever the size said. Standard input may be
/// a pipe, a terminal or a file: it is read up to the limit, and a closed or write-only descriptor is an error.
public enum InputFile {
    public enum Failure: Error, CustomStringConvertible, Equatable, Sendable {
        case notFound(String)
        case isDirectory(String)
        case notRegular(String, kind: String)
        case pseudo(String, fs: String)
        case tooLarge(String, size: Int?, limit: Int, what: String)
        case unreadable(String, String)

        public var description: String {
            switch self {
            case let .notFound(p): return "\(p): no such file"
            case let .isDirectory(p): return "\(p) is a folder, not a file"
            case let .notRegular(p, kind): return "\(p) is \(kind), not a regular file: odflash reads inputs only from files"
            case let .pseudo(p, fs): return "\(p) is a \(fs) pseudo-file, not a file odflash reads"
            case let .tooLarge(p, size, limit, what):
                let s = size.map { "\(p) is \($0) bytes" } ?? "\(p) holds more than \(limit) bytes"
                return "\(s); \(what) are at most \(limit) bytes"
            case let .unreadable(p, why): return "\(p): cannot read: \(why)"
            }
        }

        /// The path the failure is about.
        public var path: String {
            switch self {
            case let .notFound(p), let .isDirectory(p), let .notRegular(p, _), let .pseudo(p, _), let .tooLarge(p, _, _, _),
                 let .unreadable(p, _): return p
            }
        }
    }

    static func kind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFIFO: return "a FIFO"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        case S_IFLNK: return "a symbolic link"
        default: return "not a regular file"
        }
    }

    /// File systems whose files are views of the kernel (sizes that lie: 0 or 4096; contents that change or never
    /// end), told by fstatfs(2)'s magic number wherever they are mounted: proc and sysfs by the folders users know
    /// them by, the rest of sysfs's kin (debugfs, tracefs, securityfs, configfs, cgroup, bpf, efivarfs, pstore) by name.
    static let pseudoFileSystems: [(magic: UInt, name: String)] = [
        (0x9fa0, "/proc"), (0x6265_6572, "/sys"), (0x6462_6720, "debugfs"), (0x7472_6163, "tracefs"),
        (0x7363_6673, "securityfs"), (0x6265_6570, "configfs"), (0x0027_e0eb, "cgroup"), (0x6367_7270, "cgroup2"),
        (0xcafe_4a11, "bpf"), (0xde5e_81e4, "efivarfs"), (0x6165_676c, "pstore"),
    ]

    static func pseudoFileSystem(_ fd: Int32) -> String? {
        let magic = UInt(odflash_fs_magic(fd))
        return pseudoFileSystems.first { $0.magic == magic }?.name
    }

    /// Reads the whole of a named regular file of at most `limit` bytes. `what` names the kind of input in the error
    /// ("firmware images are at most ... bytes").
    public static func read(_ path: String, limit: Int, what: String) throws(Failure) -> [UInt8] {
        let fd = FileName.withPath(path) { open($0, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY) }
        guard fd >= 0 else {
            let e = errno
            if e == ENOENT || e == ENOTDIR { throw .notFound(path) }
            if e == EISDIR { throw .isDirectory(path) }
            if e == ENXIO { throw .notRegular(path, kind: "a FIFO or socket") }
            throw .unreadable(path, String(cString: strerror(e)))
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .unreadable(path, String(cString: strerror(errno))) }
        if st.st_mode & S_IFMT == S_IFDIR { throw .isDirectory(path) }
        guard st.st_mode & S_IFMT == S_IFREG else { throw .notRegular(path, kind: kind(st.st_mode)) }
        if let fs = pseudoFileSystem(fd) { throw .pseudo(path, fs: fs) }
        let size = Int(st.st_size)
        if size > limit { throw .tooLarge(path, size: size, limit: limit, what: what) }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        return try readAll(fd, name: path, expected: size, limit: limit, what: what)
    }

    /// Set at start-up when descriptor 0 was closed (it is then reopened on /dev/null so that no file lands on it).
    nonisolated(unsafe) public static var standardInputClosed = false

    /// Reads standard input up to `limit` bytes (a pipe, a terminal, a file); a closed, write-only or folder
    /// descriptor is an error, and so is input past the limit (/dev/zero, a huge file).
    public static func readStandardInput(limit: Int, what: String) throws(Failure) -> [UInt8] {
        let name = "standard input"
        if standardInputClosed { throw .unreadable(name, "it is closed") }
        var st = stat()
        guard fstat(0, &st) == 0 else {
            throw .unreadable(name, errno == EBADF ? "it is closed" : String(cString: strerror(errno)))
        }
        if st.st_mode & S_IFMT == S_IFDIR { throw .isDirectory(name) }
        let flags = fcntl(0, F_GETFL)
        if flags >= 0 && flags & O_ACCMODE == O_WRONLY { throw .unreadable(name, "it is open for writing only") }
        if st.st_mode & S_IFMT == S_IFREG, Int(st.st_size) > limit {
            throw .tooLarge(name, size: Int(st.st_size), limit: limit, what: what)
        }
        return try readAll(0, name: name, expected: st.st_mode & S_IFMT == S_IFREG ? Int(st.st_size) : 0, limit: limit, what: what)
    }

    /// Reads until end of file, at most limit + 1 bytes (one past the limit proves the input too large).
    static func readAll(_ fd: Int32, name: String, expected: Int, limit: Int, what: String) throws(Failure) -> [UInt8] {
        func failure(_ e: Int32) -> Failure {
            switch e {
            case EBADF: return .unreadable(name, "it is not open for reading")
            case EISDIR: return .isDirectory(name)
            case EAGAIN: return .unreadable(name, "nothing to read on a non-blocking descriptor")
            default: return .unreadable(name, String(cString: strerror(e)))
            }
        }
        var out: [UInt8] = []
        // The size is known (a regular file): read straight into the result, one byte more to see the end; no chunk
        // buffer, no second copy.
        if expected > 0 && expected <= limit {
            var err: Int32 = 0
            out = [UInt8](unsafeUninitializedCapacity: expected + 1) { buf, count in
                count = 0
                while count <= expected {
                    let n = Glibc.read(fd, buf.baseAddress! + count, expected + 1 - count)
                    if n < 0 { if errno == EINTR { continue }; err = errno; return }
                    if n == 0 { return }
                    count += n
                }
            }
            if err != 0 { throw failure(err) }
            // Complete (or the file shrank while read): done. It grew: go on below.
            if out.count <= expected { return out }
        }
        out.reserveCapacity(min(max(expected, 0), limit) + 1)
        var chunk = [UInt8](repeating: 0, count: 1 << 18)
        while out.count <= limit {
            let want = min(chunk.count, limit + 1 - out.count)
            var n = 0
            repeat { n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, want) } } while n < 0 && errno == EINTR
            if n < 0 { throw failure(errno) }
            if n == 0 { return out }
            out.append(contentsOf: chunk[0..<n])
        }
        throw .tooLarge(name, size: expected > limit ? expected : nil, limit: limit, what: what)
    }
}
