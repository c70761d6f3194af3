import Foundation
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
        case mismatch(seq: Int, expected: String, got: String)
        case exhausted(Int)
        public var description: String {
            switch self {
            case let .malformed(l, why): return "transcript line \(l) is not a valid entry: \(why)"
            case let .mismatch(s, e, g): return "replay diverged at command \(s): the transcript has \(e), the program sent \(g)"
            case let .exhausted(n): return "replay ran past the end of the transcript (\(n) commands recorded)"
            }
        }
    }

    public init(jsonLines: String, deviceName: String) throws {
        self.deviceName = deviceName
        let dec = JSONDecoder()
        var out: [TranscriptEntry] = []
        for (i, line) in jsonLines.split(separator: "\n").enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            do { out.append(try dec.decode(TranscriptEntry.self, from: Data(line.utf8))) }
            catch { throw Failure.malformed(line: i + 1, "\(error)") }
        }
        entries = out
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
