import Foundation
import Testing
@testable import Firmware
import FirmwareDB
import SCSI

/// MediaTek MT19xx images: AES-128 and AES-CMAC against published vectors, the integrity table against an independent
/// tool (Python's `cryptography`, else OpenSSL) on an image built here from the facts alone, the descriptor, the chip
/// and the drive-read rule.
@Suite struct MediaTekTests {
    static let key = [UInt8](hex: "BD209408E35E526A36235234434FE8AB")

    /// FIPS-197 appendix C.1 and RFC 4493 section 4.
    @Test func aesAndCMACVectors() throws {
        let fips = try #require(AES128(key: [UInt8](hex: "000102030405060708090a0b0c0d0e0f")))
        #expect(fips.encrypt([UInt8](hex: "00112233445566778899aabbccddeeff")) == [UInt8](hex: "69c4e0d86a7b0430d8cdb78070b4c55a"))
        let k = try #require(AES128(key: [UInt8](hex: "2b7e151628aed2a6abf7158809cf4f3c")))
        let m = [UInt8](hex: "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710")
        #expect(k.cmac([]) == [UInt8](hex: "bb1d6929e95937287fa37d129b756746"))
        #expect(k.cmac(m[0..<16]) == [UInt8](hex: "070a16b46b4d4144f79bdd9dd04a287c"))
        #expect(k.cmac(m[0..<40]) == [UInt8](hex: "dfa66747de9ae63030ca32611497c827"))
        #expect(k.cmac(m) == [UInt8](hex: "51f0bebf7e3b9d92fc49741779363cfe"))
        #expect(AES128(key: [1, 2, 3]) == nil)
    }

    /// The message of the digest recipe: every 16-byte block of [start, end] reversed, a short last block too.
    static func recipeMessage(_ img: [UInt8], _ start: Int, _ end: Int) -> [UInt8] {
        var out: [UInt8] = []
        var i = start
        while i <= end { let n = min(16, end + 1 - i); out += img[i..<(i + n)].reversed(); i += n }
        return out
    }

    /// AES-CMAC of a message by a tool that is not odflash: Python's cryptography, else `openssl mac`.
    static func independentCMAC(_ message: [UInt8]) throws -> [UInt8] {
        let dir = NSTemporaryDirectory() + "odflash-kat-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/msg.bin"
        try Data(message).write(to: URL(fileURLWithPath: file))
        func run(_ args: [String]) -> String? {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = args
            let out = Pipe()
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            guard (try? p.run()) != nil else { return nil }
            let d = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return p.terminationStatus == 0 ? String(decoding: d, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : nil
        }
        let py = "import sys\nfrom cryptography.hazmat.primitives.cmac import CMAC\nfrom cryptography.hazmat.primitives.ciphers import algorithms\n" +
            "c = CMAC(algorithms.AES(bytes.fromhex(sys.argv[1]))); c.update(open(sys.argv[2], 'rb').read()); print(c.finalize().hex())"
        let hexKey = Hex.bytes(key, separator: "")
        if let h = run(["python3", "-c", py, hexKey, file]) { return [UInt8](hex: h) }
        if let h = run(["openssl", "mac", "-cipher", "AES-128-CBC", "-macopt", "hexkey:" + hexKey, "-in", file, "CMAC"]) { return [UInt8](hex: h) }
        throw CancellationError()
    }

    /// A 2 MiB image built here from the facts (not by odflash's generator): banner, descriptor, one active table entry
    /// over [11000h, 19FFFh] and one over an odd-length range (a short last block), the digests from the other tool.
    static func factImage() throws -> [UInt8] {
        var img = [UInt8](repeating: 0xFF, count: 0x200000)
        for i in 0x11000...0x1A3FF { img[i] = UInt8(truncatingIfNeeded: i &* 31 &+ i >> 8) }
        img.replaceSubrange(0x3000..<0x3010, with: Array("MT1959 Boot BU5 ".utf8))
        img.replaceSubrange(0..<8, with: Array("ENCRYPTD".utf8))              // boot page differs from the mirror
        img.replaceSubrange(0x10000..<0x10008, with: Array("PLAINTXT".utf8))
        let d = 0x1EC000
        img.replaceSubrange(d..<(d + 0x34), with: Array("HL-DT-STBD-RE BU40N     1.02N003600\0UNIQUE2017120801".utf8))
        img.replaceSubrange((d + 0x34)..<(d + 0x3E), with: Array("MTEKMT1959".utf8))
        img[d + 0x56] = 0xDE
        let entries = [(0x11000, 0x19FFF), (0x1A000, 0x1A3F6)]
        for (k, (s, e)) in entries.enumerated() {
            let at = 0x10400 + 28 * k
            func le(_ v: Int, _ o: Int) { for b in 0..<4 { img[at + o + b] = UInt8(truncatingIfNeeded: v >> (8 * b)) } }
            le(1, 0); le(s, 4); le(e, 8)
            let tag = try independentCMAC(recipeMessage(img, s, e))
            img.replaceSubrange((at + 12)..<(at + 28), with: tag.reversed())
        }
        return img
    }

    /// The known answer: odflash's table verification agrees with the independent tool's digests, and one flipped
    /// byte in a protected range is BAD.
    @Test func cmacKnownAnswerFromIndependentTool() throws {
        let img = try Self.factImage()
        let r = inspect(img)
        #expect(r.identity?.layout == "mt19xx")
        let cmac = r.checksums.filter { $0.name.hasPrefix("cmac[") }
        #expect(cmac.map(\.name) == ["cmac[0]", "cmac[1]"] && cmac.allSatisfy { $0.status == .ok }, "\(r.checksums)")
        #expect(r.valid == true, "\(r.verdict)")
        #expect(r.mediatek?.chip == "MT1959" && r.mediatek?.driveRead == false)
        #expect(r.mediatek?.descriptor?.model == "BD-RE BU40N" && r.mediatek?.descriptor?.regionCode == "N003600" && r.mediatek?.descriptor?.downgradeEnabled == true)
        var bad = img
        bad[0x15555] ^= 0x01
        let rb = inspect(bad)
        #expect(rb.valid == false && rb.checksums.first { $0.name == "cmac[0]" }?.status == .bad && rb.checksums.first { $0.name == "cmac[1]" }?.status == .ok)
        var short = img
        short[0x1A3F6] ^= 0x80   // the last byte of the short block
        #expect(inspect(short).checksums.first { $0.name == "cmac[1]" }?.status == .bad)
        // A byte outside every range changes nothing.
        var outside = img
        outside[0x30000] ^= 0xFF
        #expect(inspect(outside).valid == true)
    }

    /// No active entry: UNSIGNED, and the image does not validate.
    @Test func unsignedTable() throws {
        var img = try Self.factImage()
        for k in 0..<16 { for b in 0..<4 { img[0x10400 + 28 * k + b] = 0xFF } }
        let r = inspect(img)
        #expect(r.checksums.map(\.status) == [.unsigned] && r.valid == false, "\(r.verdict)")
    }

    /// A raw read (the boot page equal to the mirror) is recognised and marked not flashable; integrity still holds.
    @Test func driveRead() throws {
        var img = try Self.factImage()
        img.replaceSubrange(0..<0x400, with: img[0x10000..<0x10400])
        let r = inspect(img)
        #expect(r.mediatek?.driveRead == true && r.mediatek?.notFlashable?.contains("not an image a drive can boot") == true && r.valid == true)
        #expect(r.mediatek?.driveWrittenRegions.map(\.start) == [0x1D8000, 0x1E0000, 0x1E8000, 0x1F0000])
    }

    /// The chip: the tag decides; conflicting tags refuse; the banner only without any tag; nothing refuses.
    @Test func chipRules() throws {
        var img = try Self.factImage()
        #expect(MediaTekMT19.chip(image: img).chip == .mt1959)
        img.replaceSubrange(0x100000..<0x10000A, with: Array("MTEKMT1939".utf8))
        let conflict = MediaTekMT19.chip(image: img)
        #expect(conflict.chip == nil && conflict.problem?.contains("conflicting") == true)
        #expect(inspect(img).valid == false)
        var noTag = try Self.factImage()
        noTag.replaceSubrange(0x1EC034..<0x1EC03E, with: [UInt8](repeating: 0, count: 10))
        let byBanner = MediaTekMT19.chip(image: noTag)
        #expect(byBanner.chip == .mt1959 && byBanner.source.contains("boot banner"))
        noTag.replaceSubrange(0x3000..<0x3010, with: Array("XX19xx Boot BU5 ".utf8))
        #expect(MediaTekMT19.chip(image: noTag).chip == nil)
        // A drive: the descriptor's tag, else the banner (MT1939 drives say 'MT1959 Boot').
        var desc = [UInt8](repeating: 0, count: 0x100)
        desc.replaceSubrange(0..<8, with: Array("ASUS    ".utf8)); desc.replaceSubrange(0x34..<0x3E, with: Array("MTEKMT1939".utf8))
        #expect(MediaTekMT19.chip(descriptor: desc, banner: Array("MT1959 Boot JB8 ".utf8)).chip == .mt1939)
    }

    /// The generator signs its images so they verify; a flipped byte in a protected range is BAD; fw patch (repair)
    /// never re-signs the table.
    @Test func generatedImagesVerifyAndAreNeverResigned() throws {
        let l = layout("mediatek-mt1959", "mt19xx")
        let img = try generate(l) { $0.vendor = "HL-DT-ST"; $0.product = "BD-RE BU40N"; $0.revision = "1.02"; $0.fields = ["chip-tag": "MTEKMT1939"] }
        let r = inspect(img)
        #expect(r.valid == true && r.mediatek?.chip == "MT1939" && r.mediatek?.driveRead == false, "\(r.verdict)")
        var bad = img
        bad[0x30000] ^= 0x40
        #expect(inspect(bad).valid == false)
        #expect(throws: ChecksumError.self) { try ChecksumEngine.repair(l.checksums, image: bad) }
    }

    /// The build catalog: the 97 public builds, each a distinct SHA-256.
    @Test func buildCatalog() throws {
        let c = try #require(try BuildCatalog.load(root: repoRoot + "/firmware-db"))
        #expect(c.entries.count == 97 && c.entries["00ef88eea527316b240addada947e791555f6d182fbe84fc246ede076fb37e82"] == "BU40N 1.03 (MK)")
        #expect(c.provenance.contains("fw_ident.rs"))
        #expect(throws: BuildCatalog.Failure.self) { try BuildCatalog.parse("# name: t\n# provenance: x\nABC\tlabel\n", file: "t") }
    }
}

extension Array where Element == UInt8 {
    init(hex: String) {
        let h = Array(hex.utf8).filter { $0 != 0x20 }
        self = stride(from: 0, to: h.count - 1, by: 2).map { UInt8(String(decoding: h[$0...($0 + 1)], as: UTF8.self), radix: 16)! }
    }
}
