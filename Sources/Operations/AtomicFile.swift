import Foundation
import SCSI
#if canImport(Glibc)
import Glibc
#endif

/// Writes outputs the safe way: a temp file beside the target, fsync, then rename. Never follows a symlink
/// at the target and never leaves a half-written file behind.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String, overwrite: Bool = true) throws {
        var st = stat()
        if lstat(FileName.c(path), &st) == 0 {
            if st.st_mode & S_IFMT == S_IFLNK { throw OperationError("\(path) is a symbolic link; odflash does not write through links", kind: .outputInvalid) }
            if st.st_mode & S_IFMT == S_IFDIR { throw OperationError("\(path) is a directory", kind: .outputInvalid) }
            let type = st.st_mode & S_IFMT
            if type == S_IFCHR || type == S_IFBLK || type == S_IFIFO || type == S_IFSOCK {
                // Never replaced by a regular file, not even with --force-overwrite: a device node or a FIFO is not an output.
                throw OperationError("\(path) is a device node, FIFO or socket, not a file odflash writes", kind: .outputInvalid)
            }
            if !overwrite { throw OperationError("\(path) exists; refusing to overwrite it", kind: .outputExists) }
        }
        let dir = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        let tmp = (dir.isEmpty ? "." : dir) + "/.\(base).odflash-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).tmp"
        let fd = open(FileName.c(tmp), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let e = errno
            throw OperationError("cannot write \(path): \(String(cString: strerror(e)))", kind: .output)
        }
        var ok = true
        data.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + off, raw.count - off)
                if n < 0 { if errno == EINTR { continue }; ok = false; break }
                off += n
            }
        }
        if fsync(fd) != 0 { ok = false }
        close(fd)
        guard ok else {
            let e = errno
            unlink(FileName.c(tmp))
            throw OperationError("cannot write \(path): \(String(cString: strerror(e)))", kind: .output)
        }
        if overwrite {
            guard rename(FileName.c(tmp), FileName.c(path)) == 0 else {
                let e = errno
                unlink(FileName.c(tmp))
                throw OperationError("cannot write \(path): \(String(cString: strerror(e)))", kind: .output)
            }
        } else {
            // No-clobber: link(2) fails when the name exists, even if another process created it a moment ago. A
            // filesystem without hard links gets a check and a rename.
            var r = link(FileName.c(tmp), FileName.c(path))
            var e = errno
            if r != 0 && (e == EPERM || e == EOPNOTSUPP || e == ENOSYS) {
                var st2 = stat()
                if lstat(FileName.c(path), &st2) == 0 { e = EEXIST } else { r = rename(FileName.c(tmp), FileName.c(path)); e = errno }
            }
            unlink(FileName.c(tmp))
            if r != 0 {
                if e == EEXIST { throw OperationError("\(path) exists; refusing to overwrite it", kind: .outputExists) }
                throw OperationError("cannot write \(path): \(String(cString: strerror(e)))", kind: .output)
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
