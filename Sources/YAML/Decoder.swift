/// Decodes a `Decodable` value from a composed node: mappings give keyed containers, sequences unkeyed ones,
/// scalars the single values. Whole numbers are decimal or 0x hexadecimal (`YAMLNumber.int`), booleans true/false
/// (and yes/no/on/off), null an empty plain scalar, `~` or `null`. Errors are the standard `DecodingError`s with the
/// coding path of the value they are about.
public struct YAMLDecoder {
    public init() {}
    public func decode<T: Decodable>(_ type: T.Type, from node: Node) throws -> T {
        try T(from: NodeDecoder(node: node, codingPath: []))
    }
}

struct IndexKey: CodingKey {
    let intValue: Int?
    let stringValue: String
    init(_ i: Int) { intValue = i; stringValue = "\(i)" }
    init?(intValue: Int) { self.init(intValue) }
    init?(stringValue: String) { return nil }
}

struct NodeDecoder: Decoder {
    let node: Node
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard let m = node.mapping else { throw mismatch([String: Any].self, node, codingPath) }
        return KeyedDecodingContainer(KeyedNodeContainer<Key>(mapping: m, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard let s = node.sequence else { throw mismatch([Any].self, node, codingPath) }
        return UnkeyedNodeContainer(nodes: s.nodes, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleNodeContainer(node: node, codingPath: codingPath) }
}

func mismatch(_ t: Any.Type, _ node: Node, _ path: [any CodingKey]) -> DecodingError {
    let found: String
    switch node {
    case .scalar(let s): found = s.isNull ? "nothing" : "'\(s.string)'"
    case .mapping: found = "a mapping"
    case .sequence: found = "a list"
    }
    return .typeMismatch(t, .init(codingPath: path, debugDescription: "expected \(t), found \(found)"))
}

/// A scalar as one value of type `T`.
func scalarValue<T>(_ node: Node, _ path: [any CodingKey], _ t: T.Type, _ read: (String) -> T?) throws -> T {
    guard let s = node.scalar, let v = read(s.string) else { throw mismatch(t, node, path) }
    return v
}

func integer<T: FixedWidthInteger>(_ node: Node, _ path: [any CodingKey]) throws -> T {
    try scalarValue(node, path, T.self) { s in YAMLNumber.int(s).flatMap { T(exactly: $0) } }
}

func decodeValue<T: Decodable>(_ t: T.Type, _ node: Node, _ path: [any CodingKey]) throws -> T {
    try T(from: NodeDecoder(node: node, codingPath: path))
}

struct SingleNodeContainer: SingleValueDecodingContainer {
    let node: Node
    let codingPath: [any CodingKey]
    func decodeNil() -> Bool { node.isNull }
    func decode(_ type: Bool.Type) throws -> Bool { try scalarValue(node, codingPath, Bool.self, YAMLNumber.bool) }
    func decode(_ type: String.Type) throws -> String { try scalarValue(node, codingPath, String.self) { $0 } }
    func decode(_ type: Double.Type) throws -> Double { try scalarValue(node, codingPath, Double.self, YAMLNumber.double) }
    func decode(_ type: Float.Type) throws -> Float { try scalarValue(node, codingPath, Float.self) { YAMLNumber.double($0).map(Float.init) } }
    func decode(_ type: Int.Type) throws -> Int { try integer(node, codingPath) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(node, codingPath) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(node, codingPath) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(node, codingPath) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(node, codingPath) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(node, codingPath) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(node, codingPath) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(node, codingPath) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(node, codingPath) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(node, codingPath) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeValue(T.self, node, codingPath) }
}

struct KeyedNodeContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let mapping: Node.Mapping
    let codingPath: [any CodingKey]

    var allKeys: [Key] { mapping.pairs.compactMap { $0.key.string.flatMap(Key.init(stringValue:)) } }
    func contains(_ key: Key) -> Bool { mapping[key.stringValue] != nil }

    func value(_ key: Key) throws -> Node {
        guard let v = mapping[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "no value for key '\(key.stringValue)'"))
        }
        return v
    }
    func single(_ key: Key) throws -> SingleNodeContainer { SingleNodeContainer(node: try value(key), codingPath: codingPath + [key]) }

    func decodeNil(forKey key: Key) throws -> Bool { try value(key).isNull }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try single(key).decode(type) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try single(key).decode(type) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try single(key).decode(type) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try single(key).decode(type) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try single(key).decode(type) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try single(key).decode(type) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try single(key).decode(type) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try single(key).decode(type) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try single(key).decode(type) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try single(key).decode(type) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try single(key).decode(type) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try single(key).decode(type) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try single(key).decode(type) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try single(key).decode(type) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try decodeValue(T.self, try value(key), codingPath + [key]) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try NodeDecoder(node: try value(key), codingPath: codingPath + [key]).container(keyedBy: type)
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try NodeDecoder(node: try value(key), codingPath: codingPath + [key]).unkeyedContainer()
    }
    func superDecoder() throws -> any Decoder { NodeDecoder(node: .mapping(mapping), codingPath: codingPath) }
    func superDecoder(forKey key: Key) throws -> any Decoder { NodeDecoder(node: try value(key), codingPath: codingPath + [key]) }
}

struct UnkeyedNodeContainer: UnkeyedDecodingContainer {
    let nodes: [Node]
    let codingPath: [any CodingKey]
    var currentIndex = 0
    init(nodes: [Node], codingPath: [any CodingKey]) { self.nodes = nodes; self.codingPath = codingPath }

    var count: Int? { nodes.count }
    var isAtEnd: Bool { currentIndex >= nodes.count }

    mutating func next<T>(_ t: T.Type) throws -> (Node, [any CodingKey]) {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(t, .init(codingPath: codingPath + [IndexKey(currentIndex)], debugDescription: "the list has only \(nodes.count) entries"))
        }
        defer { currentIndex += 1 }
        return (nodes[currentIndex], codingPath + [IndexKey(currentIndex)])
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, nodes[currentIndex].isNull else { return false }
        currentIndex += 1
        return true
    }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (n, p) = try next(type)
        return try decodeValue(type, n, p)
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let (n, p) = try next([String: Any].self)
        return try NodeDecoder(node: n, codingPath: p).container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let (n, p) = try next([Any].self)
        return try NodeDecoder(node: n, codingPath: p).unkeyedContainer()
    }
    mutating func superDecoder() throws -> any Decoder {
        let (n, p) = try next(Any.self)
        return NodeDecoder(node: n, codingPath: p)
    }
}

/// One line of flow-style YAML that composes to the same node (scalar styles kept where they matter: a plain
/// scalar stays plain when it can, anything else is double-quoted with escapes).
public extension Node {
    var flowText: String {
        var out = ""
        Node.emit(self, into: &out)
        return out
    }

    private static func emit(_ n: Node, into out: inout String) {
        switch n {
        case .scalar(let s):
            if s.style == .plain && s.string.isEmpty { out += "~" }   // null stays null
            else if s.style == .plain && plainSafe(s.string) { out += s.string } else { quote(s.string, into: &out) }
        case .sequence(let s):
            out += "["
            for (k, x) in s.nodes.enumerated() {
                if k > 0 { out += ", " }
                emit(x, into: &out)
            }
            out += "]"
        case .mapping(let m):
            out += "{"
            for (k, p) in m.pairs.enumerated() {
                if k > 0 { out += ", " }
                emit(p.key, into: &out)
                out += ": "
                emit(p.value, into: &out)
            }
            out += "}"
        }
    }

    /// Text that reads back as the same plain scalar in a flow collection.
    private static func plainSafe(_ s: String) -> Bool {
        guard let f = s.utf8.first, let l = s.utf8.last, f != 0x20, l != 0x20 else { return false }
        if s.hasPrefix("---") || s.hasPrefix("...") { return false }
        if "-?:,[]{}#&*!|>'\"%@`".utf8.contains(f) { return false }
        var prev: UInt8 = 0
        for c in s.utf8 {
            if c < 0x20 || c == 0x7F || c >= 0x80 { return false }
            if c == 0x2C || c == 0x5B || c == 0x5D || c == 0x7B || c == 0x7D || c == 0x3A { return false }
            if c == 0x23 && prev == 0x20 { return false }
            prev = c
        }
        return true
    }

    private static func quote(_ s: String, into out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 || u.value == 0x7F || (0x80..<0xA0).contains(u.value) {
                    let h = String(u.value, radix: 16, uppercase: true)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out += "\""
    }
}
