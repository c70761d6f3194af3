import SCSI

/// A family's firmware command set, as the public sources show each flasher sending and expecting it: the vendor
/// commands a drive of that family answers, against its flash memory and the state of its download commands.
/// Where a source does not say how the drive reacts (e.g. to a wrong checksum), the behaviour refuses with ILLEGAL
/// REQUEST, the most conservative answer. Behaviours are named in BehaviorRegistry only.
public protocol DriveBehavior: AnyObject {
    associatedtype Config: BehaviorConfig
    init(_ config: Config, memory: FirmwareMemory)
    var config: Config { get }
    var memory: FirmwareMemory { get }
    /// The opcode whose commands count as firmware writes (fault injection, write counters).
    var writeOpcode: UInt8 { get }
    /// The commands the behaviour answers, by opcode (consulted before the drive's MMC set).
    var commands: [UInt8: EmulatedDrive.Handler] { get }
    /// Power lost during a firmware write that carries `data` (half of what the command sent): writes what reaches the
    /// flash; false when nothing does (no commit is counted).
    func losePower(_ cdb: CDB, reaching data: [UInt8]) -> Bool
}

/// A behaviour's settings, from a drive profile's `firmware:` block (firmware-db/emulator) or, for a dry-run copy, a
/// flash sequence's `emulator:` block (SequenceEmulator).
public protocol BehaviorConfig: Decodable, Equatable, Sendable {
    /// Every setting at its default.
    init()
    /// The settings a flash sequence's `emulator:` block may give (the profile's names; the block spells them snake_case).
    static var sequenceSettings: [String] { get }
    /// What is wrong with the settings for a flash of `size` bytes, as the profile check reports it; nil when nothing.
    func problem(flashSize size: Int) -> String?
    /// The settings of a dry-run copy of a real drive: what only that drive knows is left out.
    var dryRunCopy: Self { get }
}

extension BehaviorConfig {
    public static var sequenceSettings: [String] { [] }
    public func problem(flashSize size: Int) -> String? { nil }
    public var dryRunCopy: Self { self }

    func isEqual(_ other: (any BehaviorConfig)?) -> Bool { (other as? Self) == self }
}

extension DriveBehavior {
    public var writeOpcode: UInt8 { Opcode.writeBuffer }

    /// WRITE BUFFER's data lands at its buffer offset (CDB bytes 3-5).
    public func losePower(_ cdb: CDB, reaching data: [UInt8]) -> Bool {
        if let off = Bytes.be24(cdb.bytes, 3), Int(off) + data.count <= memory.flash.count {
            memory.flash.replaceSubrange(Int(off)..<(Int(off) + data.count), with: data)
        }
        return true
    }

    static func decodeConfig(from decoder: any Decoder) throws -> any BehaviorConfig { try Config(from: decoder) }
    static var defaultConfig: any BehaviorConfig { Config() }
    static var sequenceSettingNames: [String] { Config.sequenceSettings }
    /// The behaviour with these settings over this memory; nil when the settings are another behaviour's.
    static func make(_ config: any BehaviorConfig, memory: FirmwareMemory) -> Self? { (config as? Config).map { Self($0, memory: memory) } }
}

/// The fields of WRITE BUFFER and READ BUFFER as SPC lays them out: mode (byte 1, low 5 bits), buffer ID (byte 2),
/// 24-bit buffer offset (bytes 3-5) and length (bytes 6-8).
struct BufferCommand {
    let bytes: [UInt8]
    let mode: UInt8
    let offset: Int
    let length: Int
    /// The data the command carries (none for a read).
    let data: [UInt8]

    init(_ cdb: CDB, _ t: DataTransfer) {
        bytes = cdb.bytes
        mode = bytes[1] & 0x1F
        offset = Int(Bytes.be24(bytes, 3) ?? 0)
        length = Int(Bytes.be24(bytes, 6) ?? 0)
        if case let .toDevice(d) = t { data = d } else { data = [] }
    }

    /// A write whose data is not the length the CDB gives.
    var lengthMismatch: Bool { data.count != length }
}

/// The answer of a behaviour to a command it knows only to refuse (e.g. WRITE BUFFER on a drive that downloads with
/// vendor commands).
func refuseInvalidField(_: EmulatedDrive, _: CDB, _: DataTransfer) -> CommandResult { .check(.invalidFieldInCDB) }

extension DriveBehavior {
    /// READ BUFFER of the flash at the command's offset and length.
    func readFlash(_ c: BufferCommand, _ drive: EmulatedDrive, _ t: DataTransfer) -> CommandResult {
        guard c.offset + c.length <= memory.flash.count else { return .check(.invalidFieldInCDB) }
        return drive.dataIn(Array(memory.flash[c.offset..<(c.offset + c.length)]), c.length, t)
    }
}
