/// What one poll returned: records in partition order, partitions that reached
/// their end (only with `reportPartitionEOF`), and non-fatal consumer errors
/// librdkafka reported (it keeps retrying those itself).
public struct ConsumerBatch: Sendable {
    public var records: [ConsumerRecord] = []
    public var partitionsAtEnd: [TopicPartitionOffset] = []
    public var errors: [KafkaError] = []

    public var isEmpty: Bool { records.isEmpty && partitionsAtEnd.isEmpty && errors.isEmpty }
}
