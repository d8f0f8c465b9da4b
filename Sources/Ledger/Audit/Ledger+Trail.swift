import Foundation
import GRDB

/// Reading trails at any size: records stream from SQLite one at a time in index order, so
/// the first one is ready as soon as SQLite finds it and memory does not grow with the trail.
extension Ledger {
    /// Calls `visit` with each record of `query`'s trail, in order, with the cursor that
    /// continues after it, until `visit` returns false or `query.limit` records were visited.
    /// Runs inside one read transaction (a consistent snapshot; writers are never blocked).
    public func trail(_ query: TrailQuery, _ visit: (AuditRecord, TrailCursor) throws -> Bool) throws {
        try read("read the audit trail of \(query.id)") { db in try Self.streamTrail(query, db, visit) }
    }

    /// One page of `query`'s trail: at most `query.limit` records (all when nil) and the cursor
    /// of the next page when more follow.
    public func trailPage(_ query: TrailQuery) async throws -> TrailPage {
        try await read("read the audit trail of \(query.id)") { db in
            var page = TrailPage(records: [], next: nil)
            var probe = query
            // One record more than asked tells whether another page follows.
            probe.limit = query.limit.map { $0 &+ 1 }
            var last: TrailCursor?
            try Self.streamTrail(probe, db) { record, cursor in
                if let limit = query.limit, page.records.count >= limit {
                    page.next = last
                    return false
                }
                page.records.append(record)
                last = cursor
                return true
            }
            return page
        }
    }

    /// The Kafka positions of `id`'s trail (source events and recorded outputs): what
    /// `--correlation-id` selects in `dlq` and `replay`.
    public func trailMembers(of id: String) throws -> TrailMembers {
        try read("read the audit trail of \(id)") { db in try Self.members(id, db) }
    }

    public func trailMembers(of id: String) async throws -> TrailMembers {
        try await read("read the audit trail of \(id)") { db in try Self.members(id, db) }
    }

    // MARK: - SQL

    private static func members(_ id: String, _ db: Database) throws -> TrailMembers {
        var members = TrailMembers(id: id)
        try streamTrail(TrailQuery(id: id), db) { record, _ in
            members.sources.insert(TopicPosition(topic: record.sourceTopic, partition: record.sourcePartition, offset: record.sourceOffset))
            for output in record.outputs {
                if let partition = output.partition, let offset = output.offset {
                    members.outputs.insert(TopicPosition(topic: output.topic, partition: partition, offset: offset))
                }
            }
            return true
        }
        return members
    }

    /// The records correlated to the id stream from `audit_event_by_correlation_id`; the few
    /// whose event id is the id (and that are correlated elsewhere) are read first from
    /// `audit_event_by_event_id` and merged in by sort key. Both queries return rows in index
    /// order, outputs of a record adjacent, so nothing is sorted and nothing accumulates.
    static func streamTrail(_ query: TrailQuery, _ db: Database, _ visit: (AuditRecord, TrailCursor) throws -> Bool) throws {
        if let limit = query.limit, limit <= 0 { return }
        var byEventID: [(AuditRecord, TrailCursor)] = []
        try readRecords(query, selecting: eventWithID, db) { record, cursor in
            byEventID.append((record, cursor))
            return query.limit.map { byEventID.count < $0 } ?? true
        }
        var pending = byEventID[...]
        var visited = 0
        func emit(_ record: AuditRecord, _ cursor: TrailCursor) throws -> Bool {
            visited &+= 1
            guard try visit(record, cursor) else { return false }
            return query.limit.map { visited < $0 } ?? true
        }
        var going = true
        try readRecords(query, selecting: correlatedToID, db) { record, cursor in
            while let (earlier, at) = pending.first, at < cursor {
                pending = pending.dropFirst()
                guard try emit(earlier, at) else { going = false; return false }
            }
            going = try emit(record, cursor)
            return going
        }
        while going, let (record, cursor) = pending.first {
            pending = pending.dropFirst()
            going = try emit(record, cursor)
        }
    }

    /// The two selections of a trail (see `streamTrail`).
    static let correlatedToID = "e.correlation_id = ?"
    static let eventWithID = "e.event_id = ? AND e.correlation_id IS NOT ?"

    /// The statement that reads the records matching `condition` (bound to the id, once per
    /// `?`) and the query's filters, in trail order with their outputs.
    static func trailStatement(_ query: TrailQuery, selecting condition: String) -> (sql: String, arguments: StatementArguments) {
        var clauses = [condition]
        var arguments = StatementArguments(Array(repeating: query.id, count: condition.components(separatedBy: "?").count - 1))
        if let since = query.since { clauses.append("e.recorded_at >= ?"); arguments += [since] }
        if let until = query.until { clauses.append("e.recorded_at < ?"); arguments += [until] }
        if let type = query.type {
            if type.hasSuffix("*") {
                let prefix = String(type.dropLast())
                clauses.append("substr(e.event_type, 1, ?) = ?")
                arguments += [prefix.unicodeScalars.count, prefix]
            } else {
                clauses.append("e.event_type = ?")
                arguments += [type]
            }
        }
        if let outcome = query.outcome { clauses.append("e.outcome = ?"); arguments += [outcome.rawValue] }
        if let after = query.after {
            clauses.append("(e.recorded_at, e.source_offset, e.id) > (?, ?, ?)")
            arguments += [after.recordedAt, after.sourceOffset, after.rowID]
        }
        let sql = """
            SELECT e.*, CAST(e.recorded_at AS TEXT) AS recorded_at_text,
                o.ordinal, o.target_topic, o.target_partition, o.target_offset, o.idempotency_key
            FROM audit_event e
            LEFT JOIN audit_output o ON o.audit_id = e.id
            WHERE \(clauses.joined(separator: " AND "))
            ORDER BY e.recorded_at, e.source_offset, e.id, o.ordinal
            """
        return (sql, arguments)
    }

    /// Streams the records matching `condition` and the query's filters.
    private static func readRecords(
        _ query: TrailQuery, selecting condition: String, _ db: Database,
        _ visit: (AuditRecord, TrailCursor) throws -> Bool
    ) throws {
        let statement = trailStatement(query, selecting: condition)
        let rows = try Row.fetchCursor(db, sql: statement.sql, arguments: statement.arguments)
        // Outputs of a record are adjacent: a record is complete when the next one starts.
        var current: (record: AuditRecord, cursor: TrailCursor)?
        while let row = try rows.next() {
            let rowID: Int64 = row["id"]
            if current?.cursor.rowID != rowID {
                if let done = current, try !visit(done.record, done.cursor) { return }
                current = (try record(from: row), TrailCursor(recordedAt: row["recorded_at_text"], sourceOffset: row["source_offset"], rowID: rowID))
            }
            if let key: String = row["idempotency_key"] {
                current?.record.outputs.append(AuditOutput(
                    topic: row["target_topic"], partition: row["target_partition"], offset: row["target_offset"], idempotencyKey: key))
            }
        }
        if let done = current { _ = try visit(done.record, done.cursor) }
    }
}
