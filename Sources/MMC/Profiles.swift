import SCSI

/// MMC profile numbers and names (MMC-6 table 87), as data.
public enum MMCProfile {
    public struct Entry: Sendable { public let code: Int; public let name: String; public let writable: Bool }

    public static let all: [Entry] = [
        Entry(code: 0x0001, name: "Non-removable disk", writable: true),
        Entry(code: 0x0002, name: "Removable disk", writable: true),
        Entry(code: 0x0003, name: "MO erasable", writable: true),
        Entry(code: 0x0004, name: "MO write once", writable: true),
        Entry(code: 0x0005, name: "AS-MO", writable: true),
        Entry(code: 0x0008, name: "CD-ROM", writable: false),
        Entry(code: 0x0009, name: "CD-R", writable: true),
        Entry(code: 0x000A, name: "CD-RW", writable: true),
        Entry(code: 0x0010, name: "DVD-ROM", writable: false),
        Entry(code: 0x0011, name: "DVD-R", writable: true),
        Entry(code: 0x0012, name: "DVD-RAM", writable: true),
        Entry(code: 0x0013, name: "DVD-RW restricted overwrite", writable: true),
        Entry(code: 0x0014, name: "DVD-RW sequential", writable: true),
        Entry(code: 0x0015, name: "DVD-R DL sequential", writable: true),
        Entry(code: 0x0016, name: "DVD-R DL layer jump", writable: true),
        Entry(code: 0x0017, name: "DVD-RW DL", writable: true),
        Entry(code: 0x0018, name: "DVD-Download disc recording", writable: true),
        Entry(code: 0x001A, name: "DVD+RW", writable: true),
        Entry(code: 0x001B, name: "DVD+R", writable: true),
        Entry(code: 0x002A, name: "DVD+RW DL", writable: true),
        Entry(code: 0x002B, name: "DVD+R DL", writable: true),
        Entry(code: 0x0040, name: "BD-ROM", writable: false),
        Entry(code: 0x0041, name: "BD-R SRM", writable: true),
        Entry(code: 0x0042, name: "BD-R RRM", writable: true),
        Entry(code: 0x0043, name: "BD-RE", writable: true),
        Entry(code: 0x0050, name: "HD DVD-ROM", writable: false),
        Entry(code: 0x0051, name: "HD DVD-R", writable: true),
        Entry(code: 0x0052, name: "HD DVD-RAM", writable: true),
        Entry(code: 0x0053, name: "HD DVD-RW", writable: true),
        Entry(code: 0x0058, name: "HD DVD-R DL", writable: true),
        Entry(code: 0x005A, name: "HD DVD-RW DL", writable: true),
        Entry(code: 0xFFFF, name: "Non-conforming", writable: false),
    ]

    public static func entry(_ code: Int) -> Entry? { all.first { $0.code == code } }
    public static func name(_ code: Int) -> String {
        if code == 0 { return "none" }
        return entry(code)?.name ?? "reserved profile \(Hex.word(code))h"
    }
    /// Accepts "CD-R", "cd-r", "0009", "0x9", "09h".
    public static func code(named s: String) -> Int? {
        if let e = all.first(where: { $0.name.lowercased() == s.lowercased() }) { return e.code }
        var t = s
        if t.hasPrefix("0x") { t.removeFirst(2) }
        if t.hasSuffix("h") { t.removeLast() }
        return Int(t, radix: 16).flatMap { entry($0) != nil ? $0 : nil }
    }
}

/// MMC feature codes named in reports (MMC-6 table 86): the write-related ones tell what the drive can burn.
public enum MMCFeature {
    public static let names: [Int: String] = [
        0x0000: "Profile List", 0x0001: "Core", 0x0002: "Morphing", 0x0003: "Removable Medium",
        0x0004: "Write Protect", 0x0010: "Random Readable", 0x001D: "Multi-Read", 0x001E: "CD Read",
        0x001F: "DVD Read", 0x0020: "Random Writable", 0x0021: "Incremental Streaming Writable",
        0x0023: "Formattable", 0x0024: "Hardware Defect Management", 0x0025: "Write Once",
        0x0026: "Restricted Overwrite", 0x0027: "CD-RW CAV Write", 0x0028: "MRW", 0x0029: "Enhanced Defect Reporting",
        0x002A: "DVD+RW", 0x002B: "DVD+R", 0x002C: "Rigid Restricted Overwrite", 0x002D: "CD Track at Once",
        0x002E: "CD Mastering", 0x002F: "DVD-R/-RW Write", 0x0033: "Layer Jump Recording", 0x0037: "CD-RW Media Write Support",
        0x0038: "BD-R Pseudo-Overwrite", 0x003A: "DVD+RW Dual Layer", 0x003B: "DVD+R Dual Layer",
        0x0040: "BD Read", 0x0041: "BD Write", 0x0080: "Hybrid Disc", 0x0100: "Power Management",
        0x0101: "S.M.A.R.T.", 0x0102: "Embedded Changer", 0x0103: "CD Audio External Play", 0x0104: "Microcode Upgrade",
        0x0105: "Timeout", 0x0106: "DVD CSS", 0x0107: "Real Time Streaming", 0x0108: "Drive Serial Number",
        0x010A: "Disc Control Blocks", 0x010B: "DVD CPRM", 0x010C: "Firmware Information", 0x010D: "AACS",
        0x0110: "VCPS",
    ]
    public static func name(_ c: Int) -> String { names[c] ?? "Feature \(Hex.word(c))h" }
}
