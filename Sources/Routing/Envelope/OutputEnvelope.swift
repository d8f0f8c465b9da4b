import Foundation
import Kafka
import Policy

/// Builds the Kafka record for one policy emission: the CloudEvents binary
/// binding plus the governance headers (see `HeaderNames`).
final class OutputEnvelope {
    // Header values that repeat on every output, encoded once: a KafkaHeader shares the buffer.
    private let specVersion = Array("1.0".utf8)
    private let contentType = Array("application/json".utf8)
    /// `ce_source` of everything this router produces, e.g. `plantrouter/telemetry`.
    private let source: [UInt8]
    /// Event types, rule ids and policy versions repeat on nearly every output; encoded once each.
    private var encoded: [String: [UInt8]] = [:]
    private var lastEncoded: [(text: String, bytes: [UInt8])?] = Array(repeating: nil, count: TextKind.allCases.count)

    init(source: String) {
        self.source = Array(source.utf8)
    }

    /// `traceparent` is the router's span for the source event (see `TraceParent.child`), made
    /// once per event so every output of a fan-out belongs to the same trace and span.
    ///
    /// Per output this allocates the key and the header array; every other value is shared: the
    /// source event's own header buffers (id, time, subject) and the encoded constants.
    func record(for emission: Emission, decision: Decision, traceparent: [UInt8], replayCount: Int) -> (record: ProducerRecord, idempotencyKey: [UInt8]) {
        let event = decision.event
        let sourceEventID = event?.idBytes ?? []
        let ruleID = decision.ruleID ?? ""
        let key = IdempotencyKey.bytes(sourceEventID: sourceEventID, ruleID: ruleID, targetTopic: emission.topic)
        // Appended one by one into room for all 14: an array literal would be a second
        // allocation per output, copied in and freed.
        var headers: [KafkaHeader] = []
        headers.reserveCapacity(14)
        headers.append(KafkaHeader(name: HeaderNames.specVersion, value: specVersion))
        // The output's id is its idempotency key, so a redelivered output is recognisably the same event.
        headers.append(KafkaHeader(name: HeaderNames.id, value: key))
        headers.append(KafkaHeader(name: HeaderNames.source, value: source))
        headers.append(KafkaHeader(name: HeaderNames.type, value: bytes(of: emission.eventType, .eventType)))
        headers.append(KafkaHeader(name: HeaderNames.contentType, value: contentType))
        headers.append(KafkaHeader(name: HeaderNames.traceparent, value: traceparent))
        headers.append(KafkaHeader(name: HeaderNames.policyVersion, value: bytes(of: decision.policyVersion, .policyVersion)))
        headers.append(KafkaHeader(name: HeaderNames.ruleID, value: bytes(of: ruleID, .ruleID)))
        headers.append(KafkaHeader(name: HeaderNames.idempotencyKey, value: key))
        headers.append(KafkaHeader(name: HeaderNames.sourceEventID, value: sourceEventID))
        if let time = event?.timeBytes { headers.append(KafkaHeader(name: HeaderNames.time, value: time)) }
        if let subject = event?.subjectBytes { headers.append(KafkaHeader(name: HeaderNames.subject, value: subject)) }
        if let correlationID = emission.correlationID {
            headers.append(KafkaHeader(name: HeaderNames.correlationID, value: bytes(of: correlationID, .correlationID)))
        }
        if replayCount > 0 { headers.append(KafkaHeader(name: HeaderNames.replayCount, string: String(replayCount))) }
        return (ProducerRecord(topic: emission.topic, key: emission.key, value: emission.payload, headers: headers), key)
    }

    /// A repeated text's bytes. Consecutive outputs nearly always repeat the previous type, rule
    /// and version, so the last text of each kind is checked before the table (a `String`
    /// compare that usually succeeds on identity, not a hash per lookup).
    private func bytes(of text: String, _ kind: TextKind) -> [UInt8] {
        if let last = lastEncoded[kind.rawValue], last.text == text { return last.bytes }
        let bytes: [UInt8]
        if let known = encoded[text] {
            bytes = known
        } else {
            bytes = Array(text.utf8)
            if encoded.count < 4096 { encoded[text] = bytes }
        }
        lastEncoded[kind.rawValue] = (text, bytes)
        return bytes
    }

    enum TextKind: Int, CaseIterable { case eventType, policyVersion, ruleID, correlationID }
}
