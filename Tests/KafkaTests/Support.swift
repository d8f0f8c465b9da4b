import Foundation
import Kafka
import Testing

/// Shared set-up for tests against a fresh embedded cluster.
struct TestCluster {
    let cluster: EmbeddedCluster

    init(brokers: Int32 = 3, topics: [TopicSpec] = []) throws {
        cluster = try EmbeddedCluster(brokers: brokers)
        try cluster.createTopics(topics)
    }

    func producerConfiguration() -> ProducerConfiguration {
        var configuration = ProducerConfiguration(client: cluster.configuration)
        configuration.lingerMs = 1
        return configuration
    }

    func consumerConfiguration(group: String = "test-\(UUID().uuidString)") -> ConsumerConfiguration {
        var configuration = ConsumerConfiguration(client: cluster.configuration, groupID: group)
        configuration.sessionTimeoutMs = 6000
        return configuration
    }

    /// Produces `count` records whose value is their index as text, keyed by `key(index)`.
    func produceNumbered(_ count: Int, to topic: String, key: (Int) -> String = { "k\($0 % 16)" }) throws {
        let producer = try Producer(configuration: producerConfiguration())
        for index in 0..<count {
            try produceRetryingWhenFull(producer, ProducerRecord(topic: topic, key: Array(key(index).utf8), value: Array(String(index).utf8)))
        }
        try producer.close()
    }
}

/// Enqueues, waiting for room when librdkafka's local queue is full.
func produceRetryingWhenFull(_ producer: Producer, _ record: ProducerRecord, token: UInt64 = 0) throws {
    while true {
        do {
            return try producer.produce(record, token: token)
        } catch let error where error.code == .queueFull {
            Thread.sleep(forTimeInterval: 0.002)
        }
    }
}

/// Runs blocking Kafka calls on a thread of their own, as production code does,
/// so tests never block Swift's cooperative pool.
func onDedicatedThread<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Swift.Result { try body() }) }.start()
    }
}

/// Polls until `done` holds on everything read so far, or `timeout` passes;
/// stores each record's offset so a later `commit()` commits it.
func consume(
    _ consumer: Consumer, timeout: Duration = .seconds(30), until done: @escaping @Sendable ([ConsumerRecord]) -> Bool
) async throws -> [ConsumerRecord] {
    try await onDedicatedThread {
        var records: [ConsumerRecord] = []
        let deadline = ContinuousClock.now + timeout
        while !done(records), ContinuousClock.now < deadline {
            let batch = try consumer.poll(maxRecords: 1000, timeout: .milliseconds(100))
            records += batch.records
            if !batch.records.isEmpty { try consumer.store(batch.records.map(\.nextOffset)) }
        }
        return records
    }
}

extension ConsumerRecord {
    var valueText: String { value.map { String(decoding: $0, as: UTF8.self) } ?? "<null>" }
}
