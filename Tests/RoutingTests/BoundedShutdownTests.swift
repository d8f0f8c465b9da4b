import Foundation
import Kafka
import Ledger
import PlantSimulation
import Policy
import Routing
import Testing

/// SIGTERM during a broker outage must end within each lane's drain timeout, not in a hard
/// kill: a transactional lane whose transactions keep failing used to retry its dead letter
/// forever without looking at the stop request.
@Suite("Shutdown is bounded by the drain timeout")
struct BoundedShutdownTests {
    @Test("a lane whose every transaction fails, with the broker then down, stops within its drain timeout; nothing is lost")
    func stopDuringAnOutageIsBoundedAndLosesNothing() async throws {
        let testbed = try Testbed()
        try await testbed.publishWorkOrders()
        let confirmations = (0..<20).map { testbed.confirmation(id: "bounded-\($0)", workOrder: "WO-1001") }
        try await testbed.publish(confirmations)

        var configuration = testbed.configuration()
        let drain = 2_000
        for lane in testbed.catalog.lanes.map(\.name) {
            var settings = LaneSettings()
            settings.drainTimeoutMs = drain
            settings.retryBackoffMaxMs = 200
            configuration.lanes[lane] = settings
        }
        // Every produce from here on fails: the production lane's transactions abort and retry.
        testbed.cluster.injectErrors(Array(repeating: .invalidRecord, count: 100_000), on: .produce)
        let router = try await testbed.startRouter(configuration)
        let production = try #require(router.lanes.first { $0.name == "production" })
        let failing = await eventually(timeout: .seconds(30)) { production.statistics.snapshot.producerErrors >= 3 }
        #expect(failing, "the production lane's transactions should be failing")
        try testbed.cluster.setBrokerDown(1)

        let started = ContinuousClock.now
        let durations = await router.stop()
        let took = ContinuousClock.now - started
        // Each lane may use its drain time, then at most a second to leave its group and a
        // moment to close its producer: 2.1 s measured alone. Durations are measured on the
        // lanes' own threads; the margin is for the whole suite sharing two cores. Before the
        // stop was bounded it never finished: every blocked transaction call alone took
        // librdkafka's 30 s.
        for (lane, laneTook) in durations.lanes {
            #expect(laneTook < .milliseconds(drain) + .seconds(6), "lane \(lane) stopped in \(laneTook)")
        }
        // With the broker down the index's catch-up costs one look at the topic's end (1 s).
        let catchUp = try #require(durations.auditIndexCatchUp)
        #expect(catchUp < AuditIndexer.stopCatchUpBudget + .seconds(3), "audit index catch-up took \(catchUp)")
        // The whole stop, as the caller waits for it: lanes, then the index, plus the
        // cooperative pool's hops, which other tests' blocking work can delay.
        #expect(took < .milliseconds(drain) + AuditIndexer.stopCatchUpBudget + .seconds(20), "stop took \(took)")

        // Nothing lost: the confirmations were never committed, so the next router routes them.
        try testbed.cluster.setBrokerUp(1)
        testbed.cluster.clearInjectedErrors(on: .produce)
        let collector = try OutputCollector(testbed: testbed, topics: ["erp.production.confirmations"])
        defer { collector.stop() }
        try await testbed.withRouter(configuration) { _ in
            let arrived = await collector.wait(timeout: .seconds(60)) { records in
                Set(records.compactMap { $0.header("source-event-id") }).count >= confirmations.count
            }
            #expect(arrived, "confirmations routed after the restart: \(Set(collector.records.compactMap { $0.header("source-event-id") }).count) of \(confirmations.count)")
        }
    }
}
