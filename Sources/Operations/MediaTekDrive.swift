import Firmware
import FirmwareDB
import Flashing
import MMC
import SCSI

/// What a MediaTek MT19xx drive says about itself through read-only READ BUFFER mode 06h reads, and the gates a flash
/// of one must pass (facts: freemkv-firmware, restated in mediatek-pioneer-bd-facts.md 1.1 and 6). The reads are the
/// family's own, from firmware-db: the flash sequences' probes kept as `descriptor` (1EC000h, 100h) and `config`
/// (3000h, exactly 20h); nothing else is sent.
public struct MediaTekDriveReport: Encodable, Sendable {
    public let banner: String?
    public let chip: String?
    public let chipSource: String
    public let chipProblem: String?
    public let descriptor: MediaTekMT19.Descriptor?
    public let fingerprint: String?
    /// The build the fingerprint names in the public catalog, or nil.
    public let build: String?
    /// Where `build` comes from, or why there is none.
    public let buildSource: String
    public let notes: [String]
}

public enum MediaTekDrive {
    /// The family's read-only reads of the descriptor and the banner (probes kept as `descriptor` and `config`).
    static func probes(_ family: Family) -> (descriptor: FlashProtocol.Probe?, banner: FlashProtocol.Probe?) {
        let all = family.flashVariants.flatMap(\.probes)
        return (all.first { $0.keepAs == "descriptor" }, all.first { $0.keepAs == "config" })
    }

    /// Whether the family is one these reads are for (it has both probes and an mt19xx layout).
    public static func applies(_ family: Family?) -> Bool {
        guard let f = family, f.layouts.contains(where: { $0.structure == .mediatekMT19xx }) else { return false }
        let p = probes(f)
        return p.descriptor != nil && p.banner != nil
    }

    /// Reads the descriptor (one retry) and the banner; a refused read is a note.
    public static func read(_ t: any SCSITransport, family: Family) -> (descriptor: [UInt8]?, banner: [UInt8]?, notes: [String]) {
        let (dp, bp) = probes(family)
        var notes: [String] = []
        func once(_ p: FlashProtocol.Probe?, tries: Int) -> [UInt8]? {
            guard let p else { return nil }
            var last = ""
            for _ in 0..<tries {
                do { return try ProbeRunner.run([p], on: t).answers.first?.data } catch { last = error.description }
            }
            notes.append(last)
            return nil
        }
        return (once(dp, tries: 2), once(bp, tries: 1), notes)
    }

    public static func report(_ t: any SCSITransport, family: Family, catalog: BuildCatalog?) -> MediaTekDriveReport {
        let r = read(t, family: family)
        let chip = MediaTekMT19.chip(descriptor: r.descriptor, banner: r.banner)
        let fp = r.banner.flatMap { b in r.descriptor.flatMap { MediaTekMT19.fingerprint(banner: b, descriptor: $0) } }
        let build = fp.flatMap { catalog?.entries[$0] }
        let source: String
        if let c = catalog {
            source = build != nil ? "public catalog (\(c.entries.count) builds): \(c.provenance)"
                : (fp == nil ? "no fingerprint (the reads failed)" : "not in the public catalog of \(c.entries.count) builds; the descriptor names it")
        } else { source = "firmware-db has no build catalog" }
        return MediaTekDriveReport(banner: r.banner.map { MediaTekMT19.printable($0) }, chip: chip.chip?.rawValue, chipSource: chip.source,
                                   chipProblem: chip.problem, descriptor: r.descriptor.flatMap(MediaTekMT19.descriptor), fingerprint: fp,
                                   build: build, buildSource: source, notes: r.notes)
    }

    /// The MediaTek gates of a flash, in the facts' order after size and integrity (which inspect and preflight check):
    /// not a drive read; the chip (never overridable); the model (the image's descriptor model contains the drive's
    /// INQUIRY product; `crossflash` waives it, and only it, with warnings). Returns the checks and the warnings.
    public static func gates(report rep: InspectReport, inquiry: InquiryData, drive: (descriptor: [UInt8]?, banner: [UInt8]?), crossflash: Bool)
        -> (checks: [PreflightCheck], warnings: [String]) {
        var out: [PreflightCheck] = []
        var warnings: [String] = []
        let size = rep.size == MediaTekMT19.imageSize
        out.append(.init(.imageSize, name: "image size", passed: size,
                         detail: size ? "2 MiB" : "the file is \(rep.size) bytes; a MediaTek MT19xx image is exactly 2 MiB (\(MediaTekMT19.imageSize) bytes)", hard: true))
        let m = rep.mediatek
        let read = m?.driveRead ?? false
        out.append(.init(.driveRead, name: "not a drive read", passed: m != nil && !read,
                         detail: read ? (m?.notFlashable ?? "a raw drive read") : (m == nil ? "the image is not a MediaTek MT19xx image" : "the boot page differs from its mirror at 10000h (an image, not a read)"),
                         hard: true))
        let driveChip = MediaTekMT19.chip(descriptor: drive.descriptor, banner: drive.banner)
        let imageChip = m?.chip
        let chipOK = imageChip != nil && driveChip.chip?.rawValue == imageChip
        var chipDetail: String
        if let p = m?.chipProblem { chipDetail = p }
        else if let p = driveChip.problem { chipDetail = p + ": the chip cannot be compared" }
        else { chipDetail = "image \(imageChip ?? "?") (\(m?.chipSource ?? "?")), drive \(driveChip.chip?.rawValue ?? "?") (\(driveChip.source))" }
        if !chipOK && imageChip != nil && driveChip.chip != nil { chipDetail += ": an image for another chip is never flashed, whatever the flags" }
        out.append(.init(.chip, name: "chip (never overridable)", passed: chipOK, detail: chipDetail, hard: true))

        let product = inquiry.product.trimmingWhitespace.uppercased()
        let model = (m?.descriptor?.model ?? "").uppercased()
        let named = !product.isEmpty && model.firstRange(of: product) != nil
        var detail = named ? "the image's descriptor model '\(m?.descriptor?.model ?? "")' contains the drive's product '\(inquiry.product)'"
            : (product.isEmpty ? "the drive reports no product: the model cannot be checked"
               : "the image is for '\(m?.descriptor?.model ?? "(none)")', the drive is '\(inquiry.product)': --crossflash if you mean to cross-flash")
        if !named && crossflash && !product.isEmpty {
            detail = "cross-flash accepted with --crossflash: the image is for '\(m?.descriptor?.model ?? "(none)")', the drive is '\(inquiry.product)'"
            let de = drive.descriptor.flatMap(MediaTekMT19.descriptor)
            if let de, !de.downgradeEnabled {
                warnings.append("cross-flash: the drive's downgrade-enable byte (1EC056h) is \(de.downgradeEnable), not DEh: the drive will likely REJECT a foreign image")
            } else if de == nil {
                warnings.append("cross-flash: the drive's descriptor could not be read, so its downgrade-enable byte is unknown")
            }
        }
        out.append(.init(.imageForModel, name: "image is for this model", passed: named || (crossflash && !product.isEmpty), detail: detail, hard: !crossflash))
        return (out, warnings)
    }

    /// The flash ranges a read-back compares: the image's active integrity-table ranges at 1000h and above (below it
    /// the drive answers from remapped RAM).
    public static func verificationRanges(_ image: [UInt8], layout: ImageLayout) -> [Range<Int>] {
        var out: [Range<Int>] = []
        for c in layout.checksums {
            guard case let .aesCMACTable(at, count, size, _) = c.algorithm, let entries = CMACTable.entries(image, at: at, count: count, entrySize: size) else { continue }
            for e in entries where e.active && e.end >= MediaTekMT19.flashReadFloor && e.end < image.count {
                out.append(max(e.start, MediaTekMT19.flashReadFloor)..<(e.end + 1))
            }
        }
        return out
    }
}
