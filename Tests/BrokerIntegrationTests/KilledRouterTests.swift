import Foundation
import Testing

extension BrokerIntegrationTests {
    @Suite("SIGKILL mid-transaction, on tansu")
    struct KilledRouterTests {
        static let kills = 3
        /// Each run gets its own share, produced while it runs (15 s at 200/s).
        static let perRun = 3_000
        static let confirmations = perRun * kills
        static let rate = 200
        static let outputs = ["erp.production.confirmations", "erp.inventory.movements"]

        @Test("a router killed with SIGKILL three times mid-transaction and restarted routes every confirmation exactly once")
        func killedRepeatedly() async throws {
            let started = ContinuousClock.now
            let broker = try TansuBroker()
            defer { broker.stop() }
            try await broker.createCatalogTopics()
            let router = try RouterInstance(broker: broker, instanceID: "crash", groupPrefix: "broker-crash")
            defer { router.terminate(timeout: 10) }

            // Each run's own confirmations start arriving once it is ready, so it has transactions to
            // commit (and to be killed in) however long a loaded machine took to start it; one
            // producer for the whole test ran dry before the third run on a busy CI machine.
            let prefix = "crash"
            var producing: [Task<Void, any Error>] = []
            defer { for chunk in producing { chunk.cancel() } }
            var kills: [BrokerCheck.MidTransactionKill] = []
            for run in 1...Self.kills {
                try router.start()
                let ready = await router.waitUntilReady(timeout: .seconds(60))
                try #require(ready, "run \(run) did not become ready:\n\(router.logTail())")
                producing.append(Task {
                    try await BrokerCheck.produce(broker, prefix: prefix, confirmations: Self.perRun, rate: Self.rate, first: (run - 1) * Self.perRun)
                })
                let busy = try await Self.waitFor(timeout: .seconds(60)) {
                    let committed = await router.metric("plantrouter_transactions_total", lane: "production", extra: "result=\"committed\"") ?? 0
                    return committed >= 5 ? committed : nil
                }
                try #require(busy != nil, "run \(run) committed no transactions:\n\(router.logTail())")
                // Killed only while a transaction has outputs on the broker and no marker yet.
                let pid = try #require(router.pid)
                let kill = try await BrokerCheck.killMidTransaction(broker, pid: pid, topics: Self.outputs)
                try #require(kill != nil, "run \(run): no transaction was ever found open to kill")
                #expect(router.reapKilled(), "run \(run) died of SIGKILL")
                if let kill { kills.append(kill) }
            }

            // The last restart fences the killed run's open transaction (same instanceID) and finishes.
            try router.start()
            for chunk in producing { try await chunk.value }
            let sources = "\(prefix)-confirmation-"
            let done = try await BrokerCheck.read(broker, topics: Self.outputs,
                                                  until: Self.outputs.map { ($0, sources, Self.confirmations) }, timeout: .seconds(120))
            let status = router.terminate(timeout: 30)
            #expect(done.complete, "not every confirmation was routed within 120 s of the last restart:\n\(router.logTail())")
            #expect(status == .exited(0), "the last run exits 0 on SIGTERM")

            // Read again from the start, with nothing running: the committed view downstream sees.
            let view = try await BrokerCheck.read(broker, topics: Self.outputs)
            let expected = Set((0..<Self.confirmations).map { "\(sources)\($0)" })
            for topic in Self.outputs {
                let output = view.topic(topic)
                let counts = output.countsBySource
                let missing = expected.subtracting(counts.keys)
                let duplicated = counts.filter { $0.value > 1 }
                let unknown = Set(counts.keys).subtracting(expected)
                let keys = Set(output.records.compactMap(\.idempotencyKey))
                print("""
                    \(topic): \(output.records.count) committed for \(Self.confirmations) confirmations, \
                    \(missing.count) missing, \(duplicated.count) duplicated, \(output.aborted) records of aborted \
                    transactions, \(output.pending) in open ones
                    """)
                #expect(missing.isEmpty, "\(topic): \(missing.count) confirmations lost, e.g. \(missing.sorted().prefix(3))")
                #expect(duplicated.isEmpty, "\(topic): \(duplicated.count) confirmations committed more than once, e.g. \(duplicated.prefix(3))")
                #expect(unknown.isEmpty, "\(topic): outputs of unknown sources \(unknown.prefix(3))")
                #expect(output.records.allSatisfy { $0.transactional }, "\(topic): written outside a transaction")
                #expect(keys.count == output.records.count, "\(topic): idempotency keys are unique per output")
                #expect(output.pending == 0, "\(topic): the restarts fenced every open transaction")
            }
            // Each restart fenced the killed run's transaction: its outputs are aborted, not lost in limbo.
            let aborted = Self.outputs.map { view.topic($0).aborted }.reduce(0, +)
            let openAtKills = kills.map(\.open)
            #expect(aborted >= openAtKills.reduce(0, +), "the outputs open at the kills were aborted")
            print("""
                crash test: \(kills.count) SIGKILLs, each with a transaction open (outputs on the broker, no marker): \
                \(openAtKills) records, found after \(kills.map(\.attempts)) looks; \(aborted) aborted in all; \
                \(ContinuousClock.now - started) in all
                """)
        }

        /// Polls `probe` every 50 ms until it returns a value or `timeout` passes.
        static func waitFor<T>(timeout: Duration, _ probe: () async throws -> T?) async throws -> T? {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                if let value = try await probe() { return value }
                try await Task.sleep(for: .milliseconds(50))
            }
            return try await probe()
        }
    }
}
