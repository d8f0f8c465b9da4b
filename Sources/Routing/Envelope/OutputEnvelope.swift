import Foundation
import Kafka
import Policy

/// Builds the Kafka record for one policy emission: the CloudEvents binary
/// binding plus the governance headers (see `HeaderNames`).
struct OutputEnvelope {
    /// `ce_source` of everything this router produces, e.g. `plantrouter/telemetry`.
    let source: String

    /// `traceparent` is the router's span for the source event (see `TraceParent.child`), made
    /// once per event so every output of a fan-out belongs to the same trace and span.
    func record(for emission: Emission, decision: Decision, traceparent: String, replayCount: Int) -> (record: ProducerRecord, idempotencyKey: String) {
        let event = decision.event
        let sourceEventID = event?.id ?? ""
        let ruleID = decision.ruleID ?? ""
        let key = IdempotencyKey.make(sourceEventID: sourceEventID, ruleID: ruleID, targetTopic: emission.topic)
        var headers = [
            KafkaHeader(name: HeaderNames.specVersion, string: "1.0"),
            // The output's id is its idempotency key, so a redelivered output is recognisably the same event.
            KafkaHeader(name: HeaderNames.id, string: key),
            KafkaHeader(name: HeaderNames.source, string: source),
            KafkaHeader(name: HeaderNames.type, string: emission.eventType),
            KafkaHeader(name: HeaderNames.contentType, string: "application/json"),
            KafkaHeader(name: HeaderNames.traceparent, string: traceparent),
            KafkaHeader(name: HeaderNames.policyVersion, string: decision.policyVersion),
            KafkaHeader(name: HeaderNames.ruleID, string: ruleID),
            KafkaHeader(name: HeaderNames.idempotencyKey, string: key),
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
}
