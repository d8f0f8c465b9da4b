import Kafka
import Ledger

/// The catalog's audit topic as a lane or replay writes it: one `AuditEntry` per record, keyed
/// by work order, else event id (see `AuditEntry.key`).
public struct AuditTopic: Sendable {
    public let name: String

    public init(name: String) {
        self.name = name
    }

    /// The record for `entry`.
    public func record(_ entry: AuditEntry) -> ProducerRecord {
        ProducerRecord(
            topic: name, key: Array(entry.key.utf8), value: AuditEntryEncoder.encode(entry),
            headers: [
                KafkaHeader(name: HeaderNames.type, string: AuditEntry.eventType),
                KafkaHeader(name: HeaderNames.contentType, string: "application/json"),
            ])
    }
}
