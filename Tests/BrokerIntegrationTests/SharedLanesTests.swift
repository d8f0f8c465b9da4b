import Foundation
import Testing

extension BrokerIntegrationTests {
    @Suite("Instances sharing the lanes, on tansu")
    struct SharedLanesTests {
        static let confirmations = 2500
        static let counts = 2500
        static let readings = 5000
        static let rate = 800
        /// Each source kind, the topic its output goes to, and whether its lane is transactional.
        static let routes: [(kind: String, total: Int, topic: String, exactlyOnce: Bool)] = [
            ("confirmation", confirmations, "erp.production.confirmations", true),
            ("confirmation", confirmations, "erp.inventory.movements", true),
            ("count", counts, "analytics.production", true),
            ("reading", readings, "analytics.telemetry", false),
        ]
        static let deadLetters = ["dlq.production", "dlq.telemetry"]

        @Test("three instances in the same groups, one killed and one added mid-run: every event routed once, lanes isolated")
        func killAndAdd() async throws {
            let started = ContinuousClock.now
            let broker = try TansuBroker()
            defer { broker.stop() }
            try await broker.createCatalogTopics()
            let instances = try ["a", "b", "c", "d"].map { try RouterInstance(broker: broker, instanceID: "shared-\($0)", groupPrefix: "broker-shared") }
            defer { for instance in instances { instance.terminate(timeout: 10) } }
            let (a, b, c, d) = (instances[0], instances[1], instances[2], instances[3])
            for instance in [a, b, c] { try instance.start() }
            for instance in [a, b, c] {
                let ready = await instance.waitUntilReady(timeout: .seconds(60))
                try #require(ready, "\(instance.instanceID) did not become ready:\n\(instance.logTail())")
            }

            let prefix = "shared"
            let producing = Task {
                try await BrokerCheck.produce(broker, prefix: prefix, confirmations: Self.confirmations, counts: Self.counts, readings: Self.readings, rate: Self.rate)
            }
            defer { producing.cancel() }
            // Mid-run, while all three route: b dies without a word, d joins.
            let busy = try await KilledRouterTests.waitFor(timeout: .seconds(60)) {
                let consumed = await b.metric("plantrouter_events_consumed_total", lane: "production") ?? 0
                return consumed >= 300 ? consumed : nil
            }
            try #require(busy != nil, "instance b routed no production events:\n\(b.logTail())")
            let consumedByB = await Self.consumed(b)
            #expect(b.kill(), "b died of SIGKILL")
            try d.start()
            try await producing.value

            let done = try await BrokerCheck.read(
                broker, topics: Self.routes.map(\.topic),
                until: Self.routes.map { ($0.topic, "\(prefix)-\($0.kind)-", $0.total) }, timeout: .seconds(120))
            #expect(done.complete, "not every event was routed within 120 s:\n\(a.logTail(lines: 10))")
            var consumedBy = ["b (killed)": consumedByB]
            for instance in [a, c, d] {
                consumedBy[instance.instanceID] = await Self.consumed(instance)
                #expect(instance.terminate(timeout: 30) == .exited(0), "\(instance.instanceID) exits 0 on SIGTERM")
            }
            print("events consumed per instance: \(consumedBy.sorted { $0.key < $1.key })")
            for instance in [a, c, d] {
                #expect((consumedBy[instance.instanceID] ?? 0) > 0, "\(instance.instanceID) routed a share of the lanes")
            }

            let view = try await BrokerCheck.read(broker, topics: Self.routes.map(\.topic) + Self.deadLetters)
            for route in Self.routes {
                let output = view.topic(route.topic)
                let sources = "\(prefix)-\(route.kind)-"
                let expected = Set((0..<route.total).map { "\(sources)\($0)" })
                let mine = output.records.filter { $0.sourceEventID?.hasPrefix(sources) ?? false }
                let counts = mine.reduce(into: [String: Int]()) { $0[$1.sourceEventID ?? "", default: 0] += 1 }
                let missing = expected.subtracting(counts.keys)
                let duplicated = counts.filter { $0.value > 1 }.count
                print("\(route.topic): \(mine.count) committed for \(route.total) \(route.kind)s, \(missing.count) missing, \(duplicated) more than once, \(output.aborted) aborted, \(output.pending) in open transactions")
                #expect(missing.isEmpty, "\(route.topic): \(missing.count) \(route.kind)s lost, e.g. \(missing.sorted().prefix(3))")
                // Lane isolation: a topic holds only its own lane's outputs.
                #expect(mine.count == output.records.count, "\(route.topic): \(output.records.count - mine.count) outputs of other sources")
                if route.exactlyOnce {
                    #expect(duplicated == 0, "\(route.topic): \(duplicated) \(route.kind)s committed more than once")
                    #expect(mine.allSatisfy { $0.transactional }, "\(route.topic): outputs written outside a transaction")
                } else {
                    // At least once: a redelivered reading keeps its idempotency key, so consumers can drop the copy.
                    var keys: [String: Set<String>] = [:]
                    for record in mine { keys[record.sourceEventID ?? "", default: []].insert(record.idempotencyKey ?? "") }
                    let changed = keys.filter { $0.value.count != 1 || $0.value.contains("") }
                    #expect(changed.isEmpty, "\(route.topic): \(changed.count) readings with a missing or changed idempotency-key, e.g. \(changed.prefix(2))")
                    #expect(Set(keys.values.compactMap(\.first)).count == keys.count, "\(route.topic): idempotency keys are unique per source event")
                }
            }
            for topic in Self.deadLetters {
                #expect(view.topic(topic).records.isEmpty, "\(topic): \(view.topic(topic).records.count) dead letters")
            }
            print("shared lanes test: \(ContinuousClock.now - started) in all")
        }

        /// Events this process consumed on every lane (its /metrics; 0 when it does not answer).
        static func consumed(_ instance: RouterInstance) async -> Int {
            var total = 0.0
            for lane in ["production", "telemetry"] {
                total += await instance.metric("plantrouter_events_consumed_total", lane: lane) ?? 0
            }
            return Int(total)
        }
    }
}
