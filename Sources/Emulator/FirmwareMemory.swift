import SCSI

/// Emulated flash memory and the download buffer (drive RAM) in front of it. What is written how is the behaviour's
/// business (Behaviors/); this is only where it lands.
public final class FirmwareMemory {
    public internal(set) var flash: [UInt8]
    /// Data received but not yet written to flash (download buffer, drive RAM).
    var staged: [UInt8]
    /// Where the flash keeps the revision the drive reports after a flash.
    var revisionOffset: Int?
    public internal(set) var commits = 0
    /// TEST UNIT READY answers NOT READY this many more times.
    var busy = 0
    /// How many times TEST UNIT READY answers NOT READY after a flash.
    let busyAfterFlash: Int
    /// The download buffer is memory of its own, not a copy of the flash (see `useSeparateBuffer`).
    private var separateBuffer = false

    init(_ f: DriveProfile.Firmware) {
        let size = f.size ?? 0x100000
        flash = [UInt8](repeating: 0xFF, count: size)
        for p in f.preset ?? [] { if let b = p.bytes, p.at + b.count <= size { flash.replaceSubrange(p.at..<(p.at + b.count), with: b) } }
        revisionOffset = f.revisionOffset
        busyAfterFlash = f.busyAfterFlash ?? 0
        staged = flash
    }

    /// The download buffer is its own memory, `extra` bytes longer than the flash and erased (FFh), instead of a copy of
    /// the flash: a header, then the image.
    func useSeparateBuffer(extra: Int) {
        separateBuffer = true
        staged = [UInt8](repeating: 0xFF, count: flash.count + extra)
    }

    /// Puts bytes into the flash as if they had always been there (a profile's initial image).
    public func install(_ bytes: ArraySlice<UInt8>, at: Int) {
        guard at >= 0, at + bytes.count <= flash.count else { return }
        flash.replaceSubrange(at..<(at + bytes.count), with: bytes)
        if !separateBuffer { staged = flash }
    }

    /// Takes over another memory's flash contents (a dry-run copy of an emulated drive starts where the drive is).
    public func load(_ o: FirmwareMemory) {
        guard o.flash.count == flash.count else { return }
        flash = o.flash
        if !separateBuffer { staged = flash }
    }

    func revision() -> String? {
        guard let o = revisionOffset, o + 4 <= flash.count else { return nil }
        let r = Bytes.ascii(flash, o, 4)
        return r.isEmpty ? nil : r
    }
}

extension EmulatedDrive {
    /// The staged image, from `start` in the download buffer, becomes the flash: one more commit, the drive busy for a
    /// while, and the revision the new firmware reports.
    func commitFirmware(_ m: FirmwareMemory, from start: Int = 0) {
        m.flash = Array(m.staged[start..<(start + m.flash.count)])
        m.commits += 1
        m.busy = m.busyAfterFlash
        if let r = m.revision() { currentRevision = r }
        // The drive runs the new firmware: answers recorded from the old one (a dry-run copy's replay) no longer hold.
        replay.removeAll()
    }

    /// Stages a download at `offset` of the buffer (refused when it does not fit). A faulty write may cut the data short
    /// (the residue says so) or swallow it (acknowledged, nothing staged). `then` runs once the data is staged, with the
    /// number of bytes staged; an answer it returns replaces the acknowledgement.
    func stage(_ data: [UInt8], at offset: Int, in m: FirmwareMemory, then: (Int) -> CommandResult? = { _ in nil }) -> CommandResult {
        guard offset + data.count <= m.staged.count else { return .check(.invalidFieldInCDB) }
        guard let payload = faultedPayload(data) else { return .good() }
        m.staged.replaceSubrange(offset..<(offset + payload.count), with: payload)
        return then(payload.count) ?? .good(residue: data.count - payload.count)
    }
}
