// Command descriptor blocks. Every multi-byte field is written big-endian explicitly.

public enum DataDirection: String, Sendable, Codable {
    case none, fromDevice = "in", toDevice = "out"
}

/// SCSI/MMC operation codes used by odflash. Vendor opcodes are never listed here: they come from firmware-db.
public enum Opcode {
    public static let testUnitReady: UInt8 = 0x00
    public static let requestSense: UInt8 = 0x03
    public static let inquiry: UInt8 = 0x12
    public static let startStopUnit: UInt8 = 0x1B
    public static let preventAllow: UInt8 = 0x1E
    public static let writeBuffer: UInt8 = 0x3B
    public static let readBuffer: UInt8 = 0x3C
    public static let readTOC: UInt8 = 0x43
    public static let getConfiguration: UInt8 = 0x46
    public static let modeSense10: UInt8 = 0x5A
    public static let sendKey: UInt8 = 0xA3
    public static let reportKey: UInt8 = 0xA4
    public static let readDiscStructure: UInt8 = 0xAD
    public static let getPerformance: UInt8 = 0xAC
}

public struct CDB: Equatable, Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    public enum Invalid: Error, CustomStringConvertible, Equatable {
        case length(Int)
        case fieldTooLarge(String, Int, max: Int)
        case missingField(String)
        public var description: String {
            switch self {
            case let .missingField(f): return "no value for the CDB field \(f)"
            case let .length(n): return "a CDB is 6, 10, 12 or 16 bytes, not \(n)"
            case let .fieldTooLarge(f, v, max): return "\(f) \(v) does not fit its CDB field (maximum \(max))"
            }
        }
    }

    /// A raw CDB (vendor commands come from firmware-db as raw bytes). Only the standard lengths are accepted.
    public init(raw: [UInt8]) throws(Invalid) {
        guard [6, 10, 12, 16].contains(raw.count) else { throw Invalid.length(raw.count) }
        bytes = raw
    }

    init(unchecked: [UInt8]) { bytes = unchecked }

    public var opcode: UInt8 { bytes[0] }
    public var description: String { Hex.bytes(bytes) }
    public var name: String { CDB.name(of: bytes) }

    // MARK: SPC

    public static func testUnitReady() -> CDB { CDB(unchecked: [0, 0, 0, 0, 0, 0]) }

    public static func requestSense(allocation: UInt8 = 252) -> CDB {
        CDB(unchecked: [Opcode.requestSense, 0, 0, 0, allocation, 0])
    }

    /// Standard INQUIRY (page nil) or a VPD page.
    public static func inquiry(vpdPage: UInt8? = nil, allocation: UInt16 = 96) -> CDB {
        CDB(unchecked: [Opcode.inquiry, vpdPage == nil ? 0 : 1, vpdPage ?? 0,
                        UInt8(allocation >> 8), UInt8(allocation & 0xFF), 0])
    }

    public static func modeSense10(page: UInt8, subpage: UInt8 = 0, pageControl: UInt8 = 0,
                                   disableBlockDescriptors: Bool = true, allocation: UInt16) -> CDB {
        CDB(unchecked: [Opcode.modeSense10, disableBlockDescriptors ? 0x08 : 0, (pageControl << 6) | (page & 0x3F),
                        subpage, 0, 0, 0, UInt8(allocation >> 8), UInt8(allocation & 0xFF), 0])
    }

    /// START STOP UNIT: loadEject with start=false ejects, with start=true loads.
    public static func startStopUnit(start: Bool, loadEject: Bool, immediate: Bool = false) -> CDB {
        CDB(unchecked: [Opcode.startStopUnit, immediate ? 1 : 0, 0, 0, (loadEject ? 2 : 0) | (start ? 1 : 0), 0])
    }

    /// WRITE BUFFER (3Bh): mode in the low 5 bits of byte 1, 24-bit offset and length.
    public static func writeBuffer(mode: UInt8, modeSpecific: UInt8 = 0, bufferID: UInt8, offset: Int, length: Int) throws(Invalid) -> CDB {
        try bufferCommand(Opcode.writeBuffer, mode: mode, modeSpecific: modeSpecific, bufferID: bufferID, offset: offset, length: length)
    }

    /// READ BUFFER (3Ch), 10-byte form.
    public static func readBuffer(mode: UInt8, bufferID: UInt8, offset: Int, length: Int) throws(Invalid) -> CDB {
        try bufferCommand(Opcode.readBuffer, mode: mode, modeSpecific: 0, bufferID: bufferID, offset: offset, length: length)
    }

    private static func bufferCommand(_ op: UInt8, mode: UInt8, modeSpecific: UInt8, bufferID: UInt8, offset: Int, length: Int) throws(Invalid) -> CDB {
        guard mode <= 0x1F else { throw Invalid.fieldTooLarge("mode", Int(mode), max: 0x1F) }
        guard modeSpecific <= 7 else { throw Invalid.fieldTooLarge("mode-specific", Int(modeSpecific), max: 7) }
        guard (0...0xFFFFFF).contains(offset) else { throw Invalid.fieldTooLarge("buffer offset", offset, max: 0xFFFFFF) }
        guard (0...0xFFFFFF).contains(length) else { throw Invalid.fieldTooLarge("parameter list length", length, max: 0xFFFFFF) }
        return CDB(unchecked: [op, (modeSpecific << 5) | mode, bufferID]
                   + Bytes.encodeBE(UInt64(offset), count: 3) + Bytes.encodeBE(UInt64(length), count: 3) + [0])
    }

    // MARK: MMC

    /// GET CONFIGURATION: rt 0 = all features, 1 = current, 2 = the one at startingFeature.
    public static func getConfiguration(rt: UInt8 = 0, startingFeature: UInt16 = 0, allocation: UInt16) -> CDB {
        CDB(unchecked: [Opcode.getConfiguration, rt & 3, UInt8(startingFeature >> 8), UInt8(startingFeature & 0xFF),
                        0, 0, 0, UInt8(allocation >> 8), UInt8(allocation & 0xFF), 0])
    }

    /// READ TOC/PMA/ATIP with the format in byte 2 (0 TOC, 1 session info, 2 full TOC, 4 ATIP).
    public static func readTOC(format: UInt8, msf: Bool, track: UInt8 = 0, allocation: UInt16) -> CDB {
        CDB(unchecked: [Opcode.readTOC, msf ? 0x02 : 0, format & 0x0F, 0, 0, 0, track,
                        UInt8(allocation >> 8), UInt8(allocation & 0xFF), 0])
    }

    /// GET PERFORMANCE (ACh): bytes 8-9 the maximum number of descriptors, byte 10 the type (03h = write speed).
    public static func getPerformance(type: UInt8, maxDescriptors: UInt16) -> CDB {
        CDB(unchecked: [Opcode.getPerformance, 0, 0, 0, 0, 0, 0, 0, UInt8(maxDescriptors >> 8), UInt8(maxDescriptors & 0xFF), type, 0])
    }

    /// READ DISC STRUCTURE (ADh): media type 0 = DVD/HD DVD, 1 = BD.
    public static func readDiscStructure(mediaType: UInt8, format: UInt8, address: UInt32 = 0, layer: UInt8 = 0,
                                         agid: UInt8 = 0, allocation: UInt16) -> CDB {
        CDB(unchecked: [Opcode.readDiscStructure, mediaType & 0x0F] + Bytes.encodeBE(UInt64(address), count: 4)
            + [layer, format, UInt8(allocation >> 8), UInt8(allocation & 0xFF), (agid & 3) << 6, 0])
    }

    /// REPORT KEY (A4h): key class 0; keyFormat 08h = RPC state.
    public static func reportKey(keyFormat: UInt8, agid: UInt8 = 0, allocation: UInt16) -> CDB {
        CDB(unchecked: [Opcode.reportKey, 0, 0, 0, 0, 0, 0, 0, UInt8(allocation >> 8), UInt8(allocation & 0xFF),
                        ((agid & 3) << 6) | (keyFormat & 0x3F), 0])
    }

    /// SEND KEY (A3h): key class 0; keyFormat 06h = set RPC region.
    public static func sendKey(keyFormat: UInt8, agid: UInt8 = 0, parameterLength: UInt16) -> CDB {
        CDB(unchecked: [Opcode.sendKey, 0, 0, 0, 0, 0, 0, 0, UInt8(parameterLength >> 8), UInt8(parameterLength & 0xFF),
                        ((agid & 3) << 6) | (keyFormat & 0x3F), 0])
    }

    /// A readable name for logs and transcripts.
    public static func name(of b: [UInt8]) -> String {
        guard let op = b.first else { return "EMPTY" }
        let names: [UInt8: String] = [
            0x00: "TEST UNIT READY", 0x03: "REQUEST SENSE", 0x12: "INQUIRY", 0x1B: "START STOP UNIT",
            0x1D: "SEND DIAGNOSTIC", 0x1E: "PREVENT ALLOW MEDIUM REMOVAL", 0x25: "READ CAPACITY", 0x3B: "WRITE BUFFER", 0x3C: "READ BUFFER",
            0x43: "READ TOC/PMA/ATIP", 0x46: "GET CONFIGURATION", 0x4A: "GET EVENT STATUS NOTIFICATION",
            0x51: "READ DISC INFORMATION", 0x55: "MODE SELECT(10)", 0x5A: "MODE SENSE(10)", 0xA3: "SEND KEY",
            0xA4: "REPORT KEY", 0xAC: "GET PERFORMANCE", 0xAD: "READ DISC STRUCTURE",
        ]
        if let n = names[op] { return n }
        return op >= 0xC0 ? "VENDOR \(Hex.byte(op))h" : "OPCODE \(Hex.byte(op))h"
    }
}
