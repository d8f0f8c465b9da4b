/// Consumer settings with the defaults PlantRouter relies on: manual offset
/// store and commit, committed reads only, cooperative rebalancing.
public struct ConsumerConfiguration: Sendable {
    public enum OffsetReset: String, Sendable { case earliest, latest, error }
    public enum IsolationLevel: String, Sendable {
        /// Only messages of committed transactions (and non-transactional ones).
        case readCommitted = "read_committed"
        case readUncommitted = "read_uncommitted"
    }

    public var client: KafkaConfiguration
    /// `group.id`.
    public var groupID: String
    /// `auto.offset.reset` when the group has no committed offset. Default `earliest`.
    public var autoOffsetReset: OffsetReset = .earliest
    /// `isolation.level`. Default `read_committed`.
    public var isolationLevel: IsolationLevel = .readCommitted
    /// `partition.assignment.strategy`. Default `cooperative-sticky`: a member joining
    /// or leaving moves only the partitions that must move.
    public var assignmentStrategy = "cooperative-sticky"
    /// `session.timeout.ms`. Default 10 s, so a dead member's partitions move quickly.
    public var sessionTimeoutMs = 10_000
    /// `enable.auto.commit`. Default `false`: the router commits what it has finished.
    public var enableAutoCommit = false
    /// `enable.auto.offset.store`. Default `false`: offsets are stored explicitly
    /// after an event is fully handled, never on poll.
    public var storeOffsetsOnPoll = false
    /// `enable.partition.eof`: report reaching a partition's end (readers that
    /// load a compacted topic in full use this). Default `false`.
    public var reportPartitionEOF = false
    /// `queued.max.messages.kbytes`: records prefetched ahead of `poll`, per consumer.
    /// Default 16 MB, not librdkafka's 64 MB: a router runs a consumer per lane, and on a
    /// backlog each would otherwise hold its full prefetch in memory.
    public var prefetchKilobytes = 16_384
    /// `queued.min.messages`: records per partition librdkafka tries to keep prefetched.
    /// Default 100 000, librdkafka's own; `prefetchKilobytes` bounds the memory. A few
    /// fetches' worth (2 000) starved the consumer: it read 0.12× the rate of the same loop
    /// with this default on tansu (`plantrouter-bench kafka --bootstrap`, Benchmarks/NOTES.md).
    public var prefetchMessagesPerPartition = 100_000

    /// `allow.auto.create.topics`. Default `false` (librdkafka's consumer default too, stated
    /// so no broker creates a topic because a consumer subscribed to it).
    public var allowAutoCreateTopics = false

    public init(client: KafkaConfiguration, groupID: String) {
        self.client = client
        self.groupID = groupID
    }

    var nativeProperties: [(String, String)] {
        var properties = client.nativeProperties
        properties += [
            ("group.id", groupID),
            ("auto.offset.reset", autoOffsetReset.rawValue),
            ("isolation.level", isolationLevel.rawValue),
            ("partition.assignment.strategy", assignmentStrategy),
            ("session.timeout.ms", String(sessionTimeoutMs)),
            ("enable.auto.commit", enableAutoCommit ? "true" : "false"),
            ("enable.auto.offset.store", storeOffsetsOnPoll ? "true" : "false"),
            ("enable.partition.eof", reportPartitionEOF ? "true" : "false"),
            ("queued.max.messages.kbytes", String(prefetchKilobytes)),
            ("queued.min.messages", String(prefetchMessagesPerPartition)),
            ("allow.auto.create.topics", allowAutoCreateTopics ? "true" : "false"),
        ]
        properties += client.rawProperties(for: .consumer)
        return properties
    }
}
