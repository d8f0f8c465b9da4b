import CRdKafka

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
    /// `queued.max.messages.kbytes`: record values prefetched ahead of `poll`, per consumer
    /// (librdkafka counts value bytes only; each record also costs ~250 bytes of bookkeeping and
    /// keeps its decompressed batch alive). Default 4 MiB where the loaded librdkafka has
    /// `fetch.queue.backoff.ms` (2.2.0 on), 16 MiB before: there a consumer that reaches the bound
    /// waits a whole second before it fetches again, so the bound must hold a second of records.
    /// librdkafka's own default is 64 MiB; a router runs a consumer per lane, and on a backlog
    /// each holds its full prefetch. Docs/Memory.md has the arithmetic, and why on a backlog of
    /// small records `prefetchMessagesPerPartition` is the bound that holds, not this one.
    public var prefetchKilobytes = Self.hasFetchQueueBackoff ? 4_096 : 16_384
    /// `fetch.max.bytes`: the most one fetch response may carry (a larger first batch still comes
    /// whole, so large records are never stuck). It lands on top of the prefetch, compressed:
    /// lz4 batches of JSON grow 3-5× when decompressed. Default 1 MiB on librdkafka 2.2.0 and
    /// later (librdkafka refuses less than `message.max.bytes`, 1,000,000 by default), librdkafka's
    /// 50 MiB before (see `prefetchKilobytes`).
    public var fetchMaxBytes = Self.hasFetchQueueBackoff ? 1 << 20 : 50 << 20
    /// `max.partition.fetch.bytes`: the most one fetch takes from one partition. Default 64 KiB on
    /// librdkafka 2.2.0 and later, librdkafka's 1 MiB before. What one fetch brings lands on top of
    /// `prefetchMessagesPerPartition`: 64 KiB of lz4-compressed plant events is ~1,000 records
    /// once decompressed, each keeping its decompressed batch alive until the lane has read it.
    public var partitionFetchMaxBytes = Self.hasFetchQueueBackoff ? 64 << 10 : 1 << 20
    /// `fetch.queue.backoff.ms`: how soon a consumer whose prefetch reached its bounds fetches
    /// again. Default 20 ms (librdkafka's is 1 s, which is what forced large prefetches). Set
    /// only where the loaded librdkafka knows it (2.2.0 on; Debian bookworm ships 2.0.2).
    public var prefetchBackoffMs = 20
    /// `queued.min.messages`: records per partition librdkafka tries to keep prefetched.
    /// Default 500 where the loaded librdkafka has `fetch.queue.backoff.ms` (2.2.0 on), 5,000
    /// before (librdkafka's is 100,000). At plant-event sizes it is this count and the fetch
    /// sizes, not `prefetchKilobytes`, that bound a backlogged consumer. From 100,000 to 5,000
    /// the router's peak RSS on 1M-event drains went from 166–178 to 140–163 MB; 1,000 with 128 KiB
    /// partition fetches took the median from 154 to 136 MB; 500 with 64 KiB partition fetches and
    /// 1 MiB fetches from 129 to 113 MB; each step with no loss of throughput or CPU per event in
    /// interleaved runs (Benchmarks/NOTES.md, 2026-12-07). A consumer that refills in
    /// 20 ms needs a few hundred records per partition at 100,000 events/s; with librdkafka's 1 s
    /// refill backoff (2.0.2) far fewer starves it: at 2,000 a consume loop read 0.12× the rate of
    /// the same loop at 100,000 (`plantrouter-bench kafka --bootstrap`).
    public var prefetchMessagesPerPartition = Self.hasFetchQueueBackoff ? 500 : 5_000

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
            ("fetch.max.bytes", String(fetchMaxBytes)),
            ("max.partition.fetch.bytes", String(partitionFetchMaxBytes)),
            ("allow.auto.create.topics", allowAutoCreateTopics ? "true" : "false"),
        ]
        if Self.hasFetchQueueBackoff { properties.append(("fetch.queue.backoff.ms", String(prefetchBackoffMs))) }
        properties += client.rawProperties(for: .consumer)
        return properties
    }

    /// True when the loaded librdkafka has `fetch.queue.backoff.ms` (2.2.0 and later).
    static var hasFetchQueueBackoff: Bool { rd_kafka_version() >= 0x0202_0000 }
}
