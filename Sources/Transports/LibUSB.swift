import CLibUSB
import SCSI

/// A USB mass-storage interface that speaks Bulk-Only Transport with the SCSI command set.
public struct USBStorageInterface: Equatable, Sendable {
    public let bus: Int
    public let address: Int
    public let vendorID: Int
    public let productID: Int
    public let interface: Int
    public let subclass: Int
    public let bulkIn: UInt8
    public let bulkOut: UInt8
    /// The port numbers from the root hub down (libusb_get_port_numbers): where the device is plugged in, which stays
    /// the same when its address changes.
    public var ports: [Int] = []
    public var name: String { "usb:\(bus):\(address)" }
    /// "usb 1-2.3": the bus and port path, as the kernel names the USB device in sysfs.
    public var location: String { "usb \(bus)-" + (ports.isEmpty ? "?" : ports.map(String.init).joined(separator: ".")) }
    /// "1bcf:0c31", as lsusb writes it.
    public var idString: String { (Hex.word(vendorID) + ":" + Hex.word(productID)).lowercased() }
}

/// libusb error codes (libusb.h), named for messages.
enum USBError {
    static let io: Int32 = -1, invalidParam: Int32 = -2, access: Int32 = -3, noDevice: Int32 = -4, notFound: Int32 = -5
    static let busy: Int32 = -6, timeout: Int32 = -7, overflow: Int32 = -8, pipe: Int32 = -9, interrupted: Int32 = -10
    static let noMem: Int32 = -11, notSupported: Int32 = -12

    static func name(_ rc: Int32) -> String {
        guard let p = odflash_libusb_error_name(rc) else { return "libusb error \(rc)" }
        return String(cString: p)
    }
}

/// The libusb context, created once per process.
final class USBContext: @unchecked Sendable {
    let ctx: OpaquePointer?
    let error: Int32

    static let shared = USBContext()

    private init() {
        var c: OpaquePointer?
        error = odflash_libusb_init(&c)
        ctx = error == 0 ? c : nil
    }

    /// Why USB drives cannot be reached: libusb-1.0 could not be loaded, or its context could not be made.
    func failure() -> TransportError {
        if odflash_libusb_available() == 0 {
            let why = odflash_libusb_failure().map { String(cString: $0) } ?? "not found"
            return .usb("libusb-1.0 could not be loaded (\(why)): USB drives need it; install the libusb-1.0-0 package")
        }
        return .usb("libusb initialisation failed: \(USBError.name(error))")
    }
}

public enum USBEnumerator {
    /// SCSI-command-set Bulk-Only interfaces: class 08h, subclass 02h (MMC-5/ATAPI), 05h (SFF-8070i) or 06h (SCSI), protocol 50h.
    public static let storageSubclasses: Set<Int> = [0x02, 0x05, 0x06]

    public static func storageInterfaces() throws -> [USBStorageInterface] {
        let c = USBContext.shared
        guard c.error == 0, let ctx = c.ctx else { throw c.failure() }
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let n = odflash_libusb_get_device_list(ctx, &list)
        guard n >= 0, let devs = list else { throw TransportError.usb("cannot list USB devices: \(USBError.name(Int32(n)))") }
        defer { odflash_libusb_free_device_list(devs, 1) }
        var out: [USBStorageInterface] = []
        for i in 0..<Int(n) {
            guard let dev = devs[i] else { continue }
            out += interfaces(of: dev)
        }
        return out.sorted { ($0.bus, $0.address, $0.interface) < ($1.bus, $1.address, $1.interface) }
    }

    static func interfaces(of dev: OpaquePointer) -> [USBStorageInterface] {
        var desc = libusb_device_descriptor()
        guard odflash_libusb_get_device_descriptor(dev, &desc) == 0 else { return [] }
        var cfgPtr: UnsafeMutablePointer<libusb_config_descriptor>?
        if odflash_libusb_get_active_config_descriptor(dev, &cfgPtr) != 0 {
            guard odflash_libusb_get_config_descriptor(dev, 0, &cfgPtr) == 0 else { return [] }
        }
        guard let cfg = cfgPtr else { return [] }
        defer { odflash_libusb_free_config_descriptor(cfg) }
        var out: [USBStorageInterface] = []
        for i in 0..<Int(cfg.pointee.bNumInterfaces) {
            let iface = cfg.pointee.interface[i]
            for a in 0..<Int(iface.num_altsetting) {
                let alt = iface.altsetting[a]
                guard alt.bInterfaceClass == 0x08, storageSubclasses.contains(Int(alt.bInterfaceSubClass)),
                      alt.bInterfaceProtocol == 0x50 else { continue }
                var inEP: UInt8 = 0, outEP: UInt8 = 0
                for e in 0..<Int(alt.bNumEndpoints) {
                    let ep = alt.endpoint[e]
                    guard ep.bmAttributes & 0x03 == 0x02 else { continue } // bulk
                    if ep.bEndpointAddress & 0x80 != 0 { inEP = ep.bEndpointAddress } else { outEP = ep.bEndpointAddress }
                }
                guard inEP != 0, outEP != 0 else { continue }
                var portNumbers = [UInt8](repeating: 0, count: 8)
                let depth = odflash_libusb_get_port_numbers(dev, &portNumbers, Int32(portNumbers.count))
                out.append(USBStorageInterface(bus: Int(odflash_libusb_get_bus_number(dev)), address: Int(odflash_libusb_get_device_address(dev)),
                                               vendorID: Int(desc.idVendor), productID: Int(desc.idProduct),
                                               interface: Int(alt.bInterfaceNumber), subclass: Int(alt.bInterfaceSubClass),
                                               bulkIn: inEP, bulkOut: outEP,
                                               ports: depth > 0 ? portNumbers.prefix(Int(depth)).map(Int.init) : []))
                break
            }
        }
        return out
    }

    /// Resolves "usb:BUS:ADDR" (decimal) or "usb:VVVV:PPPP" (hexadecimal vendor and product IDs); refuses ambiguity.
    public static func resolve(_ name: String) throws -> USBStorageInterface {
        let parts = name.split(separator: ":").map(String.init)
        guard parts.count == 3, parts[0] == "usb" else {
            throw TransportError.noSuchDevice("\(name) (USB devices are named usb:BUS:ADDR or usb:VID:PID)")
        }
        let all = try storageInterfaces()
        let matches: [USBStorageInterface]
        if parts[1].count == 4 && parts[2].count == 4, let v = Int(parts[1], radix: 16), let p = Int(parts[2], radix: 16) {
            matches = all.filter { $0.vendorID == v && $0.productID == p }
        } else if let b = Int(parts[1]), let a = Int(parts[2]) {
            matches = all.filter { $0.bus == b && $0.address == a }
        } else {
            throw TransportError.noSuchDevice("\(name) (USB devices are named usb:BUS:ADDR or usb:VID:PID)")
        }
        guard let first = matches.first else { throw TransportError.noSuchDevice("\(name): no USB mass-storage (Bulk-Only) device there") }
        guard matches.count == 1 else {
            throw TransportError.notSupported("\(name) matches \(matches.count) devices (\(matches.map(\.name).joined(separator: ", "))): name one by bus and address")
        }
        return first
    }
}

/// A claimed Bulk-Only interface. Detaches the kernel driver to claim it and always re-attaches it on close.
public final class LibUSBDevice: BulkPipe {
    public let name: String
    public let info: USBStorageInterface
    private var handle: OpaquePointer?
    private var detached = false
    private var claimed = false
    /// Whether the kernel driver was bound when we opened (so it must come back).
    public private(set) var kernelDriverWasActive = false

    public init(_ info: USBStorageInterface) throws {
        self.info = info
        name = info.name
        let c = USBContext.shared
        guard c.error == 0, let ctx = c.ctx else { throw c.failure() }
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let n = odflash_libusb_get_device_list(ctx, &list)
        guard n >= 0, let devs = list else { throw TransportError.usb("cannot list USB devices") }
        defer { odflash_libusb_free_device_list(devs, 1) }
        var found: OpaquePointer?
        for i in 0..<Int(n) {
            if let d = devs[i], Int(odflash_libusb_get_bus_number(d)) == info.bus, Int(odflash_libusb_get_device_address(d)) == info.address { found = d }
        }
        guard let dev = found else { throw TransportError.noSuchDevice(info.name) }
        var h: OpaquePointer?
        let rc = odflash_libusb_open(dev, &h)
        guard rc == 0, let handle = h else {
            if rc == USBError.access { throw TransportError.permissionDenied(info.name, hint: "give your user access to /dev/bus/usb/\(pad3(info.bus))/\(pad3(info.address)) (a udev rule) or run as root") }
            if rc == USBError.noDevice { throw TransportError.deviceGone(info.name) }
            throw TransportError.usb("\(info.name): cannot open: \(USBError.name(rc))")
        }
        self.handle = handle
        let iface = Int32(info.interface)
        let active = odflash_libusb_kernel_driver_active(handle, iface)
        if active == 1 {
            kernelDriverWasActive = true
            let d = odflash_libusb_detach_kernel_driver(handle, iface)
            if d == 0 { detached = true }
            else if d != USBError.notFound && d != USBError.notSupported {
                close()
                throw TransportError.usb("\(info.name): cannot detach the kernel driver: \(USBError.name(d))")
            }
        }
        let cl = odflash_libusb_claim_interface(handle, iface)
        guard cl == 0 else {
            close()
            if cl == USBError.busy { throw TransportError.busy(info.name) }
            throw TransportError.usb("\(info.name): cannot claim interface \(iface): \(USBError.name(cl))")
        }
        claimed = true
    }

    deinit { close() }

    /// Releases the interface and gives the device back to the kernel driver if we took it away.
    public func close() {
        guard let h = handle else { return }
        let iface = Int32(info.interface)
        if claimed { odflash_libusb_release_interface(h, iface); claimed = false }
        if detached { odflash_libusb_attach_kernel_driver(h, iface); detached = false }
        odflash_libusb_close(h)
        handle = nil
    }

    static func ms(_ s: Double) -> UInt32 { UInt32(max(1, min(3_600_000, (s * 1000).rounded(.up)))) }

    private func map(_ rc: Int32, _ data: [UInt8]) -> BulkResult {
        switch rc {
        case 0: return .ok(data)
        case USBError.pipe: return .stall(data)
        case USBError.timeout: return .timeout
        case USBError.noDevice: return .noDevice
        default: return .error(USBError.name(rc))
        }
    }

    public func bulkOut(_ data: [UInt8], timeout: Double) -> BulkResult {
        guard let h = handle else { return .noDevice }
        var buf = data
        var sent: Int32 = 0
        let rc = buf.withUnsafeMutableBufferPointer { p in
            odflash_libusb_bulk_transfer(h, info.bulkOut, p.baseAddress, Int32(p.count), &sent, LibUSBDevice.ms(timeout))
        }
        return map(rc, Array(data.prefix(Int(sent))))
    }

    public func bulkIn(length: Int, timeout: Double) -> BulkResult {
        guard let h = handle else { return .noDevice }
        var buf = [UInt8](repeating: 0, count: max(length, 1))
        var got: Int32 = 0
        let rc = buf.withUnsafeMutableBufferPointer { p in
            odflash_libusb_bulk_transfer(h, info.bulkIn, p.baseAddress, Int32(length), &got, LibUSBDevice.ms(timeout))
        }
        return map(rc, Array(buf.prefix(Int(got))))
    }

    public func clearHalt(inEndpoint: Bool) -> Bool {
        guard let h = handle else { return false }
        return odflash_libusb_clear_halt(h, inEndpoint ? info.bulkIn : info.bulkOut) == 0
    }

    public func massStorageReset() -> Bool {
        guard let h = handle else { return false }
        // bmRequestType 21h (class, interface, host-to-device), bRequest FFh, wIndex = interface.
        return odflash_libusb_control_transfer(h, 0x21, 0xFF, 0, UInt16(info.interface), nil, 0, 5000) >= 0
    }
}

func pad3(_ v: Int) -> String {
    let s = v.description
    return String(repeating: "0", count: max(0, 3 - s.count)) + s
}
