import Flashing
import Foundation
import Yams

/// Parses a family's `flash:` section into a FlashProtocol.
enum ProtocolParser {
    static func template(_ e: Entry, _ key: String, required: Bool, _ issues: inout [DBIssue]) -> CDBTemplate? {
        guard let s = e.string(key, required: required, issues: &issues) else { return nil }
        do { return try CDBTemplate(s) } catch {
            issues.append(e.fail(error.description))
            return nil
        }
    }

    static func steps(_ e: Entry, _ key: String, _ issues: inout [DBIssue]) -> [FlashProtocol.Step] {
        var out: [FlashProtocol.Step] = []
        for s in e.children(key, issues: &issues) {
            s.checkKeys(["command", "chunks", "poll_ready"], issues: &issues)
            if let c = s.child("command", "command") {
                c.checkKeys(["name", "cdb", "data", "ignore_errors"], issues: &issues)
                guard let name = c.string("name", issues: &issues), let t = template(c, "cdb", required: true, &issues) else { continue }
                var range: ClosedRange<Int>?
                if let d = c.intList("data", issues: &issues) {
                    guard d.count == 2, d[0] >= 0, d[1] > d[0] else { issues.append(c.fail("data is [start, end) of the image")); continue }
                    range = d[0]...(d[1] - 1)
                }
                out.append(.command(name: name, cdb: t, data: range, ignoreErrors: c.bool("ignore_errors", issues: &issues) ?? false))
            } else if let c = s.child("chunks", "chunks") {
                c.checkKeys(["name", "cdb", "first", "last", "before", "chunk_size", "start", "gap_ms"], issues: &issues)
                guard let name = c.string("name", issues: &issues), let t = template(c, "cdb", required: true, &issues),
                      let size = c.int("chunk_size", required: true, issues: &issues) else { continue }
                guard size > 0 && size <= 0xFFFFFF else { issues.append(c.fail("chunk_size must be 1-FFFFFFh")); continue }
                out.append(.chunks(name: name, cdb: t, first: template(c, "first", required: false, &issues), last: template(c, "last", required: false, &issues),
                                   before: template(c, "before", required: false, &issues), chunkSize: size,
                                   start: c.int("start", issues: &issues) ?? 0, gapMilliseconds: c.int("gap_ms", issues: &issues) ?? 0))
            } else if let c = s.child("poll_ready", "poll_ready") {
                c.checkKeys(["tries", "interval", "successes"], issues: &issues)
                let interval = c.fields?["interval"]?.scalar.flatMap { Double($0.string) } ?? 1
                out.append(.pollReady(tries: c.int("tries", issues: &issues) ?? 15, interval: interval, successes: c.int("successes", issues: &issues) ?? 1))
            } else {
                issues.append(s.fail("a step is command, chunks or poll_ready"))
            }
        }
        return out
    }

    static func flash(_ e: Entry, name: String, _ issues: inout [DBIssue]) -> FlashProtocol? {
        e.checkKeys(["provenance", "timeout", "disputed", "prepare", "commit", "after", "cleanup", "emulator", "readback"], issues: &issues)
        guard let prov = e.string("provenance", issues: &issues) else { return nil }
        let commit = steps(e, "commit", &issues)
        if commit.isEmpty { issues.append(e.fail("a flash protocol needs commit steps")) }
        var p = FlashProtocol(name: name, provenance: prov, prepare: steps(e, "prepare", &issues), commit: commit,
                              after: steps(e, "after", &issues), cleanup: steps(e, "cleanup", &issues),
                              timeout: Double(e.int("timeout", issues: &issues) ?? 300), disputed: e.string("disputed", required: false, issues: &issues))
        p.emulator = e.string("emulator", required: false, issues: &issues)
        if let rb = e.child("readback", "readback") {
            rb.checkKeys(["cdb", "chunk_size"], issues: &issues)
            if let t = template(rb, "cdb", required: true, &issues), let n = rb.int("chunk_size", required: true, issues: &issues), n > 0 {
                p.readback = .init(cdb: t, chunkSize: n)
            }
        }
        return p
    }
}
