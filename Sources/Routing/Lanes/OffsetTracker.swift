import Kafka

/// Which consumed offsets are finished: a record is finished when all its
/// outputs are acknowledged. Per partition, the committable offset is the
/// first unfinished one, so a commit never skips work still in flight.
///
/// Called twice per record on the lane's hot path, so it avoids hashing there: the last
/// partition used is remembered (records arrive in runs per partition), and each partition
/// keeps its unfinished offsets in consumed order, found by binary search.
struct OffsetTracker {
    private struct PartitionState {
        /// Offsets with outputs still unacknowledged, ascending; entries before `head` are done.
        var pending: [(offset: Int64, remaining: Int)] = []
        var head = 0
        var nextOffset: Int64 = -1

        mutating func add(_ offset: Int64, outputs: Int) {
            if let last = pending.last, last.offset >= offset {
                // Not seen on a live partition (offsets only grow); kept correct, not fast.
                let index = position(of: offset)
                if index < pending.count, pending[index].offset == offset {
                    pending[index].remaining += outputs
                } else {
                    pending.insert((offset, outputs), at: index)
                }
            } else {
                pending.append((offset, outputs))
            }
        }

        mutating func finish(_ offset: Int64) {
            let index = position(of: offset)
            guard index < pending.count, pending[index].offset == offset, pending[index].remaining > 0 else { return }
            pending[index].remaining -= 1
            while head < pending.count, pending[head].remaining == 0 { head += 1 }
            if head == pending.count {
                pending.removeAll(keepingCapacity: true)
                head = 0
            } else if head >= 4096, head * 2 >= pending.count {
                pending.removeFirst(head)
                head = 0
            }
        }

        /// The first index at or after `head` whose offset is not below `offset`.
        private func position(of offset: Int64) -> Int {
            var low = head, high = pending.count
            while low < high {
                let middle = low + (high - low) / 2
                if pending[middle].offset < offset { low = middle + 1 } else { high = middle }
            }
            return low
        }

        var firstUnfinished: Int64? { head < pending.count ? pending[head].offset : nil }
    }

    private var index: [TopicPartition: Int] = [:]
    private var states: [PartitionState] = []
    private var names: [TopicPartition] = []
    private var last: (partition: TopicPartition, slot: Int)?

    private mutating func slot(for partition: TopicPartition, creating: Bool) -> Int? {
        if let last, last.partition.partition == partition.partition, last.partition.topic == partition.topic { return last.slot }
        let slot: Int
        if let known = index[partition] {
            slot = known
        } else {
            guard creating else { return nil }
            slot = states.count
            states.append(PartitionState())
            names.append(partition)
            index[partition] = slot
        }
        last = (partition, slot)
        return slot
    }

    /// A consumed record with `outputs` outputs still to be acknowledged (0: finished now).
    mutating func consumed(_ partition: TopicPartition, offset: Int64, outputs: Int) {
        guard let slot = slot(for: partition, creating: true) else { return }
        states[slot].nextOffset = offset + 1
        if outputs > 0 { states[slot].add(offset, outputs: outputs) }
    }

    mutating func outputFinished(_ partition: TopicPartition, offset: Int64) {
        guard let slot = slot(for: partition, creating: false) else { return }
        states[slot].finish(offset)
    }

    /// The next offset to commit for each partition with progress.
    var committable: [TopicPartitionOffset] {
        zip(names, states).compactMap { partition, state in
            guard state.nextOffset >= 0 else { return nil }
            return TopicPartitionOffset(topic: partition.topic, partition: partition.partition, offset: state.firstUnfinished ?? state.nextOffset)
        }
    }

    func committable(for revoked: [TopicPartition]) -> [TopicPartitionOffset] {
        let set = Set(revoked)
        return committable.filter { set.contains($0.topicPartition) }
    }

    mutating func forget(_ revoked: [TopicPartition]) {
        let gone = Set(revoked)
        let kept = zip(names, states).filter { !gone.contains($0.0) }
        names = kept.map(\.0)
        states = kept.map(\.1)
        index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        last = nil
    }
}
