import SCSI

/// A family's book-type (bitsetting) commands, as firmware-db describes them. Sent only to drives of that family.
public struct BooktypeCommands: Equatable, Sendable {
    public struct Field: Equatable, Sendable {
        public var offset: Int, width: Int, mask: Int
        public init(offset: Int, width: Int = 1, mask: Int = -1) { self.offset = offset; self.width = width; self.mask = mask }
        func read(_ b: [UInt8]) -> Int? {
            guard offset >= 0, offset + width <= b.count else { return nil }
            let v = b[offset..<(offset + width)].reduce(0) { $0 << 8 | Int($1) }
            return mask < 0 ? v : v & mask
        }
    }
    /// Which settings a command-set version supports (NEC: +R DL permanent from 1, temporary from 2, ...).
    public struct Gate: Equatable, Sendable {
        public var media: String, permanent: Int, temporary: Int?
        public init(media: String, permanent: Int, temporary: Int?) { self.media = media; self.permanent = permanent; self.temporary = temporary }
    }

    public var provenance: String
    /// Media name (dvd+r, dvd+rw, dvd+r-dl) -> the code the commands use.
    public var media: [String: Int]
    /// {media} and {temp} (0 permanent, 1 temporary).
    public var query: CDBTemplate
    public var queryLength: Int
    public var booktype: Field
    public var temporaryActive: Field?
    public var changesLeft: Field?
    public var version: Field?
    /// The media whose query also tells the command-set version (asked first).
    public var versionFrom: String
    public var gates: [Gate]
    /// {media} and {booktype}.
    public var setPermanent: CDBTemplate
    public var setTemporary: CDBTemplate?
    /// Sent after a set: makes the permanent or temporary setting the active one ({media}, {temp}).
    public var select: CDBTemplate?
    public var clear: CDBTemplate?
    /// The limit the source names for permanent changes (for the message; the drive's own count is what counts).
    public var changeLimit: Int?
    /// On/off drives (Plextor): the bit of the answer's booktype byte that means "DVD-ROM", per media; the set
    /// command then takes 1 (DVD-ROM) or 0 (the media's own book type) for {booktype}.
    public var flagMasks: [String: Int] = [:]
    /// Data-in length of the set command, for drives that answer it (Plextor: 8).
    public var setLength = 0

    /// A media's own book type (what an off flag means).
    public static func native(_ media: String) -> Int? { ["dvd+r": 0xA1, "dvd+rw": 0x92, "dvd+r-dl": 0xE1, "dvd+rw-dl": 0xD1][media] }

    public init(provenance: String, media: [String: Int], query: CDBTemplate, queryLength: Int, booktype: Field, versionFrom: String,
                gates: [Gate], setPermanent: CDBTemplate) {
        self.provenance = provenance; self.media = media; self.query = query; self.queryLength = queryLength; self.booktype = booktype
        self.versionFrom = versionFrom; self.gates = gates; self.setPermanent = setPermanent
    }

    /// Book types by name (the DVD book type in the high nibble, its version in the low one; ECMA-267/-337/-349).
    public static let bookTypes: [(name: String, code: Int)] = [
        ("dvd-rom", 0x01), ("dvd-ram", 0x10), ("dvd-r", 0x20), ("dvd-rw", 0x32), ("dvd+rw", 0x92), ("dvd+r", 0xA1),
        ("dvd+rw-dl", 0xD1), ("dvd+r-dl", 0xE1),
    ]
    public static func bookTypeName(_ code: Int) -> String {
        bookTypes.first { $0.code == code }.map { $0.name.uppercased() } ?? "unknown (\(Hex.offset(UInt8(truncatingIfNeeded: code), digits: 2)))"
    }
}

/// One book-type setting as the drive reports it.
public struct BooktypeSetting: Sendable, Encodable, Equatable {
    public let media: String
    public let temporary: Bool
    public let bookType: String
    public let bookTypeCode: Int
    /// Whether the temporary setting is the active one for this media (when the drive says).
    public let temporaryActive: Bool?
    public let changesLeft: Int?
    public let version: Int?
}

public struct BooktypeRunner {
    public let transport: any SCSITransport
    public let commands: BooktypeCommands
    public init(transport: any SCSITransport, commands: BooktypeCommands) { self.transport = transport; self.commands = commands }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        /// The drive's sense, when it refused.
        public var sense: SenseData?
    }

    func send(_ t: CDBTemplate, _ v: [String: Int], _ what: String, length: Int = 0) throws(Failure) -> [UInt8] {
        let cdb: CDB
        do { cdb = try t.cdb(v) } catch { throw Failure(description: "\(what): \(error)") }
        let r: CommandResult
        do {
            r = length > 0 ? try transport.query(cdb, .fromDevice(length), timeout: 20) : try transport.run(cdb, .none, timeout: 20)
        } catch let e as SCSICommandError {
            throw Failure(description: "\(what) [\(cdb)]: the drive refused: \(e.sense?.description ?? "\(e)")", sense: e.sense)
        } catch {
            throw Failure(description: "\(what) [\(cdb)] failed: \(error)")
        }
        if length > 0 && r.data.count < length { throw Failure(description: "\(what) [\(cdb)] returned \(r.data.count) of \(length) bytes") }
        return r.data
    }

    public func read(_ media: String, temporary: Bool) throws(Failure) -> BooktypeSetting {
        guard let code = commands.media[media] else { throw Failure(description: "\(media) has no book-type setting on this drive family") }
        let b = try send(commands.query, ["media": code, "temp": temporary ? 1 : 0, "length": commands.queryLength],
                         "read the \(temporary ? "temporary" : "permanent") \(media) book type", length: commands.queryLength)
        guard var bt = commands.booktype.read(b) else { throw Failure(description: "the book-type answer is too short") }
        if let mask = commands.flagMasks[media] { bt = bt & mask != 0 ? 0x01 : (BooktypeCommands.native(media) ?? 0) }
        return BooktypeSetting(media: media, temporary: temporary, bookType: BooktypeCommands.bookTypeName(bt), bookTypeCode: bt,
                               temporaryActive: commands.temporaryActive?.read(b).map { $0 != 0 }, changesLeft: commands.changesLeft?.read(b),
                               version: commands.version?.read(b))
    }

    /// Every setting the drive's command-set version supports.
    public func readAll() throws(Failure) -> (version: Int?, settings: [BooktypeSetting]) {
        let first = try read(commands.versionFrom, temporary: false)
        let v = first.version
        var out: [BooktypeSetting] = []
        for g in commands.gates {
            for temp in [false, true] {
                let need = temp ? g.temporary : g.permanent
                guard let n = need, (v ?? Int.max) >= n else { continue }
                out.append(g.media == commands.versionFrom && !temp ? first : try read(g.media, temporary: temp))
            }
        }
        return (v, out)
    }

    /// Whether the drive's command-set version allows this setting.
    public func supported(_ media: String, temporary: Bool, version: Int?) -> Bool {
        guard let g = commands.gates.first(where: { $0.media == media }), let need = temporary ? g.temporary : g.permanent else { return false }
        return (version ?? Int.max) >= need && (!temporary || commands.setTemporary != nil)
    }

    public func set(_ media: String, bookType: Int, temporary: Bool) throws(Failure) {
        guard let code = commands.media[media] else { throw Failure(description: "\(media) has no book-type setting on this drive family") }
        guard let t = temporary ? commands.setTemporary : commands.setPermanent else { throw Failure(description: "this drive family has no temporary book-type setting") }
        var value = bookType
        if commands.flagMasks[media] != nil {
            // An on/off drive knows two settings: DVD-ROM, or the media's own book type.
            if bookType == 0x01 { value = 1 }
            else if bookType == BooktypeCommands.native(media) { value = 0 }
            else { throw Failure(description: "this drive can set \(media) only to DVD-ROM or back to \(BooktypeCommands.bookTypeName(BooktypeCommands.native(media) ?? 0))") }
        }
        _ = try send(t, ["media": code, "booktype": value], "set the \(temporary ? "temporary" : "permanent") \(media) book type", length: commands.setLength)
        if let s = commands.select { _ = try send(s, ["media": code, "temp": temporary ? 1 : 0], "make the \(temporary ? "temporary" : "permanent") setting active") }
    }

    public func clear() throws(Failure) {
        guard let c = commands.clear else { throw Failure(description: "this drive family has no clear command") }
        _ = try send(c, [:], "clear the book-type settings")
    }
}

/// A family's vendor region resets (firmware-db `region:`), e.g. NEC's vendor and drive-ID keyed global reset.
public struct RegionResets: Equatable, Sendable {
    /// A value derived from a probe variable byte by byte (NEC: each drive ID byte + 55h, or AAh - each byte).
    public struct Derived: Equatable, Sendable {
        public enum Op: String, Sendable { case add, subtractFrom = "subtract_from" }
        public var from: String, width: Int, op: Op, constant: Int
        public init(from: String, width: Int, op: Op, constant: Int) { self.from = from; self.width = width; self.op = op; self.constant = constant }
        func value(_ v: Int) -> Int {
            (0..<width).reduce(0) { acc, i in
                let byte = (v >> (8 * (width - 1 - i))) & 0xFF
                let r = op == .add ? (byte + constant) & 0xFF : (constant - byte) & 0xFF
                return acc << 8 | r
            }
        }
    }
    public var provenance: String
    public var probes: [FlashProtocol.Probe] = []
    public var derived: [String: Derived] = [:]
    public var vendor: [CDBTemplate] = []
    public var global: [CDBTemplate] = []
    public var warning: String?
    public init(provenance: String) { self.provenance = provenance }

    /// The CDBs of a reset, with probe values and derived keys filled in.
    public func cdbs(global g: Bool, probe: ProbeData) throws(CDB.Invalid) -> [CDB] {
        var v = probe.variables
        for (name, d) in derived { if let x = probe.variables[d.from] { v[name] = d.value(x) } }
        var out: [CDB] = []
        for t in g ? global : vendor { out.append(try t.cdb(v)) }
        return out
    }
}
