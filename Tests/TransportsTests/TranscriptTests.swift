import Foundation
import Testing
@testable import Emulator
@testable import SCSI
@testable import Transports

@Suite struct TranscriptTests {
    @Test func recordThenReplayStrictly() throws {
        let rec = TranscriptRecorder(try emulated())
        _ = try rec.execute(.inquiry(allocation: 96), .fromDevice(96), timeout: 1)
        _ = try rec.execute(.testUnitReady(), .none, timeout: 1)
        _ = try rec.execute(.sendKey(keyFormat: 6, parameterLength: 8), .toDevice([0, 6, 0, 0, 0xFE, 0, 0, 0]), timeout: 1)
        #expect(rec.entries.count == 3)
        let text = rec.text
        #expect(text.contains("0001  12 00 00 00 60 00  INQUIRY  in 96  -> GOOD"))
        #expect(text.contains("0002  00 00 00 00 00 00  TEST UNIT READY  -> CHECK CONDITION 02/3A/01"))
        #expect(text.contains("out 8 sha256:"))

        let replay = try ReplayTransport(jsonLines: rec.jsonLines, deviceName: "replay")
        let inq = try replay.execute(.inquiry(allocation: 96), .fromDevice(96), timeout: 1)
        #expect(Array(inq.data[8..<13]) == Array("ATAPI".utf8))
        let tur = try replay.execute(.testUnitReady(), .none, timeout: 1)
        #expect(tur.sense?.triple == "02/3A/01")
        // Same CDB, different data-out: diverges.
        #expect(throws: ReplayTransport.Failure.self) {
            try replay.execute(.sendKey(keyFormat: 6, parameterLength: 8), .toDevice([0, 6, 0, 0, 0xFD, 0, 0, 0]), timeout: 1)
        }
    }

    @Test func replayDivergenceAndExhaustion() throws {
        let rec = TranscriptRecorder(try emulated())
        _ = try rec.execute(.testUnitReady(), .none, timeout: 1)
        let r1 = try ReplayTransport(jsonLines: rec.jsonLines, deviceName: "r")
        #expect(throws: ReplayTransport.Failure.mismatch(seq: 1, expected: "00 00 00 00 00 00", got: "12 00 00 00 60 00")) {
            try r1.execute(.inquiry(allocation: 96), .fromDevice(96), timeout: 1)
        }
        let r2 = try ReplayTransport(jsonLines: rec.jsonLines, deviceName: "r")
        _ = try r2.execute(.testUnitReady(), .none, timeout: 1)
        #expect(throws: ReplayTransport.Failure.exhausted(1)) { try r2.execute(.testUnitReady(), .none, timeout: 1) }
    }

    @Test func malformedTranscript() {
        #expect(throws: ReplayTransport.Failure.self) { try ReplayTransport(jsonLines: "{not json}\n", deviceName: "r") }
    }

    @Test func transportErrorsAreRecorded() throws {
        let d = try emulated()
        d.close()
        let rec = TranscriptRecorder(d)
        #expect(throws: TransportError.closed) { try rec.execute(.testUnitReady(), .none, timeout: 1) }
        #expect(rec.entries.first?.status == "TRANSPORT ERROR")
    }

    @Test func echoWrapper() throws {
        var lines: [String] = []
        let t = EchoingTransport(try emulated()) { lines.append($0) }
        _ = try t.execute(.testUnitReady(), .none, timeout: 1)
        #expect(lines == ["-> 00 00 00 00 00 00 (TEST UNIT READY) none 0", "<- CHECK CONDITION sense 02/3A/01 Not Ready: Medium not present - tray closed"])
    }
}
