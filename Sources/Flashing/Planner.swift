import SCSI

/// One action of a plan, ready to run.
public struct PlannedCommand: Equatable, Sendable {
    public enum Phase: String, Sendable, Codable { case prepare, commit, after, cleanup }
    public enum Action: Equatable, Sendable {
        case send
        case wait(Double)
        case poll(tries: Int, interval: Double, successes: Int)
        case checkInquiry(revisionPrefix: String?, bootcode: String?, revisionNotPrefix: String? = nil)
        indirect case challenge(FlashProtocol.Challenge)
        /// One command judged by sense (see FlashProtocol.SenseGate).
        case senseGate(FlashProtocol.SenseGate)
    }
    public let phase: Phase
    public let name: String
    public let action: Action
    public let cdb: CDB
    public let data: DataTransfer
    public let ignoreErrors: Bool
    /// Bytes of the image this command carries (for progress).
    public let imageBytes: Int
    public let gapMilliseconds: Int

    init(phase: Phase, name: String, action: Action = .send, cdb: CDB, data: DataTransfer = .none, ignoreErrors: Bool = false,
         imageBytes: Int = 0, gapMilliseconds: Int = 0) {
        self.phase = phase; self.name = name; self.action = action; self.cdb = cdb; self.data = data
        self.ignoreErrors = ignoreErrors; self.imageBytes = imageBytes; self.gapMilliseconds = gapMilliseconds
    }
}

/// The exact command sequence for one image: the same plan runs against a drive or the emulator.
public struct FlashPlan: Sendable {
    public let protocolName: String
    public let commands: [PlannedCommand]
    public let imageSize: Int
    public let timeout: Double
    public let readback: FlashProtocol.Readback?
    /// The bytes that are sent (the image after the protocol's transform).
    public let image: [UInt8]
    public let placement: FlashProtocol.Placement
    public let notes: [String]
    public let bootcodes: [FlashProtocol.BootcodeEntry]
    /// The protocol's advice after a successful run.
    public var nextSteps: [String] = []

    public enum Failure: Error, CustomStringConvertible, Equatable {
        case field(String)
        case range(String)
        public var description: String {
            switch self { case let .field(m), let .range(m): return "cannot build the flash plan: \(m)" }
        }
    }

    /// The bytes of the image that end up in flash, and where (for comparing the flash with the image).
    public var placedImage: (bytes: ArraySlice<UInt8>, at: Int) {
        let from = min(placement.imageFrom, image.count), to = min(placement.imageTo ?? image.count, image.count)
        return (image[from..<max(from, to)], placement.flashAt)
    }

    /// Whether a flash (an emulated drive's memory, a dump) holds the sent image where the protocol places it.
    public func isPlaced(in flash: [UInt8]) -> Bool {
        let (bytes, at) = placedImage
        return at + bytes.count <= flash.count && flash[at..<(at + bytes.count)].elementsEqual(bytes)
    }

    /// Applies the protocol's transform to an image.
    public static func prepare(_ p: FlashProtocol, image: [UInt8], probe: ProbeData) throws(Failure) -> [UInt8] {
        guard let t = p.transform else { return image }
        var out = image
        if let size = t.size {
            guard size > 0, size <= 0x4000000 else { throw .range("transform size \(size)") }
            out = [UInt8](repeating: t.fill, count: size)
            for c in t.copies {
                guard c.from >= 0, c.length >= 0, c.from + c.length <= image.count, c.to >= 0, c.to + c.length <= size else {
                    throw .range("transform copies image [\(c.from), +\(c.length)) to \(c.to): outside a \(image.count)-byte image or the \(size)-byte buffer")
                }
                out.replaceSubrange(c.to..<(c.to + c.length), with: image[c.from..<(c.from + c.length)])
            }
        }
        for f in t.fills {
            guard f.from >= 0, f.from <= f.to, f.to <= out.count else { throw .range("transform fills [\(f.from), \(f.to)) of a \(out.count)-byte image") }
            for i in f.from..<f.to { out[i] = f.byte }
        }
        for tp in t.transplants {
            guard let b = probe.blocks[tp.block] else { throw .field("the drive's '\(tp.block)' block was not read") }
            guard tp.to >= 0, tp.to + b.count <= out.count else { throw .range("the drive's '\(tp.block)' block does not fit at \(tp.to)") }
            out.replaceSubrange(tp.to..<(tp.to + b.count), with: b)
        }
        return out
    }

    /// Named values for the CDB templates: the image's, then the probes'.
    static func values(_ p: FlashProtocol, image: [UInt8], probe: ProbeData) throws(Failure) -> [String: Int] {
        var v: [String: Int] = [:]
        for (name, src) in p.values {
            switch src {
            case let .imageBE(offset, width):
                let o = offset < 0 ? image.count + offset : offset
                guard o >= 0, o + width <= image.count, (1...4).contains(width) else { throw .range("value \(name) at \(offset) outside a \(image.count)-byte image") }
                v[name] = image[o..<(o + width)].reduce(0) { $0 << 8 | Int($1) }
            case let .byteSum16(from, to):
                let end = min(to ?? image.count, image.count)
                guard from >= 0, from <= end else { throw .range("value \(name): sum over [\(from), \(end))") }
                var s = 0
                for i in from..<end { s &+= Int(image[i]) }
                v[name] = s & 0xFFFF
            }
        }
        for (k, x) in probe.variables { v[k] = x }
        return v
    }

    public static func build(_ p: FlashProtocol, image original: [UInt8], probe: ProbeData = ProbeData(), bootcode: String? = nil) throws(Failure) -> FlashPlan {
        let image = try prepare(p, image: original, probe: probe)
        let vars = try values(p, image: image, probe: probe)
        var placement = p.placement
        if let v = placement.flashAtValue {
            guard let at = vars[v], at >= 0, at <= 0x7FFF_FFFF else { throw .field("placement: no usable value \(v)") }
            placement.flashAt = at
            placement.flashAtValue = nil
        }
        var b = Builder(image: image, vars: vars, bootcode: bootcode)
        for (phase, steps) in [(PlannedCommand.Phase.prepare, p.prepare), (.commit, p.commit), (.after, p.after), (.cleanup, p.cleanup)] {
            b.phase = phase
            for s in try resolve(steps, p, probe) { try b.expand(s) }
        }
        var plan = FlashPlan(protocolName: p.name, commands: b.commands, imageSize: b.commands.reduce(0) { $0 + $1.imageBytes }, timeout: p.timeout,
                             readback: p.readback, image: image, placement: placement, notes: b.notes, bootcodes: p.bootcodes)
        plan.nextSteps = p.nextSteps
        return plan
    }

    /// Conditional steps resolved against the drive's answers: a condition whose probe got no answer is false.
    static func resolve(_ steps: [FlashProtocol.Step], _ p: FlashProtocol, _ probe: ProbeData) throws(Failure) -> [FlashProtocol.Step] {
        var out: [FlashProtocol.Step] = []
        for s in steps {
            guard case let .when(c, inner) = s else { out.append(s); continue }
            guard let pr = p.probes.first(where: { $0.name == c.probe }) else { throw .field("condition names no probe '\(c.probe)'") }
            if let ans = ProbeRunner.answer(pr, probe), c.expect.problem(ans) == nil { out += try resolve(inner, p, probe) }
        }
        return out
    }

    /// Expands steps into planned commands: one expander per step kind, each appending to `commands` in the current
    /// phase.
    struct Builder {
        static let testUnitReady = try! CDB(raw: [0, 0, 0, 0, 0, 0])
        static let inquiry = try! CDB(raw: [0x12, 0, 0, 0, 0x60, 0])

        /// The prepared image and the named values its CDB templates take.
        let image: [UInt8]
        let vars: [String: Int]
        let bootcode: String?
        var phase = PlannedCommand.Phase.prepare
        var commands: [PlannedCommand] = []
        var notes: [String] = []

        init(image: [UInt8], vars: [String: Int], bootcode: String?) { self.image = image; self.vars = vars; self.bootcode = bootcode }

        func cdb(_ t: CDBTemplate, _ extra: [String: Int]) throws(Failure) -> CDB {
            do { return try t.cdb(vars.merging(extra) { $1 }) } catch { throw .field("\(t): \(error)") }
        }

        mutating func emit(_ name: String, action: PlannedCommand.Action = .send, cdb: CDB, data: DataTransfer = .none, ignoreErrors: Bool = false,
                           imageBytes: Int = 0, gapMilliseconds: Int = 0) {
            commands.append(.init(phase: phase, name: name, action: action, cdb: cdb, data: data, ignoreErrors: ignoreErrors,
                                  imageBytes: imageBytes, gapMilliseconds: gapMilliseconds))
        }

        mutating func expand(_ s: FlashProtocol.Step) throws(Failure) {
            switch s {
            case let .command(name, t, data, ignore): try command(name, t, data, ignoreErrors: ignore)
            case let .chunks(c): try chunks(c)
            case let .blocks(bl): try blocks(bl)
            case let .sweep(name, t, from, to, step): try sweep(name, t, from: from, to: to, step: step)
            case let .pollReady(tries, interval, successes):
                emit("wait for ready", action: .poll(tries: tries, interval: interval, successes: successes), cdb: Self.testUnitReady)
            case let .wait(seconds):
                emit("wait \(seconds) s", action: .wait(seconds), cdb: Self.testUnitReady)
            case let .challenge(ch):
                // The reset's CDB stands for the step in the plan; the executor sends the whole exchange.
                emit(ch.name, action: .challenge(ch), cdb: try cdb(ch.reset, [:]))
            case let .checkInquiry(name, prefix, wantBoot, notPrefix):
                checkInquiry(name, revisionPrefix: prefix, bootcode: wantBoot, revisionNotPrefix: notPrefix)
            case let .senseGate(g):
                emit(g.name, action: .senseGate(g), cdb: try cdb(g.cdb, ["length": g.length]), data: g.length > 0 ? .fromDevice(g.length) : .none)
            case .when:
                break   // resolved before expansion
            }
        }

        /// One command, with its data-out.
        mutating func command(_ name: String, _ t: CDBTemplate, _ data: FlashProtocol.DataSource?, ignoreErrors: Bool) throws(Failure) {
            var transfer = DataTransfer.none
            var carried = 0
            switch data {
            case let .image(r)?:
                guard r.upperBound < image.count else { throw .range("\(name) wants image bytes \(r) of a \(image.count)-byte image") }
                transfer = .toDevice(Array(image[r])); carried = r.count
            case let .bytes(b)?:
                transfer = .toDevice(b)
            case let .block(size, puts)?:
                transfer = .toDevice(try block(name, size: size, puts: puts))
            case nil:
                break
            }
            emit(name, cdb: try cdb(t, ["length": transfer.length]), data: transfer, ignoreErrors: ignoreErrors, imageBytes: carried)
        }

        /// A data block: `size` zero bytes with constants and named values put in.
        func block(_ name: String, size: Int, puts: [FlashProtocol.Put]) throws(Failure) -> [UInt8] {
            var b = [UInt8](repeating: 0, count: size)
            for put in puts {
                if let c = put.bytes {
                    guard put.at >= 0, put.at + c.count <= size else { throw .range("\(name): \(c.count) bytes do not fit at \(put.at)") }
                    b.replaceSubrange(put.at..<(put.at + c.count), with: c)
                    continue
                }
                guard let x = vars[put.value] else { throw .field("\(name): no value named \(put.value)") }
                guard put.at >= 0, put.at + put.width <= size, x >= 0, x < 1 << (8 * put.width) else { throw .range("\(name): \(put.value) does not fit at \(put.at)") }
                b.replaceSubrange(put.at..<(put.at + put.width), with: Bytes.encodeBE(UInt64(x), count: put.width))
            }
            return b
        }

        /// The image bytes [start, end) in chunks; the first and last chunk may take their own CDB.
        mutating func chunks(_ c: FlashProtocol.Chunks) throws(Failure) {
            let end = min(c.end ?? image.count, image.count)
            guard c.chunkSize > 0, c.start >= 0, c.start < end else { throw .range("\(c.name): chunk size \(c.chunkSize), bytes [\(c.start), \(end)) of a \(image.count)-byte image") }
            if let m = c.maxChunks, (end - c.start + c.chunkSize - 1) / c.chunkSize > m {
                throw .range("\(c.name): \(end - c.start) bytes need more than \(m) command\(m == 1 ? "" : "s") of at most \(c.chunkSize) bytes")
            }
            var off = c.start
            var n = 0
            while off < end {
                let len = min(c.chunkSize, end - off)
                let isFirst = off == c.start, isLast = off + len >= end
                let tpl = isLast ? (c.last ?? (isFirst ? c.first ?? c.cdb : c.cdb)) : (isFirst ? c.first ?? c.cdb : c.cdb)
                let values = ["offset": off - c.start + c.bias, "length": len, "state": isFirst ? 0 : (isLast ? 1 : 0xFF),
                              "chunksum": c.cdb.fieldNames.contains("chunksum") ? Bytes.wordSum16(image[off..<(off + len)]) : 0]
                if let b = c.before {
                    emit("\(c.name) (ready check)", cdb: try cdb(b, values), ignoreErrors: true)
                }
                var data = Array(image[off..<(off + len)])
                if c.padBytes > 0 { data += [UInt8](repeating: 0, count: c.padBytes) }
                emit("\(c.name) \(n)", cdb: try cdb(tpl, values), data: .toDevice(data), imageBytes: len, gapMilliseconds: c.gapMilliseconds)
                off += len
                n += 1
            }
        }

        /// Block by block: each block's bytes in chunks (with {chunksum}), then `afterEach` with the block's {address}.
        mutating func blocks(_ bl: FlashProtocol.Blocks) throws(Failure) {
            let c = bl.chunks
            let end = min(c.end ?? image.count, image.count)
            guard bl.blockSize > 0, c.chunkSize > 0, c.start >= 0, c.start < end else { throw .range("\(c.name): block size \(bl.blockSize), bytes [\(c.start), \(end))") }
            var block = c.start
            var n = 0
            while block < end {
                let blockEnd = min(block + bl.blockSize, end)
                var off = block
                while off < blockEnd {
                    let len = min(c.chunkSize, blockEnd - off)
                    let data = Array(image[off..<(off + len)])
                    let values = ["offset": off - c.start + c.bias, "length": len, "chunksum": Bytes.wordSum16(data)]
                    emit("\(c.name) \(n)", cdb: try cdb(c.cdb, values), data: .toDevice(data), imageBytes: len)
                    off += len
                    n += 1
                }
                let address = block - c.start + c.bias
                emit("\(bl.afterName) \(Hex.offset(address))", cdb: try cdb(bl.afterEach, ["address": address]))
                block = blockEnd
            }
        }

        /// One command per address in [from, to), `step` apart.
        mutating func sweep(_ name: String, _ t: CDBTemplate, from: Int, to: Int, step: Int) throws(Failure) {
            guard step > 0, from <= to else { throw .range("\(name): [\(from), \(to)) step \(step)") }
            var a = from
            while a < to {
                // {bit} is 1 << address: Binflash's single-block erase and program name the block as one bit of a
                // 56-bit mask in CDB bytes 2-8.
                var values = ["address": a]
                if a >= 0 && a < 63 { values["bit"] = 1 << a }
                emit("\(name) \(a < 0x100 ? String(a) : Hex.offset(a))", cdb: try cdb(t, values))
                a += step
            }
        }

        /// An INQUIRY check; the boot code compared is the image's (a note says when the image names none).
        mutating func checkInquiry(_ name: String, revisionPrefix: String?, bootcode wantBoot: Bool, revisionNotPrefix: String?) {
            if wantBoot && bootcode == nil { notes.append("the image names no boot code, so the drive's boot code is not compared") }
            emit(name, action: .checkInquiry(revisionPrefix: revisionPrefix, bootcode: wantBoot ? bootcode : nil, revisionNotPrefix: revisionNotPrefix),
                 cdb: Self.inquiry)
        }
    }
}
