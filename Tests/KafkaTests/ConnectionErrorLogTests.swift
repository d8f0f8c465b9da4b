import Foundation
@testable import Kafka
import Testing

@Suite("Connection error log")
struct ConnectionErrorLogTests {
    @Test func anOutageIsSaidOnceThenSummarisedOncePerInterval() {
        let log = ConnectionErrorLog()
        let start = ContinuousClock.now
        let first = log.record(code: .transport, reason: "broker 1: Connection refused", at: start)
        #expect(first?.hasPrefix("_TRANSPORT: broker 1: Connection refused (further connection errors are counted") == true)
        // "All brokers down" is a change of state: said once.
        #expect(log.record(code: .allBrokersDown, reason: "3/3 brokers are down", at: start + .seconds(1)) == "_ALL_BROKERS_DOWN: 3/3 brokers are down")
        var logged = 0
        for second in 2..<60 {
            let code: KafkaErrorCode = second % 2 == 0 ? .transport : .allBrokersDown
            if log.record(code: code, reason: "broker \(second % 3 + 1): Connection refused", at: start + .seconds(second)) != nil { logged += 1 }
        }
        #expect(logged == 0, "repeats within the interval, of either kind, are only counted")
        let summary = log.record(code: .transport, reason: "broker 2: Connection refused", at: start + .seconds(61))
        #expect(summary?.hasPrefix("cluster still unreachable: 59 connection errors in the last 60 s") == true, "\(summary ?? "nil")")
        // After two intervals without an error the next one starts a new outage, said at once.
        let again = log.record(code: .transport, reason: "broker 1: Connection refused", at: start + .seconds(300))
        #expect(again?.contains("further connection errors are counted") == true)
        #expect(ConnectionErrorLog.forCluster("a:9092") === ConnectionErrorLog.forCluster("a:9092"))
        #expect(ConnectionErrorLog.forCluster("a:9092") !== ConnectionErrorLog.forCluster("b:9092"))
    }

    /// With the only broker down, each of several clients (a router runs a dozen) reports
    /// failures; librdkafka logs each as a FAIL line and again through the error callback.
    /// Now: one line for the outage and one for "all brokers down", whatever the client count.
    @Test func aBrokerOutageLogsTwoLinesForAllClients() async throws {
        let test = try TestCluster(brokers: 1)
        let logs = CapturedLogs()
        var configuration = test.producerConfiguration()
        configuration.client.properties["reconnect.backoff.ms"] = "10"
        configuration.client.properties["reconnect.backoff.max.ms"] = "50"
        let producers = try (0..<4).map { _ in try Producer(configuration: configuration, logger: logs.logger) }
        try test.cluster.setBrokerDown(1)
        let reported = try await eventually(timeout: .seconds(30)) { logs.lines.filter { $0.hasPrefix("debug FAIL") }.count >= 4 }
        #expect(reported, "every client saw the outage: \(logs.lines)")
        // The FAIL lines come from librdkafka's broker threads as they happen; the error callback
        // that says the outage comes later, when a producer's poll thread serves it.
        @Sendable func warnings() -> [String] { logs.lines.filter { $0.hasPrefix("warning") || $0.hasPrefix("error") } }
        // Either may come first: "all brokers down" and the first transport failure race.
        let said = try await eventually(timeout: .seconds(30)) { warnings().contains { $0.contains("further connection errors are counted") } }
        #expect(said, "\(warnings())")
        #expect(warnings().count <= 2, "\(warnings())")
        try test.cluster.setBrokerUp(1)
        for producer in producers { try producer.close(timeout: .seconds(5)) }
    }
}
