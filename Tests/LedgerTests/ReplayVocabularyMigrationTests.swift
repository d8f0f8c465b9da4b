import Foundation
import GRDB
import Testing
@testable import Ledger

/// Issue 16: `v2-replay-vocabulary` keeps every job and its counts under their new names, and
/// `v2-drop-dry-run-audit` removes the would-be decisions old dry runs wrote into the trail.
@Suite struct ReplayVocabularyMigrationTests {
    @Test func aV1LedgerKeepsItsJobsAndLosesOnlyDryRunDecisions() throws {
        let folder = try TestFolder()
        let pool = try DatabasePool(path: folder.ledgerPath)
        try LedgerSchema.migrator.migrate(pool, upTo: "v1-replay")
        try pool.write { db in
            for (id, dryRun) in [("job-real", false), ("job-dry", true)] {
                try db.execute(sql: """
                    INSERT INTO replay_job (id, requested_by, created_at, updated_at, mode, source, filters, dry_run, state,
                        selected, sent, skipped, quarantined, failed)
                    VALUES (?, 'cli:sre', ?, ?, 'reroute', '{"kind":"deadLetter","topic":"dlq.quality","range":{"all":{}}}', '{}', ?,
                        'completed', 5, 2, 1, 1, 1)
                    """, arguments: [id, instant(0), instant(1), dryRun])
                try db.execute(sql: "INSERT INTO replay_progress VALUES (?, 'dlq.quality', 0, 5)", arguments: [id])
            }
        }
        try pool.close()
        let ledger = try folder.openLedger()
        // The real job's decision, the dry run's would-be decision (back-filled with a real
        // output's position, as old releases did), and a router decision.
        try ledger.append([
            record("evt-1", offset: 1, at: 0, outputs: [AuditOutput(topic: "qms", partition: 0, offset: 7, idempotencyKey: "k1")]),
            withReason(record("evt-1", offset: 1, at: 1, outputs: [AuditOutput(topic: "qms", partition: 0, offset: 8, idempotencyKey: "k2")]), "replay job job-real"),
            withReason(record("evt-1", offset: 1, at: 2, outputs: [AuditOutput(topic: "qms", partition: 0, offset: 8, idempotencyKey: "k2")]), "rule x; replay job job-dry"),
        ])
        // Run the cleanup again on these rows, as the migration does on an upgraded file.
        try DatabaseQueue(path: folder.ledgerPath).write { db in
            try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = 'v2-drop-dry-run-audit'")
        }
        let reopened = try folder.openLedger()

        let real = try #require(try reopened.job(id: "job-real"))
        #expect(real.counts == ReplayCounts(selected: 5, sent: 2, skippedAlreadyProduced: 1, reDeadLettered: 1, quarantined: 1))
        #expect(real.state == .completed && real.requestedBy == "cli:sre")
        #expect(try reopened.progress(jobID: "job-dry").map(\.nextOffset) == [5], "progress rows survive the table rebuild")
        let trail = try reopened.trail(for: "evt-1")
        #expect(trail.map(\.reason) == [nil, "replay job job-real"])
        let outputs = try DatabaseQueue(path: folder.ledgerPath).read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_output") }
        #expect(outputs == 2, "the dry run's outputs went with its decision")
    }

    @Test func replayHistoryCountsRealReplaysAndNamesTheJobThatDelivered() throws {
        let folder = try TestFolder()
        let ledger = try folder.openLedger()
        let source = ReplaySource(kind: .deadLetter, topic: "dlq.quality")
        let first = try ledger.createJob(ReplayJobRequest(requestedBy: "a", source: source))
        let second = try ledger.createJob(ReplayJobRequest(requestedBy: "b", source: source))
        for job in [first, second] { try ledger.setState(jobID: job.id, to: .running) }
        try ledger.updateProgress(
            jobID: first.id, topic: "dlq.quality", partition: 0, nextOffset: 3, counts: ReplayCounts(selected: 2, reDeadLettered: 2),
            replayed: [ReplayedEvent(partition: 0, offset: 1, outcome: .reDeadLettered), ReplayedEvent(partition: 0, offset: 2, outcome: .reDeadLettered)])
        try ledger.updateProgress(
            jobID: second.id, topic: "dlq.quality", partition: 0, nextOffset: 3, counts: ReplayCounts(selected: 1, sent: 1),
            replayed: [ReplayedEvent(partition: 0, offset: 2, outcome: .sent)])
        let history = try ledger.replayHistory(topic: "dlq.quality")
        #expect(history[TopicPosition(topic: "dlq.quality", partition: 0, offset: 1)] == ReplayHistory(replays: 1, resolvedBy: nil))
        #expect(history[TopicPosition(topic: "dlq.quality", partition: 0, offset: 2)] == ReplayHistory(replays: 2, resolvedBy: second.id))
        #expect(history[TopicPosition(topic: "dlq.quality", partition: 0, offset: 0)] == nil)
    }

    private func withReason(_ record: AuditRecord, _ reason: String) -> AuditRecord {
        var copy = record
        copy.reason = reason
        return copy
    }
}
