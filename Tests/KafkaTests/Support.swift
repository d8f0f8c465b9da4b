import Foundation
import Kafka
import Logging
import Synchronization
import Testing

/// librdkafka logs every disconnect, retry and rebalance at warning or info;
/// tests provoke plenty of those on purpose. Only errors are shown, unless
/// `KAFKA_TEST_LOG_LEVEL` (e.g. `debug`) asks for more.
let testLogger: Logger = {
    var logger = Logger(label: "plantrouter.kafka.tests")
    logger.logLevel = ProcessInfo.processInfo.environment["KAFKA_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .error
    return logger
}()

/// Shared set-up for tests against a fresh embedded cluster.
struct TestCluster {
    let cluster: EmbeddedCluster

    init(brokers: Int32 = 3, topics: [TopicSpec] = []) throws {
        cluster = try EmbeddedCluster(brokers: brokers, logger: testLogger)
        try cluster.createTopics(topics)
    }

    func producerConfiguration() -> ProducerConfiguration {
        var configuration = ProducerConfiguration(client: cluster.configuration)
        configuration.lingerMs = 1
        // A broker brought back up is reconnected to within a second, not ten.
        configuration.client.properties["reconnect.backoff.max.ms"] = "1000"
        return configuration
    }

    func consumerConfiguration(group: String = "test-\(UUID().uuidString)") -> ConsumerConfiguration {
        var configuration = ConsumerConfiguration(client: cluster.configuration, groupID: group)
        configuration.sessionTimeoutMs = 6000
        // Members learn of a rebalance within half a second (the default is 3 s).
        configuration.client.properties["heartbeat.interval.ms"] = "500"
        configuration.client.properties["reconnect.backoff.max.ms"] = "1000"
        if let debug = ProcessInfo.processInfo.environment["KAFKA_TEST_DEBUG"] { configuration.client.properties["debug"] = debug }
        return configuration
    }

    func producer(
        _ configuration: ProducerConfiguration? = nil, onDelivery: (@Sendable (DeliveryReport) -> Void)? = nil
    ) throws -> Producer {
        try Producer(configuration: configuration ?? producerConfiguration(), logger: testLogger, onDelivery: onDelivery)
    }

    func consumer(
        _ configuration: ConsumerConfiguration? = nil, onRebalance: (@Sendable (RebalanceEvent) -> Void)? = nil
    ) throws -> Consumer {
        try Consumer(configuration: configuration ?? consumerConfiguration(), logger: testLogger, onRebalance: onRebalance)
    }

    func admin() throws -> Admin {
        try Admin(configuration: cluster.configuration, logger: testLogger)
    }

    /// Produces `count` records whose value is their index as text, keyed by `key(index)`.
    func produceNumbered(
        _ count: Int, to topic: String, from first: Int = 0, partition: Int32? = nil,
        key: (Int) -> String = { "k\($0 % 16)" }
    ) throws {
        let producer = try producer()
        for index in first..<(first + count) {
            try produceRetryingWhenFull(
                producer,
                ProducerRecord(topic: topic, partition: partition, key: Array(key(index).utf8), value: Array(String(index).utf8)))
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

/// Waits until `condition` holds, checking every few milliseconds; returns
/// whether it did before `timeout`. For state that other threads change.
func eventually(timeout: Duration = .seconds(30), _ condition: @Sendable () throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        try await Task.sleep(for: .milliseconds(10))
    }
    return try condition()
}

extension ConsumerRecord {
    var valueText: String { value.map { String(decoding: $0, as: UTF8.self) } ?? "<null>" }
    /// The number `produceNumbered` wrote as the value.
    var number: Int { Int(valueText) ?? -1 }
}

final class ReportCollector: Sendable {
    private let reports = Mutex<[DeliveryReport]>([])
    func add(_ report: DeliveryReport) { reports.withLock { $0.append(report) } }
    var all: [DeliveryReport] { reports.withLock { $0 } }
    var count: Int { reports.withLock { $0.count } }
}
