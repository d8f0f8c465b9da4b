import Foundation
import Kafka
import Testing

@Suite("Admin")
struct AdminTests {
    @Test func describesTopicsWithPartitionsReplicasAndLeaders() async throws {
        let test = try TestCluster(brokers: 3, topics: [
            TopicSpec(name: "plant.telemetry", partitions: 3, replicationFactor: 2),
            TopicSpec(name: "mes.work-orders", partitions: 1, replicationFactor: 3),
        ])
        let admin = try test.admin()
        let described = try admin.describeTopics(["plant.telemetry", "mes.work-orders"])
        #expect(described.map(\.name) == ["plant.telemetry", "mes.work-orders"])
        let telemetry = described[0]
        #expect(telemetry.partitions.map(\.id) == [0, 1, 2])
        for partition in telemetry.partitions {
            #expect((1...3).contains(partition.leader))
            // librdkafka 2.0.2's embedded cluster ignores the replication factor
            // and places every partition on all brokers.
            #expect(!partition.replicas.isEmpty && partition.replicas.allSatisfy { (1...3).contains($0) })
            #expect(partition.replicas.contains(partition.leader))
            #expect(partition.inSyncReplicas.contains(partition.leader))
        }
        #expect(described[1].partitions.map(\.id) == [0])

        #expect(try admin.describeTopics().map(\.name).contains("plant.telemetry"), "all topics when none named")

        let newLeader = telemetry.partitions[0].leader % 3 + 1
        try test.cluster.setLeader(topic: "plant.telemetry", partition: 0, brokerID: newLeader)
        #expect(try admin.describeTopics(["plant.telemetry"])[0].partitions[0].leader == newLeader)

        let error = try #require(throws: KafkaError.self) { try admin.describeTopics(["no.such.topic"]) }
        #expect(error.code == .unknownTopicOrPartition)
    }

    @Test func watermarksCommittedOffsetsAndLag() async throws {
        let topic = "quality.results"
        let test = try TestCluster(topics: [TopicSpec(name: topic, partitions: 3)])
        try test.produceNumbered(100, to: topic, partition: 0)
        try test.produceNumbered(50, to: topic, partition: 1)
        let admin = try test.admin()
        #expect(try admin.watermarks(topic: topic, partition: 0) == (0, 100))
        #expect(try admin.watermarks(topic: topic, partition: 1) == (0, 50))
        #expect(try admin.watermarks(topic: topic, partition: 2) == (0, 0))

        let group = "qms-lane"
        let none = try admin.committedOffsets(group: group, topics: [topic])
        #expect(none.map(\.offset) == [TopicPartitionOffset.invalid, TopicPartitionOffset.invalid, TopicPartitionOffset.invalid])

        let consumer = try test.consumer(test.consumerConfiguration(group: group))
        try await onDedicatedThread {
            try consumer.commit([
                TopicPartitionOffset(topic: topic, partition: 0, offset: 40),
                TopicPartitionOffset(topic: topic, partition: 1, offset: 50),
            ])
        }
        let committed = try admin.committedOffsets(group: group, topics: [topic])
        #expect(committed.sorted { $0.partition < $1.partition }.map(\.offset) == [40, 50, TopicPartitionOffset.invalid])

        let lag = try await admin.lag(group: group, topics: [topic]).sorted { $0.partition < $1.partition }
        #expect(lag.map(\.partition) == [0, 1, 2])
        #expect(lag.map(\.committed) == [40, 50, nil])
        #expect(lag.map(\.highWatermark) == [100, 50, 0])
        #expect(lag.map(\.lag) == [60, 0, 0])
        try await onDedicatedThread { try consumer.close() }
    }

    /// librdkafka 2.0.2's embedded cluster does not serve CreateTopics (its
    /// metadata names no controller): the request must end in a KafkaError
    /// within its timeout, never hang.
    @Test func createTopicsOnTheEmbeddedClusterFailsClearly() async throws {
        let test = try TestCluster()
        let admin = try test.admin()
        let started = ContinuousClock.now
        let error = await #expect(throws: KafkaError.self) {
            try await admin.createTopics([TopicSpec(name: "erp.exceptions", partitions: 3)], timeout: .seconds(2))
        }
        // "Never hangs", not a speed check: the bound leaves room for a loaded 2-core machine.
        #expect(ContinuousClock.now - started < .seconds(60), "bounded by the request timeout")
        let kafkaError = try #require(error)
        #expect(kafkaError.operation.contains("create topics"))
        #expect(kafkaError.code == .timedOut)
        #expect(kafkaError.message.contains("controller"), "librdkafka says what it waited for: \(kafkaError.message)")
    }
}
