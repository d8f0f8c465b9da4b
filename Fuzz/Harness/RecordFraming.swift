import Policy

/// How `fuzz-envelope` turns its input bytes into consumed records. Text-like on purpose, so
/// libFuzzer's mutations and dictionary tokens (`ce_time:`, `"value":`) land on meaningful
/// places, and a seed can be written by hand:
///
///     input   = record *( 0x1E record )        at most `maxRecords` records
///     record  = head [ "\n\n" value ]          no blank line: an empty value
///     head    = topic *( "\n" line )
///     topic   = [ "?" ] ( "#" digits / name )  "#3": catalog topic 3 (modulo the count), else the
///                                              literal topic name; "?": `explain` instead of `evaluate`
///     line    = "@key" / "@key:" bytes         no key (the default) / the record key
///             / "@ts:" integer                 record timestamp in ms (default 2026-03-01T08:00:00Z)
///             / "@repeat:" integer             evaluate the record 1...`maxRepeat` times, 1 s apart
///             / name [ ":" bytes ]             a header, without a value when there is no ":"
///
/// Header values run to the end of the line and are not trimmed; anything else starting with
/// "@" is an ordinary header.
public struct FramedRecord: Sendable {
    public var raw: RawEvent
    public var explain: Bool
    public var repeatCount: Int
}

public enum RecordFraming {
    public static let maxRecords = 64
    public static let maxRepeat = 64
    public static let defaultTimestampMs: Int64 = 1_772_352_000_000

    public static func records(_ bytes: some Collection<UInt8>, topics: [String]) -> [FramedRecord] {
        Array(bytes).split(separator: 0x1E, omittingEmptySubsequences: false).prefix(maxRecords).map { record(Array($0), topics: topics) }
    }

    static func record(_ bytes: [UInt8], topics: [String]) -> FramedRecord {
        let newline = UInt8(ascii: "\n")
        var head = bytes[...]
        var value: [UInt8] = []
        if let cut = bytes.indices.dropLast().first(where: { bytes[$0] == newline && bytes[$0 + 1] == newline }) {
            head = bytes[..<cut]
            value = Array(bytes[(cut + 2)...])
        }
        var lines = head.split(separator: newline, omittingEmptySubsequences: false)[...]
        var topicLine = lines.popFirst() ?? []
        let explain = topicLine.first == UInt8(ascii: "?")
        if explain { topicLine = topicLine.dropFirst() }
        var topic = String(decoding: topicLine, as: UTF8.self)
        if topicLine.first == UInt8(ascii: "#"), !topics.isEmpty, let n = Int(String(decoding: topicLine.dropFirst(), as: UTF8.self)) {
            topic = topics[Int(n.magnitude % UInt(topics.count))]
        }
        var event = RawEvent(topic: topic, timestampMs: defaultTimestampMs, key: nil, value: value, headers: [])
        var repeatCount = 1
        for line in lines {
            let colon = line.firstIndex(of: UInt8(ascii: ":"))
            let name = String(decoding: line[..<(colon ?? line.endIndex)], as: UTF8.self)
            let rest = colon.map { Array(line[line.index(after: $0)...]) }
            let text = rest.map { String(decoding: $0, as: UTF8.self) }
            switch name {
            case "@key": event.key = rest
            case "@ts" where text.flatMap { Int64($0) } != nil: event.timestampMs = text.flatMap { Int64($0) } ?? 0
            case "@repeat" where text.flatMap { Int($0) } != nil: repeatCount = min(max(text.flatMap { Int($0) } ?? 1, 1), maxRepeat)
            default: event.headers.append(EventHeader(name: name, value: rest))
            }
        }
        return FramedRecord(raw: event, explain: explain, repeatCount: repeatCount)
    }

    /// The framing of `raw` (inverse of `record` for events whose header names and values hold no
    /// newline and names no ":"): how the seed corpus is written from simulator events.
    public static func frame(_ raw: RawEvent) -> [UInt8] {
        var out = Array(raw.topic.utf8)
        if let key = raw.key { out += Array("\n@key:".utf8) + key }
        if raw.timestampMs != defaultTimestampMs { out += Array("\n@ts:\(raw.timestampMs)".utf8) }
        for header in raw.headers {
            out += [UInt8(ascii: "\n")] + Array(header.name.utf8)
            if let value = header.value { out += [UInt8(ascii: ":")] + value }
        }
        return out + Array("\n\n".utf8) + raw.value
    }
}
