import FirmwareDB
import Flashing
import MMC
import SCSI

/// The drive's book-type (bitsetting) settings through its family's vendor commands in firmware-db: read them, change
/// one, or reset the change counter. A change is prepared (every check, the question to ask) and sent by `apply`.
public struct BooktypeService {
    public let device: OpenedDevice
    public let family: Family
    public let commands: BooktypeCommands
    let runner: BooktypeRunner

    /// The drive's family and its book-type commands; refused for a drive whose family has none (nothing is sent
    /// beyond identification).
    public init(device: OpenedDevice, db: FirmwareDatabase) throws {
        let t = device.transport
        let inq: InquiryData
        do { inq = try DriveIdentifier(t).identify(requireMMC: true).inquiry }
        catch let e as IdentifyError { throw OperationError(e.description, kind: .device) }
        catch let e as TransportError { throw OperationError(e.description, kind: .device) }
        guard let model = db.match(vendor: inq.vendor, product: inq.product, revision: inq.revision), let family = db.family(model.family),
              let cmds = family.booktype else {
            if db.match(vendor: inq.vendor, product: inq.product, revision: inq.revision) == nil {
                throw OperationError("no known book-type command for this drive: " + DBMatch.refusal(db, vendor: inq.vendor, product: inq.product, revision: inq.revision),
                                     kind: .refused)
            }
            throw OperationError("no known book-type command for this drive (\(inq.vendor) \(inq.product)): firmware-db names none for its family",
                                 kind: .refused)
        }
        self.device = device; self.family = family; self.commands = cmds
        runner = BooktypeRunner(transport: t, commands: cmds)
    }

    public struct Settings: Sendable {
        public let version: Int?
        public let settings: [BooktypeSetting]
        public var changesLeft: Int? { settings.first { $0.changesLeft != nil }?.changesLeft }
    }

    public func read() throws -> Settings {
        do {
            let (v, s) = try runner.readAll()
            return Settings(version: v, settings: s)
        } catch { throw OperationError(Self.explain(error), kind: .device) }
    }

    /// A change ready to send.
    public struct Change: Sendable {
        public enum Kind: Sendable, Equatable { case set(media: String, code: Int, temporary: Bool), clearCounter }
        public let kind: Kind
        public let question: String
        /// What the report says was changed.
        public let summary: String
    }

    /// Parses MEDIA=BOOKTYPE (e.g. dvd+r=dvd-rom).
    public static func parse(_ s: String) throws -> (media: String, code: Int) {
        let p = s.lowercased().split(separator: "=").map(String.init)
        guard p.count == 2, let bt = BooktypeCommands.bookTypes.first(where: { $0.name == p[1] }) else {
            throw OperationError("--set takes MEDIA=BOOKTYPE, e.g. dvd+r=dvd-rom (book types: \(BooktypeCommands.bookTypes.map(\.name).joined(separator: ", ")))", kind: .usage)
        }
        return (p[0], bt.code)
    }

    /// Setting `media` to `code`: nil when it is already so (nothing to send).
    public func prepareSet(media: String, code: Int, temporary: Bool, current s: Settings) throws -> Change? {
        guard commands.media[media] != nil else {
            throw OperationError("\(media) has no book-type setting on \(family.name) drives (media: \(commands.media.keys.sorted().joined(separator: ", ")))", kind: .usage)
        }
        if commands.flagMasks[media] != nil, code != 0x01, code != BooktypeCommands.native(media) {
            throw OperationError("\(family.name) drives set \(media) only to dvd-rom or back to \(BooktypeCommands.bookTypeName(BooktypeCommands.native(media) ?? 0).lowercased())",
                                 kind: .usage)
        }
        guard runner.supported(media, temporary: temporary, version: s.version) else {
            throw OperationError("this drive's book-type command set (version \(s.version.map(String.init) ?? "?")) has no \(temporary ? "temporary" : "permanent") \(media) setting",
                                 kind: .refused)
        }
        if let current = s.settings.first(where: { $0.media == media && $0.temporary == temporary }), current.bookTypeCode == code { return nil }
        if !temporary, let l = s.changesLeft, l <= 0 {
            throw OperationError("the drive has no permanent book-type changes left", kind: .refused)
        }
        let which = temporary ? "temporary" : "permanent"
        let cost = temporary ? "The temporary setting lasts until the drive is reset." :
            "This spends one permanent change" + (s.changesLeft.map { ": \($0 - 1) will be left." } ?? ".")
        return Change(kind: .set(media: media, code: code, temporary: temporary),
                      question: "Set the \(which) \(media) book type to \(BooktypeCommands.bookTypeName(code)) on \(device.name)? \(cost)",
                      summary: "\(which) \(media) -> \(BooktypeCommands.bookTypeName(code))")
    }

    public func prepareClear() -> Change {
        Change(kind: .clearCounter, question: "Reset the book-type change counter of \(device.name)? Every book-type setting returns to its default.",
               summary: "counter reset, settings restored to their defaults")
    }

    /// Sends a prepared change and reads the settings back.
    public func apply(_ c: Change) throws -> Settings {
        do {
            switch c.kind {
            case let .set(media, code, temporary): try runner.set(media, bookType: code, temporary: temporary)
            case .clearCounter: try runner.clear()
            }
        } catch { throw OperationError(Self.explain(error), kind: .device) }
        return try read()
    }

    /// A refusal's sense in words, and what it usually means here.
    static func explain(_ e: BooktypeRunner.Failure) -> String {
        guard let s = e.sense else { return e.description }
        if s.key == 5 && s.asc == 0x2C { return e.description + " (the drive refuses the change in its current state: no changes left, or a disc is in the drive)" }
        if s.key == 5 && (s.asc == 0x20 || s.asc == 0x24) { return e.description + " (the firmware does not support this book-type command)" }
        return e.description
    }
}
