import Firmware
import SCSI

/// How a family's firmware is read out, as firmware-db describes it: identification reads, mode changes, the
/// reads themselves (in chunks over an address range), and a trailer that makes the file the family's image format.
public struct DumpProtocol: Equatable, Sendable {
    public enum TrailerItem: Equatable, Sendable {
        /// 16-bit sum of the big-endian words read, stored big-endian.
        case wordSum16
        /// A probe variable's bytes (e.g. the 4-character drive ID).
        case variable(String, length: Int)
        /// The drive's boot code (from its safe-mode INQUIRY), when known; nothing otherwise.
        case bootcode
    }

    public var provenance: String
    public var probes: [FlashProtocol.Probe] = []
    /// Probe variables that must not be zero, with the reason (e.g. a dump ID of 0 selects a read path not described).
    public var nonZero: [String: String] = [:]
    public var prepare: [FlashProtocol.Step] = []
    /// `cdb` with {address} and {length}; addresses [from, to) in steps of `chunk`.
    public var read: CDBTemplate
    public var from: Int
    public var to: Int
    public var chunk: Int
    /// Some drives answer in multiples of 4 bytes (NEC ReadRAM).
    public var roundTo: Int = 1
    public var trailer: [TrailerItem] = []
    /// Always run at the end (e.g. leave safe mode).
    public var cleanup: [FlashProtocol.Step] = []
    public var bootcodes: [FlashProtocol.BootcodeEntry] = []
    /// The image layout the result has.
    public var layout: String?
    /// A failed read is read again in pieces of this size (freemkv: 4 KiB reads, 512-byte re-reads); what still fails
    /// is filled with `fill` and listed as a gap. nil: a failed read stops the dump.
    public var retryChunk: Int?
    /// After this many consecutive chunks that could not be read at all, failed chunks are no longer split.
    public var maxDeadChunks = 8
    public var fill: UInt8 = 0xFF
    /// What the read is and is not (said with every dump of the family).
    public var notice: String?
    public var timeout: Double = 300

    public init(provenance: String, read: CDBTemplate, from: Int, to: Int, chunk: Int) {
        self.provenance = provenance; self.read = read; self.from = from; self.to = to; self.chunk = chunk
    }
}

/// Reads a drive's firmware with a DumpProtocol. Only reads and mode changes are sent; the mode is always restored.
public struct Dumper {
    /// The family's read-out sequence for this drive: each variant's identification reads are run in order until one
    /// finds a drive ID it is for (known, of one of its classes). Nothing but identification is sent. Throws the
    /// reason the drive fits none (the first variant's), or a failed read.
    public static func select(_ variants: [DumpProtocol], on t: any SCSITransport, idTables: [String: IDTable]) throws(Failure) -> (DumpProtocol, ProbeData) {
        var firstProblem: String?
        var knownProblem = false
        for v in variants {
            let probe: ProbeData
            do { probe = try ProbeRunner.run(v.probes, on: t) } catch { throw Failure(description: error.description) }
            let problems = ProbeRunner.driveIDProblems(v.probes, probe: probe, idTables: idTables)
            if problems.isEmpty { return (v, probe) }
            // Say why in the words of the read that found a known ID (the drive's class), not of one that found none.
            let known = ProbeRunner.flashClass(v.probes, probe: probe, idTables: idTables) != nil
            if firstProblem == nil || (known && !knownProblem) { firstProblem = problems.joined(separator: "; "); knownProblem = known }
        }
        throw Failure(description: firstProblem ?? "the family has no read-out sequence", refused: true)
    }

    public let transport: any SCSITransport
    public var progress: (Int, Int) -> Void = { _, _ in }
    /// Stops between commands when a signal was received (see FlashSignals; the caller installs the handlers); the
    /// cleanup still runs.
    public var interruptible = false
    public init(transport: any SCSITransport) { self.transport = transport }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        /// What the cleanup reported, if it did not succeed.
        public var cleanupNotes: [String] = []
        /// True when the drive was refused (not identified as one a sequence is for), not when a command failed.
        public var refused = false
        /// The signal that stopped the read.
        public var interrupted: Int32?
        /// The prepare command that changed the drive's mode before the read stopped (e.g. "enter safe mode").
        public var modeChangedBy: String?
        /// The cleanup commands sent (e.g. "leave safe mode").
        public var cleanupSent: [String] = []

        /// The drive's state after the stop, in words.
        public var driveState: String {
            guard let m = modeChangedBy else { return "unchanged" }
            if cleanupSent.isEmpty { return "it may still be in a vendor mode: it took '\(m)' and the read sequence has nothing that undoes it" }
            let undo = cleanupSent.map { "'\($0)'" }.joined(separator: ", ")
            if cleanupNotes.isEmpty { return "it was in a vendor mode ('\(m)') for the read; the cleanup (\(undo)) was sent and accepted" }
            return "it may still be in a vendor mode ('\(m)'): the cleanup (\(undo)) failed: \(cleanupNotes.joined(separator: "; ")); power-cycle it"
        }
    }

    public struct Result: Sendable {
        public var bytes: [UInt8]
        /// The flash contents read (without the trailer) and the address they start at.
        public var data: ArraySlice<UInt8> { bytes[0..<dataLength] }
        public var dataLength: Int
        public var from: Int
        public var commandsSent: Int
        public var notes: [String]
        public var probe: ProbeData
        /// Flash ranges that could not be read (filled with the protocol's fill byte).
        public var gaps: [Range<Int>] = []
    }

    func values(_ probe: ProbeData, _ extra: [String: Int]) -> [String: Int] { probe.variables.merging(extra) { $1 } }

    public func run(_ d: DumpProtocol, probe given: ProbeData? = nil) throws(Failure) -> Result {
        var probe: ProbeData
        if let g = given { probe = g } else {
            do { probe = try ProbeRunner.run(d.probes, on: transport) } catch { throw Failure(description: error.description) }
        }
        for (v, why) in d.nonZero.sorted(by: { $0.key < $1.key }) where probe.variables[v] == 0 {
            throw Failure(description: "\(v) is 0: \(why)")
        }
        var sent = 0
        var notes: [String] = []
        var modeChangedBy: String?
        var cleanupSent: [String] = []
        /// Sends one step; a prepare step the drive did not refuse has changed its mode.
        func step(_ s: FlashProtocol.Step, prepare: Bool = false) throws(Failure) {
            guard case let .command(name, t, _, ignore) = s else { return }
            let cdb: CDB
            do { cdb = try t.cdb(values(probe, ["length": 0])) } catch { throw Failure(description: "\(name): \(error)") }
            sent += 1
            do {
                let r: CommandResult
                // A unit attention means it was not executed: it is sent once more.
                do { r = try transport.execute(cdb, .none, timeout: 20, unitAttentionResends: 1) } catch {
                    if prepare && modeChangedBy == nil { modeChangedBy = name }   // no answer: it may have been executed
                    throw error
                }
                if prepare && modeChangedBy == nil && r.status != .checkCondition { modeChangedBy = name }
                if !r.isGood && !ignore { throw Failure(description: "\(name) [\(cdb)] failed: \(r.sense?.description ?? r.status.name)") }
            } catch let f as Failure { throw f } catch { throw Failure(description: "\(name) [\(cdb)] failed: \(error)") }
        }
        func cleanup() -> [String] {
            var out: [String] = []
            for s in d.cleanup {
                if case let .command(name, _, _, _) = s { cleanupSent.append(name) }
                do { try step(s) } catch { out.append(error.description) }
            }
            return out
        }
        /// A failure with what the cleanup did and the drive's mode.
        func stopped(_ e: Failure) -> Failure {
            var f = e
            f.cleanupNotes = cleanup()
            f.modeChangedBy = modeChangedBy
            f.cleanupSent = cleanupSent
            return f
        }
        func checkSignals() throws(Failure) {
            if interruptible, let s = FlashSignals.pending {
                throw Failure(description: "interrupted (\(FlashSignals.name(s)))", interrupted: s)
            }
        }
        var data: [UInt8] = []
        var gaps: [Range<Int>] = []
        var dead = 0
        var boot: String?
        do throws(Failure) {
            try checkSignals()
            for s in d.prepare { try step(s, prepare: true) }
            data.reserveCapacity(d.to - d.from)
            var a = d.from
            while a < d.to {
                try checkSignals()
                let n = min(d.chunk, d.to - a)
                let alloc = (n + d.roundTo - 1) / d.roundTo * d.roundTo
                let cdb: CDB
                do { cdb = try d.read.cdb(values(probe, ["address": a, "length": n])) } catch { throw Failure(description: "read: \(error)") }
                sent += 1
                let r: CommandResult
                if let piece = d.retryChunk, piece > 0 {
                    // Tolerant: a refused or short read is read again in pieces; what still fails becomes a gap.
                    if let got = try? transport.query(cdb, .fromDevice(alloc), timeout: d.timeout), got.data.count >= n {
                        data += got.data.prefix(n)
                        dead = 0
                    } else {
                        var readAny = false
                        var p = a
                        while p < a + n {
                            let m = min(piece, a + n - p)
                            if dead < d.maxDeadChunks, let pc = try? d.read.cdb(values(probe, ["address": p, "length": m])) {
                                sent += 1
                                if let got = try? transport.query(pc, .fromDevice(m), timeout: d.timeout), got.data.count >= m {
                                    data += got.data.prefix(m); readAny = true; p += m; continue
                                }
                            }
                            data += [UInt8](repeating: d.fill, count: m)
                            if let last = gaps.last, last.upperBound == p { gaps[gaps.count - 1] = last.lowerBound..<(p + m) } else { gaps.append(p..<(p + m)) }
                            p += m
                        }
                        dead = readAny ? 0 : dead + 1
                    }
                    a += n
                    progress(a - d.from, d.to - d.from)
                    continue
                }
                do { r = try transport.query(cdb, .fromDevice(alloc), timeout: d.timeout) } catch { throw Failure(description: "read at \(Hex.offset(a)) [\(cdb)] failed: \(error)") }
                guard r.data.count >= n else { throw Failure(description: "read at \(Hex.offset(a)) returned \(r.data.count) of \(n) bytes") }
                data += r.data.prefix(n)
                a += n
                progress(a - d.from, d.to - d.from)
            }
            if d.trailer.contains(.bootcode) {
                sent += 1
                if let r = try? transport.query(.inquiry(allocation: 96), .fromDevice(96), timeout: 20) {
                    boot = FlashProtocol.BootcodeEntry.bootcode(inquiry: r.data, table: d.bootcodes)
                }
                if boot == nil { notes.append("the drive's boot code is not known, so the dump carries none (the shorter file size)") }
            }
        } catch {
            throw stopped(error)
        }
        let left = cleanup()
        if !left.isEmpty {
            throw Failure(description: "the firmware was read, but restoring the drive failed: \(left.joined(separator: "; ")); power-cycle the drive", cleanupNotes: left,
                          modeChangedBy: modeChangedBy, cleanupSent: cleanupSent)
        }
        var out = data
        for t in d.trailer {
            switch t {
            case .wordSum16:
                let s = Bytes.wordSum16(data)
                out += [UInt8(s >> 8), UInt8(s & 0xFF)]
            case let .variable(v, length):
                let x = probe.variables[v] ?? 0
                out += (0..<length).reversed().map { UInt8((x >> (8 * $0)) & 0xFF) }
            case .bootcode:
                if let b = boot { out += Array(b.utf8.prefix(2)) }
            }
        }
        var result = Result(bytes: out, dataLength: data.count, from: d.from, commandsSent: sent, notes: notes, probe: probe)
        result.gaps = gaps
        if !gaps.isEmpty {
            result.notes.append("\(gaps.count) range(s) could not be read and are filled with \(Hex.byte(d.fill))h: " +
                                gaps.prefix(8).map { "[\(Hex.offset($0.lowerBound)), \(Hex.offset($0.upperBound)))" }.joined(separator: ", ") + (gaps.count > 8 ? ", …" : ""))
        }
        return result
    }
}
