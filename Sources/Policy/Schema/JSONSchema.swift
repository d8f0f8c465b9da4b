import Foundation

/// A compiled JSON Schema (the subset the catalog uses), validated directly on a `JSONDocument` tape.
///
/// Hand-written: no JSON Schema package exists on this machine, and validating on the tape avoids
/// materialising the payload. Supported keywords: `type` (string or list), `required`, `properties`,
/// `additionalProperties` (bool or schema), `enum`, `const`, `minimum`, `maximum`,
/// `exclusiveMinimum`, `exclusiveMaximum`, `minLength`, `maxLength`, `pattern`, `items`,
/// `minItems`, `maxItems`, `format` (accepted, not enforced), `$schema`, `$id`, `title`,
/// `description`, `examples`. Any other keyword is a load error rather than silently ignored.
public final class JSONSchema: Sendable {
    public struct Types: OptionSet, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let null = Types(rawValue: 1)
        public static let boolean = Types(rawValue: 2)
        public static let integer = Types(rawValue: 4)
        public static let number = Types(rawValue: 8)
        public static let string = Types(rawValue: 16)
        public static let array = Types(rawValue: 32)
        public static let object = Types(rawValue: 64)
        public static let any = Types(rawValue: 127)

        static let names: [(String, Types)] = [("null", .null), ("boolean", .boolean), ("integer", .integer), ("number", .number), ("string", .string), ("array", .array), ("object", .object)]
        var names: [String] { Types.names.filter { contains($0.1) }.map(\.0) }
    }

    public struct Property: Sendable {
        public let name: String
        let nameBytes: [UInt8]
        public let schema: JSONSchema
        public let required: Bool
    }

    public let types: Types
    public let properties: [Property]
    /// nil: any extra property allowed; `.some(nil)`: none allowed; `.some(schema)`: extras must match.
    let additional: JSONSchema??
    let enumValues: [JSONValue]?
    let minimum: Double?, maximum: Double?, exclusiveMinimum: Double?, exclusiveMaximum: Double?
    let minLength: Int?, maxLength: Int?
    let minItems: Int?, maxItems: Int?
    nonisolated(unsafe) let pattern: NSRegularExpression?
    public let items: JSONSchema?
    public let description: String?
    /// The schema as written, for documentation output; `.null` for a schema nested in another.
    public let source: JSONValue
    let requiredMask: UInt64
    // Flat copies for the validation loop (no struct copies, no ARC per property).
    private let propertyNames: [[UInt8]]
    private let propertySchemas: [JSONSchema]
    private let enumStrings: [[UInt8]]?

    init(types: Types, properties: [Property], additional: JSONSchema??, enumValues: [JSONValue]?, minimum: Double?, maximum: Double?,
         exclusiveMinimum: Double?, exclusiveMaximum: Double?, minLength: Int?, maxLength: Int?, minItems: Int?, maxItems: Int?,
         pattern: NSRegularExpression?, items: JSONSchema?, description: String?, source: JSONValue) {
        self.types = types
        self.properties = properties
        self.additional = additional
        self.enumValues = enumValues
        self.minimum = minimum
        self.maximum = maximum
        self.exclusiveMinimum = exclusiveMinimum
        self.exclusiveMaximum = exclusiveMaximum
        self.minLength = minLength
        self.maxLength = maxLength
        self.minItems = minItems
        self.maxItems = maxItems
        self.pattern = pattern
        self.items = items
        self.description = description
        self.source = source
        var mask: UInt64 = 0
        for (i, p) in properties.enumerated() where p.required && i < 64 { mask |= 1 << UInt64(i) }
        self.requiredMask = mask
        self.propertyNames = properties.map(\.nameBytes)
        self.propertySchemas = properties.map(\.schema)
        let strings = enumValues?.compactMap { $0.stringValue.map { Array($0.utf8) } }
        self.enumStrings = strings?.isEmpty == false ? strings : nil
    }

    public func property(_ name: String) -> Property? { properties.first { $0.name == name } }

    /// A schema violation: the JSON Pointer of the offending value and what is wrong.
    public struct Violation: Error, Sendable, Equatable {
        public var pointer: String
        public var message: String
    }

    /// Validates `node` of `document`; nil when valid.
    public func validate(_ document: JSONDocument, _ node: Int) -> Violation? {
        guard var violation = document.withTape({ validate($0, node) }) else { return nil }
        if violation.pointer.isEmpty { violation.pointer = "/" }
        return violation
    }

    /// Hot path: no String is built unless a string keyword needs one or validation fails
    /// (pointers are assembled while unwinding from a violation).
    func validate(_ tape: TapeView, _ node: Int) -> Violation? {
        let kind = tape.kind(node)
        switch kind {
        case .object:
            guard types.contains(.object) else { return typeViolation(kind) }
            return validateObject(tape, node)
        case .string:
            guard types.contains(.string) else { return typeViolation(kind) }
            if minLength != nil || maxLength != nil {
                let length = tape.scalarCount(node)
                if let minLength, length < minLength { return Violation(pointer: "", message: "string shorter than \(minLength)") }
                if let maxLength, length > maxLength { return Violation(pointer: "", message: "string longer than \(maxLength)") }
            }
            if let pattern {
                let text = tape.string(node)
                // ICU backtracks without a time limit; a bounded subject bounds the cost (see PatternSafety).
                if text.utf8.count > InputLimits.maxPatternSubjectBytes {
                    return Violation(pointer: "", message: "string of \(text.utf8.count) bytes is longer than the \(InputLimits.maxPatternSubjectBytes) bytes a pattern is matched against (InputLimits.maxPatternSubjectBytes)")
                }
                if pattern.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) == nil {
                    return Violation(pointer: "", message: "string does not match pattern \(pattern.pattern)")
                }
            }
            if let enumStrings, !enumStrings.contains(where: { tape.stringEquals(node, $0) }) {
                return Violation(pointer: "", message: "'\(tape.string(node))' is not one of \((enumValues ?? []).map(\.jsonString).joined(separator: ", "))")
            }
        case .number:
            let n = tape.number(node)
            guard types.contains(.number) || (types.contains(.integer) && n == n.rounded()) else { return typeViolation(kind, integerMismatch: types.contains(.integer)) }
            if let minimum, n < minimum { return Violation(pointer: "", message: "\(n) is below the minimum \(minimum)") }
            if let maximum, n > maximum { return Violation(pointer: "", message: "\(n) is above the maximum \(maximum)") }
            if let exclusiveMinimum, n <= exclusiveMinimum { return Violation(pointer: "", message: "\(n) must be greater than \(exclusiveMinimum)") }
            if let exclusiveMaximum, n >= exclusiveMaximum { return Violation(pointer: "", message: "\(n) must be less than \(exclusiveMaximum)") }
            if let enumValues, !enumValues.contains(.number(n)) { return Violation(pointer: "", message: "value not in enum") }
        case .true, .false:
            guard types.contains(.boolean) else { return typeViolation(kind) }
            if let enumValues, !enumValues.contains(.bool(kind == .true)) { return Violation(pointer: "", message: "value not in enum") }
        case .null:
            guard types.contains(.null) else { return typeViolation(kind) }
        case .array:
            guard types.contains(.array) else { return typeViolation(kind) }
            let count = tape.count(node)
            if let minItems, count < minItems { return Violation(pointer: "", message: "fewer than \(minItems) items") }
            if let maxItems, count > maxItems { return Violation(pointer: "", message: "more than \(maxItems) items") }
            if let items {
                var element = node + 1
                for i in 0..<count {
                    if var v = items.validate(tape, element) { v.pointer = "/\(i)" + v.pointer; return v }
                    element = tape.next(element)
                }
            }
        }
        return nil
    }

    private func validateObject(_ tape: TapeView, _ node: Int) -> Violation? {
        var seen: UInt64 = 0
        var key = node + 1
        let propertyCount = propertyNames.count
        for _ in 0..<tape.count(node) {
            let value = key + 1
            var matched = -1
            for i in 0..<propertyCount where tape.stringEquals(key, propertyNames[i]) {
                matched = i
                break
            }
            if matched >= 0 {
                if matched < 64 { seen |= 1 << UInt64(matched) }
                if var v = propertySchemas[matched].validate(tape, value) { v.pointer = "/" + properties[matched].name + v.pointer; return v }
            } else if let additional {
                guard let extra = additional else {
                    let name = tape.string(key)
                    return Violation(pointer: "/" + name, message: "property '\(name)' is not allowed (allowed: \(properties.map(\.name).joined(separator: ", ")))")
                }
                if var v = extra.validate(tape, value) { v.pointer = "/" + tape.string(key) + v.pointer; return v }
            }
            key = tape.next(value)
        }
        if seen & requiredMask != requiredMask {
            guard let missing = properties.enumerated().first(where: { $0.offset < 64 && $0.element.required && seen & (1 << UInt64($0.offset)) == 0 }) else { return nil }
            return Violation(pointer: "/" + missing.element.name, message: "required property '\(missing.element.name)' is missing")
        }
        return nil
    }

    private func typeViolation(_ kind: JSONNode.Kind, integerMismatch: Bool = false) -> Violation {
        let found: String = switch kind {
        case .null: "null"
        case .true, .false: "boolean"
        case .number: integerMismatch ? "a number with a fraction" : "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
        return Violation(pointer: "", message: "expected \(types.names.joined(separator: " or ")), found \(found)")
    }
}
