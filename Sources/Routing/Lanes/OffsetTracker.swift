import Kafka

/// Which consumed offsets are finished: a record is finished when all its
/// outputs are acknowledged. Per partition, the committable offset is the
/// first unfinished one, so a commit never skips work still in flight.
struct OffsetTracker {
    private struct PartitionState {
        var unfinished: [Int64: Int] = [:]
        var nextOffset: Int64 = -1
    }

    private var partitions: [TopicPartition: PartitionState] = [:]

    /// A consumed record with `outputs` outputs still to be acknowledged (0: finished now).
    mutating func consumed(_ partition: TopicPartition, offset: Int64, outputs: Int) {
        partitions[partition, default: PartitionState()].nextOffset = offset + 1
        if outputs > 0 { partitions[partition]!.unfinished[offset, default: 0] += outputs }
    }

    mutating func outputFinished(_ partition: TopicPartition, offset: Int64) {
        guard let remaining = partitions[partition]?.unfinished[offset] else { return }
        partitions[partition]!.unfinished[offset] = remaining > 1 ? remaining - 1 : nil
    }

    /// The next offset to commit for each partition with progress.
    var committable: [TopicPartitionOffset] {
        partitions.compactMap { partition, state in
            guard state.nextOffset >= 0 else { return nil }
            let offset = state.unfinished.keys.min() ?? state.nextOffset
            return TopicPartitionOffset(topic: partition.topic, partition: partition.partition, offset: offset)
        }
    }

    func committable(for revoked: [TopicPartition]) -> [TopicPartitionOffset] {
        let set = Set(revoked)
        return committable.filter { set.contains($0.topicPartition) }
    }

    mutating func forget(_ revoked: [TopicPartition]) {
        for partition in revoked { partitions[partition] = nil }
    }
}
