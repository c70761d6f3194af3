import SCSI

/// Peripheral device types (SPC), as data.
public enum PeripheralDeviceType {
    public static let names: [Int: String] = [
        0x00: "direct-access block device (disk)", 0x01: "sequential-access device (tape)", 0x02: "printer",
        0x03: "processor", 0x04: "write-once device", 0x05: "CD/DVD/BD device (MMC)", 0x07: "optical memory device",
        0x08: "medium changer", 0x0C: "storage array controller", 0x0D: "enclosure services", 0x0E: "simplified direct-access device",
        0x0F: "optical card reader/writer", 0x11: "object-based storage", 0x12: "automation/drive interface",
        0x13: "host managed zoned block device", 0x1E: "well known logical unit", 0x1F: "unknown or no device type",
    ]
    public static func name(_ t: Int) -> String { names[t] ?? "reserved device type \(Hex.byte(UInt8(t)))h" }
    public static let mmc = 0x05
}

/// Standard INQUIRY data (SPC). Vendor 8-15, product 16-31, revision 32-35.
public struct InquiryData: Equatable, Sendable, Codable {
    public let peripheralQualifier: Int
    public let deviceType: Int
    public let removable: Bool
    public let version: Int
    public let responseDataFormat: Int
    public let additionalLength: Int
    public let vendor: String
    public let product: String
    public let revision: String
    /// Bytes 36-55 (vendor specific), printable part only; empty when not returned.
    public let vendorSpecific: String
    /// The raw fields exactly as sent (space padding kept) — what firmware images and the db compare against.
    public let rawVendor: String
    public let rawProduct: String
    public let rawRevision: String

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case tooShort(Int)
        case garbage(field: String, bytes: [UInt8])
        public var description: String {
            switch self {
            case let .tooShort(n): return "INQUIRY response too short: \(n) bytes (at least 36 needed)"
            case let .garbage(f, b): return "INQUIRY data is malformed: the \(f) field holds non-ASCII bytes [\(Hex.bytes(b))]"
            }
        }
    }

    /// Parses a standard INQUIRY response. The additional-length byte is trusted only within what was received.
    public init(bytes b: [UInt8]) throws(Failure) {
        guard b.count >= 36 else { throw Failure.tooShort(b.count) }
        let addl = Int(b[4])
        let valid = min(b.count, 5 + addl)
        guard valid >= 36 else { throw Failure.tooShort(valid) }
        peripheralQualifier = Int(b[0] >> 5)
        deviceType = Int(b[0] & 0x1F)
        removable = b[1] & 0x80 != 0
        version = Int(b[2])
        responseDataFormat = Int(b[3] & 0x0F)
        additionalLength = addl
        for (name, range) in [("vendor identification", 8..<16), ("product identification", 16..<32), ("product revision", 32..<36)] {
            let field = Array(b[range])
            // T10 requires printable ASCII (20h-7Eh); NUL padding is tolerated, anything else is garbage.
            if field.contains(where: { ($0 < 0x20 && $0 != 0) || $0 > 0x7E }) { throw Failure.garbage(field: name, bytes: field) }
            if field.allSatisfy({ $0 == 0 }) && name != "product revision" { throw Failure.garbage(field: name, bytes: field) }
        }
        rawVendor = String(decoding: b[8..<16].map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
        rawProduct = String(decoding: b[16..<32].map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
        rawRevision = String(decoding: b[32..<36].map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
        vendor = Bytes.ascii(b, 8, 8)
        product = Bytes.ascii(b, 16, 16)
        revision = Bytes.ascii(b, 32, 4)
        vendorSpecific = valid > 36 ? Bytes.ascii(Array(b.prefix(valid)), 36, 20) : ""
    }

    public var isMMC: Bool { deviceType == PeripheralDeviceType.mmc && peripheralQualifier == 0 }
    public var deviceTypeName: String { PeripheralDeviceType.name(deviceType) }

    /// Builds INQUIRY bytes (the emulator answers with these).
    public static func encode(vendor: String, product: String, revision: String, vendorSpecific: String = "",
                              deviceType: Int = 5, removable: Bool = true, version: Int = 0x05) -> [UInt8] {
        func field(_ s: String, _ n: Int) -> [UInt8] {
            let u = Array(s.utf8.prefix(n))
            return u + [UInt8](repeating: 0x20, count: n - u.count)
        }
        var b: [UInt8] = [UInt8(deviceType & 0x1F), removable ? 0x80 : 0, UInt8(version & 0xFF), 0x02, 0, 0, 0, 0]
        b += field(vendor, 8) + field(product, 16) + field(revision, 4) + field(vendorSpecific, 20)
        b += [UInt8](repeating: 0, count: 96 - b.count)
        b[4] = UInt8(b.count - 5)
        return b
    }
}

/// VPD pages (SPC): 00h supported pages, 80h unit serial number.
public enum VPD {
    public static func supportedPages(_ b: [UInt8]) throws(ParseError) -> [UInt8] {
        guard b.count >= 4, b[1] == 0x00 else { throw ParseError.invalid("VPD page 00h response is malformed") }
        let n = min(Int(Bytes.be16(b, 2) ?? 0), b.count - 4)
        return Array(b[4..<(4 + n)])
    }

    public static func serialNumber(_ b: [UInt8]) throws(ParseError) -> String {
        guard b.count >= 4, b[1] == 0x80 else { throw ParseError.invalid("VPD page 80h response is malformed") }
        let n = min(Int(Bytes.be16(b, 2) ?? 0), b.count - 4)
        return Bytes.ascii(b, 4, n)
    }
}
