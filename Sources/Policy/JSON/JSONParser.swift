import Foundation

/// Where and why a JSON text failed to parse.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var offset: Int
    public var message: String
    public var description: String { "\(message) at byte \(offset)" }
}

/// A small, fast JSON parser over bytes into a `JSONDocument` tape.
///
/// Hand-written because Foundation's JSONSerialization/JSONDecoder allocate per field and are
/// an order of magnitude too slow for the one-core throughput target; no package on this
/// machine parses into a reusable, allocation-free representation. It validates strictly
/// (RFC 8259): UTF-8 in strings, no control characters, no trailing commas, one root value.
/// Reuse one parser per thread: it keeps its node buffer's capacity between documents.
public struct JSONParser {
    /// Nesting deeper than this is rejected (protects the recursion).
    public var maxDepth = 64
    private var nodes: [JSONNode] = []

    public init() {}

    public mutating func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONDocument {
        nodes.removeAll(keepingCapacity: true)
        let count = bytes.count
        let result: JSONParseError? = bytes.withUnsafeBufferPointer { (buffer) -> JSONParseError? in
            var cursor = Cursor(base: buffer.baseAddress, count: count, maxDepth: maxDepth)
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
    var position = 0

    init(base: UnsafePointer<UInt8>?, count: Int, maxDepth: Int) {
        self.base = base
        self.count = count
        self.maxDepth = maxDepth
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
        guard position + length <= count, memcmp(base! + position, text.utf8Start, length) == 0 else {
            throw error("invalid literal, expected '\(text)'")
        }
        let start = Int32(position)
        position += length
        nodes.append(JSONNode(kind: kind, escaped: false, start: start, end: Int32(position), next: Int32(nodes.count + 1), count: 0, number: 0))
    }

    mutating func parseObject(into nodes: inout [JSONNode], depth: Int) throws(JSONParseError) {
        guard depth < maxDepth else { throw error("nesting deeper than \(maxDepth)") }
        let index = nodes.count
        let start = Int32(position)
        nodes.append(JSONNode(kind: .object, escaped: false, start: start, end: 0, next: 0, count: 0, number: 0))
        position += 1
        skipWhitespace()
        var fields: Int32 = 0
        if position < count, byte(position) == UInt8(ascii: "}") {
            position += 1
        } else {
            while true {
                guard position < count, byte(position) == UInt8(ascii: "\"") else { throw error("expected a string key") }
                try parseString(into: &nodes)
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
    }

    mutating func parseArray(into nodes: inout [JSONNode], depth: Int) throws(JSONParseError) {
        guard depth < maxDepth else { throw error("nesting deeper than \(maxDepth)") }
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
                    guard position + 5 < count else { throw error("truncated \\u escape") }
                    for k in 2...5 where JSONParser.hexValue(byte(position + k)) == nil {
                        position += k
                        throw error("invalid hex digit in \\u escape")
                    }
                    position += 6
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
        nodes.append(JSONNode(kind: .number, escaped: false, start: Int32(start), end: Int32(position), next: Int32(nodes.count + 1), count: 0, number: negative ? -value : value))
    }

    /// Correctly rounded fallback for long or extreme numbers.
    func slowParse(start: Int) -> Double {
        let text = String(decoding: UnsafeBufferPointer(start: base! + start, count: position - start), as: UTF8.self)
        return Double(text) ?? .nan
    }

    @inline(__always) func isDigit(_ b: UInt8) -> Bool { b &- 48 < 10 }
}
