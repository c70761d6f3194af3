import Foundation
import Testing
@testable import SCSI

/// The helpers that replaced swift-corelibs-foundation calls (odflash's modules import FoundationEssentials only)
/// against Foundation itself, which the tests may still use: same results on odflash's kinds of input and on
/// awkward ones (tabs, non-ASCII, combining marks, surrogate pairs, slashes).
@Suite struct TextHelpersTests {
    static let texts = ["", " ", "\t", "a", " a ", "\ta b\t", "  ü  ", "x\n", "\n x \n", "\r\n", " \u{301}a", "a \u{301}",
                        "\u{A0}nbsp\u{A0}", "\u{2003}em\u{2003}", "\u{200B}zw\u{200B}", "\u{85}nel\u{85}", "\u{2028}ls\u{2029}",
                        "PIONEER  DVR-107 ", "中文", "😀 ", "ß", "Straße", "ΣΑΣ", "iHAS124   Y", "\u{1F}ctl\u{7F}"]

    @Test func trimmingMatchesFoundation() {
        for t in Self.texts {
            #expect(t.trimmingWhitespace == t.trimmingCharacters(in: .whitespaces), "\(t.debugDescription)")
            #expect(t.trimmingWhitespaceAndNewlines == t.trimmingCharacters(in: .whitespacesAndNewlines), "\(t.debugDescription)")
            let sub = ("#" + t + "#").dropFirst().dropLast()
            #expect(sub.trimmingWhitespace == sub.trimmingCharacters(in: .whitespaces), "\(t.debugDescription) as a Substring")
        }
    }

    @Test func caseInsensitiveEqualityMatchesFoundation() {
        let words = ["ATAPI", "atapi", "AtApI", "ß", "SS", "ss", "Straße", "STRASSE", "Σ", "σ", "ς", "ü", "Ü", "i", "I", "", "x", "PLEXTOR"]
        for a in words {
            for b in words {
                #expect(a.equalsIgnoringCase(b) == (a.caseInsensitiveCompare(b) == .orderedSame), "\(a) / \(b)")
            }
        }
    }

    @Test func paddingMatchesFoundation() {
        for t in Self.texts + ["a😀b", "😀😀"] {
            for n in [0, 1, 2, 3, 5, 12] {
                #expect(t.padded(toLength: n) == t.padding(toLength: n, withPad: " ", startingAt: 0), "\(t.debugDescription) to \(n)")
            }
        }
    }

    @Test func numericOrderMatchesFoundation() {
        let versions = ["1.0", "1.00", "1.01", "1.1", "1.10", "1.2", "BL0X", "BL0Y", "BL1A", "1.08", "1.8", "v2", "v10", "1.0a", "1.0b",
                        "", "0", "00", "9", "10", "1.5.2", "1.5.10", "GL0A", "1.03"]
        for a in versions {
            for b in versions {
                #expect(a.precedesNumerically(b) == (a.compare(b, options: .numeric) == .orderedAscending), "\(a) < \(b)")
            }
        }
    }

    @Test func pathHelpersMatchFoundation() {
        let paths = ["/", "/a", "/a/", "/a/b", "/a/b/", "a/b", "a/b/c.bin", "//a//b//", "///a//b//", "/a/./b", "../x",
                     "firmware-db/families/nec-optiarc.yaml", "/tmp/x y/ü.bin", "ab", "ab/"]
        for p in paths {
            #expect(PathName.last(p) == (p as NSString).lastPathComponent, "\(p) last")
            #expect(PathName.deletingLast(p) == (p as NSString).deletingLastPathComponent, "\(p) deleting last")
        }
        // A one-character relative path: Foundation traps on these; odflash answers like its two-character case.
        #expect(PathName.deletingLast("a") == "" && PathName.last("a") == "a")
    }

    @Test func localPathsMatchFoundation() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("odflash-localpath-\(getpid())").path
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir + "/real/sub", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = FileManager.default.createFile(atPath: dir + "/real/file", contents: Data([1]))
        try FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: dir + "/real")
        try FileManager.default.createSymbolicLink(atPath: dir + "/dangling", withDestinationPath: dir + "/nowhere")
        // Lexical standardizing, as URL's standardizedFileURL gives it for absolute paths.
        for p in ["/a/b/../c", "/../a", "/a/./b/", "/a//b", "/", "/a/b/..", "/a/..", "/a/b/../../..", "/usr/bin/../share/odflash/firmware-db",
                  "/tmp/./", "/a/b/.", "/a/...", "/a/..b", dir + "/link/../x"] {
            #expect(LocalPath.standardized(p) == URL(fileURLWithPath: p).standardizedFileURL.path, "\(p)")
        }
        #expect(LocalPath.standardized("x/../y", cwd: "/base") == "/base/y")
        #expect(LocalPath.standardized("y") == FileManager.default.currentDirectoryPath + "/y")
        // Links resolved where the path exists; a missing last name keeps its resolved folder.
        for p in [dir + "/link/file", dir + "/link/sub", dir + "/link/missing", dir + "/real/./sub/.."] {
            #expect(LocalPath.resolvingLinks(p) == URL(fileURLWithPath: p).resolvingSymlinksInPath().path, "\(p)")
        }
        for p in [dir + "/link", dir + "/real/file", dir + "/real/sub", dir + "/dangling", dir + "/nowhere", "/proc/self/exe"] {
            var isDir: ObjCBool = false
            let there = FileManager.default.fileExists(atPath: p, isDirectory: &isDir)
            #expect(LocalPath.exists(p) == there, "\(p) exists")
            #expect(LocalPath.isDirectory(p) == (there && isDir.boolValue), "\(p) is a folder")
            #expect(LocalPath.linkTarget(p) == (try? FileManager.default.destinationOfSymbolicLink(atPath: p)), "\(p) link")
        }
        #expect(LocalPath.currentDirectory() == FileManager.default.currentDirectoryPath)
        #expect(LocalPath.entries(dir + "/real")?.sorted() == (try? FileManager.default.contentsOfDirectory(atPath: dir + "/real"))?.sorted())
        #expect(LocalPath.entries(dir + "/nowhere") == nil && LocalPath.entries(dir + "/real/file") == nil)
        #expect(LocalPath.real(dir + "/link/file") == dir + "/real/file" && LocalPath.real(dir + "/nowhere") == nil)
    }

    @Test func cFormatMatchesStringFormat() {
        #expect(cFormat("%7.2f", 3.14159) == String(format: "%7.2f", 3.14159))
        #expect(cFormat("%02X", 10) == String(format: "%02X", 10))
        #expect(cFormat("%-5d|", 42) == String(format: "%-5d|", 42))
        #expect(cFormat("%.1f%%", 99.95) == String(format: "%.1f%%", 99.95))
        let long = cFormat("%0300d", 7)
        #expect(long.count == 300 && long.hasSuffix("7"))
    }

    @Test func environmentReadsOneVariable() {
        setenv("ODFLASH_TEST_ENV_VALUE", "x=1 ü", 1)
        #expect(Environment.value("ODFLASH_TEST_ENV_VALUE") == ProcessInfo.processInfo.environment["ODFLASH_TEST_ENV_VALUE"])
        unsetenv("ODFLASH_TEST_ENV_VALUE")
        #expect(Environment.value("ODFLASH_TEST_ENV_VALUE") == nil)
    }
}
