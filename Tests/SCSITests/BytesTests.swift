import Testing
@testable import SCSI

@Suite struct BytesSumTests {
    /// The reference: one byte at a time.
    static func naive(_ b: ArraySlice<UInt8>) -> (even: UInt64, odd: UInt64) {
        var e: UInt64 = 0, o: UInt64 = 0
        for (k, v) in b.enumerated() { if k & 1 == 0 { e += UInt64(v) } else { o += UInt64(v) } }
        return (e, o)
    }

    @Test func evenOddSumsMatchTheByteByByteSums() {
        var rng = SystemRandomNumberGenerator()
        // Lengths around the 16- and 32-byte steps, starts at every alignment, all-FFh worst case.
        let lengths = [0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 2047, 2048, 2049, 4096 + 3, 65536 + 5, 300_001]
        for fill in [nil, UInt8(0xFF)] {
            let data: [UInt8] = (0..<300_010).map { _ in fill ?? UInt8.random(in: 0...255, using: &rng) }
            for n in lengths {
                for start in 0..<3 {
                    let slice = data[start..<(start + n)]
                    let fast = slice.withUnsafeBytes { Bytes.evenOddSums($0) }
                    let ref = Self.naive(slice)
                    #expect(fast.even == ref.even && fast.odd == ref.odd, "length \(n) start \(start) fill \(String(describing: fill))")
                }
            }
        }
    }

    @Test func wordSum16IsTheBigEndianWordSumModulo65536() {
        let b: [UInt8] = [0x12, 0x34, 0xFF, 0xFF, 0x01]   // 1234h + FFFFh + 0100h (a trailing byte is a high byte)
        #expect(Bytes.wordSum16(b) == (0x1234 + 0xFFFF + 0x0100) & 0xFFFF)
        #expect(Bytes.wordSum16(b[1...]) == (0x34FF + 0xFF01) & 0xFFFF)
        #expect(Bytes.wordSum16(AnySequenceWrapper(b)) == Bytes.wordSum16(b))
    }
}

/// A collection without contiguous storage, to exercise the generic path.
struct AnySequenceWrapper: Collection {
    let base: [UInt8]
    init(_ b: [UInt8]) { base = b }
    var startIndex: Int { base.startIndex }
    var endIndex: Int { base.endIndex }
    func index(after i: Int) -> Int { i + 1 }
    subscript(i: Int) -> UInt8 { base[i] }
}
