import Foundation
import Testing

/// The test-support JSON parser and schema validator: each keyword accepts what it should and rejects what it should.
@Suite struct JSONSchemaTests {
    func json(_ s: String) -> JSONValue { try! JSONValue.parse(s) }

    /// One schema file "s.json" (plus "other.json" for cross-file references).
    func set(_ schema: String, other: String = "{}") -> JSONSchemaSet {
        JSONSchemaSet(documents: ["s.json": json(schema), "other.json": json(other)])
    }

    func accepts(_ schema: String, _ doc: String, other: String = "{}", sourceLocation: SourceLocation = #_sourceLocation) {
        let errors = (try? set(schema, other: other).validate(json(doc), against: "s.json")) ?? ["schema error"]
        #expect(errors.isEmpty, "\(doc) should validate: \(errors)", sourceLocation: sourceLocation)
    }

    func rejects(_ schema: String, _ doc: String, other: String = "{}", containing text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let errors = (try? set(schema, other: other).validate(json(doc), against: "s.json")) ?? ["schema error"]
        #expect(!errors.isEmpty && errors.joined(separator: "\n").contains(text), "\(doc) should be rejected with '\(text)': \(errors)",
                sourceLocation: sourceLocation)
    }

    @Test func parserKeepsIntegersBooleansAndNullApart() throws {
        let v = json(#"{"a": 1, "b": true, "c": null, "d": 1.5, "e": "x\u00e9\ud83d\ude00\n", "f": [0, -2e3]}"#)
        #expect(v["a"] == .number(1) && v["b"] == .bool(true) && v["c"] == .null && v["d"] == .number(1.5))
        #expect(v["e"] == .string("xé😀\n") && v["f"] == .array([.number(0), .number(-2000)]))
        for bad in [#"{"a": 1, "a": 2}"#, "[1,]", "{\"a\" 1}", "01", "\"\\ud800\"", "tru", "[1] x", "\"a\nb\"", ""] {
            #expect(throws: JSONValue.ParseError.self, "\(bad)") { try JSONValue.parse(bad) }
        }
    }

    @Test func type() {
        accepts(#"{"type": "integer"}"#, "3")
        accepts(#"{"type": "integer"}"#, "3.0")
        rejects(#"{"type": "integer"}"#, "3.5", containing: "number where integer is expected")
        rejects(#"{"type": "integer"}"#, "true", containing: "boolean where integer is expected")
        accepts(#"{"type": "number"}"#, "3")
        rejects(#"{"type": "string"}"#, "null", containing: "null where string is expected")
        rejects(#"{"type": "boolean"}"#, "1", containing: "integer where boolean is expected")
        rejects(#"{"type": "object"}"#, "[]", containing: "array where object is expected")
        rejects(#"{"type": "array"}"#, "{}", containing: "object where array is expected")
        // Nullable through a type array.
        accepts(#"{"type": ["boolean", "null"]}"#, "null")
        accepts(#"{"type": ["boolean", "null"]}"#, "false")
        rejects(#"{"type": ["boolean", "null"]}"#, "\"yes\"", containing: "string where boolean or null is expected")
    }

    @Test func propertiesRequiredAndAdditionalProperties() {
        let s = #"{"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}, "b": {"type": "integer"}}, "additionalProperties": false}"#
        accepts(s, #"{"a": "x"}"#)
        accepts(s, #"{"a": "x", "b": 2}"#)
        rejects(s, #"{"b": 2}"#, containing: "required key \"a\" is missing")
        rejects(s, #"{"a": "x", "c": 1}"#, containing: "key \"c\" is not allowed")
        rejects(s, #"{"a": 1}"#, containing: "$.a: integer where string is expected")
        // additionalProperties as a schema; absent means anything goes.
        accepts(#"{"additionalProperties": {"type": "string"}}"#, #"{"x": "y"}"#)
        rejects(#"{"additionalProperties": {"type": "string"}}"#, #"{"x": 1}"#, containing: "$.x: integer")
        accepts(#"{"properties": {"a": {"type": "string"}}}"#, #"{"z": 1}"#)
    }

    @Test func itemsAndCounts() {
        let s = #"{"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2}"#
        accepts(s, "[1, 2]")
        rejects(s, "[1, \"2\"]", containing: "$[1]: string where integer is expected")
        rejects(s, "[1]", containing: "at least 2")
        rejects(s, "[1, 2, 3]", containing: "at most 2")
    }

    @Test func enumConstPatternAndBounds() {
        accepts(#"{"enum": ["OK", "BAD", 3]}"#, "\"OK\"")
        accepts(#"{"enum": ["OK", "BAD", 3]}"#, "3")
        rejects(#"{"enum": ["OK", "BAD"]}"#, "\"ok\"", containing: "is not one of")
        rejects(#"{"enum": [1]}"#, "true", containing: "is not one of")
        accepts(#"{"const": "error"}"#, "\"error\"")
        rejects(#"{"const": "error"}"#, "\"result\"", containing: "where \"error\" is expected")
        accepts(#"{"pattern": "^[0-9A-F]{2}h$"}"#, "\"FDh\"")
        rejects(#"{"pattern": "^[0-9A-F]{2}h$"}"#, "\"fdh\"", containing: "does not match")
        rejects(#"{"minimum": 1}"#, "0", containing: "below the minimum")
        rejects(#"{"maximum": 1}"#, "2", containing: "above the maximum")
    }

    @Test func combinators() {
        let one = #"{"oneOf": [{"type": "integer"}, {"type": "number"}]}"#
        accepts(one, "1.5")
        rejects(one, "1", containing: "matches 2 branches of oneOf")
        rejects(one, "\"x\"", containing: "matches none of oneOf")
        let any = #"{"anyOf": [{"type": "integer"}, {"type": "number"}]}"#
        accepts(any, "1")
        rejects(any, "\"x\"", containing: "matches none of anyOf")
        let all = #"{"allOf": [{"type": "integer"}, {"minimum": 3}]}"#
        accepts(all, "4")
        rejects(all, "2", containing: "below the minimum")
    }

    @Test func references() {
        let s = ##"{"$defs": {"n": {"type": "integer"}}, "type": "object", "properties": {"a": {"$ref": "#/$defs/n"}, "b": {"$ref": "other.json#/$defs/s"}}}"##
        let other = #"{"$defs": {"s": {"type": "string"}}}"#
        accepts(s, #"{"a": 1, "b": "x"}"#, other: other)
        rejects(s, #"{"a": "1"}"#, other: other, containing: "$.a: string where integer is expected")
        rejects(s, #"{"b": 1}"#, other: other, containing: "$.b: integer where string is expected")
        // A whole other document, and a reference that does not resolve (a broken schema, not a failing document).
        accepts(#"{"$ref": "other.json"}"#, "7", other: #"{"type": "integer"}"#)
        rejects(#"{"$ref": "other.json"}"#, "\"7\"", other: #"{"type": "integer"}"#, containing: "string where integer")
        #expect(throws: JSONSchemaSet.SchemaError.self) { try set(##"{"$ref": "#/$defs/missing"}"##).validate(.null, against: "s.json") }
    }

    /// A keyword the validator does not implement is an error in the schema, never silently passed.
    @Test func unsupportedKeywordsAreSchemaErrors() {
        for s in [#"{"if": {}}"#, #"{"propertyNames": {}}"#, #"{"type": "object", "properties": {"a": {"format": "date"}}}"#, #"{"type": "float"}"#] {
            #expect(throws: JSONSchemaSet.SchemaError.self, "\(s)") { try set(s).validate(json(#"{"a": "x"}"#), against: "s.json") }
        }
    }

    /// Every schema under docs/schemas parses, declares draft 2020-12, uses only the keywords the validator implements,
    /// and every $ref in it resolves (walked here, since a validation meets only the branches a document takes).
    @Test func shippedSchemasAreWellFormed() throws {
        let schemas = try JSONSchemaSet(folder: repoRoot + "/docs/schemas")
        #expect(schemas.documents.count >= 20)
        func walk(_ v: JSONValue, _ file: String, _ path: String) throws {
            guard case let .object(o) = v else { return }
            for k in o.keys where !JSONSchemaSet.keywords.contains(k) && !JSONSchemaSet.annotations.contains(k) {
                Issue.record("\(file) \(path): unsupported keyword \(k)")
            }
            if let r = o["$ref"]?.string { _ = try schemas.resolve(r, from: file) }
            for k in ["items", "additionalProperties"] { if let x = o[k] { try walk(x, file, path + "/" + k) } }
            for k in ["properties", "$defs"] { for (n, x) in o[k]?.object ?? [:] { try walk(x, file, path + "/\(k)/" + n) } }
            for k in ["oneOf", "anyOf", "allOf"] { for (i, x) in (o[k]?.array ?? []).enumerated() { try walk(x, file, path + "/\(k)/\(i)") } }
        }
        for (f, d) in schemas.documents {
            #expect(d["$schema"]?.string == "https://json-schema.org/draft/2020-12/schema", "\(f)")
            try walk(d, f, "#")
        }
    }
}
