import Foundation
import GRDB

/// The ledger as an index of the audit topic: entries read from it are applied together with
/// the next offset of their partition, in one transaction, so the index never holds an entry
/// its position does not account for and a restart resumes where it stopped. Deleting the
/// file starts the index from the topic's beginning: it is rebuilt.
extension Ledger {
    /// One entry read from the audit topic, at its position.
    public struct IndexedAuditEntry: Sendable {
        public var partition: Int32
        public var offset: Int64
        /// Nil for a record that was not an entry (skipped, but its offset still counts as read).
        public var entry: AuditEntry?

        public init(partition: Int32, offset: Int64, entry: AuditEntry?) {
            self.partition = partition
            self.offset = offset
            self.entry = entry
        }
    }

    /// Applies `entries` and moves each partition's position to `positions` (or past its last
    /// entry), in one transaction. Decisions already stored under their record id are skipped;
    /// positions only move forward, so two readers of one file never move them back.
    public func applyAudit(_ entries: [IndexedAuditEntry], positions: [Int32: Int64], topic: String) throws {
        guard !entries.isEmpty || !positions.isEmpty else { return }
        try write("index \(entries.count) audit entries from \(topic)") { db in
            var next = positions
            var records: [AuditRecord] = []
            var produced: [ProducedOutput] = []
            for indexed in entries {
                next[indexed.partition] = max(next[indexed.partition] ?? 0, indexed.offset + 1)
                guard let entry = indexed.entry else { continue }
                if let record = entry.record { records.append(record) }
                produced += entry.produced
            }
            try Self.insert(records, db)
            try Self.storeProduced(produced, db)
            let store = try db.cachedStatement(sql: """
                INSERT INTO audit_index_position (source_topic, source_partition, next_offset) VALUES (?, ?, ?)
                ON CONFLICT (source_topic, source_partition) DO UPDATE SET next_offset = max(next_offset, excluded.next_offset)
                """)
            for (partition, offset) in next { try store.execute(arguments: [topic, partition, offset]) }
        }
    }

    /// Per partition of the audit topic `topic`, the next offset the index reads.
    public func auditIndexPositions(topic: String) throws -> [Int32: Int64] {
        try read("read the audit index position of \(topic)") { db in
            var positions: [Int32: Int64] = [:]
            let rows = try Row.fetchCursor(db, sql: """
                SELECT source_partition, next_offset FROM audit_index_position WHERE source_topic = ?
                """, arguments: [topic])
            while let row = try rows.next() { positions[row["source_partition"]] = row["next_offset"] }
            return positions
        }
    }
}
