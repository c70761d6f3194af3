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
        #expect(i.source == .log && i.sense.triple == "03/0C/00" && i.logFormat == .labelled)
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

    // One test per log format, each with a line shaped as the tool prints it.

    @Test func linuxKernelLines() throws {
        let log = """
        [ 4711.082113] sr 1:0:0:0: [sr0] tag#0 FAILED Result: hostbyte=DID_OK driverbyte=DRIVER_OK cmd_age=12s
        [ 4711.082120] sr 1:0:0:0: [sr0] tag#0 Sense Key : Medium Error [current]
        [ 4711.082124] sr 1:0:0:0: [sr0] tag#0 Add. Sense: Write error
        [ 4711.082129] sr 1:0:0:0: [sr0] tag#0 CDB: Write(10) 2a 00 00 00 04 a0 00 00 20 00
        """
        let i = try SenseInput.parse(log)
        #expect(i.sense.triple == "03/0C/00" && i.logFormat == .kernel && i.keyGiven)
        // A code the kernel has no text for: it prints the numbers.
        let j = try SenseInput.parse("sr 1:0:0:0: [sr0] tag#0 Sense Key : Illegal Request [current]\nsr 1:0:0:0: [sr0] tag#0 Add. Sense: ASC=0x80 ASCQ=0x1")
        #expect(j.sense.triple == "05/80/01")
        // "Blank Check" must not be read as the hex number BC... of a numeric key.
        let k = try SenseInput.parse("sr0: Sense Key : Blank Check [current]\nsr0: Add. Sense: Power calibration area error")
        #expect(k.sense.triple == "08/73/03")
    }

    @Test func oneLineOfATwoLineLog() throws {
        // The additional sense alone (a kernel line, a cdrecord line): decoded, the key said to be missing.
        let add = try SenseInput.parse("[ 4711.08] sr 1:0:0:0: [sr0] tag#0 Add. Sense: Write error")
        #expect(add.sense.asc == 0x0C && add.sense.ascq == 0 && !add.keyGiven && add.logFormat == .kernel)
        let code = try SenseInput.parse("Sense Code: 0x73 Qual 0x03 (power calibration area error) Fru 0x0")
        #expect(code.sense.asc == 0x73 && code.sense.ascq == 0x03 && !code.keyGiven)
        // The key alone: one error saying which line to add.
        for line in ["sr 1:0:0:0: [sr0] tag#0 Sense Key : Medium Error [current]", "Sense Key: 0x3 Medium Error, Segment 0"] {
            #expect {
                _ = try SenseInput.parse(line)
            } throws: { e in
                "\(e)".contains("only the sense key (03h Medium Error)") && "\(e)".contains("paste")
            }
        }
    }

    @Test func growisofsLine() throws {
        let i = try SenseInput.parse(":-[ WRITE@LBA=330h failed with SK=3h/ASC=0Ch/ACQ=00h]: Input/output error")
        #expect(i.sense.triple == "03/0C/00" && i.logFormat == .growisofs)
        #expect(try SenseInput.parse(":-[ CLOSE SESSION failed with SK=5h/ASC=72h/ACQ=03h]: Input/output error").sense.triple == "05/72/03")
    }

    @Test func libburnLines() throws {
        let i = try SenseInput.parse("libburn : SORRY : SCSI error on write(36384,16): [3 0C 00] Write error")
        #expect(i.sense.triple == "03/0C/00" && i.logFormat == .libburn)
        let x = try SenseInput.parse("xorriso : FAILURE : SCSI error condition on command 2Ah WRITE(10): [3 73 03] Power calibration area error")
        #expect(x.sense.triple == "03/73/03")
        // Older libburn: "See MMC specs: Sense Key 3 "Medium error", ASC 10 ASCQ 00".
        #expect(try SenseInput.parse("SCSI error on write(208,16): See MMC specs: Sense Key 3 \"Medium error\", ASC 10 ASCQ 00").sense.triple == "03/10/00")
    }

    @Test func wodimOPCFailure() throws {
        let log = """
        Errno: 5 (Input/output error), send opc scsi sendcmd: no error
        CDB:  54 01 00 00 00 00 00 00 00 00
        status: 0x2 (CHECK CONDITION)
        Sense Bytes: 70 00 03 00 00 00 00 0A 00 00 00 00 73 03 00 00
        Sense Key: 0x3 Medium Error, Segment 0
        Sense Code: 0x73 Qual 0x03 (power calibration area error) Fru 0x0
        Sense flags: Blk 0 (not valid)
        wodim: OPC failed.
        """
        let i = try SenseInput.parse(log)
        #expect(i.sense.triple == "03/73/03" && i.fromBytes && i.logFormat == .senseBytes)
    }

    @Test func imgburnReasonNamesNoKey() throws {
        let i = try SenseInput.parse("W 22:13:31 Failed to Write Sectors 0 - 31 - Reason: Power Calibration Area Error")
        #expect(i.logFormat == .imgburn && !i.keyGiven && i.sense.asc == 0x73 && i.sense.ascq == 0x03)
        let w = try SenseInput.parse("W 22:14:02 Failed to Write Sectors 3456 - 3487 - Reason: Write Error")
        #expect(w.sense.asc == 0x0C && w.sense.ascq == 0x00)
        #expect(throws: SenseInput.Failure.self) { try SenseInput.parse("W 22:14:02 Failed to Write Sectors - Reason: Cosmic rays") }
    }

    @Test func kernelTextNotInT10() {
        #expect(throws: SenseInput.Failure.self) { try SenseInput.parse("sr0: Sense Key : Medium Error [current]\nsr0: Add. Sense: Something odd") }
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
