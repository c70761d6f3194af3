import Foundation
import Testing
@testable import Emulator
@testable import FirmwareDB
@testable import Flashing
@testable import SCSI

@Suite struct BooktypeTests {
    var nec: BooktypeCommands { db.family("nec-optiarc")!.booktype! }
    func hex(_ c: CDB?) -> String { c.map { Hex.bytes($0.bytes) } ?? "" }

    /// Byte-exact NEC CDBs (Binflash GetBooktypeSettingNEC, SetBooktypeNEC, SelectTempBooktypeNEC, ClearBooktypeSettingsNEC).
    @Test func necCDBs() throws {
        #expect(hex(try nec.query.cdb(["media": 2, "temp": 0, "length": 6])) == "C9 02 02 01 42 54 59 50 45 00 00 00")
        #expect(hex(try nec.query.cdb(["media": 0, "temp": 1, "length": 6])) == "C9 02 00 01 42 54 59 50 45 01 00 00")
        #expect(hex(try nec.setPermanent.cdb(["media": 0, "booktype": 0x01])) == "C9 01 00 01 42 54 59 50 45 00 00 00")
        #expect(hex(try nec.setTemporary?.cdb(["media": 1, "booktype": 0x01])) == "C9 03 01 01 42 54 59 50 45 00 00 00")
        #expect(hex(try nec.select?.cdb(["media": 2, "temp": 1])) == "C9 04 02 00 42 54 59 50 45 01 00 00")
        #expect(hex(try nec.clear?.cdb([:])) == "C9 0C 00 00 42 54 59 50 45 00 00 00")
    }

    @Test func readsAndSetsWithState() throws {
        let d = try emu("ihas324y")
        let r = BooktypeRunner(transport: d, commands: nec)
        let (v, all) = try r.readAll()
        #expect(v == 4 && all.count == 6 && all.allSatisfy { $0.changesLeft == 497 })
        try r.set("dvd+r", bookType: 0x01, temporary: false)
        #expect(try r.read("dvd+r", temporary: false).bookType == "DVD-ROM")
        #expect(try r.read("dvd+r", temporary: false).changesLeft == 496)
        // Temporary: no change spent, and it becomes the active one.
        try r.set("dvd+r-dl", bookType: 0x01, temporary: true)
        let t = try r.read("dvd+r-dl", temporary: true)
        #expect(t.bookType == "DVD-ROM" && t.temporaryActive == true && t.changesLeft == 496)
        #expect(try r.read("dvd+r-dl", temporary: false).bookType == "DVD+R-DL")
        try r.clear()
        #expect(try r.read("dvd+r-dl", temporary: true).temporaryActive == false)
        #expect(try r.read("dvd+r", temporary: false).bookType == "DVD+R" && r.read("dvd+r", temporary: false).changesLeft == 500)
        #expect(d.log.filter { $0.opcode == 0xC9 }.last.map { hex($0) } == "C9 02 00 01 42 54 59 50 45 00 00 00")
        #expect(d.log.contains { hex($0) == "C9 0C 00 00 42 54 59 50 45 00 00 00" })
    }

    /// The counter runs out: the drive's refusal comes back decoded.
    @Test func exhaustedCounterIsTheDrivesError() throws {
        let d = try emu("ihas324y") { $0[NECBehavior.self]?.booktypeChangesLeft = 1 }
        let r = BooktypeRunner(transport: d, commands: nec)
        try r.set("dvd+r", bookType: 0x01, temporary: false)
        #expect(try r.read("dvd+r", temporary: false).changesLeft == 0)
        do {
            try r.set("dvd+rw", bookType: 0x01, temporary: false)
            Issue.record("the drive accepted a change with none left")
        } catch {
            #expect(error.sense?.key == 5 && error.sense?.asc == 0x2C, "\(error)")
            #expect(error.description.contains("the drive refused") && error.description.contains("05/2C/00"), "\(error)")
        }
    }

    /// An older command set (version 1) knows only the permanent +R DL setting.
    @Test func versionGates() throws {
        let d = try emu("ihas324y") { $0[NECBehavior.self]?.booktypeVersion = 1 }
        let r = BooktypeRunner(transport: d, commands: nec)
        let (v, all) = try r.readAll()
        #expect(v == 1 && all.map(\.media) == ["dvd+r-dl"] && all.allSatisfy { !$0.temporary })
        #expect(!r.supported("dvd+r", temporary: false, version: v) && r.supported("dvd+r-dl", temporary: false, version: v))
        #expect(!r.supported("dvd+r-dl", temporary: true, version: v))
    }
}

@Suite struct PlextorBitsetTests {
    /// Byte-exact qpxtool CDBs: E9h, get 00h / set 10h, mode page 22h, 0Ah DVD+R / 0Eh DVD+R DL, byte 9 = 8.
    @Test func cdbsAndState() throws {
        let p = db.family("plextor")!.booktype!
        #expect(Hex.bytes(try p.query.cdb(["media": 0x0A, "temp": 0, "length": 8]).bytes) == "E9 00 22 0A 00 00 00 00 00 08")
        #expect(Hex.bytes(try p.setPermanent.cdb(["media": 0x0E, "booktype": 1]).bytes) == "E9 10 22 0E 00 01 00 00 00 08")
        let d = try emu("px716a")
        let r = BooktypeRunner(transport: d, commands: p)
        try r.set("dvd+r-dl", bookType: 0x01, temporary: false)
        #expect(d.behavior(as: PlextorBehavior.self)?.bitset == 0x01)
        #expect(try r.read("dvd+r-dl", temporary: false).bookType == "DVD-ROM" && r.read("dvd+r", temporary: false).bookType == "DVD+R")
        try r.set("dvd+r-dl", bookType: 0xE1, temporary: false)
        #expect(d.behavior(as: PlextorBehavior.self)?.bitset == 0)
        #expect(throws: BooktypeRunner.Failure.self) { try r.set("dvd+r", bookType: 0x20, temporary: false) }
    }
}

@Suite struct RegionResetTests {
    var nec: RegionResets { db.family("nec-optiarc")!.region! }

    /// Binflash's keys: each drive ID byte + 55h, then AAh - each byte ("G245" = 47 32 34 35).
    @Test func necCDBs() throws {
        var probe = ProbeData()
        probe.variables["driveid"] = 0x4732_3435
        #expect(try nec.cdbs(global: false, probe: probe).map { Hex.bytes($0.bytes) } == ["CB 00 00 00 00 00 52 45 47 49 4F 4E"])
        #expect(try nec.cdbs(global: true, probe: probe).map { Hex.bytes($0.bytes) } == [
            "CB 00 00 00 00 00 9C 87 89 8A 55 55", "CB 00 00 00 00 00 63 78 76 75 AA AA"])
    }

    @Test func emulatorCountersRunDown() throws {
        let d = try emu("ihas324y")
        let vendor = try nec.cdbs(global: false, probe: ProbeData())[0]
        for left in (0..<4).reversed() {
            #expect(try d.execute(vendor, .none, timeout: 5).isGood)
            #expect(d.rpc?.vendorResetsLeft == left && d.rpc?.userChangesLeft == 5)
        }
        let r = try d.execute(vendor, .none, timeout: 5)
        #expect(r.sense?.key == 5 && r.sense?.asc == 0x6F && r.sense?.ascq == 0x05)
        // A global reset with the wrong key is refused; with the drive's ID it restores both counters.
        var wrong = ProbeData(); wrong.variables["driveid"] = 0x5132_3435   // "Q245"
        #expect(try d.execute(try nec.cdbs(global: true, probe: wrong)[0], .none, timeout: 5).status == .checkCondition)
        var right = ProbeData(); right.variables["driveid"] = 0x4732_3435
        for c in try nec.cdbs(global: true, probe: right) { #expect(try d.execute(c, .none, timeout: 5).isGood) }
        #expect(d.rpc?.vendorResetsLeft == 4)
    }
}
