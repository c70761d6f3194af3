import Foundation

/// A JSON value, parsed exactly: integers and booleans stay apart (JSONSerialization mixes them up on Linux), and a
/// duplicate key is an error.
indirect enum JSONValue: Equatable, CustomStringConvertible, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    var object: [String: JSONValue]? { if case let .object(o) = self { return o }; return nil }
    var array: [JSONValue]? { if case let .array(a) = self { return a }; return nil }
    var string: String? { if case let .string(s) = self { return s }; return nil }
    subscript(_ key: String) -> JSONValue? { object?[key] }

    var description: String {
        switch self {
        case .null: "null"
        case let .bool(b): "\(b)"
        case let .number(n): n.rounded() == n && abs(n) < 1e15 ? "\(Int64(n))" : "\(n)"
        case let .string(s): "\"\(s)\""
        case let .array(a): "[" + a.map(\.description).joined(separator: ",") + "]"
        case let .object(o): "{" + o.keys.sorted().map { "\"\($0)\":\(o[$0]!)" }.joined(separator: ",") + "}"
        }
    }

    struct ParseError: Error, CustomStringConvertible {
        let description: String
    }

    /// Parses one JSON document (RFC 8259); whitespace around it is allowed, anything else after it is not.
    static func parse(_ text: String) throws -> JSONValue {
        var p = Parser(bytes: Array(text.utf8))
        p.skipSpace()
        let v = try p.value(depth: 0)
        p.skipSpace()
        guard p.i == p.bytes.count else { throw p.fail("trailing characters") }
        return v
    }

    private struct Parser {
        let bytes: [UInt8]
        var i = 0

        func fail(_ what: String) -> ParseError { ParseError(description: "JSON: \(what) at byte \(i)") }

        mutating func skipSpace() {
            while i < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 }
        }

        mutating func literal(_ word: String, _ v: JSONValue) throws -> JSONValue {
            let w = Array(word.utf8)
            guard i + w.count <= bytes.count, Array(bytes[i..<(i + w.count)]) == w else { throw fail("invalid literal") }
            i += w.count
            return v
        }

        mutating func value(depth: Int) throws -> JSONValue {
            guard depth < 200 else { throw fail("nested too deeply") }
            guard i < bytes.count else { throw fail("unexpected end") }
            switch bytes[i] {
            case UInt8(ascii: "{"):
                i += 1
                var o: [String: JSONValue] = [:]
                skipSpace()
                if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(o) }
                while true {
                    skipSpace()
                    guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a key") }
                    let k = try string()
                    guard o[k] == nil else { throw fail("duplicate key \"\(k)\"") }
                    skipSpace()
                    guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                    i += 1
                    skipSpace()
                    o[k] = try value(depth: depth + 1)
                    skipSpace()
                    guard i < bytes.count else { throw fail("unexpected end") }
                    if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(o) }
                    throw fail("expected ',' or '}'")
                }
            case UInt8(ascii: "["):
                i += 1
                var a: [JSONValue] = []
                skipSpace()
                if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
                while true {
                    skipSpace()
                    a.append(try value(depth: depth + 1))
                    skipSpace()
                    guard i < bytes.count else { throw fail("unexpected end") }
                    if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
                    throw fail("expected ',' or ']'")
                }
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): return try literal("true", .bool(true))
            case UInt8(ascii: "f"): return try literal("false", .bool(false))
            case UInt8(ascii: "n"): return try literal("null", .null)
            default: return try number()
            }
        }

        mutating func number() throws -> JSONValue {
            let start = i
            func digits() -> Int { let s = i; while i < bytes.count, (0x30...0x39).contains(bytes[i]) { i += 1 }; return i - s }
            if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
            let intStart = i
            guard digits() > 0 else { throw fail("invalid number") }
            if bytes[intStart] == 0x30 && i - intStart > 1 { throw fail("leading zero") }
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") { i += 1; guard digits() > 0 else { throw fail("invalid fraction") } }
            if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
                i += 1
                if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
                guard digits() > 0 else { throw fail("invalid exponent") }
            }
            guard let d = Double(String(decoding: bytes[start..<i], as: UTF8.self)) else { throw fail("invalid number") }
            return .number(d)
        }

        mutating func hex4() throws -> UInt32 {
            guard i + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[i..<(i + 4)], as: UTF8.self), radix: 16) else { throw fail("invalid \\u escape") }
            i += 4
            return v
        }

        mutating func string() throws -> String {
            i += 1   // the opening quote
            var out = [UInt8]()
            while true {
                guard i < bytes.count else { throw fail("unterminated string") }
                let c = bytes[i]
                i += 1
                switch c {
                case UInt8(ascii: "\""): return String(decoding: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard i < bytes.count else { throw fail("unterminated escape") }
                    let e = bytes[i]
                    i += 1
                    switch e {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        var u = try hex4()
                        if (0xD800...0xDBFF).contains(u) {
                            guard i + 2 <= bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else { throw fail("lone surrogate") }
                            i += 2
                            let lo = try hex4()
                            guard (0xDC00...0xDFFF).contains(lo) else { throw fail("invalid surrogate pair") }
                            u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00)
                        } else if (0xDC00...0xDFFF).contains(u) {
                            throw fail("lone surrogate")
                        }
                        out += Array(String(Character(Unicode.Scalar(u)!)).utf8)
                    default: throw fail("invalid escape")
                    }
                case 0x00..<0x20: throw fail("control character in a string")
                default: out.append(c)
                }
            }
        }
    }
}

/// A JSON Schema validator for the subset docs/schemas uses (draft 2020-12 keywords):
/// type (a name or an array of names: object, array, string, integer, number, boolean, null), properties, required,
/// additionalProperties (false or a schema), items, minItems, maxItems, enum, const, pattern, minimum, maximum,
/// oneOf, anyOf, allOf, and $ref to "#/json/pointer" or "other.schema.json#/json/pointer" in the same folder.
/// Annotations ($schema, $id, $defs, title, description, $comment) are ignored; any other keyword is an error in
/// the schema, so that a schema never seems to check something this validator does not.
struct JSONSchemaSet: Sendable {
    static let keywords: Set<String> = ["type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems", "enum",
                                        "const", "pattern", "minimum", "maximum", "oneOf", "anyOf", "allOf", "$ref"]
    static let annotations: Set<String> = ["$schema", "$id", "$defs", "definitions", "title", "description", "$comment", "examples", "default"]

    struct SchemaError: Error, CustomStringConvertible { let description: String }

    /// The schemas by file name.
    let documents: [String: JSONValue]

    init(documents: [String: JSONValue]) { self.documents = documents }

    /// Every *.json file of a folder.
    init(folder: String) throws {
        var docs: [String: JSONValue] = [:]
        for f in try FileManager.default.contentsOfDirectory(atPath: folder) where f.hasSuffix(".json") {
            let text = try String(contentsOfFile: folder + "/" + f, encoding: .utf8)
            do { docs[f] = try JSONValue.parse(text) } catch { throw SchemaError(description: "\(f): \(error)") }
        }
        documents = docs
    }

    /// The problems of `value` against the schema in `file` (empty: valid). Throws for a broken schema.
    func validate(_ value: JSONValue, against file: String) throws -> [String] {
        guard let root = documents[file] else { throw SchemaError(description: "no schema \(file)") }
        return try check(value, root, file: file, path: "$")
    }

    func resolve(_ ref: String, from file: String) throws -> (JSONValue, String) {
        let parts = ref.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let target = parts[0].isEmpty ? file : parts[0]
        guard var node = documents[target] else { throw SchemaError(description: "\(file): $ref \(ref): no schema \(target)") }
        let pointer = parts.count > 1 ? parts[1] : ""
        for token in pointer.split(separator: "/").map({ $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~") }) {
            switch node {
            case let .object(o) where o[token] != nil: node = o[token]!
            case let .array(a) where Int(token).map({ a.indices.contains($0) }) == true: node = a[Int(token)!]
            default: throw SchemaError(description: "\(file): $ref \(ref) does not resolve")
            }
        }
        return (node, target)
    }

    static func typeMatches(_ v: JSONValue, _ t: String) throws -> Bool {
        switch (t, v) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object), ("number", .number): return true
        case let ("integer", .number(n)): return n.rounded() == n
        case ("null", _), ("boolean", _), ("string", _), ("array", _), ("object", _), ("number", _), ("integer", _): return false
        default: throw SchemaError(description: "unknown type '\(t)'")
        }
    }

    func check(_ v: JSONValue, _ schema: JSONValue, file: String, path: String) throws -> [String] {
        if case let .bool(b) = schema { return b ? [] : ["\(path): not allowed here"] }
        guard let s = schema.object else { throw SchemaError(description: "\(file): a schema must be an object or a boolean (at \(path))") }
        for k in s.keys where !Self.keywords.contains(k) && !Self.annotations.contains(k) {
            throw SchemaError(description: "\(file): unsupported keyword '\(k)' (at \(path))")
        }
        var errors: [String] = []
        if let r = s["$ref"] {
            guard let ref = r.string else { throw SchemaError(description: "\(file): $ref must be a string") }
            let (target, targetFile) = try resolve(ref, from: file)
            errors += try check(v, target, file: targetFile, path: path)
        }
        if let t = s["type"] {
            let names: [String]
            switch t {
            case let .string(n): names = [n]
            case let .array(a): names = try a.map { guard let n = $0.string else { throw SchemaError(description: "\(file): type names are strings") }; return n }
            default: throw SchemaError(description: "\(file): type must be a string or an array")
            }
            if try !names.contains(where: { try Self.typeMatches(v, $0) }) {
                errors.append("\(path): \(v.kindName) where \(names.joined(separator: " or ")) is expected")
                return errors   // the other keywords would only repeat it
            }
        }
        if let e = s["enum"] {
            guard let options = e.array else { throw SchemaError(description: "\(file): enum must be an array") }
            if !options.contains(v) { errors.append("\(path): \(v) is not one of \(options.map(\.description).joined(separator: ", "))") }
        }
        if let c = s["const"], c != v { errors.append("\(path): \(v) where \(c) is expected") }
        if let p = s["pattern"] {
            guard let pattern = p.string, let re = try? NSRegularExpression(pattern: pattern) else { throw SchemaError(description: "\(file): invalid pattern") }
            if let str = v.string, re.firstMatch(in: str, range: NSRange(str.startIndex..., in: str)) == nil {
                errors.append("\(path): \"\(str)\" does not match \(pattern)")
            }
        }
        if case let .number(n) = v {
            if case let .number(m)? = s["minimum"], n < m { errors.append("\(path): \(v) is below the minimum \(m)") }
            if case let .number(m)? = s["maximum"], n > m { errors.append("\(path): \(v) is above the maximum \(m)") }
        }
        if case let .object(o) = v {
            let props = s["properties"]?.object ?? [:]
            if let req = s["required"] {
                guard let names = req.array?.compactMap(\.string) else { throw SchemaError(description: "\(file): required must list names") }
                for n in names where o[n] == nil { errors.append("\(path): required key \"\(n)\" is missing") }
            }
            for (k, x) in o.sorted(by: { $0.key < $1.key }) {
                if let ps = props[k] {
                    errors += try check(x, ps, file: file, path: path + "." + k)
                } else if let ap = s["additionalProperties"] {
                    if case .bool(false) = ap { errors.append("\(path): key \"\(k)\" is not allowed") } else { errors += try check(x, ap, file: file, path: path + "." + k) }
                }
            }
        }
        if case let .array(a) = v {
            if case let .number(m)? = s["minItems"], Double(a.count) < m { errors.append("\(path): \(a.count) items, at least \(Int(m)) expected") }
            if case let .number(m)? = s["maxItems"], Double(a.count) > m { errors.append("\(path): \(a.count) items, at most \(Int(m)) expected") }
            if let item = s["items"] {
                for (i, x) in a.enumerated() { errors += try check(x, item, file: file, path: path + "[\(i)]") }
            }
        }
        if let all = s["allOf"]?.array {
            for sub in all { errors += try check(v, sub, file: file, path: path) }
        }
        if let any = s["anyOf"]?.array {
            var results: [[String]] = []
            for sub in any { results.append(try check(v, sub, file: file, path: path)) }
            if !results.contains(where: \.isEmpty) {
                errors.append("\(path): matches none of anyOf (\(results.map { $0.first ?? "" }.joined(separator: " | ")))")
            }
        }
        if let one = s["oneOf"]?.array {
            var results: [[String]] = []
            for sub in one { results.append(try check(v, sub, file: file, path: path)) }
            let passing = results.filter(\.isEmpty).count
            if passing == 0 {
                // The branch that came closest says most about what is wrong.
                let best = results.min { $0.count < $1.count } ?? []
                errors.append("\(path): matches none of oneOf; closest: \(best.joined(separator: "; "))")
            } else if passing > 1 {
                errors.append("\(path): matches \(passing) branches of oneOf, exactly one expected")
            }
        }
        return errors
    }
}

extension JSONValue {
    var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case let .number(n): n.rounded() == n ? "integer" : "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}
