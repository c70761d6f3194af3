// An image layout: how a family's firmware file is recognised and where its fields, checksums and tables live.
// Layouts are data (firmware-db/families/*.yaml); this module only interprets them.

import SCSI

public struct Signature: Equatable, Sendable {
    public var name: String
    /// Fixed offset (negative: from the end), or nil to search.
    public var offset: Int?
    /// Search window when `offset` is nil.
    public var searchFrom: Int
    public var searchTo: Int?
    public var pattern: BytePattern
    /// Not required for identification: used as an anchor for fields when the image has it (Binflash's INQUIRY block).
    public var optional: Bool
    /// Looser patterns tried in order when `pattern` is found nowhere (OmniPatcher's rule levels).
    public var fallbacks: [BytePattern] = []

    public init(name: String, offset: Int?, searchFrom: Int = 0, searchTo: Int? = nil, pattern: BytePattern, optional: Bool = false) {
        self.name = name; self.offset = offset; self.searchFrom = searchFrom; self.searchTo = searchTo; self.pattern = pattern
        self.optional = optional
    }

    /// Where it matches, or nil.
    public func locate(in image: [UInt8]) -> Int? {
        for p in [pattern] + fallbacks {
            if let o = offset {
                let at = o < 0 ? image.count + o : o
                if p.matches(image, at: at) { return at }
            } else if let at = p.firstMatch(in: image, from: searchFrom, to: searchTo) {
                return at
            }
        }
        return nil
    }
}

public enum FieldEncoding: String, Sendable, Equatable, CaseIterable {
    case ascii, hex, be16, le16, be32, le32, utf16be = "utf16-be"
}

/// What a field means, so inspect can say "model", "version", "bootcode".
public enum FieldRole: String, Sendable, Equatable, CaseIterable, Encodable {
    case vendor, product, revision, version, modelID = "model-id", driveID = "drive-id", bootcode, configID = "config-id"
    case date, kind, size, info
}

public struct FieldSpec: Equatable, Sendable {
    public var name: String
    public var role: FieldRole
    /// Offset from the image start, or from the named signature's match when `anchor` is set.
    public var offset: Int
    public var anchor: String?
    public var length: Int
    public var encoding: FieldEncoding
    /// Present only in images of these sizes (nil: all).
    public var sizes: [Int]?
    /// An id table (firmware-db/idtables) that names the value.
    public var lookup: String?
    /// The field must equal this (after decoding) for the image to be valid.
    public var expect: String?
    /// The value synthetic images get when nothing else sets it (not a fact about real images).
    public var example: String?
    /// The value must be in the `lookup` table for the image to be identified and valid (Binflash: an ID the table
    /// does not know is DT_INVALID).
    public var identifies = false

    public init(name: String, role: FieldRole, offset: Int, anchor: String? = nil, length: Int, encoding: FieldEncoding,
                sizes: [Int]? = nil, lookup: String? = nil, expect: String? = nil) {
        self.name = name; self.role = role; self.offset = offset; self.anchor = anchor; self.length = length
        self.encoding = encoding; self.sizes = sizes; self.lookup = lookup; self.expect = expect
    }
}

/// A byte patch a family defines (region-free, book type): find the place, check the original bytes, replace.
public struct BytePatch: Equatable, Sendable {
    public enum Kind: Equatable, Sendable, Encodable, CustomStringConvertible {
        case region
        /// Book type for a medium ("dvd+r") to a value ("dvd-rom").
        case booktype(media: String, value: String)

        public var description: String {
            switch self {
            case .region: "region"
            case let .booktype(m, v): "booktype \(m)=\(v)"
            }
        }
        public var isRegion: Bool { self == .region }
        public var isBooktype: Bool { if case .booktype = self { return true }; return false }
        /// Encoded as its description ("region", "booktype dvd+r=dvd-rom").
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            try c.encode(description)
        }
    }
    public var id: String
    public var kind: Kind
    public var provenance: String
    public var synthetic: Bool
    /// Where the patch applies: a fixed offset or a searched pattern; `delta` is added to the match.
    public var locate: Signature
    public var delta: Int
    public var original: [UInt8]
    public var replacement: [UInt8]

    public init(id: String, kind: Kind, provenance: String, synthetic: Bool, locate: Signature, delta: Int, original: [UInt8], replacement: [UInt8]) {
        self.id = id; self.kind = kind; self.provenance = provenance; self.synthetic = synthetic
        self.locate = locate; self.delta = delta; self.original = original; self.replacement = replacement
    }

    public enum State: String, Sendable, Encodable { case original = "as shipped", patched, unknown = "unknown (neither the original nor the patched bytes are there)" }

    /// Where the patch's bytes are, and which state they are in.
    public func state(in image: [UInt8]) -> (offset: Int?, state: State) {
        guard let at = locate.locate(in: image).map({ $0 + delta }), at >= 0, at + original.count <= image.count else { return (nil, .unknown) }
        let here = Array(image[at..<(at + original.count)])
        if here == original { return (at, .original) }
        if here == replacement { return (at, .patched) }
        return (at, .unknown)
    }
}

public struct ImageLayout: Equatable, Sendable {
    /// How an image was recognised as this layout, weakest first.
    public enum Identification: String, Sendable, Comparable, Encodable {
        /// The size fits no layout of the family, but the family's optional markers are there (e.g. Binflash's INQUIRY
        /// block): the family is evident, the layout is the one of the nearest size.
        case marker = "family marker, size fits no layout"
        case size = "size only"
        case checksum = "size and checksum"
        /// Binflash's rule: the file size plus a drive ID its table knows.
        case driveID = "size and drive ID"
        case signature = "signature"
        var rank: Int {
            switch self {
            case .marker: 0
            case .size: 1
            case .checksum: 2
            case .driveID: 3
            case .signature: 4
            }
        }
        public static func < (a: Self, b: Self) -> Bool { a.rank < b.rank }
    }

    /// A layout's claim on an image: how, and what is wrong although the family is evident.
    public struct Match: Sendable, Equatable {
        public let how: Identification
        /// Each makes the image invalid (a wrong size, a drive ID the table does not know, a bank marker).
        public let problems: [String]
        /// Pattern bytes that matched: a longer signature is the more specific claim.
        public let specificity: Int
        /// How far the image's size is from the nearest size the layout allows (0 when it fits).
        public let sizeDistance: Int

        /// Stronger identification first, then fewer problems, then more specific, then the nearer size.
        public func isStronger(than o: Match) -> Bool {
            if how != o.how { return how > o.how }
            if problems.count != o.problems.count { return problems.count < o.problems.count }
            if specificity != o.specificity { return specificity > o.specificity }
            return sizeDistance < o.sizeDistance
        }
    }

    public var id: String
    public var family: String
    public var name: String
    public var provenance: String
    public var synthetic: Bool
    /// Exact sizes; empty means any size >= minSize.
    public var sizes: [Int]
    public var minSize: Int
    public var maxSize: Int?
    public var signatures: [Signature]
    /// With no signature: accept an image whose size fits and whose checksums all validate.
    public var identifyByChecksum: Bool
    /// A number in the image that must equal the file size minus `delta` (LG Renesas: BE32 at 44h = size - 400h).
    public struct SizeField: Equatable, Sendable {
        public var offset: Int
        public var unit: WordUnit
        public var delta: Int
        public init(offset: Int, unit: WordUnit, delta: Int) { self.offset = offset; self.unit = unit; self.delta = delta }
    }
    public var sizeField: SizeField?
    public var fields: [FieldSpec]
    public var checksums: [ChecksumSpec]
    public var mediaTables: [MediaTableSpec]
    /// Every 64 KiB bank begins with this byte (Lite-On 8051 images: 02h, LJMP).
    public var bankStartByte: UInt8?
    public var notes: String?
    /// Region and book-type patches this layout defines.
    public var patches: [BytePatch] = []
    /// A structure inspect knows beyond fields and checksums (`mediatek-mt19xx`: descriptor, chip, drive-read check,
    /// drive-written regions, build fingerprint).
    public var structure: Structure?
    public enum Structure: String, Sendable, Equatable, CaseIterable {
        case mediatekMT19xx = "mediatek-mt19xx"
        /// A Pioneer BD component file: banner, File Type, required Kernel tag at D0h, component sizes.
        case pioneerBDComponent = "pioneer-bd-component"
    }

    public init(id: String, family: String, name: String, provenance: String, synthetic: Bool = false, sizes: [Int], minSize: Int = 1,
                maxSize: Int? = nil, signatures: [Signature] = [], identifyByChecksum: Bool = false,
                sizeField: SizeField? = nil, fields: [FieldSpec] = [], checksums: [ChecksumSpec] = [],
                mediaTables: [MediaTableSpec] = [], bankStartByte: UInt8? = nil, notes: String? = nil) {
        self.id = id; self.family = family; self.name = name; self.provenance = provenance; self.synthetic = synthetic
        self.sizes = sizes; self.minSize = minSize; self.maxSize = maxSize; self.signatures = signatures
        self.identifyByChecksum = identifyByChecksum; self.sizeField = sizeField; self.fields = fields
        self.checksums = checksums; self.mediaTables = mediaTables; self.bankStartByte = bankStartByte; self.notes = notes
    }


    public func sizeFits(_ n: Int) -> Bool {
        if !sizes.isEmpty { return sizes.contains(n) }
        return n >= minSize && n <= (maxSize ?? Int.max)
    }

    /// The sizes an image of this layout may have, in words.
    public var sizeDescription: String {
        if !sizes.isEmpty { return sizes.map { "\($0) (\(Hex.offset($0)))" }.joined(separator: " or ") + " bytes" }
        if let m = maxSize { return "\(minSize) to \(m) bytes" }
        return "at least \(minSize) (\(Hex.offset(minSize))) bytes"
    }

    func sizeDistance(_ n: Int) -> Int {
        if sizeFits(n) { return 0 }
        if !sizes.isEmpty { return sizes.map { abs($0 - n) }.min() ?? Int.max }
        return n < minSize ? minSize - n : n - (maxSize ?? n)
    }

    /// How this layout claims the image, or nil when it does not. `idTables` resolve the fields that identify.
    public func match(_ image: [UInt8], idTables: [String: IDTable] = [:]) -> Match? {
        let n = image.count
        let fits = sizeFits(n)
        var problems: [String] = []
        // Described only when it is a problem (every layout is tried on every image of a media search).
        var sizeProblem: String { "the file is \(n) (\(Hex.offset(n))) bytes; a \(family)/\(id) image is \(sizeDescription)" }
        let required = signatures.filter { !$0.optional }
        let markers = signatures.filter(\.optional)
        var specificity = 0
        if let b = bankStartByte {
            // OmniPatcher loads an image whose first byte is the LJMP; a later bank without it is refused when saving.
            guard n > 0, image[0] == b else { return nil }
            if fits {
                for bank in stride(from: 0x10000, to: n, by: 0x10000) where image[bank] != b {
                    problems.append("bank \(bank >> 16) (at \(Hex.offset(bank))) starts with \(Hex.byte(image[bank]))h, not \(Hex.byte(b))h: OmniPatcher refuses to save an image like this")
                }
            }
        }
        let how: Identification
        if !required.isEmpty {
            for s in required {
                guard s.locate(in: image) != nil else { return nil }
                specificity += s.pattern.count
            }
            for f in fields where f.expect != nil {
                guard let v = decode(f, in: image), v.text == f.expect else { return nil }
            }
            how = .signature
            if !fits { problems.insert(sizeProblem, at: 0) }
            if let sf = sizeField, let v = sf.unit.read(image, sf.offset), Int(v) != n - sf.delta {
                problems.append("the size field at \(Hex.offset(sf.offset)) says \(v) bytes after the first \(sf.delta); the file has \(n - sf.delta)")
            }
        } else if fits {
            if let sf = sizeField {
                guard let v = sf.unit.read(image, sf.offset), Int(v) == n - sf.delta else { return nil }
            }
            let identifying = fields.filter(\.identifies)
            if !identifying.isEmpty {
                var known = true
                for f in identifying {
                    let table = f.lookup.flatMap { idTables[$0] }
                    guard let v = decode(f, in: image) else { known = false; continue }
                    if let e = table?.find(v.text) {
                        if let l = e.layout, l != id {
                            known = false
                            problems.append("\(f.name) \(v.text) (\(e.model)) belongs to layout '\(l)', not '\(id)'")
                        }
                    } else {
                        known = false
                        problems.append("\(f.name) '\(v.text)' is not in \(f.lookup ?? "its table") (Binflash calls such an image invalid)")
                    }
                }
                how = known ? .driveID : .size
            } else if identifyByChecksum {
                let verifiable = checksums.filter { if case .unknown = $0.algorithm { return false }; if case .notStored = $0.storage { return false }; return true }
                guard !verifiable.isEmpty else { return nil }
                // A sum over bytes that are all alike (an erased or zeroed file) matches by arithmetic, not by design.
                let varied = verifiable.contains { c in
                    c.ranges.contains { r in
                        guard let rr = r.resolved(size: n), let first = rr.first else { return false }
                        return image[rr].contains { $0 != image[first] }
                    }
                }
                guard varied else { return nil }
                for c in verifiable {
                    guard let r = try? ChecksumEngine.verify(c, image: image), r.status == .ok else { return nil }
                }
                how = .checksum
            } else {
                guard !sizes.isEmpty else { return nil }
                how = .size
            }
        } else {
            // The size fits no layout: the family is evident only through its markers.
            guard !markers.isEmpty, markers.allSatisfy({ $0.locate(in: image) != nil }) else { return nil }
            how = .marker
            problems.append(sizeProblem)
        }
        for s in markers where s.locate(in: image) != nil { specificity += s.pattern.count }
        return Match(how: how, problems: problems, specificity: specificity, sizeDistance: sizeDistance(n))
    }

    /// How this layout claims the image, or nil (see `match`).
    public func identify(_ image: [UInt8], idTables: [String: IDTable] = [:]) -> Identification? { match(image, idTables: idTables)?.how }

    public struct DecodedField: Equatable, Sendable {
        public let spec: FieldSpec
        public let offset: Int
        public let raw: [UInt8]
        public let text: String
    }

    public func decode(_ f: FieldSpec, in image: [UInt8]) -> DecodedField? {
        if let s = f.sizes, !s.contains(image.count) { return nil }
        var base = 0
        if let a = f.anchor {
            guard let sig = signatures.first(where: { $0.name == a }), let at = sig.locate(in: image) else { return nil }
            base = at
        }
        let off = base + (f.anchor == nil && f.offset < 0 ? image.count + f.offset : f.offset)
        guard off >= 0, f.length > 0, off + f.length <= image.count else { return nil }
        let raw = Array(image[off..<(off + f.length)])
        return DecodedField(spec: f, offset: off, raw: raw, text: FieldDecoder.text(raw, f.encoding))
    }
}

public enum FieldDecoder {
    public static func text(_ raw: [UInt8], _ e: FieldEncoding) -> String {
        func printable(_ bytes: some Sequence<UInt8>) -> String {
            var s = String(decoding: bytes.map { $0 >= 0x20 && $0 < 0x7F ? $0 : ($0 == 0 ? 0x20 : 0x2E) }, as: UTF8.self)
            while s.last == " " { s.removeLast() }
            return s
        }
        switch e {
        case .ascii: return printable(raw)
        case .hex: return Hex.bytes(raw)
        case .utf16be: return printable(stride(from: 1, to: raw.count, by: 2).map { raw[$0] })
        case .be16, .le16, .be32, .le32:
            let u = WordUnit(rawValue: e.rawValue)!
            guard let v = u.read(raw, 0) else { return "" }
            return Hex.offset(v, digits: u.size * 2)
        }
    }
}

/// The one rule for "does the ID read from an image name this model": equal to the model's image ID, trailing blanks
/// and NULs aside (redumper compares the whole 16-character config ID). Inspect and preflight both use it.
public enum ImageID {
    public static func names(_ modelImageID: String, _ imageID: String) -> Bool {
        func trimmed(_ s: String) -> Substring { var t = Substring(s); while t.last == " " || t.last == "\0" { t.removeLast() }; return t }
        return !trimmed(imageID).isEmpty && trimmed(modelImageID) == trimmed(imageID)
    }
}
