/// What one poll returned: records in partition order, partitions that reached
/// their end (only with `reportPartitionEOF`), and non-fatal consumer errors
/// librdkafka reported (it keeps retrying those itself).
public struct ConsumerBatch: Sendable {
    public var records: [ConsumerRecord] = []
    public var partitionsAtEnd: [TopicPartitionOffset] = []
    public var errors: [KafkaError] = []

    public var isEmpty: Bool { records.isEmpty && partitionsAtEnd.isEmpty && errors.isEmpty }

    public init() {}

    /// Empties the batch and keeps its arrays' capacity (see `Consumer.poll(into:maxRecords:timeout:)`).
    public mutating func removeAll() {
        records.removeAll(keepingCapacity: true)
        partitionsAtEnd.removeAll(keepingCapacity: true)
        errors.removeAll(keepingCapacity: true)
    }

    /// Adds `other`'s records, ends of partition and errors after this batch's own.
    public mutating func append(contentsOf other: ConsumerBatch) {
        records += other.records
        partitionsAtEnd += other.partitionsAtEnd
        errors += other.errors
    }
}
