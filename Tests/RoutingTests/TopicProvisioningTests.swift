import Foundation
import Kafka
import Policy
import Routing
import Testing

@Suite("Topic provisioning")
struct TopicProvisioningTests {
    private func spec(_ name: String, partitions: Int32 = 3, cleanup: String = "delete", retention: String? = "604800000") -> TopicSpec {
        var configs = [TopicSpec.cleanupPolicy: cleanup]
        configs[TopicSpec.retentionMs] = retention
        return TopicSpec(name: name, partitions: partitions, replicationFactor: 3, configs: configs)
    }

    @Test func catalogTopicsCarryPartitionsReplicationCleanupAndRetention() throws {
        let catalog = try PolicyHolder(loadingFrom: RepositoryPaths.topics).current.catalog
        let telemetry = try #require(catalog.topic(named: "plant.telemetry.readings"))
        let expected = TopicProvisioner.expected(catalog)
        let spec = try #require(expected.first { $0.name == telemetry.name })
        #expect(spec.partitions == Int32(telemetry.partitions))
        #expect(spec.replicationFactor == Int32(telemetry.replicationFactor))
        #expect(spec.configs[TopicSpec.cleanupPolicy] == telemetry.cleanup.rawValue)
        #expect(spec.configs[TopicSpec.retentionMs] == telemetry.retentionMs.map(String.init))
        #expect(TopicProvisioner.expected(catalog, replicationFactor: 1).allSatisfy { $0.replicationFactor == 1 })
        #expect(expected.count == catalog.topics.count)
        // A compacted topic that keeps forever gets no retention.ms.
        let compacted = try #require(catalog.topics.first { $0.cleanup == .compact && $0.retentionMs == nil })
        #expect(expected.first { $0.name == compacted.name }?.configs[TopicSpec.retentionMs] == nil)
    }

    @Test func comparesPartitionsCleanupAndRetention() {
        let expected = [spec("a"), spec("b"), spec("c"), spec("d", cleanup: "compact,delete"), spec("e")]
        let checks = TopicCheck.compare(
            expected: expected,
            partitions: ["a": 3, "b": 4, "d": 3, "e": 3],
            configs: [
                "a": TopicConfigs(entries: ["cleanup.policy": .init(value: "delete"), "retention.ms": .init(value: "604800000")]),
                "b": TopicConfigs(entries: ["cleanup.policy": .init(value: "compact"), "retention.ms": .init(value: "604800000")]),
                "d": TopicConfigs(entries: ["cleanup.policy": .init(value: "delete, compact"), "retention.ms": .init(value: "604800000")]),
                "e": TopicConfigs(entries: ["cleanup.policy": .init(value: "delete")]),
            ])
        #expect(checks.map(\.status) == [.inSync, .drift, .missing, .inSync, .drift])
        #expect(checks[1].differences == [
            .init(setting: "partitions", expected: "3", actual: "4"),
            .init(setting: "cleanup.policy", expected: "delete", actual: "compact"),
        ])
        #expect(checks[1].actualPartitions == 4)
        #expect(checks[2].actualPartitions == nil)
        #expect(checks[4].differences == [.init(setting: "retention.ms", expected: "604800000", actual: nil)], "not set on the topic")
    }

    @Test func unreadableConfigsStillComparePartitions() {
        let checks = TopicCheck.compare(
            expected: [spec("a"), spec("b")], partitions: ["a": 3, "b": 6], configs: nil, configsProblem: "DescribeConfigs refused")
        #expect(checks.map(\.status) == [.inSync, .drift])
        #expect(checks.allSatisfy { $0.configsUnverified == "DescribeConfigs refused" })
    }

    /// On librdkafka's embedded cluster: metadata gives missing topics and partition drift.
    /// Its brokers name no controller, so CreateTopics and DescribeConfigs time out ("waiting
    /// for controller"): configs end up unverified with that reason, and creation and config
    /// drift are shown on tansu instead (Tests/e2e/topics-tansu.sh).
    @Test func checksTheCatalogOnACluster() async throws {
        let testbed = try Testbed(skipping: ["dlq.quality", "erp.production.confirmations"])
        try testbed.cluster.createTopics([TopicSpec(name: "erp.production.confirmations", partitions: 5)])
        let provisioner = try TopicProvisioner(cluster: testbed.cluster.configuration, logger: testLogger)
        let checks = try await provisioner.check(TopicProvisioner.expected(testbed.catalog), timeout: .seconds(5))
        #expect(checks.count == testbed.catalog.topics.count)
        #expect(checks.filter { $0.status == .missing }.map(\.topic) == ["dlq.quality"])
        let drifted = try #require(checks.first { $0.topic == "erp.production.confirmations" })
        #expect(drifted.status == .drift)
        #expect(drifted.differences.first == .init(
            setting: "partitions", expected: String(testbed.partitions(of: "erp.production.confirmations")), actual: "5"))
        // Like CreateTopics, DescribeConfigs waits for a controller the embedded brokers never name.
        let present = checks.filter { $0.status != .missing }
        #expect(present.allSatisfy { $0.configsUnverified?.contains("waiting for controller") == true },
                "\(present.first?.configsUnverified ?? "configs were read")")
    }
}
