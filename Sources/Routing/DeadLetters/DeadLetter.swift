import Foundation
import Kafka
import Policy

/// Why an event went to its lane's dead-letter topic, with the context an SRE
/// needs to fix and replay it.
public struct DeadLetter: Sendable {
    var reason: DeadLetterReason
    var error: String
    var ruleID: String?
    var policyVersion: String
    var attempts: Int
    var firstFailedAt: Date

    /// The original record byte for byte (key, value, headers, timestamp),
    /// followed by the documented `dlq-*` context headers.
    func record(original: ConsumerRecord, lane: String, topic: String) -> ProducerRecord {
        typealias Names = HeaderNames.DeadLetter
        var headers = original.headers
        headers += [
            KafkaHeader(name: Names.originalTopic, string: original.topic),
            KafkaHeader(name: Names.originalPartition, string: String(original.partition)),
            KafkaHeader(name: Names.originalOffset, string: String(original.offset)),
            KafkaHeader(name: Names.originalTimestamp, string: String(original.timestampMs)),
            KafkaHeader(name: Names.reason, string: reason.rawValue),
            KafkaHeader(name: Names.error, string: String(error.prefix(2000))),
            KafkaHeader(name: Names.policyVersion, string: policyVersion),
            KafkaHeader(name: Names.attempts, string: String(attempts)),
            KafkaHeader(name: Names.firstFailedAt, string: firstFailedAt.formatted(.iso8601)),
            KafkaHeader(name: Names.lane, string: lane),
        ]
        if let ruleID { headers.append(KafkaHeader(name: Names.ruleID, string: ruleID)) }
        return ProducerRecord(
            topic: topic, key: original.key, value: original.value, headers: headers,
            timestampMs: Self.keptTimestamp(original.timestampMs, nowMs: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))))
    }

    /// How far ahead of our clock an original timestamp may be and still be copied. Brokers
    /// refuse records dated too far ahead (Kafka 4: `log.message.timestamp.after.max.ms`, one
    /// hour), and a producer's bogus timestamp must not make its own dead letter unwritable.
    static let maxTimestampAheadMs: Int64 = 5 * 60 * 1000

    /// The original timestamp when it is plausible, else nil (the producer stamps the time of
    /// sending); the original is kept in `dlq-original-timestamp` either way.
    public static func keptTimestamp(_ timestampMs: Int64, nowMs: Int64) -> Int64? {
        let (ahead, overflow) = timestampMs.subtractingReportingOverflow(nowMs)
        guard timestampMs >= 0, !overflow, ahead <= maxTimestampAheadMs else { return nil }
        return timestampMs
    }
}
