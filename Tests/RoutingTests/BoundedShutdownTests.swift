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
        try testbed.publishWorkOrders()
        let confirmations = (0..<20).map { testbed.confirmation(id: "bounded-\($0)", workOrder: "WO-1001") }
        try testbed.publish(confirmations)

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
        await router.stop()
        let took = ContinuousClock.now - started
        // Lanes stop in parallel; each may use its drain time, then at most a second to leave its
        // group and a moment to close its producer: 2.2 s measured alone. The margin is for the
        // whole suite running in parallel on two cores, where thread scheduling stretches it
        // (5.9 s and 9.2 s measured). Before the stop was bounded it never finished: every
        // blocked transaction call alone took librdkafka's 30 s.
        #expect(took < .milliseconds(drain) + .seconds(12), "stop took \(took)")

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
