import Foundation
import Testing
@testable import CLI

/// Pioneer BD on the emulated BDR-UD04: `info --probe` shows the identity block, dialect and cross-flash family;
/// `fw inspect` shows a component file's envelope facts; `flash` refuses the drive, naming the facts no public source
/// gives, before any vendor command.
@Suite struct PioneerBDCLITests {
    /// A Normal component built by hand from the facts (see PioneerBDTests): banner lines, Kernel tag at D0h, name at 1F0h.
    func normal(_ d: String, size: Int = 0x10200, fileType: String = "Normal") throws -> String {
        var b = [UInt8](repeating: 0, count: size)
        let text = Array(("********  Copyright(c) 2000 Pioneer\r\nID : PIONEER BD-RW   BDR-UD04\r\nRevision Level : 1.14\r\n" +
                          "Hardware Version : SAT 8A10\r\nDestination : ID40\r\nFile Type : \(fileType)\r\n").utf8)
        b.replaceSubrange(0..<text.count, with: text)
        b.replaceSubrange(0xD0..<0xD8, with: Array("ID40    ".utf8))
        for i in 0x170..<0x1C0 { b[i] = 0x5A }
        b.replaceSubrange(0x1F0..<0x1FB, with: Array("SYNTHUD04.N".utf8))
        let p = d + "/\(fileType)-\(size).bin"
        try Data(b).write(to: URL(fileURLWithPath: p))
        return p
    }

    @Test func infoShowsTheIdentityBlock() throws {
        let r = odflash("info", "--probe", "emu:bdr-ud04")
        #expect(r.status == 0, "\(r.err)")
        for s in ["Pioneer serial: SYNTH00000000001", "Platform:       SAT 8A10 (controller id 8A10)", "Kernel tag:     ID40",
                  "Normal tag:     ID41", "Dialect:        BD", "Cross-flash:    family F3 (US04)",
                  "Flash:          not implemented: two public facts are missing"] {
            #expect(r.out.contains(s), "\(s)\n\(r.out)")
        }
        let j = try #require(expectDocument(odflash("info", "--json", "--probe", "emu:bdr-ud04"), "info.schema.json"))
        _ = j
        let raw = odflash("info", "--json", "--probe", "emu:bdr-ud04").json
        let p = try #require(raw["pioneer"] as? [String: Any])
        let id = try #require(p["identity"] as? [String: Any])
        #expect(id["platform"] as? String == "SAT 8A10" && id["controllerID"] as? String == "8A10" && id["kernelTag"] as? String == "ID40")
        #expect(id["normalTag"] as? String == "ID41" && id["serial"] as? String == "SYNTH00000000001" && id["updateMode"] as? Bool == false)
        #expect(p["crossflashFamily"] as? String == "F3" && p["dialect"] as? String == "BD")
        #expect((raw["probe"] as? [String: Any])?["family"] as? String == "pioneer-bd")
        // Without --probe nothing vendor-specific is sent: a known but unsupported drive, no identity block.
        let plain = odflash("info", "--json", "emu:bdr-ud04").json
        #expect(plain["pioneer"] == nil && (plain["firmwareDB"] as? [String: Any])?["support"] as? String == "known-unsupported")
    }

    @Test func inspectShowsTheEnvelopeFacts() throws {
        let d = tempDir()
        let ok = odflash("fw", "inspect", try normal(d))
        #expect(ok.status == 0, "\(ok.out)\(ok.err)")
        let j = try #require(expectDocument(odflash("fw", "inspect", "--json", try normal(d)), "fw-inspect.schema.json"))
        _ = j
        let raw = odflash("fw", "inspect", "--json", try normal(d)).json
        let p = try #require((raw["image"] as? [String: Any])?["pioneer"] as? [String: Any])
        #expect(p["fileType"] as? String == "Normal" && p["requiredKernelTag"] as? String == "ID40" && p["controllerID"] as? String == "8A10")
        #expect(p["embeddedName"] as? String == "SYNTHUD04.N" && (p["problems"] as? [Any])?.isEmpty == true)
        // Broken: a Kernel of the wrong size, an unaligned Normal: invalid (exit 1), with the fact each breaks.
        let k = odflash("fw", "inspect", try normal(d, size: 0x10200, fileType: "Kernel"))
        #expect(k.status == 1 && k.out.contains("a Kernel envelope is 11200h"), "\(k.out)")
        let u = odflash("fw", "inspect", "--json", try normal(d, size: 0x10201))
        #expect(u.status == 1 && ((u.json["image"] as? [String: Any])?["problems"] as? [String])?.contains { $0.contains("a multiple of 100h") } == true)
    }

    /// The refusal: one line, exit 4, naming the missing facts, before any vendor command (also as a dry run).
    @Test func flashIsRefusedNamingTheMissingFacts() throws {
        let d = tempDir()
        let img = try normal(d)
        for extra in [[], ["--dry-run"]] {
            let r = odflash(["flash", "emu:bdr-ud04", img, "--yes", "--no-backup", "--transcript", d + "/t.txt"] + extra)
            expectOneLineError(r, status: 4, containing: "PIONEER BD-RW   BDR-UD04 is a Pioneer BD (Renesas SAT) drive, which odflash does not flash: two public facts are missing: where the control buffer's 4-byte key (bytes 16-19) comes from")
            #expect(r.err.contains("where the installed Normal image lies") && !r.err.contains("more characters)"), "\(r.err)")
            if let t = try? String(contentsOfFile: d + "/t.txt", encoding: .utf8) { #expect(!t.contains("3B ") && !t.contains("3C 02"), "\(t)") }
        }
        expectJSONError(odflash("flash", "--json", "emu:bdr-ud04", img, "--yes", "--no-backup"), status: 4, kind: "refused")
    }
}
