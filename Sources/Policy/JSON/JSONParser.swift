import Foundation

/// Where and why a JSON text failed to parse.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var offset: Int
    public var message: String
    /// The `InputLimits` name when a limit was exceeded (`maxJSONDepth`, `maxNumberMagnitude`).
    public var limit: String?

    public init(offset: Int, message: String, limit: String? = nil) {
        self.offset = offset
        self.message = message
        self.limit = limit
    }

    public var description: String { "\(message) at byte \(offset)" }
}

/// A small, fast JSON parser over bytes into a `JSONDocument` tape.
///
/// Hand-written because Foundation's JSONSerialization/JSONDecoder allocate per field and are
/// an order of magnitude too slow for the one-core throughput target; no package on this
/// machine parses into a reusable, allocation-free representation. It validates strictly
/// (RFC 8259): UTF-8 in strings, no control characters, no trailing commas, one root value.
/// It also refuses what downstream parsers disagree on (I-JSON, RFC 7493): numbers that are not
/// finite doubles, duplicate object keys and unpaired surrogates in `\u` escapes.
/// Reuse one parser per thread: it keeps its node buffer between documents.
public struct JSONParser {
    /// Nesting deeper than this is rejected (protects the recursion).
    public var maxDepth: Int
    /// Numbers of larger magnitude are rejected; non-finite ones always are.
    public var maxNumberMagnitude: Double
    /// The node buffer, written through a pointer while parsing: every slot is initialised, and
    /// only the first `Cursor.nodeCount` of them belong to the document. A document shares it
    /// until the next parse, which writes in place when the document is gone.
    private var nodes: [JSONNode] = []

    /// A node buffer larger than this many nodes (128 KiB) is left to its document instead of
    /// kept for the next one, so one huge event does not pin its tape for the parser's life.
    static let retainedNodeCapacity = 4_096

    public init(maxDepth: Int = InputLimits().maxJSONDepth, maxNumberMagnitude: Double = .greatestFiniteMagnitude) {
        self.maxDepth = maxDepth
        self.maxNumberMagnitude = maxNumberMagnitude
    }

    public mutating func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONDocument {
        let count = bytes.count
        // Node offsets are Int32.
        guard count < Int(Int32.max) - 2 else { throw JSONParseError(offset: 0, message: "JSON text of \(count) bytes is over 2 GiB") }
        while true {
            var bufferFull = false
            let result: JSONParseError? = nodes.withUnsafeMutableBufferPointer { tape in
                bytes.withUnsafeBufferPointer { (buffer) -> JSONParseError? in
                    var cursor = Cursor(base: buffer.baseAddress, count: count, tape: tape, maxDepth: maxDepth, maxNumberMagnitude: maxNumberMagnitude)
                    do throws(JSONParseError) {
                        cursor.skipWhitespace()
                        try cursor.parseValue(depth: 0)
                        cursor.skipWhitespace()
                        if cursor.position != count { throw cursor.error("unexpected data after the JSON value") }
                        return nil
                    } catch {
                        bufferFull = cursor.bufferFull
                        return error
                    }
                }
            }
            // A text of n bytes has at most n nodes (each takes at least one byte), so the buffer
            // reaches a size that holds the document within a few doublings.
            if bufferFull, growNodes(toHoldTextOf: count) { continue }
            if let result { throw result }
            let document = JSONDocument(bytes: bytes, nodes: nodes)
            if nodes.count > Self.retainedNodeCapacity { nodes = [] }
            return document
        }
    }

    /// Replaces the node buffer with one twice as large, at most one node per byte of the text
    /// (plus one); false when it is that large already.
    private mutating func growNodes(toHoldTextOf byteCount: Int) -> Bool {
        let wanted = min(max(64, nodes.count * 2), byteCount + 1)
        guard wanted > nodes.count else { return false }
        nodes = [JSONNode](repeating: JSONNode(kind: .null, escaped: false, start: 0, end: 0, next: 0, count: 0, number: 0), count: wanted)
        return true
    }

    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): b - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// 10^e for 0 ≤ e ≤ 22, the powers a `Double` holds exactly. A switch over literals, not a
/// global table: a global is checked for initialisation and retained at every read.
@inline(__always) private func exactPowerOfTen(_ e: Int) -> Double {
    switch e {
    case 0: 1e0
    case 1: 1e1
    case 2: 1e2
    case 3: 1e3
    case 4: 1e4
    case 5: 1e5
    case 6: 1e6
    case 7: 1e7
    case 8: 1e8
    case 9: 1e9
    case 10: 1e10
    case 11: 1e11
    case 12: 1e12
    case 13: 1e13
    case 14: 1e14
    case 15: 1e15
    case 16: 1e16
    case 17: 1e17
    case 18: 1e18
    case 19: 1e19
    case 20: 1e20
    case 21: 1e21
    default: 1e22
    }
}

private struct Cursor {
    let base: UnsafePointer<UInt8>?
    let count: Int
    /// The parser's node buffer; `nodeCount` of its slots are this document's so far.
    let tape: UnsafeMutableBufferPointer<JSONNode>
    var nodeCount = 0
    /// Set when the document needs more nodes than `tape` holds: the parser grows it and parses again.
    var bufferFull = false
    let maxDepth: Int
    let maxNumberMagnitude: Double
    var position = 0

    /// Objects with up to this many plain keys are checked for duplicates pairwise, in place;
    /// larger ones (and any with an escaped key) through a set, once the object is parsed.
    static let pairwiseKeyLimit: Int32 = 16

    init(base: UnsafePointer<UInt8>?, count: Int, tape: UnsafeMutableBufferPointer<JSONNode>, maxDepth: Int, maxNumberMagnitude: Double) {
        self.base = base
        self.count = count
        self.tape = tape
        self.maxDepth = maxDepth
        self.maxNumberMagnitude = maxNumberMagnitude
    }

    @inline(__always) func byte(_ i: Int) -> UInt8 { base.unsafelyUnwrapped[i] }

    /// Node `i`, one this parse has appended (`i < nodeCount`): no bounds or uniqueness checks,
    /// which an array would make at every write.
    @inline(__always) func node(_ i: Int) -> UnsafeMutablePointer<JSONNode> { tape.baseAddress.unsafelyUnwrapped + i }

    @inline(__always) mutating func append(_ node: JSONNode) throws(JSONParseError) {
        guard nodeCount < tape.count else {
            bufferFull = true
            throw error("node buffer full")
        }
        self.node(nodeCount).pointee = node
        nodeCount += 1
    }

    func error(_ message: String) -> JSONParseError { JSONParseError(offset: position, message: message) }

    @inline(__always) mutating func skipWhitespace() {
        while position < count {
            let b = byte(position)
            guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
            position += 1
        }
    }

    mutating func parseValue(depth: Int) throws(JSONParseError) {
        guard position < count else { throw error("unexpected end of JSON") }
        switch byte(position) {
        case UInt8(ascii: "{"): try parseObject(depth: depth)
        case UInt8(ascii: "["): try parseArray(depth: depth)
        case UInt8(ascii: "\""): try parseString()
        case UInt8(ascii: "t"): try literal("true", .true)
        case UInt8(ascii: "f"): try literal("false", .false)
        case UInt8(ascii: "n"): try literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try parseNumber()
        default: throw error("unexpected character '\(Character(Unicode.Scalar(byte(position))))'")
        }
    }

    mutating func literal(_ text: StaticString, _ kind: JSONNode.Kind) throws(JSONParseError) {
        let length = text.utf8CodeUnitCount
        guard position + length <= count, memcmp(base.unsafelyUnwrapped + position, text.utf8Start, length) == 0 else {
            throw error("invalid literal, expected '\(text)'")
        }
        let start = Int32(position)
        position += length
        try append(JSONNode(kind: kind, escaped: false, start: start, end: Int32(position), next: Int32(nodeCount + 1), count: 0, number: 0))
    }

    func depthError() -> JSONParseError {
        JSONParseError(offset: position, message: "nesting deeper than \(maxDepth) levels", limit: "maxJSONDepth")
    }

    mutating func parseObject(depth: Int) throws(JSONParseError) {
        guard depth < maxDepth else { throw depthError() }
        let index = nodeCount
        let start = Int32(position)
        try append(JSONNode(kind: .object, escaped: false, start: start, end: 0, next: 0, count: 0, number: 0))
        position += 1
        skipWhitespace()
        var fields: Int32 = 0
        var checkKeysAtEnd = false
        // One bit per (length, last byte) class of the keys so far: a new key is compared with the
        // earlier ones only when its class was seen, which for distinct keys is rarely.
        var keyClasses: UInt64 = 0
        if position < count, byte(position) == UInt8(ascii: "}") {
            position += 1
        } else {
            while true {
                guard position < count, byte(position) == UInt8(ascii: "\"") else { throw error("expected a string key") }
                try parseString()
                if !checkKeysAtEnd {
                    let key = nodeCount - 1
                    if node(key).pointee.escaped || fields >= Self.pairwiseKeyLimit {
                        checkKeysAtEnd = true
                    } else {
                        let bit = keyClassBit(key)
                        if keyClasses & bit != 0 { try checkKeyIsNew(key, object: index, fields: fields) }
                        keyClasses |= bit
                    }
                }
                skipWhitespace()
                guard position < count, byte(position) == UInt8(ascii: ":") else { throw error("expected ':' after key") }
                position += 1
                skipWhitespace()
                try parseValue(depth: depth + 1)
                fields += 1
                skipWhitespace()
                guard position < count else { throw error("unterminated object") }
                let b = byte(position)
                position += 1
                if b == UInt8(ascii: "}") { break }
                guard b == UInt8(ascii: ",") else { position -= 1; throw error("expected ',' or '}'") }
                skipWhitespace()
            }
        }
        node(index).pointee.end = Int32(position)
        node(index).pointee.count = fields
        node(index).pointee.next = Int32(nodeCount)
        if checkKeysAtEnd { try checkKeysAreUnique(object: index) }
    }

    /// The bit of plain key `key`'s class: equal keys have equal length and last byte, so a key
    /// whose class no earlier key had is new without comparing it with any.
    @inline(__always) func keyClassBit(_ key: Int) -> UInt64 {
        let keyNode = node(key).pointee
        let length = Int(keyNode.end &- keyNode.start)
        let last = length > 0 ? Int(byte(Int(keyNode.end) &- 1)) : 0
        return 1 &<< UInt64((length &* 7 &+ last) & 63)
    }

    /// Throws when plain key `key` equals one of the object's first `fields` keys (all plain).
    @inline(__always) func checkKeyIsNew(_ key: Int, object: Int, fields: Int32) throws(JSONParseError) {
        let new = node(key).pointee
        let length = new.end &- new.start
        var i = object + 1
        for _ in 0..<fields {
            let old = node(i).pointee
            // Keys are short: one or two overlapping word compares, not a call to memcmp.
            if old.end &- old.start == length,
               ShortBytes.equal(base.unsafelyUnwrapped + Int(old.start), base.unsafelyUnwrapped + Int(new.start), count: Int(length)) {
                throw duplicateKey(new)
            }
            i = Int(node(i + 1).pointee.next)
        }
    }

    /// The slow path for large objects and escaped keys: compares unescaped keys through a set.
    func checkKeysAreUnique(object: Int) throws(JSONParseError) {
        let fields = node(object).pointee.count
        var seen = Set<[UInt8]>(minimumCapacity: Int(fields))
        var i = object + 1
        for _ in 0..<fields {
            let key = node(i).pointee
            let raw = UnsafeBufferPointer(start: base.unsafelyUnwrapped + Int(key.start), count: Int(key.end &- key.start))
            guard seen.insert(key.escaped ? JSONEscapes.unescape(raw) : Array(raw)).inserted else { throw duplicateKey(key) }
            i = Int(node(i + 1).pointee.next)
        }
    }

    func duplicateKey(_ key: JSONNode) -> JSONParseError {
        let name = String(decoding: UnsafeBufferPointer(start: base.unsafelyUnwrapped + Int(key.start), count: Int(key.end &- key.start)).prefix(64), as: UTF8.self)
        return JSONParseError(offset: Int(key.start) - 1, message: "duplicate object key \"\(name)\"")
    }

    mutating func parseArray(depth: Int) throws(JSONParseError) {
        guard depth < maxDepth else { throw depthError() }
        let index = nodeCount
        try append(JSONNode(kind: .array, escaped: false, start: Int32(position), end: 0, next: 0, count: 0, number: 0))
        position += 1
        skipWhitespace()
        var elements: Int32 = 0
        if position < count, byte(position) == UInt8(ascii: "]") {
            position += 1
        } else {
            while true {
                try parseValue(depth: depth + 1)
                elements += 1
                skipWhitespace()
                guard position < count else { throw error("unterminated array") }
                let b = byte(position)
                position += 1
                if b == UInt8(ascii: "]") { break }
                guard b == UInt8(ascii: ",") else { position -= 1; throw error("expected ',' or ']'") }
                skipWhitespace()
            }
        }
        node(index).pointee.end = Int32(position)
        node(index).pointee.count = elements
        node(index).pointee.next = Int32(nodeCount)
    }

    mutating func parseString() throws(JSONParseError) {
        position += 1
        let start = position
        var escaped = false
        while true {
            skipPlainASCII()
            guard position < count else { throw error("unterminated string") }
            let b = byte(position)
            if b == UInt8(ascii: "\"") { break }
            if b == UInt8(ascii: "\\") {
                escaped = true
                guard position + 1 < count else { throw error("unterminated escape") }
                let e = byte(position + 1)
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                     UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    position += 2
                case UInt8(ascii: "u"):
                    let unit = try hex4(at: position + 2)
                    if unit & 0xFC00 == 0xD800 {
                        // A high surrogate must be followed at once by an escaped low one.
                        guard position + 7 < count, byte(position + 6) == UInt8(ascii: "\\"), byte(position + 7) == UInt8(ascii: "u"),
                              try hex4(at: position + 8) & 0xFC00 == 0xDC00 else {
                            throw error("unpaired surrogate \\u\(String(unit, radix: 16, uppercase: true)) (a high surrogate needs a \\uDC00-\\uDFFF escape after it)")
                        }
                        position += 12
                    } else if unit & 0xFC00 == 0xDC00 {
                        throw error("unpaired surrogate \\u\(String(unit, radix: 16, uppercase: true)) (a low surrogate without a high one before it)")
                    } else {
                        position += 6
                    }
                default:
                    position += 1
                    throw error("invalid escape character")
                }
            } else if b < 0x20 {
                throw error("control character in string")
            } else if b < 0x80 {
                position += 1
            } else {
                try skipUTF8Sequence(b)
            }
        }
        try append(JSONNode(kind: .string, escaped: escaped, start: Int32(start), end: Int32(position), next: Int32(nodeCount + 1), count: 0, number: 0))
        position += 1
    }

    /// The four hex digits of a `\\u` escape starting at `at`.
    func hex4(at: Int) throws(JSONParseError) -> UInt32 {
        guard at + 4 <= count else { throw JSONParseError(offset: position, message: "truncated \\u escape") }
        var unit: UInt32 = 0
        for k in 0..<4 {
            guard let digit = JSONParser.hexValue(byte(at + k)) else {
                throw JSONParseError(offset: at + k, message: "invalid hex digit in \\u escape")
            }
            unit = unit << 4 | UInt32(digit)
        }
        return unit
    }

    /// Skips string bytes that need no attention (printable ASCII other than `"` and `\\`), eight
    /// at a time: most keys and values are short plain ASCII, so this is where parsing spends its time.
    @inline(__always) mutating func skipPlainASCII() {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        let raw = UnsafeRawPointer(base.unsafelyUnwrapped)
        while position + 8 <= count {
            let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: position, as: UInt64.self))
            let quote = word ^ (ones &* 0x22), backslash = word ^ (ones &* 0x5C)
            // A byte is flagged when it is 0x22, 0x5C, below 0x20 or at/above 0x80. Borrows can only
            // flag bytes above a truly flagged one, so the lowest flag is exact.
            let special = ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((word &- ones &* 0x20) & ~word) | word
            let flags = special & highs
            if flags != 0 {
                position += flags.trailingZeroBitCount >> 3
                return
            }
            position += 8
        }
    }

    /// Validates one multi-byte UTF-8 sequence (no overlongs, no surrogates, ≤ U+10FFFF).
    mutating func skipUTF8Sequence(_ lead: UInt8) throws(JSONParseError) {
        let length: Int
        var lowerBound: UInt8 = 0x80, upperBound: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; lowerBound = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; upperBound = 0x9F
        case 0xF0: length = 4; lowerBound = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; upperBound = 0x8F
        default: throw error("invalid UTF-8")
        }
        guard position + length <= count else { throw error("invalid UTF-8 (truncated sequence)") }
        let second = byte(position + 1)
        guard second >= lowerBound, second <= upperBound else { throw error("invalid UTF-8") }
        for k in 2..<length where byte(position + k) & 0xC0 != 0x80 {
            throw error("invalid UTF-8")
        }
        position += length
    }

    mutating func parseNumber() throws(JSONParseError) {
        let start = position
        var negative = false
        if byte(position) == UInt8(ascii: "-") { negative = true; position += 1 }
        guard position < count, isDigit(byte(position)) else { throw error("expected a digit") }
        // The first 19 significant digits, as an integer scaled by 10^exponent. Leading zeros
        // are not significant: counted, `0.00000000000000000009e41` kept no digit and read as 0.
        var mantissa: UInt64 = 0
        var digits = 0
        var exponent = 0
        // A non-zero digit beyond the 19 kept: the fast path would round the number wrongly.
        var truncated = false
        if byte(position) == UInt8(ascii: "0") {
            position += 1
            if position < count, isDigit(byte(position)) { throw error("leading zeros are not allowed") }
        } else {
            while position < count, isDigit(byte(position)) {
                if digits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(byte(position) - 48)
                    digits += 1
                } else {
                    exponent += 1
                    if byte(position) != UInt8(ascii: "0") { truncated = true }
                }
                position += 1
            }
        }
        if position < count, byte(position) == UInt8(ascii: ".") {
            position += 1
            guard position < count, isDigit(byte(position)) else { throw error("expected a digit after '.'") }
            while position < count, isDigit(byte(position)) {
                let digit = byte(position) - 48
                if digits < 19 {
                    if mantissa != 0 || digit != 0 { mantissa = mantissa &* 10 &+ UInt64(digit); digits += 1 }
                    exponent -= 1
                } else if digit != 0 {
                    truncated = true
                }
                position += 1
            }
        }
        if position < count, byte(position) | 0x20 == UInt8(ascii: "e") {
            position += 1
            var expNegative = false
            if position < count, byte(position) == UInt8(ascii: "+") || byte(position) == UInt8(ascii: "-") {
                expNegative = byte(position) == UInt8(ascii: "-")
                position += 1
            }
            guard position < count, isDigit(byte(position)) else { throw error("expected a digit in the exponent") }
            var e = 0
            while position < count, isDigit(byte(position)) {
                if e < 100_000 { e = e * 10 + Int(byte(position) - 48) }
                position += 1
            }
            exponent += expNegative ? -e : e
        }
        let value: Double
        // Fast path: exact when every digit was kept, the mantissa fits in 53 bits and 10^|e| is
        // exactly representable. Zero is zero at any exponent (a zero mantissa kept no digit, so
        // none was dropped either).
        if mantissa == 0 {
            value = 0
        } else if !truncated, mantissa < (1 << 53), exponent >= -22, exponent <= 22 {
            let m = Double(mantissa)
            value = exponent >= 0 ? m * exactPowerOfTen(exponent) : m / exactPowerOfTen(-exponent)
        } else {
            value = slowParse(start: negative ? start + 1 : start)
        }
        // One compare for both limits: infinity and NaN fail it too.
        guard value.magnitude <= maxNumberMagnitude else { throw numberError(value, start: start) }
        try append(JSONNode(kind: .number, escaped: false, start: Int32(start), end: Int32(position), next: Int32(nodeCount + 1), count: 0, number: negative ? -value : value))
    }

    /// Correctly rounded fallback for long or extreme numbers. The text is valid JSON number
    /// syntax, so `Double` parses it; were it ever to refuse, NaN fails the magnitude check.
    func slowParse(start: Int) -> Double {
        let text = String(decoding: UnsafeBufferPointer(start: base.unsafelyUnwrapped + start, count: position - start), as: UTF8.self)
        return Double(text) ?? .nan
    }

    func numberError(_ value: Double, start: Int) -> JSONParseError {
        let text = String(decoding: UnsafeBufferPointer(start: base.unsafelyUnwrapped + start, count: min(position - start, 40)), as: UTF8.self)
        guard value.isFinite else { return JSONParseError(offset: start, message: "number \(text) is not a finite double") }
        return JSONParseError(offset: start, message: "number \(text) is beyond ±\(maxNumberMagnitude)", limit: "maxNumberMagnitude")
    }

    @inline(__always) func isDigit(_ b: UInt8) -> Bool { b &- 48 < 10 }
}
