import Firmware

// The model of a drive family that flashing works with: what firmware-db says about it, as types. FirmwareDB only
// parses the family files into these; preflight, the sessions and the CLI read them.

/// The operations a status is kept for.
public enum FamilyOperation: String, Codable, Sendable, CaseIterable {
    case identify, dump, flash, region, booktype
}

public struct Family: Sendable, Equatable {
    /// The firmware-db file it came from.
    public var file: String = ""
    public var id: String
    public var name: String
    public var provenance: String
    /// True when no public fact backs the entry (the CLI says so).
    public var synthetic: Bool
    public var protocolName: String?
    public var status: [FamilyOperation: TestStatus]
    public var notes: String?
    public var layouts: [ImageLayout] = []
    /// The flash protocol, when a public source describes it (the first of `flashVariants`).
    public var flash: FlashProtocol? { flashVariants.first }
    /// Every flash protocol of the family; where the drive's class decides (NEC), each names its classes.
    public var flashVariants: [FlashProtocol] = []
    /// How to read the firmware out, when a public source describes it (the first of `dumpVariants`).
    public var dump: DumpProtocol? { dumpVariants.first }
    /// Every read-out sequence of the family; where the drive's class decides (NEC), each names its classes and layout.
    public var dumpVariants: [DumpProtocol] = []
    /// Vendor book-type commands, when public.
    public var booktype: BooktypeCommands?
    /// Vendor region resets, when public.
    public var region: RegionResets?
    /// Vendor commands the family marks read-only, with provenance (identification reads may use them).
    public var readOnlyCommands: [ReadOnlyCommand] = []
    /// Read-only identification reads for drives no model entry names (`scan --probe`, `info --probe`).
    public var identify: IdentifyRule?
    /// The read of per-media write-strategy versions (`info`), when public.
    public var strategyVersions: StrategyVersionRead?
    /// Why the family's drives are never flashed: the facts a complete sequence needs and no public source states
    /// (`flash` refuses the family's drives with this, before any vendor command).
    public var flashMissingFacts: String?

    public init(id: String, name: String, provenance: String, synthetic: Bool, protocolName: String?, status: [FamilyOperation: TestStatus],
                notes: String?, layouts: [ImageLayout] = []) {
        self.id = id; self.name = name; self.provenance = provenance; self.synthetic = synthetic; self.protocolName = protocolName
        self.status = status; self.notes = notes; self.layouts = layouts
    }
}


/// A vendor command a family marks read-only (`read_only_commands`): every CDB that starts with `prefix` is a read.
public struct ReadOnlyCommand: Sendable, Equatable {
    public var name: String
    public var prefix: [UInt8]
    public var provenance: String
    public init(name: String, prefix: [UInt8], provenance: String) { self.name = name; self.prefix = prefix; self.provenance = provenance }
}
