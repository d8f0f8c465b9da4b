import Foundation

/// The recorded-event format shared by `policy explain --event FILE`, `policy diff --events
/// FILE.jsonl` and `simulate --record`: one JSON object per event (one per line in JSONL):
///
///     {"topic":"plant.telemetry.readings","partition":0,"offset":12,"timestamp":1772352000000,
///      "key":"L1-FILL1","headers":{"ce_id":"e-1","ce_type":"plant.telemetry.reading",...},
///      "valueText":"{\"asset\":\"L1-FILL1\",...}"}
///
/// `value` may instead be given as JSON (`"value":{...}`, re-serialised compactly, handy when
/// writing files by hand), as exact text (`valueText`) or exact bytes (`valueBase64`); exactly
/// one of the three. `key` is UTF-8 text or `keyBase64`. Header values are UTF-8 text or null.
///
/// These files come from anywhere (a colleague, a ticket), so reading them is bounded like a
/// consumed record: lines up to `InputLimits.maxRecordedLineBytes`, the strict JSON parser
/// (depth, duplicate keys, surrogates), whole integers read exactly from their text, unknown
/// keys refused, and every problem reported with its line number.
public enum RecordedEvent {
    public struct FormatError: Error, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    static let keys = ["topic", "partition", "offset", "timestamp", "key", "keyBase64", "headers", "value", "valueText", "valueBase64"]

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
        try decode(bytes: Array(line.utf8), lineNumber: lineNumber)
    }

    /// Decodes one recorded event from the bytes of one line.
    public static func decode(bytes line: [UInt8], lineNumber: Int = 1) throws(FormatError) -> RawEvent {
        func fail(_ message: String) -> FormatError { FormatError(line: lineNumber, message: message) }
        guard line.count <= InputLimits.maxRecordedLineBytes else {
            throw fail("the line is \(line.count) bytes, over the limit of \(InputLimits.maxRecordedLineBytes) bytes (maxRecordedLineBytes); record smaller events")
        }
        let document: JSONDocument
        do {
            document = try JSONDocument(parsing: line)
        } catch {
            throw fail("invalid JSON at byte \(error.offset): \(error.message)")
        }
        let root = document.root
        guard document.kind(root) == .object else { throw fail("not a JSON object; expected one event per line, e.g. {\"topic\":\"t\",\"valueText\":\"{}\"}") }
        var fields: [String: Int] = [:]
        for (keyNode, valueNode) in document.fields(root) {
            let name = document.string(keyNode)
            guard keys.contains(name) else { throw fail("unknown key '\(name.prefix(64))'; \(Suggest.hint(for: String(name.prefix(64)), in: keys))") }
            fields[name] = valueNode
        }
        func string(_ name: String) throws(FormatError) -> String? {
            guard let node = fields[name] else { return nil }
            guard document.kind(node) == .string else { throw fail("\"\(name)\" must be a string") }
            return document.string(node)
        }
        func base64(_ name: String) throws(FormatError) -> [UInt8]? {
            guard let text = try string(name) else { return nil }
            guard let data = Data(base64Encoded: text) else { throw fail("\"\(name)\" is not valid base64") }
            return Array(data)
        }
        /// A whole number read exactly from its text (a Double would round past 2^53).
        func integer<T: FixedWidthInteger>(_ name: String, _ range: ClosedRange<T>) throws(FormatError) -> T {
            guard let node = fields[name] else { return 0 }
            let text = String(decoding: document.rawSlice(node), as: UTF8.self)
            guard document.kind(node) == .number, let value = T(text), range.contains(value) else {
                throw fail("\"\(name)\" must be a whole number in \(range.lowerBound)...\(range.upperBound), got \(text.prefix(40))")
            }
            return value
        }

        guard let topic = try string("topic") else { throw fail("missing \"topic\"") }
        if fields["key"] != nil, fields["keyBase64"] != nil { throw fail("give \"key\" or \"keyBase64\", not both") }
        var key = try base64("keyBase64")
        if key == nil, let text = try string("key") { key = Array(text.utf8) }
        var headers: [EventHeader] = []
        if let node = fields["headers"] {
            guard document.kind(node) == .object else { throw fail("\"headers\" must be an object of header name to text value") }
            for (nameNode, valueNode) in document.fields(node) {
                let name = document.string(nameNode)
                switch document.kind(valueNode) {
                case .string: headers.append(EventHeader(name: name, value: document.unescapedBytes(valueNode)))
                case .null: headers.append(EventHeader(name: name, value: nil))
                default: throw fail("header '\(name.prefix(64))' must have a string (or null) value")
                }
            }
        }
        let given = ["value", "valueText", "valueBase64"].filter { fields[$0] != nil }
        guard given.count == 1 else {
            throw fail(given.isEmpty ? "missing \"value\", \"valueText\" or \"valueBase64\"" : "give one of \(given.map { "\"\($0)\"" }.joined(separator: ", ")), not several")
        }
        let value: [UInt8]
        if let text = try string("valueText") {
            value = Array(text.utf8)
        } else if let bytes = try base64("valueBase64") {
            value = bytes
        } else if let node = fields["value"] {
            var writer = JSONWriter()
            writer.write(document.value(node))
            value = writer.bytes
        } else {
            value = []
        }
        return RawEvent(topic: topic, partition: try integer("partition", 0...Int32.max), offset: try integer("offset", 0...Int64.max),
                        timestampMs: try integer("timestamp", Int64.min...Int64.max), key: key, value: value, headers: headers)
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

    /// Reads a JSONL file (blank lines and lines starting with `#` are skipped). Lines are cut
    /// from the file's bytes and checked for length before any other work.
    public static func readLines(at url: URL) throws -> [RawEvent] {
        let data = try Data(contentsOf: url)
        var events: [RawEvent] = []
        var lineNumber = 0
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            let isSpace = { (b: UInt8) in b == 0x20 || b == 0x09 || b == 0x0D }
            guard let first = line.firstIndex(where: { !isSpace($0) }), let last = line.lastIndex(where: { !isSpace($0) }) else { continue }
            let trimmed = line[first...last]
            if trimmed.first == UInt8(ascii: "#") { continue }
            events.append(try decode(bytes: Array(trimmed), lineNumber: lineNumber))
        }
        return events
    }
}
