import Kafka
import Policy

extension RawEvent {
    /// The policy's Kafka-free view of a consumed record (buffers are shared, not copied).
    public init(_ record: ConsumerRecord) {
        self.init(
            topic: record.topic, partition: record.partition, offset: record.offset, timestampMs: record.timestampMs,
            key: record.key, value: record.value ?? [],
            headers: record.headers.map { EventHeader(name: $0.name, value: $0.value) })
    }
}
