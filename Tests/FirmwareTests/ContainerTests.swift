import CZlibShim
import Foundation
import Testing
import ZIPFoundation
@testable import Firmware

@Suite struct ContainerTests {
    func write(_ bytes: [UInt8], _ path: String) { _ = FileManager.default.createFile(atPath: path, contents: Data(bytes)) }

    func gzip(_ path: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/gzip")
        p.arguments = ["-kf", path]
        try p.run()
        p.waitUntilExit()
    }

    @Test func zlibIsLoadedOnFirstUseAndTheFallbackCRCAgrees() {
        #expect(odflash_zlib_available() == 1, "\(odflash_zlib_failure().map { String(cString: $0) } ?? "")")
        // CRC-32's check value (the CRC catalogue's "123456789"), then the fallback against zlib on every length up to
        // 300 and a 1 MiB run, continued across calls as zip readers continue it.
        let check = Array("123456789".utf8)
        #expect(odflash_crc32_portable(0, check, uInt(check.count)) == 0xCBF4_3926)
        var g = SystemRandomNumberGenerator()
        let data = (0..<(1 << 20)).map { _ in UInt8.random(in: 0...255, using: &g) }
        for n in Array(0...300) + [4095, 65536, 1 << 20] {
            let slice = Array(data.prefix(n))
            #expect(odflash_crc32_portable(0, slice, uInt(n)) == odflash_crc32(0, slice, uInt(n)), "\(n) bytes")
        }
        let half = odflash_crc32_portable(0, data, 1000)
        #expect(data.withUnsafeBufferPointer { odflash_crc32_portable(half, $0.baseAddress! + 1000, 2000) } == odflash_crc32(0, data, 3000))
        #expect(odflash_crc32_portable(0, nil, 0) == 0 && odflash_crc32(0, nil, 0) == 0)
    }

    @Test func binGzipAndZipGiveTheSameBytes() throws {
        let d = tempDir()
        let img = try generate(layout("plextor", "px-716a"))
        write(img, d + "/fw.bin")
        try gzip(d + "/fw.bin")
        let archive = try Archive(url: URL(fileURLWithPath: d + "/fw.zip"), accessMode: .create)
        try archive.addEntry(with: "readme.txt", type: .file, uncompressedSize: Int64(5), provider: { _, _ in Data("hello".utf8) })
        try archive.addEntry(with: "PX716A.bin", fileURL: URL(fileURLWithPath: d + "/fw.bin"), compressionMethod: .deflate)
        #expect(try ImageFile.load(d + "/fw.bin").bytes == img)
        let gz = try ImageFile.load(d + "/fw.bin.gz")
        #expect(gz.bytes == img && gz.container == "gzip")
        let z = try ImageFile.load(d + "/fw.zip")
        #expect(z.bytes == img && z.member == "PX716A.bin" && z.container == "zip")
        #expect(try ImageFile.zipMembers(d + "/fw.zip").map(\.name).sorted() == ["PX716A.bin", "readme.txt"])
        #expect(try ImageFile.load(d + "/fw.zip", member: "readme.txt").bytes == Array("hello".utf8))
    }

    /// The fuzzers' findings (scripts/fuzz/regressions/containers): zips whose end-of-central-directory record is
    /// missing or runs past the end are refused as corrupt, before ZIPFoundation's in-memory archive (which leaked its
    /// memory file on exactly these: LeakSanitizer's 40 bytes) is made; one whose directory lies is refused as well.
    @Test(arguments: ["leak-no-eocd.zip", "eocd-comment-past-end.zip", "eocd-central-directory-past-end.zip"])
    func fuzzFindings(_ name: String) throws {
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = here.path + "/scripts/fuzz/regressions/containers/" + name
        #expect(FileManager.default.fileExists(atPath: path))
        #expect(throws: ImageFileError.self) { try ImageFile.load(path) }
        #expect(throws: ImageFileError.self) { try ImageFile.zipMembers(path) }
    }

    @Test func theEndRecordIsFoundAndChecked() throws {
        let eocd: [UInt8] = [0x50, 0x4B, 0x05, 0x06] + [UInt8](repeating: 0, count: 18)
        #expect(try ImageFile.zipDirectory(eocd, path: "z").isEmpty)                                  // an empty zip
        #expect(throws: ImageFileError.self) { try ImageFile.zipDirectory(Array(eocd.dropLast()), path: "z") }      // 21 bytes
        #expect(throws: ImageFileError.self) { try ImageFile.zipDirectory(Array(eocd.dropLast(2)) + [5, 0], path: "z") }  // a comment past the end
        #expect(throws: ImageFileError.self) { try ImageFile.zipDirectory(eocd + [UInt8](repeating: 0, count: 0x10000), path: "z") }
    }

    @Test func badInputs() throws {
        let d = tempDir()
        #expect(throws: ImageFileError.notFound(d + "/none.bin")) { try ImageFile.load(d + "/none.bin") }
        #expect(throws: ImageFileError.isDirectory(d)) { try ImageFile.load(d) }
        write([], d + "/empty.bin")
        #expect(throws: ImageFileError.empty(d + "/empty.bin")) { try ImageFile.load(d + "/empty.bin") }
        // Truncated gzip.
        write(Array(repeating: 0x41, count: 5000), d + "/a.bin")
        try gzip(d + "/a.bin")
        let gz = try Data(contentsOf: URL(fileURLWithPath: d + "/a.bin.gz"))
        write(Array(gz.prefix(gz.count / 2)), d + "/trunc.gz")
        #expect(throws: ImageFileError.self) { try ImageFile.load(d + "/trunc.gz") }
        // Garbage after a gzip magic.
        write([0x1F, 0x8B, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9], d + "/bad.gz")
        #expect(throws: ImageFileError.self) { try ImageFile.load(d + "/bad.gz") }
        // A zip with no firmware in it, and a broken zip.
        let archive = try Archive(url: URL(fileURLWithPath: d + "/docs.zip"), accessMode: .create)
        try archive.addEntry(with: "readme.txt", type: .file, uncompressedSize: Int64(2), provider: { _, _ in Data("hi".utf8) })
        #expect(throws: ImageFileError.noFirmwareInZip(d + "/docs.zip", members: ["readme.txt"])) { try ImageFile.load(d + "/docs.zip") }
        #expect(throws: ImageFileError.noSuchMember(d + "/docs.zip", "x.bin", members: ["readme.txt"])) { try ImageFile.load(d + "/docs.zip", member: "x.bin") }
        write([0x50, 0x4B, 3, 4, 0, 0, 0, 0], d + "/broken.zip")
        #expect(throws: ImageFileError.self) { try ImageFile.load(d + "/broken.zip") }
        // Oversized (sparse).
        _ = FileManager.default.createFile(atPath: d + "/huge.bin", contents: nil)
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: d + "/huge.bin"))
        try h.truncate(atOffset: UInt64(ImageFile.maxSize + 1))
        try h.close()
        #expect(throws: ImageFileError.tooLarge(d + "/huge.bin", ImageFile.maxSize + 1, max: ImageFile.maxSize)) { try ImageFile.load(d + "/huge.bin") }
    }

    @Test func ambiguousZip() throws {
        let d = tempDir()
        let archive = try Archive(url: URL(fileURLWithPath: d + "/two.zip"), accessMode: .create)
        for n in ["a.bin", "b.bin"] {
            try archive.addEntry(with: n, type: .file, uncompressedSize: Int64(4), provider: { _, _ in Data([1, 2, 3, 4]) })
        }
        #expect(throws: ImageFileError.ambiguousZip(d + "/two.zip", members: ["a.bin", "b.bin"])) { try ImageFile.load(d + "/two.zip") }
    }
}
