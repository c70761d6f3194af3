/// A CD time (minutes, seconds, frames) as odflash prints it: two decimal digits each, "97:26:60".
public enum MSF {
    public static func text(_ m: UInt8, _ s: UInt8, _ f: UInt8) -> String { "\(two(m)):\(two(s)):\(two(f))" }

    static func two(_ v: UInt8) -> String { v < 10 ? "0\(v)" : "\(v)" }
}
