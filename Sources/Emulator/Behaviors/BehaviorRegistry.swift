/// The behaviours an emulated drive can have, by the name drive profiles (`firmware.behavior`) and flash sequences
/// (`emulator:`) give them. The only place the names appear.
public enum BehaviorRegistry {
    static var all: [(name: String, type: any DriveBehavior.Type)] { [
        ("spc", SPCBehavior.self),
        ("plextor", PlextorBehavior.self),
        ("nec", NECBehavior.self),
        ("mt1959", MT1959Behavior.self),
        ("mediatek-ff", MediaTekFFBehavior.self),
        ("btc", BTCBehavior.self),
        ("lg-renesas", LGRenesasBehavior.self),
        ("pioneer", PioneerBehavior.self),
        ("pioneer-bd", PioneerBDBehavior.self),
    ] }

    /// Every name, sorted.
    public static var names: [String] { all.map(\.name).sorted() }

    static func type(named name: String) -> (any DriveBehavior.Type)? { all.first { $0.name == name }?.type }

    public static func name(of type: any DriveBehavior.Type) -> String {
        guard let n = all.first(where: { ObjectIdentifier($0.type) == ObjectIdentifier(type) })?.name else {
            preconditionFailure("\(type) is not in BehaviorRegistry")
        }
        return n
    }
}
