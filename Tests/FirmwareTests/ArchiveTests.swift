import Foundation
import Testing
@testable import Firmware

/// Zips whose structure lies and gzip streams of several members (#16 class 5): built byte by byte here, so that every
/// field can say something false.
@Suite struct ArchiveTests {
    struct Member { var name: [UInt8]; var data: [UInt8]; var csize: Int? = nil; var usize: Int? = nil; var crc: UInt32? = nil; var lho: Int? = nil }

    static func crc32(_ b: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for x in b { c ^= UInt32(x); for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 } }
        return ~c
    }

    static func le(_ v: Int, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

    /// A stored zip; each member's declared sizes, CRC and local-header offset may be overridden.
    static func zip(_ members: [Member]) -> [UInt8] {
        var out: [UInt8] = [], cd: [UInt8] = []
        for m in members {
            let crc = Int(m.crc ?? crc32(m.data)), cs = m.csize ?? m.data.count, us = m.usize ?? m.data.count
            let lho = m.lho ?? out.count
            if m.lho == nil {
                out += le(0x0403_4B50, 4) + le(20, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(crc, 4) + le(cs, 4) + le(us, 4)
                    + le(m.name.count, 2) + le(0, 2) + m.name + m.data
            }
            cd += le(0x0201_4B50, 4) + le(20, 2) + le(20, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(crc, 4) + le(cs, 4) + le(us, 4)
                + le(m.name.count, 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(lho, 4) + m.name
        }
        let off = out.count
        return out + cd + le(0x0605_4B50, 4) + le(0, 2) + le(0, 2) + le(members.count, 2) + le(members.count, 2) + le(cd.count, 4) + le(off, 4) + le(0, 2)
    }

    func why(_ z: [UInt8], member: String? = nil) -> String {
        do { _ = try ImageFile.unzip(z, path: "t.zip", member: member); return "accepted" } catch { return error.description }
    }

    let data = (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7) }

    @Test func anHonestZipReads() throws {
        let z = Self.zip([Member(name: Array("fw.bin".utf8), data: data), Member(name: Array("readme.txt".utf8), data: [1, 2])])
        let (name, bytes) = try ImageFile.unzip(z, path: "t.zip", member: nil)
        #expect(name == "fw.bin" && bytes == data)
    }

    @Test func everyLieIsAnError() {
        let n = Array("fw.bin".utf8)
        #expect(why(Self.zip([Member(name: n, data: data, csize: 10, usize: 10)])).contains("no entry describes"))
        #expect(why(Self.zip([Member(name: n, data: data, csize: 60 << 20, usize: 60 << 20)])).contains("more than the file holds"))
        #expect(why(Self.zip([Member(name: n, data: data, usize: 10)])).contains("stored but declares"))
        #expect(why(Self.zip([Member(name: n, data: data, crc: 1)])).contains("CRC-32 mismatch"))
        #expect(why(Self.zip([Member(name: n, data: data, csize: 0xFFFF_FFFF, usize: 0xFFFF_FFFF)])).contains("zip64"))
        #expect(why(Self.zip([Member(name: n, data: data, lho: 1 << 20)])).contains("lies beyond"))
        let shared = [Member(name: n, data: data)] + (0..<50).map { Member(name: Array("m\($0).bin".utf8), data: data, lho: 0) }
        #expect(why(Self.zip(shared), member: "m1.bin").contains("names another member"))
        let many = Self.zip((0...ImageFile.maxZipMembers).map { Member(name: Array("f\($0).txt".utf8), data: [1]) })
        #expect(why(many).contains("at most \(ImageFile.maxZipMembers) members"))
        #expect(why(Self.zip([Member(name: Array(repeating: 0x61, count: 2000), data: [1])])).contains("at most \(ImageFile.maxMemberName) bytes"))
    }

    @Test func ambiguousMemberNamesAreNotGuessed() {
        let z = Self.zip([Member(name: Array("a/x.bin".utf8), data: data), Member(name: Array("b/x.bin".utf8), data: [1])])
        #expect(why(z, member: "x.bin") == "t.zip: --member 'x.bin' matches 2 members (a/x.bin, b/x.bin): give the full name")
        #expect(why(z, member: "a/x.bin") == "accepted")
    }

    @Test func gzipIsTheWholeStreamOrAnError() throws {
        func gz(_ b: [UInt8]) throws -> [UInt8] {
            let d = NSTemporaryDirectory() + "odflash-gz-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            try Data(b).write(to: URL(fileURLWithPath: d))
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/gzip")
            p.arguments = ["-f", d]
            try p.run(); p.waitUntilExit()
            defer { try? FileManager.default.removeItem(atPath: d + ".gz") }
            return Array(try Data(contentsOf: URL(fileURLWithPath: d + ".gz")))
        }
        let a = Array(data[..<1000]), b = Array(data[1000...])
        #expect(try ImageFile.gunzip(try gz(a) + gz(b), path: "t.gz") == data)
        #expect(try ImageFile.gunzip(try gz(a) + gz([]) + gz(b), path: "t.gz") == data)
        #expect(throws: ImageFileError.self) { try ImageFile.gunzip(try gz(data) + Array("garbage".utf8), path: "t.gz") }
        #expect(throws: ImageFileError.self) { try ImageFile.gunzip(try gz(data) + [0, 0, 0, 0], path: "t.gz") }
        var crcBad = try gz(data)
        crcBad[crcBad.count - 8] ^= 1
        #expect(throws: ImageFileError.self) { try ImageFile.gunzip(crcBad, path: "t.gz") }
    }
}
