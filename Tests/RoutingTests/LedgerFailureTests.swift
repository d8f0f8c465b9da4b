import Foundation
import GRDB
import Kafka
import Ledger
import Policy
import Routing
import Testing

/// When the ledger cannot take writes (disk full, another process holding its lock), the audit
/// trail and idempotency keys must not be dropped: lanes pause, readiness says why, and once
/// SQLite takes writes again everything queued is written and routing resumes.
@Suite("Ledger failures are loud and lossless")
struct LedgerFailureTests {
    @Test("a locked ledger pauses the lanes and fails readiness; after the lock is released nothing is missing from the trail")
    func lockedLedgerPausesAndLosesNothing() async throws {
        let testbed = try Testbed()
        try testbed.publishWorkOrders()
        let configuration = testbed.configuration()
        let router = try await testbed.startRouter(configuration)

        // Another process takes the write lock: the router's writes fail after SQLite's busy timeout.
        var holderConfiguration = Configuration()
        holderConfiguration.allowsUnsafeTransactions = true  // the lock outlives one database access on purpose
        let holder = try DatabaseQueue(path: configuration.database, configuration: holderConfiguration)
        try holder.inDatabase { db in try db.execute(sql: "BEGIN EXCLUSIVE") }
        let confirmations = (0..<10).map { testbed.confirmation(id: "locked-\($0)", workOrder: "WO-1001") }
        try testbed.publish(confirmations)

        let noticed = await eventually(timeout: .seconds(30)) { router.ledgerProblem != nil }
        #expect(noticed, "the router should notice that ledger writes fail")
        #expect(!router.isReady, "readiness must fail while the ledger takes no writes")
        #expect(router.ledgerProblem?.contains("ledger writes failing") == true, "\(router.ledgerProblem ?? "no problem")")

        try holder.inDatabase { db in try db.execute(sql: "ROLLBACK") }
        let recovered = await eventually(timeout: .seconds(30)) { router.ledgerProblem == nil && router.isReady }
        #expect(recovered, "writes should resume once the lock is released: \(router.ledgerProblem ?? "")")
        let ledger = try Ledger(path: configuration.database, access: .readOnly)
        let complete = await eventually(timeout: .seconds(30)) {
            confirmations.allSatisfy { event in
                let id = event.header("ce_id").map { String(decoding: $0, as: UTF8.self) } ?? ""
                let trail = (try? ledger.trail(for: id)) ?? []
                // The decision and the position of every output it produced.
                return !trail.isEmpty && trail.allSatisfy { $0.outputs.allSatisfy { $0.offset != nil } }
            }
        }
        await router.stop()
        #expect(complete, "every confirmation's decision and outputs are in the ledger")
        #expect(router.unwrittenAuditRecords == 0)
    }
}
