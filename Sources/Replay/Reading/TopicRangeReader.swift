import Foundation
import Kafka
import Logging
import Policy

/// Reads fixed offset ranges with `assign` on every partition (no consumer group, nothing
/// committed), `read_committed` so aborted transactions stay invisible.
///
/// Blocking: every method polls or asks the cluster, so call it from a dedicated thread
/// (`BlockingThread.run`), never from Swift's cooperative pool.
final class TopicRangeReader {
    private let consumer: Consumer
    private let admin: Admin

    init(cluster: KafkaConfiguration, logger: Logger) throws {
        var configuration = ConsumerConfiguration(client: cluster, groupID: "plantrouter-replay-reader")
        configuration.isolationLevel = .readCommitted
        // A partition's end is where committed data stops: control records and open
        // transactions mean the high watermark itself may never be "read".
        configuration.reportPartitionEOF = true
        consumer = try Consumer(configuration: configuration, logger: logger)
        admin = try Admin(configuration: cluster, logger: logger)
    }

    func close() { try? consumer.close() }

    /// Every partition of `topic` from `fromOffset` (or the first record at or after `since`,
    /// or the start of the log) to `toOffset` inclusive (or the current end).
    func ranges(topic: String, fromOffset: Int64? = nil, toOffset: Int64? = nil, since: Date? = nil) throws -> [PartitionRange] {
        let description: TopicDescription
        do {
            guard let found = try admin.describeTopics([topic]).first else { throw ReplayError(.notFound, "topic \(topic) not found") }
            description = found
        } catch let error as KafkaError where error.code == .unknownTopicOrPartition {
            throw ReplayError(.notFound, "topic '\(topic)' does not exist on the cluster; check the name against Topics/catalog.yaml")
        }
        var starts: [Int32: Int64] = [:]
        if let since, fromOffset == nil {
            // Validated to InputLimits.replayTime; clamped again so no Date can trap here.
            // (A negative time would mean "latest" (-1) or "earliest" (-2) to Kafka.)
            let time = since.timeIntervalSince1970.isNaN ? 0 : since.timeIntervalSince1970
            let seconds = min(max(time, InputLimits.replayTime.lowerBound), InputLimits.replayTime.upperBound)
            let millis = Int64((seconds * 1000).rounded(.down))
            let found = try consumer.offsetsForTimes(description.partitions.map {
                TopicPartitionOffset(topic: topic, partition: $0.id, offset: millis)
            })
            for entry in found { starts[entry.partition] = entry.offset }
        }
        return try description.partitions.map { partition in
            let (low, high) = try consumer.watermarks(topic: topic, partition: partition.id)
            // offsetsForTimes answers -1 (end) when no record is that recent.
            var start = starts[partition.id].map { $0 < 0 ? high : $0 } ?? low
            if let fromOffset { start = fromOffset }
            var end = high
            if let toOffset, toOffset < high { end = max(0, toOffset) + 1 }
            return PartitionRange(topic: topic, partition: partition.id, start: max(start, low), end: end)
        }
    }

    /// Reads `ranges` and hands each partition's records to `body` in order, at most
    /// `batchSize` at a time, with the partition's next offset after them. `body` may be
    /// called with no records to move a partition's position past control records. Stops
    /// when every range is read, `body` returns false or `shouldStop` (asked between polls,
    /// every 200 ms at most) says so; throws when nothing arrives for `idleTimeout` although
    /// records remain.
    func read(
        _ ranges: [PartitionRange], batchSize: Int, idleTimeout: Duration = .seconds(30),
        shouldStop: () -> Bool = { false },
        body: (PartitionRange, [ConsumerRecord], _ nextOffset: Int64) throws -> Bool
    ) throws {
        var open: [TopicPartition: PartitionRange] = [:]
        for range in ranges where range.start < range.end { open[range.topicPartition] = range }
        guard !open.isEmpty else { return }
        try consumer.assign(open.values.map { TopicPartitionOffset(topic: $0.topic, partition: $0.partition, offset: $0.start) })
        var next = open.mapValues(\.start)
        var lastArrival = ContinuousClock.now
        while !open.isEmpty, !shouldStop() {
            let batch = try consumer.poll(maxRecords: batchSize, timeout: .milliseconds(200))
            if !batch.records.isEmpty || !batch.partitionsAtEnd.isEmpty { lastArrival = .now }
            var order: [TopicPartition] = []
            var byPartition: [TopicPartition: [ConsumerRecord]] = [:]
            for record in batch.records {
                let partition = TopicPartition(topic: record.topic, partition: record.partition)
                if byPartition[partition] == nil { order.append(partition) }
                byPartition[partition, default: []].append(record)
            }
            for partition in order {
                guard let range = open[partition] else { continue }
                let records = byPartition[partition]!.filter { $0.offset < range.end && $0.offset >= next[partition]! }
                if let last = records.last {
                    next[partition] = last.offset + 1
                    guard try body(range, records, last.offset + 1) else { return }
                }
                if next[partition]! >= range.end || byPartition[partition]!.contains(where: { $0.offset >= range.end }) {
                    open[partition] = nil
                }
            }
            for end in batch.partitionsAtEnd {
                let partition = end.topicPartition
                guard let range = open[partition] else { continue }
                let reached = min(max(end.offset, next[partition]!), range.end)
                if reached > next[partition]! {
                    next[partition] = reached
                    guard try body(range, [], reached) else { return }
                }
                open[partition] = nil
            }
            if !open.isEmpty, ContinuousClock.now - lastArrival > idleTimeout {
                let waiting = open.keys.map(\.description).sorted().joined(separator: ", ")
                throw ReplayError(.kafka, "nothing arrived from \(waiting) for \(idleTimeout) although records remain; check that the cluster is reachable, then resume the job")
            }
        }
    }
}
