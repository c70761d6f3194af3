import Testing
@testable import SCSI

@Suite struct CDBTests {
    @Test func inquiryStandardAndVPD() {
        #expect(CDB.inquiry(allocation: 96).bytes == [0x12, 0, 0, 0, 0x60, 0])
        #expect(CDB.inquiry(vpdPage: 0x80, allocation: 0x1FF).bytes == [0x12, 1, 0x80, 0x01, 0xFF, 0])
    }

    @Test func simpleCommands() {
        #expect(CDB.testUnitReady().bytes == [0, 0, 0, 0, 0, 0])
        #expect(CDB.requestSense(allocation: 18).bytes == [0x03, 0, 0, 0, 18, 0])
        #expect(CDB.startStopUnit(start: false, loadEject: true).bytes == [0x1B, 0, 0, 0, 0x02, 0])
        #expect(CDB.startStopUnit(start: true, loadEject: true, immediate: true).bytes == [0x1B, 1, 0, 0, 0x03, 0])
    }

    @Test func mmcCommands() {
        #expect(CDB.modeSense10(page: 0x2A, allocation: 256).bytes == [0x5A, 0x08, 0x2A, 0, 0, 0, 0, 0x01, 0x00, 0])
        #expect(CDB.getConfiguration(rt: 2, startingFeature: 0x0104, allocation: 0x800).bytes
                == [0x46, 2, 0x01, 0x04, 0, 0, 0, 0x08, 0x00, 0])
        #expect(CDB.readTOC(format: 4, msf: true, allocation: 28).bytes == [0x43, 0x02, 0x04, 0, 0, 0, 0, 0, 28, 0])
        #expect(CDB.readDiscStructure(mediaType: 1, format: 0, allocation: 0x1004).bytes
                == [0xAD, 0x01, 0, 0, 0, 0, 0, 0, 0x10, 0x04, 0, 0])
        #expect(CDB.readDiscStructure(mediaType: 0, format: 0x11, address: 0x01020304, layer: 1, agid: 2, allocation: 260).bytes
                == [0xAD, 0, 1, 2, 3, 4, 1, 0x11, 0x01, 0x04, 0x80, 0])
        #expect(CDB.reportKey(keyFormat: 8, allocation: 8).bytes == [0xA4, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0x08, 0])
        #expect(CDB.sendKey(keyFormat: 6, agid: 1, parameterLength: 8).bytes == [0xA3, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0x46, 0])
    }

    @Test func bufferCommandsAreBigEndian24() throws {
        let wb = try CDB.writeBuffer(mode: 0x07, bufferID: 0, offset: 0x123456, length: 0x8000)
        #expect(wb.bytes == [0x3B, 0x07, 0x00, 0x12, 0x34, 0x56, 0x00, 0x80, 0x00, 0x00])
        let rb = try CDB.readBuffer(mode: 0x03, bufferID: 0, offset: 0, length: 4)
        #expect(rb.bytes == [0x3C, 0x03, 0, 0, 0, 0, 0, 0, 4, 0])
        let ms = try CDB.writeBuffer(mode: 0x05, modeSpecific: 1, bufferID: 0xFE, offset: 0, length: 0)
        #expect(ms.bytes[1] == 0x25 && ms.bytes[2] == 0xFE)
    }

    @Test func bufferFieldsOutOfRangeAreRefused() {
        #expect(throws: CDB.Invalid.fieldTooLarge("buffer offset", 0x1000000, max: 0xFFFFFF)) {
            try CDB.writeBuffer(mode: 7, bufferID: 0, offset: 0x1000000, length: 1)
        }
        #expect(throws: CDB.Invalid.self) { try CDB.writeBuffer(mode: 0x20, bufferID: 0, offset: 0, length: 1) }
        #expect(throws: CDB.Invalid.self) { try CDB.readBuffer(mode: 2, bufferID: 0, offset: 0, length: -1) }
    }

    @Test(arguments: [6, 10, 12, 16]) func rawVendorLengthsAccepted(_ n: Int) throws {
        let c = try CDB(raw: [UInt8](repeating: 0xCC, count: n))
        #expect(c.bytes.count == n)
        #expect(c.name == "VENDOR CCh")
    }

    @Test(arguments: [0, 1, 5, 7, 11, 17, 32]) func rawOddLengthsRefused(_ n: Int) {
        #expect(throws: CDB.Invalid.length(n)) { try CDB(raw: [UInt8](repeating: 0, count: n)) }
    }
}

@Suite struct BytesTests {
    @Test func endianReads() {
        let b: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        #expect(Bytes.be32(b, 0) == 0x12345678)
        #expect(Bytes.le(b, 0, 2) == 0x3412)
        #expect(Bytes.be24(b, 2) == nil)
        #expect(Bytes.be(b, -1, 2) == nil)
    }

    @Test func parseHexForms() {
        #expect(Bytes.parseHex("70 00 03") == [0x70, 0, 3])
        #expect(Bytes.parseHex("0x70,0x0,0x3") == [0x70, 0, 3])
        #expect(Bytes.parseHex("700003") == [0x70, 0, 3])
        #expect(Bytes.parseHex("zz") == nil)
        #expect(Bytes.parseHex("") == nil)
    }

    @Test func hexVocabulary() {
        #expect(Hex.byte(0x0A) == "0A")
        #expect(Hex.bytes([0x0A, 0x0B]) == "0A 0B" && Hex.bytes([0x0A, 0x0B][...], separator: "") == "0A0B" && Hex.bytes([UInt8]()) == "")
        #expect(Hex.word(0x8) == "0008" && Hex.word(0x12345) == "12345" && Hex.word(0x1A, digits: 2) == "1A" && Hex.word(-0x1F, digits: 4) == "-001F")
        #expect(Hex.offset(0x1B0000) == "1B0000h" && Hex.offset(0) == "0h" && Hex.offset(UInt64(8), digits: 4) == "0008h")
        #expect(MSF.text(97, 26, 60) == "97:26:60" && MSF.text(0, 2, 5) == "00:02:05")
    }

    @Test func readerNeverReadsPastEnd() throws {
        var r = ByteReader([1, 2, 3])
        #expect(try r.be(2) == 0x0102)
        #expect(throws: ParseError.truncated(needed: 4, have: 3)) { try r.be(2) }
        #expect(try r.u8() == 3)
        #expect(throws: ParseError.self) { try r.u8() }
    }

    @Test func sha256Vectors() {
        #expect(SHA256.hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        var s = SHA256()
        for _ in 0..<1000 { s.update([UInt8](repeating: 0x61, count: 1000)) }
        #expect(Hex.bytes(s.finalize(), separator: "").lowercased() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        // Odd-sized pieces cross block boundaries.
        var p = SHA256()
        for n in [1, 63, 64, 65, 127, 3, 200] { p.update([UInt8](repeating: UInt8(n & 0xFF), count: n)) }
        var whole: [UInt8] = []
        for n in [1, 63, 64, 65, 127, 3, 200] { whole += [UInt8](repeating: UInt8(n & 0xFF), count: n) }
        #expect(Hex.bytes(p.finalize(), separator: "").lowercased() == SHA256.hex(whole))
    }

    @Test func portableAndLibcryptoAgree() {
        for n in [0, 1, 55, 56, 63, 64, 65, 1000, 70_001] {
            let data = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            #expect(SHA256.portableHex(data) == SHA256.hex(data), "length \(n)")
        }
        #expect(SHA256.portableHex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
