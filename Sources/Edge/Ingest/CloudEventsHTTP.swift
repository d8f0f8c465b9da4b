import Foundation
import Policy

/// The CloudEvents 1.0 HTTP binding, turned into the Kafka binding the router consumes.
///
/// - binary mode: `ce-*` headers are the attributes, the body is `data`; they become `ce_*`
///   record headers (the Kafka binding's spelling) beside `content-type`, body unchanged.
/// - structured mode (`application/cloudevents+json`): the body is the whole event; it is
///   spooled byte for byte with `content-type: application/cloudevents+json`.
/// - batched mode (`application/cloudevents-batch+json`): a JSON array of structured events;
///   each element is cut out of the body byte for byte, never re-serialised.
///
/// The record key is the CloudEvents `partitionkey` extension when present, else `subject`,
/// else `source`: the gateway names the asset there, so each asset keeps its order.
enum CloudEventsHTTP {
    static let structuredType = "application/cloudevents+json"
    static let batchType = "application/cloudevents-batch+json"

    /// One event from a request, in the Kafka binding, with the attributes the edge routes on.
    struct Event: Sendable {
        var id: String?
        var type: String?
        var source: String?
        var key: [UInt8]?
        var value: [UInt8]
        var headers: [EventHeader]
    }

    struct Refusal: Error, Sendable, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// The media type of a `Content-Type` value, lower-cased, parameters dropped.
    static func mediaType(_ contentType: String?) -> String {
        (contentType ?? "").split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
    }

    /// Events of a binary-mode request: `headers` are the HTTP headers as (name, value).
    static func binary(headers: [(name: String, value: String)], body: [UInt8]) -> Event {
        var out: [EventHeader] = []
        var id: String?, type: String?, source: String?, subject: String?, partitionKey: String?
        for (rawName, value) in headers {
            let name = rawName.lowercased()
            if name.hasPrefix("ce-") {
                let attribute = String(name.dropFirst(3))
                guard !attribute.isEmpty else { continue }
                out.append(EventHeader("ce_" + attribute, value))
                switch attribute {
                case "id": id = value
                case "type": type = value
                case "source": source = value
                case "subject": subject = value
                case "partitionkey": partitionKey = value
                default: break
                }
            } else if name == "content-type" {
                out.append(EventHeader("content-type", value))
            } else if name == "traceparent" || name == "tracestate" {
                out.append(EventHeader(name, value))
            }
        }
        let key = partitionKey ?? subject ?? source
        return Event(id: id, type: type, source: source, key: key.map { Array($0.utf8) }, value: body, headers: out)
    }

    /// One structured-mode event (its bytes are kept as they are).
    static func structured(_ body: [UInt8]) -> Event {
        // The policy's tape parser, not JSONSerialization: a dictionary of `Any` per event cost
        // twice the spool insert (perf, plantrouter-bench edge). Not an object, or not JSON:
        // no attributes, and the policy dead-letters or refuses the event.
        let document = try? JSONDocument(parsing: body)
        func text(_ name: String) -> String? {
            guard let document, let node = document.field(document.root, Array(name.utf8)), document.kind(node) == .string else { return nil }
            return document.string(node)
        }
        let key = text("partitionkey") ?? text("subject") ?? text("source")
        return Event(id: text("id"), type: text("type"), source: text("source"), key: key.map { Array($0.utf8) }, value: body,
                     headers: [EventHeader("content-type", structuredType)])
    }

    /// The elements of a batch, each as structured-mode bytes. Throws past `maxEvents` or when
    /// the body is not one JSON array of objects.
    static func batch(_ body: [UInt8], maxEvents: Int) throws(Refusal) -> [Event] {
        try splitArray(body, maxElements: maxEvents).map { structured($0) }
    }

    /// Cuts a top-level JSON array into its elements' exact bytes (strings and nesting are
    /// tracked; the elements themselves are checked later by the envelope decoder).
    static func splitArray(_ body: [UInt8], maxElements: Int) throws(Refusal) -> [[UInt8]] {
        var index = 0
        func skipSpace() { while index < body.count, [0x20, 0x09, 0x0A, 0x0D].contains(body[index]) { index += 1 } }
        skipSpace()
        guard index < body.count, body[index] == UInt8(ascii: "[") else { throw Refusal("a batch must be a JSON array of CloudEvents") }
        index += 1
        var elements: [[UInt8]] = []
        skipSpace()
        if index < body.count, body[index] == UInt8(ascii: "]") {
            index += 1
            skipSpace()
            guard index == body.count else { throw Refusal("bytes after the batch's closing ]") }
            return []
        }
        while true {
            skipSpace()
            let start = index
            var depth = 0
            var inString = false
            var escaped = false
            scan: while index < body.count {
                let byte = body[index]
                if inString {
                    if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                } else {
                    switch byte {
                    case UInt8(ascii: "\""): inString = true
                    case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        if depth == 0 { break scan }
                        depth -= 1
                    case UInt8(ascii: ","): if depth == 0 { break scan }
                    default: break
                    }
                    guard depth <= InputLimits().maxJSONDepth + 1 else { throw Refusal("a batch element nests deeper than maxJSONDepth") }
                }
                index += 1
            }
            guard index < body.count else { throw Refusal("the batch array is not closed") }
            var end = index
            while end > start, [0x20, 0x09, 0x0A, 0x0D].contains(body[end - 1]) { end -= 1 }
            guard end > start, body[start] == UInt8(ascii: "{") else { throw Refusal("batch element \(elements.count) is not a JSON object") }
            elements.append(Array(body[start..<end]))
            guard elements.count <= maxElements else { throw Refusal("more than \(maxElements) events in one batch (maxEdgeBatchEvents)") }
            if body[index] == UInt8(ascii: "]") {
                index += 1
                skipSpace()
                guard index == body.count else { throw Refusal("bytes after the batch's closing ]") }
                return elements
            }
            index += 1 // the comma
        }
    }
}
