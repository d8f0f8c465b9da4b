import Foundation
import GRDB

/// Idempotency ledger: every output the producer confirmed, by its deterministic key
/// (source event id, rule id, target topic). Replays and redeliveries look keys up before
/// producing and skip those already here, so they never create a second business
/// transaction downstream.
extension Ledger {
    /// Records confirmed outputs in one transaction. A key seen before keeps its first
    /// position. The same transaction fills in the partition and offset of the audit
    /// outputs still waiting for that key's delivery report.
    public func recordProduced(_ outputs: [ProducedOutput]) throws {
        guard !outputs.isEmpty else { return }
        try write("record \(outputs.count) produced outputs") { db in try Self.storeProduced(outputs, db) }
    }

    public func recordProduced(_ outputs: [ProducedOutput]) async throws {
        guard !outputs.isEmpty else { return }
        try await write("record \(outputs.count) produced outputs") { db in try Self.storeProduced(outputs, db) }
    }

    /// The keys among `keys` that were already produced.
    public func producedKeys(among keys: [String]) throws -> Set<String> {
        try producedOutputs(among: keys).keys.reduce(into: []) { $0.insert($1) }
    }

    public func producedKeys(among keys: [String]) async throws -> Set<String> {
        try await producedOutputs(among: keys).keys.reduce(into: []) { $0.insert($1) }
    }

    /// Where each already-produced key among `keys` landed, so a skipped replay output can
    /// still be audited with its original position.
    public func producedOutputs(among keys: [String]) throws -> [String: ProducedOutput] {
        guard !keys.isEmpty else { return [:] }
        return try read("look up \(keys.count) idempotency keys") { db in try Self.lookUp(keys, db) }
    }

    public func producedOutputs(among keys: [String]) async throws -> [String: ProducedOutput] {
        guard !keys.isEmpty else { return [:] }
        return try await read("look up \(keys.count) idempotency keys") { db in try Self.lookUp(keys, db) }
    }

    public func wasProduced(_ key: String) throws -> Bool {
        try !producedKeys(among: [key]).isEmpty
    }

    /// Forgets outputs produced before `date`; returns how many. Keep them at least as long
    /// as the source and dead-letter topics' retention, or a replay of an old event could
    /// produce it again.
    @discardableResult
    public func pruneProduced(olderThan date: Date) throws -> Int {
        try write("prune produced outputs older than \(date)") { db in
            try db.execute(sql: "DELETE FROM produced_output WHERE produced_at < ?", arguments: [date])
            return db.changesCount
        }
    }

    // MARK: - SQL

    static func storeProduced(_ outputs: [ProducedOutput], _ db: Database) throws {
        let insert = try DirectWrite(db, sql: """
            INSERT INTO produced_output (idempotency_key, target_topic, target_partition, target_offset, produced_at)
            VALUES (?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING
            """)
        let deliver = try DirectWrite(db, sql: """
            UPDATE audit_output SET target_partition = ?, target_offset = ?
            WHERE idempotency_key = ? AND target_topic = ? AND target_offset IS NULL
            """)
        // Entries read from the audit topic carry their outputs' positions already: most batches
        // leave no output waiting for one, and then no update can match. One look at the
        // partial index saves an update per output (a fifth of the audit indexer's SQLite time).
        let fillsPositions = try !outputs.isEmpty && hasPendingOutputs(db)
        for output in outputs {
            try insert.execute { row in
                row.add(output.idempotencyKey); row.add(output.topic); row.add(Int64(output.partition)); row.add(output.offset)
                row.add(output.producedAt)
            }
            if fillsPositions {
                try deliver.execute { row in
                    row.add(Int64(output.partition)); row.add(output.offset); row.add(output.idempotencyKey); row.add(output.topic)
                }
            }
        }
    }

    /// Whether any audit output still waits for its position (read from the partial index
    /// `audit_output_pending`, which holds exactly those).
    private static func hasPendingOutputs(_ db: Database) throws -> Bool {
        let select = try db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM audit_output WHERE target_offset IS NULL)")
        return try Bool.fetchOne(select) ?? true
    }

    // One cached point lookup per key: as fast as an IN list for router-sized batches, with
    // no limit on the number of SQL variables.
    private static func lookUp(_ keys: [String], _ db: Database) throws -> [String: ProducedOutput] {
        let select = try db.cachedStatement(sql: """
            SELECT target_topic, target_partition, target_offset, produced_at
            FROM produced_output WHERE idempotency_key = ?
            """)
        var found: [String: ProducedOutput] = [:]
        for key in keys where found[key] == nil {
            if let row = try Row.fetchOne(select, arguments: [key]) {
                found[key] = ProducedOutput(
                    idempotencyKey: key, topic: row["target_topic"], partition: row["target_partition"],
                    // Times are text in the file: one that does not parse throws instead of trapping.
                    offset: row["target_offset"], producedAt: try row.decode(forColumn: "produced_at")
                )
            }
        }
        return found
    }
}
