#if canImport(Glibc)
import Glibc
#endif
import SCSI

/// A SCSI device the kernel knows, found through sysfs (no command sent).
public struct SysfsDevice: Equatable, Sendable {
    public var sg: String?          // /dev/sg1
    public var block: String?       // /dev/sr0
    public var hctl: String         // 2:0:0:0
    public var type: Int?           // peripheral device type from sysfs
    public var vendor: String
    public var model: String
    public var rev: String
    /// "usb:BUS:ADDR" when the device sits behind USB mass storage.
    public var usb: String?
    /// "1-2.3": the USB bus and port path of that USB device (its sysfs name), which survives re-plugging.
    public var usbPort: String?

    /// The node odflash opens: the sg node when there is one (it takes every command), else the block node.
    public var node: String { sg ?? block ?? "?" }

    /// Where the drive sits: "scsi H:C:T:L", and the USB port path when it is behind USB mass storage.
    public var location: String { "scsi \(hctl)" + (usbPort.map { ", usb \($0)" } ?? "") }
}

public enum Sysfs {

    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard n >= 0 else { return nil }
        return String(decoding: buf.prefix(n), as: UTF8.self).trimmingCharacters()
    }

    static func list(_ dir: String) -> [String] {
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafePointer(to: e.pointee.d_name) { p in
                p.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted { a, b in a.count != b.count ? a.count < b.count : a < b }
    }

    static func realpath(_ p: String) -> String? {
        guard let r = Glibc.realpath(p, nil) else { return nil }
        defer { free(r) }
        return String(cString: r)
    }

    /// Every SCSI device with an sg or sr node, paired through /sys/class/scsi_generic and /sys/class/block.
    public static func scsiDevices(root: String = "/sys") -> [SysfsDevice] {
        var byHCTL: [String: SysfsDevice] = [:]
        func entry(devicePath: String) -> SysfsDevice? {
            guard let real = realpath(devicePath) else { return nil }
            let hctl = String(real.split(separator: "/").last ?? "")
            if let e = byHCTL[hctl] { return e }
            let usb = usbDevice(of: real)
            return SysfsDevice(sg: nil, block: nil, hctl: hctl, type: read(real + "/type").flatMap { Int($0) },
                               vendor: read(real + "/vendor") ?? "", model: read(real + "/model") ?? "",
                               rev: read(real + "/rev") ?? "", usb: usb?.address, usbPort: usb?.port)
        }
        for sg in list(root + "/class/scsi_generic") {
            guard var e = entry(devicePath: "\(root)/class/scsi_generic/\(sg)/device") else { continue }
            e.sg = "/dev/" + sg
            for b in list("\(root)/class/scsi_generic/\(sg)/device/block") { e.block = "/dev/" + b }
            byHCTL[e.hctl] = e
        }
        for b in list(root + "/class/block") where b.hasPrefix("sr") {
            guard var e = entry(devicePath: "\(root)/class/block/\(b)/device") else { continue }
            e.block = "/dev/" + b
            byHCTL[e.hctl] = e
        }
        return byHCTL.values.sorted { $0.hctl.compare(numeric: $1.hctl) }
    }

    /// Walks up from a SCSI device's sysfs path to the USB device that carries it.
    static func usbAddress(of path: String) -> String? { usbDevice(of: path)?.address }

    /// The USB device that carries a SCSI device: its address (usb:BUS:ADDR) and its sysfs name (the port path, 1-2.3).
    static func usbDevice(of path: String) -> (address: String, port: String)? {
        var p = path
        while p.count > 1 {
            if let bus = read(p + "/busnum").flatMap({ Int($0) }), let dev = read(p + "/devnum").flatMap({ Int($0) }) {
                return ("usb:\(bus):\(dev)", String(p.split(separator: "/").last ?? ""))
            }
            guard let slash = p.lastIndex(of: "/") else { break }
            p = String(p[..<slash])
        }
        return nil
    }

    /// The sysfs entry for a /dev node, to name its sg/sr partner.
    public static func device(forNode node: String, root: String = "/sys") -> SysfsDevice? {
        let real = realpath(node) ?? node
        return scsiDevices(root: root).first { $0.sg == real || $0.block == real || $0.sg == node || $0.block == node }
    }
}

extension String {
    func trimmingCharacters() -> String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }

    func compare(numeric other: String) -> Bool {
        let a = split(separator: ":").map { Int($0) ?? 0 }, b = other.split(separator: ":").map { Int($0) ?? 0 }
        return a.lexicographicallyPrecedes(b)
    }
}
