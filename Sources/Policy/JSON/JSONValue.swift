/// A materialised JSON value: used for schemas, catalog-side data and tests, never per event.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    /// Fields keep their order (a small array, not a dictionary: JSON objects here are tiny).
    case object([Field])

    public struct Field: Sendable, Equatable {
        public var name: String
        public var value: JSONValue
        public init(name: String, value: JSONValue) { self.name = name; self.value = value }
    }

    public subscript(key: String) -> JSONValue? {
        guard case .object(let fields) = self else { return nil }
        return fields.first { $0.name == key }?.value
    }

    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    public var numberValue: Double? { if case .number(let n) = self { n } else { nil } }

    /// Compact JSON text.
    public var jsonBytes: [UInt8] {
        var writer = JSONWriter()
        writer.write(self)
        return writer.bytes
    }

    public var jsonString: String { String(decoding: jsonBytes, as: UTF8.self) }
}
