import Testing
@testable import Firmware
import FirmwareDB

/// Every layout of every family: generate -> inspect -> the exact identity, valid checksums.
@Suite struct FamilyRoundTripTests {
    static let all: [(String, String)] = db.families.flatMap { f in f.layouts.map { (f.id, $0.id) } }

    @Test(arguments: all)
    func generatedImageInspectsAsItsLayout(_ family: String, _ id: String) throws {
        let l = layout(family, id)
        let img = try generate(l)
        let r = inspect(img)
        let ident = try #require(r.identity, "\(family)/\(id) not identified")
        #expect(ident.family == family)
        #expect(ident.layout == id, "identified as \(ident.layout)")
        // Valid when a checksum could be computed; "not verifiable" (nil) when the layout has none that can be.
        let verifiable = r.checksums.contains { $0.status == .ok } && !r.checksums.contains { $0.status == .unverifiable }
        #expect(r.valid == (verifiable ? true : nil), "\(r.problems) \(r.checksums.map { "\($0.name) \($0.status)" })")
        #expect(r.problems.isEmpty)
        #expect(r.checksums.allSatisfy { $0.status != .bad })
        #expect(r.size == img.count)
    }

    @Test(arguments: all)
    func oneFlippedByteTurnsAChecksumBad(_ family: String, _ id: String) throws {
        let l = layout(family, id)
        guard let c = l.checksums.first(where: { if case .sum = $0.algorithm, $0.storage != .notStored { return true }; return false }) else { return }
        var img = try generate(l)
        let r = try #require(c.ranges.first?.resolved(size: img.count))
        // Flip a byte in the middle of the first checked range, away from signatures.
        let at = (r.lowerBound + r.count / 2) | 1
        img[at] ^= 0x01
        let rep = inspect(img)
        if l.signatures.isEmpty && l.identifyByChecksum {
            // Identified by its checksum alone: a bad checksum means it is no longer recognised at all.
            #expect(rep.identity == nil)
            return
        }
        let result = try #require(rep.checksums.first { $0.name == c.name })
        #expect(result.status == .bad)
        #expect(rep.valid == false)
    }

    @Test func necFieldsAndDriveID() throws {
        let l = layout("nec-optiarc", "nec-2m-opti3")
        let img = try generate(l) { $0.product = "iHAS124   Y"; $0.revision = "BL0X"; $0.vendor = "ATAPI"; $0.bootcode = "08"; $0.size = 1769480 }
        let r = inspect(img)
        #expect(r.vendor == "ATAPI" && r.product == "iHAS124   Y" && r.version == "BL0X")
        #expect(r.bootcode == "30 38 (\"08\")")
        let id = try #require(r.fields.first { $0.name == "drive-id" })
        #expect(db.idTables["nec-drive-ids"]!.find(id.value)?.layout == "nec-2m-opti3")
        #expect(id.offset == 0x1B0002)
        #expect(r.checksums.first?.stored == r.checksums.first?.computed)
    }

    @Test func necDriveIDOfAnotherClassIsFlagged() throws {
        let l = layout("nec-optiarc", "nec-2m")
        let img = try generate(l) { $0.driveID = "G245" }   // an Opti3 ID in a 2M image
        let r = inspect(img)
        #expect(r.valid == false)
        #expect(r.problems.contains { $0.contains("belongs to layout 'nec-2m-opti3'") })
    }

    @Test func plextorChecksumStartsAt8000hOnEarlyModels() throws {
        let img = try generate(layout("plextor", "px-w4824a"))
        var sum: UInt16 = 0x8000
        for b in img[0..<0x79FFE] { sum &+= UInt16(b) }
        #expect(UInt16(img[0x79FFE]) << 8 | UInt16(img[0x79FFF]) == sum)
        let r = inspect(img)
        #expect(r.vendor == "PLEXTOR" && r.product == "CD-R   PX-W4824A")
    }

    @Test func plextorPremium2IsNotPremium() throws {
        let r = inspect(try generate(layout("plextor", "premium2")))
        #expect(r.identity?.layout == "premium2")
    }

    @Test func lgZeroSumKey() throws {
        let img = try generate(layout("lg-renesas", "lg-renesas"))
        var s: UInt16 = 0
        for i in stride(from: 0, to: img.count, by: 2) { s &+= UInt16(img[i]) << 8 | UInt16(img[i + 1]) }
        #expect(~s == 0)
        #expect(Int(img[0x44]) << 24 | Int(img[0x45]) << 16 | Int(img[0x46]) << 8 | Int(img[0x47]) == img.count - 0x400)
    }

    @Test func lgWrongSizeFieldIsAnInvalidLGImage() throws {
        var img = try generate(layout("lg-renesas", "lg-renesas"))
        img[0x47] ^= 0x10
        let r = inspect(img)
        // The family is evident from its header strings; what is wrong is said, and the image is not valid.
        #expect(r.identity?.family == "lg-renesas")
        #expect(r.valid == false)
        #expect(r.problems.contains { $0.contains("size field at 44h") })
    }

    @Test func pioneer106BothChecksums() throws {
        let l = layout("pioneer-dvr", "dvr-106")
        var img = try generate(l)
        #expect(inspect(img).checksums.map(\.status) == [.ok, .ok])
        img[0x20001] ^= 0xFF     // inside both ranges
        let r = inspect(img)
        #expect(r.checksums.map(\.status) == [.bad, .bad])
        #expect(r.checksums[1].firstDifference != nil)
    }

    @Test func mt1887IsIdentifiedByChecksumOnly() throws {
        var img = try generate(layout("lg-mt1887", "mt1887"))
        #expect(inspect(img).identity?.identifiedBy == .checksum)
        img[0xB100] ^= 1
        #expect(inspect(img).identity == nil)
    }

    @Test func mt1959ConfigNamesModels() throws {
        let r = inspect(try generate(layout("mediatek-mt1959", "mt19xx")))
        #expect(r.modelIDs.first == "MT1959 Boot BU5")
    }

    @Test func sizeOnlyIsWarned() throws {
        let r = inspect(try generate(layout("mediatek-ff", "sd-616f")))
        #expect(r.identity?.identifiedBy == .size)
        #expect(r.valid == nil, "identified by size with no checksum: nothing verifiable")
        #expect(r.warnings.contains { $0.contains("size alone") })
    }

    @Test func deterministicFromSeed() throws {
        let l = layout("liteon-mediatek", "liteon-dvdrw")
        #expect(try generate(l, seed: 3) == generate(l, seed: 3))
        #expect(try generate(l, seed: 3) != generate(l, seed: 4))
    }

    @Test func unknownBytesAreUnknown() {
        var rng = SeededRandom(seed: 99)
        let r = inspect(rng.bytes(300_000))
        #expect(r.identity == nil && r.valid == nil && !r.identified)
    }
}
