import Foundation
import Testing
@testable import SCSI
#if canImport(Glibc)
import Glibc
#endif

/// File names as bytes, the bounded reader and the flat JSON-lines reader (#16 classes 3 and 6).
@Suite struct FileNameTests {
    @Test func everyByteStringRoundTrips() {
        let samples: [[UInt8]] = [Array("plain.bin".utf8), [0xFF, 0xFE, 0x2E], Array("café".utf8), [0x63, 0x61, 0x66, 0xE9],
                                  [0xC3, 0x28], [0xED, 0xA0, 0x80], [0xEF, 0x9F, 0xBF], [0xF0, 0x9F, 0x98, 0x80], [0x80],
                                  [0xE2, 0x82], [0xC0, 0xAF], [0xF4, 0x90, 0x80, 0x80]]
        for s in samples { #expect(FileName.bytes(of: FileName.decode(s)) == s, "\(s)") }
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let s = (0..<Int.random(in: 0...12, using: &rng)).map { _ in UInt8.random(in: 1...255, using: &rng) }
            #expect(FileName.bytes(of: FileName.decode(s)) == s)
        }
        #expect(FileName.decode(Array("café".utf8)) == "café")
    }

    @Test func displayEscapesWhatATerminalWouldObey() {
        #expect(FileName.display("a\u{1B}[2J\r\nb\u{7}") == "a\\e[2J\\r\\nb\\x07")
        #expect(FileName.display("x\u{9B}2J") == "x\\u{9B}2J")
        #expect(FileName.display(FileName.decode([0xFF, 0xFE, 0x2E])) == "\\xFF\\xFE.")
        #expect(FileName.display("plain – ok") == "plain – ok")
        let long = FileName.oneLine(String(repeating: "x", count: 10_000), limit: 200)
        #expect(long.count <= 200 && long.hasSuffix("more characters)"))
    }

    @Test func aNameThatIsNotUTF8IsOpenedByItsBytes() throws {
        let dir = NSTemporaryDirectory() + "odflash-fn-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let name = dir + "/" + FileName.decode([0xFF, 0xFE, 0x2E, 0x62])
        let fd = FileName.withPath(name) { open($0, O_WRONLY | O_CREAT | O_EXCL, 0o644) }
        #expect(fd >= 0)
        _ = write(fd, "abc", 3); close(fd)
        #expect(try InputFile.read(name, limit: 10, what: "tests") == Array("abc".utf8))
        #expect(FileName.exists(name))
    }
}

@Suite struct InputFileTests {
    func tempDir() throws -> String {
        let d = NSTemporaryDirectory() + "odflash-in-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    @Test func specialFilesAreRefusedWithoutBlocking() throws {
        let d = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        #expect(mkfifo(d + "/fifo", 0o600) == 0)
        let start = Date()
        #expect(throws: InputFile.Failure.notRegular(d + "/fifo", kind: "a FIFO")) { try InputFile.read(d + "/fifo", limit: 100, what: "t") }
        #expect(Date().timeIntervalSince(start) < 2)
        #expect(throws: InputFile.Failure.isDirectory(d)) { try InputFile.read(d, limit: 100, what: "t") }
        #expect(throws: InputFile.Failure.notRegular("/dev/zero", kind: "a character device")) { try InputFile.read("/dev/zero", limit: 100, what: "t") }
        #expect(throws: InputFile.Failure.pseudo("/proc/self/status", fs: "/proc")) { try InputFile.read("/proc/self/status", limit: 1 << 20, what: "t") }
        // sysfs, told by its file-system type rather than by the path (a bind mount elsewhere is the same file system).
        for p in ["/sys/kernel/mm/transparent_hugepage/enabled", "/sys/devices/system/cpu/online"] where FileManager.default.isReadableFile(atPath: p) {
            #expect(throws: InputFile.Failure.pseudo(p, fs: "/sys")) { try InputFile.read(p, limit: 1 << 20, what: "t") }
        }
        #expect(throws: InputFile.Failure.notFound(d + "/none")) { try InputFile.read(d + "/none", limit: 100, what: "t") }
    }

    @Test func theLimitIsStatedAndSparseFilesAreNotRead() throws {
        let d = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        #expect(FileManager.default.createFile(atPath: d + "/big", contents: nil))
        #expect(truncate(d + "/big", 4 << 30) == 0)
        do {
            _ = try InputFile.read(d + "/big", limit: 1 << 20, what: "journals")
            Issue.record("a 4 GiB file was read")
        } catch {
            #expect(error.description == "\(d)/big is 4294967296 bytes; journals are at most 1048576 bytes")
        }
        #expect(FileManager.default.createFile(atPath: d + "/ok", contents: Data(repeating: 7, count: 1000)))
        #expect(try InputFile.read(d + "/ok", limit: 1000, what: "t").count == 1000)
        #expect(throws: InputFile.Failure.tooLarge(d + "/ok", size: 1000, limit: 999, what: "t")) { try InputFile.read(d + "/ok", limit: 999, what: "t") }
    }
}

@Suite struct JSONLinesTests {
    @Test func linesSplitOnLFAndDropCR() {
        let l = JSONLines.lines(Array("{\"a\":1}\r\n\r\n  \n{\"b\":2}".utf8))
        #expect(l.map(\.number) == [1, 4])
        #expect(l.map { String(decoding: $0.bytes, as: UTF8.self) } == ["{\"a\":1}", "{\"b\":2}"])
    }

    @Test func flatObjectsOnlyWithReasons() {
        func why(_ s: String) -> String? {
            if case let .failure(f) = JSONLines.object(ArraySlice(Array(s.utf8))) { return f.description }
            return nil
        }
        if case let .success(o) = JSONLines.object(ArraySlice(Array(#"{"s":"a\u00e9\n","n":-1.5e3,"t":true,"z":null}"#.utf8))) {
            #expect(o == ["s": .string("aé\n"), "n": .number("-1.5e3"), "t": .bool(true), "z": .null])
        } else { Issue.record("a valid object was refused") }
        #expect(why(String(repeating: "[", count: 200_000))?.hasPrefix("not a JSON object") == true)
        #expect(why(#"{"a":[1]}"#)?.contains("holds an array") == true)
        #expect(why(#"{"a":1,"a":2}"#)?.contains("appears twice") == true)
        #expect(why("{\"a\":\"x\u{0}\"}") == "a NUL byte")
        #expect(why(#"{"a":1} x"#)?.contains("text after the object") == true)
        #expect(why(#"{"a":"#)?.contains("ends early") == true)
        var bad = Array(#"{"a":"x"}"#.utf8); bad[6] = 0xFF
        #expect(JSONLines.object(ArraySlice(bad)).isFailure)
    }

    @Test func typedFieldsNameLineAndExpectation() throws {
        guard case let .success(f) = JSONLines.object(ArraySlice(Array(#"{"code":1180591620717411303424,"d":"x"}"#.utf8))) else {
            Issue.record("parse"); return
        }
        let r = JSONLines.Record(source: "t.jsonl", line: 7, fields: f)
        #expect(throws: JSONLines.Failure.self) { try r.int("code", 0...255) }
        do { _ = try r.int("code", 0...255) } catch {
            #expect(error.description == "t.jsonl line 7: field 'code' must be an integer from 0 to 255, not 1180591620717411303424")
        }
        do { _ = try r.int("d", 0...1) } catch { #expect(error.description.contains("not \"x\"")) }
        do { _ = try r.string("missing", required: true) } catch { #expect(error.description == "t.jsonl line 7: field 'missing' is missing") }
    }
}

extension Result {
    var isFailure: Bool { if case .failure = self { return true }; return false }
}
