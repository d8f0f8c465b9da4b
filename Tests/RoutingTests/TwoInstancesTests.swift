import Foundation
import Kafka
import Policy
import Routing
import Testing

@Suite("Two router instances, end to end")
struct TwoInstancesTests {
    /// Confirmations fan out to two ERP topics; counts go to analytics. All in the production
    /// lane's transactions, spread over both of its source topics so both members get work
    /// whichever partitions the assignor gives each.
    static let outputs: [(topic: String, from: String)] = [
        ("erp.production.confirmations", "confirmation"),
        ("erp.inventory.movements", "confirmation"),
        ("analytics.production", "count"),
    ]

    @Test("two instances in the same groups route each event once, and partitions move without loss when one stops")
    func twoInstancesShareTheWork() async throws {
        let testbed = try Testbed()
        let support = try ExactlyOnceSupport.probe(testbed.cluster)
        try await testbed.publishWorkOrders()
        let collector = try OutputCollector(testbed: testbed, topics: Self.outputs.map(\.topic))
        defer { collector.stop() }
        let sourcePartitions = testbed.partitions(of: "plant.production.counts") + testbed.partitions(of: "plant.production.confirmations")

        let first = try await testbed.startRouter(testbed.configuration(instanceID: "instance-a", groupPrefix: "shared"))
        let second: Router
        do {
            second = try await testbed.startRouter(testbed.configuration(instanceID: "instance-b", groupPrefix: "shared"))
        } catch {
            await first.stop()
            throw error
        }
        let laneA = try #require(first.lanes.first { $0.name == "production" })
        let laneB = try #require(second.lanes.first { $0.name == "production" })

        // Both members hold part of the production lane's partitions.
        let shared = await eventually(timeout: .seconds(30)) {
            let (a, b) = (laneA.statistics.snapshot.assignedPartitions, laneB.statistics.snapshot.assignedPartitions)
            return a > 0 && b > 0 && a + b == sourcePartitions
        }
        #expect(shared, "assignment a=\(laneA.statistics.snapshot.assignedPartitions) b=\(laneB.statistics.snapshot.assignedPartitions) of \(sourcePartitions)")

        // Phase 1, both running: each event is routed once, by one of them.
        let phase1 = Self.events(testbed, phase: "phase1", count: 1000)
        try await testbed.publish(phase1)
        #expect(await collector.wait(timeout: .seconds(60)) { Self.missing(phase1, in: $0).isEmpty }, "phase 1 routed")
        await collector.waitForQuiet()
        let phase1Counts = Self.counts(collector.records)
        let phase1Exact = Self.expected(phase1).allSatisfy { phase1Counts[$0] == 1 }
        #expect(phase1Exact, "phase 1 exactly once while both run: \(phase1Counts.filter { $0.value > 1 }.count) duplicated, \(Self.missing(phase1, in: collector.records).count) missing")
        let (consumedA, consumedB) = (laneA.statistics.snapshot.consumed, laneB.statistics.snapshot.consumed)
        print("phase 1: instance a consumed \(consumedA), instance b \(consumedB) of \(phase1.count)")
        #expect(consumedA > 0 && consumedB > 0, "both instances routed part of phase 1")
        #expect(consumedA + consumedB == phase1.count, "each event consumed by exactly one instance")

        // Phase 2: a steady stream; instance a stops gracefully midway and b takes its partitions over.
        let phase2 = Self.events(testbed, phase: "phase2", count: 1000)
        let publishing = Task { try await testbed.publishPaced(phase2, rate: 400) }
        try await Task.sleep(for: .seconds(1))
        await first.stop()
        let firstStoppedAt = nowMs()
        try await publishing.value
        let movedOver = await eventually(timeout: .seconds(30)) { laneB.statistics.snapshot.assignedPartitions == sourcePartitions }
        #expect(movedOver, "instance b took every partition over (holds \(laneB.statistics.snapshot.assignedPartitions))")
        #expect(await collector.wait(timeout: .seconds(60)) { Self.missing(phase2, in: $0).isEmpty }, "phase 2 routed")
        await collector.waitForQuiet()
        await second.stop()

        let lost = Self.missing(phase1 + phase2, in: collector.records)
        #expect(lost.isEmpty, "\(lost.count) outputs lost across the rebalance, e.g. \(lost.prefix(5))")
        // Whatever the brokers support: instance b duplicates nothing produced after the hand-over,
        // and nothing comes more than twice (once per instance).
        let duplicatedLater = collector.duplicatesFirstSeen(after: firstStoppedAt + 1000)
        #expect(duplicatedLater.count == 0, "\(duplicatedLater.count) outputs first routed after the hand-over came more than once, e.g. \(duplicatedLater.prefix(3))")
        let mostCopies = collector.arrivalTimesByOutput().values.map(\.count).max() ?? 0
        #expect(mostCopies <= 2, "an output arrived \(mostCopies) times")
        expectExactlyOnce(Self.counts(collector.records), "production outputs across the rebalance", support: support)
        withExtendedLifetime(testbed) {}
    }

    /// Alternating confirmations (60 work orders) and counts (60 assets).
    private static func events(_ testbed: Testbed, phase: String, count: Int) -> [RawEvent] {
        (0..<count).map { index in
            index % 2 == 0
                ? testbed.confirmation(id: "\(phase)-confirmation-\(index)", workOrder: "WO-\(4000 + index % 60)")
                : testbed.count(id: "\(phase)-count-\(index)", asset: "A-\(index % 60)")
        }
    }

    /// "topic|source event id" of every output the events must produce.
    private static func expected(_ events: [RawEvent]) -> [String] {
        events.flatMap { event in
            let id = String(decoding: event.header("ce_id")!, as: UTF8.self)
            return outputs.filter { id.contains("-\($0.from)-") }.map { "\($0.topic)|\(id)" }
        }
    }

    private static func counts(_ records: [ConsumerRecord]) -> [String: Int] {
        var counts: [String: Int] = [:]
        for record in records { counts["\(record.topic)|\(record.header("source-event-id") ?? "")", default: 0] += 1 }
        return counts
    }

    private static func missing(_ events: [RawEvent], in records: [ConsumerRecord]) -> [String] {
        let seen = counts(records)
        return expected(events).filter { seen[$0] == nil }
    }
}
