/// A CloudEvent decoded from a `RawEvent`: context attributes plus the JSON payload (`data`).
///
/// Cheap to copy on purpose (the hot path copies it into the decision): attributes are indices
/// into one headers array rather than separate byte arrays, and become `String`s only when read.
/// In structured mode the decoder builds that headers array from the JSON attributes.
public struct DecodedEvent: Sendable {
    public enum Mode: String, Sendable { case binary, structured }

    /// Indices into `headers` (-1: absent).
    struct Attributes: Sendable {
        var id: Int16 = -1, source: Int16 = -1, type: Int16 = -1, subject: Int16 = -1
        var time: Int16 = -1, contentType: Int16 = -1, traceparent: Int16 = -1
    }

    public let mode: Mode
    let headers: [EventHeader]
    let attributes: Attributes
    /// Event time in milliseconds since 1970 (from `ce_time`, else the record timestamp).
    public let timeMs: Int64
    /// The parsed body; `payloadNode` is the data (the root in binary mode).
    public let document: JSONDocument
    public let payloadNode: Int

    private func text(_ index: Int16) -> String? {
        bytes(index).map { String(decoding: $0, as: UTF8.self) }
    }

    public var id: String { text(attributes.id) ?? "" }
    public var source: String { text(attributes.source) ?? "" }
    public var type: String { text(attributes.type) ?? "" }
    public var subject: String? { text(attributes.subject) }
    /// `ce_time` as sent (RFC 3339), nil when absent.
    public var time: String? { text(attributes.time) }
    public var contentType: String? { text(attributes.contentType) }
    public var traceparent: String? { text(attributes.traceparent) }

    // The same attributes as received, for passing on: the header buffers are shared, not copied.
    public var idBytes: [UInt8]? { bytes(attributes.id) }
    public var timeBytes: [UInt8]? { bytes(attributes.time) }
    public var subjectBytes: [UInt8]? { bytes(attributes.subject) }
    public var traceparentBytes: [UInt8]? { bytes(attributes.traceparent) }

    private func bytes(_ index: Int16) -> [UInt8]? {
        index >= 0 ? headers[Int(index)].value : nil
    }

    /// Calls `body` with the raw bytes of (type, source) without copying them.
    @inline(__always) func withTypeAndSource<R>(_ body: (UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>) -> R) -> R {
        headers.withUnsafeBufferPointer { h in
            // The decoder guarantees both are present; an absent one reads as empty, never traps.
            let type = attributes.type >= 0 ? h[Int(attributes.type)].value ?? [] : []
            let source = attributes.source >= 0 ? h[Int(attributes.source)].value ?? [] : []
            return type.withUnsafeBufferPointer { t in source.withUnsafeBufferPointer { s in body(t, s) } }
        }
    }

    /// The payload materialised as a value (allocates; for tools and tests).
    public var payload: JSONValue { document.value(payloadNode) }

    /// The payload's JSON text (the body itself in binary mode).
    public var payloadBytes: ArraySlice<UInt8> { document.rawSlice(payloadNode) }

    /// The payload to pass on unchanged: in binary mode the record's value itself (shared, not
    /// copied), in structured mode the `data` member. `raw` is the record this event came from.
    func passThroughBody(of raw: RawEvent) -> [UInt8] {
        mode == .binary ? raw.value : Array(payloadBytes)
    }

    /// A payload field by dotted path (`"line.id"`), materialised.
    public func payloadField(_ path: String) -> JSONValue? {
        let keys = path.split(separator: ".").map { Array($0.utf8) }
        return document.lookup(keys, from: payloadNode).map { document.value($0) }
    }
}
