/// Decodes CloudEvents 1.0 in the Kafka protocol binding: binary mode (`ce_*` headers, JSON body)
/// and structured mode (`content-type: application/cloudevents+json`, the whole event as JSON).
///
/// Not thread-safe: it reuses one JSON parser buffer. Keep one per lane/engine.
public struct EnvelopeDecoder {
    /// Bodies over this size fail with reason `parse` before parsing.
    public var maxBodyBytes: Int
    private var parser = JSONParser()

    public init(maxBodyBytes: Int = 256 * 1024) {
        self.maxBodyBytes = maxBodyBytes
    }

    public mutating func decode(_ raw: RawEvent) throws(DecodeFailure) -> DecodedEvent {
        var id: ArraySlice<UInt8>?, source: ArraySlice<UInt8>?, type: ArraySlice<UInt8>?, spec: ArraySlice<UInt8>?
        var time: ArraySlice<UInt8>?, subject: ArraySlice<UInt8>?, contentType: ArraySlice<UInt8>?, traceparent: ArraySlice<UInt8>?
        // Header names are matched by length first, then compared as (small, allocation-free) strings.
        for header in raw.headers {
            guard let value = header.value else { continue }
            switch header.name.utf8.count {
            case 5 where header.name == "ce_id": id = value[...]
            case 7 where header.name == "ce_time": time = value[...]
            case 7 where header.name == "ce_type": type = value[...]
            case 9 where header.name == "ce_source": source = value[...]
            case 10 where header.name == "ce_subject": subject = value[...]
            case 11 where header.name == "traceparent": traceparent = value[...]
            case 12 where header.name == "content-type": contentType = value[...]
            case 14 where header.name == "ce_specversion": spec = value[...]
            default: break
            }
        }
        if let contentType, Self.hasPrefix(contentType, Self.structuredType) {
            return try decodeStructured(raw, contentType: contentType, traceparent: traceparent)
        }
        if let contentType, !Self.isJSON(contentType) {
            throw DecodeFailure(.parse, field: "content-type", "unsupported content type '\(String(decoding: contentType, as: UTF8.self))'; expected application/json or application/cloudevents+json")
        }
        guard let spec else { throw DecodeFailure(.parse, field: "ce_specversion", "missing ce_specversion header (CloudEvents binary mode)") }
        guard spec.elementsEqual("1.0".utf8) else {
            throw DecodeFailure(.parse, field: "ce_specversion", "unsupported CloudEvents spec version '\(String(decoding: spec, as: UTF8.self))'; expected 1.0")
        }
        let eventID = try Self.required(id, "ce_id")
        let eventSource = try Self.required(source, "ce_source")
        let eventType = try Self.required(type, "ce_type")
        try Self.checkUTF8(subject, "ce_subject")
        let timeMs = try Self.eventTime(time, fallback: raw.timestampMs, field: "ce_time")
        let document = try parseBody(raw.value)
        return DecodedEvent(mode: .binary, idBytes: eventID, sourceBytes: eventSource, typeBytes: eventType, subjectBytes: subject,
                            timeBytes: time, contentTypeBytes: contentType, traceparentBytes: traceparent, timeMs: timeMs,
                            document: document, payloadNode: document.root, workOrderID: nil)
    }

    private mutating func parseBody(_ body: [UInt8]) throws(DecodeFailure) -> JSONDocument {
        guard body.count <= maxBodyBytes else {
            throw DecodeFailure(.parse, field: "value", "body is \(body.count) bytes, over the limit of \(maxBodyBytes) bytes (catalog limits.maxEventBytes)")
        }
        do {
            return try parser.parse(body)
        } catch {
            throw DecodeFailure(.parse, field: "value", "invalid JSON at byte \(error.offset): \(error.message)")
        }
    }

    private mutating func decodeStructured(_ raw: RawEvent, contentType: ArraySlice<UInt8>, traceparent: ArraySlice<UInt8>?) throws(DecodeFailure) -> DecodedEvent {
        let document = try parseBody(raw.value)
        guard document.kind(document.root) == .object else {
            throw DecodeFailure(.parse, field: "value", "a structured CloudEvent must be a JSON object")
        }
        func attribute(_ name: String, required: Bool) throws(DecodeFailure) -> ArraySlice<UInt8>? {
            guard let node = document.field(document.root, Array(name.utf8)) else {
                if required { throw DecodeFailure(.parse, field: name, "structured CloudEvent is missing '\(name)'") }
                return nil
            }
            guard document.kind(node) == .string else { throw DecodeFailure(.parse, field: name, "'\(name)' must be a string") }
            return document.unescapedBytes(node)[...]
        }
        let spec = try attribute("specversion", required: true)!
        guard spec.elementsEqual("1.0".utf8) else {
            throw DecodeFailure(.parse, field: "specversion", "unsupported CloudEvents spec version '\(String(decoding: spec, as: UTF8.self))'; expected 1.0")
        }
        let id = try attribute("id", required: true)!
        let source = try attribute("source", required: true)!
        let type = try attribute("type", required: true)!
        let subject = try attribute("subject", required: false)
        let time = try attribute("time", required: false)
        let dataContentType = try attribute("datacontenttype", required: false)
        if let dataContentType, !Self.isJSON(dataContentType) {
            throw DecodeFailure(.parse, field: "datacontenttype", "unsupported data content type '\(String(decoding: dataContentType, as: UTF8.self))'; expected application/json")
        }
        if document.field(document.root, Array("data_base64".utf8)) != nil {
            throw DecodeFailure(.parse, field: "data_base64", "binary data is not supported; send JSON in 'data'")
        }
        guard let data = document.field(document.root, Array("data".utf8)) else {
            throw DecodeFailure(.parse, field: "data", "structured CloudEvent has no 'data'")
        }
        let timeMs = try Self.eventTime(time, fallback: raw.timestampMs, field: "time")
        var tp = traceparent
        if tp == nil { tp = try attribute("traceparent", required: false) }
        return DecodedEvent(mode: .structured, idBytes: id, sourceBytes: source, typeBytes: type, subjectBytes: subject,
                            timeBytes: time, contentTypeBytes: contentType, traceparentBytes: tp, timeMs: timeMs,
                            document: document, payloadNode: data, workOrderID: nil)
    }

    private static let structuredType = Array("application/cloudevents+json".utf8)

    private static func required(_ value: ArraySlice<UInt8>?, _ field: String) throws(DecodeFailure) -> ArraySlice<UInt8> {
        guard let value, !value.isEmpty else { throw DecodeFailure(.parse, field: field, "missing \(field) header (required in CloudEvents binary mode)") }
        try checkUTF8(value, field)
        return value
    }

    private static func checkUTF8(_ value: ArraySlice<UInt8>?, _ field: String) throws(DecodeFailure) {
        guard let value else { return }
        // ASCII fast path; only non-ASCII values pay for full validation.
        if value.allSatisfy({ $0 < 0x80 }) { return }
        if String(validating: value, as: UTF8.self) == nil { throw DecodeFailure(.parse, field: field, "\(field) is not valid UTF-8") }
    }

    private static func eventTime(_ time: ArraySlice<UInt8>?, fallback: Int64, field: String) throws(DecodeFailure) -> Int64 {
        guard let time else { return fallback }
        guard let ms = RFC3339.milliseconds(time) else {
            throw DecodeFailure(.parse, field: field, "'\(String(decoding: time, as: UTF8.self))' is not an RFC 3339 timestamp (e.g. 2026-03-01T08:00:00Z)")
        }
        return ms
    }

    private static func hasPrefix(_ value: ArraySlice<UInt8>, _ prefix: [UInt8]) -> Bool {
        value.count >= prefix.count && zip(value, prefix).allSatisfy { $0 | 0x20 == $1 | 0x20 }
    }

    private static let jsonTypes = [Array("application/json".utf8), Array("text/json".utf8)]

    static func isJSON(_ value: ArraySlice<UInt8>) -> Bool {
        if jsonTypes.contains(where: { hasPrefix(value, $0) }) { return true }
        // `application/vnd.acme+json` and parameters (`; charset=utf-8`) are JSON too.
        let mediaType = value.prefix { $0 != UInt8(ascii: ";") }
        return mediaType.count >= 5 && mediaType.suffix(5).elementsEqual("+json".utf8)
    }
}
