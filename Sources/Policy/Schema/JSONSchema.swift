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
    /// The schema as written, for documentation output.
    public let source: JSONValue
    private let requiredMask: UInt64

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
    }

    public func property(_ name: String) -> Property? { properties.first { $0.name == name } }

    /// A schema violation: the JSON Pointer of the offending value and what is wrong.
    public struct Violation: Error, Sendable, Equatable {
        public var pointer: String
        public var message: String
    }

    /// Validates `node` of `document`; nil when valid.
    public func validate(_ document: JSONDocument, _ node: Int) -> Violation? {
        validate(document, node, path: "")
    }

    private func validate(_ document: JSONDocument, _ node: Int, path: @autoclosure () -> String) -> Violation? {
        let kind = document.kind(node)
        switch kind {
        case .object:
            guard types.contains(.object) else { return typeViolation(kind, path()) }
            return validateObject(document, node, path: path())
        case .string:
            guard types.contains(.string) else { return typeViolation(kind, path()) }
            if minLength != nil || maxLength != nil || pattern != nil {
                let text = document.string(node)
                let length = text.unicodeScalars.count
                if let minLength, length < minLength { return Violation(pointer: path(), message: "string shorter than \(minLength)") }
                if let maxLength, length > maxLength { return Violation(pointer: path(), message: "string longer than \(maxLength)") }
                if let pattern, pattern.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) == nil {
                    return Violation(pointer: path(), message: "string does not match pattern \(pattern.pattern)")
                }
            }
            if let enumValues, !enumValues.contains(.string(document.string(node))) {
                return Violation(pointer: path(), message: "value not in enum \(enumValues.map(\.jsonString).joined(separator: ", "))")
            }
        case .number:
            let n = document.number(node)
            guard types.contains(.number) || (types.contains(.integer) && n == n.rounded()) else { return typeViolation(kind, path(), integerMismatch: types.contains(.integer)) }
            if let minimum, n < minimum { return Violation(pointer: path(), message: "\(n) is below the minimum \(minimum)") }
            if let maximum, n > maximum { return Violation(pointer: path(), message: "\(n) is above the maximum \(maximum)") }
            if let exclusiveMinimum, n <= exclusiveMinimum { return Violation(pointer: path(), message: "\(n) must be greater than \(exclusiveMinimum)") }
            if let exclusiveMaximum, n >= exclusiveMaximum { return Violation(pointer: path(), message: "\(n) must be less than \(exclusiveMaximum)") }
            if let enumValues, !enumValues.contains(.number(n)) { return Violation(pointer: path(), message: "value not in enum") }
        case .true, .false:
            guard types.contains(.boolean) else { return typeViolation(kind, path()) }
            if let enumValues, !enumValues.contains(.bool(kind == .true)) { return Violation(pointer: path(), message: "value not in enum") }
        case .null:
            guard types.contains(.null) else { return typeViolation(kind, path()) }
        case .array:
            guard types.contains(.array) else { return typeViolation(kind, path()) }
            let count = document.count(node)
            if let minItems, count < minItems { return Violation(pointer: path(), message: "fewer than \(minItems) items") }
            if let maxItems, count > maxItems { return Violation(pointer: path(), message: "more than \(maxItems) items") }
            if let items {
                for (i, element) in document.elements(node).enumerated() {
                    if let v = items.validate(document, element, path: path() + "/\(i)") { return v }
                }
            }
        }
        return nil
    }

    private func validateObject(_ document: JSONDocument, _ node: Int, path: @autoclosure () -> String) -> Violation? {
        var seen: UInt64 = 0
        var key = node + 1
        for _ in 0..<document.count(node) {
            let value = key + 1
            var matched = false
            for (i, property) in properties.enumerated() where document.stringEquals(key, property.nameBytes) {
                matched = true
                if i < 64 { seen |= 1 << UInt64(i) }
                if let v = property.schema.validate(document, value, path: path() + "/" + property.name) { return v }
                break
            }
            if !matched, let additional {
                guard let extra = additional else {
                    let name = document.string(key)
                    return Violation(pointer: path() + "/" + name, message: "property '\(name)' is not allowed (allowed: \(properties.map(\.name).joined(separator: ", ")))")
                }
                if let v = extra.validate(document, value, path: path() + "/" + document.string(key)) { return v }
            }
            key = document.next(value)
        }
        if seen & requiredMask != requiredMask {
            let missing = properties.enumerated().first { $0.offset < 64 && $0.element.required && seen & (1 << UInt64($0.offset)) == 0 }!
            return Violation(pointer: path() + "/" + missing.element.name, message: "required property '\(missing.element.name)' is missing")
        }
        return nil
    }

    private func typeViolation(_ kind: JSONNode.Kind, _ path: String, integerMismatch: Bool = false) -> Violation {
        let found: String = switch kind {
        case .null: "null"
        case .true, .false: "boolean"
        case .number: integerMismatch ? "a number with a fraction" : "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
        return Violation(pointer: path.isEmpty ? "/" : path, message: "expected \(types.names.joined(separator: " or ")), found \(found)")
    }
}
