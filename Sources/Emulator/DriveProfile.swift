#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MMC
import SCSI
import YAML

/// An emulated drive's identity and state, read from a YAML profile (firmware-db/emulator/*.yaml).
public struct DriveProfile: Decodable, Equatable, Sendable {
    public struct Inquiry: Codable, Equatable, Sendable {
        public var vendor: String
        public var product: String
        public var revision: String
        public var vendorSpecific: String?
        public var version: Int?
        public var deviceType: Int?
        public init(vendor: String, product: String, revision: String, vendorSpecific: String? = nil, version: Int? = nil, deviceType: Int? = nil) {
            self.vendor = vendor; self.product = product; self.revision = revision
            self.vendorSpecific = vendorSpecific; self.version = version; self.deviceType = deviceType
        }
    }
    public struct Capabilities: Codable, Equatable, Sendable {
        public var reads: [String]
        public var writes: [String]
        public var testWrite: Bool?
        public var bufferKB: Int?
        public var writeSpeedsKBs: [Int]?
    }
    public struct RPC: Codable, Equatable, Sendable {
        /// 0 none set, 1 set, 2 last chance, 3 permanent.
        public var typeCode: Int
        public var vendorResetsLeft: Int
        public var userChangesLeft: Int
        /// 1-8, or 0 for no region set.
        public var region: Int
    }
    public struct ATIP: Codable, Equatable, Sendable {
        /// Lead-in start, "MM:SS:FF" (e.g. 97:26:66).
        public var leadIn: String
        /// Last possible lead-out start, "MM:SS:FF".
        public var leadOut: String
        /// Indicative target writing power (0-7), reference speed code (0-7), Orange Book sub-type (0-7).
        public var writingPower: Int?
        public var referenceSpeed: Int?
        public var subType: Int?
        public var unrestrictedUse: Bool?
        /// A1 (3 bytes, hex "330000"): marked valid when given.
        public var a1: String?
    }
    public struct MediaID: Codable, Equatable, Sendable {
        public var mid: String
        public var tid: String?
        public var rid: Int?
    }
    public struct Medium: Codable, Equatable, Sendable {
        public var profile: String
        public var atip: ATIP?
        /// DVD+R/RW ADIP, DVD-R pre-pit ID (mid only), BD disc information.
        public var mediaID: MediaID?
        /// PFI byte 0 (book type and version), e.g. 0xA1 for DVD+R.
        public var bookType: Int?
        /// Whether the drive answers READ DISC STRUCTURE format 11h (many refuse it with 05/24/00).
        public var adipFormat11: Bool?
        /// The write speeds (kB/s) the drive offers for this disc (GET PERFORMANCE 03h, mode page 2Ah); absent:
        /// the drive's capabilities speeds. `getPerformance: false`: the drive refuses GET PERFORMANCE.
        public var writeSpeedsKBs: [Int]?
        public var getPerformance: Bool?
    }

    /// Emulated flash memory and the family behaviour that writes it: the settings every behaviour has, and the
    /// behaviour's own (its Config, decoded from the same block).
    public struct Firmware: Decodable, Equatable, Sendable {
        /// The command set the emulated drive answers: a name in BehaviorRegistry.
        public var behavior: String
        public var size: Int?
        /// Where the flash keeps the revision the drive reports after a flash.
        public var revisionOffset: Int?
        /// Bytes the flash holds before anything is written (e.g. a drive ID, a config block).
        public var preset: [Preset]?
        /// TEST UNIT READY answers NOT READY (becoming ready) this many times after a flash.
        public var busyAfterFlash: Int?
        /// The behaviour's settings; nil when `behavior` names no behaviour (the profile check refuses that).
        public internal(set) var settings: (any BehaviorConfig)?

        public struct Preset: Codable, Equatable, Sendable {
            public var at: Int
            public var ascii: String?
            public var hex: String?
            public var bytes: [UInt8]? {
                if let a = ascii { return Array(a.utf8) }
                guard let h = hex else { return nil }
                var out: [UInt8] = []
                for t in h.split(separator: " ") { guard t.count == 2, let v = UInt8(t, radix: 16) else { return nil }; out.append(v) }
                return out
            }
            public init(at: Int, bytes: [UInt8]) { self.at = at; hex = Hex.bytes(bytes) }
        }

        /// The named behaviour with its default settings.
        public init(behavior: String, size: Int?, revisionOffset: Int?) {
            self.behavior = behavior; self.size = size; self.revisionOffset = revisionOffset
            settings = BehaviorRegistry.type(named: behavior)?.defaultConfig
        }

        /// The settings of behaviour B; nil when the firmware has another behaviour. Setting them makes it a B.
        public subscript<B: DriveBehavior>(_: B.Type) -> B.Config? {
            get { settings as? B.Config }
            set {
                guard let c = newValue else { return }
                behavior = BehaviorRegistry.name(of: B.self)
                settings = c
            }
        }

        enum CodingKeys: String, CodingKey { case behavior, size, revisionOffset, preset, busyAfterFlash }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            behavior = try c.decode(String.self, forKey: .behavior)
            size = try c.decodeIfPresent(Int.self, forKey: .size)
            revisionOffset = try c.decodeIfPresent(Int.self, forKey: .revisionOffset)
            preset = try c.decodeIfPresent([Preset].self, forKey: .preset)
            busyAfterFlash = try c.decodeIfPresent(Int.self, forKey: .busyAfterFlash)
            settings = try BehaviorRegistry.type(named: behavior)?.decodeConfig(from: decoder)
        }

        public static func == (a: Firmware, b: Firmware) -> Bool {
            a.behavior == b.behavior && a.size == b.size && a.revisionOffset == b.revisionOffset && a.preset == b.preset
                && a.busyAfterFlash == b.busyAfterFlash && (a.settings.map { $0.isEqual(b.settings) } ?? (b.settings == nil))
        }

        /// The behaviour over this memory; nil when `behavior` names none.
        func makeBehavior(_ memory: FirmwareMemory) -> (any DriveBehavior)? {
            guard let t = BehaviorRegistry.type(named: behavior), let s = settings else { return nil }
            return t.make(s, memory: memory)
        }
    }

    public var name: String
    public var description: String?
    public var provenance: String
    /// True when the profile is not a capture of a real drive (the CLI says so).
    public var synthetic: Bool?
    public var inquiry: Inquiry
    public var serial: String?
    public var profiles: [String]
    public var interface: String?
    public var capabilities: Capabilities?
    /// Absent: RPC-I firmware (REPORT KEY format 08h is rejected).
    public var rpc: RPC?
    public var medium: Medium?
    /// Raise 06/29/00 (power on or reset) on the first command, as a drive does after power-up.
    public var unitAttentionOnStart: Bool?
    public var firmware: Firmware?
    /// MMC feature 010Ch (Firmware Information): the firmware date as 14 digits CCYYMMDDHHMISS; absent: the drive
    /// does not report the feature.
    public var firmwareInformation: String?
    /// NEC/Optiarc CF 03 (Binflash GetStrategyVersions): the 8-character write-strategy version of each media class,
    /// in the source's order (CD-R, CD-RW, DVD+R, ...); absent: the drive refuses CFh as an unknown command.
    public var strategyVersions: [String]?
    /// The image the emulated flash holds from the start (a synthetic image of a firmware-db layout placed at `at`),
    /// so that a backup read from the drive is a valid image of its model, as on a real drive.
    public var initialImage: InitialImage?
    public struct InitialImage: Codable, Equatable, Sendable {
        public var family: String
        public var layout: String
        public var at: Int?
        /// Bytes of the image from here on are placed (a flash holds the dump range, not the file's trailer).
        public var from: Int?
        public var to: Int?
        /// The seed of the image's filler bytes (default 1, as `fw generate`): drives of one model with flashes that
        /// differ (tests of several drives at once).
        public var seed: Int?
    }
    /// A misbehaving drive, for robustness tests: every answer mangled (see EmulatedDrive.Adversarial).
    public var adversarial: Adversarial?

    public struct Adversarial: Codable, Equatable, Sendable {
        /// truncated: every data-in answer cut short; oversized: the answer padded with FFh to the whole allocation, so
        /// every length field claims the maximum; random: random bytes, random length, now and then a random sense.
        public var mode: String
        public var seed: Int?
        public static let modes = ["truncated", "oversized", "random"]
    }

    public init(name: String, description: String?, provenance: String, synthetic: Bool?, inquiry: Inquiry, serial: String?,
                profiles: [String], interface: String?, capabilities: Capabilities?, rpc: RPC?, medium: Medium?,
                unitAttentionOnStart: Bool?, firmware: Firmware?) {
        self.name = name; self.description = description; self.provenance = provenance; self.synthetic = synthetic
        self.inquiry = inquiry; self.serial = serial; self.profiles = profiles; self.interface = interface
        self.capabilities = capabilities; self.rpc = rpc; self.medium = medium
        self.unitAttentionOnStart = unitAttentionOnStart; self.firmware = firmware
    }

    enum CodingKeys: String, CodingKey {
        case name, description, provenance, synthetic, inquiry, serial, profiles, interface, capabilities, rpc, medium
        case unitAttentionOnStart = "unit_attention_on_start"
        case firmware
        case adversarial
        case firmwareInformation, strategyVersions
        case initialImage
    }

    public enum Failure: Error, CustomStringConvertible, Equatable {
        case unreadable(String, String)
        /// The file, what is wrong and the line it is on (when known).
        case invalid(String, String, line: Int? = nil)
        case notFound(String, [String])
        public var description: String {
            switch self {
            case let .unreadable(p, why): return "\(p): cannot read the drive profile: \(why)"
            case let .invalid(p, why, line): return "\(p)\(line.map { ":\($0)" } ?? ""): invalid drive profile: \(why)"
            case let .notFound(n, known): return "no emulated drive profile named '\(n)' (known: \(known.isEmpty ? "none" : known.joined(separator: ", ")))"
            }
        }
    }

    public static func load(path: String) throws(Failure) -> DriveProfile {
        guard let data = FileManager.default.contents(atPath: path) else { throw Failure.unreadable(path, "no such file or not readable") }
        guard data.count <= 1 << 20 else { throw Failure.invalid(path, "\(data.count) bytes; a drive profile has at most 1 MiB") }
        guard let text = String(data: data, encoding: .utf8) else { throw Failure.invalid(path, "not UTF-8 text") }
        return try parse(text, path: path)
    }

    public static func parse(_ text: String, path: String = "<profile>") throws(Failure) -> DriveProfile {
        let p: DriveProfile
        let node: Node
        do {
            // The types say what each scalar is (the YAML module resolves no tags). Aliases are bounded, numbers
            // checked against their setting's range before anything computes with them.
            guard let n = try CheckedYAML.compose(text) else { throw Failure.invalid(path, "empty profile") }
            node = n
        } catch let e as Failure {
            throw e
        } catch let e as CheckedYAML.Problem {
            throw Failure.invalid(path, e.message, line: e.line)
        } catch let e as YAMLError {
            throw Failure.invalid(path, "YAML syntax error: \(CheckedYAML.clip(e.problem))", line: e.line)
        } catch {
            throw Failure.invalid(path, "YAML error")
        }
        if let problem = CheckedYAML.checkNumbers(node) { throw Failure.invalid(path, problem.message, line: problem.line) }
        do {
            p = try YAMLDecoder().decode(DriveProfile.self, from: node)
        } catch let e as DecodingError {
            throw Failure.invalid(path, describe(e), line: CheckedYAML.line(of: codingPath(e), in: node))
        } catch {
            throw Failure.invalid(path, CheckedYAML.clip("\(error)".split(separator: "\n").first.map(String.init) ?? "YAML error"))
        }
        do {
            try p.validate(path)
        } catch {
            // The message starts with the key path it is about ("firmware.idAt ..."): its line.
            guard case let .invalid(f, why, l) = error, l == nil else { throw error }
            let head = why.prefix { $0.isLetter || $0.isNumber || $0 == "." || $0 == "_" }
            throw Failure.invalid(f, why, line: CheckedYAML.line(of: head.split(separator: ".").map(String.init), in: node))
        }
        return p
    }

    static func codingPath(_ e: DecodingError) -> [String] {
        let path: [CodingKey]
        switch e {
        case let .keyNotFound(_, ctx), let .typeMismatch(_, ctx), let .valueNotFound(_, ctx), let .dataCorrupted(ctx): path = ctx.codingPath
        @unknown default: path = []
        }
        return path.map { $0.intValue.map(String.init) ?? $0.stringValue }
    }


    /// What is wrong, at which key path (each key spelt by `key`).
    static func describe(_ e: DecodingError, key: (String) -> String = { $0 }) -> String {
        func keyPath(_ c: [CodingKey]) -> String { c.map { $0.intValue.map { "[\($0)]" } ?? key($0.stringValue) }.joined(separator: ".") }
        switch e {
        case let .keyNotFound(k, ctx): return "missing key '\(keyPath(ctx.codingPath + [k]))'"
        case let .typeMismatch(t, ctx): return "wrong type at '\(keyPath(ctx.codingPath))': expected \(t == Int.self || t == [Int].self ? "a whole number" : t == String.self ? "text" : t == Bool.self ? "true or false" : "\(t)".hasPrefix("Array") ? "a list" : "a mapping")"
        case let .valueNotFound(_, ctx): return "missing value at '\(keyPath(ctx.codingPath))'"
        case let .dataCorrupted(ctx): return "malformed value at '\(keyPath(ctx.codingPath))': expected \(CheckedYAML.clip(ctx.debugDescription))"
        @unknown default: return "\(e)"
        }
    }

    func validate(_ path: String) throws(Failure) {
        func bad(_ s: String) -> Failure { .invalid(path, s) }
        if provenance.trimmingWhitespace.isEmpty { throw bad("provenance is empty") }
        if synthetic == true && !provenance.lowercased().contains("synthetic") { throw bad("a synthetic profile must say 'synthetic' in its provenance") }
        for (f, v, n) in [("vendor", inquiry.vendor, 8), ("product", inquiry.product, 16), ("revision", inquiry.revision, 4)] {
            if v.utf8.count > n { throw bad("inquiry.\(f) '\(v)' is longer than \(n) bytes") }
            if !v.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { throw bad("inquiry.\(f) must be printable ASCII") }
        }
        for p in profiles where MMCProfile.code(named: p) == nil { throw bad("unknown profile '\(p)'") }
        if let m = medium {
            guard let code = MMCProfile.code(named: m.profile) else { throw bad("unknown medium profile '\(m.profile)'") }
            if !profiles.contains(where: { MMCProfile.code(named: $0) == code }) { throw bad("medium profile '\(m.profile)' is not one of the drive's profiles") }
            if let id = m.mediaID {
                if id.mid.isEmpty || !id.mid.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { throw bad("medium.mediaID.mid must be printable ASCII") }
                if [0x1A, 0x1B, 0x2A, 0x2B].contains(code) && id.mid.utf8.count > 8 { throw bad("a DVD+ manufacturer ID has at most 8 characters") }
                if [0x41, 0x42, 0x43].contains(code) && id.mid.utf8.count > 6 { throw bad("a BD manufacturer ID has at most 6 characters") }
                if [0x11, 0x13, 0x14, 0x15, 0x16].contains(code) && id.mid.utf8.count > 18 { throw bad("a DVD-R pre-pit ID has at most 18 characters") }
            }
            if let a = m.atip {
                if DriveProfile.msf(a.leadIn) == nil { throw bad("medium.atip.leadIn '\(a.leadIn)' is not MM:SS:FF") }
                if DriveProfile.msf(a.leadOut) == nil { throw bad("medium.atip.leadOut '\(a.leadOut)' is not MM:SS:FF") }
                for (f, v) in [("writingPower", a.writingPower), ("referenceSpeed", a.referenceSpeed), ("subType", a.subType)] {
                    if let v, !(0...7).contains(v) { throw bad("medium.atip.\(f) is a 3-bit field (0-7), not \(v)") }
                }
                if let a1 = a.a1, Bytes.parseHex(a1)?.count != 3 { throw bad("medium.atip.a1 must be 3 bytes of hex, e.g. '330000'") }
            }
            if let w = m.writeSpeedsKBs, w.isEmpty || w.contains(where: { !(1...200_000).contains($0) }) {
                throw bad("medium.writeSpeedsKBs must list speeds of 1-200000 kB/s")
            }
        }
        if let f = firmware {
            guard let settings = f.settings else {
                throw bad("firmware.behavior '\(f.behavior)' is not one of \(BehaviorRegistry.names.joined(separator: ", "))")
            }
            if let n = f.size, !(1...(64 << 20)).contains(n) { throw bad("firmware.size must be 1 byte to 64 MiB") }
            let size = f.size ?? 0x100000
            if let o = f.revisionOffset, o < 0 || o + 4 > size { throw bad("firmware.revisionOffset \(o) leaves no 4-byte revision inside the \(size)-byte flash") }
            for p in f.preset ?? [] {
                guard let b = p.bytes, !b.isEmpty else { throw bad("firmware.preset at \(p.at) needs ascii or hex bytes") }
                if p.at < 0 || p.at + b.count > size { throw bad("firmware.preset at \(p.at) lies outside the \(size)-byte flash") }
            }
            if let problem = settings.problem(flashSize: size) { throw bad(problem) }
        }
        if let d = firmwareInformation, d.utf8.count != 14 || !d.utf8.allSatisfy({ (0x30...0x39).contains($0) }) {
            throw bad("firmwareInformation must be 14 digits (CCYYMMDDHHMISS)")
        }
        for v in strategyVersions ?? [] where v.utf8.count != 8 || !v.utf8.allSatisfy({ (0x21..<0x7F).contains($0) }) {
            throw bad("strategyVersions entries are 8 printable characters ('\(v)')")
        }
        if let i = initialImage {
            let size = firmware?.size ?? 0x100000
            if let at = i.at, !(0..<size).contains(at) { throw bad("initialImage.at \(at) lies outside the \(size)-byte flash") }
            if let from = i.from, let to = i.to, to <= from { throw bad("initialImage.to must be past initialImage.from") }
        }
        if let a = adversarial, !Adversarial.modes.contains(a.mode) {
            throw bad("adversarial.mode '\(a.mode)' is not one of \(Adversarial.modes.joined(separator: ", "))")
        }
        if let r = rpc {
            if !(0...3).contains(r.typeCode) { throw bad("rpc.typeCode must be 0-3") }
            if !(0...7).contains(r.vendorResetsLeft) || !(0...7).contains(r.userChangesLeft) { throw bad("rpc counters must be 0-7") }
            if !(0...8).contains(r.region) { throw bad("rpc.region must be 0 (none) or 1-8") }
        }
    }

    /// "97:26:66" -> (97, 26, 66); frames < 75, seconds < 60.
    public static func msf(_ s: String) -> (UInt8, UInt8, UInt8)? {
        let p = s.split(separator: ":").compactMap { UInt8($0) }
        guard p.count == 3, p[1] < 60, p[2] < 75 else { return nil }
        return (p[0], p[1], p[2])
    }

    /// Profiles in firmware-db/emulator.
    public static func available(in dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
            .filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.sorted()
    }

    /// "emu:NAME" -> firmware-db/emulator/NAME.yaml; "emu:/path/x.yaml" -> that file.
    public static func resolve(_ name: String, emulatorDir: String) throws(Failure) -> DriveProfile {
        if name.contains("/") || name.hasSuffix(".yaml") { return try load(path: name) }
        let safe = name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }
        let path = emulatorDir + "/" + name + ".yaml"
        guard safe, FileManager.default.fileExists(atPath: path) else { throw Failure.notFound(name, available(in: emulatorDir)) }
        return try load(path: path)
    }
}
