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
