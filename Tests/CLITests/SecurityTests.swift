import Foundation
import Testing
@testable import CLI

/// The security rules: no setuid, no writing through symbolic links, device strings made safe before they name
/// files, profile names that cannot reach outside firmware-db/emulator.
@Suite struct SecurityTests {
    @Test func refusesSetuidAndSetgid() {
        for ids: (uid_t, uid_t, gid_t, gid_t) in [(1000, 0, 1000, 1000), (1000, 1000, 1000, 0)] {
            var out = "", err = ""
            let s = Runner.main(["sense", "3/11/0"], console: Console(out: { out += $0 }, err: { err += $0 }), ids: ids)
            #expect(s == 4 && out.isEmpty && err == "odflash: error: odflash refuses to run setuid or setgid: run it as the user you are\n")
        }
    }

    @Test func neverWritesThroughASymlink() throws {
        let d = tempDir()
        let target = d + "/target.bin"
        try Data("keep".utf8).write(to: URL(fileURLWithPath: target))
        for (i, args) in [["fw", "generate", "--family", "synthetic-test", "--force-overwrite", "-o"], ["dump", "emu:ihas324y", "--force-overwrite"]].enumerated() {
            let link = d + "/link\(i).bin"
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
            expectOneLineError(odflash(args + [link]), status: 2, containing: "is a symbolic link")
            #expect(try String(contentsOfFile: target, encoding: .utf8) == "keep")
        }
        // The transcript and the journal too.
        let tlink = d + "/t.txt"
        try FileManager.default.createSymbolicLink(atPath: tlink, withDestinationPath: target)
        let r = odflash("info", "emu:ihas124y", "--transcript", tlink)
        #expect(r.status != 0 && r.err.contains("symbolic link"))
        let jlink = d + "/j.jsonl"
        try FileManager.default.createSymbolicLink(atPath: jlink, withDestinationPath: target)
        let img = d + "/s.bin"
        #expect(odflash("fw", "generate", "--family", "synthetic-test", "--revision", "1.05", "-o", img).status == 0)
        let f = odflash("flash", "emu:synthetic-writer", img, "--yes", "--backup-dir", d, "--journal", jlink)
        #expect(f.status != 0 && f.err.contains("flash journal"), "\(f.err)")
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "keep")
    }

    /// A drive whose INQUIRY strings hold path characters cannot steer the backup's file name.
    @Test func backupNamesAreSanitised() throws {
        let d = tempDir()
        let src = try String(contentsOfFile: db + "/emulator/synthetic-writer.yaml", encoding: .utf8)
        let prof = d + "/evil.yaml"
        try src.replacingOccurrences(of: "revision: \"0.90\"", with: "revision: \"../.\"").write(toFile: prof, atomically: true, encoding: .utf8)
        let img = d + "/s.bin"
        #expect(odflash("fw", "generate", "--family", "synthetic-test", "--revision", "1.05", "-o", img).status == 0)
        try FileManager.default.createDirectory(atPath: d + "/b", withIntermediateDirectories: true)
        let r = odflash("flash", "emu:" + prof, img, "--yes", "--backup-dir", d + "/b", "--allow-reinstall")
        #expect(r.status == 0, "\(r.err)")
        let files = try FileManager.default.contentsOfDirectory(atPath: d + "/b")
        #expect(files.count == 1 && files[0].hasPrefix("backup-SYNTHETC-SYNTHETIC_DRIVE-") && !files[0].contains("/") && !files[0].contains(".."), "\(files)")
        #expect(!FileManager.default.fileExists(atPath: d + "/backup-SYNTHETC-SYNTHETIC_DRIVE-.bin"))
    }

    @Test func profileNamesStayInTheEmulatorFolder() {
        // A bare name with traversal characters is not a profile name; a path must be given as a path.
        expectOneLineError(odflash("info", "emu:..%2f..%2fetc"), status: 3, containing: "no emulated drive profile")
        let r = odflash("info", "emu:../../../../etc/passwd")
        #expect(r.status != 0 && r.err.hasPrefix("odflash: error: ") && r.err.filter { $0 == "\n" }.count == 1)
    }

    /// No output of a command lands on its input: not the transcript, not the journal, not a patch's output reached
    /// through a link; the image stays byte-identical.
    @Test func outputsNeverLandOnTheInput() throws {
        let d = tempDir()
        let img = d + "/in.bin"
        #expect(odflash("fw", "generate", "--family", "synthetic-test", "--revision", "1.04", "-o", img).status == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: img))
        let t = odflash("flash", "emu:synthetic-writer", img, "--dry-run", "--transcript", img)
        #expect(t.status == 2 && t.err.hasPrefix("odflash: error: --transcript") && t.err.contains("is an input of this command"), "\(t.err)")
        let j = odflash("flash", "emu:synthetic-writer", img, "--dry-run", "--journal", img)
        #expect(j.status == 4 && j.err.contains("the journal \(img) is the image being flashed"), "\(j.err)")
        try FileManager.default.createSymbolicLink(atPath: d + "/link.bin", withDestinationPath: img)
        expectOneLineError(odflash("fw", "patch", img, "-o", d + "/link.bin", "--region-free", "--force-overwrite"), status: 2, containing: "the output is the input")
        #expect(try Data(contentsOf: URL(fileURLWithPath: img)) == before)
    }

    /// A device node or FIFO is never replaced by a regular file, even with --force-overwrite.
    @Test func deviceNodesAndFIFOsAreNotOutputs() throws {
        let d = tempDir()
        let img = d + "/in.bin"
        #expect(odflash("fw", "generate", "--family", "synthetic-test", "-o", img).status == 0)
        expectOneLineError(odflash("fw", "patch", img, "-o", "/dev/null", "--region-free", "--force-overwrite"), status: 2, containing: "device node, FIFO or socket")
        #expect(mkfifo(d + "/fifo", 0o600) == 0)
        expectOneLineError(odflash("fw", "generate", "--family", "synthetic-test", "-o", d + "/fifo", "--force-overwrite"), status: 2, containing: "device node, FIFO or socket")
        var st = stat()
        #expect(lstat(d + "/fifo", &st) == 0 && st.st_mode & S_IFMT == S_IFIFO)
        expectOneLineError(odflash("fw", "diff", "--max-ranges=-1", img, img), status: 2, containing: "--max-ranges")
    }
}
