import Kafka

/// Offsets `start..<end` of one partition, fixed when a read or a job starts so that
/// records written meanwhile (a replay's own dead letters among them) are never read.
public struct PartitionRange: Sendable, Hashable, Codable {
    public var topic: String
    public var partition: Int32
    public var start: Int64
    public var end: Int64

    public init(topic: String, partition: Int32, start: Int64, end: Int64) {
        self.topic = topic
        self.partition = partition
        self.start = start
        self.end = end
    }

    public var count: Int64 { max(0, end - start) }
    var topicPartition: TopicPartition { TopicPartition(topic: topic, partition: partition) }
}
