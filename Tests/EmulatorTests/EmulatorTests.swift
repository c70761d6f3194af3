import Foundation
import Testing
@testable import Emulator
@testable import MMC
@testable import SCSI

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
let emulatorDir = repoRoot + "/firmware-db/emulator"

func drive(_ name: String, attention: Bool = false) throws -> EmulatedDrive {
    var p = try DriveProfile.resolve(name, emulatorDir: emulatorDir)
    p.unitAttentionOnStart = attention
    return EmulatedDrive(profile: p)
}

@Suite struct EmulatorCommandTests {
    @Test func shippedProfilesLoad() throws {
        let names = DriveProfile.available(in: emulatorDir)
        #expect(names.contains("ihas124y") && names.contains("ihas124y-cmc"))
        for n in names { _ = try DriveProfile.resolve(n, emulatorDir: emulatorDir) }
    }

    @Test func ihas124yInquiryMatchesBinflashStrings() throws {
        let d = try drive("ihas124y")
        let r = try d.run(.inquiry(allocation: 96), .fromDevice(96))
        #expect(Array(r.data[8..<36]) == Array("ATAPI   iHAS124   Y     BL0X".utf8))
    }

    @Test func powerOnUnitAttentionOnceButNotForInquiry() throws {
        let d = try drive("ihas124y", attention: true)
        #expect(try d.execute(.inquiry(), .fromDevice(96), timeout: 1).isGood)
        let tur = try d.execute(.testUnitReady(), .none, timeout: 1)
        #expect(tur.sense?.triple == "06/29/00")
        #expect(try d.execute(.testUnitReady(), .none, timeout: 1).sense?.triple == "02/3A/01")
    }

    @Test func requestSenseReturnsLastError() throws {
        let d = try drive("ihas124y")
        _ = try d.execute(.testUnitReady(), .none, timeout: 1)
        let rs = try d.run(.requestSense(allocation: 18), .fromDevice(18))
        #expect(try SenseData(bytes: rs.data).triple == "02/3A/01")
    }

    @Test func unsupportedAndInvalid() throws {
        let d = try drive("bdr-209d")   // a profile without a firmware side: vendor commands and downloads are refused
        #expect(try d.execute(try CDB(raw: [0xCC, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), .none, timeout: 1).sense?.triple == "05/20/00")
        #expect(try d.execute(.inquiry(vpdPage: 0xB1, allocation: 64), .fromDevice(64), timeout: 1).sense?.triple == "05/24/00")
        #expect(try d.execute(try .writeBuffer(mode: 5, bufferID: 0, offset: 0, length: 4), .toDevice([1, 2, 3, 4]), timeout: 1).sense?.triple == "05/20/00")
        #expect(try d.execute(.readTOC(format: 4, msf: true, allocation: 28), .fromDevice(28), timeout: 1).sense?.triple == "02/3A/01")
        #expect(d.writeCommandCount == 1)
    }

    @Test func allocationLengthAndResidue() throws {
        let d = try drive("ihas124y")
        let r = try d.run(.inquiry(allocation: 36), .fromDevice(255))
        #expect(r.data.count == 36 && r.residue == 219)
    }

    @Test func atipOfTheCMCDisc() throws {
        let d = try drive("ihas124y-cmc")
        let r = try d.run(.readTOC(format: 4, msf: true, allocation: 32), .fromDevice(32))
        #expect(Array(r.data[0...1]) == [0, 30])          // 28-byte descriptor after the length field's 2 bytes
        #expect(r.data[4] == 0xD0)                        // 1, writing power 5, reference speed 0
        #expect(r.data[6] == 0x90)                        // 1, CD-R, sub-type 2, no A1/A2/A3
        #expect(Array(r.data[8...10]) == [97, 26, 66])
        #expect(Array(r.data[12...14]) == [74, 43, 0])    // the story's 74-minute disc
        let eject = try d.execute(.startStopUnit(start: false, loadEject: true), .none, timeout: 1)
        #expect(eject.isGood)
        #expect(try d.execute(.testUnitReady(), .none, timeout: 1).sense?.triple == "02/3A/02")
    }

    /// GET PERFORMANCE 03h: the speeds the drive offers for the loaded disc, in MMC's layout, checked byte by byte.
    @Test func getPerformanceForTheCMCDisc() throws {
        let d = try drive("ihas124y-cmc")
        let cdb = try CDB(raw: [0xAC, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0x03, 0])   // at most 2 descriptors, write speed type
        let r = try d.run(cdb, .fromDevice(64))
        #expect(r.data.count == 8 + 32)
        #expect(Array(r.data[0...3]) == [0, 0, 0, 36])
        #expect(Array(r.data[8...23]) == [0x02, 0, 0, 0, 0x00, 0x05, 0x20, 0xCB, 0, 0, 0x10, 0x8A, 0, 0, 0x10, 0x8A])   // 4234 kB/s, end 336075
        #expect(Array(r.data[36...39]) == [0, 0, 0x0B, 0x06])                                                          // 2822 kB/s
        #expect(try d.execute(try CDB(raw: [0xAC, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0x00, 0]), .fromDevice(64), timeout: 1).sense?.triple == "05/24/00")
        _ = try d.execute(.startStopUnit(start: false, loadEject: true), .none, timeout: 1)
        #expect(try d.execute(cdb, .fromDevice(64), timeout: 1).sense?.triple == "02/3A/02")
    }

    @Test func getConfigurationReflectsMedium() throws {
        let d = try drive("ihas124y-cmc")
        let c = try FeatureConfiguration(bytes: d.run(.getConfiguration(allocation: 4096), .fromDevice(4096)).data)
        #expect(c.currentProfile == 0x09)
        #expect(c.has(0x002D) && c.has(0x002B) && c.has(0x0108))
        let cur = try FeatureConfiguration(bytes: d.run(.getConfiguration(rt: 1, allocation: 4096), .fromDevice(4096)).data)
        #expect(cur.features.allSatisfy { $0.current })
        let one = try FeatureConfiguration(bytes: d.run(.getConfiguration(rt: 2, startingFeature: 0x002D, allocation: 4096), .fromDevice(4096)).data)
        #expect(one.features.map(\.code) == [0x002D])
    }

    @Test func regionChangesRunDownToPermanent() throws {
        let d = try drive("ihas124y")
        func setRegion(_ n: Int) throws -> CommandResult {
            let mask = UInt8(0xFF & ~(1 << (n - 1)))
            return try d.execute(.sendKey(keyFormat: 6, parameterLength: 8), .toDevice([0, 6, 0, 0, mask, 0, 0, 0]), timeout: 1)
        }
        for (i, region) in [1, 2, 3, 4].enumerated() {
            #expect(try setRegion(region).isGood)
            let s = try RPCState(bytes: d.run(.reportKey(keyFormat: 8, allocation: 8), .fromDevice(8)).data)
            #expect(s.userChangesLeft == 3 - i)
            #expect(s.playableRegions == [region])
        }
        let s = try RPCState(bytes: d.run(.reportKey(keyFormat: 8, allocation: 8), .fromDevice(8)).data)
        #expect(s.typeCode == 3)
        #expect(try setRegion(5).sense?.triple == "05/6F/05")
        // Two regions at once is an invalid parameter.
        let d2 = try drive("ihas124y")
        #expect(try d2.execute(.sendKey(keyFormat: 6, parameterLength: 8), .toDevice([0, 6, 0, 0, 0xFC, 0, 0, 0]), timeout: 1).sense?.triple == "05/26/00")
    }

    @Test func rpc1DriveRejectsReportKey() throws {
        let d = try drive("px716a")
        #expect(try d.execute(.reportKey(keyFormat: 8, allocation: 8), .fromDevice(8), timeout: 1).sense?.triple == "05/24/00")
        let info = try DriveIdentifier(d).identify()
        #expect(!info.rpc.available)
        #expect(info.serial == nil)
    }

    @Test func fullIdentification() throws {
        let d = try drive("ihas124y-cmc", attention: true)
        let info = try DriveIdentifier(d).identify()
        #expect(info.inquiry.vendor == "ATAPI" && info.inquiry.revision == "BL0X")
        #expect(info.serial == "SYNTH124Y0002")
        #expect(info.currentProfile?.name == "CD-R")
        #expect(info.writeCapabilities.contains("DVD+R"))
        #expect(info.rpc.regions == "2")
        #expect(info.medium == .present)
        #expect(info.notes.isEmpty)
    }

    @Test func handlersExtendTheDrive() throws {
        let d = try drive("ihas124y")
        d.handlers[0xCC] = { _, cdb, t in .good([0x4B, 0x33, 0x35, 0x30]) }
        let r = try d.run(try CDB(raw: [0xCC, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0]), .fromDevice(4))
        #expect(r.data == Array("K350".utf8))
    }

    @Test func closedDriveRefuses() throws {
        let d = try drive("ihas124y")
        d.close()
        #expect(throws: TransportError.closed) { try d.execute(.testUnitReady(), .none, timeout: 1) }
    }
}

@Suite struct ProfileValidationTests {
    let base = """
    name: t
    provenance: "synthetic test"
    inquiry: {vendor: "V", product: "P", revision: "1"}
    profiles: [CD-ROM, CD-R]
    """

    @Test func minimalProfile() throws {
        let p = try DriveProfile.parse(base)
        #expect(p.rpc == nil && p.medium == nil)
    }

    @Test(arguments: [
        ("name: t\ninquiry: {vendor: V, product: P, revision: '1'}\nprofiles: []", "provenance"),
        ("name: t\nprovenance: x\ninquiry: {vendor: TOOLONGVENDOR, product: P, revision: '1'}\nprofiles: []", "longer than 8"),
        ("name: t\nprovenance: x\ninquiry: {vendor: V, product: P, revision: '1'}\nprofiles: [CD-Q]", "unknown profile"),
        ("name: t\nprovenance: x\ninquiry: {vendor: V, product: P, revision: '1'}\nprofiles: [CD-R]\nmedium: {profile: DVD+R}", "not one of"),
        ("name: t\nprovenance: x\ninquiry: {vendor: V, product: P, revision: '1'}\nprofiles: [CD-R]\nmedium: {profile: CD-R, atip: {leadIn: '97:61:00', leadOut: '79:59:74'}}", "MM:SS:FF"),
        ("name: t\nprovenance: x\ninquiry: {vendor: V, product: P, revision: '1'}\nprofiles: [CD-R]\nrpc: {typeCode: 9, vendorResetsLeft: 0, userChangesLeft: 0, region: 1}", "typeCode"),
        ("name: [unclosed", "invalid"),
    ])
    func invalidProfiles(_ yaml: String, _ fragment: String) {
        do {
            _ = try DriveProfile.parse(yaml)
            Issue.record("accepted an invalid profile")
        } catch {
            #expect(error.description.contains(fragment), "\(error.description)")
        }
    }

    @Test func unknownNameListsKnown() {
        #expect(throws: DriveProfile.Failure.self) { try DriveProfile.resolve("nope", emulatorDir: emulatorDir) }
        #expect(throws: DriveProfile.Failure.self) { try DriveProfile.resolve("../../etc/passwd", emulatorDir: emulatorDir) }
    }
}

@Suite struct EmulatedDiscTests {
    func drive(_ medium: String) throws -> EmulatedDrive {
        var p = try DriveProfile.parse("""
        name: t
        provenance: "synthetic test"
        inquiry: {vendor: V, product: P, revision: "1"}
        profiles: [CD-R, DVD-R, DVD+R, BD-R SRM, DVD-ROM]
        medium: \(medium)
        """)
        p.unitAttentionOnStart = false
        return EmulatedDrive(profile: p)
    }

    @Test func cdrATIP() throws {
        let i = try DiscIdentifier(EmulatedDrive(profile: DriveProfile.resolve("ihas124y-cmc", emulatorDir: emulatorDir))).identify()
        #expect(i.profile == "CD-R" && i.atip?.leadIn == "97:26:66" && i.code == "97:26:60")
    }

    @Test func dvdPlusADIPAndFallback() throws {
        let direct = try DiscIdentifier(drive("{profile: DVD+R, mediaID: {mid: MCC, tid: \"004\", rid: 1}}")).identify()
        #expect(direct.mediaID?.source == "ADIP (format 11h)" && direct.code == "MCC-004-01")
        #expect(direct.bookType == "DVD+R (version 1)")
        let fallback = try DiscIdentifier(drive("{profile: DVD+R, mediaID: {mid: MCC, tid: \"004\", rid: 1}, adipFormat11: false}")).identify()
        #expect(fallback.mediaID?.source == "PFI (format 00h)" && fallback.code == "MCC-004-01")
        #expect(fallback.notes.contains { $0.contains("05/24/00") })
    }

    @Test func dvdDashAndBD() throws {
        let r = try DiscIdentifier(drive("{profile: DVD-R, mediaID: {mid: RITEKG05}}")).identify()
        #expect(r.code == "RITEKG05" && r.bookType == "DVD-R (version 0)")
        let b = try DiscIdentifier(drive("{profile: BD-R SRM, mediaID: {mid: CMCMAG, tid: BA5, rid: 0}}")).identify()
        #expect(b.code == "CMCMAG-BA5-00")
    }

    @Test func pressedAndMissingDiscs() throws {
        let rom = try DiscIdentifier(drive("{profile: DVD-ROM}")).identify()
        #expect(rom.code == nil && rom.notes.contains { $0.contains("carries no media ID") })
        // A pressed disc's write speeds are asked only on request (media --speeds), and then reported as answered.
        #expect(rom.writeSpeeds == nil)
        let asked = try DiscIdentifier(drive("{profile: DVD-ROM, writeSpeedsKBs: [5540]}")).identify(allSpeeds: true)
        #expect(asked.writeSpeeds?.getPerformance?.map(\.writeKBs) == [5540])
        let refused = try DiscIdentifier(drive("{profile: DVD-ROM, getPerformance: false}")).identify(allSpeeds: true)
        #expect(refused.writeSpeeds?.getPerformance == nil)
        #expect(refused.writeSpeeds?.notes.contains { $0.hasPrefix("GET PERFORMANCE") && $0.contains("05/24/00") } == true)
        let d = try drive("{profile: DVD+R, mediaID: {mid: MCC, tid: \"004\", rid: 1}}")
        _ = try d.execute(.startStopUnit(start: false, loadEject: true), .none, timeout: 1)
        let none = try DiscIdentifier(d).identify()
        #expect(none.medium == .trayOpen && none.code == nil)
    }

    @Test func mediumValidation() {
        #expect(throws: DriveProfile.Failure.self) { try drive("{profile: DVD+R, mediaID: {mid: TOOLONGMID}}") }
        #expect(throws: DriveProfile.Failure.self) { try drive("{profile: BD-R SRM, mediaID: {mid: SEVENCH}}") }
    }
}

/// The `emulator:` block of a flash sequence, as the Emulator module reads it for a dry-run copy.
@Suite struct SequenceEmulatorTests {
    @Test func blockGivesTheBehaviourItsSettings() throws {
        let f = try SequenceEmulator.decode(yaml: "{behavior: nec, size: 0x200000, id_at: 0x4800, checksum_range: [0x30000, 0x1F0000], busy_after_flash: 2}")
        #expect(f.behavior == "nec" && f.size == 0x200000 && f.busyAfterFlash == 2)
        #expect(f[NECBehavior.self]?.idAt == 0x4800 && f[NECBehavior.self]?.checksumRange == [0x30000, 0x1F0000])
        #expect(f[PioneerBehavior.self] == nil)
        #expect(try SequenceEmulator.decode(yaml: "plextor")[PlextorBehavior.self] != nil)
    }

    /// A copy of a real drive cannot know where the drive keeps its ID; it keeps every other setting the block gives.
    @Test func dryRunCopyLeavesOutTheDriveID() throws {
        let f = try SequenceEmulator.dryRunCopy("{behavior: nec, id_at: 0x4800, checksum_range: [0x30000, 0x1F0000]}", size: 0x1000, revisionOffset: 0x58)
        #expect(f.size == 0x1000 && f.revisionOffset == 0x58)
        #expect(f[NECBehavior.self]?.idAt == nil && f[NECBehavior.self]?.checksumRange == [0x30000, 0x1F0000])
        #expect(try SequenceEmulator.dryRunCopy(nil, size: 0x1000, revisionOffset: nil)[SPCBehavior.self] != nil)
    }

    @Test func keysAreTheBehavioursOwn() {
        #expect(SequenceEmulator.keys(behavior: "lg-renesas") == ["behavior", "size", "busy_after_flash"])
        #expect(SequenceEmulator.keys(behavior: "pioneer")?.contains("kernel_at") == true)
        #expect(SequenceEmulator.keys(behavior: "nope") == nil)
        #expect(throws: SequenceEmulator.Problem.self) { try SequenceEmulator.decode(yaml: "{behavior: nope}") }
        #expect(throws: SequenceEmulator.Problem.self) { try SequenceEmulator.decode(yaml: "{behavior: nec, size: big}") }
    }

    @Test func everyProfileBehaviourIsRegistered() throws {
        for n in DriveProfile.available(in: emulatorDir) {
            let f = try DriveProfile.resolve(n, emulatorDir: emulatorDir).firmware
            #expect(f.map { BehaviorRegistry.names.contains($0.behavior) && $0.settings != nil } ?? true, "\(n)")
        }
    }
}
