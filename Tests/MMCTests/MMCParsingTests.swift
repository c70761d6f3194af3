import Testing
@testable import MMC
@testable import SCSI

@Suite struct InquiryTests {
    @Test func roundTrip() throws {
        let b = InquiryData.encode(vendor: "ATAPI", product: "iHAS124   Y", revision: "BL0X", vendorSpecific: "2012/05/11 11:00")
        let q = try InquiryData(bytes: b)
        #expect(q.vendor == "ATAPI" && q.product == "iHAS124   Y" && q.revision == "BL0X")
        #expect(q.rawVendor == "ATAPI   " && q.rawProduct == "iHAS124   Y     ")
        #expect(q.isMMC && q.removable)
        #expect(q.vendorSpecific == "2012/05/11 11:00")
        #expect(q.additionalLength == 91)
    }

    @Test func tooShort() {
        #expect(throws: InquiryData.Failure.tooShort(20)) { try InquiryData(bytes: [UInt8](repeating: 0x41, count: 20)) }
        // The additional length says less than 36 bytes are valid, although 96 arrived.
        var b = InquiryData.encode(vendor: "A", product: "B", revision: "C")
        b[4] = 10
        #expect(throws: InquiryData.Failure.tooShort(15)) { try InquiryData(bytes: b) }
    }

    @Test func garbageFields() {
        var b = InquiryData.encode(vendor: "A", product: "B", revision: "C")
        b[9] = 0xFF
        #expect(throws: InquiryData.Failure.self) { try InquiryData(bytes: b) }
        var z = [UInt8](repeating: 0, count: 36)
        z[4] = 31
        #expect(throws: InquiryData.Failure.garbage(field: "vendor identification", bytes: [UInt8](repeating: 0, count: 8))) {
            try InquiryData(bytes: z)
        }
    }

    @Test func nulPaddingTolerated() throws {
        var b = InquiryData.encode(vendor: "QEMU", product: "QEMU CD-ROM", revision: "2.5+")
        for i in 12..<16 { b[i] = 0 }
        let q = try InquiryData(bytes: b)
        #expect(q.vendor == "QEMU" && q.rawVendor == "QEMU    ")
    }

    @Test func nonMMC() throws {
        let q = try InquiryData(bytes: InquiryData.encode(vendor: "Linux", product: "scsi_debug", revision: "0191", deviceType: 0))
        #expect(!q.isMMC)
        #expect(q.deviceTypeName.contains("disk"))
    }

    @Test func vpd() throws {
        #expect(try VPD.supportedPages([5, 0, 0, 3, 0, 0x80, 0x83]) == [0, 0x80, 0x83])
        #expect(try VPD.supportedPages([5, 0, 0, 9, 0, 0x80]) == [0, 0x80])  // length beyond data: cut
        #expect(try VPD.serialNumber([5, 0x80, 0, 6] + Array("  AB12".utf8)) == "AB12")
        #expect(throws: ParseError.self) { try VPD.serialNumber([5, 0x83, 0, 0]) }
        #expect(throws: ParseError.self) { try VPD.supportedPages([5]) }
    }
}

@Suite struct ConfigurationTests {
    @Test func roundTripProfilesAndFeatures() throws {
        let b = FeatureConfiguration.encode(currentProfile: 0x09, profiles: [0x08, 0x09, 0x1B], extraFeatures: [(0x0001, true, [0, 0, 0, 2]), (0x002D, true, [0x46, 0, 0, 0])])
        let c = try FeatureConfiguration(bytes: b)
        #expect(c.currentProfile == 9)
        #expect(c.profiles.map(\.code) == [0x1B, 0x09, 0x08])
        #expect(c.profiles.filter(\.current).map(\.code) == [0x09])
        #expect(c.has(0x002D) && c.has(0x0001) && !c.has(0x002F))
    }

    @Test func truncatedDescriptorIsDropped() throws {
        var b = FeatureConfiguration.encode(currentProfile: 0, profiles: [0x08], extraFeatures: [(0x0001, true, [0, 0, 0, 2, 1, 0, 0, 0])])
        b.removeLast(3)
        let c = try FeatureConfiguration(bytes: b)
        #expect(c.profiles.count == 1)
        #expect(!c.has(0x0001))
    }

    @Test func headerTooShort() {
        #expect(throws: ParseError.self) { try FeatureConfiguration(bytes: [0, 0, 0]) }
    }

    @Test func lengthLargerThanData() throws {
        var b = FeatureConfiguration.encode(currentProfile: 0, profiles: [0x10], extraFeatures: [])
        b[0] = 0x7F  // claims megabytes
        let c = try FeatureConfiguration(bytes: b)
        #expect(c.profiles.map(\.code) == [0x10])
    }

    @Test func profileNames() {
        #expect(MMCProfile.name(0x1B) == "DVD+R")
        #expect(MMCProfile.name(0x0043) == "BD-RE")
        #expect(MMCProfile.name(0x77).hasPrefix("reserved"))
        #expect(MMCProfile.code(named: "dvd+r dl") == 0x2B)
        #expect(MMCProfile.code(named: "0x9") == 9)
        #expect(MMCProfile.code(named: "nonsense") == nil)
    }
}

@Suite struct CapabilitiesAndRPCTests {
    @Test func capabilitiesRoundTrip() throws {
        let b = CapabilitiesPage.encode(reads: ["CD-R", "DVD-ROM"], writes: ["CD-R", "DVD-R"], testWrite: true, bufferKB: 2048, writeSpeedsKBs: [1411, 7056])
        let c = try CapabilitiesPage(modeSense10: b)
        #expect(c.reads == ["CD-R", "DVD-ROM"])
        #expect(c.writes == ["CD-R", "DVD-R"])
        #expect(c.testWrite && c.bufferUnderrunProtection)
        #expect(c.bufferSizeKB == 2048)
        #expect(c.writeSpeedsKBs == [7056, 1411])
        #expect(c.loadingMechanism == "tray")
    }

    @Test func capabilitiesWrongPage() {
        var b = CapabilitiesPage.encode(reads: [], writes: [], testWrite: false, bufferKB: 0, writeSpeedsKBs: [])
        b[8] = 0x05
        #expect(throws: ParseError.self) { try CapabilitiesPage(modeSense10: b) }
        #expect(throws: ParseError.self) { try CapabilitiesPage(modeSense10: Array(b.prefix(12))) }
    }

    @Test func rpcDecode() throws {
        // type 1 (set), 4 vendor resets, 3 user changes, region 2 (mask FDh), RPC-II.
        let s = try RPCState(bytes: [0, 6, 0, 0, 0x63, 0xFD, 0x01, 0])
        #expect(s.typeCode == 1 && s.vendorResetsLeft == 4 && s.userChangesLeft == 3)
        #expect(s.playableRegions == [2])
        #expect(s.schemeName == "RPC Phase II")
        #expect(s.encode() == [0, 6, 0, 0, 0x63, 0xFD, 0x01, 0])
        #expect(try RPCState(bytes: [0, 6, 0, 0, 0x25, 0xFF, 0, 0]).regionDescription == "no region set")
    }

    @Test func rpcMalformed() {
        #expect(throws: ParseError.self) { try RPCState(bytes: [0, 6, 0, 0]) }
        #expect(throws: ParseError.self) { try RPCState(bytes: [0, 2, 0, 0, 0, 0, 0, 0]) }
    }
}
