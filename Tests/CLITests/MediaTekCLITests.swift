import Foundation
import Testing
@testable import CLI

/// MediaTek MT1959/MT1939 on the emulated BU40N and BW-16D1HT: info, inspect, dump (gaps), flash with both sequences,
/// and the refusals in the facts' order — none of which sends a write.
@Suite struct MediaTekCLITests {
    init() { setenv("ODFLASH_EMULATED_WAIT_SCALE", "0", 1) }

    func image(_ d: String, _ name: String, _ args: [String]) -> String {
        let p = d + "/\(name).bin"
        let r = odflash(["fw", "generate", "--family", "mediatek-mt1959", "-o", p, "--force-overwrite"] + args)
        #expect(r.status == 0, "\(r.err)")
        return p
    }
    var bu40n: [String] { ["--vendor", "HL-DT-ST", "--product", "BD-RE BU40N", "--revision", "1.02"] }

    @Test func infoShowsBannerChipDescriptorAndBuild() throws {
        let r = odflash("info", "emu:bw-16d1ht")
        #expect(r.status == 0, "\(r.err)")
        for s in ["Boot banner:    'MT1959 Boot JB8 SYNTH CONFIG 002'", "Chip:           MT1939 (descriptor tag MTEKMT1939)",
                  "Descriptor:     ASUS BW-16D1HT 3.10, region/SKU code 'NM00000', UNIQUE2019061501", "Downgrade byte: DEh at 1EC056h",
                  "Build:          not in the public catalog of 97 builds"] {
            #expect(r.out.contains(s), "\(s)\n\(r.out)")
        }
        _ = expectDocument(odflash("info", "--json", "emu:bu40n"), "info.schema.json")
    }

    @Test func inspectAndSchema() throws {
        let d = tempDir()
        let img = image(d, "g", bu40n)
        let r = odflash("fw", "inspect", img)
        #expect(r.status == 0 && r.out.contains("cmac[0]  OK") && r.out.contains("MTEKMT1959"), "\(r.out)")
        _ = expectDocument(odflash("fw", "inspect", "--json", img), "fw-inspect.schema.json")
        // One flipped byte in a protected range: BAD, exit 1, and fw patch will not re-sign it.
        var b = try [UInt8](Data(contentsOf: URL(fileURLWithPath: img)))
        b[0x12345] ^= 1
        try Data(b).write(to: URL(fileURLWithPath: d + "/bad.bin"))
        let bad = odflash("fw", "inspect", d + "/bad.bin")
        #expect(bad.status == 1 && bad.out.contains("NO: checksum cmac[0] BAD"), "\(bad.out)")
        _ = expectDocument(odflash("fw", "inspect", "--json", d + "/bad.bin"), "fw-inspect.schema.json", status: 1)
    }

    /// The dump: 4 KiB reads over 2 MiB, the boot page read as the mirror, said plainly to be no flashable image; an
    /// unreadable range is re-read in 512-byte pieces and reported as a gap, and such a read is no backup.
    @Test func dumpAndGaps() throws {
        let d = tempDir()
        let r = odflash("dump", "emu:bu40n", d + "/bu40n.bin")
        #expect(r.status == 0 && r.out.contains("Read:   flash 0h-200000h in 512 commands") && r.out.contains("not a flashable image"), "\(r.out)\(r.err)")
        let insp = odflash("fw", "inspect", d + "/bu40n.bin")
        #expect(insp.out.contains("raw read from a drive"), "\(insp.out)")
        let holes = try editedProfile("bu40n", d, [("  bannerLimit: 0x20", "  bannerLimit: 0x20\n  unreadable: [[0x20100, 0x20300]]")])
        let g = odflash("dump", "--json", holes, d + "/holes.bin")
        let lines = expectLines(g, "dump", status: 1)
        #expect(lines.last?["gaps"] == .array([.array([.number(0x20000), .number(0x20400)])]), "\(String(describing: lines.last))")
        // A flash whose backup read has a gap writes nothing.
        let img = image(d, "g", bu40n)
        let f = odflash("flash", holes, img, "--allow-untested", "--yes", "--backup-dir", d, "--transcript", d + "/t.txt")
        #expect(f.status == 4 && f.err.contains("unreadable range"), "\(f.err)")
        #expect(try !String(contentsOfFile: d + "/t.txt", encoding: .utf8).contains("  3B "))
    }

    @Test(arguments: [("bu40n", "freemkv-mt19xx"), ("bu40n", "redumper-mt1959"), ("bw-16d1ht", "freemkv-mt19xx")])
    func flashEndToEnd(_ drive: String, _ sequence: String) throws {
        let d = tempDir()
        let img = drive == "bu40n" ? image(d, "g", bu40n)
            : image(d, "g", ["--vendor", "ASUS", "--product", "BW-16D1HT", "--revision", "3.20", "--config-id", "MT1959 Boot JB8 ", "--field", "chip-tag=MTEKMT1939"])
        let r = odflash("flash", "emu:\(drive)", img, "--allow-untested", "--yes", "--backup-dir", d, "--protocol", sequence)
        #expect(r.status == 0 && r.out.contains("SUCCESS: flashed 2097152 bytes") && r.out.contains("read back and compared"), "\(r.out)\(r.err)")
        #expect(r.err.contains("raw read of the drive"), "\(r.err)")
        expectLines(odflash("flash", "--json", "emu:\(drive)", img, "--allow-untested", "--yes", "--dry-run", "--protocol", sequence), "flash", status: 0)
    }

    /// The gates, each refused with nothing written: a drive read, another chip (even with --crossflash), another model
    /// (without --crossflash), a table that does not verify.
    @Test func refusals() throws {
        let d = tempDir()
        _ = odflash("dump", "emu:bu40n", d + "/read.bin")
        let mt1939 = image(d, "mt1939", bu40n + ["--field", "chip-tag=MTEKMT1939"])
        let other = image(d, "other", ["--vendor", "HL-DT-ST", "--product", "BD-RE BH16NS40", "--revision", "1.02"])
        var b = try [UInt8](Data(contentsOf: URL(fileURLWithPath: image(d, "g", bu40n))))
        b[0x30000] ^= 1
        try Data(b).write(to: URL(fileURLWithPath: d + "/bad.bin"))
        for (file, extra, why) in [(d + "/read.bin", ["--allow-reinstall"], "not a drive read"), (mt1939, ["--crossflash"], "chip (never overridable)"),
                                   (other, [], "--crossflash if you mean to cross-flash"), (d + "/bad.bin", [], "checksum cmac[1] BAD")] {
            let t = d + "/t-\(UUID().uuidString).txt"
            let r = odflash(["flash", "emu:bu40n", file, "--allow-untested", "--yes", "--no-backup", "--transcript", t] + extra)
            expectRefusal(r, containing: why)
            #expect(try !String(contentsOfFile: t, encoding: .utf8).contains("  3B "), "a write was sent for \(file)")
        }
        // --crossflash waives the model check only, and warns about the drive's downgrade-enable byte.
        let x = odflash("flash", "emu:bu40n", other, "--allow-untested", "--yes", "--no-backup", "--crossflash", "--dry-run")
        #expect(x.status == 0 && (x.out + x.err).contains("downgrade-enable byte (1EC056h) is 00h"), "\(x.out)\(x.err)")
    }
}
