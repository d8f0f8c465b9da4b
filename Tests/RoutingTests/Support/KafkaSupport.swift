import Foundation
import Kafka
import Logging
import Synchronization

/// Runs blocking Kafka calls on a thread of their own, never on Swift's cooperative pool.
func onDedicatedThread<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Swift.Result { try body() }) }.start()
    }
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: Duration, _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        if ContinuousClock.now >= deadline { return false }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return true
}

/// Log level for routers and clients in tests: `ROUTING_TESTS_LOG_LEVEL=info swift test` to see them.
let testLogger: Logger = {
    var logger = Logger(label: "routing-tests")
    logger.logLevel = ProcessInfo.processInfo.environment["ROUTING_TESTS_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
    return logger
}()

func nowMs() -> Double { Date().timeIntervalSince1970 * 1000 }

extension ConsumerRecord {
    /// The first header called `name`, as text.
    func header(_ name: String) -> String? { headers[header: name]?.stringValue }
    var keyText: String? { key.map { String(decoding: $0, as: UTF8.self) } }
}

/// Publishes records and keeps every delivery report (partition and offset of each record).
final class Publisher: Sendable {
    let producer: Producer
    private let reports = Shared<[UInt64: DeliveryReport]>([:])
    private let nextToken = Mutex<UInt64>(1)

    init(cluster: KafkaConfiguration) throws {
        var configuration = ProducerConfiguration(client: cluster)
        configuration.lingerMs = 1
        // 1 MB poison bodies must reach the router to be dead-lettered.
        configuration.client.properties["message.max.bytes"] = "4000000"
        let reports = self.reports
        producer = try Producer(configuration: configuration, logger: testLogger) { report in
            reports.withLock { $0[report.token] = report }
        }
    }

    /// Enqueues one record and returns its token; blocks while the local queue is full.
    @discardableResult
    func send(_ record: ProducerRecord) throws -> UInt64 {
        let token = nextToken.withLock { value in
            defer { value += 1 }
            return value
        }
        try producer.produceWaitingForRoom(record, token: token)
        return token
    }

    func flush() throws { try producer.flush(timeout: .seconds(60)) }

    func report(_ token: UInt64) -> DeliveryReport? { reports.withLock { $0[token] } }

    func close() { try? producer.close(timeout: .seconds(10)) }
}

/// A value shared between threads (a `Mutex` a closure can capture).
final class Shared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result { try mutex.withLock { try body(&$0) } }
    var value: Value { mutex.withLock { $0 } }
}
