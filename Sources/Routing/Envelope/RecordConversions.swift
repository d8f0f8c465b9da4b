import Kafka
import Policy

extension RawEvent {
    /// The policy's Kafka-free view of a consumed record: the same buffers and the same header
    /// array, nothing copied.
    public init(_ record: ConsumerRecord) {
        self.init(
            topic: record.topic, partition: record.partition, offset: record.offset, timestampMs: record.timestampMs,
            key: record.key, value: record.value ?? [],
            headers: record.headers)
    }
}

extension ProducerRecord {
    /// A recorded or simulated plant event to publish as it is (key, value, headers).
    public init(_ event: RawEvent) {
        self.init(
            topic: event.topic, key: event.key, value: event.value,
            headers: event.headers)
    }
}
