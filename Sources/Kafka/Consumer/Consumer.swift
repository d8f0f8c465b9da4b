import CRdKafka
import Logging
import Synchronization

/// A consumer-group member (or a manually assigned reader) with explicit offset
/// store and commit.
///
/// Threading: `poll` blocks, so call it from a dedicated thread (the router's
/// lane threads do), or use `batches()`, which polls on a thread of its own and
/// hands batches to async code. Poll from one thread at a time; every other
/// method is thread-safe. Rebalance events are delivered inside `poll`.
public final class Consumer: Sendable {
    let handle: KafkaHandle
    private let queue: ConsumerQueue
    /// Committed offsets of assigned partitions that have no position yet (nothing consumed
    /// since assignment), for `lag()`; cleared on every rebalance.
    private let committedAtAssignment: CommittedStarts
    private let resetsToEarliest: Bool

    public init(
        configuration: ConsumerConfiguration,
        logger: Logger = Logger(label: "plantrouter.kafka.consumer"),
        onRebalance: (@Sendable (RebalanceEvent) -> Void)? = nil
    ) throws {
        let properties = configuration.nativeProperties
        let conf = try NativeConfiguration.make(properties)
        rd_kafka_conf_set_rebalance_cb(conf) { rk, code, partitions, opaque in
            guard let rk else { return }
            Consumer.rebalance(rk, code: code, partitions: partitions, callbacks: ClientCallbacks.from(opaque))
        }
        let strategy = properties.last { $0.0 == "partition.assignment.strategy" }?.1 ?? ""
        resetsToEarliest = (properties.last { $0.0 == "auto.offset.reset" }?.1 ?? "largest") == "earliest"
            || properties.last { $0.0 == "auto.offset.reset" }?.1 == "smallest"
        let committedAtAssignment = CommittedStarts()
        self.committedAtAssignment = committedAtAssignment
        let callbacks = ClientCallbacks(
            logger: logger, cluster: configuration.client.bootstrapServers,
            onRebalance: { event in
                committedAtAssignment.offsets.withLock { $0.removeAll() }
                onRebalance?(event)
            },
            stickyAssignorDefect: StickyAssignorDefect(assignmentStrategy: strategy))
        handle = try KafkaHandle(kind: RD_KAFKA_CONSUMER, conf: conf, callbacks: callbacks)
        // One queue for messages, rebalances, errors and logs, served by `poll`.
        rd_kafka_poll_set_consumer(handle.pointer)
        guard let consumerQueue = rd_kafka_queue_get_consumer(handle.pointer) else {
            throw KafkaError(operation: "create consumer", code: .invalidArgument, message: "the consumer has no group queue; set group.id")
        }
        queue = ConsumerQueue(consumerQueue)
    }

    /// Joins the group for `topics` (names or `^regex` patterns).
    public func subscribe(_ topics: [String]) throws(KafkaError) {
        let list = NativePartitionList.make(topics.map { TopicPartition(topic: $0, partition: RD_KAFKA_PARTITION_UA) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        try KafkaError.check(rd_kafka_subscribe(handle.pointer, list), "subscribe to \(topics.joined(separator: ", "))")
        handle.callbacks.stickyAssignorDefect?.didSubscribe()
    }

    /// Reads exactly these partitions from these offsets, outside group management.
    public func assign(_ partitions: [TopicPartitionOffset]) throws(KafkaError) {
        let list = NativePartitionList.make(partitions)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        try KafkaError.check(rd_kafka_assign(handle.pointer, list), "assign partitions")
    }

    /// Waits up to `timeout` for records and returns up to `maxRecords`.
    /// Blocking: never call it from Swift's cooperative pool.
    public func poll(maxRecords: Int = 500, timeout: Duration) throws(KafkaError) -> ConsumerBatch {
        var batch = ConsumerBatch()
        try poll(into: &batch, maxRecords: maxRecords, timeout: timeout)
        return batch
    }

    /// Like `poll(maxRecords:timeout:)`, into `batch`: it is emptied first and keeps its arrays'
    /// capacity, so a caller that polls in a loop allocates the records array once, not per poll
    /// (as long as it keeps no other reference to the array). Per poll, that allocation (tens of
    /// KiB) made glibc merge every small block freed since the previous one: 4–6% of a busy
    /// lane's CPU samples went to `malloc_consolidate` (Benchmarks/NOTES.md, 2026-12-08).
    public func poll(into batch: inout ConsumerBatch, maxRecords: Int = 500, timeout: Duration) throws(KafkaError) {
        batch.removeAll()
        if let fatal = handle.fatalError(operation: "poll") { throw fatal }
        queue.poll(into: &batch, maxRecords: maxRecords, timeoutMs: timeout.milliseconds)
    }

    /// Polls on a dedicated thread and delivers batches to async code. At most
    /// `bufferedBatches` wait unread; polling pauses until the reader catches up,
    /// so a slow reader holds records in Kafka, not in memory.
    public func batches(maxRecords: Int = 500, bufferedBatches: Int = 4) -> ConsumerBatches {
        ConsumerBatches(consumer: self, maxRecords: maxRecords, bufferedBatches: bufferedBatches)
    }

    /// Marks records as finished; the next `commit()` commits them. Pass each
    /// record's `nextOffset`.
    public func store(_ offsets: [TopicPartitionOffset]) throws(KafkaError) {
        let list = NativePartitionList.make(offsets)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        try KafkaError.check(rd_kafka_offsets_store(handle.pointer, list), "store offsets")
        if let error = NativePartitionList.firstError(list, operation: "store offset for") { throw error }
    }

    /// Commits `offsets`, or every stored offset when `nil`. Synchronous commits block.
    public func commit(_ offsets: [TopicPartitionOffset]? = nil, synchronously: Bool = true) throws(KafkaError) {
        let list = offsets.map(NativePartitionList.make)
        defer { list.map(rd_kafka_topic_partition_list_destroy) }
        let code = rd_kafka_commit(handle.pointer, list, synchronously ? 0 : 1)
        // Nothing stored since the last commit is not a failure.
        if code == RD_KAFKA_RESP_ERR__NO_OFFSET { return }
        try KafkaError.check(code, "commit offsets")
    }

    /// The group's committed offsets for `partitions` (`TopicPartitionOffset.invalid` when none).
    public func committed(_ partitions: [TopicPartition], timeout: Duration = .seconds(10)) throws(KafkaError) -> [TopicPartitionOffset] {
        let list = NativePartitionList.make(partitions)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        try KafkaError.check(rd_kafka_committed(handle.pointer, list, timeout.milliseconds), "fetch committed offsets")
        return NativePartitionList.entries(list)
    }

    /// The partitions currently assigned to this member.
    public func assignment() throws(KafkaError) -> [TopicPartition] {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        try KafkaError.check(rd_kafka_assignment(handle.pointer, &list), "read assignment")
        defer { list.map(rd_kafka_topic_partition_list_destroy) }
        return NativePartitionList.entries(list).map(\.topicPartition)
    }

    /// Records on the assigned partitions not yet consumed: high watermark minus position.
    ///
    /// A partition with no position yet (nothing consumed since it was assigned, e.g. one
    /// with nothing to read) counts from the group's committed offset, which is where its
    /// fetching starts; with no committed offset, from where `auto.offset.reset` starts
    /// (the low watermark for `earliest`, nothing for `latest`). The committed offsets are
    /// asked of the coordinator once per assignment (at most `committedTimeout`); a partition
    /// whose start is still unknown then, or that no fetch has reported watermarks for,
    /// adds nothing rather than a guess. Blocking: call it from a dedicated thread.
    public func lag(committedTimeout: Duration = .milliseconds(500)) throws(KafkaError) -> Int {
        let partitions = try assignment()
        guard !partitions.isEmpty else { return 0 }
        let list = NativePartitionList.make(partitions)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        try KafkaError.check(rd_kafka_position(handle.pointer, list), "read positions")
        let positions = NativePartitionList.entries(list)
        let unpositioned = positions.filter { $0.offset < 0 }.map(\.topicPartition)
        var starts = committedAtAssignment.offsets.withLock { known in known.filter { unpositioned.contains($0.key) } }
        let unknown = unpositioned.filter { starts[$0] == nil }
        if !unknown.isEmpty, let committed = try? committed(unknown, timeout: committedTimeout) {
            let found = Dictionary(committed.map { ($0.topicPartition, $0.offset) }, uniquingKeysWith: { first, _ in first })
            committedAtAssignment.offsets.withLock { known in known.merge(found) { _, new in new } }
            starts.merge(found) { _, new in new }
        }
        var total: Int64 = 0
        for position in positions {
            var low: Int64 = 0
            var high: Int64 = 0
            guard rd_kafka_get_watermark_offsets(handle.pointer, position.topic, position.partition, &low, &high)
                == RD_KAFKA_RESP_ERR_NO_ERROR, high >= 0 else { continue }
            let start: Int64
            if position.offset >= 0 {
                start = position.offset
            } else if let committed = starts[position.topicPartition] {
                guard committed >= 0 || resetsToEarliest else { continue }  // `latest`: nothing behind
                start = committed >= 0 ? committed : low
            } else {
                continue
            }
            total += max(0, high - start)
        }
        return Int(clamping: total)
    }

    /// For each entry (whose `offset` holds a timestamp in milliseconds), the earliest offset
    /// whose record timestamp is at or after it; the partition's end offset when none is.
    /// Blocks for up to `timeout`: call it from a dedicated thread.
    public func offsetsForTimes(_ timestamps: [TopicPartitionOffset], timeout: Duration = .seconds(10)) throws(KafkaError) -> [TopicPartitionOffset] {
        let list = NativePartitionList.make(timestamps)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        try KafkaError.check(rd_kafka_offsets_for_times(handle.pointer, list, timeout.milliseconds), "look up offsets for times")
        if let error = NativePartitionList.firstError(list, operation: "look up offset for time in") { throw error }
        return NativePartitionList.entries(list)
    }

    /// The partition's low and high watermarks, asked of the cluster. Blocks for up to `timeout`.
    public func watermarks(topic: String, partition: Int32, timeout: Duration = .seconds(10)) throws(KafkaError) -> (low: Int64, high: Int64) {
        try handle.queryWatermarks(topic: topic, partition: partition, timeout: timeout)
    }

    /// Stops fetching `partitions` (backpressure); the assignment is kept.
    public func pause(_ partitions: [TopicPartition]) throws(KafkaError) {
        let list = NativePartitionList.make(partitions)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        try KafkaError.check(rd_kafka_pause_partitions(handle.pointer, list), "pause partitions")
    }

    public func resume(_ partitions: [TopicPartition]) throws(KafkaError) {
        let list = NativePartitionList.make(partitions)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        try KafkaError.check(rd_kafka_resume_partitions(handle.pointer, list), "resume partitions")
    }

    /// The group generation and member id, for `TransactionalProducer.sendOffsets`.
    public func groupMetadata() -> ConsumerGroupMetadata {
        ConsumerGroupMetadata(rd_kafka_consumer_group_metadata(handle.pointer))
    }

    /// Leaves the group cleanly (revoking partitions through the rebalance
    /// handler, which may commit). Blocking.
    public func close() throws(KafkaError) {
        try KafkaError.check(rd_kafka_consumer_close(handle.pointer), "close consumer")
    }

    /// librdkafka's rebalance callback: reports the change, then applies it
    /// with the eager or cooperative call the group's protocol needs.
    private static func rebalance(
        _ rk: OpaquePointer, code: rd_kafka_resp_err_t,
        partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, callbacks: ClientCallbacks
    ) {
        let cooperative = rd_kafka_rebalance_protocol(rk).map { String(cString: $0) } == "COOPERATIVE"
        let changed = NativePartitionList.entries(partitions).map(\.topicPartition)
        var failure: OpaquePointer?
        switch code {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            callbacks.stickyAssignorDefect?.didReceiveAssignment()
            callbacks.onRebalance?(.assigned(changed))
            if cooperative {
                failure = rd_kafka_incremental_assign(rk, partitions)
            } else if rd_kafka_assign(rk, partitions) != RD_KAFKA_RESP_ERR_NO_ERROR {
                callbacks.logger.error("assigning partitions failed")
            }
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            callbacks.onRebalance?(.revoked(changed, lost: rd_kafka_assignment_lost(rk) != 0))
            if cooperative {
                failure = rd_kafka_incremental_unassign(rk, partitions)
            } else {
                _ = rd_kafka_assign(rk, nil)
            }
        default:
            callbacks.logger.error("rebalance failed: \(KafkaErrorCode(code).name)")
            _ = rd_kafka_assign(rk, nil)
        }
        if let failure {
            callbacks.logger.error("\(KafkaError(operation: "apply rebalance", consuming: failure))")
        }
    }
}

/// Committed offsets `Consumer.lag()` looked up for partitions without a position.
final class CommittedStarts: Sendable {
    let offsets = Mutex<[TopicPartition: Int64]>([:])
}
