import Foundation
import Testing
@testable import Firmware

@Suite struct LiteOnTablesTests {
    @Test func exactTablesFromTheIndexingCode() throws {
        let img = try generate(layout("liteon-mediatek", "liteon-dvdrw"))
        let r = inspect(img)
        let byType = Dictionary(grouping: r.mediaTables.flatMap(\.entries), by: \.type)
        #expect(byType["+R"]?.map(\.code) == ["RICOHJPN-R00-01", "RICOHJPN-R01-02", "YUDEN000-T02-00", "MCC-004-00", "CMC MAG-M01-00"])
        #expect(byType["+RW"]?.count == 2)
        #expect(byType["-R"]?.map(\.code) == ["RITEKG03-01", "TYG02-00", "MCC 03RG20-00", "CMC MAG. AE1-00"])
        #expect(byType["-RW"]?.map(\.mid) == ["RITEKW01", "TDK601saku"])
        #expect(byType["+R"]?.first?.speeds == ["2.4x", "4x", "8x"])
        #expect(byType["-R"]?.first?.speeds == ["1x", "2x", "4x", "8x"])
        #expect(r.mediaTables.allSatisfy { !$0.heuristic })
        #expect(r.mediaTables.first { $0.name == "+R" }?.offset == 0xC9000)
    }

    @Test func droppedEntriesFollowOmniPatcher() throws {
        let img = try generate(layout("liteon-mediatek", "liteon-dvdrw")) { s in
            s.media[.plusR]! += [SyntheticMedia("MKM", "001", 0, [4]), SyntheticMedia("", "", 0, [])]
        }
        let codes = inspect(img).mediaTables.flatMap(\.entries).map(\.code)
        #expect(!codes.contains("MKM-001-00"))
        #expect(codes.contains("CMC MAG-M01-00"))
    }

    @Test func withoutTheDashCountCodeNoDashTableIsClaimed() throws {
        var img = try generate(layout("liteon-mediatek", "liteon-dvdrw"))
        // Destroy the dash count code: the 1S parser must not guess the dash tables; the plus tables stand on their own.
        if let at = LiteOn8051.dashCountCode().firstMatch(in: img) { img[at] = 0x00 }
        let r = inspect(img)
        #expect(!r.mediaTables.contains { !$0.heuristic && ($0.types.contains("-R") || $0.types.contains("-RW")) })
        #expect(r.mediaTables.contains { !$0.heuristic && $0.types.contains("+R") })
    }

    @Test func speedBits() {
        #expect(SpeedBits.decode(0b0010_1010, SpeedBits.liteonPlus) == [2.4, 6, 12])
        #expect(SpeedBits.decode(0b1, SpeedBits.liteonPlus) == [])    // bit 0 of the plus table is unused
        #expect(SpeedBits.encode([2.4, 8], SpeedBits.liteonPlus) == 0b10010)
        #expect(SpeedBits.encode([3], SpeedBits.liteonPlus) == nil)
    }
}

@Suite struct HeuristicTests {
    @Test func findsAnATIPTableInANECImage() throws {
        let l = layout("nec-optiarc", "nec-2m-opti3")
        let codes: [(UInt8, UInt8, UInt8)] = [(97, 24, 0), (97, 26, 60), (97, 27, 10), (97, 31, 0), (97, 34, 20), (97, 15, 30)]
        let img = try generate(l) { s in s.cdrTable = codes.map { SyntheticATIP($0, (79, 59, 74)) }; s.cdrTableOffset = 0x123450 }
        let t = try #require(inspect(img).mediaTables.first { $0.types == ["CD-R"] })
        #expect(t.heuristic && t.offset == 0x123450 && t.stride == 8)
        #expect(t.entries.map(\.code) == ["97:24:00", "97:26:60", "97:27:10", "97:31:00", "97:34:20", "97:15:30"])
        #expect(t.entries.first?.leadOut == "79:59:74")
        #expect((t.confidence ?? 0) > 0.3 && (t.confidence ?? 1) < 1)
    }

    @Test func knownManufacturersRaiseConfidence() throws {
        let codes: [(UInt8, UInt8, UInt8)] = [(97, 24, 0), (97, 26, 60), (97, 27, 10), (97, 31, 0)]
        var img = [UInt8](repeating: 0xAA, count: 4096)
        for (i, c) in codes.enumerated() { img.replaceSubrange((100 + i * 8)..<(108 + i * 8), with: [c.0, c.1, c.2, 79, 59, 74, 0, 0]) }
        var o = HeuristicScanner.Options()
        let plain = HeuristicScanner.scan(img, options: o)
        o.knownATIP = { m, s, f in m == 97 && [24, 26, 27, 31].contains(s) }
        let known = HeuristicScanner.scan(img, options: o)
        guard case let .heuristic(c1, _) = plain[0].source, case let .heuristic(c2, _) = known[0].source else { Issue.record("not heuristic"); return }
        #expect(c2 > c1)
    }

    @Test func findsDVDIDRecords() {
        var img = [UInt8](repeating: 0xEE, count: 8192)
        let ids = ["RITEKG05", "TYG02", "MCC 03RG20", "CMC MAG. AE1", "FUJIFILM03", "PRODISC R03", "OPTODISCR004"]
        for (i, id) in ids.enumerated() {
            let at = 1000 + i * 16
            for k in 0..<16 { img[at + k] = 0 }
            for (k, b) in id.utf8.enumerated() where k < 12 { img[at + k] = b }
        }
        let t = HeuristicScanner.scan(img)
        let table = t.first { $0.offset == 1000 }
        #expect(table?.stride == 16)
        #expect(table?.entries.count == 7)
        #expect(table?.entries.first?.mid == "RITEKG05")
    }

    /// 16-bit characters whose first character byte falls on an 8-byte boundary (the word-at-a-time skip's edge).
    @Test(arguments: [999, 1000, 1001, 1003, 1007])
    func findsSixteenBitIDsAtAnyAlignment(_ base: Int) {
        var img = [UInt8](repeating: 0xEE, count: 8192)
        let ids = ["RICOHJPN", "YUDEN000", "MCC", "CMC MAG", "OPTODISC", "PRODISC", "INFOMEDI"]
        for (i, id) in ids.enumerated() {
            let at = base + i * 0x1A
            for k in 0..<0x1A { img[at + k] = 0 }
            for (k, b) in id.utf8.enumerated() { img[at + 2 * k + 1] = b }
        }
        let t = HeuristicScanner.scan(img).first { $0.name.contains("16-bit") }
        #expect(t?.offset == base && t?.stride == 0x1A && t?.entries.count == 7)
        #expect(t?.entries.map(\.mid) == ids)
    }

    @Test func randomBytesYieldNoTables() {
        var rng = SeededRandom(seed: 5)
        #expect(HeuristicScanner.scan(rng.bytes(1 << 20)).isEmpty)
    }
}

/// A flash's image check skips the media tables (Inspector.readsMediaTables = false): everything else it reports is
/// what the full inspection reports, on every layout's image, a damaged one and one no layout claims.
@Suite struct InspectWithoutTablesTests {
    @Test func sameVerdictWithoutTables() throws {
        var images: [[UInt8]] = []
        for l in db.layouts { if let img = try? generate(l) { images.append(img) } }
        #expect(images.count > 20)
        if var bad = images.first { bad[bad.count / 2] ^= 0xFF; images.append(bad) }
        var g = SystemRandomNumberGenerator()
        images.append((0..<(1 << 20)).map { _ in UInt8.random(in: 0...255, using: &g) })
        var lean = Inspector(layouts: db.layouts, idTables: db.idTables)
        lean.readsMediaTables = false
        let enc = JSONEncoder()
        enc.outputFormatting = .sortedKeys
        var withTables = 0
        for img in images {
            let full = inspect(img)
            let r = lean.inspect(LoadedImage(path: "test.bin", container: "bin", member: nil, bytes: img))
            #expect(r.mediaTables.isEmpty)
            if !full.mediaTables.isEmpty { withTables += 1 }
            #expect(r.verdict == full.verdict && r.valid == full.valid && r.sha256 == full.sha256)
            #expect(try enc.encode(r.identity) == enc.encode(full.identity))
            #expect(try enc.encode(r.fields) == enc.encode(full.fields) && enc.encode(r.checksums) == enc.encode(full.checksums))
            #expect(r.problems == full.problems && r.vendor == full.vendor && r.product == full.product && r.version == full.version)
        }
        #expect(withTables >= 2)   // the full inspection did read tables on some of these images
    }
}
