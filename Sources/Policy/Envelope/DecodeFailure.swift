/// Why an event could not be decoded or does not fit its contract.
public struct DecodeFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// `.parse` (envelope, UTF-8, JSON, size) or `.schema` (unknown type, schema violation).
    public var reason: DeadLetterReason
    /// The offending field: a header name (`ce_id`), `value`, or a JSON Pointer into it (`/value/temperature`).
    public var field: String
    public var message: String

    public init(_ reason: DeadLetterReason, field: String, _ message: String) {
        self.reason = reason
        self.field = field
        self.message = message
    }

    public var description: String { "\(reason.rawValue) error at \(field): \(message)" }
}

/// Dead-letter reason codes (stable: they are written into dead-letter headers).
public enum DeadLetterReason: String, Sendable, CaseIterable {
    case parse, schema, authority, policy, target
}
