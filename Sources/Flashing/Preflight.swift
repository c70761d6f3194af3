#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Firmware
import MMC
import SCSI

/// Everything preflight needs to know, gathered by the caller from the drive, the image and firmware-db.
/// How far flashing (or another operation) of a family has been tested on real hardware (firmware-db's `status`).
public enum TestStatus: String, Codable, Sendable, CaseIterable {
    case ok = "ok", notTested = "not-tested", bad = "bad", notApplicable = "n/a"
}

public struct PreflightInput: Sendable {
    public var device: String
    public var inquiry: InquiryData
    public var medium: MediumState
    public var exclusive: Bool
    /// firmware-db's view of the drive.
    public var modelName: String?
    public var family: String?
    public var familyStatus: TestStatus?
    public var hasProtocol: Bool
    /// The image.
    public var image: InspectReport
    public var layoutFamily: String?
    public var imageModelIDs: [String]
    public var modelImageID: String?
    /// What to say for exclusive access when it is not a question of O_EXCL (a dry run, an emulated drive).
    public var exclusiveDetail: String?
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
                familyStatus: TestStatus?, hasProtocol: Bool, image: InspectReport, layoutFamily: String?, imageModelIDs: [String],
                modelImageID: String?) {
        self.device = device; self.inquiry = inquiry; self.medium = medium; self.exclusive = exclusive; self.modelName = modelName
        self.family = family; self.familyStatus = familyStatus; self.hasProtocol = hasProtocol; self.image = image
        self.layoutFamily = layoutFamily; self.imageModelIDs = imageModelIDs; self.modelImageID = modelImageID
    }
}

public struct PreflightCheck: Sendable, Encodable {
    /// What a check is about: its identity (the name is for people and may be the database's words).
    public enum ID: String, Sendable, Encodable {
        case opticalDrive, modelInDB, flashProtocol, testedStatus, imageFamily, imageChecksums, imageForModel, noDisc
        case exclusiveAccess, version, risk, backup, journal, protocolForImage, driveID, probe, descriptor
        /// MediaTek MT19xx: exact size, not a raw drive read, the chip.
        case imageSize, driveRead, chip
        /// The checks that say which drive and which image this is: the vendor's identification reads (read-only) are
        /// sent only when these pass.
        public var isIdentity: Bool { [.opticalDrive, .modelInDB, .flashProtocol, .imageFamily].contains(self) }
    }
    public let id: ID
    public let name: String
    public let passed: Bool
    public let detail: String
    /// A mismatch no flag can override (model, size, family, checksum, bootcode).
    public let hard: Bool
    public init(_ id: ID, name: String, passed: Bool, detail: String, hard: Bool) {
        self.id = id; self.name = name; self.passed = passed; self.detail = detail; self.hard = hard
    }
    enum CodingKeys: String, CodingKey { case name, passed, detail, hard }
}

public enum Preflight {
    /// Every check, in order. Flashing may start only when all pass.
    public static func run(_ i: PreflightInput) -> [PreflightCheck] {
        var out: [PreflightCheck] = []
        func add(_ id: PreflightCheck.ID, _ n: String, _ ok: Bool, _ d: String, hard: Bool = true) {
            out.append(.init(id, name: n, passed: ok, detail: d, hard: hard))
        }

        add(.opticalDrive, "optical drive", i.inquiry.isMMC, "\(i.inquiry.vendor) \(i.inquiry.product) \(i.inquiry.revision), \(i.inquiry.deviceTypeName)")
        add(.modelInDB, "model in firmware-db", i.modelName != nil && i.family != nil,
            i.modelName.map { "\($0) (family \(i.family ?? "?"))" }
                ?? i.knownUnsupported.map { "\(i.inquiry.vendor) \(i.inquiry.product) is known to firmware-db as \($0.name) but not supported (\($0.reason)): odflash sends it no vendor command" }
                ?? "\(i.inquiry.vendor) \(i.inquiry.product) is not in firmware-db: odflash never sends vendor commands to an unknown drive")
        add(.flashProtocol, "flash protocol", i.hasProtocol, i.hasProtocol ? "from firmware-db" : "no public flash protocol is known for family \(i.family ?? "?")")
        switch i.familyStatus {
        case .ok?: add(.testedStatus, "tested status", true, "flashing this family is marked ok")
        case .notTested?: add(.testedStatus, "tested status", i.allowUntested, i.allowUntested ? "not tested on real hardware; accepted with --allow-untested" :
                                "flashing \(i.family ?? "?") has not been tested on real hardware: --allow-untested accepts that risk", hard: false)
        case .bad?: add(.testedStatus, "tested status", i.force, i.force ? "marked bad; accepted with --force" : "flashing \(i.family ?? "?") is marked bad in firmware-db", hard: false)
        default: add(.testedStatus, "tested status", false, "flashing is not applicable to \(i.family ?? "this drive")")
        }
        if let id = i.image.identity {
            let weak = id.identifiedBy == .size || id.identifiedBy == .marker
            add(.imageFamily, "image family", id.family == i.family && !weak,
                id.identifiedBy == .marker ? "the image has \(id.family)'s markers but its size fits none of its layouts (see image checksums)" :
                weak ? "the image is identified by its size alone; odflash never chooses a procedure by size" :
                    "image is \(id.family)/\(id.layout) (\(id.identifiedBy.rawValue)); drive family \(i.family ?? "?")")
        } else {
            add(.imageFamily, "image family", false, "the image matches no firmware-db layout")
        }
        // A checksum that cannot be computed (its algorithm is not public) cannot vouch for the image: refused too.
        let unverifiable = i.image.checksums.filter { $0.status == .unverifiable }
        if i.image.valid == false {
            add(.imageChecksums, "image checksums", false, "the image does not validate: \(i.image.verdict.dropFirst(4))")
        } else if !unverifiable.isEmpty {
            add(.imageChecksums, "image checksums", false, "\(unverifiable.map(\.name).joined(separator: ", ")) cannot be verified (the algorithm is not public), so the image cannot be validated")
        } else if i.image.checksums.isEmpty {
            add(.imageChecksums, "image checksums", true, "the layout defines no checksum (nothing to validate; the image is checked by its signatures and fields)")
        } else {
            add(.imageChecksums, "image checksums", true, "every checksum validates (\(i.image.verified.joined(separator: ", ")))")
        }
        // The image must name this drive: its INQUIRY strings, its model/config ID, or (Binflash's rule) its drive ID.
        var named: Bool?
        if i.image.identity == nil || i.image.valid == false {
            add(.imageForModel, "image is for this model", false,
                "cannot be checked: the image itself is not a valid image of a known layout (see image family and image checksums)")
        } else if let v = i.image.vendor, let p = i.image.product {
            named = v == i.inquiry.vendor && p == i.inquiry.product
            add(.imageForModel, "image is for this model", named!, named! ? "the image names \(v) \(p)" : "the image is for \(v) \(p), the drive is \(i.inquiry.vendor) \(i.inquiry.product)")
        } else if let want = i.modelImageID {
            named = i.imageModelIDs.contains { ImageID.names(want, $0) }
            add(.imageForModel, "image is for this model", named!, named! ? "the image's ID matches" : "the image's ID \(i.imageModelIDs.joined(separator: ",")) is not this model's \(want)")
        } else if i.image.identity?.identifiedBy == .driveID, !i.image.models.isEmpty {
            // Binflash's rule: the drive type is the drive ID, read from the drive's RAM and compared with the image's
            // (the "drive ID" check below); the INQUIRY block, when the image has one, only names the model.
            add(.imageForModel, "image is for this model", true,
                "the image's drive ID names \(i.image.models.joined(separator: ", ")); the drive's own ID is read from its RAM and compared below")
        } else {
            add(.imageForModel, "image is for this model", i.acceptUnidentifiedModel,
                i.acceptUnidentifiedModel ? "the image names no model (none of this family's images do); accepted with --accept-unidentified-model" :
                    "neither the image nor firmware-db names the model, so the match cannot be checked: --accept-unidentified-model if you are sure the image is for this drive",
                hard: false)
        }
        let discIn = i.medium == .present || i.medium == .becomingReady
        add(.noDisc, "no disc", !discIn || i.force,
            discIn ? (i.force ? "the unit reports a medium (accepted with --force)" : "a disc is in the drive (or the unit always reports one): eject it first, or --force") :
                "tray empty (\(i.medium.rawValue))", hard: false)
        add(.exclusiveAccess, "exclusive access", i.exclusive || i.force, i.exclusiveDetail ?? (i.exclusive ? "opened exclusively" : "could not open the drive exclusively"), hard: false)
        if let newV = i.image.version, !newV.isEmpty {
            let old = i.inquiry.revision
            if newV == old {
                add(.version, "version", i.allowReinstall, i.allowReinstall ? "reinstalling \(old) (--allow-reinstall)" : "the drive already runs \(old): --allow-reinstall to flash it again", hard: false)
            } else if newV.precedesNumerically(old) {
                add(.version, "version", i.allowOlder, i.allowOlder ? "downgrading \(old) -> \(newV) (--allow-older)" : "\(newV) is older than the drive's \(old): --allow-older to downgrade", hard: false)
            } else {
                add(.version, "version", true, "\(old) -> \(newV)", hard: false)
            }
        } else {
            add(.version, "version", true, "the image's version is not located for this layout; the drive runs \(i.inquiry.revision)", hard: false)
        }
        return out
    }
}
