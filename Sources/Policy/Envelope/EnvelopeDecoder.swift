/// Decodes CloudEvents 1.0 in the Kafka protocol binding: binary mode (`ce_*` headers, JSON body)
/// and structured mode (`content-type: application/cloudevents+json`, the whole event as JSON).
///
/// Not thread-safe: it reuses one JSON parser buffer. Keep one per lane/engine.
///
/// Every record limit (catalog `limits:`) is checked here, before anything else is done with
/// the record: each costs a compare, and the header bytes are summed in the loop that already
/// visits every header.
public struct EnvelopeDecoder {
    public let limits: InputLimits
    private var parser: JSONParser
    private var timeCache = RFC3339.MinuteCache()

    public init(limits: InputLimits = InputLimits()) {
        self.limits = limits
        parser = JSONParser(maxDepth: limits.maxJSONDepth, maxNumberMagnitude: limits.maxNumberMagnitude)
    }

    public mutating func decode(_ raw: RawEvent) throws(DecodeFailure) -> DecodedEvent {
        // The count first: attribute indexes are Int16, and nothing below may see more headers.
        guard raw.headers.count <= limits.maxHeaders else {
            throw DecodeFailure(.parse, field: "headers", "the record has \(raw.headers.count) headers, over the limit of \(limits.maxHeaders) headers (catalog limits.maxHeaders); send fewer headers or raise the limit")
        }
        if let key = raw.key, key.count > limits.maxKeyBytes {
            throw DecodeFailure(.parse, field: "key", "the record key is \(key.count) bytes, over the limit of \(limits.maxKeyBytes) bytes (catalog limits.maxKeyBytes); use a shorter key or raise the limit")
        }
        var a = DecodedEvent.Attributes()
        var spec: Int16 = -1
        var headerBytes = 0
        // Header names are matched by length first, then compared as (small, allocation-free) strings.
        for (i, header) in raw.headers.enumerated() {
            let nameLength = header.name.utf8.count
            guard let value = header.value else { headerBytes &+= nameLength; continue }
            headerBytes &+= nameLength &+ value.count
            let index = Int16(truncatingIfNeeded: i)
            switch nameLength {
            case 5 where header.name == "ce_id": a.id = index
            case 7 where header.name == "ce_time": a.time = index
            case 7 where header.name == "ce_type": a.type = index
            case 9 where header.name == "ce_source": a.source = index
            case 10 where header.name == "ce_subject": a.subject = index
            case 11 where header.name == "traceparent": a.traceparent = index
            case 12 where header.name == "content-type": a.contentType = index
            case 14 where header.name == "ce_specversion": spec = index
            default: break
            }
        }
        guard headerBytes <= limits.maxHeaderBytes else {
            throw DecodeFailure(.parse, field: "headers", "the record's header names and values are \(headerBytes) bytes, over the limit of \(limits.maxHeaderBytes) bytes (catalog limits.maxHeaderBytes); send smaller headers or raise the limit")
        }
        func value(_ index: Int16) -> ArraySlice<UInt8>? { index >= 0 ? raw.headers[Int(index)].value?[...] : nil }
        if a.contentType >= 0, !Self.header(raw.headers, a.contentType, equals: Self.plainJSON), let contentType = value(a.contentType) {
            if Self.hasPrefix(contentType, Self.structuredType) {
                return try decodeStructured(raw, contentType: contentType, traceparent: value(a.traceparent))
            }
            if !Self.isJSON(contentType) {
                throw DecodeFailure(.parse, field: "content-type", "unsupported content type '\(String(decoding: contentType, as: UTF8.self))'; expected application/json or application/cloudevents+json")
            }
        }
        guard spec >= 0, let specValue = raw.headers[Int(spec)].value else {
            throw DecodeFailure(.parse, field: "ce_specversion", "missing ce_specversion header (CloudEvents binary mode)")
        }
        guard Self.header(raw.headers, spec, equals: Self.specVersion) else {
            throw DecodeFailure(.parse, field: "ce_specversion", "unsupported CloudEvents spec version '\(String(decoding: specValue, as: UTF8.self))'; expected 1.0")
        }
        // The common case, checked in one pass: every required attribute present, non-empty and ASCII.
        if !Self.requiredAttributesAreASCII(raw.headers, a) {
            try Self.required(value(a.id), "ce_id")
            try Self.required(value(a.source), "ce_source")
            try Self.required(value(a.type), "ce_type")
            try Self.checkUTF8(value(a.subject), "ce_subject")
        }
        let timeMs: Int64
        if let parsed = headerTime(raw.headers, a.time) {
            timeMs = parsed
        } else {
            timeMs = try Self.eventTime(value(a.time), fallback: raw.timestampMs, field: "ce_time")
        }
        let document = try parseBody(raw.value)
        return DecodedEvent(mode: .binary, headers: raw.headers, attributes: a, timeMs: timeMs, document: document, payloadNode: document.root)
    }

    private static let specVersion = Array("1.0".utf8)
    private static let plainJSON = Array("application/json".utf8)

    /// Whether header `index` has exactly the value `expected` (e.g. `application/json`, the
    /// content type nearly every plant event carries). Given the whole array and an index, the
    /// compiler reads the value in place; a copy of it was retained and released per event.
    private static func header(_ headers: [EventHeader], _ index: Int16, equals expected: [UInt8]) -> Bool {
        guard let value = headers[Int(index)].value else { return false }
        return ShortBytes.equal(value, expected)
    }

    /// True when id, source and type are present and non-empty and they and the subject are ASCII.
    private static func requiredAttributesAreASCII(_ headers: [EventHeader], _ a: DecodedEvent.Attributes) -> Bool {
        guard a.id >= 0, a.source >= 0, a.type >= 0 else { return false }
        func nonEmptyASCII(_ index: Int16) -> Bool {
            guard let value = headers[Int(index)].value, !value.isEmpty else { return false }
            return isASCII(value)
        }
        guard nonEmptyASCII(a.id), nonEmptyASCII(a.source), nonEmptyASCII(a.type) else { return false }
        guard a.subject >= 0, let subject = headers[Int(a.subject)].value else { return true }
        return isASCII(subject)
    }

    private static func isASCII(_ value: [UInt8]) -> Bool { value.withUnsafeBytes(ShortBytes.isASCII) }

    private mutating func parseBody(_ body: [UInt8]) throws(DecodeFailure) -> JSONDocument {
        guard body.count <= limits.maxEventBytes else {
            throw DecodeFailure(.parse, field: "value", "body is \(body.count) bytes, over the limit of \(limits.maxEventBytes) bytes (catalog limits.maxEventBytes); send a smaller event or raise the limit")
        }
        do {
            return try parser.parse(body)
        } catch {
            let limit = error.limit.map { " (catalog limits.\($0)); fix the producer or raise the limit" } ?? ""
            throw DecodeFailure(.parse, field: "value", "invalid JSON at byte \(error.offset): \(error.message)\(limit)")
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
        // `required: true` throws instead of returning nil; `?? []` only satisfies the type.
        let spec = try attribute("specversion", required: true) ?? []
        guard spec.elementsEqual("1.0".utf8) else {
            throw DecodeFailure(.parse, field: "specversion", "unsupported CloudEvents spec version '\(String(decoding: spec, as: UTF8.self))'; expected 1.0")
        }
        let id = try attribute("id", required: true) ?? []
        let source = try attribute("source", required: true) ?? []
        let type = try attribute("type", required: true) ?? []
        for (name, value) in [("id", id), ("source", source), ("type", type)] where value.isEmpty {
            throw DecodeFailure(.parse, field: name, "structured CloudEvent has an empty '\(name)'")
        }
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
        // Attributes become a synthetic headers array so both modes share one representation.
        var headers: [EventHeader] = []
        var a = DecodedEvent.Attributes()
        func add(_ name: String, _ value: ArraySlice<UInt8>?) -> Int16 {
            guard let value else { return -1 }
            headers.append(EventHeader(name: name, value: Array(value)))
            return Int16(truncatingIfNeeded: headers.count - 1)
        }
        a.id = add("ce_id", id)
        a.source = add("ce_source", source)
        a.type = add("ce_type", type)
        a.subject = add("ce_subject", subject)
        a.time = add("ce_time", time)
        a.contentType = add("content-type", contentType)
        a.traceparent = add("traceparent", tp)
        return DecodedEvent(mode: .structured, headers: headers, attributes: a, timeMs: timeMs, document: document, payloadNode: data)
    }

    private static let structuredType = Array("application/cloudevents+json".utf8)

    private static func required(_ value: ArraySlice<UInt8>?, _ field: String) throws(DecodeFailure) {
        guard let value, !value.isEmpty else { throw DecodeFailure(.parse, field: field, "missing \(field) header (required in CloudEvents binary mode)") }
        try checkUTF8(value, field)
    }

    private static func checkUTF8(_ value: ArraySlice<UInt8>?, _ field: String) throws(DecodeFailure) {
        guard let value else { return }
        if String(validating: value, as: UTF8.self) == nil { throw DecodeFailure(.parse, field: field, "\(field) is not valid UTF-8") }
    }

    /// `ce_time` in milliseconds, read in place like `header(_:_:equals:)` and through the
    /// decoder's minute cache; nil when absent or invalid, where `eventTime` falls back or
    /// reports the error.
    private mutating func headerTime(_ headers: [EventHeader], _ index: Int16) -> Int64? {
        guard index >= 0, let time = headers[Int(index)].value else { return nil }
        return time.withUnsafeBufferPointer { RFC3339.milliseconds($0, cache: &timeCache) }
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
