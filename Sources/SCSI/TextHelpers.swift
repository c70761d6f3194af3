#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The few string, path, formatting and locking helpers odflash took from swift-corelibs-foundation (module Foundation,
// which links CoreFoundation and ICU). The modules above import only FoundationEssentials; these keep the exact
// results Foundation gave for odflash's inputs. Named apart from Foundation's so the tests, which still import
// Foundation, see no ambiguity.

extension StringProtocol {
    /// Foundation's `trimmingCharacters(in:)`: drops leading and trailing Unicode scalars for which `drop` holds.
    public func trimmingScalars(where drop: (Unicode.Scalar) -> Bool) -> String {
        let u = unicodeScalars
        var a = u.startIndex, b = u.endIndex
        while a < b, drop(u[a]) { a = u.index(after: a) }
        while b > a, drop(u[u.index(before: b)]) { b = u.index(before: b) }
        var out = String.UnicodeScalarView()
        out.append(contentsOf: u[a..<b])
        return String(out)
    }

    /// `trimmingCharacters(in: .whitespaces)`: CharacterSet.whitespaces is general category Zs, tab and U+200B.
    public var trimmingWhitespace: String { trimmingScalars(where: TextClass.isWhitespace) }

    /// `trimmingCharacters(in: .whitespacesAndNewlines)`: the whitespace above, U+000A to U+000D, U+0085, U+2028 and
    /// U+2029.
    public var trimmingWhitespaceAndNewlines: String {
        trimmingScalars { TextClass.isWhitespace($0) || TextClass.isNewline($0) }
    }

    /// `caseInsensitiveCompare(_:) == .orderedSame`, by the full uppercase mapping (ß matches SS as it did there).
    public func equalsIgnoringCase<T: StringProtocol>(_ other: T) -> Bool {
        uppercased() == other.uppercased()
    }

    /// `padding(toLength:withPad:" ",startingAt:0)`: spaces appended, or the string cut, to `length` UTF-16 code
    /// units (NSString's length).
    public func padded(toLength length: Int) -> String {
        let s = String(self)
        let n = s.utf16.count
        if n < length { return s + String(repeating: " ", count: length - n) }
        if n == length { return s }
        let cut = s.utf16.index(s.utf16.startIndex, offsetBy: length)
        // A cut inside a surrogate pair left NSString half a character, which became U+FFFD in the Swift string.
        return String(s[..<cut]) + (cut.samePosition(in: s.unicodeScalars) == nil ? "\u{FFFD}" : "")
    }
}

extension String {
    /// `compare(other, options: .numeric) == .orderedAscending`: runs of ASCII digits compare by their value (leading
    /// zeros ignored, so "1.00" equals "1.0"), everything else by Unicode scalar value.
    public func precedesNumerically(_ other: String) -> Bool {
        let a = Array(unicodeScalars), b = Array(other.unicodeScalars)
        func isDigit(_ c: Unicode.Scalar) -> Bool { c.value >= 0x30 && c.value <= 0x39 }
        func run(_ s: [Unicode.Scalar], _ from: Int) -> (digits: ArraySlice<Unicode.Scalar>, end: Int) {
            var end = from
            while end < s.count, isDigit(s[end]) { end += 1 }
            var start = from
            while start < end - 1, s[start] == "0" { start += 1 }
            return (s[start..<end], end)
        }
        var i = 0, j = 0
        while i < a.count, j < b.count {
            if isDigit(a[i]), isDigit(b[j]) {
                let x = run(a, i), y = run(b, j)
                if x.digits.count != y.digits.count { return x.digits.count < y.digits.count }
                for (p, q) in zip(x.digits, y.digits) where p != q { return p.value < q.value }
                i = x.end; j = y.end
            } else {
                if a[i] != b[j] { return a[i].value < b[j].value }
                i += 1; j += 1
            }
        }
        return i == a.count && j < b.count
    }
}

/// The scalar classes of Foundation's CharacterSet that odflash used.
public enum TextClass {
    /// CharacterSet.whitespaces: general category Zs, U+0009 and U+200B (CoreFoundation's table still has it).
    public static func isWhitespace(_ c: Unicode.Scalar) -> Bool {
        c == "\t" || c.value == 0x200B || c.properties.generalCategory == .spaceSeparator
    }

    /// CharacterSet.newlines: U+000A to U+000D, U+0085, U+2028, U+2029.
    public static func isNewline(_ c: Unicode.Scalar) -> Bool {
        (0x0A...0x0D).contains(c.value) || c.value == 0x85 || c.value == 0x2028 || c.value == 0x2029
    }
}

/// NSString's path helpers as swift-corelibs-foundation defines them (slashes are compressed and one trailing slash
/// dropped first).
public enum PathName {
    /// Their slash fixing, step for step: runs of slashes become one (its index walk, carried over from before each
    /// replacement, gives "///a//b//" as "/a//b"), then one trailing slash goes.
    static func fixingSlashes(_ path: String) -> String {
        if path == "/" { return path }
        var result = path
        var end = result.endIndex
        var cur = result.startIndex
        while cur < end {
            if result[cur] == "/" {
                var after = cur
                while after < end && result[after] == "/" { after = result.index(after: after) }
                if after != result.index(after: cur) {
                    result.replaceSubrange(cur..<after, with: ["/"])
                    end = result.endIndex
                }
                cur = after
            } else {
                cur = result.index(after: cur)
            }
        }
        if result.hasSuffix("/") { result.removeLast() }
        return result
    }

    /// `(path as NSString).lastPathComponent`: "/a/b/" is "b", "/" is "/", "" is "".
    public static func last(_ path: String) -> String {
        let p = fixingSlashes(path)
        if p.utf16.count <= 1 { return p }
        if let slash = p.lastIndex(of: "/") { return String(p[p.index(after: slash)...]) }
        return p
    }

    /// `(path as NSString).deletingLastPathComponent`: "/a/b" is "/a", "/a" is "/", "a" is "", "/" is "/".
    public static func deletingLast(_ path: String) -> String {
        let p = fixingSlashes(path)
        if p == "/" || p.isEmpty { return p }
        guard let slash = p.lastIndex(of: "/") else { return "" }
        if slash == p.startIndex { return "/" }
        return String(p[..<slash])
    }
}

/// The file-system questions start-up asks (where is the executable, which folder is current, does this exist), with
/// the C library's calls: FileManager and URL cost more to set up than the questions themselves.
public enum LocalPath {
    /// The path made absolute against `cwd` (the current folder when nil), runs of slashes as one, "." components
    /// dropped and each ".." taking away the component before it ("/.." is "/"): URL's standardizedFileURL.path.
    public static func standardized(_ path: String, cwd: String? = nil) -> String {
        let full = path.hasPrefix("/") ? path : (cwd ?? currentDirectory()) + "/" + path
        var parts: [Substring] = []
        for c in full.split(separator: "/", omittingEmptySubsequences: true) {
            if c == "." { continue }
            if c == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(c)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// realpath(3): the path with every link resolved, or nil when it does not exist.
    public static func real(_ path: String) -> String? {
        guard let r = realpath(path, nil) else { return nil }
        defer { free(r) }
        return String(cString: r)
    }

    /// The path with every link resolved when it exists, else only standardized (URL's resolvingSymlinksInPath).
    public static func resolvingLinks(_ path: String) -> String {
        let std = standardized(path)
        return real(std) ?? std
    }

    /// stat(2) succeeds: the name exists (links followed).
    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    /// The name exists and is a folder (links followed).
    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// getcwd(3); "/" should the current folder have no name (removed, or beyond the path limit).
    public static func currentDirectory() -> String {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buf, buf.count) != nil else { return "/" }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// readlink(2): where a symbolic link points, nil when the name is not a link.
    public static func linkTarget(_ path: String) -> String? {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink(path, &buf, buf.count - 1)
        guard n >= 0 else { return nil }
        return String(decoding: buf.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The names in a folder ("." and ".." left out; in the order readdir(3) gives), nil when it cannot be read.
    public static func entries(_ dir: String) -> [String]? {
        guard let d = opendir(dir) else { return nil }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: &e.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}

/// printf-style formatting of numbers through the C library's vsnprintf (the conversions String(format:) shared with
/// it: %d, %X, %f with flags, width and precision; no %@).
public func cFormat(_ format: String, _ arguments: CVarArg...) -> String {
    withVaList(arguments) { list in
        var buffer = [CChar](repeating: 0, count: 256)
        let n = Int(buffer.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress, $0.count, format, list) })
        if n >= buffer.count {
            buffer = [CChar](repeating: 0, count: n + 1)
            return withVaList(arguments) { again in
                _ = buffer.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress, $0.count, format, again) }
                return String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
        }
        return String(decoding: buffer.prefix(max(0, n)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// NSLock: a pthread mutex.
public final class Lock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    public init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    public func lock() { pthread_mutex_lock(mutex) }
    public func unlock() { pthread_mutex_unlock(mutex) }

    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}

/// One environment variable, read with getenv(3): ProcessInfo's `environment` builds a dictionary of every variable
/// on each call, which start-up paths do not need.
public enum Environment {
    public static func value(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
}
