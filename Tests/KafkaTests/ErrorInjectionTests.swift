import Foundation
import Kafka
import Testing

@Suite("Injected produce errors")
struct ErrorInjectionTests {
    @Test func retriableErrorsAreRetriedAndTheRecordsDelivered() async throws {
        let test = try TestCluster(topics: [TopicSpec(name: "retried", partitions: 1)])
        test.cluster.injectErrors(
            [.notEnoughReplicas, .notEnoughReplicas, .notEnoughReplicasAfterAppend, .requestTimedOut], on: .produce)
        let producer = try test.producer()
        var offsets: [Int64] = []
        for index in 0..<5 {
            offsets.append(try await producer.send(ProducerRecord(topic: "retried", value: Array("r\(index)".utf8))).offset)
        }
        #expect(offsets == [0, 1, 2, 3, 4], "each record written once, in order, despite the retries")

        let consumer = try test.consumer()
        try consumer.assign([TopicPartitionOffset(topic: "retried", partition: 0, offset: TopicPartitionOffset.beginning)])
        let values = try await consume(consumer) { $0.count >= 5 }.map(\.valueText)
        #expect(values == (0..<5).map { "r\($0)" })
        try producer.close()
    }

    /// The control for the test above: the same injection with librdkafka's
    /// retries turned off reaches the caller, so the errors really fired.
    @Test func withoutRetriesTheSameErrorReachesTheCaller() async throws {
        let test = try TestCluster(topics: [TopicSpec(name: "unretried", partitions: 1)])
        var configuration = test.producerConfiguration()
        configuration.enableIdempotence = false  // idempotence requires retries
        configuration.client.properties["message.send.max.retries"] = "0"
        let producer = try test.producer(configuration)
        test.cluster.injectErrors([.notEnoughReplicas], on: .produce)
        await #expect {
            try await producer.send(ProducerRecord(topic: "unretried", value: [1]))
        } throws: { error in
            (error as? KafkaError)?.code.name == "NOT_ENOUGH_REPLICAS"
        }
        try producer.close()
    }

    @Test(arguments: [KafkaErrorCode.topicAuthorizationFailed, .invalidRecord])
    func permanentErrorFailsSendWithTheLibrdkafkaCodeName(_ code: KafkaErrorCode) async throws {
        let test = try TestCluster(topics: [TopicSpec(name: "refused", partitions: 1)])
        let producer = try test.producer()
        // Connect and learn the topic first, so the injected error hits the record's ProduceRequest.
        try await producer.send(ProducerRecord(topic: "refused", value: [0]))
        test.cluster.injectErrors([code], on: .produce)
        let started = ContinuousClock.now
        do {
            try await producer.send(ProducerRecord(topic: "refused", value: [1]))
            Issue.record("send succeeded despite \(code.name)")
        } catch let error as KafkaError {
            #expect(error.code == code)
            #expect(error.code.name == code.name)
            #expect(error.description.contains(code.name))
            #expect(!error.isFatal)
        }
        #expect(ContinuousClock.now - started < .seconds(25), "failed before the 30 s delivery timeout, so not by timing out")
        if code == .invalidRecord {
            // A rejected record does not stop the ones after it. (An authorization
            // failure, by contrast, sticks to the topic until metadata is refreshed.)
            #expect(try await producer.send(ProducerRecord(topic: "refused", value: [2])).succeeded)
        }
        try producer.close()
    }

    @Test func permanentErrorReachesTheDeliveryHandler() async throws {
        let test = try TestCluster(topics: [TopicSpec(name: "refused-reports", partitions: 1)])
        let reports = ReportCollector()
        let producer = try test.producer { reports.add($0) }
        try await producer.send(ProducerRecord(topic: "refused-reports", value: [0]))
        test.cluster.injectErrors([.topicAuthorizationFailed], on: .produce)
        try producer.produce(ProducerRecord(topic: "refused-reports", value: [1]), token: 7)
        try await onDedicatedThread { try producer.flush() }
        let report = try #require(reports.all.first)
        #expect(report.token == 7)
        #expect(!report.succeeded)
        #expect(report.offset == -1)
        #expect(report.error?.code.name == "TOPIC_AUTHORIZATION_FAILED")
        #expect(report.error?.message.isEmpty == false)
        try producer.close()
    }
}
