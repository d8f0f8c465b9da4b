/// A CloudEvent decoded from a `RawEvent`: context attributes plus the JSON payload (`data`).
///
/// Attributes are kept as byte slices of the original headers or body and turned into
/// `String`s only when read, so the hot path never allocates for them.
public struct DecodedEvent: Sendable {
    public enum Mode: String, Sendable { case binary, structured }

    public let mode: Mode
    let idBytes: ArraySlice<UInt8>
    let sourceBytes: ArraySlice<UInt8>
    let typeBytes: ArraySlice<UInt8>
    let subjectBytes: ArraySlice<UInt8>?
    let timeBytes: ArraySlice<UInt8>?
    let contentTypeBytes: ArraySlice<UInt8>?
    let traceparentBytes: ArraySlice<UInt8>?
    /// Event time in milliseconds since 1970 (from `ce_time`, else the record timestamp).
    public let timeMs: Int64
    /// The parsed body; `payloadNode` is the data (the root in binary mode).
    public let document: JSONDocument
    public let payloadNode: Int
    /// The active work order the deciding rule correlated this event with, if any.
    public internal(set) var workOrderID: String?

    public var id: String { String(decoding: idBytes, as: UTF8.self) }
    public var source: String { String(decoding: sourceBytes, as: UTF8.self) }
    public var type: String { String(decoding: typeBytes, as: UTF8.self) }
    public var subject: String? { subjectBytes.map { String(decoding: $0, as: UTF8.self) } }
    /// `ce_time` as sent (RFC 3339), nil when absent.
    public var time: String? { timeBytes.map { String(decoding: $0, as: UTF8.self) } }
    public var contentType: String? { contentTypeBytes.map { String(decoding: $0, as: UTF8.self) } }
    public var traceparent: String? { traceparentBytes.map { String(decoding: $0, as: UTF8.self) } }

    /// The payload materialised as a value (allocates; for tools and tests).
    public var payload: JSONValue { document.value(payloadNode) }

    /// The payload's JSON text (the body itself in binary mode).
    public var payloadBytes: ArraySlice<UInt8> { document.rawSlice(payloadNode) }

    /// A payload field by dotted path (`"line.id"`), materialised.
    public func payloadField(_ path: String) -> JSONValue? {
        let keys = path.split(separator: ".").map { Array($0.utf8) }
        return document.lookup(keys, from: payloadNode).map { document.value($0) }
    }
}
