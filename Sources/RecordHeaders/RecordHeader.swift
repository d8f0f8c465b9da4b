/// One record header: how Kafka carries it and how the policy reads it. A `nil` value is a
/// header with a null value, which Kafka distinguishes from an empty one.
///
/// A module of its own so `Kafka` (as `KafkaHeader`) and `Policy` (as `EventHeader`) share the
/// type without either importing the other: a consumed record's header array reaches the policy
/// as it is, instead of being copied header by header into another type for every event.
public struct RecordHeader: Sendable, Hashable {
    public var name: String
    public var value: [UInt8]?

    public init(name: String, value: [UInt8]?) {
        self.name = name
        self.value = value
    }

    public init(name: String, string: String) {
        self.init(name: name, value: Array(string.utf8))
    }

    public init(_ name: String, _ value: String) {
        self.init(name: name, string: value)
    }

    /// The value decoded as UTF-8, if it is present and valid.
    public var stringValue: String? {
        value.flatMap { String(validating: $0, as: UTF8.self) }
    }
}

extension Array where Element == RecordHeader {
    /// The first header with `name`.
    public subscript(header name: String) -> RecordHeader? {
        first { $0.name == name }
    }
}
