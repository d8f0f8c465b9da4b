import CRdKafka

public struct TopicPartition: Sendable, Hashable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public var description: String { "\(topic)[\(partition)]" }
}

/// A partition and an offset: a committed or stored position, or where to start reading.
public struct TopicPartitionOffset: Sendable, Hashable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32
    /// An absolute offset, or one of the logical offsets below.
    public var offset: Int64

    /// Start at the beginning of the partition.
    public static let beginning = Int64(RD_KAFKA_OFFSET_BEGINNING)
    /// Start at the end of the partition.
    public static let end = Int64(RD_KAFKA_OFFSET_END)
    /// Use the committed offset (or `auto.offset.reset`).
    public static let stored = Int64(RD_KAFKA_OFFSET_STORED)
    /// No offset: nothing committed yet.
    public static let invalid = Int64(RD_KAFKA_OFFSET_INVALID)

    public init(topic: String, partition: Int32, offset: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }

    public var topicPartition: TopicPartition { TopicPartition(topic: topic, partition: partition) }
    public var description: String { "\(topic)[\(partition)]@\(offset)" }
}

/// Conversions to and from librdkafka's `rd_kafka_topic_partition_list_t`.
enum NativePartitionList {
    /// The caller owns the returned list (`rd_kafka_topic_partition_list_destroy`).
    static func make(_ entries: [TopicPartitionOffset]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        // Only a size hint (the list grows as entries are added); librdkafka never returns NULL here.
        let list = rd_kafka_topic_partition_list_new(Int32(clamping: entries.count))!
        for entry in entries {
            rd_kafka_topic_partition_list_add(list, entry.topic, entry.partition).pointee.offset = entry.offset
        }
        return list
    }

    static func make(_ partitions: [TopicPartition]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        make(partitions.map { TopicPartitionOffset(topic: $0.topic, partition: $0.partition, offset: TopicPartitionOffset.invalid) })
    }

    static func entries(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>?) -> [TopicPartitionOffset] {
        guard let list, let elements = list.pointee.elems else { return [] }
        return (0..<Int(list.pointee.cnt)).map { index in
            let element = elements[index]
            return TopicPartitionOffset(topic: String(cString: element.topic), partition: element.partition, offset: element.offset)
        }
    }

    /// The first per-partition error in `list`, if any.
    static func firstError(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>, operation: String) -> KafkaError? {
        guard let elements = list.pointee.elems else { return nil }
        for index in 0..<Int(list.pointee.cnt) where elements[index].err != RD_KAFKA_RESP_ERR_NO_ERROR {
            let element = elements[index]
            return KafkaError(
                operation: "\(operation) \(String(cString: element.topic))[\(element.partition)]",
                code: KafkaErrorCode(element.err))
        }
        return nil
    }
}
