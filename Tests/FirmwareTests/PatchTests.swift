import Testing
import PropertyBased
@testable import Firmware

func patcher() -> Patcher { Patcher(inspector: Inspector(layouts: db.layouts, idTables: db.idTables)) }

/// Every byte that changed lies in a field the report names or in a checksum's storage.
func onlyReportedBytesChanged(_ a: [UInt8], _ b: [UInt8], _ r: PatchReport, _ l: ImageLayout, sourceLocation: SourceLocation = #_sourceLocation) {
    var allowed = Set<Int>()
    for c in r.changes { for i in c.offset..<(c.offset + c.length) { allowed.insert(i) } }
    for c in l.checksums { if case let .stored(o, u) = c.storage { for i in o..<(o + u.size) { allowed.insert(i) } } }
    for c in l.checksums { if case let .zeroSum(o, u) = c.storage { for i in o..<(o + u.size) { allowed.insert(i) } } }
    let changed = (0..<a.count).filter { a[$0] != b[$0] }
    let stray = changed.filter { !allowed.contains($0) }
    #expect(stray.isEmpty, "bytes changed outside the reported fields: \(stray.prefix(8).map { String($0, radix: 16) })", sourceLocation: sourceLocation)
}

@Suite struct PatchTests {
    let synth = layout("synthetic-test", "synth-dvdrw")
    let liteon = layout("liteon-mediatek", "liteon-dvdrw")

    func entries(_ img: [UInt8]) -> [String: InspectReport.Entry] {
        var d: [String: InspectReport.Entry] = [:]
        for t in inspect(img).mediaTables where !t.heuristic { for e in t.entries { d["\(e.type) \(e.code)"] = e } }
        return d
    }

    @Test(arguments: ["synthetic", "liteon"])
    func speedChangesOnlyThatEntry(_ which: String) throws {
        let l = which == "synthetic" ? synth : liteon
        let img = try generate(l)
        let (out, r) = try patcher().apply([.speed(code: "MCC-004", speeds: [8, 12, 16])], to: img)
        let before = entries(img), after = entries(out)
        #expect(after["+R MCC-004-00"]?.speeds == ["8x", "12x", "16x"])
        for (k, e) in before where k != "+R MCC-004-00" { #expect(after[k]?.speeds == e.speeds && after[k]?.offset == e.offset, "\(k)") }
        // Lite-On images carry no checksum: "not verifiable" (nil), never invalid.
        #expect(inspect(out).valid != false)
        onlyReportedBytesChanged(img, out, r, l)
    }

    @Test(arguments: ["synthetic", "liteon"])
    func renameAliasesAnEntry(_ which: String) throws {
        let l = which == "synthetic" ? synth : liteon
        let img = try generate(l)
        let (out, r) = try patcher().apply([.rename(from: "TYG02", to: "CMC MAG. AM3")], to: img)
        let after = entries(out)
        #expect(after["-R TYG02-00"] == nil)
        let renamed = try #require(after["-R CMC MAG. AM3-00"])
        #expect(renamed.index == 1 && renamed.speeds == ["2x", "4x", "8x", "12x", "16x"])   // same slot, same strategy and speeds
        #expect(entries(img).count == after.count)
        onlyReportedBytesChanged(img, out, r, l)
    }

    /// Lite-On tables are found through sample codes (RITEKG03, RICOHJPNR00): renaming one would lose the table.
    @Test func renamingALiteOnMarkerIsRefused() throws {
        let img = try generate(liteon)
        #expect(throws: PatchError.self) { try patcher().apply([.rename(from: "RITEKG03", to: "CMC MAG. AM3")], to: img) }
    }

    @Test func renamePlusKeepsR9CopiesAndTID() throws {
        let img = try generate(synth)
        let (out, _) = try patcher().apply([.rename(from: "YUDEN000-T02", to: "CMCMAG-M02")], to: img)
        #expect(entries(out)["+R CMCMAG-M02-00"]?.index == 2)
    }

    @Test func swapExchangesIDsKeepsSlots() throws {
        let img = try generate(synth)
        let (out, r) = try patcher().apply([.swap("TYG02", "MCC 03RG20")], to: img)
        let b = entries(img), a = entries(out)
        #expect(a["-R TYG02-00"]?.index == b["-R MCC 03RG20-00"]?.index)
        #expect(a["-R MCC 03RG20-00"]?.index == b["-R TYG02-00"]?.index)
        // Speeds stay with the slot (the strategy), so each code now has the other's speeds.
        #expect(a["-R TYG02-00"]?.speeds == b["-R MCC 03RG20-00"]?.speeds)
        onlyReportedBytesChanged(img, out, r, synth)
    }

    @Test func regionAndBooktypePatches() throws {
        let img = try generate(synth)
        #expect(inspect(img).patches.map(\.state) == [.original, .original])
        let (out, r) = try patcher().apply([.regionFree, .booktype(media: "dvd+r", value: "dvd-rom")], to: img)
        #expect(inspect(out).patches.map(\.state) == [.patched, .patched])
        onlyReportedBytesChanged(img, out, r, synth)
        #expect(throws: PatchError.alreadyApplied("synth-region-free")) { try patcher().apply([.regionFree], to: out) }
    }

    @Test func wrongVersionBytesAreRefusedWithOffsetAndBytes() throws {
        var img = try generate(synth)
        img[0x50001] = 0x58   // not the expected original
        img = try ChecksumEngine.repair(synth.checksums, image: img)
        #expect(throws: PatchError.wrongBytes(patch: "synth-region-free", offset: 0x50000, found: [0x52, 0x58, 0x43, 0x32], expected: [0x52, 0x50, 0x43, 0x32])) {
            try patcher().apply([.regionFree], to: img)
        }
    }

    @Test func guards() throws {
        let img = try generate(synth)
        #expect(throws: PatchError.self) { try patcher().apply([.speed(code: "NOPE-000", speeds: [4])], to: img) }
        #expect(throws: PatchError.notEncodable("MCC-004", speeds: [5], allowed: [0, 2.4, 4, 6, 8, 12, 16])) {
            try patcher().apply([.speed(code: "MCC-004", speeds: [5])], to: img)
        }
        #expect(throws: PatchError.tooLong("ABCDEFGHIJ", field: "mid", max: 8)) { try patcher().apply([.rename(from: "MCC-004", to: "ABCDEFGHIJ-001")], to: img) }
        #expect(throws: PatchError.duplicate("TYG02-00")) { try patcher().apply([.rename(from: "RITEKG03", to: "TYG02")], to: img) }
        #expect(throws: PatchError.differentTables("MCC-004-00", "TYG02-00")) { try patcher().apply([.swap("MCC-004", "TYG02")], to: img) }
        #expect(throws: PatchError.ambiguousCode("RICOHJPN", matches: ["+R RICOHJPN-R00-01", "+R RICOHJPN-R01-02"])) {
            try patcher().apply([.speed(code: "RICOHJPN", speeds: [4])], to: img)
        }
        #expect(throws: PatchError.noChange) { try patcher().apply([], to: img) }
    }

    @Test func realFamiliesHaveNoGuessedPatches() throws {
        let nec = try generate(layout("nec-optiarc", "nec-2m-opti3")) { $0.cdrTable = [SyntheticATIP((97, 24, 0), (79, 59, 74)), SyntheticATIP((97, 27, 10), (79, 59, 74)),
                                                                                        SyntheticATIP((97, 31, 0), (79, 59, 74)), SyntheticATIP((97, 34, 20), (79, 59, 74))] }
        #expect(throws: PatchError.heuristicOnly("nec-optiarc")) { try patcher().apply([.speed(code: "97:24:00", speeds: [16])], to: nec) }
        #expect(throws: PatchError.noKnownPatch(family: "nec-optiarc/nec-2m-opti3", what: "region")) { try patcher().apply([.regionFree], to: nec) }
        let lite = try generate(liteon)
        #expect(throws: PatchError.noKnownPatch(family: "liteon-mediatek/liteon-dvdrw", what: "book-type dvd+r=dvd-rom")) {
            try patcher().apply([.booktype(media: "dvd+r", value: "dvd-rom")], to: lite)
        }
        var rng = SeededRandom(seed: 3)
        #expect(throws: PatchError.unidentified) { try patcher().apply([.regionFree], to: rng.bytes(4096)) }
    }

    @Test func unverifiableChecksumRefuses() throws {
        var l = synth
        l.id = "synth-unknown-sum"
        l.checksums = [ChecksumSpec(name: "secret", algorithm: .unknown, ranges: [], storage: .stored(offset: 0xFFFFE, unit: .be16))]
        let img = try SyntheticImage.generate(l, SyntheticSpec())
        let p = Patcher(inspector: Inspector(layouts: [l], idTables: [:]))
        #expect(throws: PatchError.unverifiableChecksum("secret")) { try p.apply([.speed(code: "MCC-004", speeds: [4])], to: img) }
    }

    /// Property: any sequence of operations either refuses with a PatchError or yields a validating image
    /// whose changes are exactly what the report lists.
    @Test func randomOperationSequences() async throws {
        let base = try generate(synth)
        let codes = ["MCC-004", "YUDEN000-T02", "RITEKG03", "TYG02", "MCC 03RG20", "CMC MAG. AE1", "97:24:00", "97:31:00", "NOPE"]
        let speedSets: [[Double]] = [[4], [8, 16], [2.4, 4, 6], [5], [16, 24, 48], [1, 2]]
        await propertyCheck(count: 40, input: Gen.int(in: 0...Int(UInt32.max))) { seed in
            var rng = SeededRandom(seed: UInt64(seed))
            var ops: [PatchOperation] = []
            for _ in 0..<(Int(rng.next() % 4) + 1) {
                switch rng.next() % 5 {
                case 0: ops.append(.speed(code: codes[Int(rng.next() % UInt64(codes.count))], speeds: speedSets[Int(rng.next() % UInt64(speedSets.count))]))
                case 1: ops.append(.rename(from: codes[Int(rng.next() % UInt64(codes.count))], to: ["NEWCODE1", "X-123", "CMC MAG. AM3"][Int(rng.next() % 3)]))
                case 2: ops.append(.swap(codes[Int(rng.next() % UInt64(codes.count))], codes[Int(rng.next() % UInt64(codes.count))]))
                case 3: ops.append(.regionFree)
                default: ops.append(.booktype(media: "dvd+r", value: "dvd-rom"))
                }
            }
            do {
                let (out, r) = try patcher().apply(ops, to: base)
                let rep = inspect(out)
                #expect(rep.valid == true && rep.identity?.layout == "synth-dvdrw", "\(ops)")
                onlyReportedBytesChanged(base, out, r, synth)
            } catch let e as PatchError {
                _ = e.description   // a refusal is a fine outcome; it must just be a PatchError with a message
            } catch {
                Issue.record("unexpected error \(error) for \(ops)")
            }
        }
    }
}
