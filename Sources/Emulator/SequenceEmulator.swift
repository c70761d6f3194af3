import YAML

/// A flash sequence's `emulator:` block (firmware-db/families/*.yaml): the behaviour that plays the drive side of a
/// dry run, by name, or a mapping with `behavior` and the settings a sequence may give it, snake_case (`size`,
/// `busy_after_flash` and the behaviour's own `sequenceSettings`, e.g. nec `id_at`). Flashing keeps the block as text;
/// only this module reads it.
public enum SequenceEmulator {
    public struct Problem: Error, Equatable, CustomStringConvertible {
        public let description: String
        /// The line of the setting it is about, when known.
        public var line: Int?
        init(_ d: String, line: Int? = nil) { description = d; self.line = line }
    }

    /// The keys a block naming `behavior` may have; nil when the name is no behaviour.
    public static func keys(behavior: String) -> [String]? {
        BehaviorRegistry.type(named: behavior).map { settings($0).map(snakeCase) }
    }

    /// The profile's names of the settings a block may give behaviour `t`.
    static func settings(_ t: any DriveBehavior.Type) -> [String] { ["behavior", "size", "busyAfterFlash"] + t.sequenceSettingNames }

    /// Reads a block given as YAML text.
    public static func decode(yaml: String) throws(Problem) -> DriveProfile.Firmware {
        let node: Node?
        do { node = try YAML.compose(yaml) } catch { throw Problem("not YAML: \(error)", line: error.line) }
        guard let node else { throw Problem("empty") }
        return try decode(node)
    }

    /// Reads a block: its behaviour with the settings it gives (keys it may not have are left out; `keys` lists those
    /// it may).
    public static func decode(_ node: Node) throws(Problem) -> DriveProfile.Firmware {
        if let name = node.scalar?.string { return try firmware(name, nil) }
        guard let m = node.mapping else { throw Problem("must be a behaviour name or a mapping") }
        guard let name = m["behavior"]?.string else { throw Problem("missing 'behavior'") }
        if let p = CheckedYAML.checkNumbers(node) { throw Problem(p.message, line: p.line) }
        return try firmware(name, m)
    }

    static func firmware(_ name: String, _ m: Node.Mapping?) throws(Problem) -> DriveProfile.Firmware {
        guard let t = BehaviorRegistry.type(named: name) else {
            throw Problem("behavior '\(name)' is not one of \(BehaviorRegistry.names.joined(separator: ", "))")
        }
        guard let m else { return DriveProfile.Firmware(behavior: name, size: nil, revisionOffset: nil) }
        // The profile's spelling of each key the block may have; the decoder then reads it like a profile's block.
        let known = Dictionary(uniqueKeysWithValues: settings(t).map { (snakeCase($0), $0) })
        let renamed = Node(m.compactMap { k, v in k.string.flatMap { known[$0] }.map { (Node($0), v) } })
        do {
            return try YAMLDecoder().decode(DriveProfile.Firmware.self, from: renamed)
        } catch let e as DecodingError {
            throw Problem(DriveProfile.describe(e, key: snakeCase))
        } catch {
            throw Problem("\(error)")
        }
    }

    /// The firmware of a dry-run copy of a real drive: the block's settings less what only the real drive knows
    /// (`BehaviorConfig.dryRunCopy`), `size` when the block gives none. Without a block the copy answers SPC download
    /// microcode.
    public static func dryRunCopy(_ yaml: String?, size: Int, revisionOffset: Int?) throws(Problem) -> DriveProfile.Firmware {
        var f = DriveProfile.Firmware(behavior: BehaviorRegistry.name(of: SPCBehavior.self), size: nil, revisionOffset: nil)
        if let yaml { f = try decode(yaml: yaml) }
        f.size = f.size ?? size
        f.revisionOffset = revisionOffset
        f.settings = f.settings?.dryRunCopy
        return f
    }

    /// "busyAfterFlash" -> "busy_after_flash".
    static func snakeCase(_ s: String) -> String {
        var out = ""
        for c in s {
            if c.isUppercase { out += "_" + c.lowercased() } else { out.append(c) }
        }
        return out
    }
}
