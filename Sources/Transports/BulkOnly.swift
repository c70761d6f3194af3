import SCSI

/// What a Bulk-Only Transport needs from a USB device: two bulk pipes and class requests.
/// LibUSBDevice implements it for real hardware; tests implement it with a scripted device.
public protocol BulkPipe: AnyObject {
    var name: String { get }
    /// Sends `data` on the bulk-out endpoint.
    func bulkOut(_ data: [UInt8], timeout: Double) -> BulkResult
    /// Reads up to `length` bytes from the bulk-in endpoint.
    func bulkIn(length: Int, timeout: Double) -> BulkResult
    /// CLEAR_FEATURE(ENDPOINT_HALT) on the in (true) or out (false) endpoint.
    func clearHalt(inEndpoint: Bool) -> Bool
    /// Bulk-Only Mass Storage Reset (class request FFh to the interface).
    func massStorageReset() -> Bool
    func close()
}

public enum BulkResult: Equatable {
    case ok([UInt8])              // data received (bulkIn) or sent (bulkOut: the bytes sent)
    case stall([UInt8])           // endpoint halted, with whatever arrived first
    case timeout
    case noDevice
    case error(String)
}

/// SCSI over USB Bulk-Only Transport (USB MSC BOT 1.0): 31-byte CBW, data, 13-byte CSW.
public final class BOTTransport: SCSITransport {
    public let deviceName: String
    public let kind = "usb-bot"
    public let pipe: any BulkPipe
    public let lun: UInt8
    private var tag: UInt32 = 0x6f64_0000   // "od.."
    public var maxStallRetries = 2
    private var closed = false

    static let cbwSignature: UInt32 = 0x4342_5355  // "USBC" little-endian
    static let cswSignature: UInt32 = 0x5342_5355  // "USBS"

    public init(pipe: any BulkPipe, lun: UInt8 = 0, deviceName: String? = nil) {
        self.pipe = pipe
        self.lun = lun
        self.deviceName = deviceName ?? pipe.name
    }

    deinit { close() }

    public func close() {
        guard !closed else { return }
        closed = true
        pipe.close()
    }

    static func le32(_ v: UInt32) -> [UInt8] { [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)] }

    /// Builds the Command Block Wrapper.
    public static func cbw(tag: UInt32, length: Int, dataIn: Bool, lun: UInt8, cdb: [UInt8]) -> [UInt8] {
        var b = le32(cbwSignature) + le32(tag) + le32(UInt32(length))
        b += [dataIn ? 0x80 : 0x00, lun & 0x0F, UInt8(cdb.count)]
        b += cdb + [UInt8](repeating: 0, count: 16 - cdb.count)
        return b
    }

    struct CSW { let tag: UInt32; let residue: UInt32; let status: UInt8 }

    static func parseCSW(_ b: [UInt8]) -> CSW? {
        guard b.count == 13, let sig = Bytes.le(b, 0, 4), UInt32(sig) == cswSignature,
              let tag = Bytes.le(b, 4, 4), let res = Bytes.le(b, 8, 4) else { return nil }
        return CSW(tag: UInt32(tag), residue: UInt32(res), status: b[12])
    }

    /// Reset recovery (BOT 5.3.4): mass storage reset, then clear both halts.
    public func resetRecovery() {
        _ = pipe.massStorageReset()
        _ = pipe.clearHalt(inEndpoint: true)
        _ = pipe.clearHalt(inEndpoint: false)
    }

    private func fail(_ r: BulkResult, _ what: String) -> TransportError {
        switch r {
        case .noDevice: return .deviceGone(deviceName)
        case .timeout: return .protocolError("\(deviceName): USB timeout during \(what)")
        case let .error(m): return .usb("\(deviceName): USB error during \(what): \(m)")
        default: return .protocolError("\(deviceName): USB failure during \(what)")
        }
    }

    public func execute(_ cdb: CDB, _ transfer: DataTransfer, timeout: Double) throws -> CommandResult {
        guard !closed else { throw TransportError.closed }
        let r = try transport(cdb, transfer, timeout: timeout)
        guard r.status == .checkCondition, r.sense == nil else { return r }
        // CSW status 1 carries no sense: fetch it with REQUEST SENSE.
        let rs = try transport(.requestSense(allocation: 252), .fromDevice(252), timeout: 10)
        guard rs.isGood, !rs.data.isEmpty else { return r }
        var out = r
        out.senseBytes = rs.data
        out.sense = try? SenseData(bytes: rs.data)
        return out
    }

    private func transport(_ cdb: CDB, _ transfer: DataTransfer, timeout: Double) throws -> CommandResult {
        tag &+= 1
        let myTag = tag
        let length = transfer.length
        let dataIn: Bool
        if case .fromDevice = transfer { dataIn = true } else { dataIn = false }

        // 1. Command
        switch pipe.bulkOut(BOTTransport.cbw(tag: myTag, length: length, dataIn: dataIn, lun: lun, cdb: cdb.bytes), timeout: 5) {
        case .ok: break
        case .stall:
            resetRecovery()
            throw TransportError.protocolError("\(deviceName): the device stalled the command block; reset recovery done")
        case let other: throw fail(other, "command phase")
        }

        // 2. Data
        var received: [UInt8] = []
        var earlyCSW: [UInt8]?
        switch transfer {
        case .none: break
        case .fromDevice:
            switch pipe.bulkIn(length: length, timeout: timeout) {
            case let .ok(d):
                // A device that skips the data phase sends its CSW here.
                if d.count == 13, length != 13, let c = BOTTransport.parseCSW(d), c.tag == myTag { earlyCSW = d } else { received = d }
            case let .stall(d):
                received = d
                _ = pipe.clearHalt(inEndpoint: true)
            case .timeout: throw TransportError.timeout(cdb: cdb.description, seconds: timeout)
            case let other: throw fail(other, "data-in phase")
            }
        case let .toDevice(d):
            switch pipe.bulkOut(d, timeout: timeout) {
            case .ok: break
            case .stall: _ = pipe.clearHalt(inEndpoint: false)
            case .timeout: throw TransportError.timeout(cdb: cdb.description, seconds: timeout)
            case let other: throw fail(other, "data-out phase")
            }
        }

        // 3. Status, with bounded STALL retries.
        var cswBytes = earlyCSW
        var attempts = 0
        while cswBytes == nil {
            switch pipe.bulkIn(length: 13, timeout: timeout) {
            case let .ok(b): cswBytes = b
            case .stall:
                attempts += 1
                _ = pipe.clearHalt(inEndpoint: true)
                if attempts > maxStallRetries {
                    resetRecovery()
                    throw TransportError.protocolError("\(deviceName): the status phase stalled \(attempts) times; reset recovery done")
                }
            case .timeout: throw TransportError.timeout(cdb: cdb.description, seconds: timeout)
            case let other: throw fail(other, "status phase")
            }
        }
        guard let raw = cswBytes, raw.count == 13 else {
            resetRecovery()
            throw TransportError.protocolError("\(deviceName): invalid CSW: \(cswBytes?.count ?? 0) bytes instead of 13; reset recovery done")
        }
        guard let csw = BOTTransport.parseCSW(raw) else {
            resetRecovery()
            throw TransportError.protocolError("\(deviceName): invalid CSW signature [\(Hex.bytes(raw.prefix(4)))] (expected 55 53 42 53 \"USBS\"); reset recovery done")
        }
        guard csw.tag == myTag else {
            resetRecovery()
            throw TransportError.protocolError("\(deviceName): CSW tag \(Hex.word(csw.tag, digits: 1).lowercased()) does not match CBW tag \(Hex.word(myTag, digits: 1).lowercased()); reset recovery done")
        }
        guard Int(csw.residue) <= length else {
            resetRecovery()
            throw TransportError.protocolError("\(deviceName): CSW residue \(csw.residue) exceeds the transfer length \(length); reset recovery done")
        }
        switch csw.status {
        case 0:
            let resid = max(Int(csw.residue), length - (dataIn ? received.count : length))
            return CommandResult(status: .good, data: dataIn ? Array(received.prefix(length - resid)) : [], residue: resid)
        case 1:
            return CommandResult(status: .checkCondition, sense: nil, senseBytes: [], data: [], residue: Int(csw.residue))
        case 2:
            resetRecovery()
            throw TransportError.protocolError("\(deviceName): phase error reported by the device for \(cdb.name); reset recovery done")
        default:
            resetRecovery()
            throw TransportError.protocolError("\(deviceName): invalid CSW status \(csw.status); reset recovery done")
        }
    }
}
