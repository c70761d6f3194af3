/// A read's CDB and the bytes the drive answered (a dry-run copy answers the same CDB with the same bytes).
public struct RecordedAnswer: Equatable, Sendable {
    public var cdb: [UInt8]
    public var data: [UInt8]
    public init(cdb: [UInt8], data: [UInt8]) { self.cdb = cdb; self.data = data }
}

/// A read the drive refused: its CDB and the sense key, ASC and ASCQ (a dry-run copy refuses it the same way).
public struct RecordedRefusal: Equatable, Sendable {
    public var cdb: [UInt8]
    public var sense: [UInt8]
    public init(cdb: [UInt8], sense: [UInt8]) { self.cdb = cdb; self.sense = sense }
}
