// Media tables: the media codes a firmware knows and the speeds it allows for each.

import SCSI

public enum MediaType: String, Sendable, Equatable, CaseIterable, Comparable {
    case plusR = "+R", plusRW = "+RW", plusR9 = "+R9", dashR = "-R", dashRW = "-RW", dashR9 = "-R9"
    case cdR = "CD-R", cdRW = "CD-RW", bdR = "BD-R", bdRE = "BD-RE", unknown = "?"

    var order: Int { MediaType.allCases.firstIndex(of: self)! }
    public static func < (a: Self, b: Self) -> Bool { a.order < b.order }
}

/// One entry of a media table.
public struct MediaEntry: Equatable, Sendable {
    public var type: MediaType
    public var index: Int
    /// Manufacturer ID (DVD+: 8 chars, DVD-: 12, BD: 6; CD-R: the ATIP lead-in "97:26:60").
    public var mid: String
    /// Type ID (DVD+ 3 chars, BD 3 chars), empty where the format has none.
    public var tid: String
    public var rid: Int?
    /// Raw speed field and the speeds it allows.
    public var speedRaw: Int?
    public var speeds: [Double]
    /// Where the entry's fields live (first copy; R9 entries have two copies).
    public var offset: Int
    public var copies: [Int]
    /// CD-R tables: the lead-out (capacity) "79:59:74".
    public var extra: String?
    /// Where each field lives, for patching ("mid", "tid", "rid", "speed"; R9 entries list both copies).
    public var locations: [String: [FieldLocation]] = [:]

    public init(type: MediaType, index: Int, mid: String, tid: String = "", rid: Int? = nil, speedRaw: Int? = nil, speeds: [Double] = [],
                offset: Int, copies: [Int]? = nil, extra: String? = nil) {
        self.type = type; self.index = index; self.mid = mid; self.tid = tid; self.rid = rid; self.speedRaw = speedRaw
        self.speeds = speeds; self.offset = offset; self.copies = copies ?? [offset]; self.extra = extra
    }

    /// "RICOHJPN-R03-02" (+), "RITEKG05-01" (-), "97:26:60" (CD-R).
    public var code: String {
        var s = mid
        if !tid.isEmpty { s += "-" + tid }
        if let r = rid { s += "-" + Hex.word(r, digits: 2) }
        return s
    }
}

/// One field of a media entry in the image.
public struct FieldLocation: Equatable, Sendable {
    public enum Encoding: Equatable, Sendable { case ascii, utf16, unit(WordUnit) }
    public var offset: Int
    /// Characters for text fields, 1 for numbers.
    public var length: Int
    public var encoding: Encoding
    public init(offset: Int, length: Int, encoding: Encoding) { self.offset = offset; self.length = length; self.encoding = encoding }

    public var byteCount: Int {
        switch encoding {
        case .ascii: return length
        case .utf16: return length * 2
        case let .unit(u): return u.size
        }
    }
}

/// A media table found in an image.
public struct MediaTable: Equatable, Sendable {
    public enum Source: Equatable, Sendable {
        case exact(layout: String)
        case heuristic(confidence: Double, reason: String)
    }
    public var name: String
    public var types: [MediaType]
    public var offset: Int
    public var stride: Int
    public var entries: [MediaEntry]
    public var source: Source
    /// How the speed field is encoded ("7 bits, standard"), and the speeds each bit means.
    public var speedEncoding: String?
    /// Speed for each bit of the speed field (empty: speeds are not encoded as a bitmask here).
    public var speedBits: [Double] = []
    /// The write strategy follows the entry's index (renaming aliases a code to that strategy; swapping IDs swaps strategies).
    public var strategyByIndex = false

    public var isHeuristic: Bool { if case .heuristic = source { return true }; return false }
}

/// How a layout's media tables are found (data in firmware-db).
public enum MediaTableSpec: Equatable, Sendable {
    /// Lite-On MediaTek 8051 "1S" tables, located through the indexing code (OmniPatcher's method) in the banks that
    /// OmniPatcher's table gives for the firmware letter.
    case liteon8051(LiteOnBankTable?)
    /// A fixed-stride table at a fixed place.
    case records(RecordTableSpec)
}

public struct RecordTableSpec: Equatable, Sendable {
    public struct StringField: Equatable, Sendable {
        public var offset: Int; public var length: Int; public var utf16: Bool
        public init(offset: Int, length: Int, utf16: Bool) { self.offset = offset; self.length = length; self.utf16 = utf16 }
    }
    public struct IntField: Equatable, Sendable {
        public var offset: Int; public var unit: WordUnit
        public init(offset: Int, unit: WordUnit) { self.offset = offset; self.unit = unit }
    }

    public var name: String
    public var type: MediaType
    public var offset: Int
    /// Fixed entry count, or read from `countField` (an absolute offset).
    public var count: Int?
    public var countField: IntField?
    public var stride: Int
    public var mid: StringField
    public var tid: StringField?
    public var rid: IntField?
    public var speed: IntField?
    /// Speed for each bit of the speed field, lowest bit first (0 = unused bit).
    public var speedBits: [Double]
    /// CD-R tables: the entry holds lead-in MSF at `mid.offset` and lead-out MSF at this offset (3 bytes each).
    public var atipLeadOut: Int?
    public var provenance: String
    public var synthetic: Bool
    /// The layout's source says the write strategy is chosen by the entry's index.
    public var strategyByIndex: Bool = false

    public init(name: String, type: MediaType, offset: Int, count: Int?, countField: IntField?, stride: Int, mid: StringField,
                tid: StringField?, rid: IntField?, speed: IntField?, speedBits: [Double], atipLeadOut: Int?, provenance: String, synthetic: Bool,
                strategyByIndex: Bool = false) {
        self.strategyByIndex = strategyByIndex
        self.name = name; self.type = type; self.offset = offset; self.count = count; self.countField = countField
        self.stride = stride; self.mid = mid; self.tid = tid; self.rid = rid; self.speed = speed; self.speedBits = speedBits
        self.atipLeadOut = atipLeadOut; self.provenance = provenance; self.synthetic = synthetic
    }
}

public enum SpeedBits {
    /// OmniPatcher's "7 bits, standard" encoding.
    public static let liteonPlus: [Double] = [0, 2.4, 4, 6, 8, 12, 16]
    public static let liteonDash: [Double] = [1, 2, 4, 6, 8, 12, 16]

    public static func decode(_ raw: Int, _ bits: [Double]) -> [Double] {
        bits.enumerated().compactMap { i, s in (raw & (1 << i)) != 0 && s > 0 ? s : nil }
    }

    /// The bitmask for a set of speeds; nil when a speed cannot be encoded.
    public static func encode(_ speeds: [Double], _ bits: [Double]) -> Int? {
        var v = 0
        for s in speeds {
            guard let i = bits.firstIndex(of: s), s > 0 else { return nil }
            v |= 1 << i
        }
        return v
    }

    public static func format(_ s: Double) -> String {
        s == s.rounded() ? "\(Int(s))x" : "\(s)x"
    }
}

public enum MediaTableReader {
    /// A layout's tables in an image, with notes on how they were located.
    public static func read(_ spec: MediaTableSpec, in layout: ImageLayout, image: [UInt8]) -> (tables: [MediaTable], notes: [String]) {
        switch spec {
        case let .liteon8051(banks):
            let revision = layout.fields.first { $0.role == .revision }.flatMap { layout.decode($0, in: image)?.text }
            return LiteOn8051.read(image, layout: layout.id, revision: revision, table: banks)
        case let .records(r): return (records(r, layout: layout.id, image: image).map { [$0] } ?? [], [])
        }
    }

    /// Every exact table of a layout in an image.
    public static func tables(of layout: ImageLayout, image: [UInt8]) -> [MediaTable] {
        layout.mediaTables.flatMap { read($0, in: layout, image: image).tables }
    }

    static func string(_ image: [UInt8], _ off: Int, _ f: RecordTableSpec.StringField) -> String? {
        let len = f.utf16 ? f.length * 2 : f.length
        guard off >= 0, off + len <= image.count else { return nil }
        let raw = Array(image[off..<(off + len)])
        var s = FieldDecoder.text(raw, f.utf16 ? .utf16be : .ascii)
        while s.last == " " { s.removeLast() }
        return s
    }

    static func msf(_ image: [UInt8], _ o: Int) -> String? {
        guard o >= 0, o + 3 <= image.count else { return nil }
        return MSF.text(image[o], image[o + 1], image[o + 2])
    }

    public static func records(_ r: RecordTableSpec, layout: String, image: [UInt8]) -> MediaTable? {
        var n = r.count ?? 0
        if let cf = r.countField {
            guard let v = cf.unit.read(image, cf.offset) else { return nil }
            n = Int(v)
        }
        guard n >= 0, r.offset >= 0, r.offset + n * r.stride <= image.count else { return nil }
        var entries: [MediaEntry] = []
        for i in 0..<n {
            let base = r.offset + i * r.stride
            var e = MediaEntry(type: r.type, index: i, mid: "", offset: base)
            if r.atipLeadOut == nil {
                e.locations["mid"] = [FieldLocation(offset: base + r.mid.offset, length: r.mid.length, encoding: r.mid.utf16 ? .utf16 : .ascii)]
                if let t = r.tid { e.locations["tid"] = [FieldLocation(offset: base + t.offset, length: t.length, encoding: t.utf16 ? .utf16 : .ascii)] }
            } else {
                e.locations["atip"] = [FieldLocation(offset: base + r.mid.offset, length: 3, encoding: .unit(.u8))]
            }
            if let rf = r.rid { e.locations["rid"] = [FieldLocation(offset: base + rf.offset, length: 1, encoding: .unit(rf.unit))] }
            if let sf = r.speed { e.locations["speed"] = [FieldLocation(offset: base + sf.offset, length: 1, encoding: .unit(sf.unit))] }
            if let lo = r.atipLeadOut {
                e.mid = msf(image, base + r.mid.offset) ?? ""
                e.extra = msf(image, base + lo)
            } else {
                e.mid = string(image, base + r.mid.offset, r.mid) ?? ""
            }
            if let t = r.tid { e.tid = string(image, base + t.offset, t) ?? "" }
            if let rf = r.rid { e.rid = rf.unit.read(image, base + rf.offset).map { Int($0) } }
            if let sf = r.speed, let v = sf.unit.read(image, base + sf.offset) {
                e.speedRaw = Int(v)
                e.speeds = SpeedBits.decode(Int(v), r.speedBits)
            }
            entries.append(e)
        }
        var t = MediaTable(name: r.name, types: [r.type], offset: r.offset, stride: r.stride, entries: entries,
                           source: .exact(layout: layout), speedEncoding: r.speedBits.isEmpty ? nil : "bit i = " + r.speedBits.map { SpeedBits.format($0) }.joined(separator: ","))
        t.speedBits = r.speedBits
        t.strategyByIndex = r.strategyByIndex
        return t
    }
}
