import Foundation
import Testing

extension BrokerIntegrationTests {
    /// The reader every exactly-once assertion relies on must tell committed records from
    /// aborted and open ones, or those assertions could not fail.
    @Suite("The committed-output checker")
    struct CheckerSelfTests {
        @Test("counts committed records once and leaves aborted and open transactions out")
        func markersApplied() async throws {
            let broker = try TansuBroker()
            defer { broker.stop() }
            let topic = "checker.self-test"
            let written = try await BrokerCheck.python(["transactions", "--bootstrap", broker.bootstrap, "--topic", topic], timeout: .seconds(60))
            let view = try await BrokerCheck.read(broker, topics: [topic]).topic(topic)
            let committed = view.records.compactMap(\.sourceEventID)
            print("checker self-test: committed \(committed), aborted \(view.aborted), open \(view.pending); librdkafka read_committed on tansu: \(written.trimmingCharacters(in: .whitespacesAndNewlines))")
            #expect(committed == (0..<4).map { "committed-\($0)" })
            #expect(view.aborted == 3, "the aborted transaction's records")
            #expect(view.pending == 2, "the transaction left open")
            #expect(view.records.allSatisfy { $0.transactional })
        }
    }
}
