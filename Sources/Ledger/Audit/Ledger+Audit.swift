import Foundation
import GRDB

/// Audit trail: the router appends decisions in batches; `trail(for:)` reads them back.
///
/// Outputs are written together with the decision, since their topics and idempotency keys
/// are known then. The partition and offset come later with the delivery report:
/// `recordProduced` fills them in by idempotency key, so the router never has to remember
/// which audit row an in-flight message belongs to.
extension Ledger {
    /// Appends `records` and their outputs in one transaction.
    public func append(_ records: [AuditRecord]) throws {
        guard !records.isEmpty else { return }
        try write("append \(records.count) audit records") { db in
            try Self.insert(records, db)
        }
    }

    /// Appends `records`, then fills in the positions of `produced` outputs, in one
    /// transaction: a failed write leaves neither half behind, so it can simply be tried again.
    public func record(_ records: [AuditRecord], produced: [ProducedOutput]) throws {
        guard !records.isEmpty || !produced.isEmpty else { return }
        try write("append \(records.count) audit records and \(produced.count) produced outputs") { db in
            try Self.insert(records, db)
            try Self.storeProduced(produced, db)
        }
    }

    public func append(_ records: [AuditRecord]) async throws {
        guard !records.isEmpty else { return }
        try await write("append \(records.count) audit records") { db in
            try Self.insert(records, db)
        }
    }

    /// Every record whose event id or correlation id (work order) is `id`, ordered by
    /// `recordedAt`, then source offset, then insertion. Reads the whole trail into memory:
    /// for large trails use `trail(_:_:)`, which streams.
    public func trail(for id: String) throws -> [AuditRecord] {
        var records: [AuditRecord] = []
        try trail(TrailQuery(id: id)) { record, _ in records.append(record); return true }
        return records
    }

    public func trail(for id: String) async throws -> [AuditRecord] {
        try await trailPage(TrailQuery(id: id)).records
    }

    /// Deletes audit records older than `date` (with their outputs); returns how many.
    @discardableResult
    public func pruneAudit(olderThan date: Date) throws -> Int {
        try write("prune audit records older than \(date)") { db in
            try db.execute(sql: "DELETE FROM audit_event WHERE recorded_at < ?", arguments: [date])
            return db.changesCount
        }
    }

    // MARK: - SQL

    static func insert(_ records: [AuditRecord], _ db: Database) throws {
        let insertEvent = try DirectWrite(db, sql: """
            INSERT INTO audit_event (record_id, event_id, lane, source_topic, source_partition, source_offset,
                event_type, event_source, correlation_id, rule_id, policy_version, outcome, reason, recorded_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT DO NOTHING
            """)
        let insertOutput = try DirectWrite(db, sql: """
            INSERT INTO audit_output (audit_id, ordinal, target_topic, target_partition, target_offset, idempotency_key)
            VALUES (?, ?, ?, ?, ?, ?)
            """)
        for record in records {
            try insertEvent.execute { row in
                row.add(record.recordID); row.add(record.eventID); row.add(record.lane); row.add(record.sourceTopic)
                row.add(Int64(record.sourcePartition)); row.add(record.sourceOffset); row.add(record.eventType)
                row.add(record.eventSource); row.add(record.correlationID); row.add(record.ruleID); row.add(record.policyVersion)
                row.add(record.outcome.rawValue); row.add(record.reason); row.add(record.recordedAt)
            }
            // Already stored under its record id (written here, then read back from the audit topic).
            guard db.changesCount > 0 else { continue }
            let auditID = db.lastInsertedRowID
            for (ordinal, output) in record.outputs.enumerated() {
                try insertOutput.execute { row in
                    row.add(auditID); row.add(Int64(ordinal)); row.add(output.topic)
                    row.add(output.partition.map(Int64.init)); row.add(output.offset); row.add(output.idempotencyKey)
                }
            }
        }
    }

    static func record(from row: Row) throws -> AuditRecord {
        let outcomeText: String = row["outcome"]
        guard let outcome = AuditOutcome(rawValue: outcomeText) else {
            throw DatabaseError(resultCode: .SQLITE_CORRUPT, message: "unknown audit outcome '\(outcomeText)'")
        }
        return AuditRecord(
            recordID: row["record_id"],
            eventID: row["event_id"],
            lane: row["lane"],
            sourceTopic: row["source_topic"],
            sourcePartition: row["source_partition"],
            sourceOffset: row["source_offset"],
            eventType: row["event_type"],
            eventSource: row["event_source"],
            correlationID: row["correlation_id"],
            ruleID: row["rule_id"],
            policyVersion: row["policy_version"],
            outcome: outcome,
            reason: row["reason"],
            // Times are text in the file: one that does not parse throws instead of trapping.
            recordedAt: try row.decode(forColumn: "recorded_at"),
            outputs: []
        )
    }
}
