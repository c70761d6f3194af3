import Foundation
import Firmware
import MMC
import SCSI

/// Everything preflight needs to know, gathered by the caller from the drive, the image and firmware-db.
public struct PreflightInput: Sendable {
    public var device: String
    public var inquiry: InquiryData
    public var medium: MediumState
    public var exclusive: Bool
    /// firmware-db's view of the drive.
    public var modelName: String?
    public var family: String?
    public var familyStatus: String?     // ok, not-tested, bad, n/a
    public var hasProtocol: Bool
    /// The image.
    public var image: InspectReport
    public var layoutFamily: String?
    public var imageModelIDs: [String]
    public var modelImageID: String?
    public var drivebootcode: String?
    /// Flags.
    public var allowUntested = false
    public var allowReinstall = false
    public var allowOlder = false
    public var force = false
    /// Accept an image that names no model (some families' images carry no model ID); never a mismatch.
    public var acceptUnidentifiedModel = false
    /// When firmware-db knows the drive from a public source but does not support it: its name and the reason.
    public var knownUnsupported: (name: String, reason: String)?

    public init(device: String, inquiry: InquiryData, medium: MediumState, exclusive: Bool, modelName: String?, family: String?,
                familyStatus: String?, hasProtocol: Bool, image: InspectReport, layoutFamily: String?, imageModelIDs: [String],
                modelImageID: String?) {
        self.device = device; self.inquiry = inquiry; self.medium = medium; self.exclusive = exclusive; self.modelName = modelName
        self.family = family; self.familyStatus = familyStatus; self.hasProtocol = hasProtocol; self.image = image
        self.layoutFamily = layoutFamily; self.imageModelIDs = imageModelIDs; self.modelImageID = modelImageID
    }
}

public struct PreflightCheck: Sendable, Encodable {
    public let name: String
    public let passed: Bool
    public let detail: String
    /// A mismatch no flag can override (model, size, family, checksum, bootcode).
    public let hard: Bool
    public init(name: String, passed: Bool, detail: String, hard: Bool) { self.name = name; self.passed = passed; self.detail = detail; self.hard = hard }
}

public enum Preflight {
    /// Every check, in order. Flashing may start only when all pass.
    public static func run(_ i: PreflightInput) -> [PreflightCheck] {
        var out: [PreflightCheck] = []
        func add(_ n: String, _ ok: Bool, _ d: String, hard: Bool = true) { out.append(.init(name: n, passed: ok, detail: d, hard: hard)) }

        add("optical drive", i.inquiry.isMMC, "\(i.inquiry.vendor) \(i.inquiry.product) \(i.inquiry.revision), \(i.inquiry.deviceTypeName)")
        add("model in firmware-db", i.modelName != nil && i.family != nil,
            i.modelName.map { "\($0) (family \(i.family ?? "?"))" }
                ?? i.knownUnsupported.map { "\(i.inquiry.vendor) \(i.inquiry.product) is known to firmware-db as \($0.name) but not supported (\($0.reason)): odflash sends it no vendor command" }
                ?? "\(i.inquiry.vendor) \(i.inquiry.product) is not in firmware-db: odflash never sends vendor commands to an unknown drive")
        add("flash protocol", i.hasProtocol, i.hasProtocol ? "from firmware-db" : "no public flash protocol is known for family \(i.family ?? "?")")
        switch i.familyStatus {
        case "ok"?: add("tested status", true, "flashing this family is marked ok")
        case "not-tested"?: add("tested status", i.allowUntested, i.allowUntested ? "not tested on real hardware; accepted with --allow-untested" :
                                "flashing \(i.family ?? "?") has not been tested on real hardware: --allow-untested accepts that risk", hard: false)
        case "bad"?: add("tested status", i.force, i.force ? "marked bad; accepted with --force" : "flashing \(i.family ?? "?") is marked bad in firmware-db", hard: false)
        default: add("tested status", false, "flashing is not applicable to \(i.family ?? "this drive")")
        }
        if let id = i.image.identity {
            add("image family", id.family == i.family && id.identifiedBy != "size only",
                id.identifiedBy == "size only" ? "the image is identified by its size alone; odflash never chooses a procedure by size" :
                    "image is \(id.family)/\(id.layout) (\(id.identifiedBy)); drive family \(i.family ?? "?")")
        } else {
            add("image family", false, "the image matches no firmware-db layout")
        }
        // A checksum that cannot be computed (its algorithm is not public) cannot vouch for the image: refused too.
        let unverifiable = i.image.checksums.filter { $0.status == ChecksumResult.Status.unverifiable.rawValue }
        let sumsOK = i.image.valid && unverifiable.isEmpty
        add("image checksums", sumsOK, sumsOK ? (i.image.checksums.isEmpty ? "the layout defines no checksum (nothing to validate; the image is checked by its signatures and fields)" : "every checksum validates") :
                !i.image.valid ? "the image does not validate (\(i.image.checksums.filter { $0.status != "OK" }.map { "\($0.name) \($0.status)" }.joined(separator: ", ")))"
                : "\(unverifiable.map(\.name).joined(separator: ", ")) cannot be verified (the algorithm is not public), so the image cannot be validated")
        // The image must name this drive: its INQUIRY strings, or its model/config ID.
        var named: Bool?
        if let v = i.image.vendor, let p = i.image.product {
            named = v == i.inquiry.vendor && p == i.inquiry.product
            add("image is for this model", named!, named! ? "the image names \(v) \(p)" : "the image is for \(v) \(p), the drive is \(i.inquiry.vendor) \(i.inquiry.product)")
        } else if let want = i.modelImageID {
            named = i.imageModelIDs.contains { want.hasPrefix($0) || $0 == want.trimmedSpaces2 }
            add("image is for this model", named!, named! ? "the image's ID matches" : "the image's ID \(i.imageModelIDs.joined(separator: ",")) is not this model's \(want)")
        } else {
            add("image is for this model", i.acceptUnidentifiedModel,
                i.acceptUnidentifiedModel ? "the image names no model (none of this family's images do); accepted with --accept-unidentified-model" :
                    "neither the image nor firmware-db names the model, so the match cannot be checked: --accept-unidentified-model if you are sure the image is for this drive",
                hard: false)
        }
        let discIn = i.medium == .present || i.medium == .becomingReady
        add("no disc", !discIn || i.force,
            discIn ? (i.force ? "the unit reports a medium (accepted with --force)" : "a disc is in the drive (or the unit always reports one): eject it first, or --force") :
                "tray empty (\(i.medium.rawValue))", hard: false)
        add("exclusive access", i.exclusive || i.force, i.exclusive ? "opened exclusively" : "could not open the drive exclusively", hard: false)
        if let newV = i.image.version, !newV.isEmpty {
            let old = i.inquiry.revision
            if newV == old {
                add("version", i.allowReinstall, i.allowReinstall ? "reinstalling \(old) (--allow-reinstall)" : "the drive already runs \(old): --allow-reinstall to flash it again", hard: false)
            } else if newV.compare(old, options: .numeric) == .orderedAscending {
                add("version", i.allowOlder, i.allowOlder ? "downgrading \(old) -> \(newV) (--allow-older)" : "\(newV) is older than the drive's \(old): --allow-older to downgrade", hard: false)
            } else {
                add("version", true, "\(old) -> \(newV)", hard: false)
            }
        } else {
            add("version", true, "the image's version is not located for this layout; the drive runs \(i.inquiry.revision)", hard: false)
        }
        return out
    }
}

extension String {
    var trimmedSpaces2: String {
        var s = Substring(self)
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
