import Foundation
import GRDB
import Kafka
import Ledger
import Policy
import Routing
import Testing

/// A ledger that cannot take writes (disk full, another process holding its lock) must be
/// reported and must lose nothing. With an audit topic (the default catalog's
/// `plantrouter.audit`) Kafka holds the trail and the ledger is its index: routing goes on, and
/// once SQLite takes writes again the index reads what it missed from the topic. Without one the
/// ledger is the only trail: lanes pause and readiness fails until it takes writes again.
@Suite("Ledger failures are loud and lossless")
struct LedgerFailureTests {
    @Test("a locked ledger is reported and routing goes on; after the lock is released nothing is missing from the trail")
    func lockedLedgerIsReportedAndLosesNothing() async throws {
        let testbed = try Testbed()
        try await testbed.publishWorkOrders()
        let configuration = testbed.configuration()
        let router = try await testbed.startRouter(configuration)
        let production = try #require(router.lanes.first { $0.name == "production" })
        let producedBefore = production.statistics.counters.produced

        let holder = try Self.lock(configuration.database)
        let confirmations = (0..<10).map { testbed.confirmation(id: "locked-\($0)", workOrder: "WO-1001") }
        try await testbed.publish(confirmations)

        // Each confirmation goes to ERP twice (confirmation and inventory movement).
        let routed = await eventually(timeout: .seconds(30)) { production.statistics.counters.produced >= producedBefore + 20 }
        #expect(routed, "routing must go on while the ledger is locked: the audit topic holds the trail")
        let noticed = await eventually(timeout: .seconds(30)) { router.ledgerProblem != nil }
        #expect(noticed, "the router should notice that ledger writes fail")
        #expect(router.ledgerProblem?.contains("ledger writes failing") == true, "\(router.ledgerProblem ?? "no problem")")
        #expect(router.isReady, "readiness does not hang on the index")

        try holder.inDatabase { db in try db.execute(sql: "ROLLBACK") }
        let recovered = await eventually(timeout: .seconds(30)) { router.ledgerProblem == nil }
        #expect(recovered, "the index should take writes again once the lock is released: \(router.ledgerProblem ?? "")")
        let complete = await Self.trailIsComplete(confirmations, ledger: configuration.database)
        await router.stop()
        #expect(complete, "every confirmation's decision and outputs are in the ledger")
        #expect(router.unwrittenAuditRecords == 0)
    }

    @Test("without an audit topic a locked ledger pauses the lanes and fails readiness; after the lock is released nothing is missing")
    func withoutAnAuditTopicALockedLedgerPausesTheLanes() async throws {
        let testbed = try Testbed()
        try await testbed.publishWorkOrders()
        // The shipped Topics/ without the audit topic, the last entry of catalog.yaml.
        let topics = testbed.folder.appendingPathComponent("Topics")
        try FileManager.default.copyItem(at: RepositoryPaths.topics, to: topics)
        let catalogFile = topics.appendingPathComponent("catalog.yaml")
        let catalog = try String(contentsOf: catalogFile, encoding: .utf8)
        let auditEntry = try #require(catalog.range(of: "  # ---- the router's own trail"))
        try String(catalog[..<auditEntry.lowerBound]).write(to: catalogFile, atomically: true, encoding: .utf8)
        let policy = try PolicyHolder(loadingFrom: topics)
        #expect(policy.current.catalog.auditTopic == nil)
        var configuration = testbed.configuration()
        configuration.topics = topics.path
        let router = try Router(configuration: configuration, policy: policy, ledger: try Ledger(path: configuration.database), logger: testLogger)
        await router.start()
        let started = await eventually(timeout: .seconds(30)) { router.isReady }
        try #require(started, "lanes did not join their groups within 30 s")

        let holder = try Self.lock(configuration.database)
        let confirmations = (0..<10).map { testbed.confirmation(id: "locked-\($0)", workOrder: "WO-1001") }
        try await testbed.publish(confirmations)
        let noticed = await eventually(timeout: .seconds(30)) { router.ledgerProblem != nil }
        #expect(noticed, "the router should notice that ledger writes fail")
        #expect(!router.isReady, "readiness must fail while the only trail takes no writes")
        #expect(router.ledgerProblem?.contains("ledger writes failing") == true, "\(router.ledgerProblem ?? "no problem")")

        try holder.inDatabase { db in try db.execute(sql: "ROLLBACK") }
        let recovered = await eventually(timeout: .seconds(30)) { router.ledgerProblem == nil && router.isReady }
        #expect(recovered, "writes should resume once the lock is released: \(router.ledgerProblem ?? "")")
        let complete = await Self.trailIsComplete(confirmations, ledger: configuration.database)
        await router.stop()
        #expect(complete, "every confirmation's decision and outputs are in the ledger")
        #expect(router.unwrittenAuditRecords == 0)
    }

    /// Holds the ledger's write lock as another process would, until the caller rolls back.
    static func lock(_ path: String) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.allowsUnsafeTransactions = true  // the lock outlives one database access on purpose
        let holder = try DatabaseQueue(path: path, configuration: configuration)
        try holder.inDatabase { db in try db.execute(sql: "BEGIN EXCLUSIVE") }
        return holder
    }

    /// Waits until every event's decision and the position of every output it produced are in
    /// the ledger at `path`.
    static func trailIsComplete(_ events: [RawEvent], ledger path: String) async -> Bool {
        guard let ledger = try? Ledger(path: path, access: .readOnly) else { return false }
        return await eventually(timeout: .seconds(30)) {
            events.allSatisfy { event in
                let id = event.header("ce_id").map { String(decoding: $0, as: UTF8.self) } ?? ""
                let trail = (try? ledger.trail(for: id)) ?? []
                return !trail.isEmpty && trail.allSatisfy { $0.outputs.allSatisfy { $0.offset != nil } }
            }
        }
    }
}
