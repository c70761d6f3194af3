import SCSI

// MediaTek MT1959/MT1939 Blu-ray images and drives (LG, ASUS): the descriptor at 1EC000h, which chip an image or a
// drive is, whether a file is a raw drive read, the AES-CMAC integrity table, the build fingerprint, and the regions
// the drive writes itself. Facts: freemkv/freemkv-firmware (MIT), restated in
// /work/shared/reference/mediatek-pioneer-bd-facts.md sections 1.1, 2 and 6; the firmware-db family file
// (families/mediatek-mt1959.yaml) names the source of each. odflash verifies the integrity table; it signs only the
// synthetic images its own generator makes (`signSynthetic`), never a changed image.

public enum MediaTekMT19 {
    public static let imageSize = 0x200000
    /// The descriptor: vendor, model, revision, region/SKU code, a UNIQUE stamp, the chip tag, marker and DE bytes.
    public static let descriptorOffset = 0x1EC000
    public static let descriptorLength = 0x100
    /// The boot banner / config ID: a drive answers exactly 20h bytes of it.
    public static let bannerOffset = 0x3000
    public static let bannerLength = 0x20
    /// The boot page (0-3FFh) is stored encrypted; the drive's mask ROM decrypts it in place, and a plaintext mirror lies
    /// at 10000h. A file whose boot page equals the mirror was read from a drive.
    public static let bootPageLength = 0x400
    public static let mirrorOffset = 0x10000
    /// Reads below this come from remapped RAM, not flash: read-back after a flash compares only above it.
    public static let flashReadFloor = 0x1000
    /// The downgrade-enable byte's "enabled" value (descriptor +56h).
    public static let downgradeEnabled: UInt8 = 0xDE

    public enum Chip: String, Sendable, Encodable, CaseIterable { case mt1959 = "MT1959", mt1939 = "MT1939" }

    public struct Descriptor: Sendable, Equatable, Encodable {
        public let vendor: String
        public let model: String
        public let revision: String
        /// Vendor-specific region/SKU code (e.g. N003600).
        public let regionCode: String
        /// The `UNIQUE<timestamp>` stamp, as text.
        public let unique: String
        /// `MTEKMT1959` / `MTEKMT1939`, or nil when the descriptor has none.
        public let chipTag: String?
        /// +50h: seen as 78h/58h/18h/38h within one family; shown only.
        public let marker: String
        /// +56h: DEh = downgrade (foreign image) enabled.
        public let downgradeEnable: String
        public let downgradeEnabled: Bool
    }

    /// Printable ASCII of drive bytes (others as '.').
    public static func printable(_ b: [UInt8]) -> String {
        String(decoding: b.map { (0x20...0x7E).contains($0) ? $0 : UInt8(ascii: ".") }, as: UTF8.self)
    }

    /// Printable ASCII of a byte range, trimmed of blanks and NULs (drive text is never printed raw).
    static func text(_ b: ArraySlice<UInt8>) -> String {
        var s = String(decoding: b.map { (0x20...0x7E).contains($0) ? $0 : UInt8(ascii: " ") }, as: UTF8.self)
        while s.last == " " { s.removeLast() }
        while s.first == " " { s.removeFirst() }
        return s
    }

    /// Parses the 100h-byte descriptor (from an image at 1EC000h or a drive's READ BUFFER); nil when too short or when
    /// it holds no printable vendor and model (an erased or foreign block).
    public static func descriptor(_ d: [UInt8]) -> Descriptor? {
        guard d.count >= 0x57 else { return nil }
        let b = d[...]
        let vendor = text(b[0..<8]), model = text(b[8..<0x18])
        guard !vendor.isEmpty || !model.isEmpty else { return nil }
        let tag = b[0x34..<0x3E]
        let tagText = String(decoding: tag, as: UTF8.self)
        let chipTag = Chip.allCases.contains { "MTEK" + $0.rawValue == tagText } ? tagText : nil
        return Descriptor(vendor: vendor, model: model, revision: text(b[0x18..<0x1C]), regionCode: text(b[0x1C..<0x24]),
                          unique: text(b[0x24..<0x34]), chipTag: chipTag, marker: Hex.byte(d[0x50]) + "h",
                          downgradeEnable: Hex.byte(d[0x56]) + "h", downgradeEnabled: d[0x56] == downgradeEnabled)
    }

    /// Which chip, how it was decided, or why it cannot be.
    public struct ChipDecision: Sendable, Equatable, Encodable {
        public let chip: Chip?
        /// "descriptor tag MTEKMT1959 at 1EC034h", "boot banner 'MT1959 Boot BU5' (no tag in the image)".
        public let source: String
        /// Set when the chip is unknown or ambiguous: the image or drive is refused.
        public let problem: String?
    }

    /// Every `MTEKMT19xx` tag in the image (offset, chip).
    public static func tags(in image: [UInt8]) -> [(offset: Int, chip: Chip)] {
        let prefix = Array("MTEKMT19".utf8)
        var out: [(Int, Chip)] = []
        guard image.count >= prefix.count + 2 else { return [] }
        image.withUnsafeBufferPointer { p in
            var i = 0
            while i + prefix.count + 2 <= p.count {
                if p[i] == 0x4D, p[i + 1] == 0x54, p[i + 2] == 0x45, p[i + 3] == 0x4B, (4..<8).allSatisfy({ p[i + $0] == prefix[$0] }) {
                    let digits = String(decoding: [p[i + 8], p[i + 9]], as: UTF8.self)
                    if let c = Chip(rawValue: "MT19" + digits) { out.append((i, c)) }
                }
                i += 1
            }
        }
        return out
    }

    /// The chip from the banner's text (`MT1959 Boot …`): names the boot loader's generation only.
    static func bannerChip(_ banner: [UInt8]) -> Chip? {
        let t = String(decoding: banner.map { (0x20...0x7E).contains($0) ? $0 : 0x20 }, as: UTF8.self)
        return Chip.allCases.first { t.contains($0.rawValue) }
    }

    /// An image's chip: its `MTEKMT19xx` tags (all must agree); the banner at 3000h only when there is no tag at all.
    public static func chip(image: [UInt8]) -> ChipDecision {
        let found = tags(in: image)
        let chips = Set(found.map(\.chip))
        if chips.count > 1 {
            let list = found.map { "\($0.chip.rawValue) at \(Hex.offset($0.offset))" }.joined(separator: ", ")
            return ChipDecision(chip: nil, source: "conflicting tags", problem: "the image carries conflicting chip tags (\(list)): odflash cannot tell which chip it is for")
        }
        if let first = found.first {
            return ChipDecision(chip: first.chip, source: "tag MTEK\(first.chip.rawValue) at \(Hex.offset(first.offset))", problem: nil)
        }
        let banner = image.count >= bannerOffset + bannerLength ? Array(image[bannerOffset..<(bannerOffset + bannerLength)]) : []
        if let c = bannerChip(banner) {
            return ChipDecision(chip: c, source: "boot banner '\(text(banner[0..<16]))' (no chip tag in the image)", problem: nil)
        }
        return ChipDecision(chip: nil, source: "none", problem: "the image has no MTEKMT19xx chip tag and no MT19xx boot banner: its chip is unknown")
    }

    /// A drive's chip: the tag in its descriptor (READ BUFFER at 1EC000h); the banner only when the descriptor has no tag.
    public static func chip(descriptor: [UInt8]?, banner: [UInt8]?) -> ChipDecision {
        if let d = descriptor, let t = self.descriptor(d)?.chipTag, let c = Chip(rawValue: String(t.dropFirst(4))) {
            return ChipDecision(chip: c, source: "descriptor tag \(t)", problem: nil)
        }
        if let b = banner, let c = bannerChip(b) {
            return ChipDecision(chip: c, source: "boot banner '\(text(b.prefix(16)[...]))' (no chip tag in the descriptor)", problem: nil)
        }
        return ChipDecision(chip: nil, source: "none", problem: "the drive's descriptor has no chip tag and its banner names no MT19xx chip")
    }

    /// True when the file's boot page equals the plaintext mirror at 10000h: it was read from a drive (the drive returns
    /// the boot page decrypted), so it is not an image the drive can boot.
    public static func isDriveRead(_ image: [UInt8]) -> Bool {
        guard image.count >= mirrorOffset + bootPageLength else { return false }
        return image[0..<bootPageLength].elementsEqual(image[mirrorOffset..<(mirrorOffset + bootPageLength)])
    }

    /// The build fingerprint: SHA-256 of the 20h bytes at 3000h followed by the 100h bytes at 1EC000h (the per-unit
    /// calibration is left out on purpose).
    public static func fingerprint(banner: [UInt8], descriptor: [UInt8]) -> String? {
        guard banner.count == bannerLength, descriptor.count == descriptorLength else { return nil }
        return SHA256.hex(banner + descriptor)
    }

    public static func fingerprint(image: [UInt8]) -> String? {
        guard image.count >= descriptorOffset + descriptorLength else { return nil }
        return fingerprint(banner: Array(image[bannerOffset..<(bannerOffset + bannerLength)]),
                           descriptor: Array(image[descriptorOffset..<(descriptorOffset + descriptorLength)]))
    }

    /// A region the drive writes itself (the OEM updater never overwrites it).
    public struct Region: Sendable, Equatable, Encodable {
        public let start: Int
        public let length: Int
        public let content: String
        public let note: String?
    }

    public static let driveWrittenRegions: [Region] = [
        Region(start: 0x1D8000, length: 0x8000, content: "UHD host revocation list", note: "all FFh in BD-only builds"),
        Region(start: 0x1E0000, length: 0x8000, content: "BD revocation list", note: nil),
        Region(start: 0x1E8000, length: 0x4000, content: "NVRAM settings", note: nil),
        Region(start: 0x1F0000, length: 0x10000, content: "per-unit VENDOR_INFO calibration", note: "unique to each drive"),
    ]
}

// MARK: - The AES-CMAC integrity table

/// One entry of the table: little-endian `enabled` (1 active, FFFFFFFFh unused), inclusive start and end, 16-byte digest.
public struct CMACTableEntry: Sendable, Equatable {
    public let index: Int
    public let enabled: UInt32
    public let start: Int
    public let end: Int
    public let stored: [UInt8]
    public var active: Bool { enabled == 1 }
}

public enum CMACTable {
    static func le32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
    }

    /// The table's entries; nil when it does not fit in the image or an entry is not 28+ bytes.
    public static func entries(_ image: [UInt8], at table: Int, count: Int, entrySize: Int) -> [CMACTableEntry]? {
        guard table >= 0, count > 0, entrySize >= 28, table + count * entrySize <= image.count else { return nil }
        return (0..<count).map { k in
            let e = table + k * entrySize
            return CMACTableEntry(index: k, enabled: le32(image, e), start: Int(le32(image, e + 4)), end: Int(le32(image, e + 8)),
                                  stored: Array(image[(e + 12)..<(e + 28)]))
        }
    }

    /// The digest the table stores for bytes [start, end] (inclusive): every 16-byte block reversed (a short last block
    /// too), AES-CMAC with the key, the tag reversed. nil when the range is empty or outside the image.
    public static func digest(_ image: [UInt8], start: Int, end: Int, key: AES128) -> [UInt8]? {
        guard start >= 0, end >= start, end < image.count else { return nil }
        var msg = [UInt8]()
        msg.reserveCapacity(end - start + 1)
        var i = start
        while i <= end {
            let n = min(16, end + 1 - i)
            msg += image[i..<(i + n)].reversed()
            i += n
        }
        return key.cmac(msg).reversed()
    }

    /// Signs a SYNTHETIC image's active entries (odflash's generator only: it never re-signs a changed image). Entries
    /// whose range does not cover the table first, then those that do, over the updated table.
    public static func signSynthetic(_ image: inout [UInt8], at table: Int, count: Int, entrySize: Int, key: AES128) {
        guard let all = entries(image, at: table, count: count, entrySize: entrySize) else { return }
        let active = all.filter(\.active)
        let covers = { (e: CMACTableEntry) in e.start <= table && table <= e.end }
        for e in active.filter({ !covers($0) }) + active.filter(covers) {
            guard let d = digest(image, start: e.start, end: e.end, key: key) else { continue }
            let at = table + e.index * entrySize + 12
            image.replaceSubrange(at..<(at + 16), with: d)
        }
    }
}
