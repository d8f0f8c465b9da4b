import Foundation
import Kafka
import Policy

/// Builds the Kafka record for one policy emission: the CloudEvents binary
/// binding plus the governance headers (see `HeaderNames`).
struct OutputEnvelope {
    // Header values that repeat on every output, encoded once: a KafkaHeader shares the buffer.
    private let specVersion = Array("1.0".utf8)
    private let contentType = Array("application/json".utf8)
    /// `ce_source` of everything this router produces, e.g. `plantrouter/telemetry`.
    private let source: [UInt8]

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
        var headers = [
            KafkaHeader(name: HeaderNames.specVersion, value: specVersion),
            // The output's id is its idempotency key, so a redelivered output is recognisably the same event.
            KafkaHeader(name: HeaderNames.id, value: keyBytes),
            KafkaHeader(name: HeaderNames.source, value: source),
            KafkaHeader(name: HeaderNames.type, string: emission.eventType),
            KafkaHeader(name: HeaderNames.contentType, value: contentType),
            KafkaHeader(name: HeaderNames.traceparent, value: traceparent),
            KafkaHeader(name: HeaderNames.policyVersion, string: decision.policyVersion),
            KafkaHeader(name: HeaderNames.ruleID, string: ruleID),
            KafkaHeader(name: HeaderNames.idempotencyKey, value: keyBytes),
            KafkaHeader(name: HeaderNames.sourceEventID, string: sourceEventID),
        ]
        headers.reserveCapacity(14)
        if let time = event?.time { headers.append(KafkaHeader(name: HeaderNames.time, string: time)) }
        if let subject = event?.subject { headers.append(KafkaHeader(name: HeaderNames.subject, string: subject)) }
        if let correlationID = emission.correlationID {
            headers.append(KafkaHeader(name: HeaderNames.correlationID, string: correlationID))
        }
        if replayCount > 0 { headers.append(KafkaHeader(name: HeaderNames.replayCount, string: String(replayCount))) }
        return (ProducerRecord(topic: emission.topic, key: emission.key, value: emission.payload, headers: headers), key)
    }
}
