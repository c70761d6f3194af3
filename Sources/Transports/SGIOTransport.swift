#if canImport(Glibc)
import Glibc
#endif
import CSGIO
import SCSI

/// Linux SG_IO on /dev/sg* or /dev/sr*. Every field the kernel returns is checked.
public final class SGIOTransport: SCSITransport {
    public let deviceName: String
    public let kind = "sg"
    private var fd: Int32

    public static let hostStatusNames: [Int: String] = [
        0x00: "DID_OK", 0x01: "DID_NO_CONNECT", 0x02: "DID_BUS_BUSY", 0x03: "DID_TIME_OUT", 0x04: "DID_BAD_TARGET",
        0x05: "DID_ABORT", 0x06: "DID_PARITY", 0x07: "DID_ERROR", 0x08: "DID_RESET", 0x09: "DID_BAD_INTR",
        0x0A: "DID_PASSTHROUGH", 0x0B: "DID_SOFT_ERROR", 0x0C: "DID_IMM_RETRY", 0x0D: "DID_REQUEUE",
        0x0E: "DID_TRANSPORT_DISRUPTED", 0x0F: "DID_TRANSPORT_FAILFAST", 0x10: "DID_TARGET_FAILURE",
        0x11: "DID_NEXUS_FAILURE", 0x12: "DID_ALLOC_FAILURE", 0x13: "DID_MEDIUM_ERROR", 0x14: "DID_TRANSPORT_MARGINAL",
    ]

    /// Opens the device read-write and non-blocking; `exclusive` adds O_EXCL (flashing needs it).
    public init(path: String, exclusive: Bool = false) throws {
        deviceName = path
        var st = stat()
        if stat(path, &st) != 0 {
            let e = errno
            if e == EACCES { throw TransportError.permissionDenied(path, hint: SGIOTransport.permissionHint(path)) }
            throw TransportError.noSuchDevice(path)
        }
        let type = st.st_mode & S_IFMT
        guard type == S_IFCHR || type == S_IFBLK else { throw TransportError.notSCSI(path) }
        var flags = O_RDWR | O_NONBLOCK
        if exclusive { flags |= O_EXCL }
        let f = open(path, flags)
        if f < 0 {
            let e = errno
            switch e {
            case EACCES, EPERM, EROFS: throw TransportError.permissionDenied(path, hint: SGIOTransport.permissionHint(path))
            case EBUSY: throw TransportError.busy(path)
            case ENOENT, ENXIO, ENODEV, ENOMEDIUM: throw TransportError.noSuchDevice(path)
            default: throw TransportError.openFailed(path, errno: e, message: String(cString: strerror(e)))
            }
        }
        fd = f
        var version: Int32 = 0
        if csgio_sg_version(fd, &version) != 0 || version < 30000 {
            Glibc.close(fd)
            fd = -1
            throw TransportError.notSCSI(path)
        }
    }

    deinit { close() }

    static func permissionHint(_ path: String) -> String {
        var st = stat()
        guard stat(path, &st) == 0 else { return "run as root" }
        if st.st_gid != 0, let g = getgrgid(st.st_gid), let name = g.pointee.gr_name {
            return "add your user to the '\(String(cString: name))' group that owns \(path), or run as root"
        }
        return "\(path) is accessible to root only: run as root, or give your user access with a udev rule"
    }

    public func close() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }

    public func execute(_ cdb: CDB, _ transfer: DataTransfer, timeout: Double) throws -> CommandResult {
        guard fd >= 0 else { throw TransportError.closed }
        var cdbBytes = cdb.bytes
        var sense = [UInt8](repeating: 0, count: 252)
        // Data-in lands in a buffer of its own; data-out is sent from the caller's array as it is (the kernel only
        // reads it: no copy of every 32 KiB chunk of a flash).
        var buffer: [UInt8]
        let dir: Int32
        switch transfer {
        case .none: buffer = []; dir = CSGIO_DXFER_NONE
        case let .fromDevice(n): buffer = [UInt8](repeating: 0, count: n); dir = CSGIO_DXFER_FROM_DEV
        case .toDevice: buffer = []; dir = CSGIO_DXFER_TO_DEV
        }
        let ms = UInt32(max(1, min(Double(UInt32.max / 2), (timeout * 1000).rounded(.up))))
        var hdr = sg_io_hdr_t()
        let fd = self.fd
        func issue(_ data: UnsafeMutableRawPointer?, _ count: Int) -> Int32 {
            cdbBytes.withUnsafeMutableBufferPointer { cp in
                sense.withUnsafeMutableBufferPointer { sp in
                    hdr.interface_id = Int32(UInt8(ascii: "S"))
                    hdr.dxfer_direction = dir
                    hdr.cmd_len = UInt8(cp.count)
                    hdr.mx_sb_len = UInt8(sp.count)
                    hdr.dxfer_len = UInt32(count)
                    hdr.dxferp = count > 0 ? data : nil
                    hdr.cmdp = cp.baseAddress
                    hdr.sbp = sp.baseAddress
                    hdr.timeout = ms
                    return csgio_sg_io(fd, &hdr)
                }
            }
        }
        let rc: Int32
        if case let .toDevice(d) = transfer {
            rc = d.withUnsafeBufferPointer { bp in issue(bp.baseAddress.map { UnsafeMutableRawPointer(mutating: $0) }, bp.count) }
        } else {
            rc = buffer.withUnsafeMutableBufferPointer { bp in issue(bp.baseAddress.map { UnsafeMutableRawPointer($0) }, bp.count) }
        }
        if rc < 0 {
            let e = errno
            switch e {
            case ENODEV, ENXIO: throw TransportError.deviceGone(deviceName)
            case EPERM, EACCES: throw TransportError.permissionDenied(deviceName, hint: "the kernel refused \(cdb.name) on this open; odflash needs read-write access")
            default: throw TransportError.ioctlFailed(deviceName, errno: e, message: String(cString: strerror(e)))
            }
        }
        let host = Int(hdr.host_status)
        let driver = Int(hdr.driver_status)
        let senseLen = min(Int(hdr.sb_len_wr), sense.count)
        let senseBytes = Array(sense.prefix(senseLen))
        if host != 0 {
            switch host {
            case 0x03: throw TransportError.timeout(cdb: cdb.description, seconds: timeout)
            case 0x01, 0x04: throw TransportError.deviceGone(deviceName)
            default: throw TransportError.hostError(cdb: cdb.description, hostStatus: host, name: SGIOTransport.hostStatusNames[host] ?? "unknown")
            }
        }
        // driver_status: low nibble 6 = DRIVER_TIMEOUT; 8 = DRIVER_SENSE (sense present: fine).
        if driver & 0x0F == 0x06 { throw TransportError.timeout(cdb: cdb.description, seconds: timeout) }
        if driver & 0x0F != 0 && driver & 0x0F != 0x08 {
            throw TransportError.driverError(cdb: cdb.description, driverStatus: driver)
        }
        guard let status = SCSIStatus(rawValue: hdr.status & 0x7E) else {
            throw TransportError.protocolError("\(deviceName): \(cdb.name) returned an unknown SCSI status \(Hex.byte(hdr.status))h")
        }
        let parsed = senseLen > 0 ? try? SenseData(bytes: senseBytes) : nil
        let resid = max(0, min(Int(hdr.resid), transfer.length))
        var data: [UInt8] = []
        if case .fromDevice = transfer { data = Array(buffer.prefix(transfer.length - resid)) }
        if status == .good && hdr.info & CSGIO_SG_INFO_OK_MASK != CSGIO_SG_INFO_OK && senseLen == 0 {
            throw TransportError.protocolError("\(deviceName): \(cdb.name): the driver flagged the command as not OK without sense")
        }
        return CommandResult(status: status, sense: parsed, senseBytes: senseBytes, data: data, residue: resid)
    }
}
