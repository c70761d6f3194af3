import Foundation
import Testing
@testable import YAML

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// The reader's tree in the shape PyYAML's BaseLoader gives (every scalar a string, aliases resolved), as JSON text
/// with sorted keys, so the two can be compared.
func json(_ n: Node) -> Any {
    switch n {
    case .scalar(let s): return s.string
    case .sequence(let s): return s.nodes.map(json)
    case .mapping(let m):
        var d: [String: Any] = [:]
        for p in m.pairs { d[p.key.string ?? "?"] = json(p.value) }
        return d
    }
}

func canonical(_ v: Any) throws -> String {
    String(decoding: try JSONSerialization.data(withJSONObject: v, options: [.sortedKeys, .fragmentsAllowed]), as: UTF8.self)
}

/// PyYAML (libyaml's Python sibling, written from the YAML spec by other people) reading the same texts: the
/// reference. BaseLoader resolves no tags, like this reader. One python3 process for all documents.
func pyyaml(_ docs: [String]) throws -> [String] {
    let script = """
    import sys, json, yaml
    docs = json.load(sys.stdin)
    out = []
    for d in docs:
        try:
            out.append(json.dumps(yaml.load(d, Loader=yaml.BaseLoader), sort_keys=True))
        except yaml.YAMLError as e:
            out.append("ERROR")
    json.dump(out, sys.stdout)
    """
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", "-c", script]
    let inp = Pipe(), outp = Pipe()
    p.standardInput = inp
    p.standardOutput = outp
    try p.run()
    let payload = try JSONSerialization.data(withJSONObject: docs)
    inp.fileHandleForWriting.write(payload)
    try inp.fileHandleForWriting.close()
    let data = outp.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0, let out = try JSONSerialization.jsonObject(with: data) as? [String] else {
        throw YAMLError(line: nil, "python3 with PyYAML is needed for this test (Debian: python3-yaml; scripts/install-deps installs it)")
    }
    // Re-canonicalise through the same JSON writer as ours.
    return try out.map { $0 == "ERROR" ? $0 : try canonical(JSONSerialization.jsonObject(with: Data($0.utf8), options: .fragmentsAllowed)) }
}

/// Documents that use each construct the reader supports, one or a few at a time.
let featureCorpus: [String] = [
    "a: 1\nb: two\n",
    "a:\n  b:\n    c: deep\n  d: [1, 2, 3]\n",
    "- a\n- b\n-   c\n",
    "key:\n- x\n- y\nnext: z\n",
    "- name: one\n  role: first\n- name: two\n  role: second\n",
    "- - a\n  - b\n- - c\n",
    "list:\n  - {at: 0, ascii: \"PIONEER  DVR-107\"}\n  - {at: 0x10, hex: \"9A 78 23 61\"}\n",
    "rpc: {typeCode: 1, vendorResetsLeft: 4, userChangesLeft: 3, region: 2}\n",
    "flow: [a, [b, c], {d: e, f: [g]}, '', \"\"]\n",
    "multi: [one,\n  two,   # a comment\n  three]\n",
    "m: {a: 1,\n    b: 2}\n",
    "s: 'it''s'\nd: \"tab\\tnew\\nline \\\"q\\\" \\\\ \\x41\\u00e9\\U0001F600\"\n",
    "folded: \"one\n  two\n\n  three\"\n",
    "single: 'a\n  b'\n",
    "plain: this is\n  continued on\n\n  lines\nnext: x\n",
    "notes: >-\n  Folded text\n  goes on.\n\n  New paragraph.\n",
    "keep: |+\n  line one\n  line two\n\nafter: x\n",
    "lit: |\n  a\n    indented\n  b\n",
    "strip: |-\n  a\n  b\n",
    "clip: >\n  a\n  b\n\n\n",
    "more: >\n  a\n    b\n  c\n",
    "explicit: |2\n    two extra\n  base\n",
    "empty:\nalso: ~\nnull: null\n",
    "fields: &f\n  - a\n  - b\nother: *f\n",
    "base: &b {x: 1}\nuse: [*b, *b]\n",
    "# leading comment\n---\na: 1 # trailing\n# between\nb: 2\n...\n",
    "url: http://example.com/a:b\nt: a#b\nq: \"x: y\"\nc: a, b\n",
    "neg: -5\nhex: 0xFF\nfrac: 1.5\ncolon: :x\n",
    "\"quoted key\": 1\n'other': 2\n",
    "a:   \n  - 1\n",
    "top scalar\n",
    "[1, 2]\n",
    "- &x anchored\n- *x\n",
    "x: \"a\\\n  b\"\n",
    "crlf: 1\r\nnext: 2\r\n",
    "unicode: é ü 中文 😀\n",
    "k: [a: 1, b]\n",
    "k: {a, b: c}\n",
    "trailing: spaces   \nend: x\n",
    "a:\n    - x\n    - y\nb: 1\n",
    "long: >\n\n  leading empty\n",
]

@Suite struct YAMLReaderTests {
    func read(_ s: String) throws(YAMLError) -> Node? { try YAML.compose(s) }

    /// Every construct above, and every YAML file odflash ships or tests with, reads to the tree PyYAML reads.
    @Test func agreesWithPyYAML() throws {
        var docs = featureCorpus
        var names = featureCorpus.map { "corpus: \($0.debugDescription)" }
        let fm = FileManager.default
        for dir in ["firmware-db", "Tests", "scripts"] {
            guard let e = fm.enumerator(atPath: repoRoot + "/" + dir) else { continue }
            for case let f as String in e where f.hasSuffix(".yaml") || f.hasSuffix(".yml") {
                let path = repoRoot + "/" + dir + "/" + f
                guard let t = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
                docs.append(t)
                names.append(dir + "/" + f)
            }
        }
        #expect(docs.count > featureCorpus.count + 20)
        let reference = try pyyaml(docs)
        for (k, d) in docs.enumerated() {
            let ours: String
            do { ours = try read(d).map { try canonical(json($0)) } ?? "null" } catch { ours = "ERROR: \(error)" }
            if reference[k] == "ERROR" {
                // PyYAML refuses it; so must we (firmware-db holds no such file).
                #expect(ours.hasPrefix("ERROR"), "\(names[k]): PyYAML refuses it, odflash read \(ours)")
            } else {
                #expect(ours == reference[k], "\(names[k])")
            }
        }
    }

    @Test func refusesWithTheLine() throws {
        let cases: [(String, Int, String)] = [
            ("a: 1\nb: [1, 2\n", 2, "not closed"),
            ("a: 1\n  b: 2\n", 2, "': '"),
            ("a:\n  b: [1]\n   c: 2\n", 3, "indented more"),
            ("a: 1\na: 2\n", 2, "given twice"),
            ("a: \"open\nb: 2\n", 1, "not closed"),
            ("a: !!int 1\n", 1, "tags"),
            ("%YAML 1.2\n---\na: 1\n", 1, "directives"),
            ("a: 1\n---\nb: 2\n", 2, "second document"),
            ("a:\n\t- x\n", 2, "tab"),
            ("a: *nope\n", 1, "no anchor"),
            ("a: b: c\n", 1, "mapping"),
            ("a: - b\n", 1, "sequence"),
            ("? complex\n: v\n", 1, "complex"),
            ("a: 1\nb: 2\n\u{01}c: 3\n", 3, "control character"),
            ("a: \"\\q\"\n", 1, "unknown escape"),
            ("a: 1\n- b\n", 2, "'- '"),
            ("- a\nb: c\n", 2, "after the document"),
            ("a: \"x\" y\n", 1, "unexpected text"),
            ("a: &x &y 1\n", 1, "two anchors"),
            ("a: b\n  c: d\n", 2, "': '"),
            ("a: {b: 1, b: 2}\n", 1, "given twice"),
            ("a: [1, 2}\n", 1, "expected ','"),
            ("a: @x\n", 1, "cannot start"),
        ]
        for (doc, line, words) in cases {
            do {
                _ = try read(doc)
                Issue.record("read \(doc.debugDescription) without an error")
            } catch {
                #expect(error.line == line, "\(doc.debugDescription): \(error)")
                #expect(error.problem.contains(words), "\(doc.debugDescription): \(error)")
            }
        }
    }

    @Test func emptyDocumentsAreNil() throws {
        for d in ["", "\n\n", "# only a comment\n", "---\n", "---\n...\n", "\u{FEFF}"] { #expect(try read(d) == nil, "\(d.debugDescription)") }
    }

    /// Deep nesting is refused, never a crashed stack: flow, block and anchors.
    @Test func nestingIsBounded() throws {
        let flow = String(repeating: "[", count: 100_000)
        let block = (0..<1000).map { String(repeating: " ", count: $0) + "k:" }.joined(separator: "\n")
        let seq = String(repeating: "- ", count: 50_000) + "x"
        for d in [flow, block, seq, "a: " + String(repeating: "{b: ", count: 10_000)] {
            #expect(throws: YAMLError.self) { try read(d) }
        }
        // Right at the bound it still reads.
        let ok = String(repeating: "[", count: YAML.maxDepth) + String(repeating: "]", count: YAML.maxDepth)
        #expect(try read(ok) != nil)
    }

    @Test func marksAreLines() throws {
        let n = try #require(try read("# c\na: 1\nb:\n  - x\n  - y: 2\n    z: >-\n      t\n"))
        let m = try #require(n.mapping)
        #expect(n.mark?.line == 2)
        #expect(m["a"]?.mark?.line == 2)
        let seq = try #require(m["b"]?.sequence)
        #expect(m["b"]?.mark?.line == 4)
        #expect(seq[0].mark?.line == 4 && seq[1].mark?.line == 5)
        #expect(seq[1].mapping?["z"]?.mark?.line == 6)
        #expect(seq[1].mapping?["z"]?.scalar?.style == .folded)
        #expect(m["a"]?.scalar?.style == .plain)
    }

    @Test func stylesAndNumbers() throws {
        let m = try #require(try read("a: 0x1F\nb: '12'\nc: -3\nd: 1_000\ne: 0x\nf: true\ng: off\nh: ''\ni:\n")?.mapping)
        #expect(m["a"]?.int == 31 && m["b"]?.int == nil && m["c"]?.int == -3 && m["d"]?.int == 1000 && m["e"]?.int == nil)
        #expect(m["f"]?.bool == true && m["g"]?.bool == false)
        #expect(m["h"]?.isNull == false && m["i"]?.isNull == true)
        #expect(YAMLNumber.int("9223372036854775808") == nil && YAMLNumber.int("-9223372036854775808") == Int.min)
        // '_' is ignored, as firmware-db's checked reader always read it; a number needs at least one digit.
        #expect(YAMLNumber.int("1__0") == 10 && YAMLNumber.int("_1") == 1 && YAMLNumber.int("1_") == 1)
        #expect(YAMLNumber.int("_") == nil && YAMLNumber.int("0x_") == nil && YAMLNumber.int("-") == nil && YAMLNumber.int(" 0x1F ") == 31)
        #expect(YAMLNumber.double("1.5e3") == 1500 && YAMLNumber.double(".inf") == .infinity && YAMLNumber.double("x") == nil)
    }

    /// The one-line flow text of a node reads back as the same node, scalar styles that matter kept.
    @Test func flowTextRoundTrips() throws {
        var nodes: [Node] = []
        for d in featureCorpus { if let n = try read(d) { nodes.append(n) } }
        for f in (try? FileManager.default.contentsOfDirectory(atPath: repoRoot + "/firmware-db/families")) ?? [] {
            if let n = try read(try String(contentsOfFile: repoRoot + "/firmware-db/families/" + f, encoding: .utf8)) { nodes.append(n) }
        }
        #expect(nodes.count > 40)
        for n in nodes {
            let back = try #require(try read(n.flowText))
            #expect(back == n, "\(n.flowText)")
            #expect(!n.flowText.contains("\n"))
        }
        let q = try #require(try read("a: '12'\nb: 12\nc:\n")?.mapping)
        let r = try #require(try read(Node.mapping(q).flowText)?.mapping)
        #expect(r["a"]?.scalar?.style != .plain && r["b"]?.scalar?.style == .plain && r["c"]?.isNull == true)
    }
}

struct Sample: Decodable, Equatable {
    struct Inner: Decodable, Equatable { var at: Int; var bytes: [UInt8]? }
    var name: String
    var size: Int
    var ratio: Double?
    var on: Bool
    var inner: [Inner]
    var missing: String?
}

@Suite struct YAMLDecoderTests {
    func decode(_ s: String) throws -> Sample { try YAMLDecoder().decode(Sample.self, from: try #require(try YAML.compose(s))) }

    @Test func decodesTypes() throws {
        let s = try decode("name: x\nsize: 0x10\nratio: 2.5\non: true\ninner:\n  - {at: 1, bytes: [0xFF, 2]}\n  - at: 2\nmissing:\n")
        #expect(s == Sample(name: "x", size: 16, ratio: 2.5, on: true, inner: [.init(at: 1, bytes: [255, 2]), .init(at: 2, bytes: nil)], missing: nil))
    }

    @Test func errorsCarryThePath() throws {
        func path(_ e: any Error) -> String {
            guard let d = e as? DecodingError else { return "not a DecodingError: \(e)" }
            switch d {
            case let .typeMismatch(_, c), let .valueNotFound(_, c), let .dataCorrupted(c): return c.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
            case let .keyNotFound(k, c): return (c.codingPath + [k]).map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
            @unknown default: return "?"
            }
        }
        let cases: [(String, String)] = [
            ("name: x\nsize: big\non: true\ninner: []\n", "size"),
            ("name: x\nsize: 1\non: maybe\ninner: []\n", "on"),
            ("name: x\nsize: 1\non: true\ninner: [{at: 1, bytes: [256]}]\n", "inner.0.bytes.0"),
            ("name: x\nsize: 1\non: true\ninner: [{bytes: [1]}]\n", "inner.0.at"),
            ("name: x\nsize: 1\non: true\ninner: x\n", "inner"),
            ("name: [x]\nsize: 1\non: true\ninner: []\n", "name"),
            ("size: 1\non: true\ninner: []\n", "name"),
        ]
        for (doc, p) in cases {
            do { _ = try decode(doc); Issue.record("decoded \(doc.debugDescription)") } catch { #expect(path(error) == p, "\(doc.debugDescription): \(error)") }
        }
    }
}
