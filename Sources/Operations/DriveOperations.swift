import FirmwareDB
import Flashing

/// What odflash can do with a drive of a family, before the user tries it: flash, dump (and so back up, restore and
/// read back), book type, region resets; each with firmware-db's tested status.
public struct DriveOperation: Encodable, Sendable {
    public let name: String
    public let available: Bool
    /// firmware-db's status for the operation ("ok", "not-tested", "bad", "n/a").
    public let status: TestStatus?
    public let detail: String

    public static func list(_ f: Family) -> [DriveOperation] {
        func st(_ o: FamilyOperation) -> TestStatus? { f.status[o] }
        let flash = f.flashVariants.map(\.name)
        let dump = !f.dumpVariants.isEmpty
        var out: [DriveOperation] = [
            .init(name: "flash", available: !flash.isEmpty, status: st(.flash),
                  detail: flash.isEmpty ? "no public flash sequence for \(f.id)" :
                    (flash.count == 1 ? "sequence \(flash[0])" : "\(flash.count) sequences; the drive's identification read picks one")),
            .init(name: "dump", available: dump, status: st(.dump),
                  detail: dump ? "public read (\(f.dumpVariants.compactMap(\.layout).joined(separator: ", "))): backups, read-back"
                               : "no public read: flashing needs --no-backup"),
            .init(name: "restore", available: dump && !flash.isEmpty, status: st(.flash),
                  detail: dump && !flash.isEmpty ? "odflash restore DEVICE BACKUP" : "needs a public read and a flash sequence"),
            .init(name: "booktype", available: f.booktype != nil, status: st(.booktype),
                  detail: f.booktype != nil ? "the family's vendor commands (odflash booktype)" : "no public book-type command"),
        ]
        var resets: [String] = []
        if let r = f.region {
            if !r.vendor.isEmpty { resets.append("vendor") }
            if !r.global.isEmpty { resets.append("global") }
        }
        out.append(.init(name: "region reset", available: !resets.isEmpty, status: st(.region),
                         detail: resets.isEmpty ? "none public (region --set: any RPC-II drive)" : "\(resets.joined(separator: " and ")) reset"))
        return out
    }
}
