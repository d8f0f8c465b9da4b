/// Which kind of client a librdkafka property applies to (the C/P column of librdkafka's
/// CONFIGURATION.md, 2.0.2). A client given a property of the other kind ignores it and
/// logs CONFWARN; shared `properties` are therefore passed only to the kind they fit.
/// Later librdkafka releases widened a few (`retry.backoff.ms` is for every client since
/// 2.3): keeping such a property from consumers changes nothing they did before.
public enum PropertyScope: Sendable, Equatable {
    case consumer, producer, any

    public init(property: String) {
        if Self.consumerOnly.contains(property) {
            self = .consumer
        } else if Self.producerOnly.contains(property) {
            self = .producer
        } else {
            self = .any
        }
    }

    static let consumerOnly: Set<String> = [
        "auto.commit.enable", "auto.commit.interval.ms", "auto.offset.reset", "check.crcs", "consume.callback.max.messages",
        "coordinator.query.interval.ms", "enable.auto.commit", "enable.auto.offset.store", "enable.partition.eof",
        "fetch.error.backoff.ms", "fetch.max.bytes", "fetch.message.max.bytes", "fetch.min.bytes", "fetch.wait.max.ms",
        "group.id", "group.instance.id", "group.protocol.type", "heartbeat.interval.ms", "isolation.level",
        "max.partition.fetch.bytes", "max.poll.interval.ms", "offset.store.method", "offset.store.path",
        "offset.store.sync.interval.ms", "partition.assignment.strategy", "queued.max.messages.kbytes",
        "queued.min.messages", "session.timeout.ms",
    ]

    static let producerOnly: Set<String> = [
        "acks", "batch.num.messages", "batch.size", "compression.codec", "compression.level", "compression.type",
        "delivery.report.only.error", "delivery.timeout.ms", "enable.gapless.guarantee", "enable.idempotence",
        "linger.ms", "message.send.max.retries", "message.timeout.ms", "partitioner", "produce.offset.report",
        "queue.buffering.backpressure.threshold", "queue.buffering.max.kbytes", "queue.buffering.max.messages",
        "queue.buffering.max.ms", "queuing.strategy", "request.required.acks", "request.timeout.ms", "retries",
        "retry.backoff.ms", "sticky.partitioning.linger.ms", "transaction.timeout.ms", "transactional.id",
    ]
}

extension KafkaConfiguration {
    /// Shared `properties` that fit only one kind of client, with that kind: they are passed
    /// to that kind only. `plantrouter run` names them so the file can say so itself
    /// (under `consumer:` or `producer:`).
    public var singleKindSharedProperties: [(property: String, scope: PropertyScope)] {
        properties.keys.sorted().compactMap { key in
            let scope = PropertyScope(property: key)
            return scope == .any ? nil : (key, scope)
        }
    }
}
