import SCSI

/// A family's flash protocol, as firmware-db describes it: steps in phases, CDBs as templates.
public struct FlashProtocol: Equatable, Sendable {
    public enum Step: Equatable, Sendable {
        /// One command, optionally with the image bytes [from, from+length) as data-out.
        case command(name: String, cdb: CDBTemplate, data: ClosedRange<Int>?, ignoreErrors: Bool)
        /// The image in chunks: `cdb` for each, `first`/`last` where the first or last differs; `before` ahead of each.
        case chunks(name: String, cdb: CDBTemplate, first: CDBTemplate?, last: CDBTemplate?, before: CDBTemplate?,
                    chunkSize: Int, start: Int, gapMilliseconds: Int)
        /// TEST UNIT READY until `successes` in a row, at most `tries` times, `interval` seconds apart.
        case pollReady(tries: Int, interval: Double, successes: Int)
    }

    public var name: String
    public var provenance: String
    /// Commands that only prepare: a failure leaves the drive unchanged.
    public var prepare: [Step]
    /// Commands that change the drive: a failure leaves it in an unknown state.
    public var commit: [Step]
    /// After a successful commit (waiting for the drive to come back).
    public var after: [Step]
    /// Always run, whatever happened (e.g. leave safe mode).
    public var cleanup: [Step]
    public var timeout: Double
    /// Parameters the sources disagree about, said aloud before flashing.
    public var disputed: String?
    /// Which emulator behaviour plays the drive side in a dry run (spc, plextor).
    public var emulator: String?
    /// How to read the firmware back for verification (where a public read path exists).
    public var readback: Readback?

    public struct Readback: Equatable, Sendable {
        public var cdb: CDBTemplate
        public var chunkSize: Int
        public init(cdb: CDBTemplate, chunkSize: Int) { self.cdb = cdb; self.chunkSize = chunkSize }
    }

    public init(name: String, provenance: String, prepare: [Step] = [], commit: [Step], after: [Step] = [], cleanup: [Step] = [],
                timeout: Double = 300, disputed: String? = nil) {
        self.name = name; self.provenance = provenance; self.prepare = prepare; self.commit = commit
        self.after = after; self.cleanup = cleanup; self.timeout = timeout; self.disputed = disputed
    }
}

/// One command of a plan, ready to send.
public struct PlannedCommand: Equatable, Sendable {
    public enum Phase: String, Sendable, Codable { case prepare, commit, after, cleanup }
    public let phase: Phase
    public let name: String
    public let cdb: CDB
    public let data: DataTransfer
    public let ignoreErrors: Bool
    /// Bytes of the image this command carries (for progress).
    public let imageBytes: Int
    public let gapMilliseconds: Int
}

/// The exact command sequence for one image: the same plan runs against a drive or the emulator.
public struct FlashPlan: Sendable {
    public let protocolName: String
    public let commands: [PlannedCommand]
    public let polls: [PlannedCommand.Phase: FlashProtocol.Step]
    public let imageSize: Int
    public let timeout: Double
    public let readback: FlashProtocol.Readback?
    public let image: [UInt8]

    public enum Failure: Error, CustomStringConvertible, Equatable {
        case field(String)
        case range(String)
        public var description: String {
            switch self {
            case let .field(m): return "cannot build the flash plan: \(m)"
            case let .range(m): return "cannot build the flash plan: \(m)"
            }
        }
    }

    public static func build(_ p: FlashProtocol, image: [UInt8]) throws(Failure) -> FlashPlan {
        var cmds: [PlannedCommand] = []
        var polls: [PlannedCommand.Phase: FlashProtocol.Step] = [:]
        func make(_ t: CDBTemplate, _ v: [String: Int]) throws(Failure) -> CDB {
            do { return try t.cdb(v) } catch { throw .field("\(t): \(error)") }
        }
        for (phase, steps) in [(PlannedCommand.Phase.prepare, p.prepare), (.commit, p.commit), (.after, p.after), (.cleanup, p.cleanup)] {
            for s in steps {
                switch s {
                case let .command(name, t, data, ignore):
                    var transfer = DataTransfer.none
                    if let r = data {
                        guard r.upperBound < image.count else { throw .range("\(name) wants image bytes \(r) of a \(image.count)-byte image") }
                        transfer = .toDevice(Array(image[r]))
                    }
                    cmds.append(.init(phase: phase, name: name, cdb: try make(t, ["length": transfer.length]), data: transfer,
                                      ignoreErrors: ignore, imageBytes: transfer.length, gapMilliseconds: 0))
                case let .chunks(name, t, first, last, before, size, start, gap):
                    guard size > 0, start >= 0, start < image.count else { throw .range("\(name): chunk size \(size), start \(start)") }
                    var off = start
                    var n = 0
                    while off < image.count {
                        let len = min(size, image.count - off)
                        let isFirst = off == start, isLast = off + len >= image.count
                        let tpl = isLast ? (last ?? (isFirst ? first ?? t : t)) : (isFirst ? first ?? t : t)
                        let values = ["offset": off - start, "length": len, "state": isFirst ? 0 : (isLast ? 1 : 0xFF)]
                        if let b = before {
                            cmds.append(.init(phase: phase, name: "\(name) (ready check)", cdb: try make(b, values), data: .none,
                                              ignoreErrors: true, imageBytes: 0, gapMilliseconds: 0))
                        }
                        cmds.append(.init(phase: phase, name: "\(name) \(n)", cdb: try make(tpl, values), data: .toDevice(Array(image[off..<(off + len)])),
                                          ignoreErrors: false, imageBytes: len, gapMilliseconds: gap))
                        off += len
                        n += 1
                    }
                case .pollReady:
                    polls[phase] = s
                }
            }
        }
        return FlashPlan(protocolName: p.name, commands: cmds, polls: polls, imageSize: image.count, timeout: p.timeout,
                         readback: p.readback, image: image)
    }
}
