#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import SCSI
#if canImport(Glibc)
import Glibc
#endif

/// Writes outputs the safe way: the bytes go to an unnamed file (O_TMPFILE) in the target's folder, are synced, and
/// only then get a name (linkat), so a process killed at any moment (even `kill -9`) leaves no temp file behind. Never
/// follows a symlink at the target and never replaces a device node, FIFO or socket, not even with overwrite. Where
/// the filesystem has no O_TMPFILE, a named `.NAME.odflash-PID-N.tmp` is used, and stale ones of the same output left by
/// a process that no longer runs are removed on the next write (said through `notice`).
public enum AtomicFile {
    /// Where a one-line notice goes (a stale temp file removed); the CLI sets it to its warning line.
    nonisolated(unsafe) public static var notice: ((String) -> Void)?

    /// O_TMPFILE as Linux defines it (__O_TMPFILE | O_DIRECTORY); Glibc's macro is not imported into Swift.
    static let oTmpfile: Int32 = 0o20000000 | O_DIRECTORY

    /// Why `path` cannot be an output (a link, a folder, a device node, a FIFO, a socket), or nil; `exists` tells
    /// whether a regular file is there.
    public static func targetProblem(_ path: String) -> (problem: OperationError?, exists: Bool) {
        var st = stat()
        guard lstat(FileName.c(path), &st) == 0 else { return (nil, false) }
        switch st.st_mode & S_IFMT {
        case S_IFLNK: return (OperationError("\(path) is a symbolic link; odflash does not write through links", kind: .outputInvalid), true)
        case S_IFDIR: return (OperationError("\(path) is a directory", kind: .outputInvalid), true)
        case S_IFREG: return (nil, true)
        default:
            // Never replaced by a regular file, not even with --force-overwrite: a device node or a FIFO is not an output.
            return (OperationError("\(path) is a device node, FIFO or socket, not a file odflash writes", kind: .outputInvalid), true)
        }
    }

    public static func write(_ data: Data, to path: String, overwrite: Bool = true) throws {
        let (problem, exists) = targetProblem(path)
        if let problem { throw problem }
        if exists && !overwrite { throw OperationError("\(path) exists; refusing to overwrite it", kind: .outputExists) }
        let dirPart = PathName.deletingLast(path)
        let dir = dirPart.isEmpty ? "." : dirPart
        let base = PathName.last(path)
        removeStale(dir: dir, base: base)

        func failure(_ e: Int32) -> OperationError { OperationError("cannot write \(path): \(String(cString: strerror(e)))", kind: .output) }

        // The unnamed file first; a named temp file only where the filesystem cannot make one.
        var fd = open(FileName.c(dir), oTmpfile | O_WRONLY | O_CLOEXEC, 0o644)
        var tmp: String?
        if fd < 0 {
            let e = errno
            guard e == EOPNOTSUPP || e == EISDIR || e == EINVAL || e == ENOENT && access(dir, F_OK) == 0 else { throw failure(e) }
            let t = dir + "/.\(base).odflash-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).tmp"
            fd = open(FileName.c(t), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw failure(errno) }
            tmp = t
        }
        var err: Int32 = 0
        data.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + off, raw.count - off)
                if n < 0 { if errno == EINTR { continue }; err = errno; break }
                off += n
            }
        }
        if err == 0 && fsync(fd) != 0 { err = errno }
        if err != 0 {
            close(fd)
            if let tmp { unlink(FileName.c(tmp)) }
            throw failure(err)
        }
        defer { close(fd) }

        // Gives the unnamed file a name; EEXIST when the name is taken (also by another process a moment ago).
        func name(_ target: String) -> Int32 {
            if linkat(AT_FDCWD, "/proc/self/fd/\(fd)", AT_FDCWD, FileName.c(target), AT_SYMLINK_FOLLOW) == 0 { return 0 }
            let e = errno
            if e == EEXIST { return e }
            // No /proc: AT_EMPTY_PATH (needs CAP_DAC_READ_SEARCH on older kernels).
            return linkat(fd, "", AT_FDCWD, FileName.c(target), 0x1000 /* AT_EMPTY_PATH */) == 0 ? 0 : errno
        }

        if let tmp {
            // The named fallback: rename over (overwrite), or link(2) no-clobber.
            if overwrite {
                guard rename(FileName.c(tmp), FileName.c(path)) == 0 else { let e = errno; unlink(FileName.c(tmp)); throw failure(e) }
                return
            }
            var r = link(FileName.c(tmp), FileName.c(path))
            var e = errno
            if r != 0 && (e == EPERM || e == EOPNOTSUPP || e == ENOSYS) {
                var st2 = stat()
                if lstat(FileName.c(path), &st2) == 0 { e = EEXIST } else { r = rename(FileName.c(tmp), FileName.c(path)); e = errno }
            }
            unlink(FileName.c(tmp))
            if r != 0 {
                if e == EEXIST { throw OperationError("\(path) exists; refusing to overwrite it", kind: .outputExists) }
                throw failure(e)
            }
            return
        }
        if !overwrite || !exists {
            let e = name(path)
            if e == EEXIST { throw OperationError("\(path) exists; refusing to overwrite it", kind: .outputExists) }
            if e != 0 { throw failure(e) }
            return
        }
        // Replacing a file: the finished file gets a temp name for the instant before the rename (a kill in between
        // leaves it, and the next write removes it).
        let t = dir + "/.\(base).odflash-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).tmp"
        let e = name(t)
        if e != 0 { throw failure(e) }
        // The target may have become something else since the check (never replace a device node or FIFO).
        if let problem = targetProblem(path).problem { unlink(FileName.c(t)); throw problem }
        guard rename(FileName.c(t), FileName.c(path)) == 0 else { let e = errno; unlink(FileName.c(t)); throw failure(e) }
    }

    /// Removes `.BASE.odflash-PID-N.tmp` files in `dir` whose process no longer runs (an older odflash killed while
    /// writing the same output), saying so in one line each. A temp file of a running process is left alone.
    static func removeStale(dir: String, base: String) {
        let prefix = ".\(base).odflash-"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return }
        for n in names where n.hasPrefix(prefix) && n.hasSuffix(".tmp") {
            let rest = n.dropFirst(prefix.count).dropLast(4)
            guard let dash = rest.firstIndex(of: "-"), let pid = Int32(rest[..<dash]), pid > 0,
                  rest[rest.index(after: dash)...].allSatisfy(\.isNumber) else { continue }
            if pid == getpid() || kill(pid, 0) == 0 || errno != ESRCH { continue }
            let p = dir + "/" + n
            var st = stat()
            guard lstat(FileName.c(p), &st) == 0, st.st_mode & S_IFMT == S_IFREG else { continue }
            if unlink(FileName.c(p)) == 0 {
                notice?("removed the stale temp file \(p) left by an interrupted odflash (process \(pid))")
            }
        }
    }
}

/// A file's identity (device and inode, following links): the same file under two names, through a symlinked folder,
/// a hard link or a bind mount, is one identity.
public struct FileIdentity: Equatable, Sendable {
    public let device: UInt64
    public let inode: UInt64

    public init?(_ path: String) {
        var st = stat()
        guard stat(FileName.c(path), &st) == 0 else { return nil }
        device = UInt64(st.st_dev); inode = UInt64(st.st_ino)
    }

    /// Whether writing `output` would write onto one of `inputs`.
    public static func wouldOverwrite(_ output: String, anyOf inputs: [String]) -> Bool {
        guard let o = FileIdentity(output) else { return false }
        return inputs.contains { FileIdentity($0) == o }
    }
}
