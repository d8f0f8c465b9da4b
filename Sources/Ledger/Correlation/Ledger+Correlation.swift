import GRDB

/// Correlation table: the work orders of the compacted MES topic, kept current by every
/// instance, and per partition the next offset to read so a restart resumes instead of
/// re-reading the whole topic.
///
/// Applying changes and advancing the position happen in one transaction, so the table
/// never holds a change its position does not account for. The table mirrors the topic:
/// "active" means "not tombstoned"; what a status means is the policy's business.
extension Ledger {
    /// Applies records read from `topic` in order and moves each partition's position past
    /// the last one, in one transaction.
    public func apply(_ changes: [WorkOrderChange], from topic: String) throws {
        guard !changes.isEmpty else { return }
        try write("apply \(changes.count) work-order changes from \(topic)") { db in
            let upsert = try db.cachedStatement(sql: """
                INSERT INTO work_order (id, asset, line, status, payload, source_partition, source_offset)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET asset = excluded.asset, line = excluded.line,
                    status = excluded.status, payload = excluded.payload,
                    source_partition = excluded.source_partition, source_offset = excluded.source_offset
                """)
            let remove = try db.cachedStatement(sql: "DELETE FROM work_order WHERE id = ?")
            var nextOffsets: [Int32: Int64] = [:]
            for change in changes {
                switch change {
                case let .upsert(row):
                    try upsert.execute(arguments: [
                        row.id, row.asset, row.line, row.status, row.payload, row.sourcePartition, row.sourceOffset,
                    ])
                case let .remove(id, _, _):
                    try remove.execute(arguments: [id])
                }
                nextOffsets[change.partition] = change.offset + 1
            }
            for (partition, nextOffset) in nextOffsets {
                try Self.storePosition(topic: topic, partition: partition, nextOffset: nextOffset, db)
            }
        }
    }

    /// Applies one work-order value read from `topic`.
    public func upsertWorkOrder(_ row: WorkOrderRow, from topic: String) throws {
        try apply([.upsert(row)], from: topic)
    }

    /// Applies a tombstone read from `topic`.
    public func removeWorkOrder(id: String, from topic: String, partition: Int32, offset: Int64) throws {
        try apply([.remove(id: id, partition: partition, offset: offset)], from: topic)
    }

    /// Every work order currently on the topic, by asset then id: what warms the router's
    /// in-memory index at start.
    public func activeWorkOrders() throws -> [WorkOrderRow] {
        try read("read the active work orders") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM work_order ORDER BY asset, id").map(Self.workOrder(from:))
        }
    }

    public func workOrder(id: String) throws -> WorkOrderRow? {
        try read("read work order \(id)") { db in
            try Row.fetchOne(db, sql: "SELECT * FROM work_order WHERE id = ?", arguments: [id])
                .map(Self.workOrder(from:))
        }
    }

    /// Next offset to read per partition of `topic` (partitions never applied are absent).
    public func correlationPosition(topic: String) throws -> [Int32: Int64] {
        try read("read the correlation position of \(topic)") { db in
            var positions: [Int32: Int64] = [:]
            let rows = try Row.fetchCursor(db, sql: """
                SELECT source_partition, next_offset FROM correlation_position WHERE source_topic = ?
                """, arguments: [topic])
            while let row = try rows.next() {
                positions[row["source_partition"]] = row["next_offset"]
            }
            return positions
        }
    }

    /// Sets where reading `partition` resumes, e.g. past records that changed nothing, or
    /// back to 0 to rebuild the table from the start of the topic.
    public func setCorrelationPosition(topic: String, partition: Int32, nextOffset: Int64) throws {
        try write("set the correlation position of \(topic)[\(partition)]") { db in
            try Self.storePosition(topic: topic, partition: partition, nextOffset: nextOffset, db)
        }
    }

    // MARK: - SQL

    private static func storePosition(topic: String, partition: Int32, nextOffset: Int64, _ db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO correlation_position (source_topic, source_partition, next_offset) VALUES (?, ?, ?)
            ON CONFLICT (source_topic, source_partition) DO UPDATE SET next_offset = excluded.next_offset
            """).execute(arguments: [topic, partition, nextOffset])
    }

    private static func workOrder(from row: Row) -> WorkOrderRow {
        WorkOrderRow(
            id: row["id"], asset: row["asset"], line: row["line"], status: row["status"],
            payload: row["payload"], sourcePartition: row["source_partition"], sourceOffset: row["source_offset"]
        )
    }
}
