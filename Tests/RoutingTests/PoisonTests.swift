import Foundation
import Kafka
import Ledger
import PlantSimulation
import Policy
import Routing
import Testing

@Suite("Poison events, end to end")
struct PoisonTests {
    @Test("every poison kind lands in its lane's dead-letter topic, original bytes intact, and the lanes keep flowing")
    func poisonIsDeadLetteredAndLanesKeepFlowing() async throws {
        let testbed = try Testbed()
        try await testbed.publishWorkOrders()
        // The source topics too: dead letters are compared with the records as consumed.
        let collector = try OutputCollector(
            testbed: testbed,
            topics: ["dlq.telemetry", "dlq.production", "analytics.telemetry", "erp.production.confirmations",
                     PlantSimulator.telemetryTopic, PlantSimulator.confirmationsTopic])
        defer { collector.stop() }

        var offsets: [String: Int64] = [:]
        let poison = PlantSimulator.PoisonKind.allCases.map { kind in
            (kind, testbed.simulator.poison(kind, id: "poison-\(kind.rawValue)", timeMs: 1_772_352_000_000, offsets: &offsets))
        }
        // Good events behind the poison, on the same keys and partitions (asset L1-FILL1, order WO-1001).
        let asset = testbed.simulator.plant.assets[0].id
        let good = (0..<20).map { testbed.reading(id: "good-reading-\($0)", asset: asset) }
            + [testbed.confirmation(id: "good-confirmation", workOrder: "WO-1001")]

        let configuration = testbed.configuration()
        try await testbed.withRouter(configuration) { _ in
            let tokens = try await testbed.publish(poison.map(\.1))
            try await testbed.publish(good)
            let arrived = await collector.wait(timeout: .seconds(30)) { records in
                records.filter { $0.topic.hasPrefix("dlq.") }.count >= poison.count
                    && records.filter { $0.topic == "analytics.telemetry" }.count >= 20
                    && records.contains { $0.topic == "erp.production.confirmations" }
            }
            #expect(arrived, "outputs so far: \(countBy("ce_type", collector.records))")
            await collector.waitForQuiet()

            let letters = collector.records.filter { $0.topic.hasPrefix("dlq.") }
            let trailOf = { (id: String) in try Ledger(path: configuration.database).trail(for: id) }
            #expect(letters.count == poison.count, "one dead letter per poison event, got \(letters.count)")
            for ((kind, event), token) in zip(poison, tokens) {
                let id = "poison-\(kind.rawValue)"
                let expectedTopic = kind == .authorityViolation ? "dlq.production" : "dlq.telemetry"
                let expectedLane = kind == .authorityViolation ? "production" : "telemetry"
                let matching = letters.filter { $0.header("ce_id") == id }
                #expect(matching.count == 1, "\(kind): \(matching.count) dead letters")
                guard let letter = matching.first else { continue }
                let delivered = try #require(testbed.publisher.report(token))
                let source = try #require(collector.records.first {
                    $0.topic == event.topic && $0.partition == delivered.partition && $0.offset == delivered.offset
                }, "\(kind): the original record was read back")
                #expect(letter.topic == expectedTopic, "\(kind) went to \(letter.topic)")
                #expect(letter.header("dlq-reason") == kind.expectedReason.rawValue, "\(kind): reason \(letter.header("dlq-reason") ?? "none")")
                // Original bytes: key, value and the original headers in order, untouched.
                #expect(letter.key == event.key, "\(kind) key")
                #expect(letter.value ?? [] == event.value, "\(kind) value (\(event.value.count) bytes)")
                #expect(letter.key == source.key && letter.value == source.value, "\(kind) key and value as consumed")
                let original = event.headers
                #expect(source.headers == original)
                #expect(Array(letter.headers.prefix(original.count)) == original, "\(kind) original headers first, byte for byte")
                #expect(letter.timestampMs == source.timestampMs, "\(kind) keeps the original timestamp")
                // Documented context headers.
                let context = Dictionary(letter.headers.dropFirst(original.count).map { ($0.name, $0.stringValue ?? "") }, uniquingKeysWith: { a, _ in a })
                #expect(context["dlq-original-topic"] == event.topic)
                #expect(context["dlq-original-partition"] == String(delivered.partition))
                #expect(context["dlq-original-offset"] == String(delivered.offset))
                #expect(context["dlq-original-timestamp"] == String(letter.timestampMs), "\(kind): the letter keeps the original timestamp")
                #expect(context["dlq-lane"] == expectedLane)
                #expect(context["dlq-attempts"] == "1")
                #expect(context["dlq-policy-version"] == testbed.policy.current.version)
                #expect(!(context["dlq-error"] ?? "").isEmpty, "\(kind) says what was wrong")
                #expect((context["dlq-first-failed-at"]).flatMap { try? Date($0, strategy: .iso8601) } != nil, "\(kind) first-failed-at is RFC 3339")
                // The audit trail records the decision and where the dead letter landed.
                _ = await eventually(timeout: .seconds(3)) { (try? trailOf(id))?.first?.outputs.first?.isDelivered == true }
                let audit = try trailOf(id)
                #expect(audit.count == 1 && audit.first?.outcome == .deadLetter, "\(kind) audited as a dead letter: \(audit.map(\.outcome))")
                #expect(audit.first?.outputs.map { "\($0.topic)/\($0.partition ?? -1)@\($0.offset ?? -1)" } == ["\(letter.topic)/\(letter.partition)@\(letter.offset)"],
                        "\(kind) audited output")
                #expect(Set(context.keys).isSubset(of: Self.documentedContextHeaders), "\(kind) extra headers: \(Set(context.keys).subtracting(Self.documentedContextHeaders))")
            }
            // The lanes kept flowing: every good event behind the poison was routed.
            let analytics = countBy("source-event-id", collector.records(in: "analytics.telemetry"))
            #expect((0..<20).allSatisfy { analytics["good-reading-\($0)"] == 1 }, "good readings routed: \(analytics.count)")
            #expect(countBy("source-event-id", collector.records(in: "erp.production.confirmations"))["good-confirmation"] == 1)
        }
        withExtendedLifetime(testbed) {}
    }

    static let documentedContextHeaders: Set<String> = [
        HeaderNames.DeadLetter.originalTopic, HeaderNames.DeadLetter.originalPartition, HeaderNames.DeadLetter.originalOffset,
        HeaderNames.DeadLetter.originalTimestamp, HeaderNames.DeadLetter.reason, HeaderNames.DeadLetter.error,
        HeaderNames.DeadLetter.ruleID, HeaderNames.DeadLetter.policyVersion, HeaderNames.DeadLetter.attempts,
        HeaderNames.DeadLetter.firstFailedAt, HeaderNames.DeadLetter.lane,
    ]
}
