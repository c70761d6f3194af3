import SCSI

/// The sense data the emulated drive answers with, by the names the T10 ASC list gives them: every CHECK CONDITION
/// the emulator reports is one of these.
struct Sense: Equatable, Sendable {
    let key: UInt8
    let asc: UInt8
    let ascq: UInt8

    init(_ key: UInt8, _ asc: UInt8, _ ascq: UInt8) { self.key = key; self.asc = asc; self.ascq = ascq }

    var data: SenseData { SenseData(key: key, asc: asc, ascq: ascq) }

    /// NO SENSE (what REQUEST SENSE returns when nothing is pending).
    static let noSense = Sense(0, 0x00, 0x00)
    /// NOT READY, logical unit is in process of becoming ready (after a flash).
    static let becomingReady = Sense(2, 0x04, 0x01)
    /// NOT READY, medium not present - tray closed.
    static let mediumNotPresentTrayClosed = Sense(2, 0x3A, 0x01)
    /// NOT READY, medium not present - tray open.
    static let mediumNotPresentTrayOpen = Sense(2, 0x3A, 0x02)
    /// MEDIUM ERROR, unrecovered read error.
    static let unrecoveredReadError = Sense(3, 0x11, 0x00)
    /// MEDIUM ERROR, write error.
    static let writeError = Sense(3, 0x0C, 0x00)
    /// HARDWARE ERROR, internal target failure.
    static let internalTargetFailure = Sense(4, 0x44, 0x00)
    /// ILLEGAL REQUEST, invalid command operation code.
    static let invalidCommandOperationCode = Sense(5, 0x20, 0x00)
    /// ILLEGAL REQUEST, logical block address out of range.
    static let lbaOutOfRange = Sense(5, 0x21, 0x00)
    /// ILLEGAL REQUEST, invalid field in CDB.
    static let invalidFieldInCDB = Sense(5, 0x24, 0x00)
    /// ILLEGAL REQUEST, invalid field in parameter list.
    static let invalidFieldInParameterList = Sense(5, 0x26, 0x00)
    /// ILLEGAL REQUEST, command sequence error.
    static let commandSequenceError = Sense(5, 0x2C, 0x00)
    /// ILLEGAL REQUEST, drive region must be permanent/region reset count error.
    static let regionResetCountError = Sense(5, 0x6F, 0x05)
    /// UNIT ATTENTION, power on, reset, or bus device reset occurred.
    static let powerOnReset = Sense(6, 0x29, 0x00)
    /// UNIT ATTENTION, microcode has been changed.
    static let microcodeChanged = Sense(6, 0x3F, 0x01)
}

extension CommandResult {
    /// CHECK CONDITION with the named sense.
    static func check(_ s: Sense) -> CommandResult { .check(s.key, s.asc, s.ascq) }
}
