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
/// Reuse one parser per thread: it keeps its node buffer's capacity between documents.
public struct JSONParser {
    /// Nesting deeper than this is rejected (protects the recursion).
    public var maxDepth: Int
    /// Numbers of larger magnitude are rejected; non-finite ones always are.
    public var maxNumberMagnitude: Double
    private var nodes: [JSONNode] = []

    public init(maxDepth: Int = InputLimits().maxJSONDepth, maxNumberMagnitude: Double = .greatestFiniteMagnitude) {
        self.maxDepth = maxDepth
        self.maxNumberMagnitude = maxNumberMagnitude
    }

    public mutating func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONDocument {
        nodes.removeAll(keepingCapacity: true)
        let count = bytes.count
        // Node offsets are Int32.
        guard count < Int(Int32.max) else { throw JSONParseError(offset: 0, message: "JSON text of \(count) bytes is over 2 GiB") }
        let result: JSONParseError? = bytes.withUnsafeBufferPointer { (buffer) -> JSONParseError? in
            var cursor = Cursor(base: buffer.baseAddress, count: count, maxDepth: maxDepth, maxNumberMagnitude: maxNumberMagnitude)
            do throws(JSONParseError) {
                cursor.skipWhitespace()
                try cursor.parseValue(into: &nodes, depth: 0)
                cursor.skipWhitespace()
                if cursor.position != count { throw cursor.error("unexpected data after the JSON value") }
                return nil
            } catch {
                return error
            }
        }
        if let result { throw result }
        return JSONDocument(bytes: bytes, nodes: nodes)
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

private let exactPowersOfTen: [Double] = (0...22).map { pow(10.0, Double($0)) }

private struct Cursor {
    let base: UnsafePointer<UInt8>?
    let count: Int
    let maxDepth: Int
    let maxNumberMagnitude: Double
    var position = 0

    /// Objects with up to this many plain keys are checked for duplicates pairwise, in place;
    /// larger ones (and any with an escaped key) through a set, once the object is parsed.
    static let pairwiseKeyLimit: Int32 = 16

    init(base: UnsafePointer<UInt8>?, count: Int, maxDepth: Int, maxNumberMagnitude: Double) {
        self.base = base
        self.count = count
        self.maxDepth = maxDepth
        self.maxNumberMagnitude = maxNumberMagnitude
    }

    @inline(__always) func byte(_ i: Int) -> UInt8 { base.unsafelyUnwrapped[i] }

    func error(_ message: String) -> JSONParseError { JSONParseError(offset: position, message: message) }

    @inline(__always) mutating func skipWhitespace() {
        while position < count {
            let b = byte(position)
            guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
            position += 1
        }
    }

    mutating func parseValue(into nodes: inout [JSONNode], depth: Int) throws(JSONParseError) {
        guard position < count else { throw error("unexpected end of JSON") }
        switch byte(position) {
        case UInt8(ascii: "{"): try parseObject(into: &nodes, depth: depth)
        case UInt8(ascii: "["): try parseArray(into: &nodes, depth: depth)
        case UInt8(ascii: "\""): try parseString(into: &nodes)
        case UInt8(ascii: "t"): try literal("true", .true, into: &nodes)
        case UInt8(ascii: "f"): try literal("false", .false, into: &nodes)
        case UInt8(ascii: "n"): try literal("null", .null, into: &nodes)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try parseNumber(into: &nodes)
        default: throw error("unexpected character '\(Character(Unicode.Scalar(byte(position))))'")
        }
    }

    mutating func literal(_ text: StaticString, _ kind: JSONNode.Kind, into nodes: inout [JSONNode]) throws(JSONParseError) {
        let length = text.utf8CodeUnitCount
        guard position + length <= count, memcmp(base.unsafelyUnwrapped + position, text.utf8Start, length) == 0 else {
            throw error("invalid literal, expected '\(text)'")
        }
        let start = Int32(position)
        position += length
        nodes.append(JSONNode(kind: kind, escaped: false, start: start, end: Int32(position), next: Int32(nodes.count + 1), count: 0, number: 0))
    }

    func depthError() -> JSONParseError {
        JSONParseError(offset: position, message: "nesting deeper than \(maxDepth) levels", limit: "maxJSONDepth")
    }

    mutating func parseObject(into nodes: inout [JSONNode], depth: Int) throws(JSONParseError) {
        guard depth < maxDepth else { throw depthError() }
        let index = nodes.count
        let start = Int32(position)
        nodes.append(JSONNode(kind: .object, escaped: false, start: start, end: 0, next: 0, count: 0, number: 0))
        position += 1
        skipWhitespace()
        var fields: Int32 = 0
        var checkKeysAtEnd = false
        if position < count, byte(position) == UInt8(ascii: "}") {
            position += 1
        } else {
            while true {
                guard position < count, byte(position) == UInt8(ascii: "\"") else { throw error("expected a string key") }
                try parseString(into: &nodes)
                if !checkKeysAtEnd {
                    let key = nodes.count - 1
                    if nodes[key].escaped || fields >= Self.pairwiseKeyLimit {
                        checkKeysAtEnd = true
                    } else {
                        try checkKeyIsNew(key, object: index, fields: fields, nodes)
                    }
                }
                skipWhitespace()
                guard position < count, byte(position) == UInt8(ascii: ":") else { throw error("expected ':' after key") }
                position += 1
                skipWhitespace()
                try parseValue(into: &nodes, depth: depth + 1)
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
        nodes[index].end = Int32(position)
        nodes[index].count = fields
        nodes[index].next = Int32(nodes.count)
        if checkKeysAtEnd { try checkKeysAreUnique(object: index, nodes) }
    }

    /// Throws when plain key `key` equals one of the object's first `fields` keys (all plain).
    @inline(__always) func checkKeyIsNew(_ key: Int, object: Int, fields: Int32, _ nodes: [JSONNode]) throws(JSONParseError) {
        let new = nodes[key]
        let length = new.end &- new.start
        var i = object + 1
        for _ in 0..<fields {
            let old = nodes[i]
            // Keys are short: one or two overlapping word compares, not a call to memcmp.
            if old.end &- old.start == length,
               ShortBytes.equal(base.unsafelyUnwrapped + Int(old.start), base.unsafelyUnwrapped + Int(new.start), count: Int(length)) {
                throw duplicateKey(new)
            }
            i = Int(nodes[i + 1].next)
        }
    }

    /// The slow path for large objects and escaped keys: compares unescaped keys through a set.
    func checkKeysAreUnique(object: Int, _ nodes: [JSONNode]) throws(JSONParseError) {
        var seen = Set<[UInt8]>(minimumCapacity: Int(nodes[object].count))
        var i = object + 1
        for _ in 0..<nodes[object].count {
            let key = nodes[i]
            let raw = UnsafeBufferPointer(start: base.unsafelyUnwrapped + Int(key.start), count: Int(key.end &- key.start))
            guard seen.insert(key.escaped ? JSONEscapes.unescape(raw) : Array(raw)).inserted else { throw duplicateKey(key) }
            i = Int(nodes[i + 1].next)
        }
    }

    func duplicateKey(_ key: JSONNode) -> JSONParseError {
        let name = String(decoding: UnsafeBufferPointer(start: base.unsafelyUnwrapped + Int(key.start), count: Int(key.end &- key.start)).prefix(64), as: UTF8.self)
        return JSONParseError(offset: Int(key.start) - 1, message: "duplicate object key \"\(name)\"")
    }

    mutating func parseArray(into nodes: inout [JSONNode], depth: Int) throws(JSONParseError) {
        guard depth < maxDepth else { throw depthError() }
        let index = nodes.count
        nodes.append(JSONNode(kind: .array, escaped: false, start: Int32(position), end: 0, next: 0, count: 0, number: 0))
        position += 1
        skipWhitespace()
        var elements: Int32 = 0
        if position < count, byte(position) == UInt8(ascii: "]") {
            position += 1
        } else {
            while true {
                try parseValue(into: &nodes, depth: depth + 1)
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
        nodes[index].end = Int32(position)
        nodes[index].count = elements
        nodes[index].next = Int32(nodes.count)
    }

    mutating func parseString(into nodes: inout [JSONNode]) throws(JSONParseError) {
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
        nodes.append(JSONNode(kind: .string, escaped: escaped, start: Int32(start), end: Int32(position), next: Int32(nodes.count + 1), count: 0, number: 0))
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

    mutating func parseNumber(into nodes: inout [JSONNode]) throws(JSONParseError) {
        let start = position
        var negative = false
        if byte(position) == UInt8(ascii: "-") { negative = true; position += 1 }
        guard position < count, isDigit(byte(position)) else { throw error("expected a digit") }
        var mantissa: UInt64 = 0
        var digits = 0
        var exponent = 0
        if byte(position) == UInt8(ascii: "0") {
            position += 1
            if position < count, isDigit(byte(position)) { throw error("leading zeros are not allowed") }
        } else {
            while position < count, isDigit(byte(position)) {
                if digits < 19 { mantissa = mantissa &* 10 &+ UInt64(byte(position) - 48); digits += 1 } else { exponent += 1 }
                position += 1
            }
        }
        if position < count, byte(position) == UInt8(ascii: ".") {
            position += 1
            guard position < count, isDigit(byte(position)) else { throw error("expected a digit after '.'") }
            while position < count, isDigit(byte(position)) {
                if digits < 19 { mantissa = mantissa &* 10 &+ UInt64(byte(position) - 48); digits += 1; exponent -= 1 }
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
        // Fast path: exact when the mantissa fits in 53 bits and 10^|e| is exactly representable.
        if mantissa < (1 << 53), exponent >= -22, exponent <= 22 {
            let m = Double(mantissa)
            value = exponent >= 0 ? m * exactPowersOfTen[exponent] : m / exactPowersOfTen[-exponent]
        } else {
            value = slowParse(start: negative ? start + 1 : start)
        }
        // One compare for both limits: infinity and NaN fail it too.
        guard value.magnitude <= maxNumberMagnitude else { throw numberError(value, start: start) }
        nodes.append(JSONNode(kind: .number, escaped: false, start: Int32(start), end: Int32(position), next: Int32(nodes.count + 1), count: 0, number: negative ? -value : value))
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
