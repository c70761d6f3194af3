import SCSI

/// A family's flash protocol, as firmware-db describes it: identification reads, image preparation, and steps in
/// phases, with every CDB written as a template. Nothing here knows a vendor: the vendor is in the data.
public struct FlashProtocol: Equatable, Sendable {
    /// Where a command's data-out comes from.
    public enum DataSource: Equatable, Sendable {
        /// Bytes [lower, upper] of the (prepared) image.
        case image(ClosedRange<Int>)
        /// Literal bytes.
        case bytes([UInt8])
        /// `size` zero bytes with named plan values stored big-endian at fixed offsets.
        case block(size: Int, puts: [Put])
    }

    /// One item of a data block: a named plan value, `width` bytes big-endian, or constant bytes (text, a key).
    public struct Put: Equatable, Sendable {
        public var at: Int, width: Int, value: String
        public var bytes: [UInt8]?
        public init(at: Int, width: Int, value: String) { self.at = at; self.width = width; self.value = value }
        public init(at: Int, bytes: [UInt8]) { self.at = at; self.width = bytes.count; self.value = ""; self.bytes = bytes }
    }

    public struct Chunks: Equatable, Sendable {
        public var name: String
        public var cdb: CDBTemplate
        public var first: CDBTemplate?
        public var last: CDBTemplate?
        /// A command sent ahead of every chunk (errors ignored), e.g. TEST UNIT READY.
        public var before: CDBTemplate?
        public var chunkSize: Int
        /// The image bytes [start, end) are sent; `end` nil means to the end of the image.
        public var start: Int
        public var end: Int?
        /// Added to the offset within [start, end) to make the `offset` field (a buffer or RAM address).
        public var bias: Int
        public var gapMilliseconds: Int
        /// Zero bytes sent after each chunk's image bytes (Binflash's WriteRAMOpti: 4 per 4 KiB).
        public var padBytes = 0
        /// At most this many chunks (e.g. 1 for SPC mode 05h, which carries the whole image in one command).
        public var maxChunks: Int?
        public init(name: String, cdb: CDBTemplate, first: CDBTemplate? = nil, last: CDBTemplate? = nil, before: CDBTemplate? = nil,
                    chunkSize: Int, start: Int = 0, end: Int? = nil, bias: Int = 0, gapMilliseconds: Int = 0) {
            self.name = name; self.cdb = cdb; self.first = first; self.last = last; self.before = before; self.chunkSize = chunkSize
            self.start = start; self.end = end; self.bias = bias; self.gapMilliseconds = gapMilliseconds
        }
    }

    public struct Blocks: Equatable, Sendable {
        public var chunks: Chunks
        public var blockSize: Int
        public var afterEach: CDBTemplate
        public var afterName: String
        public init(chunks: Chunks, blockSize: Int, afterEach: CDBTemplate, afterName: String) {
            self.chunks = chunks; self.blockSize = blockSize; self.afterEach = afterEach; self.afterName = afterName
        }
    }

    /// A challenge the drive sets and the host must answer before it accepts the sequence (DVRFlash's DVR-103/104
    /// anti-downgrade unlock): reset, read the challenge, find the generator seed that produces its first bytes, send
    /// the answer. The generator is a linear congruential one described by data.
    public struct Challenge: Equatable, Sendable {
        public var name: String
        /// Sent first; when the drive refuses it, it has no such protection and the rest is skipped.
        public var reset: CDBTemplate
        public var read: CDBTemplate
        public var readLength: Int
        /// seed' = seed * multiplier + increment (mod 2^32); each draw yields (seed' >> outputShift) & FFh.
        public var multiplier: UInt32, increment: UInt32, outputShift: Int
        /// Seeds tried: 0 ..< 2^seedBits; a seed matches when its first `match` draws equal the challenge's first bytes.
        public var seedBits: Int, match: Int
        /// The answer is draw number `answerDraw` (counting from 1) of the matching seed, XORed with `xor`.
        public var answerDraw: Int, xor: UInt8
        /// A command that carries `length` bytes, all equal to the answer.
        public struct Response: Equatable, Sendable {
            public var cdb: CDBTemplate
            public var length: Int
            public init(cdb: CDBTemplate, length: Int) { self.cdb = cdb; self.length = length }
        }
        public var responses: [Response]
        public init(name: String, reset: CDBTemplate, read: CDBTemplate, readLength: Int, multiplier: UInt32, increment: UInt32, outputShift: Int,
                    seedBits: Int, match: Int, answerDraw: Int, xor: UInt8, responses: [Response]) {
            self.name = name; self.reset = reset; self.read = read; self.readLength = readLength; self.multiplier = multiplier
            self.increment = increment; self.outputShift = outputShift; self.seedBits = seedBits; self.match = match
            self.answerDraw = answerDraw; self.xor = xor; self.responses = responses
        }
        func draw(_ seed: inout UInt32) -> UInt8 {
            seed = seed &* multiplier &+ increment
            return UInt8(truncatingIfNeeded: seed >> UInt32(outputShift))
        }

        /// The answer byte for a challenge, or nil when no seed produces its first bytes.
        public func answer(to challenge: [UInt8]) -> UInt8? {
            guard challenge.count >= match, seedBits >= 1, seedBits <= 24, answerDraw >= 1 else { return nil }
            for s in 0..<(UInt32(1) << UInt32(seedBits)) {
                var seed = s
                var ok = true
                for i in 0..<match where draw(&seed) != challenge[i] { ok = false; break }
                guard ok else { continue }
                seed = s
                var v: UInt8 = 0
                for _ in 0..<answerDraw { v = draw(&seed) }
                return v ^ xor
            }
            return nil
        }

        /// The challenge a drive with this seed would set: the first `count` draws (tests compare it with the emulator's
        /// own generator).
        public func challenge(seed s: UInt32, count: Int) -> [UInt8] {
            var seed = s
            return (0..<count).map { _ in draw(&seed) }
        }
    }

    public enum Step: Equatable, Sendable {
        /// One command, optionally with data-out.
        case command(name: String, cdb: CDBTemplate, data: DataSource?, ignoreErrors: Bool)
        /// The image in chunks.
        case chunks(Chunks)
        /// One command per address: `address` runs from `from` while < `to`, in steps of `step` (e.g. erase block by block).
        case sweep(name: String, cdb: CDBTemplate, from: Int, to: Int, step: Int)
        /// Block by block: the block's bytes in chunks (`chunks.cdb`, with {chunksum}), then `afterEach` with the
        /// block's {address} (e.g. NEC class 4: two RAM writes, then program that flash block).
        indirect case blocks(Blocks)
        /// TEST UNIT READY until `successes` in a row, at most `tries` times, `interval` seconds apart.
        case pollReady(tries: Int, interval: Double, successes: Int)
        /// Leave the drive alone for a while (the source's sleep).
        case wait(seconds: Double)
        /// INQUIRY: the revision must start with `revisionPrefix` (e.g. the drive really is in safe mode); with
        /// `bootcode`, the drive's boot code (from the revision, or the protocol's table) must equal the image's.
        /// `revisionNotPrefix`: the revision must not start with it (e.g. the drive left a kernel mode that reports 0000).
        case checkInquiry(name: String, revisionPrefix: String?, bootcode: Bool, revisionNotPrefix: String? = nil)
        /// A challenge to answer at run time (see Challenge).
        indirect case challenge(Challenge)
        /// Steps that are part of the plan only when the drive's answer to a probe satisfies `condition` (e.g. the key
        /// block of the drive's Pioneer generation).
        indirect case when(Condition, [Step])
        /// One command judged by sense (freemkv's readiness and status gates): see SenseGate.
        case senseGate(SenseGate)

        /// This step and every step nested in it, whatever the conditions (for static checks).
        public var flattened: [Step] {
            if case let .when(_, inner) = self { return inner.flatMap(\.flattened) }
            return [self]
        }
    }

    /// A command whose CHECK CONDITION answers are judged by their sense: `accept` lists the senses that count as
    /// success (e.g. NOT READY 02/3A, no medium, before a MediaTek flash; a transient 02 or 06 after its commit
    /// trailer). With `length` > 0 the command reads that many bytes of sense data (REQUEST SENSE), and a key in
    /// `fatalKeys` fails it.
    public struct SenseGate: Equatable, Sendable {
        public struct Match: Equatable, Sendable, CustomStringConvertible {
            public var key: UInt8
            public var asc: UInt8?
            public init(key: UInt8, asc: UInt8? = nil) { self.key = key; self.asc = asc }
            public func matches(_ s: SenseData) -> Bool { s.key == key && (asc == nil || s.asc == asc) }
            public var description: String { Hex.byte(key) + (asc.map { "/" + Hex.byte($0) } ?? "") }
        }
        public var name: String
        public var cdb: CDBTemplate
        public var length: Int
        public var accept: [Match]
        public var fatalKeys: [UInt8]
        public init(name: String, cdb: CDBTemplate, length: Int = 0, accept: [Match] = [], fatalKeys: [UInt8] = []) {
            self.name = name; self.cdb = cdb; self.length = length; self.accept = accept; self.fatalKeys = fatalKeys
        }

        /// nil when the answer passes; otherwise why not.
        public func problem(_ r: CommandResult) -> String? {
            if !r.isGood {
                guard r.status == .checkCondition, let s = r.sense else { return r.status.name }
                return accept.contains { $0.matches(s) } ? nil : s.description
            }
            guard length > 0 else { return nil }
            guard r.data.count >= 8 else { return "the sense data is \(r.data.count) bytes" }
            guard let s = try? SenseData(bytes: r.data) else { return "the sense data is not fixed (70h/71h) or descriptor (72h/73h) format" }
            return fatalKeys.contains(s.key) ? "the drive reports \(s.description)" : nil
        }
    }

    /// A condition on the answer a named probe got (the probe's CDB identifies the answer).
    public struct Condition: Equatable, Sendable {
        public var probe: String
        public var expect: Probe.Expect
        public init(probe: String, expect: Probe.Expect) { self.probe = probe; self.expect = expect }
    }

    /// A number taken from the image for use in CDBs or data blocks.
    public enum Value: Equatable, Sendable {
        /// Big-endian unsigned integer of `width` bytes at `offset` (negative: from the end).
        case imageBE(offset: Int, width: Int)
        /// 16-bit sum of the bytes in [from, to) (to nil: the end).
        case byteSum16(from: Int, to: Int?)
    }

    /// A read-only identification read sent before preflight (and replayed to the dry-run copy).
    public struct Probe: Equatable, Sendable {
        public struct Capture: Equatable, Sendable {
            public var variable: String, offset: Int, length: Int
            public init(variable: String, offset: Int, length: Int) { self.variable = variable; self.offset = offset; self.length = length }
        }
        public struct ImageMatch: Equatable, Sendable {
            /// The drive's bytes [offset, offset+length) of this read must equal the image's [imageOffset, +length);
            /// with `decimal`, the two read as decimal numbers the way C's atoi does (DVRFlash's generation check).
            public var offset: Int, length: Int, imageOffset: Int
            public var what: String
            public var decimal = false
            public init(offset: Int, length: Int, imageOffset: Int, what: String, decimal: Bool = false) {
                self.offset = offset; self.length = length; self.imageOffset = imageOffset; self.what = what; self.decimal = decimal
            }
        }
        /// A fact about the drive's answer alone: its bytes are one of `ascii`, or (as a decimal number) one of
        /// `decimal`, or do not start with `notPrefix`. Variants of a protocol are chosen by these.
        public struct Expect: Equatable, Sendable {
            public var offset: Int, length: Int, what: String
            public var ascii: [String] = []
            public var decimal: [Int] = []
            public var notPrefix: String?
            public init(offset: Int, length: Int, what: String) { self.offset = offset; self.length = length; self.what = what }

            /// nil when the answer satisfies it; otherwise what the drive said.
            public func problem(_ answer: [UInt8]) -> String? {
                guard offset >= 0, offset + length <= answer.count else { return "the answer is \(answer.count) bytes, too short for \(what)" }
                let b = Array(answer[offset..<(offset + length)])
                let text = String(decoding: b.map { (0x20...0x7E).contains($0) ? $0 : UInt8(ascii: ".") }, as: UTF8.self)
                if !ascii.isEmpty, !ascii.contains(where: { Array($0.utf8) == b }) {
                    return "\(what): the drive says '\(text)', not \(ascii.map { "'\($0)'" }.joined(separator: " or "))"
                }
                if !decimal.isEmpty {
                    let n = Probe.atoi(b[...])
                    guard let n, decimal.contains(n) else {
                        return "\(what): the drive says '\(text)', not \(decimal.map(String.init).joined(separator: " or "))"
                    }
                }
                if let p = notPrefix, b.starts(with: Array(p.utf8)) { return "\(what): the drive says '\(text)'" }
                return nil
            }
        }

        /// C's atoi: leading blanks, an optional sign, then digits up to the first non-digit; nil when there are none.
        public static func atoi(_ b: ArraySlice<UInt8>) -> Int? {
            var i = b.startIndex
            while i < b.endIndex, b[i] == 0x20 || (0x09...0x0D).contains(b[i]) { i += 1 }
            var sign = 1
            if i < b.endIndex, b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+") { sign = b[i] == UInt8(ascii: "-") ? -1 : 1; i += 1 }
            var n = 0, digits = 0
            while i < b.endIndex, (0x30...0x39).contains(b[i]), digits < 18 { n = n * 10 + Int(b[i] - 0x30); i += 1; digits += 1 }
            return digits == 0 ? nil : sign * n
        }
        /// An ASCII ID in the answer that must be in an ID table, belong to the image's layout, and equal an image field.
        public struct DriveID: Equatable, Sendable {
            public var offset: Int, length: Int, table: String, field: String
            /// The flash classes (ID table column) this protocol is for; empty: any.
            public var classes: [String] = []
            public init(offset: Int, length: Int, table: String, field: String, classes: [String] = []) {
                self.offset = offset; self.length = length; self.table = table; self.field = field; self.classes = classes
            }
        }
        public var name: String
        public var cdb: CDBTemplate
        public var length: Int
        public var captures: [Capture] = []
        public var keepAs: String?
        public var imageMatches: [ImageMatch] = []
        public var expects: [Expect] = []
        public var driveID: DriveID?
        /// A read the drive may not support (e.g. the SPC buffer descriptor): when it fails, its checks are skipped
        /// and the preflight says so.
        public var optional = false
        /// The answer is an SPC READ BUFFER descriptor (byte 0: offset boundary as a power of two, bytes 1-3: buffer
        /// capacity): the image must fit and every segment offset must be aligned.
        public var descriptor = false
        public init(name: String, cdb: CDBTemplate, length: Int) { self.name = name; self.cdb = cdb; self.length = length }
    }

    /// How the image becomes what is sent (e.g. MT1959: first 10000h set to FFh, the drive's config block copied in).
    public struct Transform: Equatable, Sendable {
        public struct Copy: Equatable, Sendable {
            public var from: Int, to: Int, length: Int
            public init(from: Int, to: Int, length: Int) { self.from = from; self.to = to; self.length = length }
        }
        public struct Fill: Equatable, Sendable {
            public var from: Int, to: Int, byte: UInt8
            public init(from: Int, to: Int, byte: UInt8) { self.from = from; self.to = to; self.byte = byte }
        }
        public struct Transplant: Equatable, Sendable {
            public var block: String, to: Int
            public init(block: String, to: Int) { self.block = block; self.to = to }
        }
        /// A new buffer of this size filled with `fill`, into which `copies` place image ranges; nil keeps the image.
        public var size: Int?
        public var fill: UInt8 = 0
        public var copies: [Copy] = []
        public var fills: [Fill] = []
        public var transplants: [Transplant] = []
        public init() {}
    }

    /// Where the sent image lands in the drive's flash (for verification and the emulator).
    public struct Placement: Equatable, Sendable {
        public var imageFrom: Int, imageTo: Int?, flashAt: Int
        /// A plan value that gives `flashAt` (e.g. LG: the load address the image header names); resolved in the plan.
        public var flashAtValue: String?
        public init(imageFrom: Int = 0, imageTo: Int? = nil, flashAt: Int = 0, flashAtValue: String? = nil) {
            self.imageFrom = imageFrom; self.imageTo = imageTo; self.flashAt = flashAt; self.flashAtValue = flashAtValue
        }
    }

    public struct BootcodeEntry: Equatable, Sendable {
        public var vendor: String, product: String, revision: String, bootcode: String
        public init(vendor: String, product: String, revision: String, bootcode: String) {
            self.vendor = vendor; self.product = product; self.revision = revision; self.bootcode = bootcode
        }

        /// A drive's boot code from its safe-mode INQUIRY (Binflash RetrieveBootcodeVersion): "0.XY" spells it, else
        /// the table names it for the vendor/product/revision; nil when neither does.
        public static func bootcode(inquiry d: [UInt8], table: [BootcodeEntry]) -> String? {
            guard d.count >= 36 else { return nil }
            if d[32] == UInt8(ascii: "0"), d[33] == UInt8(ascii: ".") { return String(decoding: d[34..<36], as: UTF8.self) }
            let v = Bytes.ascii(d, 8, 8), p = Bytes.ascii(d, 16, 16), r = Bytes.ascii(d, 32, 4)
            return table.first { $0.vendor == v && $0.product == p && $0.revision == r }?.bootcode
        }
    }

    public var name: String
    public var provenance: String
    /// Image layouts this protocol is for (empty: every layout of the family).
    public var layouts: [String] = []
    public var probes: [Probe] = []
    public var values: [String: Value] = [:]
    public var transform: Transform?
    public var placement = Placement()
    /// Commands that only prepare: a failure leaves the drive's flash unchanged.
    public var prepare: [Step]
    /// Commands that change the drive: a failure leaves it in an unknown state.
    public var commit: [Step]
    /// After a successful commit (waiting for the drive to come back).
    public var after: [Step]
    /// Run when the sequence stops early, whatever the reason (e.g. leave safe mode).
    public var cleanup: [Step]
    public var timeout: Double
    /// Parameters the sources disagree about, said aloud before flashing.
    public var disputed: String?
    /// What running this sequence leaves behind that a user must accept explicitly (e.g. a drive left in kernel mode).
    public var risk: String?
    /// What to do after a successful run (e.g. flash the Normal image next), added to the outcome's next steps.
    public var nextSteps: [String] = []
    /// Which emulated drive plays the drive side in a dry run: the sequence's `emulator:` block, read by the Emulator
    /// module (nil: the emulator's default).
    public var emulator: EmulatorBlock?

    /// A flash sequence's `emulator:` block as YAML text (a behaviour name, or a mapping with its settings). Opaque
    /// here: the Emulator module owns and decodes it.
    public struct EmulatorBlock: Equatable, Sendable {
        public let yaml: String
        public init(yaml: String) { self.yaml = yaml }
    }
    /// How to read the firmware back for verification (where a public read path exists).
    public var readback: Readback?
    /// Boot code versions that a drive's safe-mode revision does not spell out (vendor/product/revision -> boot code).
    public var bootcodes: [BootcodeEntry] = []

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
