import Testing
@testable import MMC
@testable import SCSI

/// Answers by opcode from a table; records what it was sent.
final class ScriptedTransport: SCSITransport {
    let deviceName = "script"
    let kind = "script"
    var answers: [UInt8: [Result<CommandResult, TransportError>]] = [:]
    var sent: [CDB] = []

    func on(_ op: UInt8, _ r: CommandResult...) { answers[op, default: []] += r.map { .success($0) } }
    func onError(_ op: UInt8, _ e: TransportError) { answers[op, default: []].append(.failure(e)) }

    func execute(_ cdb: CDB, _ transfer: DataTransfer, timeout: Double) throws -> CommandResult {
        sent.append(cdb)
        guard var list = answers[cdb.opcode], !list.isEmpty else { return .check(5, 0x20, 0) }
        let r = list.count > 1 ? list.removeFirst() : list[0]
        answers[cdb.opcode] = list
        return try r.get()
    }
    func close() {}
}

@Suite struct IdentifierTests {
    func mmcInquiry() -> CommandResult { .good(InquiryData.encode(vendor: "QEMU", product: "QEMU CD-ROM", revision: "2.5+")) }

    @Test func qemuLikeDriveDoesNotBreakOnReportKeyAdapterError() throws {
        let t = ScriptedTransport()
        t.on(0x12, mmcInquiry())
        t.onError(0xA4, .hostError(cdb: "A4", hostStatus: 7, name: "DID_ERROR"))
        t.on(0x46, .good(FeatureConfiguration.encode(currentProfile: 0, profiles: [0x08, 0x10], extraFeatures: [])))
        t.on(0x00, .check(2, 0x3A, 0))
        let info = try DriveIdentifier(t).identify()
        #expect(!info.rpc.available)
        #expect(info.rpc.note?.contains("DID_ERROR") == true)
        #expect(info.profiles.map(\.name) == ["DVD-ROM", "CD-ROM"])
        #expect(info.medium == .absent)
        #expect(info.notes.contains { $0.hasPrefix("MODE SENSE page 2Ah") })
    }

    @Test func unitAttentionIsRetried() throws {
        let t = ScriptedTransport()
        t.on(0x12, mmcInquiry())
        t.on(0x46, .check(6, 0x28, 0), .good(FeatureConfiguration.encode(currentProfile: 0x09, profiles: [0x09], extraFeatures: [])))
        t.on(0x00, .check(6, 0x29, 0), .good())
        let info = try DriveIdentifier(t).identify()
        #expect(info.currentProfile?.name == "CD-R")
        #expect(info.medium == .present)
    }

    @Test func nonMMCIsRefused() {
        let t = ScriptedTransport()
        t.on(0x12, .good(InquiryData.encode(vendor: "Linux", product: "scsi_debug", revision: "0191", deviceType: 0)))
        #expect(throws: IdentifyError.self) { try DriveIdentifier(t).identify() }
        #expect(t.sent.count == 1)  // nothing else was sent to a non-MMC device
    }

    @Test func garbageInquiryIsAnError() {
        let t = ScriptedTransport()
        t.on(0x12, .good([0x05, 0x80, 0, 0, 3]))
        #expect(throws: IdentifyError.inquiryFailed(device: "script", reason: "INQUIRY response too short: 5 bytes (at least 36 needed)")) {
            try DriveIdentifier(t).identify()
        }
    }

    @Test func inquiryCheckConditionIsAnError() {
        let t = ScriptedTransport()
        t.on(0x12, .check(5, 0x24, 0))
        #expect(throws: IdentifyError.self) { try DriveIdentifier(t).inquiry() }
    }

    @Test func deviceGoneIsNotSwallowed() {
        let t = ScriptedTransport()
        t.on(0x12, mmcInquiry())
        t.onError(0x46, .deviceGone("script"))
        #expect(throws: TransportError.deviceGone("script")) { try DriveIdentifier(t).identify() }
    }

    @Test func trayStates() throws {
        for (ascq, state) in [(UInt8(1), MediumState.trayClosed), (2, .trayOpen), (0, .absent)] {
            let t = ScriptedTransport()
            t.on(0x00, .check(2, 0x3A, ascq))
            #expect(try DriveIdentifier(t).mediumState() == state)
        }
        let t = ScriptedTransport()
        t.on(0x00, .check(2, 0x04, 1))
        #expect(try DriveIdentifier(t).mediumState() == .becomingReady)
    }
}
