import Foundation
import Testing
@testable import CLI

@Suite struct RegionCLITests {
    @Test func queryAndRPC1() {
        let r = odflash("region", "emu:ihas124y")
        #expect(r.status == 0 && r.out.contains("Region:             2 (mask FDh)") && r.out.contains("User changes left:  4"))
        let p = odflash("region", "--json", "emu:px716a")
        #expect((p.json["rpc"] as? [String: Any])?["available"] as? Bool == false)
        expectOneLineError(odflash("region", "emu:px716a", "--set", "1", "--yes"), status: 4, containing: "RPC-I")
    }

    @Test func setSpendsAChange() throws {
        let r = odflash("region", "--json", "emu:ihas124y", "--set", "1", "--yes")
        #expect(r.status == 0, "\(r.err)")
        let rpc = try #require(r.json["rpc"] as? [String: Any])
        #expect(r.json["changed"] as? Bool == true && rpc["regions"] as? String == "1" && rpc["userChangesLeft"] as? Int == 3)
        let same = odflash("region", "emu:ihas124y", "--set", "2", "--yes")
        #expect(same.out.contains("already set to region 2; nothing was sent"))
    }

    @Test func guards() throws {
        expectOneLineError(odflash("region", "emu:ihas124y", "--set", "9"), status: 2, containing: "from 1 to 8")
        let j = odflash("region", "--json", "emu:ihas124y", "--set", "1")
        #expect(j.status == 2 && (j.json["error"] as? [String: Any])?["message"] as? String == "changing the region needs --yes when there is no terminal to ask (or with --json)")
        // A drive whose region is permanent.
        let d = tempDir()
        let src = try String(contentsOfFile: db + "/emulator/ihas124y.yaml", encoding: .utf8)
        try src.replacingOccurrences(of: "typeCode: 1", with: "typeCode: 3").replacingOccurrences(of: "userChangesLeft: 4", with: "userChangesLeft: 0")
            .write(toFile: d + "/locked.yaml", atomically: true, encoding: .utf8)
        expectOneLineError(odflash("region", "emu:" + d + "/locked.yaml", "--set", "1", "--yes"), status: 4, containing: "permanent")
    }
}

@Suite struct VendorSettingsCLITests {
    @Test func booktypeQuerySetAndJSON() throws {
        let q = odflash("booktype", "emu:ihas324y")
        #expect(q.status == 0 && q.out.contains("DVD+R-DL  DVD+R-DL   DVD+R-DL   permanent") && q.out.contains("Changes left: 497"), "\(q.out)\(q.err)")
        let s = odflash("booktype", "--json", "emu:ihas324y", "--set", "dvd+r=dvd-rom", "--yes")
        #expect(s.status == 0 && s.json["changed"] as? String == "permanent dvd+r -> DVD-ROM" && s.json["changesLeft"] as? Int == 496, "\(s.out)")
        let t = odflash("booktype", "emu:ihas324y", "--set", "dvd+r-dl=dvd-rom", "--temporary", "--yes")
        #expect(t.status == 0 && t.out.contains("DVD+R-DL  DVD+R-DL   DVD-ROM    temporary") && t.out.contains("Changes left: 497"), "\(t.out)")
        let c = odflash("booktype", "--json", "emu:ihas324y", "--clear-counter", "--yes")
        #expect(c.status == 0 && c.json["changesLeft"] as? Int == 500, "\(c.out)")
    }

    @Test func booktypeGuards() {
        expectOneLineError(odflash("booktype", "emu:ihas324y", "--set", "dvd+r=floppy"), status: 2, containing: "MEDIA=BOOKTYPE")
        expectOneLineError(odflash("booktype", "emu:ihas324y", "--set", "cd-r=dvd-rom", "--yes"), status: 2, containing: "cd-r has no book-type setting")
        expectOneLineError(odflash("booktype", "emu:ihas324y", "--set", "dvd+r=dvd-rom"), status: 2, containing: "needs --yes")
        expectOneLineError(odflash("booktype", "emu:ihas324y", "--temporary"), status: 2, containing: "--temporary goes with --set")
    }

    /// A drive of a family without book-type commands: refused, and nothing but identification was sent.
    @Test func wrongFamilySendsNothing() throws {
        let d = tempDir()
        let tr = d + "/t.txt"
        expectOneLineError(odflash("booktype", "emu:bu40n", "--set", "dvd+r=dvd-rom", "--yes", "--transcript", tr), status: 4,
                           containing: "no known book-type command for this drive")
        let text = try String(contentsOfFile: tr, encoding: .utf8)
        #expect(!text.contains("C9 ") && !text.contains("E9 ") && !text.isEmpty)
        expectOneLineError(odflash("region", "emu:px716a", "--global-reset", "--yes", "--transcript", tr), status: 4, containing: "no known global region reset")
        #expect(!(try String(contentsOfFile: tr, encoding: .utf8)).contains("CB "))
    }

    /// Plextor's on/off bitsetting (qpxtool): DVD-ROM or the media's own type, nothing else.
    @Test func plextorBitset() {
        let q = odflash("booktype", "--json", "emu:px716a")
        let settings = q.json["settings"] as? [[String: Any]] ?? []
        #expect(q.status == 0 && settings.count == 2 && settings.allSatisfy { ($0["bookType"] as? String) == ($0["media"] as? String == "dvd+r" ? "DVD+R" : "DVD+R-DL") }, "\(q.out)")
        let s = odflash("booktype", "emu:px716a", "--set", "dvd+r=dvd-rom", "--yes")
        #expect(s.status == 0 && s.out.contains("DVD+R     DVD-ROM"), "\(s.out)")
        expectOneLineError(odflash("booktype", "emu:px716a", "--set", "dvd+r=dvd-r", "--yes"), status: 2, containing: "only to dvd-rom or back to dvd+r")
        expectOneLineError(odflash("booktype", "emu:px716a", "--set", "dvd+r=dvd-rom", "--temporary", "--yes"), status: 4, containing: "no temporary")
    }

    @Test func regionResets() {
        let v = odflash("region", "--json", "emu:ihas324y", "--vendor-reset", "--yes")
        #expect(v.status == 0 && (v.json["rpc"] as? [String: Any])?["vendorResetsLeft"] as? Int == 3, "\(v.out)\(v.err)")
        let g = odflash("region", "emu:ihas324y", "--global-reset", "--yes")
        #expect(g.status == 0 && g.out.contains("Global reset sent"), "\(g.err)")
        expectOneLineError(odflash("region", "emu:ihas324y", "--global-reset", "--vendor-reset"), status: 2, containing: "one at a time")
        expectOneLineError(odflash("region", "emu:ihas324y", "--vendor-reset"), status: 2, containing: "needs --yes")
    }
}
