import Operations
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Flashing
import SCSI

/// How scan and info show what the identification reads found and the strategy versions.
enum ProbeText {
    /// One phrase: what answered and how, e.g. "NEC 3550A (nec-optiarc: drive ID K355, ReadRAM 4800h, flash class 2M)".
    static func summary(_ o: IdentifyOutcome) -> String {
        guard let f = o.family else { return o.stopped.map { "probing stopped: \($0)" } ?? "no family answered the identification reads" }
        if let id = o.driveID {
            return "\(o.model ?? "drive ID \(id)") (\(f): drive ID \(id)\(o.flashClass.map { ", flash class \($0)" } ?? ""), by \(o.matchedBy.joined(separator: " + ")))"
        }
        let how = (o.evidence.isEmpty ? [] : [o.evidence.joined(separator: "; ")]) + ["by " + o.matchedBy.joined(separator: " + ")]
        return "\(o.familyName ?? f) (\(f): \(how.joined(separator: ", ")))"
    }

    /// info: the match, then each family tried and what its reads got.
    static func info(_ o: IdentifyOutcome) -> String {
        var s = ""
        if let f = o.family {
            if let id = o.driveID {
                s += "Identified by probe: \(o.familyName ?? f) drive ID \(id) -> \(o.model ?? "?")\(o.flashClass.map { ", flash class \($0)" } ?? "") (family \(f); \(o.matchedBy.joined(separator: " + ")))\n"
            } else {
                s += "Identified by probe: \(o.familyName ?? f)\(o.evidence.isEmpty ? "" : ": " + o.evidence.joined(separator: "; ")) (family \(f); \(o.matchedBy.joined(separator: " + ")))\n"
            }
            if let n = o.note { s += "  note: \(n)\n" }
        } else {
            s += "Identified by probe: nothing (\(summary(o)))\n"
        }
        s += "Identification reads (read-only, in the database's order):\n"
        for a in o.attempts {
            if let why = a.skipped { s += "  \(a.family): skipped, \(why)\n"; continue }
            s += "  \(a.family): \(a.matched ? "matched" : "no match")\n"
            for r in a.reads {
                s += "    \(r.cdb)  \(r.probe): \(r.answer)\(r.passed ? ", passed" : r.detail.map { ", \($0)" } ?? "")\n"
            }
        }
        return s
    }

    static func strategy(_ r: StrategyVersionRead.Result) -> String {
        guard r.available else { return "Strategy versions: not available (\(r.reason ?? "no answer"))\n" }
        let w = (r.versions.map(\.media.count).max() ?? 0) + 1
        return "Strategy versions (\(r.cdb), read only):\n"
            + r.versions.map { "  " + ($0.media + ":").padded(toLength: w + 1) + $0.version + "\n" }.joined()
    }
}
