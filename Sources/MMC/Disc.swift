import SCSI

/// What `odflash media` reports about the disc in a drive.
public struct DiscInfo: Sendable, Codable, Equatable {
    public struct ATIP: Sendable, Codable, Equatable {
        public let leadIn: String
        public let leadOut: String
        /// The lead-in with the frame rounded down to tens: the manufacturer code.
        public let manufacturerCode: String
        /// The nominal capacity the lead-out start stands for (63, 74, 80, 90 or 99 minutes).
        public let capacityMinutes: Int
        /// The last possible lead-out start as an LBA, and the data it leaves room for (2048-byte blocks).
        public let leadOutLBA: Int
        public let capacityMiB: Int
        public let dye: String
        public let rewritable: Bool
        /// "CD-R" or "CD-RW" (the disc type bit), the Orange Book sub-type and what it means.
        public let discType: String
        public let subType: Int
        public let subTypeName: String
        /// Indicative target writing power (a code the drive's write strategy starts from, not a power in mW).
        public let writingPower: Int
        /// Reference speed code, and the speed it stands for when the public tables agree on one.
        public let referenceSpeedCode: Int
        public let referenceSpeed: String?
        /// The unrestricted-use bit (audio CD-Rs for consumer recorders have it set).
        public let unrestrictedUse: Bool
        /// A1, A2, A3 (hex, 6 digits) when the disc marks them valid; the recording speed range A1 carries.
        public let a1: String?
        public let a2: String?
        public let a3: String?
        public let speedRange: String?
    }
    public struct MediaID: Sendable, Codable, Equatable {
        public let mid: String
        public let tid: String?
        public let rid: Int?
        public let source: String
    }

    public struct TOC: Sendable, Codable, Equatable {
        public struct Track: Sendable, Codable, Equatable {
            public let number: Int
            public let data: Bool
            public let startLBA: Int
        }
        public let firstTrack: Int
        public let lastTrack: Int
        public let tracks: [Track]
        /// The lead-out start (LBA): the recorded size in 2 KiB blocks.
        public let leadOutLBA: Int?
    }

    public var profile: String?
    public var profileCode: Int?
    public var toc: TOC?
    public var medium: MediumState
    public var bookType: String?
    public var atip: ATIP?
    public var mediaID: MediaID?
    /// The speeds the drive offers for this disc (GET PERFORMANCE type 03h and mode page 2Ah).
    public var writeSpeeds: WriteSpeeds?
    /// The code to look up in media tables: "97:26:60", "RICOHJPN-R03-02", "RITEKG05", "CMCMAG-BA5-00".
    public var code: String?
    public var notes: [String] = []
}

/// Decoders for the MMC structures that identify a disc. Offsets count from the start of the returned data.
public enum DiscStructures {
    /// ATIP (READ TOC/PMA/ATIP format 0100b, MSF): a 4-byte header, then the descriptor. Buffer offsets:
    /// 4 writing power (bits 6-4), reference speed (bits 2-0); 5 unrestricted use (bit 6); 6 disc type (bit 6),
    /// sub-type (bits 5-3), A1/A2/A3 valid (bits 2, 1, 0); 8-10 lead-in start; 12-14 last possible lead-out start;
    /// 16-18 A1, 20-22 A2, 24-26 A3 (MMC; the same offsets in aaru-dps/Aaru Aaru.Decoders/CD/ATIP.cs and libburn's
    /// mmc_read_atip). `rewritable`: the drive's current profile is CD-RW (the disc type bit says so too).
    public static func atip(_ b: [UInt8], rewritable profileRW: Bool) throws(ParseError) -> DiscInfo.ATIP {
        guard b.count >= 15 else { throw .truncated(needed: 15, have: b.count) }
        guard let len = Bytes.be16(b, 0), len >= 13 else { throw .invalid("ATIP response carries no descriptor (data length \(Bytes.be16(b, 0) ?? 0))") }
        let li = (b[8], b[9], b[10]), lo = (b[12], b[13], b[14])
        guard li.1 < 60, li.2 < 75, lo.1 < 60, lo.2 < 75 else { throw .invalid("ATIP times are not valid M:S:F values") }
        func msf(_ t: (UInt8, UInt8, UInt8)) -> String { MSF.text(t.0, t.1, t.2) }
        let rewritable = b[6] & 0x40 != 0 || profileRW
        let dye = rewritable ? "phase change (rewritable)" : ATIPFacts.dye(frame: li.2)
        let end = min(b.count, len + 2)
        func triple(_ at: Int, _ validBit: UInt8) -> String? {
            guard b[6] & validBit != 0, at + 3 <= end else { return nil }
            return Hex.bytes(b[at..<(at + 3)], separator: "")
        }
        let a1 = triple(16, 0x04)
        let leadOutLBA = ATIPFacts.lba(lo.0, lo.1, lo.2)
        let sub = Int((b[6] >> 3) & 0x07), ref = Int(b[4] & 0x07)
        return DiscInfo.ATIP(
            leadIn: msf(li), leadOut: msf(lo), manufacturerCode: msf((li.0, li.1, li.2 - li.2 % 10)),
            capacityMinutes: ATIPFacts.nominalMinutes(leadOutMinutes: Int(lo.0)), leadOutLBA: leadOutLBA,
            capacityMiB: max(0, leadOutLBA) * 2048 / 1_048_576, dye: dye, rewritable: rewritable,
            discType: rewritable ? "CD-RW" : "CD-R", subType: sub, subTypeName: ATIPFacts.subType(sub, rewritable: rewritable),
            writingPower: Int((b[4] >> 4) & 0x07), referenceSpeedCode: ref, referenceSpeed: ATIPFacts.speed(ref),
            unrestrictedUse: b[5] & 0x40 != 0, a1: a1, a2: triple(20, 0x02), a3: triple(24, 0x01),
            speedRange: a1 != nil ? ATIPFacts.a1Range(b[16]) : nil)
    }

    /// Printable, with NULs dropped and other unprintable bytes escaped as %XX.
    /// An ID field is text when most of its non-padding bytes are printable ASCII (real IDs sometimes carry a stray byte).
    static func isText(_ bytes: ArraySlice<UInt8>) -> Bool {
        let used = bytes.filter { $0 != 0 }
        return used.filter { $0 >= 0x20 && $0 < 0x7F }.count * 2 > used.count
    }

    public static func printable(_ bytes: ArraySlice<UInt8>) -> String {
        var s = ""
        for c in bytes where c != 0 {
            if c >= 0x20 && c < 0x7F { s.append(Character(UnicodeScalar(c))) } else { s += "%" + Hex.byte(c) }
        }
        while s.last == " " { s.removeLast() }
        return s
    }

    /// DVD+R/+RW ADIP (format 11h) or PFI (format 00h), which copies it: MID 19-26, TID 27-29, revision 30 (payload offsets).
    public static func dvdPlus(_ b: [UInt8], source: String) throws(ParseError) -> DiscInfo.MediaID {
        guard b.count >= 4 + 31 else { throw .truncated(needed: 35, have: b.count) }
        let p = 4
        let mid = printable(b[(p + 19)..<(p + 27)])
        guard !mid.isEmpty else { throw .invalid("the disc reports an empty manufacturer ID") }
        guard isText(b[(p + 19)..<(p + 27)]) else { throw .invalid("the manufacturer ID is not text (\(Hex.bytes(b[(p + 19)..<(p + 27)])))") }
        return .init(mid: mid, tid: printable(b[(p + 27)..<(p + 30)]), rid: Int(b[p + 30]), source: source)
    }

    /// DVD-R/-RW pre-pit data (format 0Eh): field markers 3, 4 (and 5 for DVD-R) before each ID part.
    public static func dvdDash(_ b: [UInt8]) throws(ParseError) -> DiscInfo.MediaID {
        let p = 4
        guard b.count >= p + 31 else { throw .truncated(needed: p + 31, have: b.count) }
        guard b[p + 16] == 3, b[p + 24] == 4 else {
            throw .invalid("pre-pit data lacks its field markers (bytes 16 and 24 are \(Hex.byte(b[p + 16]))h and \(Hex.byte(b[p + 24]))h, expected 03h and 04h)")
        }
        var raw = Array(b[(p + 17)..<(p + 23)]) + Array(b[(p + 25)..<(p + 31)])
        if b.count >= p + 39 && b[p + 32] == 5 { raw += Array(b[(p + 33)..<(p + 39)]) }
        let id = printable(raw[...])
        guard !id.isEmpty else { throw .invalid("the disc reports an empty pre-pit ID") }
        guard isText(raw[...]) else { throw .invalid("the pre-pit ID is not text (\(Hex.bytes(raw)))") }
        return .init(mid: id, tid: nil, rid: nil, source: "pre-pit (format 0Eh)")
    }

    /// BD disc information (media type 1, format 00h): 'DI', disc type 8-10, MID 100-105, TID 106-108, revision 111.
    public static func bd(_ b: [UInt8]) throws(ParseError) -> DiscInfo.MediaID {
        let p = 4
        guard b.count >= p + 112 else { throw .truncated(needed: p + 112, have: b.count) }
        guard b[p] == 0x44, b[p + 1] == 0x49 else { throw .invalid("BD disc information does not start with 'DI'") }
        let kind = printable(b[(p + 8)..<(p + 11)])
        guard kind != "BDO" else { throw .invalid("a BD-ROM has no media ID") }
        let mid = printable(b[(p + 100)..<(p + 106)])
        guard !mid.isEmpty else { throw .invalid("the disc reports an empty manufacturer ID") }
        guard isText(b[(p + 100)..<(p + 106)]) else { throw .invalid("the manufacturer ID is not text (\(Hex.bytes(b[(p + 100)..<(p + 106)])))") }
        return .init(mid: mid, tid: printable(b[(p + 106)..<(p + 109)]), rid: Int(b[p + 111]), source: "disc information (\(kind))")
    }

    /// READ TOC format 0 (LBA): 4-byte header (length, first, last track), then 8-byte track descriptors (AAh = lead-out).
    public static func toc(_ b: [UInt8]) throws(ParseError) -> DiscInfo.TOC {
        guard b.count >= 4, let len = Bytes.be16(b, 0) else { throw .truncated(needed: 4, have: b.count) }
        let end = min(b.count, len + 2)
        guard end >= 12 else { throw .invalid("the TOC holds no track descriptor") }
        var tracks: [DiscInfo.TOC.Track] = []
        var leadOut: Int?
        var i = 4
        while i + 8 <= end {
            let n = Int(b[i + 2]), control = b[i + 1] & 0x0F
            let lba = Int(Int32(bitPattern: UInt32(Bytes.be32(b, i + 4) ?? 0)))
            if n == 0xAA { leadOut = lba } else { tracks.append(.init(number: n, data: control & 0x04 != 0, startLBA: lba)) }
            i += 8
        }
        guard !tracks.isEmpty else { throw .invalid("the TOC lists no track") }
        return .init(firstTrack: Int(b[2]), lastTrack: Int(b[3]), tracks: tracks, leadOutLBA: leadOut)
    }

    /// PFI byte 0: book type (high nibble) and version.
    public static func bookType(_ b: [UInt8]) -> String? {
        guard b.count > 4 else { return nil }
        let names: [UInt8: String] = [0: "DVD-ROM", 1: "DVD-RAM", 2: "DVD-R", 3: "DVD-RW", 9: "DVD+RW", 0xA: "DVD+R", 0xD: "DVD+RW DL", 0xE: "DVD+R DL"]
        let v = b[4]
        return "\(names[v >> 4] ?? "reserved \(Hex.byte(v >> 4))h") (version \(v & 0x0F))"
    }
}

extension DiscIdentifier {
    /// The speeds the drive offers for the loaded disc; a refusal or garbage is a note (many drives lack one of the two).
    public func writeSpeeds(profile: Int) -> WriteSpeeds {
        var w = WriteSpeeds(unitKBs: WriteSpeeds.unit(profile: profile))
        func why(_ e: Error) -> String { (e as? SCSICommandError)?.sense.map { $0.description } ?? "\(e)" }
        do {
            let r = try query(.getPerformance(type: 0x03, maxDescriptors: 32), .fromDevice(8 + 32 * 16))
            w.getPerformance = try WriteSpeeds.parseGetPerformance(r.data)
        } catch { w.notes.append("GET PERFORMANCE (write speeds): \(why(error))") }
        do {
            let r = try query(.modeSense10(page: 0x2A, allocation: 256), .fromDevice(256))
            let page = try CapabilitiesPage(modeSense10: r.data)
            w.modePage = page.writeSpeedsKBs.sorted(by: >)
            w.modePageMaxKBs = page.maxWriteSpeedKBs
        } catch { w.notes.append("MODE SENSE page 2Ah (write speeds): \(why(error))") }
        return w
    }
}

/// The drive's answers about the disc could not be used.
public enum DiscError: Error, CustomStringConvertible, Sendable {
    case malformed(String)
    public var description: String {
        switch self { case let .malformed(m): return "the drive's answer is malformed: \(m)" }
    }
}

public struct DiscIdentifier {
    public let transport: any SCSITransport
    public var timeout: Double = 20

    public init(_ transport: any SCSITransport) { self.transport = transport }

    func query(_ cdb: CDB, _ t: DataTransfer) throws -> CommandResult { try transport.query(cdb, t, timeout: timeout) }

    static let cdProfiles: Set<Int> = [0x09, 0x0A]
    static let plusProfiles: Set<Int> = [0x1A, 0x1B, 0x2A, 0x2B]
    static let dashProfiles: Set<Int> = [0x11, 0x13, 0x14, 0x15, 0x16]
    static let bdProfiles: Set<Int> = [0x41, 0x42, 0x43]

    /// `allSpeeds`: ask for the write speeds also when the disc is not recordable (a pressed disc): the drive's answer as
    /// it is, for a user who wants to see what the drive says (normally only a recordable disc's speeds are asked).
    public func identify(allSpeeds: Bool = false) throws -> DiscInfo {
        let medium = try DriveIdentifier(transport).mediumState()
        var info = DiscInfo(profile: nil, profileCode: nil, medium: medium)
        guard medium == .present else { return info }
        let cfg = try FeatureConfiguration(bytes: query(.getConfiguration(rt: 1, allocation: 8), .fromDevice(8)).data)
        let p = cfg.currentProfile
        info.profileCode = p
        info.profile = MMCProfile.name(p)
        var malformed: [String] = []
        func note(_ what: String, _ e: Error) {
            if let s = e as? SCSICommandError { info.notes.append("\(what): \(s.sense.map { $0.description } ?? s.status.name)") }
            else {
                info.notes.append("\(what): \(e)")
                if e is ParseError { malformed.append("\(what): \(e)") }
            }
        }
        if DiscIdentifier.cdProfiles.contains(p) {
            do {
                let r = try query(.readTOC(format: 4, msf: true, allocation: 28), .fromDevice(28))
                let a = try DiscStructures.atip(r.data, rewritable: p == 0x0A)
                info.atip = a
                info.code = a.manufacturerCode
            } catch { note("ATIP (READ TOC format 4)", error) }
        } else if DiscIdentifier.plusProfiles.contains(p) || DiscIdentifier.dashProfiles.contains(p) {
            var pfi: [UInt8]?
            do {
                pfi = try query(.readDiscStructure(mediaType: 0, format: 0, allocation: 2052), .fromDevice(2052)).data
                info.bookType = DiscStructures.bookType(pfi!)
            } catch { note("physical format information (format 00h)", error) }
            if DiscIdentifier.plusProfiles.contains(p) {
                do {
                    let r = try query(.readDiscStructure(mediaType: 0, format: 0x11, allocation: 260), .fromDevice(260))
                    info.mediaID = try DiscStructures.dvdPlus(r.data, source: "ADIP (format 11h)")
                } catch {
                    // Many drives refuse format 11h; the PFI copies the ADIP bytes.
                    note("ADIP (format 11h)", error)
                    if let pf = pfi {
                        do { info.mediaID = try DiscStructures.dvdPlus(pf, source: "PFI (format 00h)") } catch { note("media ID from PFI", error) }
                    }
                }
                if let m = info.mediaID { info.code = [m.mid, m.tid ?? "", m.rid.map { Hex.byte(UInt8(truncatingIfNeeded: $0)) } ?? ""].filter { !$0.isEmpty }.joined(separator: "-") }
            } else {
                do {
                    let r = try query(.readDiscStructure(mediaType: 0, format: 0x0E, allocation: 260), .fromDevice(260))
                    info.mediaID = try DiscStructures.dvdDash(r.data)
                    info.code = info.mediaID?.mid
                } catch { note("pre-pit data (format 0Eh)", error) }
            }
        } else if DiscIdentifier.bdProfiles.contains(p) {
            do {
                let r = try query(.readDiscStructure(mediaType: 1, format: 0, allocation: 4100), .fromDevice(4100))
                let m = try DiscStructures.bd(r.data)
                info.mediaID = m
                info.code = "\(m.mid)-\(m.tid ?? "")-\(Hex.byte(UInt8(truncatingIfNeeded: m.rid ?? 0)))"
            } catch { note("disc information (BD format 00h)", error) }
        } else {
            info.notes.append("a \(info.profile ?? "?") disc carries no media ID (only recordable discs do)")
        }
        // Garbage is an error when it left nothing to identify the disc by (a refusal stays a note).
        if info.code == nil, let first = malformed.first { throw DiscError.malformed(first) }
        if let p = info.profileCode, allSpeeds || MMCProfile.entry(p)?.writable == true { info.writeSpeeds = writeSpeeds(profile: p) }
        // The table of contents of a recorded or pressed disc (a blank one has none).
        if let r = try? query(.readTOC(format: 0, msf: false, allocation: 804), .fromDevice(804)) {
            info.toc = try? DiscStructures.toc(r.data)
        }
        return info
    }
}
