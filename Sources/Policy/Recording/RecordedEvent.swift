import Foundation

/// The recorded-event format shared by `policy explain --event FILE`, `policy diff --events
/// FILE.jsonl` and `simulate --record`: one JSON object per event (one per line in JSONL):
///
///     {"topic":"plant.telemetry.readings","partition":0,"offset":12,"timestamp":1772352000000,
///      "key":"L1-FILL1","headers":{"ce_id":"e-1","ce_type":"plant.telemetry.reading",...},
///      "valueText":"{\"asset\":\"L1-FILL1\",...}"}
///
/// `value` may instead be given as JSON (`"value":{...}`, re-serialised compactly, handy when
/// writing files by hand), as exact text (`valueText`) or exact bytes (`valueBase64`). `key` is
/// UTF-8 text or `keyBase64`. Header values are UTF-8 text. Reading uses Foundation's
/// JSONSerialization: this is tooling, not the hot path.
public enum RecordedEvent {
    public struct FormatError: Error, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    /// One compact line with keys in sorted order. Written with `JSONWriter`, not
    /// JSONSerialization: recording a million-event workload took minutes with the latter.
    public static func encode(_ event: RawEvent) -> String {
        var writer = JSONWriter()
        func field(_ name: String, first: Bool = false) {
            if !first { writer.raw(",") }
            writer.string(name)
            writer.raw(":")
        }
        writer.raw("{")
        var headers: [String: String] = [:]
        for header in event.headers { headers[header.name] = header.value.map { String(decoding: $0, as: UTF8.self) } ?? "" }
        field("headers", first: true)
        writer.write(.object(headers.sorted { $0.key < $1.key }.map { JSONValue.Field(name: $0.key, value: .string($0.value)) }))
        if let key = event.key {
            if let text = String(validating: key, as: UTF8.self) {
                field("key"); writer.string(text)
            } else {
                field("keyBase64"); writer.string(Data(key).base64EncodedString())
            }
        }
        field("offset"); writer.raw(String(event.offset))
        field("partition"); writer.raw(String(event.partition))
        field("timestamp"); writer.raw(String(event.timestampMs))
        field("topic"); writer.string(event.topic)
        if let text = String(validating: event.value, as: UTF8.self) {
            field("valueText"); writer.string(text)
        } else {
            field("valueBase64"); writer.string(Data(event.value).base64EncodedString())
        }
        writer.raw("}")
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    public static func decode(_ line: String, lineNumber: Int = 1) throws -> RawEvent {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed])) as? [String: Any] else {
            throw FormatError(line: lineNumber, message: "not a JSON object")
        }
        guard let topic = object["topic"] as? String else { throw FormatError(line: lineNumber, message: "missing \"topic\"") }
        var key: [UInt8]?
        if let text = object["key"] as? String { key = Array(text.utf8) }
        if let b64 = object["keyBase64"] as? String { key = Data(base64Encoded: b64).map { Array($0) } }
        var headers: [EventHeader] = []
        if let map = object["headers"] as? [String: Any] {
            for name in map.keys.sorted() { headers.append(EventHeader(name: name, value: (map[name] as? String).map { Array($0.utf8) })) }
        }
        let value: [UInt8]
        if let text = object["valueText"] as? String {
            value = Array(text.utf8)
        } else if let b64 = object["valueBase64"] as? String, let data = Data(base64Encoded: b64) {
            value = Array(data)
        } else if let json = object["value"] {
            value = Array((try? JSONSerialization.data(withJSONObject: json, options: [.fragmentsAllowed, .withoutEscapingSlashes])) ?? Data())
        } else {
            throw FormatError(line: lineNumber, message: "missing \"value\", \"valueText\" or \"valueBase64\"")
        }
        return RawEvent(topic: topic, partition: Int32(object["partition"] as? Int ?? 0), offset: Int64(object["offset"] as? Int ?? 0),
                        timestampMs: Int64(object["timestamp"] as? Int ?? 0), key: key, value: value, headers: headers)
    }

    /// Writes `events` as a JSONL file, streamed in chunks so a large workload is never one string.
    public static func writeLines(_ events: [RawEvent], to url: URL) throws {
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
        }
        let file = try FileHandle(forWritingTo: url)
        defer { try? file.close() }
        var chunk: [UInt8] = []
        chunk.reserveCapacity(1 << 20)
        for event in events {
            chunk.append(contentsOf: encode(event).utf8)
            chunk.append(UInt8(ascii: "\n"))
            if chunk.count >= 1 << 20 {
                try file.write(contentsOf: chunk)
                chunk.removeAll(keepingCapacity: true)
            }
        }
        try file.write(contentsOf: chunk)
    }

    /// Reads a JSONL file (blank lines and lines starting with `#` are skipped).
    public static func readLines(at url: URL) throws -> [RawEvent] {
        let text = try String(contentsOf: url, encoding: .utf8)
        var events: [RawEvent] = []
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            events.append(try decode(trimmed, lineNumber: i + 1))
        }
        return events
    }
}
