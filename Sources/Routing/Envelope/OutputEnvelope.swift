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

    init(source: String) {
        self.source = Array(source.utf8)
    }

    /// `traceparent` is the router's span for the source event (see `TraceParent.child`), made
    /// once per event so every output of a fan-out belongs to the same trace and span.
    func record(for emission: Emission, decision: Decision, traceparent: [UInt8], replayCount: Int) -> (record: ProducerRecord, idempotencyKey: String) {
        let event = decision.event
        let sourceEventID = event?.id ?? ""
        let ruleID = decision.ruleID ?? ""
        let key = IdempotencyKey.make(sourceEventID: sourceEventID, ruleID: ruleID, targetTopic: emission.topic)
        let keyBytes = Array(key.utf8)
        var headers: [KafkaHeader] = []
        headers.reserveCapacity(15)
        headers += [
            KafkaHeader(name: HeaderNames.specVersion, value: specVersion),
            // The output's id is its idempotency key, so a redelivered output is recognisably the same event.
            KafkaHeader(name: HeaderNames.id, value: keyBytes),
            KafkaHeader(name: HeaderNames.source, value: source),
            KafkaHeader(name: HeaderNames.type, value: bytes(of: emission.eventType)),
            KafkaHeader(name: HeaderNames.contentType, value: contentType),
            KafkaHeader(name: HeaderNames.traceparent, value: traceparent),
            KafkaHeader(name: HeaderNames.policyVersion, value: bytes(of: decision.policyVersion)),
            KafkaHeader(name: HeaderNames.ruleID, value: bytes(of: ruleID)),
            KafkaHeader(name: HeaderNames.idempotencyKey, value: keyBytes),
            KafkaHeader(name: HeaderNames.sourceEventID, string: sourceEventID),
        ]
        if let time = event?.time { headers.append(KafkaHeader(name: HeaderNames.time, string: time)) }
        if let subject = event?.subject { headers.append(KafkaHeader(name: HeaderNames.subject, string: subject)) }
        if let correlationID = emission.correlationID {
            headers.append(KafkaHeader(name: HeaderNames.correlationID, string: correlationID))
        }
        if replayCount > 0 { headers.append(KafkaHeader(name: HeaderNames.replayCount, string: String(replayCount))) }
        return (ProducerRecord(topic: emission.topic, key: emission.key, value: emission.payload, headers: headers), key)
    }

    private func bytes(of text: String) -> [UInt8] {
        if let known = encoded[text] { return known }
        let bytes = Array(text.utf8)
        if encoded.count < 4096 { encoded[text] = bytes }
        return bytes
    }
}
