import Foundation
import Kafka
import Policy
import Routing

/// An embedded cluster with the shipped catalog's topics and a ledger path in a fresh
/// folder: what `plantrouter` commands get through `--bootstrap --topics --database`.
final class CommandLineFixture {
    let cluster: EmbeddedCluster
    let folder: URL
    let topics = PlantRouterBinary.repository.appendingPathComponent("Topics")

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("plantrouter-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let catalog = try PolicyHolder(loadingFrom: topics).current.catalog
        cluster = try EmbeddedCluster(brokers: 1)
        try cluster.createTopics(catalog.topics.map { TopicSpec($0, replicationFactor: 1) })
    }

    deinit { try? FileManager.default.removeItem(at: folder) }

    var database: String { folder.appendingPathComponent("plantrouter.sqlite").path }

    /// `--bootstrap … --topics … --database …`, as every dlq and replay command takes them.
    var clusterArguments: [String] {
        ["--bootstrap", cluster.bootstrapServers, "--topics", topics.path, "--database", database]
    }

    func publish(_ records: [ProducerRecord]) throws {
        let producer = try Producer(configuration: ProducerConfiguration(client: cluster.configuration))
        for record in records { try producer.produceWaitingForRoom(record) }
        try producer.close()
    }

    /// A failed inspection from the lab: the shipped policy sends it to QMS.
    static func failedInspection(id: String, asset: String = "PK1-FILL") -> ProducerRecord {
        let body = #"{"asset":"\#(asset)","line":"PK1","workOrderId":"WO-1","characteristic":"seal","measured":1.5,"result":"fail"}"#
        return ProducerRecord(
            topic: "plant.quality.results", key: Array(asset.utf8), value: Array(body.utf8),
            headers: [
                KafkaHeader(name: HeaderNames.specVersion, string: "1.0"), KafkaHeader(name: HeaderNames.id, string: id),
                KafkaHeader(name: HeaderNames.source, string: "plant/p1/lab"),
                KafkaHeader(name: HeaderNames.type, string: "quality.inspection.completed"),
                KafkaHeader(name: HeaderNames.time, string: "2026-03-01T08:00:00Z"),
                KafkaHeader(name: HeaderNames.contentType, string: "application/json"),
            ])
    }

    /// The same inspection as the router dead-letters it under a policy without its rule.
    static func deadLetter(id: String) -> ProducerRecord {
        var record = failedInspection(id: id)
        record.topic = "dlq.quality"
        typealias Names = HeaderNames.DeadLetter
        record.headers += [
            KafkaHeader(name: Names.reason, string: "policy"), KafkaHeader(name: Names.error, string: "no rule matched"),
            KafkaHeader(name: Names.lane, string: "quality"), KafkaHeader(name: Names.originalTopic, string: "plant.quality.results"),
            KafkaHeader(name: Names.originalPartition, string: "0"), KafkaHeader(name: Names.originalOffset, string: "0"),
        ]
        return record
    }
}

extension CommandLineFixture {
    /// Records in `topic`, read to the end of each of its `partitions`.
    func count(in topic: String, partitions: Int) throws -> Int {
        var configuration = ConsumerConfiguration(client: cluster.configuration, groupID: "count-\(UUID().uuidString)")
        configuration.reportPartitionEOF = true
        configuration.client.properties["fetch.wait.max.ms"] = "10"
        let consumer = try Consumer(configuration: configuration)
        defer { try? consumer.close() }
        try consumer.assign((0..<partitions).map { TopicPartitionOffset(topic: topic, partition: Int32($0), offset: TopicPartitionOffset.beginning) })
        var count = 0
        var atEnd = Set<Int32>()
        let deadline = ContinuousClock.now + .seconds(20)
        while atEnd.count < partitions, ContinuousClock.now < deadline {
            let batch = try consumer.poll(maxRecords: 1000, timeout: .milliseconds(100))
            count += batch.records.count
            for end in batch.partitionsAtEnd { atEnd.insert(end.partition) }
        }
        return count
    }
}
