import CRdKafka

/// Owns one `rd_kafka_t` and destroys it exactly once.
///
/// librdkafka documents `rd_kafka_t` as thread-safe: produce, poll, commit,
/// pause and metadata calls may come from any thread. This class adds no
/// mutable state of its own, which is why it may be shared across threads; the
/// one rule librdkafka adds, polling a queue from one thread at a time, is kept
/// by the clients that own a `PollThread`.
final class KafkaHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    /// Kept alive as long as librdkafka may call back into it.
    let callbacks: ClientCallbacks
    /// Topic handles created with settings of their own (`topicProperties`), held for the
    /// client's life: producing to a topic by name finds these and uses their settings.
    private let configuredTopics: [OpaquePointer]

    /// Creates the client; `conf` is consumed whether or not this succeeds.
    /// `topicProperties` are per-topic librdkafka settings, e.g. `compression.codec`.
    init(
        kind: rd_kafka_type_t, conf: OpaquePointer, callbacks: ClientCallbacks,
        topicProperties: [String: [(String, String)]] = [:]
    ) throws(KafkaError) {
        callbacks.install(on: conf)
        var errorText = [CChar](repeating: 0, count: 512)
        guard let pointer = rd_kafka_new(kind, conf, &errorText, errorText.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError(
                operation: "create Kafka client", code: .invalidArgument, message: errorText.cString)
        }
        var topics: [OpaquePointer] = []
        for (name, properties) in topicProperties.sorted(by: { $0.key < $1.key }) {
            let topicConf = rd_kafka_topic_conf_new()
            for (key, value) in properties where rd_kafka_topic_conf_set(topicConf, key, value, &errorText, errorText.count) != RD_KAFKA_CONF_OK {
                rd_kafka_topic_conf_destroy(topicConf)
                topics.forEach { rd_kafka_topic_destroy($0) }
                rd_kafka_destroy(pointer)
                throw KafkaError(operation: "configure topic \(name)", code: .invalidArgument, message: "\(key)=\(value): \(errorText.cString)")
            }
            // On success librdkafka owns `topicConf`.
            guard let topic = rd_kafka_topic_new(pointer, name, topicConf) else {
                topics.forEach { rd_kafka_topic_destroy($0) }
                rd_kafka_destroy(pointer)
                throw KafkaError(operation: "configure topic \(name)", code: KafkaErrorCode(rd_kafka_last_error()))
            }
            topics.append(topic)
        }
        self.pointer = pointer
        self.callbacks = callbacks
        self.configuredTopics = topics
    }

    deinit {
        if let defect = callbacks.stickyAssignorDefect, defect.destroyMayAbort {
            callbacks.logger.notice(
                "leaving a consumer that never got an assignment undestroyed until the process exits: librdkafka \(KafkaVersion.librdkafka) aborts when destroying it (upstream issue 4312, fixed in 2.3.0)")
            // librdkafka's threads may still call back into the opaque: keep it alive with the handle.
            _ = Unmanaged.passRetained(callbacks)
            return
        }
        configuredTopics.forEach { rd_kafka_topic_destroy($0) }
        rd_kafka_destroy(pointer)
    }

    /// A partition's low and high watermarks, asked of the cluster. Blocks for up to `timeout`.
    func queryWatermarks(topic: String, partition: Int32, timeout: Duration) throws(KafkaError) -> (low: Int64, high: Int64) {
        var low: Int64 = 0
        var high: Int64 = 0
        try KafkaError.check(
            rd_kafka_query_watermark_offsets(pointer, topic, partition, &low, &high, timeout.milliseconds),
            "query watermarks of \(topic)[\(partition)]")
        return (low, high)
    }

    /// The fatal error librdkafka has raised on this instance, if any.
    func fatalError(operation: String) -> KafkaError? {
        // The common case, checked without allocating a message buffer.
        guard rd_kafka_fatal_error(pointer, nil, 0) != RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        var errorText = [CChar](repeating: 0, count: 512)
        let code = rd_kafka_fatal_error(pointer, &errorText, errorText.count)
        guard code != RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        return KafkaError(
            operation: operation, code: KafkaErrorCode(code), message: errorText.cString, isFatal: true)
    }
}
