import Foundation

/// An unsafe, ARC-free view of a `JSONDocument` for the hot path (schema validation and
/// expression evaluation). Only valid inside `JSONDocument.withTape`.
struct TapeView {
    let nodes: UnsafePointer<JSONNode>
    let bytes: UnsafePointer<UInt8>

    @inline(__always) func kind(_ i: Int) -> JSONNode.Kind { nodes[i].kind }
    @inline(__always) func number(_ i: Int) -> Double { nodes[i].number }
    @inline(__always) func count(_ i: Int) -> Int { Int(nodes[i].count) }
    @inline(__always) func next(_ i: Int) -> Int { Int(nodes[i].next) }
    @inline(__always) func isEscaped(_ i: Int) -> Bool { nodes[i].escaped }

    /// Raw (still escaped) content of a string node.
    @inline(__always) func rawString(_ i: Int) -> UnsafeBufferPointer<UInt8> {
        let n = nodes[i]
        return UnsafeBufferPointer(start: bytes + Int(n.start), count: Int(n.end - n.start))
    }

    func string(_ i: Int) -> String {
        nodes[i].escaped ? String(decoding: JSONEscapes.unescape(rawString(i)), as: UTF8.self) : String(decoding: rawString(i), as: UTF8.self)
    }

    @inline(__always) func stringEquals(_ i: Int, _ literal: [UInt8]) -> Bool {
        let n = nodes[i]
        guard n.kind == .string else { return false }
        if n.escaped { return JSONEscapes.unescape(rawString(i)) == literal }
        let length = Int(n.end - n.start)
        guard length == literal.count else { return false }
        return literal.withUnsafeBufferPointer { lit in
            guard let lit = lit.baseAddress else { return length == 0 }
            return ShortBytes.equal(bytes + Int(n.start), lit, count: length)
        }
    }

    /// Unicode scalar count of a string node without creating a String.
    func scalarCount(_ i: Int) -> Int {
        if nodes[i].escaped { return string(i).unicodeScalars.count }
        var count = 0
        for b in rawString(i) where b & 0xC0 != 0x80 { count += 1 }
        return count
    }

    @inline(__always) func field(_ object: Int, _ key: [UInt8]) -> Int? {
        guard nodes[object].kind == .object else { return nil }
        var i = object + 1
        for _ in 0..<Int(nodes[object].count) {
            if stringEquals(i, key) { return i + 1 }
            i = Int(nodes[i + 1].next)
        }
        return nil
    }

    @inline(__always) func lookup(_ path: [[UInt8]], from node: Int) -> Int? {
        var current = node
        for key in path {
            guard let next = field(current, key) else { return nil }
            current = next
        }
        return current
    }
}

extension JSONDocument {
    /// Runs `body` with an unsafe view of the tape (no reference counting inside).
    func withTape<R>(_ body: (TapeView) throws -> R) rethrows -> R {
        try nodes.withUnsafeBufferPointer { n in
            try bytes.withUnsafeBufferPointer { b in
                // An empty text never parses, so both buffers have storage here; guard anyway.
                guard let nodes = n.baseAddress else { return try body(EvalContext.emptyTape) }
                let dummy: UInt8 = 0
                return try withUnsafePointer(to: dummy) { fallback in
                    try body(TapeView(nodes: nodes, bytes: b.baseAddress ?? fallback))
                }
            }
        }
    }
}

/// A payload field path (`payload.line.id` → `line`, `id`) compiled once for the hot path.
///
/// Why not `[[UInt8]]`: iterating an array of arrays retains and releases every key on every
/// lookup. The keys live in one allocation owned by this object (freed in `deinit`), and
/// lookups read them through pointers.
final class FieldPath: @unchecked Sendable { // immutable after init
    let depth: Int
    private let bytes: UnsafeMutablePointer<UInt8>
    private let ends: UnsafeMutablePointer<Int>

    init(_ path: [String]) {
        let utf8 = path.map { Array($0.utf8) }
        depth = utf8.count
        bytes = .allocate(capacity: max(1, utf8.reduce(0) { $0 + $1.count }))
        ends = .allocate(capacity: max(1, depth))
        var end = 0
        for (i, key) in utf8.enumerated() {
            (bytes + end).initialize(from: key, count: key.count)
            end += key.count
            ends[i] = end
        }
    }

    deinit {
        bytes.deallocate()
        ends.deallocate()
    }

    @inline(__always) func key(_ i: Int) -> UnsafeBufferPointer<UInt8> {
        let start = i == 0 ? 0 : ends[i - 1]
        return UnsafeBufferPointer(start: bytes + start, count: ends[i] - start)
    }
}

extension TapeView {
    @inline(__always) func stringEquals(_ i: Int, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = nodes[i]
        guard n.kind == .string else { return false }
        if n.escaped { return JSONEscapes.unescape(rawString(i)).elementsEqual(key) }
        let length = Int(n.end - n.start)
        guard length == key.count else { return false }
        guard let key = key.baseAddress else { return length == 0 }
        return ShortBytes.equal(bytes + Int(n.start), key, count: length)
    }

    @inline(__always) func lookup(_ path: FieldPath, from node: Int) -> Int? {
        var current = node
        for depth in 0..<path.depth {
            guard nodes[current].kind == .object else { return nil }
            let key = path.key(depth)
            var i = current + 1
            var found = -1
            for _ in 0..<Int(nodes[current].count) {
                if stringEquals(i, key) { found = i + 1; break }
                i = Int(nodes[i + 1].next)
            }
            guard found >= 0 else { return nil }
            current = found
        }
        return current
    }
}
