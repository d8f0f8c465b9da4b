import Foundation
import Kafka
import Synchronization
import Testing

/// What the end-to-end tests rely on about the embedded brokers, checked rather than assumed.
@Suite("Embedded cluster assumptions")
struct EmbeddedClusterAssumptionsTests {
    @Test("a topic error makes produces to that topic fail and leaves other topics working")
    func topicErrorFailsOnlyThatTopic() async throws {
        let cluster = try EmbeddedCluster(brokers: 1, logger: testLogger)
        try cluster.createTopic("target.failing", partitions: 3)
        try cluster.createTopic("target.healthy", partitions: 3)
        cluster.setTopicError("target.failing", FailingTarget.error)

        let reports = Shared<[DeliveryReport]>([])
        var configuration = ProducerConfiguration(client: cluster.configuration)
        configuration.deliveryTimeoutMs = 1500
        let producer = try Producer(configuration: configuration, logger: testLogger) { report in
            reports.withLock { $0.append(report) }
        }
        for index in 0..<20 {
            try producer.produce(ProducerRecord(topic: index % 2 == 0 ? "target.failing" : "target.healthy", key: Array("k\(index)".utf8), value: [1]))
        }
        let settled = await eventually(timeout: .seconds(10)) { reports.withLock { $0.count } == 20 }
        try producer.close(timeout: .seconds(5))
        #expect(settled)
        let all = reports.value
        let failing = all.filter { $0.topic == "target.failing" }
        let healthy = all.filter { $0.topic == "target.healthy" }
        print("topic error \(FailingTarget.error): failing-topic errors \(Set(failing.compactMap { $0.error?.code.name })), healthy delivered \(healthy.filter(\.succeeded).count)/\(healthy.count)")
        #expect(failing.count == 10 && failing.allSatisfy { !$0.succeeded })
        #expect(healthy.count == 10 && healthy.allSatisfy(\.succeeded))
    }

    @Test("exactly-once support of the embedded brokers (recorded, not required)")
    func exactlyOnceSupport() throws {
        let cluster = try EmbeddedCluster(brokers: 1, logger: testLogger)
        let support = try ExactlyOnceSupport.probe(cluster)
        print("EmbeddedCluster exactly-once support: \(support)")
    }
}

/// How tests make one target topic fail: the brokers report this error for it in metadata.
enum FailingTarget {
    static let error = KafkaErrorCode.topicAuthorizationFailed
}
