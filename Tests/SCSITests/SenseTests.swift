import Testing
@testable import SCSI

@Suite struct SenseTests {
    @Test func tableIsComplete() {
        #expect(ASCTable.count == 764)
        #expect(ASCTable.rangeCount == 6)
        #expect(SenseKeyTable.names.count == 16)
    }

    @Test(arguments: [
        (0x0C, 0x00, "Write error"),
        (0x0C, 0x09, "Write error - loss of streaming"),
        (0x30, 0x05, "Cannot write medium - incompatible format"),
        (0x21, 0x02, "Invalid address for write"),
        (0x24, 0x00, "Invalid field in cdb"),
        (0x73, 0x03, "Power calibration area error"),
        (0x6F, 0x04, "Media region code is mismatched to logical unit region"),
        (0x3A, 0x00, "Medium not present"),
    ])
    func knownCodes(asc: Int, ascq: Int, text: String) {
        #expect(ASCTable.lookup(asc: UInt8(asc), ascq: UInt8(ascq)) == text)
    }

    @Test func rangePatternsAndUnknowns() {
        #expect(ASCTable.describe(asc: 0x40, ascq: 0x85) == "Diagnostic failure on component [85h]")
        #expect(ASCTable.describe(asc: 0x40, ascq: 0x01) == "Ram failure [01h]")
        #expect(ASCTable.describe(asc: 0x85, ascq: 0x01).hasPrefix("Vendor specific ASC 85h"))
        #expect(ASCTable.describe(asc: 0x0C, ascq: 0x90).hasPrefix("Vendor specific ASCQ 90h"))
        #expect(ASCTable.describe(asc: 0x7E, ascq: 0x7E).hasPrefix("Reserved"))
    }

    @Test func fixedFormat() throws {
        let b: [UInt8] = [0xF0, 0, 0x03, 0x00, 0x01, 0x02, 0x03, 10, 0, 0, 0, 0, 0x0C, 0x00, 0x05, 0, 0, 0]
        let s = try SenseData(bytes: b)
        #expect(s.format == .fixed && s.current)
        #expect(s.key == 3 && s.asc == 0x0C && s.ascq == 0)
        #expect(s.information == 0x00010203)
        #expect(s.fru == 5)
        #expect(s.triple == "03/0C/00")
        #expect(s.description == "03/0C/00 Medium Error: Write error")
    }

    @Test func fixedDeferredWithProgress() throws {
        let b: [UInt8] = [0x71, 0, 0x02, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x04, 0x07, 0, 0x80, 0x80, 0x00]
        let s = try SenseData(bytes: b)
        #expect(!s.current)
        #expect(s.progress == 0.5)
    }

    @Test func descriptorFormat() throws {
        // 72h, key 5, 24/00, information descriptor and sense-key-specific descriptor.
        let b: [UInt8] = [0x72, 0x05, 0x24, 0x00, 0, 0, 0, 20,
                          0x00, 0x0A, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34,
                          0x02, 0x06, 0, 0, 0xC0, 0x00, 0x02, 0]
        let s = try SenseData(bytes: b)
        #expect(s.format == .descriptor)
        #expect(s.triple == "05/24/00")
        #expect(s.information == 0x1234)
        #expect(s.senseKeySpecific == [0x40, 0x00, 0x02])
    }

    @Test func malformedSense() {
        #expect(throws: SenseData.Failure.empty) { try SenseData(bytes: []) }
        #expect(throws: SenseData.Failure.unknownFormat(0x7F)) { try SenseData(bytes: [0x7F, 0, 0, 0, 0, 0, 0, 0]) }
        #expect(throws: SenseData.Failure.unknownFormat(0x00)) { try SenseData(bytes: [0, 0, 0]) }
        #expect(throws: SenseData.Failure.tooShort(2)) { try SenseData(bytes: [0x70, 0]) }
        #expect(throws: SenseData.Failure.tooShort(3)) { try SenseData(bytes: [0x72, 5, 0x24]) }
    }

    @Test func truncatedFixedSenseKeepsWhatArrived() throws {
        let s = try SenseData(bytes: [0x70, 0, 0x06])
        #expect(s.key == 6 && s.asc == 0 && s.ascq == 0)
    }
}

@Suite struct SenseInputTests {
    @Test(arguments: ["03/0C/00", "3/c/0", "03 0C 00", "0x03 0x0C 0x00", "03h 0Ch 00h", " 03/0c/00 \n"])
    func triples(_ s: String) throws {
        let i = try SenseInput.parse(s)
        #expect(i.sense.triple == "03/0C/00")
        #expect(!i.fromBytes)
    }

    @Test func neroLog() throws {
        let log = """
        CDB: 2A 00 00 00 00 00 00 00 20 00
        Sense Key: 0x03 (KEY_MEDIUM_ERROR)
                Sense Code: 0x0C
                Sense Qual: 0x00
        """
        let i = try SenseInput.parse(log)
        #expect(i.source == .log && i.sense.triple == "03/0C/00")
    }

    @Test func cdrecordLogUsesSenseBytes() throws {
        let log = """
        CDB:  2A 00 00 00 00 00 00 00 1F 00
        status: 0x2 (CHECK CONDITION)
        Sense Bytes: 70 00 03 00 00 00 00 0A 00 00 00 00 0C 00 00 00 00 00
        Sense Key: 0x3 Medium Error, Segment 0
        Sense Code: 0x0C Qual 0x00 (write error) Fru 0x0
        """
        let i = try SenseInput.parse(log)
        #expect(i.fromBytes && i.sense.triple == "03/0C/00")
    }

    @Test func cdrecordWithoutBytes() throws {
        let i = try SenseInput.parse("Sense Key: 0x5 Illegal Request, Segment 0\nSense Code: 0x30 Qual 0x05 (cannot write medium - incompatible format) Fru 0x0")
        #expect(i.sense.triple == "05/30/05")
    }

    @Test func labelledAscAscq() throws {
        let i = try SenseInput.parse("Sense Key: 0x03  ASC: 0x73  ASCQ: 0x03")
        #expect(i.sense.triple == "03/73/03")
    }

    @Test func rawBytes() throws {
        let i = try SenseInput.parse("70 00 05 00 00 00 00 0a 00 00 00 00 24 00 00 00 00 00")
        #expect(i.source == .rawBytes && i.sense.triple == "05/24/00")
    }

    // "0,0,-41" was found by the sense fuzzer (a signed number reached UInt8 and trapped).
    @Test(arguments: ["", "hello", "03/0C", "zz/yy/xx", "1/2/3/4", "70 00", "0,0,-41", "01\n0\n-1", "+3/0c/0"])
    func garbage(_ s: String) {
        #expect(throws: SenseInput.Failure.self) { try SenseInput.parse(s) }
    }

    @Test func outOfRange() {
        #expect(throws: SenseInput.Failure.self) { try SenseInput.parse("10/00/00") }
        #expect(throws: SenseInput.Failure.self) { try SenseInput.parse("3/100/0") }
    }

    @Test func rawBytesOfUnknownFormat() {
        #expect(throws: SenseInput.Failure.badSense(.unknownFormat(0x20))) {
            try SenseInput.parse("20 00 05 00 00 00 00 0a 00 00")
        }
    }
}
