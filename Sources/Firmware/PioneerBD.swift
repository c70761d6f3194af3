#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import SCSI

/// Pioneer BD writers (Renesas H8 "SAT" hardware): the identity block the drive answers to READ BUFFER mode 02h,
/// buffer F1h, the command dialect, and the facts of a firmware component file (envelope). Facts: freemkv-firmware and
/// pioneer-optical (MIT), restated in mediatek-pioneer-bd-facts.md 1.2 and 5; nothing here is their code.
public enum PioneerBD {
    /// The identity block's allocation, and the bytes that carry every field.
    public static let identityLength = 0x30
    public static let identityMinimum = 44
    /// The platform prefixes the positive identification rule accepts (bytes 16-23 of the block).
    public static let platformPrefixes = ["SAT ", "ATA ", "SCSI"]
    /// The product tokens (last word of the INQUIRY product) the positive rule accepts.
    public static let productTokens = ["BDR-", "BDC-", "DVR-"]

    /// The 48-byte identity block: serial 0-15, platform 16-23 (e.g. `SAT 8A10`), installed Kernel tag 24-31,
    /// installed Normal tag 32-39 (empty while the drive is in an update session), code 40-43.
    public struct Identity: Encodable, Sendable, Equatable {
        public let serial: String
        public let platform: String
        public let kernelTag: String
        public let normalTag: String
        public let code: String
        /// The 16-bit controller id: the four hex digits after `SAT ` (nil for ATA/SCSI hardware or no hex).
        public let controllerID: String?
        /// The Normal tag is empty: the drive is in an update session (or its Normal image is missing).
        public let updateMode: Bool
    }

    /// A field: trailing spaces and NULs dropped, the rest shown as printable ASCII.
    static func field(_ b: ArraySlice<UInt8>) -> String {
        var bytes = Array(b)
        while let l = bytes.last, l == 0x20 || l == 0 { bytes.removeLast() }
        return String(decoding: bytes.map { (0x20...0x7E).contains($0) ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
    }

    /// Why an answer is not a Pioneer identity block by the positive rule (exactly 48 bytes; bytes 16-23 printable,
    /// starting `SAT `, `ATA ` or `SCSI`), or nil.
    public static func identityProblem(_ data: [UInt8]) -> String? {
        guard data.count == identityLength else { return "answered \(data.count) bytes, not exactly \(identityLength)" }
        let p = data[16..<24]
        guard p.allSatisfy({ (0x20...0x7E).contains($0) }) else { return "bytes 16-23 (the platform) are not printable ASCII" }
        let text = String(decoding: p, as: UTF8.self)
        guard platformPrefixes.contains(where: { text.hasPrefix($0) }) else {
            return "platform '\(text)' does not start with \(platformPrefixes.map { "'\($0)'" }.joined(separator: ", "))"
        }
        return nil
    }

    /// The fields of a block of at least 44 bytes; nil when shorter.
    public static func identity(_ data: [UInt8]) -> Identity? {
        guard data.count >= identityMinimum else { return nil }
        let platform = field(data[16..<24])
        let normal = field(data[32..<40])
        return Identity(serial: field(data[0..<16]), platform: platform, kernelTag: field(data[24..<32]), normalTag: normal,
                        code: field(data[40..<44]), controllerID: controllerID(platform), updateMode: normal.isEmpty)
    }

    /// `SAT xxxx` -> `XXXX` (four hex digits, upper case); nil otherwise.
    public static func controllerID(_ platform: String) -> String? {
        guard platform.hasPrefix("SAT ") else { return nil }
        let hex = platform.dropFirst(4).prefix(4)
        guard hex.count == 4, hex.allSatisfy(\.isHexDigit) else { return nil }
        return hex.uppercased()
    }

    /// The vendor command dialect (pioneer-optical `Identity::class`): a product starting `BD-` speaks the BD dialect;
    /// a `DVD-R` product on a platform starting `DVR` the DVR one; anything else none (and freemkv refuses it).
    public enum Dialect: String, Encodable, Sendable { case bd = "BD", dvr = "DVR" }
    public static func dialect(product: String, platform: String) -> Dialect? {
        let p = product.trimmingSpacesAndNULs
        if p.hasPrefix("BD-") { return .bd }
        if p.hasPrefix("DVD-R") && platform.hasPrefix("DVR") { return .dvr }
        return nil
    }

    /// Whether the INQUIRY names a drive the positive rule sends the identity read to: vendor PIONEER and a last
    /// product token starting `BDR-`, `BDC-` or `DVR-`.
    public static func claims(vendor: String, product: String) -> Bool {
        guard vendor.trimmingSpacesAndNULs.uppercased() == "PIONEER" else { return false }
        guard let last = product.split(separator: " ").last else { return false }
        return productTokens.contains { last.hasPrefix($0) }
    }

    // MARK: - Firmware component files

    /// The banner every genuine component opens with (the plaintext header of the file, and of a decoded component).
    public static let bannerMagic = "********  Copyright(c) 2000 Pioneer"
    public static let headerLength = 0x200
    public static let filenameRange = 0x1F0..<0x200
    public static let signatureRange = 0x170..<0x1C0
    public static let requiredKernelTagRange = 0xD0..<0xD8
    /// A component is 200h to FFFF00h bytes, a multiple of 100h; a Kernel envelope is 11200h bytes (64 KiB decoded).
    public static let componentSizes = 0x200...0xFFFF00
    public static let componentAlignment = 0x100
    public static let kernelEnvelopeSize = 0x11200

    /// What inspect says about a Pioneer BD component file.
    public struct Component: Encodable, Sendable, Equatable {
        /// The banner lines: `ID :` (its last word, the model), `Revision Level :`, `Hardware Version :`, `Destination :`,
        /// `File Type :`.
        public var model: String?
        public var revision: String?
        public var hardware: String?
        public var destination: String?
        public var fileType: String?
        public var controllerID: String?
        /// The file name embedded at 1F0h-1FFh.
        public var embeddedName: String?
        /// A Normal component: the Kernel tag it requires (8 bytes at D0h; the updater compares it with F1 bytes 24-31).
        public var requiredKernelTag: String?
        /// A Normal component: its ECDSA signature (170h-1BFh) is all zero, the "not OEM" sentinel.
        public var signatureZero: Bool?
        public var problems: [String] = []
        public var notes: [String] = []
    }

    static func bannerValue(_ text: String, _ label: String) -> String? {
        guard let r = text.firstRange(of: label) else { return nil }
        let rest = text[r.upperBound...]
        let line = rest.prefix { !$0.isNewline && $0 != "\0" }
        var v = line.trimmingWhitespace
        if v.hasSuffix(".") { v = v.dropLast().trimmingWhitespace }
        return v
    }

    /// Whether the file opens with the banner.
    public static func hasBanner(_ image: [UInt8]) -> Bool { image.starts(with: Array(bannerMagic.utf8)) }

    /// The facts of a component file: its banner lines, embedded name, File Type, and for a Normal the required Kernel
    /// tag and the signature sentinel; problems where the file breaks a fact (size, alignment, File Type, hardware, a
    /// Kernel envelope's size, a Normal without its required Kernel tag).
    public static func component(_ image: [UInt8]) -> Component {
        var c = Component()
        guard hasBanner(image) else {
            c.problems.append("no Pioneer banner ('\(bannerMagic)') at offset 0")
            return c
        }
        let head = image.prefix(headerLength).map { (0x20...0x7E).contains($0) || $0 == 0x0A || $0 == 0x0D ? $0 : 0 }
        let text = String(decoding: head, as: UTF8.self)
        c.model = bannerValue(text, "ID : ").flatMap { $0.split(separator: " ").last.map(String.init) }
        c.revision = bannerValue(text, "Revision Level : ")
        c.hardware = bannerValue(text, "Hardware Version : ")
        c.destination = bannerValue(text, "Destination : ")
        c.fileType = bannerValue(text, "File Type : ")
        c.controllerID = c.hardware.flatMap(controllerID)
        if image.count >= headerLength {
            let name = image[filenameRange].prefix { $0 != 0 }
            c.embeddedName = name.isEmpty ? nil : field(name)
        }
        if c.model?.isEmpty != false { c.problems.append("the banner has no 'ID :' line (the model)") }
        if c.hardware == nil { c.problems.append("the banner has no 'Hardware Version :' line") }
        else if c.controllerID == nil { c.problems.append("hardware '\(c.hardware!)' is not 'SAT' and four hex digits") }
        if !componentSizes.contains(image.count) || image.count % componentAlignment != 0 {
            c.problems.append("a component is \(Hex.offset(componentSizes.lowerBound))-\(Hex.offset(componentSizes.upperBound)) bytes, a multiple of \(Hex.offset(componentAlignment)); this file is \(image.count) (\(Hex.offset(image.count)))")
        }
        switch c.fileType {
        case "Kernel":
            if image.count != kernelEnvelopeSize {
                c.problems.append("a Kernel envelope is \(Hex.offset(kernelEnvelopeSize)) (\(kernelEnvelopeSize)) bytes (200h header, 1000h key, 10000h body); this file is \(Hex.offset(image.count))")
            }
        case "Normal":
            if image.count >= requiredKernelTagRange.upperBound {
                let raw = image[requiredKernelTagRange]
                let tag = field(raw)
                if tag.isEmpty || !raw.allSatisfy({ $0 == 0 || (0x20...0x7E).contains($0) }) {
                    c.problems.append("no required Kernel tag at D0h (8 printable bytes the updater compares with the drive's Kernel tag)")
                } else { c.requiredKernelTag = tag }
            }
            if image.count >= signatureRange.upperBound {
                let zero = image[signatureRange].allSatisfy { $0 == 0 }
                c.signatureZero = zero
                if zero { c.notes.append("the Normal's signature (170h-1BFh) is all zero: the \"not OEM\" sentinel of a reconstruction") }
            }
        case "Plane":
            c.notes.append("a Plane component (DVR generations) is never written by an update session")
        case nil:
            c.problems.append("the banner has no 'File Type :' line")
        case let t?:
            c.problems.append("File Type '\(t)' is not Kernel, Normal or Plane")
        }
        return c
    }
}

fileprivate extension String {
    var trimmingSpacesAndNULs: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\0" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\0" { s = s.dropLast() }
        return String(s)
    }
}
