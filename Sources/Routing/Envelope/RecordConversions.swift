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

extension ProducerRecord {
    /// A recorded or simulated plant event to publish as it is (key, value, headers).
    public init(_ event: RawEvent) {
        self.init(
            topic: event.topic, key: event.key, value: event.value,
            headers: event.headers.map { KafkaHeader(name: $0.name, value: $0.value) })
    }
}
