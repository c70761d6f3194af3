import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes outputs the safe way: a temp file beside the target, fsync, then rename. Never follows a symlink
/// at the target and never leaves a half-written file behind.
enum AtomicFile {
    static func write(_ data: Data, to path: String, overwrite: Bool = true) throws {
        var st = stat()
        if lstat(path, &st) == 0 {
            if st.st_mode & S_IFMT == S_IFLNK { throw CLIError("\(path) is a symbolic link; odflash does not write through links", kind: "output", status: .usage) }
            if st.st_mode & S_IFMT == S_IFDIR { throw CLIError("\(path) is a directory", kind: "output", status: .usage) }
            if !overwrite { throw CLIError("\(path) exists; refusing to overwrite it", kind: "output", status: .refused) }
        }
        let dir = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        let tmp = (dir.isEmpty ? "." : dir) + "/.\(base).odflash-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let e = errno
            throw CLIError("cannot write \(path): \(String(cString: strerror(e)))", kind: "output", status: .failed)
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
        guard ok, rename(tmp, path) == 0 else {
            let e = errno
            unlink(tmp)
            throw CLIError("cannot write \(path): \(String(cString: strerror(e)))", kind: "output", status: .failed)
        }
    }
}
