import Foundation
import Testing
@testable import CLI

/// The README's exit-status table, one test per row: each runs real commands that must give that status, with text
/// output and with --json alike.
@Suite struct ExitStatusTests {
    func expectStatus(_ code: Int32, _ args: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        for json in [false, true] {
            let r = odflash(json ? args + ["--json"] : args)
            #expect(r.status == code, "\(args.joined(separator: " "))\(json ? " --json" : ""): exit \(r.status), expected \(code)\n\(r.err)\(r.out.suffix(400))",
                    sourceLocation: sourceLocation)
        }
    }

    func generate(_ d: String, _ name: String, _ args: String...) -> String {
        let p = d + "/" + name
        #expect(odflash(["fw", "generate", "-o", p, "--force-overwrite"] + args).status == 0)
        return p
    }

    /// 0: success.
    @Test func row0Success() throws {
        let d = tempDir()
        let img = generate(d, "s.bin", "--family", "synthetic-test", "--revision", "1.02")
        expectStatus(0, ["sense", "03/0C/00"])
        expectStatus(0, ["info", "emu:ihas124y-cmc"])
        expectStatus(0, ["fw", "inspect", img])
        expectStatus(0, ["fw", "diff", img, img])
        expectStatus(0, ["db", "lint"])
        expectStatus(0, ["flash", "emu:synthetic-writer", img, "--dry-run"])
        expectStatus(0, ["flash", "emu:synthetic-writer", img, "--yes", "--backup-dir", d])
        #expect(odflash("fw", "patch", img, "-o", d + "/patched.bin", "--rename", "97:24:00=97:26:60").status == 0)
        expectStatus(0, ["media", "emu:ihas124y-cmc", "--check", "--firmware", d + "/patched.bin"])
        expectStatus(0, ["dump", "emu:synthetic-writer", d + "/dump.bin", "--force-overwrite"])
    }

    /// 1: the operation ran and found a problem: an invalid image, an invalid dump, a disc the firmware does not list,
    /// files that differ, firmware-db lint issues, a replay that diverges from its transcript.
    @Test func row1FoundAProblem() throws {
        let d = tempDir()
        let img = generate(d, "s.bin", "--family", "synthetic-test")
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: img)))
        bytes[0x1234] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: d + "/bad.bin"))
        expectStatus(1, ["fw", "inspect", d + "/bad.bin"])                                       // invalid image
        let erased = try editedProfile("synthetic-writer", d, [("initialImage:", "# initialImage:")], name: "erased")
        expectStatus(1, ["dump", erased, d + "/erased.bin", "--force-overwrite"])                // invalid dump (kept)
        #expect(FileManager.default.fileExists(atPath: d + "/erased.bin"))
        expectStatus(1, ["media", "emu:ihas124y-cmc", "--check", "--firmware", img])             // disc not listed
        expectStatus(1, ["fw", "diff", img, d + "/bad.bin"])                                     // files differ
        expectStatus(1, ["db", "lint", "--db", try brokenDB()])                                  // lint issues
        #expect(odflash("info", "emu:ihas124y", "--transcript", d + "/t.jsonl").status == 0)
        expectStatus(1, ["region", "replay:" + d + "/t.jsonl"])                                  // a replay that diverges
    }

    /// 2: bad arguments or bad input.
    @Test func row2BadArgumentsOrInput() throws {
        let d = tempDir()
        // Arguments.
        expectStatus(2, ["nosuchcommand"])
        expectStatus(2, ["fw", "inspect", "--no-such-option", "x.bin"])
        expectStatus(2, ["dump", "emu:ihas324y"])                                                // a missing argument
        expectStatus(2, ["region", "emu:ihas124y", "--set", "9"])
        expectStatus(2, ["journal", "--last", "0"])
        let img = generate(d, "s.bin", "--family", "synthetic-test", "--revision", "1.02")
        #expect(odflash("flash", "--json", "emu:synthetic-writer", img, "--backup-dir", d).status == 2)   // no --yes and no terminal
        // Input.
        expectStatus(2, ["sense", "not a sense code"])
        expectStatus(2, ["fw", "inspect", d + "/missing.bin"])
        expectStatus(2, ["fw", "generate", "--family", "nope", "-o", d + "/n.bin"])
        try Data("not a zip".utf8).write(to: URL(fileURLWithPath: d + "/x.zip"))
        expectStatus(2, ["fw", "members", d + "/x.zip"])
        expectStatus(2, ["info", "emu:ihas124y", "--db", try brokenDB()])                        // a broken firmware-db
        try FileManager.default.createSymbolicLink(atPath: d + "/link.bin", withDestinationPath: d + "/target.bin")
        expectStatus(2, ["fw", "generate", "--family", "synthetic-test", "-o", d + "/link.bin", "--force-overwrite"])   // an output that is a link
    }

    /// 3: the device could not be opened or answered wrongly.
    @Test func row3Device() throws {
        let d = tempDir()
        expectStatus(3, ["info", "/dev/sg99"])
        expectStatus(3, ["info", "emu:nope"])
        expectStatus(3, ["media", "emu:ihas124y", "--check", "--firmware", d + "/x.bin"])         // no disc
        let refusing = try editedProfile("ihas124y", d, [("behavior: nec", "behavior: spc")])
        expectStatus(3, ["dump", refusing, d + "/x.bin"])                                        // the drive refuses the vendor read
        #expect(!FileManager.default.fileExists(atPath: d + "/x.bin"))
    }

    /// 4: refused by a safety check.
    @Test func row4Refused() throws {
        let d = tempDir()
        let img = generate(d, "s.bin", "--family", "synthetic-test", "--revision", "0.90")
        expectStatus(4, ["flash", "emu:synthetic-writer", img, "--dry-run"])                     // preflight: the same version
        expectStatus(4, ["flash", "emu:ihas124y-cmc", img, "--dry-run"])                         // preflight: image family
        expectStatus(4, ["dump", "emu:px716a", d + "/p.bin"])                                    // no public read method
        expectStatus(4, ["booktype", "emu:bu40n"])                                               // no known book-type command
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: img)))
        bytes[0x1234] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: d + "/bad.bin"))
        expectStatus(4, ["fw", "patch", d + "/bad.bin", "--dry-run", "--region-free"])            // its checksums are already BAD
        try Data("keep".utf8).write(to: URL(fileURLWithPath: d + "/exists.bin"))
        expectStatus(4, ["fw", "patch", img, "-o", d + "/exists.bin", "--region-free"])          // never replaces a file
        expectStatus(4, ["dump", "emu:synthetic-writer", d + "/exists.bin"])
        #expect(try String(contentsOfFile: d + "/exists.bin", encoding: .utf8) == "keep")
        for json in [false, true] {
            let s = Runner.main(["sense", "3/11/0"] + (json ? ["--json"] : []), console: Console(out: { _ in }, err: { _ in }), ids: (1000, 0, 1000, 1000))
            #expect(s == 4, "setuid")
        }
    }

    /// 5: a flash started and did not complete (the drive failed a write), or could not be verified (the drive reports
    /// another revision afterwards). Emulated drives derived from the synthetic writer, flashed for real.
    @Test func row5FlashFailedAfterItStarted() throws {
        let d = tempDir()
        let img = generate(d, "s.bin", "--family", "synthetic-test", "--revision", "1.02")
        let small = try editedProfile("synthetic-writer", d, [("size: 0x100000", "size: 0x8000"), ("initialImage:", "# initialImage:")], name: "small")
        expectStatus(5, ["flash", small, img, "--yes", "--no-backup"])
        let r = odflash("flash", small, img, "--yes", "--no-backup")
        #expect(r.out.contains("FATAL") && r.out.contains("do NOT power off") && r.err.hasPrefix("odflash: error: flash fatal"), "\(r.out)\(r.err)")
        let badrev = try editedProfile("synthetic-writer", d, [("revisionOffset: 0x58", "revisionOffset: 0x60")], name: "badrev")
        expectStatus(5, ["flash", badrev, img, "--yes", "--backup-dir", d])
        #expect(odflash("flash", badrev, img, "--yes", "--backup-dir", d).out.contains("UNVERIFIED"))
    }
}
