import SCSI

public enum MediumState: String, Sendable, Codable {
    case present, absent = "no medium", trayOpen = "no medium (tray open)", trayClosed = "no medium (tray closed)",
         becomingReady = "becoming ready", unknown
}

/// Everything `odflash info` reports about a drive.
public struct DriveInfo: Sendable, Codable, Equatable {
    public struct ProfileEntry: Sendable, Codable, Equatable {
        public let code: String
        public let name: String
        public let current: Bool
        public let writable: Bool
    }
    public struct RPCReport: Sendable, Codable, Equatable {
        public let available: Bool
        public let typeCode: Int?
        public let type: String?
        public let regionMask: String?
        public let regions: String?
        public let vendorResetsLeft: Int?
        public let userChangesLeft: Int?
        public let scheme: String?
        public let note: String?

        public init(available: Bool, typeCode: Int?, type: String?, regionMask: String?, regions: String?, vendorResetsLeft: Int?,
                    userChangesLeft: Int?, scheme: String?, note: String?) {
            self.available = available; self.typeCode = typeCode; self.type = type; self.regionMask = regionMask; self.regions = regions
            self.vendorResetsLeft = vendorResetsLeft; self.userChangesLeft = userChangesLeft; self.scheme = scheme; self.note = note
        }
    }

    public let device: String
    public let transport: String
    public let inquiry: InquiryData
    public var serial: String?
    public var vpdPages: [String]
    public var currentProfile: ProfileEntry?
    public var profiles: [ProfileEntry]
    public var features: [String]
    public var writeCapabilities: [String]
    public var capabilities: CapabilitiesPage?
    public var rpc: RPCReport
    public var medium: MediumState
    /// Steps that could not be read, with the reason ("GET CONFIGURATION: 05/20/00 ...").
    public var notes: [String]
}

public enum IdentifyError: Error, Equatable, CustomStringConvertible {
    case notMMC(device: String, type: Int, vendor: String, product: String)
    case inquiryFailed(device: String, reason: String)

    public var description: String {
        switch self {
        case let .notMMC(d, t, v, p):
            return "\(d) (\(v) \(p)) is not an optical drive: peripheral device type \(Hex.byte(UInt8(t)))h, \(PeripheralDeviceType.name(t))"
        case let .inquiryFailed(d, r): return "\(d): INQUIRY failed: \(r)"
        }
    }
}

/// Drive identification over any transport: INQUIRY, VPD, GET CONFIGURATION, mode page 2Ah, REPORT KEY, TEST UNIT READY.
public struct DriveIdentifier {
    public let transport: any SCSITransport
    public var timeout: Double = 20

    public init(_ transport: any SCSITransport) { self.transport = transport }

    func query(_ cdb: CDB, _ transfer: DataTransfer) throws -> CommandResult { try transport.query(cdb, transfer, timeout: timeout) }

    /// Standard INQUIRY, parsed and validated. Transport failures and garbage data are errors.
    public func inquiry() throws -> InquiryData {
        let r: CommandResult
        do { r = try query(.inquiry(allocation: 96), .fromDevice(96)) }
        catch let e as SCSICommandError { throw IdentifyError.inquiryFailed(device: transport.deviceName, reason: e.description) }
        do { return try InquiryData(bytes: r.data) }
        catch { throw IdentifyError.inquiryFailed(device: transport.deviceName, reason: error.description) }
    }

    /// The unit serial number (VPD page 80h, when page 00h lists it); nil when the drive has none or refuses.
    /// Read-only; never fails (scan, flash and dump use it to tell identical drives apart).
    public func serialNumber() -> String? {
        guard let r = try? query(.inquiry(vpdPage: 0, allocation: 255), .fromDevice(255)),
              let pages = try? VPD.supportedPages(r.data), pages.contains(0x80),
              let s = try? query(.inquiry(vpdPage: 0x80, allocation: 255), .fromDevice(255)),
              let serial = try? VPD.serialNumber(s.data), !serial.isEmpty else { return nil }
        return serial
    }

    /// Runs `body`; a command error or an adapter error becomes a note instead of failing the whole report.
    private func optional<T>(_ what: String, _ notes: inout [String], _ body: () throws -> T) throws -> T? {
        do { return try body() }
        catch let e as SCSICommandError {
            notes.append("\(what): \(e.sense.map { $0.description } ?? e.status.name)")
        } catch let e as TransportError {
            switch e {
            case .hostError, .driverError, .timeout, .protocolError: notes.append("\(what): \(e)")
            default: throw e
            }
        } catch let e as ParseError {
            notes.append("\(what): \(e)")
        }
        return nil
    }

    public func identify(requireMMC: Bool = true) throws -> DriveInfo {
        let inq = try inquiry()
        if requireMMC && !inq.isMMC {
            throw IdentifyError.notMMC(device: transport.deviceName, type: inq.deviceType, vendor: inq.vendor, product: inq.product)
        }
        var notes: [String] = []
        
        // VPD: list of pages, then the serial number when listed.
        let pages = try optional("VPD 00h", &notes) { () throws -> [UInt8] in
            let r = try query(.inquiry(vpdPage: 0, allocation: 255), .fromDevice(255))
            return try VPD.supportedPages(r.data)
        } ?? []
        var serial: String?
        if pages.contains(0x80) {
            serial = try optional("VPD 80h", &notes) { () throws -> String in
                let r = try query(.inquiry(vpdPage: 0x80, allocation: 255), .fromDevice(255))
                return try VPD.serialNumber(r.data)
            }
        }

        // GET CONFIGURATION: all features; grow the buffer if the header says there is more.
        let config = try optional("GET CONFIGURATION", &notes) { () throws -> FeatureConfiguration in
            var alloc = 2048
            var r = try query(.getConfiguration(rt: 0, allocation: UInt16(alloc)), .fromDevice(alloc))
            if let len = Bytes.be32(r.data, 0), len + 4 > alloc, len + 4 <= 65532 {
                alloc = len + 4
                r = try query(.getConfiguration(rt: 0, allocation: UInt16(alloc)), .fromDevice(alloc))
            }
            return try FeatureConfiguration(bytes: r.data)
        }
        let caps = try optional("MODE SENSE page 2Ah", &notes) { () throws -> CapabilitiesPage in
            let r = try query(.modeSense10(page: 0x2A, allocation: 256), .fromDevice(256))
            return try CapabilitiesPage(modeSense10: r.data)
        }

        // RPC: REPORT KEY format 08h. RPC-I drives reject it; QEMU fails it in the adapter.
        var rpcNotes: [String] = []
        let rpcState = try optional("REPORT KEY (RPC state)", &rpcNotes) { () throws -> RPCState in
            let r = try query(.reportKey(keyFormat: 0x08, allocation: 8), .fromDevice(8))
            return try RPCState(bytes: r.data)
        }
        let rpc: DriveInfo.RPCReport
        if let s = rpcState {
            rpc = .init(available: true, typeCode: s.typeCode, type: s.typeName, regionMask: Hex.byte(UInt8(s.regionMask)) + "h",
                        regions: s.regionDescription, vendorResetsLeft: s.vendorResetsLeft, userChangesLeft: s.userChangesLeft,
                        scheme: s.schemeName, note: nil)
        } else {
            rpc = .init(available: false, typeCode: nil, type: nil, regionMask: nil, regions: nil, vendorResetsLeft: nil,
                        userChangesLeft: nil, scheme: nil,
                        note: "not reported (RPC-I firmware or no region support): " + (rpcNotes.first ?? ""))
        }

        let medium = try mediumState()

        let profileEntries = (config?.profiles ?? []).map { p in
            DriveInfo.ProfileEntry(code: Hex.word(p.code) + "h", name: p.name, current: p.current,
                                   writable: MMCProfile.entry(p.code)?.writable ?? false)
        }
        let current: DriveInfo.ProfileEntry? = config.flatMap { c in
            c.currentProfile == 0 ? nil : DriveInfo.ProfileEntry(code: Hex.word(c.currentProfile) + "h", name: MMCProfile.name(c.currentProfile),
                                                                 current: true, writable: MMCProfile.entry(c.currentProfile)?.writable ?? false)
        }
        var writeCaps = profileEntries.filter(\.writable).map(\.name)
        for w in caps?.writes ?? [] where !writeCaps.contains(where: { $0.hasPrefix(w) }) { writeCaps.append(w) }

        return DriveInfo(
            device: transport.deviceName, transport: transport.kind, inquiry: inq, serial: serial,
            vpdPages: pages.map { Hex.byte($0) + "h" }, currentProfile: current, profiles: profileEntries,
            features: (config?.features ?? []).map { MMCFeature.name($0.code) }, writeCapabilities: writeCaps,
            capabilities: caps, rpc: rpc, medium: medium, notes: notes)
    }

    /// TEST UNIT READY, again after unit attentions (at most twice): present, absent (tray open/closed), becoming ready.
    public func mediumState() throws -> MediumState {
        let r: CommandResult
        do { r = try transport.execute(.testUnitReady(), .none, timeout: timeout, unitAttentionResends: 2) }
        catch let e as TransportError {
            if case .hostError = e { return .unknown }
            throw e
        }
        if r.isGood { return .present }
        guard let s = r.sense else { return .unknown }
        switch (s.key, s.asc, s.ascq) {
        case (2, 0x3A, 0x01): return .trayClosed
        case (2, 0x3A, 0x02): return .trayOpen
        case (2, 0x3A, _): return .absent
        case (2, 0x04, _): return .becomingReady
        default: return .unknown
        }
    }
}
