#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Dispatch
import SCSI

/// One command as recorded: what was sent, what came back.
public struct TranscriptEntry: Codable, Equatable, Sendable {
    public var seq: Int
    public var cdb: String
    public var name: String
    public var direction: DataDirection
    public var length: Int
    /// SHA-256 of the data-out bytes (nil without data-out).
    public var dataOutSHA256: String?
    /// Data received, hex (kept whole so a transcript can be replayed).
    public var dataIn: String?
    public var dataInSHA256: String?
    /// Bytes actually received (data-in).
    public var received: Int?
    public var status: String
    public var statusCode: Int?
    public var sense: String?
    public var senseBytes: String?
    public var residue: Int
    public var error: String?
    public var milliseconds: Double

    /// The readable one-line form.
    public var text: String {
        let n = String(seq)
        var s = String(repeating: "0", count: max(0, 4 - n.count)) + n + "  " + cdb + "  " + name
        switch direction {
        case .none: break
        case .toDevice: s += "  out \(length) sha256:\((dataOutSHA256 ?? "").prefix(16))"
        case .fromDevice: s += "  in \(length)"
        }
        s += "  -> \(status)"
        if let sense { s += " \(sense)" }
        if direction == .fromDevice, let d = dataInSHA256, let n = received, n > 0 { s += "  got \(n) sha256:\(d.prefix(16))" }
        if residue > 0 { s += "  resid \(residue)" }
        if let error { s += "  (\(error))" }
        return s
    }
}

/// Wraps any transport and records each command (readable text and/or JSON lines).
public final class TranscriptRecorder: SCSITransport {
    public let inner: any SCSITransport
    public private(set) var entries: [TranscriptEntry] = []
    /// Keep received data whole (needed to replay a transcript; a printed transcript shows only its digest).
    public var keepDataIn = true
    public var deviceName: String { inner.deviceName }
    public var kind: String { inner.kind }

    public init(_ inner: any SCSITransport) { self.inner = inner }

    public func execute(_ cdb: CDB, _ transfer: DataTransfer, timeout: Double) throws -> CommandResult {
        let start = DispatchTime.now().uptimeNanoseconds
        var e = TranscriptEntry(seq: entries.count + 1, cdb: cdb.description, name: cdb.name, direction: transfer.direction,
                                length: transfer.length, dataOutSHA256: nil, dataIn: nil, dataInSHA256: nil, received: nil, status: "", statusCode: nil,
                                sense: nil, senseBytes: nil, residue: 0, error: nil, milliseconds: 0)
        if case let .toDevice(d) = transfer { e.dataOutSHA256 = SHA256.hex(d) }
        defer {
            e.milliseconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            entries.append(e)
        }
        do {
            let r = try inner.execute(cdb, transfer, timeout: timeout)
            e.status = r.status.name
            e.statusCode = Int(r.status.rawValue)
            e.sense = r.sense?.triple
            e.senseBytes = r.senseBytes.isEmpty ? nil : Hex.bytes(r.senseBytes, separator: "")
            e.residue = r.residue
            if transfer.direction == .fromDevice {
                if keepDataIn { e.dataIn = Hex.bytes(r.data, separator: "") }
                e.dataInSHA256 = SHA256.hex(r.data)
                e.received = r.data.count
            }
            return r
        } catch {
            e.status = "TRANSPORT ERROR"
            e.error = "\(error)"
            throw error
        }
    }

    public func close() { inner.close() }

    public var text: String { entries.map(\.text).joined(separator: "\n") + (entries.isEmpty ? "" : "\n") }

    public var jsonLines: String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return entries.compactMap { try? String(decoding: enc.encode($0), as: UTF8.self) }.joined(separator: "\n") + (entries.isEmpty ? "" : "\n")
    }
}

/// Replays a JSON-lines transcript strictly: each command must match the next recorded CDB and data-out digest.
public final class ReplayTransport: SCSITransport {
    public let deviceName: String
    public let kind = "replay"
    private let entries: [TranscriptEntry]
    private var next = 0

    public enum Failure: Error, CustomStringConvertible, Equatable {
        case malformed(line: Int, String)
        case invalid(String)
        case mismatch(seq: Int, expected: String, got: String)
        case exhausted(Int)
        public var description: String {
            switch self {
            case let .malformed(l, why): return "transcript line \(l) is not a valid entry: \(why)"
            case let .invalid(why): return why
            case let .mismatch(s, e, g): return "replay diverged at command \(s): the transcript has \(e), the program sent \(g)"
            case let .exhausted(n): return "replay ran past the end of the transcript (\(n) commands recorded)"
            }
        }
    }

    /// The most commands a transcript may hold (a whole NEC flash with its read-back is about 1,100).
    public static let maxCommands = 100_000
    /// The largest transcript file read (the replay: device checks it before reading).
    public static let maxBytes = 64 << 20

    public convenience init(jsonLines: String, deviceName: String) throws {
        try self.init(data: Array(jsonLines.utf8), source: "transcript", deviceName: deviceName)
    }

    /// Parses and checks every record before the first command is replayed: each line one flat JSON object with the
    /// recorder's fields, each of its type and range; an error names the file, the line and what was expected.
    public init(data: [UInt8], source: String, deviceName: String) throws {
        self.deviceName = deviceName
        if data.count > Self.maxBytes {
            throw Failure.invalid("\(source) is \(data.count) bytes; transcripts are at most \(Self.maxBytes) bytes")
        }
        let lines = JSONLines.lines(data)
        if lines.count > Self.maxCommands {
            throw Failure.invalid("\(source) has \(lines.count) records; transcripts are at most \(Self.maxCommands) commands")
        }
        if lines.isEmpty { throw Failure.invalid("\(source) holds no commands (an empty transcript)") }
        var out: [TranscriptEntry] = []
        out.reserveCapacity(lines.count)
        for (n, bytes) in lines {
            let fields: [String: JSONLines.Value]
            switch JSONLines.object(bytes) {
            case let .success(f): fields = f
            case let .failure(e): throw Failure.invalid("\(source) line \(n): \(e.description); a transcript line is one JSON object as --transcript FILE.jsonl writes it")
            }
            do { out.append(try Self.entry(JSONLines.Record(source: source, line: n, fields: fields))) }
            catch let e as JSONLines.Failure { throw Failure.invalid(e.description) }
        }
        entries = out
    }

    static let fieldNames: Set<String> = ["seq", "cdb", "name", "direction", "length", "dataOutSHA256", "dataIn", "dataInSHA256",
                                          "received", "status", "statusCode", "sense", "senseBytes", "residue", "error", "milliseconds"]

    static func isHex(_ s: String, spaces: Bool) -> Bool {
        s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 70) || ($0 >= 97 && $0 <= 102) || (spaces && $0 == 32) }
    }

    static func entry(_ r: JSONLines.Record) throws(JSONLines.Failure) -> TranscriptEntry {
        try r.onlyKnown(fieldNames)
        let maxLength = 0xFF_FFFF
        let seq = try r.int("seq", 1...Int(Int32.max), required: true)!
        let cdb = try r.string("cdb", required: true, maxLength: 100)!
        guard isHex(cdb, spaces: true), let cdbBytes = Bytes.parseHex(cdb), (1...32).contains(cdbBytes.count) else {
            throw r.fail("field 'cdb' must be 1 to 32 hex bytes such as \"12 00 00 00 60 00\"")
        }
        let name = try r.string("name", required: true, maxLength: 200)!
        let dirText = try r.string("direction", required: true, maxLength: 10)!
        guard let direction = DataDirection(rawValue: dirText) else {
            throw r.fail("field 'direction' must be \"in\", \"out\" or \"none\", not \(JSONLines.show(.string(dirText)))")
        }
        let length = try r.int("length", 0...maxLength, required: true)!
        func sha(_ k: String) throws(JSONLines.Failure) -> String? {
            guard let s = try r.string(k, maxLength: 64) else { return nil }
            guard s.utf8.count == 64, isHex(s, spaces: false) else { throw r.fail("field '\(k)' must be 64 hex digits (a SHA-256)") }
            return s
        }
        let dataOutSHA = try sha("dataOutSHA256")
        let dataIn = try r.string("dataIn", maxLength: 2 * maxLength)
        if let d = dataIn, d.utf8.count % 2 != 0 || !isHex(d, spaces: false) {
            throw r.fail("field 'dataIn' must be hex digits, two for each byte received")
        }
        let dataInSHA = try sha("dataInSHA256")
        let received = try r.int("received", 0...length)
        if let d = dataIn, let n = received, d.utf8.count / 2 != n {
            throw r.fail("field 'dataIn' holds \(d.utf8.count / 2) bytes but 'received' says \(n)")
        }
        let statusCode = try r.int("statusCode", 0...255)
        if let c = statusCode, SCSIStatus(rawValue: UInt8(c)) == nil {
            throw r.fail("field 'statusCode' \(c) is not a SCSI status (00h GOOD, 02h CHECK CONDITION, 08h BUSY ...)")
        }
        let status = try r.string("status", required: true, maxLength: 40)!
        if let c = statusCode, let s = SCSIStatus(rawValue: UInt8(c)), s.name != status {
            throw r.fail("field 'status' \(JSONLines.show(.string(status))) does not match statusCode \(c) (\(s.name))")
        }
        let sense = try r.string("sense", maxLength: 100)
        let senseBytes = try r.string("senseBytes", maxLength: 2 * 252)
        if let s = senseBytes, s.utf8.count % 2 != 0 || !isHex(s, spaces: false) {
            throw r.fail("field 'senseBytes' must be hex digits, two for each byte")
        }
        let residue = try r.int("residue", 0...maxLength, required: true)!
        let error = try r.string("error", maxLength: 4096)
        if statusCode == nil && error == nil { throw r.fail("field 'statusCode' is missing (and no transport 'error' is recorded)") }
        let ms = try r.double("milliseconds", 0...86_400_000, required: true)!
        return TranscriptEntry(seq: seq, cdb: cdb, name: name, direction: direction, length: length, dataOutSHA256: dataOutSHA,
                               dataIn: dataIn, dataInSHA256: dataInSHA, received: received, status: status, statusCode: statusCode,
                               sense: sense, senseBytes: senseBytes, residue: residue, error: error, milliseconds: ms)
    }

    public var remaining: Int { entries.count - next }

    public func execute(_ cdb: CDB, _ transfer: DataTransfer, timeout: Double) throws -> CommandResult {
        guard next < entries.count else { throw Failure.exhausted(entries.count) }
        let e = entries[next]
        next += 1
        guard e.cdb == cdb.description else { throw Failure.mismatch(seq: e.seq, expected: e.cdb, got: cdb.description) }
        if case let .toDevice(d) = transfer, e.dataOutSHA256 != SHA256.hex(d) {
            throw Failure.mismatch(seq: e.seq, expected: "data-out sha256 \(e.dataOutSHA256 ?? "none")", got: "sha256 \(SHA256.hex(d))")
        }
        if let err = e.error { throw TransportError.protocolError("replayed transport error: \(err)") }
        guard let code = e.statusCode, let status = SCSIStatus(rawValue: UInt8(truncatingIfNeeded: code)) else {
            throw Failure.malformed(line: e.seq, "no status")
        }
        let senseBytes = e.senseBytes.flatMap { Bytes.parseHex($0) } ?? []
        let data = e.dataIn.flatMap { $0.isEmpty ? [] : Bytes.parseHex($0) } ?? []
        return CommandResult(status: status, sense: senseBytes.isEmpty ? nil : try? SenseData(bytes: senseBytes),
                             senseBytes: senseBytes, data: data, residue: e.residue)
    }

    public func close() {}
}
