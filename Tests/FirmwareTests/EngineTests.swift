import Testing
import PropertyBased
@testable import Firmware

@Suite struct ChecksumEngineTests {
    func spec(_ unit: WordUnit, _ t: ChecksumTransform = .none, initial: UInt64 = 0, width: Int = 16, ranges: [ByteRange], storage: ChecksumSpec.Storage) -> ChecksumSpec {
        ChecksumSpec(name: "c", algorithm: .sum(unit: unit, initial: initial, width: width, transform: t), ranges: ranges, storage: storage)
    }

    @Test func knownSums() throws {
        let img: [UInt8] = [0x01, 0x02, 0x03, 0x04, 0, 0]
        #expect(try ChecksumEngine.compute(spec(.u8, ranges: [ByteRange(0, 4)], storage: .notStored), image: img) == 10)
        #expect(try ChecksumEngine.compute(spec(.be16, ranges: [ByteRange(0, 4)], storage: .notStored), image: img) == 0x0406)
        #expect(try ChecksumEngine.compute(spec(.le16, ranges: [ByteRange(0, 4)], storage: .notStored), image: img) == 0x0604)
        #expect(try ChecksumEngine.compute(spec(.be16, .negate, ranges: [ByteRange(0, 4)], storage: .notStored), image: img) == 0xFBFA)
        #expect(try ChecksumEngine.compute(spec(.be16, .complement, ranges: [ByteRange(0, 4)], storage: .notStored), image: img) == 0xFBF9)
        #expect(try ChecksumEngine.compute(spec(.u8, initial: 0x8000, ranges: [ByteRange(0, 4)], storage: .notStored), image: img) == 0x800A)
        #expect(try ChecksumEngine.compute(spec(.le32, width: 32, ranges: [ByteRange(0, 4)], storage: .notStored), image: img) == 0x04030201)
    }

    @Test func relativeRanges() {
        #expect(ByteRange(0, 0).resolved(size: 10) == 0..<10)
        #expect(ByteRange(2, -2).resolved(size: 10) == 2..<8)
        #expect(ByteRange(-4, 0).resolved(size: 10) == 6..<10)
        #expect(ByteRange(0, 11).resolved(size: 10) == nil)
    }

    @Test func errorsNameTheProblem() {
        let img = [UInt8](repeating: 1, count: 8)
        #expect(throws: ChecksumError.rangeOutOfImage("c", ByteRange(0, 16), size: 8)) {
            try ChecksumEngine.verify(spec(.u8, ranges: [ByteRange(0, 16)], storage: .stored(offset: 0, unit: .be16)), image: img)
        }
        #expect(throws: ChecksumError.unitMisaligned("c", ByteRange(0, 3), unit: 2)) {
            try ChecksumEngine.compute(spec(.be16, ranges: [ByteRange(0, 3)], storage: .notStored), image: img)
        }
        #expect(throws: ChecksumError.storageOutOfImage("c", offset: 7, size: 8)) {
            try ChecksumEngine.verify(spec(.u8, ranges: [ByteRange(0, 4)], storage: .stored(offset: 7, unit: .be16)), image: img)
        }
    }

    /// Found by the checksum fuzzer: a key word outside the summed ranges cannot zero the sum.
    @Test func zeroSumKeyOutsideRangesIsAnError() {
        let img = [UInt8](repeating: 7, count: 64)
        let s = spec(.le16, .complement, ranges: [ByteRange(0, 32)], storage: .zeroSum(keyOffset: 40, unit: .le16))
        #expect(throws: ChecksumError.keyOutsideRanges("c", offset: 40)) { try ChecksumEngine.repair([s], image: img) }
        // Found by the checksum fuzzer: a 32-bit sum cannot be cancelled by a 16-bit key.
        let wide = spec(.be16, width: 32, ranges: [ByteRange(0, 32)], storage: .zeroSum(keyOffset: 4, unit: .be16))
        #expect(throws: ChecksumError.self) { try ChecksumEngine.repair([wide], image: img) }
        let misaligned = spec(.le16, ranges: [ByteRange(0, 32)], storage: .zeroSum(keyOffset: 3, unit: .le16))
        #expect(throws: ChecksumError.keyOutsideRanges("c", offset: 3)) { try ChecksumEngine.repair([misaligned], image: img) }
    }

    /// Found by the checksum fuzzer: a checksum stored inside its own ranges cannot be repaired.
    @Test func storedInsideItsRangesIsAnError() {
        let s = spec(.be16, ranges: [ByteRange(0, 32)], storage: .stored(offset: 10, unit: .be16))
        #expect(throws: ChecksumError.storedInsideRanges("c", offset: 10)) { try ChecksumEngine.repair([s], image: [UInt8](repeating: 1, count: 64)) }
    }

    @Test func wideSumStoredNarrowComparesLowBits() throws {
        var img = [UInt8](repeating: 0xFF, count: 64)
        let s = spec(.be16, width: 32, ranges: [ByteRange(0, 32)], storage: .stored(offset: 40, unit: .be16))
        img = try ChecksumEngine.repair([s], image: img)
        #expect(try ChecksumEngine.verify(s, image: img).status == .ok)
    }

    @Test func unknownAlgorithmIsUnverifiableNotOK() throws {
        let s = ChecksumSpec(name: "bank", algorithm: .unknown, ranges: [], storage: .stored(offset: 2, unit: .be16))
        let r = try ChecksumEngine.verify(s, image: [0, 0, 0x12, 0x34])
        #expect(r.status == .unverifiable && r.stored == 0x1234)
    }

    @Test func runningTable() throws {
        // 16 LE32 words of value 1 in 2 strides of 32 bytes; a 5-slot table.
        var img = [UInt8](repeating: 0, count: 64 + 20)
        for i in stride(from: 0, to: 64, by: 4) { img[i] = 1 }
        let s = ChecksumSpec(name: "t", algorithm: .runningSumTable(unit: .le32, stride: 32, table: ByteRange(64, 84)), ranges: [ByteRange(0, 64)], storage: .table)
        #expect(try ChecksumEngine.verify(s, image: img).status == .bad)
        let fixed = try ChecksumEngine.repair([s], image: img)
        let words = stride(from: 64, to: 84, by: 4).map { Int(fixed[$0]) | Int(fixed[$0 + 1]) << 8 }
        // running sums 8, 16; final 16; then 16-8, 16-16.
        #expect(words == [8, 16, 16, 8, 0])
        #expect(try ChecksumEngine.verify(s, image: fixed).status == .ok)
    }

    /// Property: for any layout checksum and any image content, repair makes every verifiable checksum OK.
    @Test func repairAlwaysValidates() async {
        // An AES-CMAC integrity table (MediaTek MT19xx) is verified but never repaired: repair refuses those layouts.
        func signed(_ l: ImageLayout) -> Bool { l.checksums.contains { if case .aesCMACTable = $0.algorithm { return true }; return false } }
        for l in db.layouts where signed(l) {
            #expect(throws: ChecksumError.self) { try ChecksumEngine.repair(l.checksums, image: [UInt8](repeating: 0, count: l.sizes.first ?? 0x200000)) }
        }
        let layouts = db.layouts.filter { !$0.checksums.isEmpty && !$0.sizes.isEmpty && !signed($0) }
        await propertyCheck(count: 60, input: Gen.int(in: 0...(layouts.count - 1)), Gen.int(in: 0...Int(UInt32.max))) { li, seed in
            let l = layouts[li]
            var rng = SeededRandom(seed: UInt64(seed))
            let img = rng.bytes(l.sizes[0])
            guard let fixed = try? ChecksumEngine.repair(l.checksums, image: img) else { Issue.record("repair threw for \(l.id)"); return }
            for c in l.checksums {
                let r = try? ChecksumEngine.verify(c, image: fixed)
                #expect(r?.status == .ok || r?.status == .unverifiable || r?.status == .computedOnly, "\(l.id)/\(c.name)")
            }
        }
    }

    /// Property: inspect never traps on arbitrary bytes, including sizes every layout wants.
    @Test func inspectNeverTraps() async {
        let sizes = Array(Set(db.layouts.flatMap(\.sizes))).sorted() + [0, 1, 2, 3, 7, 0x48, 0x480, 0x3010, 0x10000]
        await propertyCheck(count: 80, input: Gen.int(in: 0...(sizes.count - 1)), Gen.int(in: 0...Int(UInt32.max))) { si, seed in
            var rng = SeededRandom(seed: UInt64(seed))
            var img = rng.bytes(sizes[si])
            // Sometimes plant signatures so deeper parsers run on garbage.
            if seed % 3 == 0, img.count > 0x4100 {
                for (k, b) in Array("PLEXTOR DVDR   PX-716A ".utf8).enumerated() { img[k] = b }
                for (k, b) in [UInt8]([0x07, 0, 3, 0, 0x78, 0, 0x78, 0, 0x78, 0]).enumerated() { img[0x100 + k] = b }
            }
            let r = inspect(img, heuristic: true)
            #expect(r.size == img.count)
        }
    }
}

@Suite struct PatternTests {
    @Test func wildcardsAndSearch() {
        let p = BytePattern(hex: "07 00 ?? 78")!
        #expect(p.count == 4)
        #expect(p.firstMatch(in: [1, 7, 0, 9, 0x78, 7, 0, 1, 0x78]) == 1)
        #expect(p.allMatches(in: [7, 0, 9, 0x78, 7, 0, 1, 0x78]) == [0, 4])
        #expect(BytePattern(hex: "0") == nil && BytePattern(hex: "zz") == nil && BytePattern(hex: "") == nil)
        #expect(p.firstMatch(in: [7, 0]) == nil)
    }
}
