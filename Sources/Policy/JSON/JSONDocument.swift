import Foundation

/// A parsed JSON text kept as a flat "tape" of nodes over the original bytes.
///
/// Why a tape and not a tree of enums/dictionaries: the hot path (≥1M events/s on one core)
/// cannot afford a heap allocation per field. Nodes are plain structs in one array that the
/// parser reuses between events; strings stay as byte ranges until someone asks for a `String`.
public struct JSONDocument: Sendable {
    /// The JSON text the nodes point into.
    public let bytes: [UInt8]
    /// Nodes in document order. Containers are followed by their children; object children
    /// come in (key, value) pairs. `next` skips a whole subtree. The array is the parser's buffer:
    /// slots past the root's `next` are not this document's, so nothing here reads by `count`.
    @usableFromInline var nodes: [JSONNode]

    init(bytes: [UInt8], nodes: [JSONNode]) {
        self.bytes = bytes
        self.nodes = nodes
    }

    /// Parses `bytes` (throws `JSONParseError` with the byte offset of the problem).
    public init(parsing bytes: [UInt8]) throws(JSONParseError) {
        var parser = JSONParser()
        self = try parser.parse(bytes)
    }

    /// Index of the root node.
    public var root: Int { 0 }

    public func kind(_ node: Int) -> JSONNode.Kind { nodes[node].kind }

    /// The number stored in a `.number` node.
    public func number(_ node: Int) -> Double { nodes[node].number }

    /// Number of elements (array) or fields (object).
    public func count(_ node: Int) -> Int { Int(nodes[node].count) }

    /// Index of the node after `node`'s subtree.
    @inlinable public func next(_ node: Int) -> Int { Int(nodes[node].next) }

    /// The string value of a `.string` node (unescaped).
    public func string(_ node: Int) -> String {
        let n = nodes[node]
        if !n.escaped {
            return bytes.withUnsafeBufferPointer {
                String(decoding: UnsafeBufferPointer(rebasing: $0[Int(n.start)..<Int(n.end)]), as: UTF8.self)
            }
        }
        return String(decoding: unescapedBytes(node), as: UTF8.self)
    }

    /// The unescaped UTF-8 bytes of a `.string` node.
    public func unescapedBytes(_ node: Int) -> [UInt8] {
        let n = nodes[node]
        let raw = bytes[Int(n.start)..<Int(n.end)]
        return n.escaped ? JSONEscapes.unescape(raw) : Array(raw)
    }

    /// Raw JSON text of any node's subtree (for pass-through of objects and arrays).
    public func rawSlice(_ node: Int) -> ArraySlice<UInt8> {
        let n = nodes[node]
        if n.kind == .string { return bytes[Int(n.start) - 1..<Int(n.end) + 1] }
        return bytes[Int(n.start)..<Int(n.end)]
    }

    /// True when the string node equals `literal` byte for byte (after unescaping).
    @inlinable public func stringEquals(_ node: Int, _ literal: [UInt8]) -> Bool {
        let n = nodes[node]
        guard n.kind == .string else { return false }
        if n.escaped { return unescapedBytes(node) == literal }
        let length = Int(n.end - n.start)
        guard length == literal.count else { return false }
        return bytes.withUnsafeBufferPointer { body in
            literal.withUnsafeBufferPointer { lit in
                guard let text = body.baseAddress, let lit = lit.baseAddress else { return length == 0 }
                return memcmp(text + Int(n.start), lit, length) == 0
            }
        }
    }

    /// Value node of field `key` in object `object`, or nil. Keys compare as bytes.
    @inlinable public func field(_ object: Int, _ key: [UInt8]) -> Int? {
        let o = nodes[object]
        guard o.kind == .object else { return nil }
        var i = object + 1
        for _ in 0..<Int(o.count) {
            if stringEquals(i, key) { return i + 1 }
            i = Int(nodes[i + 1].next)
        }
        return nil
    }

    /// Follows a path of keys from `node`.
    @inlinable public func lookup(_ path: [[UInt8]], from node: Int) -> Int? {
        var current = node
        for key in path {
            guard let next = field(current, key) else { return nil }
            current = next
        }
        return current
    }

    /// Iterates an object's fields as (key node, value node).
    public func fields(_ object: Int) -> [(key: Int, value: Int)] {
        var result: [(Int, Int)] = []
        var i = object + 1
        for _ in 0..<count(object) {
            result.append((i, i + 1))
            i = next(i + 1)
        }
        return result
    }

    /// Element nodes of an array.
    public func elements(_ array: Int) -> [Int] {
        var result: [Int] = []
        var i = array + 1
        for _ in 0..<count(array) {
            result.append(i)
            i = next(i)
        }
        return result
    }

    /// Materialises a subtree as a `JSONValue` (allocates; not for the hot path).
    public func value(_ node: Int) -> JSONValue {
        switch kind(node) {
        case .null: return .null
        case .true: return .bool(true)
        case .false: return .bool(false)
        case .number: return .number(number(node))
        case .string: return .string(string(node))
        case .array: return .array(elements(node).map { value($0) })
        case .object: return .object(fields(node).map { JSONValue.Field(name: string($0.key), value: value($0.value)) })
        }
    }

    /// Line and column (1-based) of a byte offset, for diagnostics in JSON files.
    public func lineColumn(ofOffset offset: Int) -> (line: Int, column: Int) {
        JSONText.lineColumn(in: bytes, offset: offset)
    }

    /// Byte offset where a node starts.
    public func offset(_ node: Int) -> Int {
        let n = nodes[node]
        return Int(n.kind == .string ? n.start - 1 : n.start)
    }
}

/// One entry of the tape.
public struct JSONNode: Sendable {
    public enum Kind: UInt8, Sendable { case null, `true`, `false`, number, string, array, object }
    public var kind: Kind
    /// Strings: set when the content holds backslash escapes.
    public var escaped: Bool
    /// Strings: content range without quotes. Containers: from the bracket to past the closing one.
    public var start: Int32
    public var end: Int32
    /// Index of the node following this subtree.
    public var next: Int32
    /// Elements (array) or fields (object).
    public var count: Int32
    public var number: Double
}

enum JSONText {
    static func lineColumn(in bytes: [UInt8], offset: Int) -> (line: Int, column: Int) {
        var line = 1, column = 1
        for b in bytes.prefix(offset) {
            if b == UInt8(ascii: "\n") { line += 1; column = 1 } else if b & 0xC0 != 0x80 { column += 1 }
        }
        return (line, column)
    }
}
