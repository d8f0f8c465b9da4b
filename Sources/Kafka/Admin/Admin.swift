import CRdKafka
import Logging

/// Cluster administration: create and describe topics, read watermarks,
/// committed offsets and consumer lag.
///
/// Methods that wait on the cluster block: the `async` ones run on a
/// dedicated queue, the synchronous ones are for dedicated threads and tools.
public final class Admin: Sendable {
    let handle: KafkaHandle

    public init(configuration: KafkaConfiguration, logger: Logger = Logger(label: "plantrouter.kafka.admin")) throws {
        // Shared properties that fit any client: the admin client is neither consumer nor producer.
        let conf = try NativeConfiguration.make(configuration.nativeProperties + configuration.rawProperties(for: .any))
        handle = try KafkaHandle(kind: RD_KAFKA_PRODUCER, conf: conf, callbacks: ClientCallbacks(logger: logger, cluster: configuration.bootstrapServers))
    }

    /// Creates `topics`. Topics that already exist are left as they are when
    /// `ignoreExisting`; any other per-topic failure throws, naming the topic.
    public func createTopics(_ topics: [TopicSpec], ignoreExisting: Bool = true, timeout: Duration = .seconds(30)) async throws {
        let failures = try await createEachTopic(topics, timeout: timeout)
        for topic in topics {
            guard let error = failures[topic.name] else { continue }
            if ignoreExisting && error.code == .topicAlreadyExists { continue }
            throw error
        }
    }

    /// Creates `topics` in one request and reports each topic's failure by name (an empty
    /// answer: all created). A request-level failure (no controller, timeout) throws.
    public func createEachTopic(_ topics: [TopicSpec], timeout: Duration = .seconds(30)) async throws -> [String: KafkaError] {
        try await BlockingThread.run(name: "kafka-blocking-call") { try self.createTopicsBlocking(topics, timeout: timeout) }
    }

    /// Describes `names` (every topic when empty) from cluster metadata.
    /// Throws `UNKNOWN_TOPIC_OR_PART` for a named topic the cluster lacks.
    public func describeTopics(_ names: [String] = [], timeout: Duration = .seconds(10)) throws(KafkaError) -> [TopicDescription] {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        try KafkaError.check(rd_kafka_metadata(handle.pointer, 1, nil, &metadata, timeout.milliseconds), "read cluster metadata")
        defer { rd_kafka_metadata_destroy(metadata) }
        guard let metadata else { throw KafkaError(operation: "read cluster metadata", code: KafkaErrorCode(RD_KAFKA_RESP_ERR__FAIL), message: "no metadata returned") }
        let all = UnsafeBufferPointer(start: metadata.pointee.topics, count: Int(metadata.pointee.topic_cnt))
        var byName: [String: TopicDescription] = [:]
        for topic in all {
            let name = String(cString: topic.topic)
            let partitions = UnsafeBufferPointer(start: topic.partitions, count: Int(topic.partition_cnt)).map { partition in
                TopicDescription.Partition(
                    id: partition.id, leader: partition.leader,
                    replicas: Array(UnsafeBufferPointer(start: partition.replicas, count: Int(partition.replica_cnt))),
                    inSyncReplicas: Array(UnsafeBufferPointer(start: partition.isrs, count: Int(partition.isr_cnt))))
            }
            if topic.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                byName[name] = TopicDescription(name: name, partitions: partitions.sorted { $0.id < $1.id })
            }
        }
        if names.isEmpty { return byName.values.sorted { $0.name < $1.name } }
        return try names.map { name throws(KafkaError) in
            guard let description = byName[name] else {
                throw KafkaError(operation: "describe topic \(name)", code: .unknownTopicOrPartition)
            }
            return description
        }
    }

    /// The partition's low and high watermarks (first offset, next offset to be written).
    public func watermarks(topic: String, partition: Int32, timeout: Duration = .seconds(10)) throws(KafkaError) -> (low: Int64, high: Int64) {
        try handle.queryWatermarks(topic: topic, partition: partition, timeout: timeout)
    }

    /// The group's committed offsets for every partition of `topics`.
    public func committedOffsets(group: String, topics: [String], timeout: Duration = .seconds(10)) throws -> [TopicPartitionOffset] {
        let partitions = try describeTopics(topics, timeout: timeout).flatMap { topic in
            topic.partitions.map { TopicPartition(topic: topic.name, partition: $0.id) }
        }
        return try listGroupOffsets(group: group, partitions: partitions, timeout: timeout)
    }

    /// Lag of `group` on every partition of `topics`.
    public func lag(group: String, topics: [String], timeout: Duration = .seconds(10)) throws -> [PartitionLag] {
        try committedOffsets(group: group, topics: topics, timeout: timeout).map { committed in
            let (low, high) = try watermarks(topic: committed.topic, partition: committed.partition, timeout: timeout)
            let hasCommitted = committed.offset >= 0
            return PartitionLag(
                topic: committed.topic, partition: committed.partition,
                committed: hasCommitted ? committed.offset : nil, highWatermark: high,
                lag: max(0, high - (hasCommitted ? committed.offset : low)))
        }
    }

    public func lag(group: String, topics: [String], timeout: Duration = .seconds(10)) async throws -> [PartitionLag] {
        try await BlockingThread.run(name: "kafka-blocking-call") { try self.lag(group: group, topics: topics, timeout: timeout) }
    }

    private func createTopicsBlocking(_ topics: [TopicSpec], timeout: Duration) throws -> [String: KafkaError] {
        guard !topics.isEmpty else { return [:] }
        var errorText = [CChar](repeating: 0, count: 512)
        var newTopics: [OpaquePointer?] = []
        defer { newTopics.forEach { rd_kafka_NewTopic_destroy($0) } }
        for topic in topics {
            guard let newTopic = rd_kafka_NewTopic_new(
                topic.name, topic.partitions, topic.replicationFactor, &errorText, errorText.count)
            else {
                throw KafkaError(operation: "create topic \(topic.name)", code: .invalidArgument, message: errorText.cString)
            }
            newTopics.append(newTopic)
            for (name, value) in topic.configs.sorted(by: { $0.key < $1.key }) {
                try KafkaError.check(rd_kafka_NewTopic_set_config(newTopic, name, value), "set \(name) on topic \(topic.name)")
            }
        }
        let event = try adminRequest(operation: "create topics", api: RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout: timeout) { options, queue in
            // Wait for the controller to finish creating, so a describe right after sees the topics.
            _ = rd_kafka_AdminOptions_set_operation_timeout(options, timeout.milliseconds, &errorText, errorText.count)
            rd_kafka_CreateTopics(handle.pointer, &newTopics, newTopics.count, options, queue)
        }
        defer { rd_kafka_event_destroy(event) }
        var count = 0
        var failures: [String: KafkaError] = [:]
        guard let results = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count) else { return [:] }
        for index in 0..<count {
            guard let result = results[index] else { continue }
            let code = rd_kafka_topic_result_error(result)
            if code == RD_KAFKA_RESP_ERR_NO_ERROR { continue }
            let name = String(cString: rd_kafka_topic_result_name(result))
            failures[name] = KafkaError(
                operation: "create topic \(name)", code: KafkaErrorCode(code),
                message: rd_kafka_topic_result_error_string(result).map { String(cString: $0) })
        }
        return failures
    }

    private func listGroupOffsets(group: String, partitions: [TopicPartition], timeout: Duration) throws -> [TopicPartitionOffset] {
        let list = NativePartitionList.make(partitions)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        var request: OpaquePointer? = rd_kafka_ListConsumerGroupOffsets_new(group, list)
        defer { rd_kafka_ListConsumerGroupOffsets_destroy(request) }
        let event = try adminRequest(operation: "list offsets of group \(group)", api: RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS, timeout: timeout) { options, queue in
            rd_kafka_ListConsumerGroupOffsets(handle.pointer, &request, 1, options, queue)
        }
        defer { rd_kafka_event_destroy(event) }
        var count = 0
        let groups = rd_kafka_ListConsumerGroupOffsets_result_groups(rd_kafka_event_ListConsumerGroupOffsets_result(event), &count)
        guard count == 1, let result = groups?[0] else { return [] }
        if let error = rd_kafka_group_result_error(result) {
            // Owned by the event: read it without consuming it.
            throw KafkaError(
                operation: "list offsets of group \(group)", code: KafkaErrorCode(rd_kafka_error_code(error)),
                message: String(cString: rd_kafka_error_string(error)))
        }
        // A result without a list (which a malformed response could give) reads as no offsets.
        guard let offsets = rd_kafka_group_result_partitions(result) else { return [] }
        if let error = NativePartitionList.firstError(offsets, operation: "list offsets of group \(group) for") { throw error }
        return NativePartitionList.entries(offsets)
    }

    /// Sends one admin request on a private queue and waits for its result event.
    /// The caller destroys the returned event.
    func adminRequest(
        operation: String, api: rd_kafka_admin_op_t, timeout: Duration,
        _ send: (OpaquePointer?, OpaquePointer?) -> Void
    ) throws(KafkaError) -> OpaquePointer {
        let queue = rd_kafka_queue_new(handle.pointer)
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(handle.pointer, api)
        defer { rd_kafka_AdminOptions_destroy(options) }
        var errorText = [CChar](repeating: 0, count: 512)
        _ = rd_kafka_AdminOptions_set_request_timeout(options, timeout.milliseconds, &errorText, errorText.count)
        send(options, queue)
        guard let event = rd_kafka_queue_poll(queue, timeout.milliseconds + 1000) else {
            throw KafkaError(operation: operation, code: .timedOut)
        }
        let code = rd_kafka_event_error(event)
        if code != RD_KAFKA_RESP_ERR_NO_ERROR {
            let message = rd_kafka_event_error_string(event).map { String(cString: $0) }
            rd_kafka_event_destroy(event)
            throw KafkaError(operation: operation, code: KafkaErrorCode(code), message: message)
        }
        return event
    }
}
