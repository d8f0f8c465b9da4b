import Foundation
import Kafka

/// What the brokers under test really implement of Kafka's exactly-once protocol.
///
/// librdkafka 2.0.2's in-process cluster accepts every transactional request, but its
/// TxnOffsetCommit handler discards the offsets, EndTxn writes no commit/abort markers, and
/// Fetch reports no aborted transactions with the last stable offset at the log end. So on
/// EmbeddedCluster a transactional consumer group never has committed offsets (a new owner of a
/// partition starts from `auto.offset.reset`), and `read_committed` readers also see records of
/// aborted transactions. Tests measure these two facts instead of assuming them, so exactly-once
/// assertions become strict as soon as the brokers support it (a newer mock or a real cluster).
struct ExactlyOnceSupport: Sendable, CustomStringConvertible {
    /// Offsets sent with `sendOffsets` are visible as the group's committed offsets after commit.
    var storesTransactionalOffsets: Bool
    /// `read_committed` readers do not see records of aborted transactions.
    var hidesAbortedRecords: Bool

    var isComplete: Bool { storesTransactionalOffsets && hidesAbortedRecords }

    var description: String {
        "transactional offsets stored: \(storesTransactionalOffsets), aborted records hidden: \(hidesAbortedRecords)"
    }

    static func probe(_ cluster: EmbeddedCluster) throws -> ExactlyOnceSupport {
        let topic = "eos-probe-\(UUID().uuidString.prefix(8))"
        try cluster.createTopic(topic)
        let group = "eos-probe-\(UUID().uuidString)"
        let transactional = try TransactionalProducer(
            configuration: ProducerConfiguration(client: cluster.configuration), transactionalID: group, logger: testLogger)
        defer { try? transactional.close(timeout: .seconds(5)) }
        try transactional.initTransactions()
        let member = try Consumer(configuration: ConsumerConfiguration(client: cluster.configuration, groupID: group), logger: testLogger)
        defer { try? member.close() }

        try transactional.beginTransaction()
        try transactional.produce(ProducerRecord(topic: topic, value: Array("committed".utf8)))
        try transactional.sendOffsets([TopicPartitionOffset(topic: topic, partition: 0, offset: 1)], group: member.groupMetadata())
        try transactional.commitTransaction()
        try transactional.beginTransaction()
        try transactional.produce(ProducerRecord(topic: topic, value: Array("aborted".utf8)))
        try transactional.producer.flush(timeout: .seconds(10))
        try transactional.abortTransaction()

        let admin = try Admin(configuration: cluster.configuration, logger: testLogger)
        let committed = try admin.committedOffsets(group: group, topics: [topic])
        let storesOffsets = committed.contains { $0.partition == 0 && $0.offset == 1 }

        var readerConfiguration = ConsumerConfiguration(client: cluster.configuration, groupID: "\(group)-reader")
        readerConfiguration.isolationLevel = .readCommitted
        readerConfiguration.client.properties["fetch.wait.max.ms"] = "10"
        let reader = try Consumer(configuration: readerConfiguration, logger: testLogger)
        defer { try? reader.close() }
        try reader.assign([TopicPartitionOffset(topic: topic, partition: 0, offset: TopicPartitionOffset.beginning)])
        // Both records are in the log; read until both arrived, or for a while after the committed one.
        var values: [String] = []
        let deadline = ContinuousClock.now + .seconds(5)
        var committedSeenAt: ContinuousClock.Instant?
        while ContinuousClock.now < deadline, !values.contains("aborted") {
            if let seen = committedSeenAt, ContinuousClock.now - seen > .milliseconds(500) { break }
            values += try reader.poll(maxRecords: 10, timeout: .milliseconds(100)).records.map {
                String(decoding: $0.value ?? [], as: UTF8.self)
            }
            if committedSeenAt == nil, values.contains("committed") { committedSeenAt = .now }
        }
        return ExactlyOnceSupport(storesTransactionalOffsets: storesOffsets, hidesAbortedRecords: !values.contains("aborted"))
    }
}

import Testing

/// Expects every count in `counts` to be exactly 1. On brokers without complete exactly-once
/// support (EmbeddedCluster on librdkafka 2.0.2, see `ExactlyOnceSupport`) duplicates are
/// recorded as a known issue, with their number printed, instead of failing the test.
func expectExactlyOnce(
    _ counts: [String: Int], _ what: String, support: ExactlyOnceSupport, sourceLocation: SourceLocation = #_sourceLocation
) {
    let duplicated = counts.filter { $0.value > 1 }
    let extra = duplicated.values.reduce(0) { $0 + $1 - 1 }
    let exactlyOnce = duplicated.isEmpty
    if support.isComplete {
        #expect(exactlyOnce, "\(what): \(duplicated.count) events delivered more than once (\(extra) extra outputs)", sourceLocation: sourceLocation)
        return
    }
    print("\(what): \(counts.count) events, \(duplicated.count) delivered more than once (\(extra) extra outputs); brokers: \(support)")
    withKnownIssue(
        "EmbeddedCluster (librdkafka 2.0.2 mock) discards transactional offset commits and writes no abort markers, so a partition's new owner re-reads it from the start",
        isIntermittent: true
    ) {
        #expect(exactlyOnce, "\(what): \(duplicated.count) events delivered more than once (\(extra) extra outputs)", sourceLocation: sourceLocation)
    }
}
