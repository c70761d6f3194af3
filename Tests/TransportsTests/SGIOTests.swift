import CLibUSB
import Foundation
import Testing
@testable import SCSI
@testable import Transports

@Suite struct SGIOOpenTests {
    @Test func nonexistentDevice() {
        #expect(throws: TransportError.noSuchDevice("/dev/sg-does-not-exist")) { try SGIOTransport(path: "/dev/sg-does-not-exist") }
    }

    @Test func characterDeviceThatIsNotSCSI() {
        #expect(throws: TransportError.notSCSI("/dev/null")) { try SGIOTransport(path: "/dev/null") }
    }

    @Test func regularFileAndDirectory() throws {
        let f = NSTemporaryDirectory() + "odflash-not-a-device"
        _ = FileManager.default.createFile(atPath: f, contents: Data([1, 2, 3]))
        defer { try? FileManager.default.removeItem(atPath: f) }
        #expect(throws: TransportError.notSCSI(f)) { try SGIOTransport(path: f) }
        #expect(throws: TransportError.notSCSI("/tmp")) { try SGIOTransport(path: "/tmp") }
    }
}

@Suite struct SysfsTests {
    /// A fake /sys with an sg+sr pair on virtio, a USB-attached drive and a disk.
    func makeTree() throws -> String {
        let fm = FileManager.default
        let root = NSTemporaryDirectory() + "odflash-sysfs-\(UUID().uuidString)"
        func mkdir(_ p: String) throws { try fm.createDirectory(atPath: root + p, withIntermediateDirectories: true) }
        func write(_ p: String, _ s: String) { _ = fm.createFile(atPath: root + p, contents: Data((s + "\n").utf8)) }
        func link(_ p: String, _ target: String) throws { try fm.createSymbolicLink(atPath: root + p, withDestinationPath: root + target) }

        let vdev = "/devices/pci0000:00/0000:00:03.0/virtio0/host0/target0:0:0/0:0:0:0"
        try mkdir(vdev + "/block/sr0")
        write(vdev + "/type", "5"); write(vdev + "/vendor", "ATAPI"); write(vdev + "/model", "iHAS124   Y"); write(vdev + "/rev", "BL0X")
        let udev = "/devices/pci0000:00/0000:00:04.0/usb2/2-1/2-1:1.0/host2/target2:0:0/2:0:0:0"
        try mkdir(udev + "/block/sr1")
        write(udev + "/type", "5"); write(udev + "/vendor", "QEMU"); write(udev + "/model", "QEMU CD-ROM"); write(udev + "/rev", "2.5+")
        write("/devices/pci0000:00/0000:00:04.0/usb2/2-1/busnum", "2"); write("/devices/pci0000:00/0000:00:04.0/usb2/2-1/devnum", "3")
        let ddev = "/devices/pseudo_0/adapter0/host3/target3:0:0/3:0:0:0"
        try mkdir(ddev)
        write(ddev + "/type", "0"); write(ddev + "/vendor", "Linux"); write(ddev + "/model", "scsi_debug"); write(ddev + "/rev", "0191")

        for (sg, dev) in [("sg0", vdev), ("sg1", udev), ("sg2", ddev)] {
            try mkdir("/class/scsi_generic/\(sg)")
            try link("/class/scsi_generic/\(sg)/device", dev)
        }
        for (sr, dev) in [("sr0", vdev), ("sr1", udev)] {
            try mkdir("/class/block/\(sr)")
            try link("/class/block/\(sr)/device", dev)
        }
        return root
    }

    @Test func pairsSgWithSrAndFindsUSB() throws {
        let root = try makeTree()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let devs = Sysfs.scsiDevices(root: root)
        #expect(devs.count == 3)
        let v = try #require(devs.first { $0.hctl == "0:0:0:0" })
        #expect(v.sg == "/dev/sg0" && v.block == "/dev/sr0" && v.type == 5 && v.vendor == "ATAPI" && v.usb == nil)
        let u = try #require(devs.first { $0.hctl == "2:0:0:0" })
        #expect(u.sg == "/dev/sg1" && u.block == "/dev/sr1" && u.usb == "usb:2:3")
        let d = try #require(devs.first { $0.hctl == "3:0:0:0" })
        #expect(d.sg == "/dev/sg2" && d.block == nil && d.type == 0)
        #expect(Sysfs.device(forNode: "/dev/sr1", root: root)?.sg == "/dev/sg1")
    }

    @Test func emptyOrMissingSysfs() {
        #expect(Sysfs.scsiDevices(root: "/nonexistent-sysfs").isEmpty)
    }
}

@Suite struct USBNameTests {
    @Test func malformedNames() {
        #expect(throws: TransportError.self) { try USBEnumerator.resolve("usb:") }
        #expect(throws: TransportError.self) { try USBEnumerator.resolve("usb:x:y") }
        #expect(throws: TransportError.self) { try USBEnumerator.resolve("usb:1:2:3") }
    }

    @Test func libusbIsLoadedOnFirstUse() {
        // scripts/install-deps installs libusb-1.0 (the -dev package brings the library): loaded by name with every
        // function odflash calls.
        #expect(odflash_libusb_available() == 1, "\(odflash_libusb_failure().map { String(cString: $0) } ?? "")")
        #expect(odflash_libusb_failure() == nil)
        #expect(odflash_libusb_error_name(-12).map { String(cString: $0) } == "LIBUSB_ERROR_NOT_SUPPORTED")
    }

    @Test func absentDevice() {
        // Bus 250 does not exist on any machine: either libusb is unavailable or nothing matches.
        #expect(throws: TransportError.self) { try USBEnumerator.resolve("usb:250:127") }
    }
}
