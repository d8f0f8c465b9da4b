import Foundation
import Kafka
import Ledger
import Logging
import Policy
import Replay
import Routing

/// A fresh embedded cluster with the default catalog's topics, a temporary ledger and a
/// writable copy of Topics/ (so a test can break the policy and fix it again).
final class ReplayFixture {
    static let repositoryTopics = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Topics")

    let cluster: EmbeddedCluster
    let topicsDirectory: URL
    let ledger: Ledger
    let policy: PolicyHolder
    let logger = Logger(label: "replay-tests")

    init(brokenRules: [String] = []) throws {
        topicsDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("plantrouter-replay-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: Self.repositoryTopics, to: topicsDirectory)
        if !brokenRules.isEmpty { try Self.removeRules(brokenRules, in: topicsDirectory) }
        policy = try PolicyHolder(loadingFrom: topicsDirectory)
        cluster = try EmbeddedCluster(brokers: 1)
        try cluster.createTopics(policy.current.catalog.topics.map { TopicSpec($0, replicationFactor: 1) })
        ledger = try Ledger.temporary()
    }

    deinit { try? FileManager.default.removeItem(at: topicsDirectory) }

    var kafka: KafkaConfiguration {
        var configuration = cluster.configuration
        configuration.properties["fetch.wait.max.ms"] = "10"
        return configuration
    }

    func jobs(batchSize: Int = 200) -> ReplayJobs {
        ReplayJobs(ledger: ledger, cluster: kafka, policy: policy, batchSize: batchSize, logger: logger)
    }

    /// Restores the shipped policy.yaml into the copy (the "fix").
    func restorePolicy() throws {
        let target = topicsDirectory.appendingPathComponent("policy.yaml")
        try FileManager.default.removeItem(at: target)
        try FileManager.default.copyItem(at: Self.repositoryTopics.appendingPathComponent("policy.yaml"), to: target)
    }

    /// Drops rules (by id) from policy.yaml: each rule is a `  - id:` block.
    static func removeRules(_ ids: [String], in directory: URL) throws {
        let file = directory.appendingPathComponent("policy.yaml")
        var kept: [Substring] = []
        var skipping = false
        for line in try String(contentsOf: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("  - id: ") { skipping = ids.contains(String(line.dropFirst("  - id: ".count))) }
            else if !line.hasPrefix(" ") && !line.isEmpty { skipping = false }
            if !skipping { kept.append(line) }
        }
        try kept.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
    }

    /// A failed inspection from the lab: the default policy sends it to QMS.
    static func failedInspection(id: String, asset: String = "PK1-FILL") -> ProducerRecord {
        let body = #"{"asset":"\#(asset)","line":"PK1","workOrderId":"WO-1","characteristic":"seal","measured":1.5,"result":"fail"}"#
        return ProducerRecord(
            topic: "plant.quality.results", key: Array(asset.utf8), value: Array(body.utf8),
            headers: [
                KafkaHeader(name: "ce_specversion", string: "1.0"),
                KafkaHeader(name: "ce_id", string: id),
                KafkaHeader(name: "ce_source", string: "plant/p1/lab"),
                KafkaHeader(name: "ce_type", string: "quality.inspection.completed"),
                KafkaHeader(name: "ce_time", string: "2026-03-01T08:00:00Z"),
                KafkaHeader(name: "content-type", string: "application/json"),
            ])
    }

    func publish(_ records: [ProducerRecord]) throws {
        let producer = try Producer(configuration: ProducerConfiguration(client: cluster.configuration), logger: logger)
        for record in records { try producer.produceWaitingForRoom(record) }
        try producer.close()
    }

    /// Committed records now in `topic` (all partitions), read to the end.
    func records(in topic: String) throws -> [ConsumerRecord] {
        var configuration = ConsumerConfiguration(client: kafka, groupID: "test-reader-\(UUID().uuidString)")
        configuration.reportPartitionEOF = true
        let consumer = try Consumer(configuration: configuration, logger: logger)
        defer { try? consumer.close() }
        let partitions = policy.current.catalog.topic(named: topic)!.partitions
        try consumer.assign((0..<partitions).map { TopicPartitionOffset(topic: topic, partition: Int32($0), offset: TopicPartitionOffset.beginning) })
        var records: [ConsumerRecord] = []
        var atEnd = Set<Int32>()
        let deadline = ContinuousClock.now + .seconds(20)
        while atEnd.count < partitions, ContinuousClock.now < deadline {
            let batch = try consumer.poll(maxRecords: 1000, timeout: .milliseconds(100))
            records += batch.records
            for end in batch.partitionsAtEnd { atEnd.insert(end.partition) }
        }
        return records
    }

    /// High watermarks of every catalog topic.
    func highWatermarks() throws -> [String: Int64] {
        let admin = try Admin(configuration: cluster.configuration, logger: logger)
        var marks: [String: Int64] = [:]
        for topic in policy.current.catalog.topics {
            for partition in 0..<topic.partitions {
                marks["\(topic.name)[\(partition)]"] = try admin.watermarks(topic: topic.name, partition: Int32(partition)).high
            }
        }
        return marks
    }

    /// Polls `condition` every 100 ms until it holds or `timeout` passes.
    static func eventually(timeout: Duration = .seconds(30), _ condition: () throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try condition()
    }
}
