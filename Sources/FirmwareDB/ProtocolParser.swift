import Emulator
import Flashing
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import YAML

/// Parses a family's `flash:` section into a FlashProtocol.
enum ProtocolParser {
    static func template(_ e: Entry, _ key: String, required: Bool, _ issues: inout [DBIssue]) -> CDBTemplate? {
        guard let s = e.string(key, required: required, issues: &issues) else { return nil }
        do { return try CDBTemplate(s) } catch {
            issues.append(e.fail(error.description))
            return nil
        }
    }

    static func hexBytes(_ s: String) -> [UInt8]? {
        var out: [UInt8] = []
        for tok in s.split(separator: " ") {
            guard tok.count == 2, let v = UInt8(tok, radix: 16) else { return nil }
            out.append(v)
        }
        return out
    }

    static func double(_ e: Entry, _ key: String, _ issues: inout [DBIssue]) -> Double? {
        e.decimal(key, Limit.seconds, issues: &issues)
    }

    static func steps(_ e: Entry, _ key: String, _ issues: inout [DBIssue]) -> [FlashProtocol.Step] {
        var out: [FlashProtocol.Step] = []
        for s in e.children(key, issues: &issues) {
            s.checkKeys(["command", "chunks", "poll_ready", "sweep", "wait", "check_inquiry", "blocks", "challenge", "when", "steps", "sense_gate"], issues: &issues)
            if let w = s.child("when", "when") {
                // A conditional group: {when: {probe, offset, length, ascii|decimal|not_prefix}, steps: [...]}.
                w.checkKeys(["probe", "offset", "length", "ascii", "decimal", "not_prefix"], issues: &issues)
                guard let probe = w.string("probe", issues: &issues), let ex = expect(w, what: "condition", answerLength: nil, &issues) else { continue }
                let inner = steps(s, "steps", &issues)
                if inner.isEmpty { issues.append(s.fail("a conditional group needs steps")); continue }
                out.append(.when(.init(probe: probe, expect: ex), inner))
                continue
            }
            if let c = s.child("command", "command") {
                c.checkKeys(["name", "cdb", "data", "data_hex", "data_block", "ignore_errors"], issues: &issues)
                guard let name = c.string("name", issues: &issues), let t = template(c, "cdb", required: true, &issues) else { continue }
                var data: FlashProtocol.DataSource?
                if let d = c.intList("data", Limit.place, maxCount: 2, issues: &issues) {
                    guard d.count == 2, d[0] >= 0, d[1] > d[0] else { issues.append(c.fail("data is [start, end) of the image")); continue }
                    data = .image(d[0]...(d[1] - 1))
                } else if let h = c.string("data_hex", required: false, issues: &issues) {
                    guard let b = hexBytes(h), !b.isEmpty else { issues.append(c.fail("data_hex must be hex bytes separated by spaces")); continue }
                    data = .bytes(b)
                } else if let b = c.child("data_block", "data_block") {
                    b.checkKeys(["size", "put", "bytes"], issues: &issues)
                    guard let size = b.int("size", Limit.transfer, required: true, issues: &issues) else { continue }
                    var puts: [FlashProtocol.Put] = []
                    for p in b.children("put", issues: &issues) {
                        p.checkKeys(["at", "width", "value"], issues: &issues)
                        guard let at = p.int("at", Limit.inTransfer, required: true, issues: &issues), let w = p.int("width", 1...4, required: true, issues: &issues),
                              let v = p.string("value", issues: &issues) else { continue }
                        guard (1...4).contains(w), at >= 0, at + w <= size else { issues.append(p.fail("a \(w)-byte value at \(at) does not fit the \(size)-byte block")); continue }
                        puts.append(.init(at: at, width: w, value: v))
                    }
                    for c in b.children("bytes", issues: &issues) {
                        c.checkKeys(["at", "ascii", "hex"], issues: &issues)
                        guard let at = c.int("at", Limit.inTransfer, required: true, issues: &issues) else { continue }
                        let bytes: [UInt8]?
                        if let a = c.string("ascii", required: false, issues: &issues) { bytes = Array(a.utf8) }
                        else if let h = c.string("hex", required: false, issues: &issues) { bytes = hexBytes(h) }
                        else { bytes = nil }
                        guard let bytes, !bytes.isEmpty else { issues.append(c.fail("bytes need ascii or hex")); continue }
                        guard at >= 0, at + bytes.count <= size else { issues.append(c.fail("\(bytes.count) bytes at \(at) do not fit the \(size)-byte block")); continue }
                        puts.append(.init(at: at, bytes: bytes))
                    }
                    data = .block(size: size, puts: puts)
                }
                out.append(.command(name: name, cdb: t, data: data, ignoreErrors: c.bool("ignore_errors", issues: &issues) ?? false))
            } else if let c = s.child("chunks", "chunks") {
                c.checkKeys(["name", "cdb", "first", "last", "before", "chunk_size", "start", "end", "bias", "gap_ms", "pad_bytes", "max_chunks"], issues: &issues)
                guard let name = c.string("name", issues: &issues), let t = template(c, "cdb", required: true, &issues),
                      let size = c.int("chunk_size", 1...0xFFFFFF, required: true, issues: &issues) else { continue }
                let start = c.int("start", Limit.place, issues: &issues) ?? 0, end = c.int("end", Limit.place, issues: &issues), bias = c.int("bias", Limit.place, issues: &issues) ?? 0
                guard start >= 0, bias >= 0, end.map({ $0 > start }) ?? true else { issues.append(c.fail("start, end and bias must be non-negative with start < end")); continue }
                var ch = FlashProtocol.Chunks(name: name, cdb: t, first: template(c, "first", required: false, &issues), last: template(c, "last", required: false, &issues),
                                              before: template(c, "before", required: false, &issues), chunkSize: size, start: start, end: end, bias: bias,
                                              gapMilliseconds: c.int("gap_ms", 0...60_000, issues: &issues) ?? 0)
                guard let pad = c.int("pad_bytes", 0...0x1000, issues: &issues) ?? (c["pad_bytes"] == nil ? 0 : nil) else { continue }
                ch.padBytes = pad
                ch.maxChunks = c.int("max_chunks", 1...0x10000, issues: &issues)
                if c["max_chunks"] != nil && ch.maxChunks == nil { continue }
                out.append(.chunks(ch))
            } else if let c = s.child("blocks", "blocks") {
                c.checkKeys(["name", "cdb", "chunk_size", "block_size", "start", "end", "bias", "after_each", "after_name"], issues: &issues)
                guard let name = c.string("name", issues: &issues), let t = template(c, "cdb", required: true, &issues),
                      let size = c.int("chunk_size", 1...0xFFFFFF, required: true, issues: &issues), let bs = c.int("block_size", Limit.size, required: true, issues: &issues),
                      let after = template(c, "after_each", required: true, &issues) else { continue }
                guard size > 0, size <= 0xFFFFFF, bs >= size else { issues.append(c.fail("chunk_size 1-FFFFFFh and block_size >= chunk_size")); continue }
                let start = c.int("start", Limit.place, issues: &issues) ?? 0, end = c.int("end", Limit.place, issues: &issues), bias = c.int("bias", Limit.place, issues: &issues) ?? 0
                guard start >= 0, bias >= 0, end.map({ $0 > start }) ?? true else { issues.append(c.fail("start, end and bias must be non-negative with start < end")); continue }
                out.append(.blocks(.init(chunks: .init(name: name, cdb: t, chunkSize: size, start: start, end: end, bias: bias), blockSize: bs, afterEach: after,
                                         afterName: c.string("after_name", required: false, issues: &issues) ?? "after block")))
            } else if let c = s.child("sweep", "sweep") {
                c.checkKeys(["name", "cdb", "from", "to", "step"], issues: &issues)
                guard let name = c.string("name", issues: &issues), let t = template(c, "cdb", required: true, &issues),
                      let from = c.int("from", Limit.place, required: true, issues: &issues), let to = c.int("to", Limit.place, required: true, issues: &issues),
                      let step = c.int("step", Limit.size, required: true, issues: &issues) else { continue }
                guard from >= 0, to > from, step > 0, (to - from) / step <= 4096 else { issues.append(c.fail("from < to, step > 0, at most 4096 commands")); continue }
                out.append(.sweep(name: name, cdb: t, from: from, to: to, step: step))
            } else if let c = s.child("poll_ready", "poll_ready") {
                c.checkKeys(["tries", "interval", "successes"], issues: &issues)
                let tries = c.int("tries", 1...3600, issues: &issues) ?? 15, ok = c.int("successes", 1...3600, issues: &issues) ?? 1
                guard (1...3600).contains(tries), (1...tries).contains(ok) else { issues.append(c.fail("tries 1-3600, successes 1-tries")); continue }
                out.append(.pollReady(tries: tries, interval: double(c, "interval", &issues) ?? 1, successes: ok))
            } else if let c = s.child("wait", "wait") {
                c.checkKeys(["seconds"], issues: &issues)
                guard let sec = double(c, "seconds", &issues) else { issues.append(c.fail("wait needs seconds")); continue }
                out.append(.wait(seconds: sec))
            } else if let c = s.child("check_inquiry", "check_inquiry") {
                c.checkKeys(["name", "revision_prefix", "revision_not_prefix", "bootcode"], issues: &issues)
                guard let name = c.string("name", issues: &issues) else { continue }
                out.append(.checkInquiry(name: name, revisionPrefix: c.string("revision_prefix", required: false, issues: &issues),
                                         bootcode: c.bool("bootcode", issues: &issues) ?? false,
                                         revisionNotPrefix: c.string("revision_not_prefix", required: false, issues: &issues)))
            } else if let c = s.child("challenge", "challenge") {
                c.checkKeys(["name", "reset", "read", "read_length", "lcg", "respond"], issues: &issues)
                guard let name = c.string("name", issues: &issues), let reset = template(c, "reset", required: true, &issues),
                      let read = template(c, "read", required: true, &issues), let len = c.int("read_length", Limit.transfer, required: true, issues: &issues),
                      let g = c.child("lcg", "lcg") else { issues.append(c.fail("a challenge needs name, reset, read, read_length and lcg")); continue }
                g.checkKeys(["multiplier", "increment", "output_shift", "seed_bits", "match", "answer_draw", "xor"], issues: &issues)
                guard let mul = g.int("multiplier", Limit.u32, required: true, issues: &issues), let inc = g.int("increment", Limit.u32, required: true, issues: &issues),
                      let shift = g.int("output_shift", 0...24, required: true, issues: &issues), let bits = g.int("seed_bits", 1...24, required: true, issues: &issues),
                      let match = g.int("match", Limit.transfer, required: true, issues: &issues), let draw = g.int("answer_draw", 1...0x100000, required: true, issues: &issues) else { continue }
                let xor = g.int("xor", Limit.byte, issues: &issues) ?? 0
                guard (1...0x10000).contains(len), (0...0xFFFF_FFFF).contains(mul), (0...0xFFFF_FFFF).contains(inc), (0...24).contains(shift),
                      (1...24).contains(bits), (1...len).contains(match), (1...0x100000).contains(draw), (0...255).contains(xor) else {
                    issues.append(g.fail("lcg: 32-bit multiplier and increment, output_shift 0-24, seed_bits 1-24, match 1-read_length, answer_draw >= 1, xor a byte")); continue
                }
                var responses: [FlashProtocol.Challenge.Response] = []
                for r in c.children("respond", issues: &issues) {
                    r.checkKeys(["cdb", "length"], issues: &issues)
                    guard let t = template(r, "cdb", required: true, &issues), let n = r.int("length", Limit.transfer, required: true, issues: &issues) else { continue }
                    responses.append(.init(cdb: t, length: n))
                }
                if responses.isEmpty { issues.append(c.fail("a challenge needs at least one response")); continue }
                for t in [reset, read] + responses.map(\.cdb) where !t.fieldNames.isEmpty { issues.append(c.fail("challenge CDB '\(t)' cannot name values")) }
                out.append(.challenge(.init(name: name, reset: reset, read: read, readLength: len, multiplier: UInt32(mul), increment: UInt32(inc),
                                            outputShift: shift, seedBits: bits, match: match, answerDraw: draw, xor: UInt8(xor), responses: responses)))
            } else if let c = s.child("sense_gate", "sense_gate") {
                // One command judged by sense: `accept` lists CHECK CONDITION senses that count as success ("02/3A",
                // "06"); with `length`, the command reads sense data (REQUEST SENSE) and `fatal_keys` fail it.
                c.checkKeys(["name", "cdb", "length", "accept", "fatal_keys"], issues: &issues)
                guard let name = c.string("name", issues: &issues), let t = template(c, "cdb", required: true, &issues) else { continue }
                let len = c.int("length", Limit.byte, issues: &issues) ?? 0
                var accept: [FlashProtocol.SenseGate.Match] = []
                for a in c["accept"]?.sequence?.nodes ?? [] {
                    let parts = (a.string ?? "").split(separator: "/").map { UInt8($0, radix: 16) }
                    guard (1...2).contains(parts.count), parts.allSatisfy({ $0 != nil }), parts[0]! <= 0x0F else {
                        issues.append(c.fail("accept: each item is a sense key, or key/ASC, in hex ('02/3A', '06')")); continue
                    }
                    accept.append(.init(key: parts[0]!, asc: parts.count == 2 ? parts[1] : nil))
                }
                let fatal = (c.intList("fatal_keys", 0...0x0F, issues: &issues) ?? []).map { UInt8($0) }
                if len == 0 && !fatal.isEmpty { issues.append(c.fail("fatal_keys need a length (the sense data read)")) }
                if len > 0 && len < 8 { issues.append(c.fail("sense data is at least 8 bytes")) }
                out.append(.senseGate(.init(name: name, cdb: t, length: len, accept: accept, fatalKeys: fatal)))
            } else {
                issues.append(s.fail("a step is command, chunks, blocks, sweep, poll_ready, wait, check_inquiry, challenge or sense_gate"))
            }
        }
        return out
    }

    /// A fact about a drive's answer (a probe's `expect`, a step group's `when`): offset and length, then one or more of
    /// ascii (values of exactly that length), decimal (atoi numbers), not_prefix. `answerLength`: the bytes must lie in it.
    static func expect(_ x: Entry, what: String, answerLength: Int?, _ issues: inout [DBIssue]) -> FlashProtocol.Probe.Expect? {
        guard let o = x.int("offset", Limit.inTransfer, required: true, issues: &issues), let l = x.int("length", Limit.transfer, required: true, issues: &issues) else { return nil }
        guard o >= 0, l > 0, answerLength.map({ o + l <= $0 }) ?? true else { issues.append(x.fail("the expected bytes must lie in the answer")); return nil }
        var ex = FlashProtocol.Probe.Expect(offset: o, length: l, what: what)
        ex.ascii = x["ascii"]?.sequence?.compactMap { $0.string } ?? []
        ex.decimal = x.intList("decimal", 0...999_999_999, issues: &issues) ?? []
        ex.notPrefix = x.string("not_prefix", required: false, issues: &issues)
        if ex.ascii.contains(where: { $0.utf8.count != l }) { issues.append(x.fail("every ascii value must be \(l) bytes")); return nil }
        if ex.ascii.isEmpty && ex.decimal.isEmpty && ex.notPrefix == nil { issues.append(x.fail("\(what) needs ascii, decimal or not_prefix")); return nil }
        return ex
    }

    static func probes(_ e: Entry, _ issues: inout [DBIssue]) -> [FlashProtocol.Probe] {
        var out: [FlashProtocol.Probe] = []
        for p in e.children("probe", issues: &issues) {
            p.checkKeys(["name", "cdb", "length", "capture", "keep_as", "match_image", "expect", "drive_id", "optional", "descriptor"], issues: &issues)
            guard let name = p.string("name", issues: &issues), let t = template(p, "cdb", required: true, &issues),
                  let len = p.int("length", Limit.transfer, required: true, issues: &issues) else { continue }
            var pr = FlashProtocol.Probe(name: name, cdb: t, length: len)
            pr.optional = p.bool("optional", issues: &issues) ?? false
            pr.descriptor = p.bool("descriptor", issues: &issues) ?? false
            if pr.descriptor && len != 4 { issues.append(p.fail("a buffer descriptor is 4 bytes")) }
            for c in p.children("capture", issues: &issues) {
                c.checkKeys(["variable", "offset", "length"], issues: &issues)
                guard let v = c.string("variable", issues: &issues), let o = c.int("offset", Limit.inTransfer, required: true, issues: &issues),
                      let l = c.int("length", 1...4, required: true, issues: &issues) else { continue }
                guard o >= 0, (1...4).contains(l), o + l <= len else { issues.append(c.fail("capture must lie in the answer and be 1-4 bytes")); continue }
                pr.captures.append(.init(variable: v, offset: o, length: l))
            }
            pr.keepAs = p.string("keep_as", required: false, issues: &issues)
            // match_image: one comparison, or a list of them.
            let matches = p["match_image"]?.sequence != nil ? p.children("match_image", issues: &issues) : [p.child("match_image", "match_image")].compactMap { $0 }
            for m in matches {
                m.checkKeys(["offset", "length", "image_offset", "what", "decimal"], issues: &issues)
                if let o = m.int("offset", Limit.inTransfer, required: true, issues: &issues), let l = m.int("length", Limit.transfer, required: true, issues: &issues),
                   let io = m.int("image_offset", Limit.place, required: true, issues: &issues), let w = m.string("what", issues: &issues) {
                    if o >= 0, l > 0, o + l <= len, io >= 0 {
                        pr.imageMatches.append(.init(offset: o, length: l, imageOffset: io, what: w, decimal: m.bool("decimal", issues: &issues) ?? false))
                    } else { issues.append(m.fail("the compared bytes must lie in the answer")) }
                }
            }
            for x in p.children("expect", issues: &issues) {
                x.checkKeys(["offset", "length", "what", "ascii", "decimal", "not_prefix"], issues: &issues)
                guard let w = x.string("what", issues: &issues), let ex = expect(x, what: w, answerLength: len, &issues) else { continue }
                pr.expects.append(ex)
            }
            if let d = p.child("drive_id", "drive_id") {
                d.checkKeys(["offset", "length", "table", "field", "classes"], issues: &issues)
                if let o = d.int("offset", Limit.inTransfer, required: true, issues: &issues), let l = d.int("length", Limit.transfer, required: true, issues: &issues),
                   let tb = d.string("table", issues: &issues), let f = d.string("field", issues: &issues) {
                    let classes = d["classes"]?.sequence?.compactMap { $0.string } ?? []
                    if o >= 0, l > 0, o + l <= len { pr.driveID = .init(offset: o, length: l, table: tb, field: f, classes: classes) }
                    else { issues.append(d.fail("the ID must lie in the answer")) }
                }
            }
            out.append(pr)
        }
        return out
    }

    static func transform(_ t: Entry, _ issues: inout [DBIssue]) -> FlashProtocol.Transform {
        t.checkKeys(["size", "fill", "copy", "fill_range", "transplant"], issues: &issues)
        var x = FlashProtocol.Transform()
        x.size = t.int("size", Limit.size, issues: &issues)
        x.fill = UInt8(t.int("fill", Limit.byte, issues: &issues) ?? 0)
        for c in t.children("copy", issues: &issues) {
            c.checkKeys(["from", "to", "length"], issues: &issues)
            if let f = c.int("from", Limit.place, required: true, issues: &issues), let to = c.int("to", Limit.place, required: true, issues: &issues), let l = c.int("length", Limit.size, required: true, issues: &issues) {
                if f >= 0, to >= 0, l > 0, x.size.map({ to + l <= $0 }) ?? false { x.copies.append(.init(from: f, to: to, length: l)) }
                else { issues.append(c.fail("a copy needs a transform size and must fit it")) }
            }
        }
        for c in t.children("fill_range", issues: &issues) {
            c.checkKeys(["from", "to", "byte"], issues: &issues)
            if let f = c.int("from", Limit.place, required: true, issues: &issues), let to = c.int("to", Limit.place, required: true, issues: &issues), let b = c.int("byte", Limit.byte, required: true, issues: &issues) {
                if f >= 0, to > f, (0...255).contains(b) { x.fills.append(.init(from: f, to: to, byte: UInt8(b))) } else { issues.append(c.fail("from < to, byte 0-255")) }
            }
        }
        for c in t.children("transplant", issues: &issues) {
            c.checkKeys(["block", "to"], issues: &issues)
            if let b = c.string("block", issues: &issues), let to = c.int("to", Limit.place, required: true, issues: &issues) { x.transplants.append(.init(block: b, to: to)) }
        }
        return x
    }

    /// The emulator block, checked by the Emulator module (which owns its settings) and kept as text for it.
    static func emulator(_ ee: Entry, _ issues: inout [DBIssue]) -> FlashProtocol.EmulatorBlock? {
        if let name = ee["behavior"]?.string, let keys = SequenceEmulator.keys(behavior: name) { ee.checkKeys(keys, issues: &issues) }
        do {
            _ = try SequenceEmulator.decode(ee.node)
            return FlashProtocol.EmulatorBlock(yaml: ee.node.flowText)
        } catch {
            issues.append(DBIssue(file: ee.file, line: error.line ?? ee.line, message: "\(ee.what): \(error.description)"))
            return nil
        }
    }

    static func flash(_ e: Entry, name: String, _ issues: inout [DBIssue]) -> FlashProtocol? {
        e.checkKeys(["name", "provenance", "timeout", "disputed", "risk", "next_steps", "prepare", "commit", "after", "cleanup", "emulator", "readback",
                     "layouts", "probe", "values", "transform", "placement", "bootcodes"], issues: &issues)
        let name = e.string("name", required: false, issues: &issues) ?? name
        guard let prov = e.string("provenance", issues: &issues) else { return nil }
        let commit = steps(e, "commit", &issues)
        if commit.isEmpty { issues.append(e.fail("a flash protocol needs commit steps")) }
        var p = FlashProtocol(name: name, provenance: prov, prepare: steps(e, "prepare", &issues), commit: commit,
                              after: steps(e, "after", &issues), cleanup: steps(e, "cleanup", &issues),
                              timeout: Double(e.int("timeout", 1...Limit.wholeSeconds.upperBound, issues: &issues) ?? 300), disputed: e.string("disputed", required: false, issues: &issues))
        p.risk = e.string("risk", required: false, issues: &issues)
        p.nextSteps = e["next_steps"]?.sequence?.compactMap { $0.string } ?? []
        if let ee = e.child("emulator", "emulator") { p.emulator = emulator(ee, &issues) }
        if let rb = e.child("readback", "readback") {
            rb.checkKeys(["cdb", "chunk_size"], issues: &issues)
            if let t = template(rb, "cdb", required: true, &issues), let n = rb.int("chunk_size", Limit.transfer, required: true, issues: &issues) {
                p.readback = .init(cdb: t, chunkSize: n)
            }
        }
        if let l = e["layouts"]?.sequence { p.layouts = l.compactMap { $0.string } }
        p.probes = probes(e, &issues)
        if let v = e.child("values", "values"), let m = v.fields {
            for (k, node) in m.sorted(by: { $0.key < $1.key }) {
                let ve = Entry(node: node, file: v.file, what: "\(v.what).\(k)")
                ve.checkKeys(["image_be", "width", "byte_sum16", "to"], issues: &issues)
                if ve["image_be"] != nil {
                    if let o = ve.int("image_be", Limit.place, issues: &issues), let w = ve.int("width", 1...4, issues: &issues) ?? (ve["width"] == nil ? 2 : nil) {
                        p.values[k] = .imageBE(offset: o, width: w)
                    }
                } else if ve["byte_sum16"] != nil {
                    if let f = ve.int("byte_sum16", Limit.place, issues: &issues) {
                        let to = ve.int("to", Limit.place, issues: &issues)
                        if let to, to <= f { issues.append(ve.fail("byte_sum16 sums [from, to): to must be past from")) } else { p.values[k] = .byteSum16(from: f, to: to) }
                    }
                } else {
                    issues.append(ve.fail("a value is image_be (with width) or byte_sum16 (with to)"))
                }
            }
        }
        if let t = e.child("transform", "transform") { p.transform = transform(t, &issues) }
        if let pl = e.child("placement", "placement") {
            pl.checkKeys(["image_from", "image_to", "flash_at", "flash_at_value"], issues: &issues)
            p.placement = .init(imageFrom: pl.int("image_from", Limit.place, issues: &issues) ?? 0, imageTo: pl.int("image_to", Limit.place, issues: &issues),
                                flashAt: pl.int("flash_at", Limit.place, issues: &issues) ?? 0, flashAtValue: pl.string("flash_at_value", required: false, issues: &issues))
            if let v = p.placement.flashAtValue, p.values[v] == nil { issues.append(pl.fail("flash_at_value names unknown value '\(v)'")) }
        }
        for b in e.children("bootcodes", issues: &issues) {
            b.checkKeys(["vendor", "product", "revision", "bootcode"], issues: &issues)
            if let v = b.string("vendor", issues: &issues), let pr = b.string("product", issues: &issues), let r = b.string("revision", issues: &issues),
               let bc = b.string("bootcode", issues: &issues) {
                p.bootcodes.append(.init(vendor: v, product: pr, revision: r, bootcode: bc))
            }
        }
        // Every condition names a probe of this protocol.
        func conditions(_ steps: [FlashProtocol.Step]) -> [FlashProtocol.Condition] {
            steps.flatMap { s -> [FlashProtocol.Condition] in if case let .when(c, inner) = s { return [c] + conditions(inner) }; return [] }
        }
        for c in conditions(p.prepare + p.commit + p.after + p.cleanup) where !p.probes.contains(where: { $0.name == c.probe }) {
            issues.append(e.fail("a condition names no probe '\(c.probe)' of this protocol"))
        }
        // Every value a template names must exist: offset/length/state/address come from the plan, the rest from values and probes.
        var known: Set<String> = ["offset", "length", "state", "address", "bit", "chunksum"]
        known.formUnion(p.values.keys)
        for pr in p.probes { known.formUnion(pr.captures.map(\.variable)) }
        for s in (p.prepare + p.commit + p.after + p.cleanup).flatMap(\.flattened) {
            var ts: [CDBTemplate] = []
            switch s {
            case let .command(_, t, data, _):
                ts = [t]
                if case let .block(_, puts)? = data { for put in puts where put.bytes == nil && !known.contains(put.value) { issues.append(e.fail("data_block names an unknown value '\(put.value)'")) } }
            case let .chunks(c): ts = [c.cdb, c.first, c.last, c.before].compactMap { $0 }
            case let .sweep(_, t, _, _, _): ts = [t]
            case let .blocks(b): ts = [b.chunks.cdb, b.afterEach]
            default: break
            }
            for t in ts { for f in t.fieldNames where !known.contains(f) { issues.append(e.fail("CDB '\(t)' names an unknown value '\(f)'")) } }
        }
        return p
    }

    static func dump(_ e: Entry, _ issues: inout [DBIssue]) -> DumpProtocol? {
        e.checkKeys(["provenance", "probe", "non_zero", "prepare", "read", "trailer", "cleanup", "bootcodes", "layout", "timeout", "retry_chunk",
                     "max_dead_chunks", "notice"], issues: &issues)
        guard let prov = e.string("provenance", issues: &issues) else { return nil }
        guard let r = e.child("read", "read") else { issues.append(e.fail("a dump needs a read")); return nil }
        r.checkKeys(["cdb", "from", "to", "chunk", "round_to"], issues: &issues)
        guard let t = template(r, "cdb", required: true, &issues), let from = r.int("from", Limit.place, required: true, issues: &issues),
              let to = r.int("to", Limit.place, required: true, issues: &issues), let chunk = r.int("chunk", Limit.transfer, required: true, issues: &issues) else { return nil }
        guard from >= 0, to > from, to - from <= 0x4000000, (1...0x10000).contains(chunk) else { issues.append(r.fail("from < to (at most 64 MiB), chunk 1-10000h")); return nil }
        var d = DumpProtocol(provenance: prov, read: t, from: from, to: to, chunk: chunk)
        d.roundTo = r.int("round_to", 1...0x10000, issues: &issues) ?? 1
        d.probes = probes(e, &issues)
        if let nz = e.child("non_zero", "non_zero"), let m = nz.fields {
            for (k, v) in m { d.nonZero[k] = v.string ?? "" }
        }
        d.prepare = steps(e, "prepare", &issues)
        d.cleanup = steps(e, "cleanup", &issues)
        for s in d.prepare + d.cleanup {
            guard case let .command(_, _, data, _) = s, data == nil else { issues.append(e.fail("a dump's prepare and cleanup steps are commands without data")); break }
        }
        for item in e.children("trailer", issues: &issues) {
            if let s = item.node.scalar?.string {
                switch s {
                case "word_sum16": d.trailer.append(.wordSum16)
                case "bootcode": d.trailer.append(.bootcode)
                default: issues.append(item.fail("a trailer item is word_sum16, bootcode or {variable, length}"))
                }
            } else if let v = item.string("variable", issues: &issues), let n = item.int("length", 1...4, required: true, issues: &issues) {
                d.trailer.append(.variable(v, length: n))
            }
        }
        for b in e.children("bootcodes", issues: &issues) {
            if let v = b.string("vendor", issues: &issues), let pr = b.string("product", issues: &issues), let rv = b.string("revision", issues: &issues),
               let bc = b.string("bootcode", issues: &issues) { d.bootcodes.append(.init(vendor: v, product: pr, revision: rv, bootcode: bc)) }
        }
        d.layout = e.string("layout", required: false, issues: &issues)
        d.timeout = Double(e.int("timeout", 1...Limit.wholeSeconds.upperBound, issues: &issues) ?? 300)
        if let rc = e.int("retry_chunk", Limit.transfer, issues: &issues) {
            if rc < chunk && chunk % rc == 0 { d.retryChunk = rc } else { issues.append(e.fail("retry_chunk must divide the read chunk and be smaller")) }
        }
        if let m = e.int("max_dead_chunks", 1...100_000, issues: &issues) { d.maxDeadChunks = m }
        d.notice = e.string("notice", required: false, issues: &issues)
        var known: Set<String> = ["address", "length"]
        for pr in d.probes { known.formUnion(pr.captures.map(\.variable)) }
        for f in t.fieldNames where !known.contains(f) { issues.append(r.fail("CDB '\(t)' names an unknown value '\(f)'")) }
        for case let .command(_, ct, _, _) in d.prepare + d.cleanup {
            for f in ct.fieldNames where !known.contains(f) { issues.append(e.fail("CDB '\(ct)' names an unknown value '\(f)'")) }
        }
        for case let .variable(v, _) in d.trailer where !known.contains(v) { issues.append(e.fail("the trailer names an unknown value '\(v)'")) }
        return d
    }

    static func field(_ e: Entry?, _ issues: inout [DBIssue]) -> BooktypeCommands.Field? {
        guard let e else { return nil }
        e.checkKeys(["offset", "width", "mask"], issues: &issues)
        guard let o = e.int("offset", Limit.inTransfer, required: true, issues: &issues) else { return nil }
        guard let w = e.int("width", 1...4, issues: &issues) ?? (e["width"] == nil ? 1 : nil) else { return nil }
        guard let mask = e.int("mask", Limit.u32, issues: &issues) ?? (e["mask"] == nil ? -1 : nil) else { return nil }
        return .init(offset: o, width: w, mask: mask)
    }

    static func booktype(_ e: Entry, _ issues: inout [DBIssue]) -> BooktypeCommands? {
        e.checkKeys(["provenance", "media", "query", "query_length", "booktype", "temporary_active", "changes_left", "version",
                     "version_from", "gates", "set_permanent", "set_temporary", "select", "clear", "change_limit", "flag_masks", "set_length"], issues: &issues)
        guard let prov = e.string("provenance", issues: &issues), let q = template(e, "query", required: true, &issues),
              let len = e.int("query_length", Limit.transfer, required: true, issues: &issues), let bt = field(e.child("booktype", "booktype"), &issues),
              let vf = e.string("version_from", issues: &issues), let sp = template(e, "set_permanent", required: true, &issues) else { return nil }
        var media: [String: Int] = [:]
        if let m = e.child("media", "media")?.fields {
            for (k, v) in m { if let n = e.number(v, "media \(k)", Limit.byte, &issues) { media[k] = n } }
        }
        if media.isEmpty { issues.append(e.fail("booktype needs media codes")) }
        var gates: [BooktypeCommands.Gate] = []
        for g in e.children("gates", issues: &issues) {
            g.checkKeys(["media", "permanent", "temporary"], issues: &issues)
            if let m = g.string("media", issues: &issues), let p = g.int("permanent", Limit.u16, required: true, issues: &issues) {
                if media[m] == nil { issues.append(g.fail("gate for unknown media '\(m)'")) }
                gates.append(.init(media: m, permanent: p, temporary: g.int("temporary", Limit.u16, issues: &issues)))
            }
        }
        if media[vf] == nil { issues.append(e.fail("version_from names unknown media '\(vf)'")) }
        var b = BooktypeCommands(provenance: prov, media: media, query: q, queryLength: len, booktype: bt, versionFrom: vf, gates: gates, setPermanent: sp)
        b.temporaryActive = field(e.child("temporary_active", "temporary_active"), &issues)
        b.changesLeft = field(e.child("changes_left", "changes_left"), &issues)
        b.version = field(e.child("version", "version"), &issues)
        b.setTemporary = template(e, "set_temporary", required: false, &issues)
        b.select = template(e, "select", required: false, &issues)
        b.clear = template(e, "clear", required: false, &issues)
        b.changeLimit = e.int("change_limit", Limit.u16, issues: &issues)
        b.setLength = e.int("set_length", Limit.inTransfer, issues: &issues) ?? 0
        if let fm = e.child("flag_masks", "flag_masks")?.fields {
            for (k, v) in fm {
                guard let n = e.number(v, "flag_masks \(k)", 1...255, &issues) else { continue }
                guard media[k] != nil else { issues.append(e.fail("flag_masks: \(k) needs known media and a bit mask 1-255")); continue }
                b.flagMasks[k] = n
            }
        }
        let allowed: [(CDBTemplate?, Set<String>)] = [(b.query, ["media", "temp", "length"]), (b.setPermanent, ["media", "booktype"]),
                                                      (b.setTemporary, ["media", "booktype"]), (b.select, ["media", "temp"]), (b.clear, [])]
        for (t, ok) in allowed { if let t { for f in t.fieldNames where !ok.contains(f) { issues.append(e.fail("CDB '\(t)' names an unknown value '\(f)'")) } } }
        return b
    }

    static func region(_ e: Entry, _ issues: inout [DBIssue]) -> RegionResets? {
        e.checkKeys(["provenance", "probe", "derive", "vendor_reset", "global_reset", "warning"], issues: &issues)
        guard let prov = e.string("provenance", issues: &issues) else { return nil }
        var r = RegionResets(provenance: prov)
        r.probes = probes(e, &issues)
        if let d = e.child("derive", "derive"), let m = d.fields {
            for (k, node) in m {
                let de = Entry(node: node, file: d.file, what: "\(d.what).\(k)")
                de.checkKeys(["from", "width", "add", "subtract_from"], issues: &issues)
                guard let from = de.string("from", issues: &issues) else { continue }
                guard let w = de.int("width", 1...4, issues: &issues) ?? (de["width"] == nil ? 4 : nil) else { continue }
                if de["add"] != nil { if let a = de.int("add", Limit.u32, issues: &issues) { r.derived[k] = .init(from: from, width: w, op: .add, constant: a) } }
                else if de["subtract_from"] != nil, let s = de.int("subtract_from", Limit.u32, issues: &issues) { r.derived[k] = .init(from: from, width: w, op: .subtractFrom, constant: s) }
                else { issues.append(de.fail("a derived value needs add or subtract_from")) }
            }
        }
        func list(_ key: String) -> [CDBTemplate] {
            guard let seq = e[key]?.sequence else { return [] }
            var out: [CDBTemplate] = []
            for n in seq {
                guard let s = n.string else { issues.append(e.fail("\(key) holds CDB strings")); continue }
                do { out.append(try CDBTemplate(s)) } catch { issues.append(e.fail(error.description)) }
            }
            return out
        }
        r.vendor = list("vendor_reset")
        r.global = list("global_reset")
        r.warning = e.string("warning", required: false, issues: &issues)
        var known = Set(r.derived.keys)
        for p in r.probes { known.formUnion(p.captures.map(\.variable)) }
        for t in r.vendor + r.global { for f in t.fieldNames where !known.contains(f) { issues.append(e.fail("CDB '\(t)' names an unknown value '\(f)'")) } }
        return r
    }
}
