import Testing
@testable import MMC
@testable import SCSI

@Suite struct DiscStructureTests {
    func atipBytes(_ li: (UInt8, UInt8, UInt8), _ lo: (UInt8, UInt8, UInt8)) -> [UInt8] {
        var d = [UInt8](repeating: 0, count: 28)
        d[1] = 26; d[8] = li.0; d[9] = li.1; d[10] = li.2; d[12] = lo.0; d[13] = lo.1; d[14] = lo.2
        return d
    }

    @Test func atipCMC() throws {
        let a = try DiscStructures.atip(atipBytes((97, 26, 66), (79, 59, 74)), rewritable: false)
        #expect(a.leadIn == "97:26:66" && a.manufacturerCode == "97:26:60" && a.leadOut == "79:59:74")
        #expect(a.capacityMinutes == 80 && a.discType == "CD-R")
        #expect(a.dye.hasPrefix("short strategy"))
        #expect(try DiscStructures.atip(atipBytes((97, 24, 1), (74, 30, 0)), rewritable: false).dye.hasPrefix("long strategy"))
        #expect(try DiscStructures.atip(atipBytes((97, 24, 1), (74, 29, 0)), rewritable: true).dye.hasPrefix("phase change"))
    }

    /// A 74-minute CMC CD-R as MMC lays out ATIP format 0100b, written byte by byte (not by odflash's emulator).
    @Test func atipFullDecode() throws {
        let b: [UInt8] = [0x00, 0x1E, 0x00, 0x00,
                          0xD2,             // 1, writing power 101b = 5, reserved, reference speed 010b
                          0x40,             // 0, unrestricted use
                          0x94,             // 1, disc type 0 (CD-R), sub-type 010b (A-), A1 valid, A2/A3 not
                          0x00, 97, 26, 66, 0x00, 74, 43, 0, 0x00,
                          0x18, 0x00, 0x00, 0x00,   // A1: lowest code 1, highest code 8
                          0xAA, 0xBB, 0xCC, 0x00,   // A2 (not valid: must not be shown)
                          0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]
        let a = try DiscStructures.atip(b, rewritable: false)
        #expect(a.discType == "CD-R" && !a.rewritable && a.subType == 2 && a.subTypeName.contains("A-"))
        #expect(a.writingPower == 5 && a.referenceSpeedCode == 2 && a.referenceSpeed == "4x" && a.unrestrictedUse)
        #expect(a.a1 == "180000" && a.a2 == nil && a.a3 == nil && a.speedRange == "2x to 24x")
        #expect(a.capacityMinutes == 74 && a.leadOutLBA == 336_075 && a.capacityMiB == 656)
        #expect(a.dye.hasPrefix("short strategy") && a.manufacturerCode == "97:26:60")
    }

    @Test func atipRewritableBitAndCapacities() throws {
        var b = atipBytes((97, 24, 1), (79, 59, 74))
        b[6] = 0xC8   // 1, disc type 1 (CD-RW), sub-type 001b
        let a = try DiscStructures.atip(b, rewritable: false)
        #expect(a.rewritable && a.discType == "CD-RW" && a.subTypeName == "High Speed CD-RW" && a.dye.hasPrefix("phase change"))
        #expect(a.capacityMinutes == 80 && a.a1 == nil && a.speedRange == nil)
        for (lo, want) in [(UInt8(63), 63), (89, 90), (98, 99), (71, 63)] {
            #expect(try DiscStructures.atip(atipBytes((97, 24, 1), (lo, 10, 0)), rewritable: false).capacityMinutes == want)
        }
    }

    @Test func atipMalformed() {
        #expect(throws: ParseError.self) { try DiscStructures.atip([0, 2, 0, 0], rewritable: false) }
        var noDesc = atipBytes((97, 26, 66), (79, 59, 74)); noDesc[1] = 2
        #expect(throws: ParseError.self) { try DiscStructures.atip(noDesc, rewritable: false) }
        #expect(throws: ParseError.self) { try DiscStructures.atip(atipBytes((97, 61, 0), (79, 59, 74)), rewritable: false) }
        #expect(throws: ParseError.self) { try DiscStructures.atip(atipBytes((97, 26, 80), (79, 59, 74)), rewritable: false) }
    }

    func plus(_ mid: String, _ tid: String, _ rid: UInt8) -> [UInt8] {
        var d = [UInt8](repeating: 0, count: 4 + 256)
        for (i, c) in mid.utf8.enumerated() { d[4 + 19 + i] = c }
        for (i, c) in tid.utf8.enumerated() { d[4 + 27 + i] = c }
        d[4 + 30] = rid
        return d
    }

    @Test func dvdPlusADIPAndPFI() throws {
        let m = try DiscStructures.dvdPlus(plus("RICOHJPN", "R03", 2), source: "ADIP")
        #expect(m.mid == "RICOHJPN" && m.tid == "R03" && m.rid == 2)
        let short = try DiscStructures.dvdPlus(plus("MCC", "004", 0), source: "PFI")
        #expect(short.mid == "MCC" && short.tid == "004")
        #expect(throws: ParseError.self) { try DiscStructures.dvdPlus(plus("", "", 0), source: "x") }
        #expect(throws: ParseError.self) { try DiscStructures.dvdPlus([0, 2, 0, 0, 1, 2], source: "x") }
    }

    func prepit(_ id: String, markers: (UInt8, UInt8, UInt8) = (3, 4, 5)) -> [UInt8] {
        var d = [UInt8](repeating: 0, count: 4 + 40)
        let b = Array(id.utf8) + [UInt8](repeating: 0, count: 18)
        d[4 + 16] = markers.0; d[4 + 24] = markers.1; d[4 + 32] = markers.2
        for i in 0..<6 { d[4 + 17 + i] = b[i]; d[4 + 25 + i] = b[6 + i]; d[4 + 33 + i] = b[12 + i] }
        return d
    }

    @Test func dvdDashPrePit() throws {
        #expect(try DiscStructures.dvdDash(prepit("RITEKG05")).mid == "RITEKG05")
        #expect(try DiscStructures.dvdDash(prepit("MCC 03RG20")).mid == "MCC 03RG20")
        #expect(throws: ParseError.self) { try DiscStructures.dvdDash(prepit("RITEKG05", markers: (0, 4, 5))) }
        #expect(throws: ParseError.self) { try DiscStructures.dvdDash(prepit("RITEKG05", markers: (3, 9, 5))) }
        var odd = prepit("AB")
        odd[4 + 19] = 0x07     // unprintable: escaped, not dropped
        #expect(try DiscStructures.dvdDash(odd).mid == "AB%07")
        // Without the third part's marker only two parts count.
        #expect(try DiscStructures.dvdDash(prepit("ABCDEFGHIJKLMNOP", markers: (3, 4, 0))).mid == "ABCDEFGHIJKL")
    }

    func di(_ kind: String, _ mid: String, _ tid: String, _ rid: UInt8) -> [UInt8] {
        var d = [UInt8](repeating: 0, count: 4 + 112)
        d[4] = 0x44; d[5] = 0x49
        for (i, c) in kind.utf8.enumerated() { d[4 + 8 + i] = c }
        for (i, c) in mid.utf8.enumerated() { d[4 + 100 + i] = c }
        for (i, c) in tid.utf8.enumerated() { d[4 + 106 + i] = c }
        d[4 + 111] = rid
        return d
    }

    @Test func blurayDI() throws {
        let m = try DiscStructures.bd(di("BDR", "CMCMAG", "BA5", 0))
        #expect(m.mid == "CMCMAG" && m.tid == "BA5" && m.source.contains("BDR"))
        #expect(throws: ParseError.self) { try DiscStructures.bd(di("BDO", "X", "Y", 0)) }
        var notDI = di("BDR", "CMCMAG", "BA5", 0); notDI[4] = 0x41
        #expect(throws: ParseError.self) { try DiscStructures.bd(notDI) }
        #expect(throws: ParseError.self) { try DiscStructures.bd(Array(di("BDR", "CMCMAG", "BA5", 0).prefix(60))) }
    }

    @Test func tocFormat0() throws {
        // One data track at 0, lead-out at 2048 (4 MiB).
        let b: [UInt8] = [0, 18, 1, 1, 0, 0x14, 1, 0, 0, 0, 0, 0, 0, 0x14, 0xAA, 0, 0, 0, 0x08, 0x00]
        let t = try DiscStructures.toc(b)
        #expect(t.firstTrack == 1 && t.tracks == [.init(number: 1, data: true, startLBA: 0)] && t.leadOutLBA == 2048)
        #expect(throws: ParseError.self) { try DiscStructures.toc([0, 2, 1, 1]) }
        #expect(throws: ParseError.self) { try DiscStructures.toc([0, 10, 1, 1, 0, 0x14, 0xAA, 0, 0, 0, 0, 0]) }
    }

    @Test func bookTypes() {
        #expect(DiscStructures.bookType([0, 0, 0, 0, 0xA1]) == "DVD+R (version 1)")
        #expect(DiscStructures.bookType([0, 0, 0, 0, 0x01]) == "DVD-ROM (version 1)")
        #expect(DiscStructures.bookType([0, 0, 0, 0, 0x52])?.hasPrefix("reserved") == true)
        #expect(DiscStructures.bookType([0, 0]) == nil)
    }

    @Test func identifierOnGarbageATIP() throws {
        let t = ScriptedTransport()
        t.on(0x00, .good())
        t.on(0x46, .good(FeatureConfiguration.encode(currentProfile: 0x09, profiles: [0x09], extraFeatures: [])))
        t.on(0x43, .good([0xFF, 0xFF, 1, 2, 3]))
        // Garbage that leaves nothing to identify the disc by is an error naming the answer, not a silent note.
        do {
            _ = try DiscIdentifier(t).identify()
            Issue.record("garbage ATIP was accepted")
        } catch let e as DiscError {
            #expect(e.description.contains("ATIP (READ TOC format 4)") && e.description.contains("malformed"))
        }
        // A drive that refuses the command (CHECK CONDITION) is a note: the disc simply has no ATIP to read.
        let r = ScriptedTransport()
        r.on(0x00, .good())
        r.on(0x46, .good(FeatureConfiguration.encode(currentProfile: 0x09, profiles: [0x09], extraFeatures: [])))
        r.on(0x43, .check(5, 0x24, 0))
        let info = try DiscIdentifier(r).identify()
        #expect(info.atip == nil && info.code == nil && info.notes.first?.contains("ATIP") == true)
    }
}

@Suite struct WriteSpeedTests {
    /// GET PERFORMANCE type 03h as MMC lays it out, by hand: 8-byte header, 16-byte descriptors.
    @Test func twoDescriptors() throws {
        let b: [UInt8] = [0x00, 0x00, 0x00, 0x24, 0x00, 0x00, 0x00, 0x00,
                          0x02, 0, 0, 0, 0x00, 0x05, 0x20, 0xCB, 0x00, 0x00, 0x0B, 0x07, 0x00, 0x00, 0x06, 0xE4,   // CLV, exact, 1764 kB/s
                          0x0A, 0, 0, 0, 0x00, 0x05, 0x20, 0xCB, 0x00, 0x00, 0x1B, 0x90, 0x00, 0x00, 0x10, 0x8A]   // CAV, exact, 4234 kB/s
        let d = try WriteSpeeds.parseGetPerformance(b)
        #expect(d.map(\.writeKBs) == [4234, 1764])
        #expect(d[0].rotation == "CAV" && d[1].rotation == "CLV" && d.allSatisfy(\.exact))
        #expect(d[0].endLBA == 336_075 && d[0].readKBs == 7056)
        var w = WriteSpeeds(unitKBs: WriteSpeeds.unit(profile: 0x09))
        w.getPerformance = d
        #expect(w.offeredKBs == [4234, 1764] && w.multiple(4234) == "24x" && w.multiple(1764) == "10x")
    }

    @Test func malformed() throws {
        #expect(throws: ParseError.self) { try WriteSpeeds.parseGetPerformance([0, 0, 0]) }
        #expect(throws: ParseError.self) { try WriteSpeeds.parseGetPerformance([0, 0, 0, 10, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 16)) }
        #expect(throws: ParseError.self) { try WriteSpeeds.parseGetPerformance([0, 0, 0, 2, 0, 0, 0, 0]) }
        // A header that promises more than arrived keeps the complete descriptors only.
        #expect(try WriteSpeeds.parseGetPerformance([0, 0, 0, 0x24, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 20)).count == 1)
    }
}
