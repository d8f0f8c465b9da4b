import Foundation
import GRDB

/// Replay jobs (issue 5): every job is recorded, and per source partition the next offset
/// to read, so a killed job resumes exactly where its last checkpoint left it.
///
/// `replay_event` (issue 16) records what a real job did with each record it selected, for
/// `dlq list` (replays, resolved). It is not what keeps a replay from sending twice: written
/// with the checkpoint, after the send, it has the checkpoint's crash window. Two things
/// together do that:
/// - `updateProgress` is the checkpoint. It moves the partition's next offset, adds the
///   counts and records the batch's confirmed outputs in the idempotency ledger, all in one
///   SQLite transaction, after the batch's delivery reports arrived. A resumed job starts at
///   the checkpoint, never before it.
/// - Every output carries its deterministic idempotency key, and the replay skips keys the
///   ledger shows produced (`producedKeys`): by the router originally, or by an earlier run
///   of this job. That is also what makes replaying an event that had in fact succeeded a
///   no-op.
/// What remains is the batch in flight when the process dies: acknowledged by Kafka, not yet
/// checkpointed. It is re-sent with the same idempotency keys, so downstream sees the same
/// business transactions. A runner that must close even that window commits the source
/// offsets in the Kafka transaction of its producer (a consumer group per job) and treats
/// this table as the mirror that `replay status` reads.
extension Ledger {
    /// Records a new pending job and returns it.
    public func createJob(_ request: ReplayJobRequest) throws -> ReplayJob {
        let job = Self.newJob(request)
        try write("create replay job for \(request.source.topic)") { db in try Self.insert(job, db) }
        return job
    }

    public func createJob(_ request: ReplayJobRequest) async throws -> ReplayJob {
        let job = Self.newJob(request)
        try await write("create replay job for \(request.source.topic)") { db in try Self.insert(job, db) }
        return job
    }

    public func job(id: String) throws -> ReplayJob? {
        try read("read replay job \(id)") { db in try Self.fetchJob(id, db) }
    }

    public func job(id: String) async throws -> ReplayJob? {
        try await read("read replay job \(id)") { db in try Self.fetchJob(id, db) }
    }

    /// The most recent jobs first.
    public func jobs(limit: Int = 50) throws -> [ReplayJob] {
        try read("list replay jobs") { db in try Self.fetchJobs(limit, db) }
    }

    public func jobs(limit: Int = 50) async throws -> [ReplayJob] {
        try await read("list replay jobs") { db in try Self.fetchJobs(limit, db) }
    }

    /// Where the job stands in each source partition it has read.
    public func progress(jobID: String) throws -> [ReplayProgress] {
        try read("read the progress of replay job \(jobID)") { db in try Self.fetchProgress(jobID, db) }
    }

    public func progress(jobID: String) async throws -> [ReplayProgress] {
        try await read("read the progress of replay job \(jobID)") { db in try Self.fetchProgress(jobID, db) }
    }

    /// Checkpoints a batch in one transaction: the partition's next offset, the counts added
    /// by the batch, the outputs it produced (into the idempotency ledger) and what it did
    /// with each selected event (`replayed`, for `replayHistory`; empty for dry runs).
    /// Returns the job as it now stands: a runner stops when it sees `cancelling` or
    /// `cancelled` (progress is recorded whatever the state, since the batch was sent).
    @discardableResult
    public func updateProgress(
        jobID: String, topic: String, partition: Int32, nextOffset: Int64,
        counts delta: ReplayCounts, produced: [ProducedOutput] = [], replayed: [ReplayedEvent] = []
    ) throws -> ReplayJob {
        let path = path
        return try write("checkpoint replay job \(jobID) at \(topic)[\(partition)]@\(nextOffset)") { db in
            try Self.checkpoint(jobID, topic, partition, nextOffset, delta, produced, replayed, path: path, db)
        }
    }

    @discardableResult
    public func updateProgress(
        jobID: String, topic: String, partition: Int32, nextOffset: Int64,
        counts delta: ReplayCounts, produced: [ProducedOutput] = [], replayed: [ReplayedEvent] = []
    ) async throws -> ReplayJob {
        let path = path
        return try await write("checkpoint replay job \(jobID) at \(topic)[\(partition)]@\(nextOffset)") { db in
            try Self.checkpoint(jobID, topic, partition, nextOffset, delta, produced, replayed, path: path, db)
        }
    }

    /// Moves the job to `state` if its current state allows it (`ReplayJobState.allowedNextStates`);
    /// `error` becomes its `lastError` when given.
    @discardableResult
    public func setState(jobID: String, to state: ReplayJobState, error: String? = nil) throws -> ReplayJob {
        let path = path
        return try write("set replay job \(jobID) to \(state.rawValue)") { db in
            try Self.transition(jobID, to: state, error: error, path: path, db)
        }
    }

    @discardableResult
    public func setState(jobID: String, to state: ReplayJobState, error: String? = nil) async throws -> ReplayJob {
        let path = path
        return try await write("set replay job \(jobID) to \(state.rawValue)") { db in
            try Self.transition(jobID, to: state, error: error, path: path, db)
        }
    }

    /// Cancels a job: a pending, paused or failed one at once (`cancelled`); a running one
    /// becomes `cancelling` and its runner moves it to `cancelled` when it has stopped; a
    /// second cancel of a `cancelling` job (whose runner died) marks it `cancelled`. Final
    /// states are an `invalidJobTransition`.
    @discardableResult
    public func cancel(jobID: String) throws -> ReplayJob {
        let path = path
        return try write("cancel replay job \(jobID)") { db in try Self.cancel(jobID, path: path, db) }
    }

    @discardableResult
    public func cancel(jobID: String) async throws -> ReplayJob {
        let path = path
        return try await write("cancel replay job \(jobID)") { db in try Self.cancel(jobID, path: path, db) }
    }

    /// How often real jobs replayed each record of `topic` they selected, and which job
    /// delivered it (dry runs record nothing). Keyed by partition and offset.
    public func replayHistory(topic: String) throws -> [TopicPosition: ReplayHistory] {
        try read("read the replay history of \(topic)") { db in try Self.history(topic, db) }
    }

    public func replayHistory(topic: String) async throws -> [TopicPosition: ReplayHistory] {
        try await read("read the replay history of \(topic)") { db in try Self.history(topic, db) }
    }

    // MARK: - SQL

    private static func newJob(_ request: ReplayJobRequest) -> ReplayJob {
        let now = Date()
        return ReplayJob(
            id: UUID().uuidString.lowercased(), requestedBy: request.requestedBy, createdAt: now, updatedAt: now,
            mode: request.mode, source: request.source, filters: request.filters, dryRun: request.dryRun,
            rateLimit: request.rateLimit, state: .pending, counts: .zero, lastError: nil
        )
    }

    private static func insert(_ job: ReplayJob, _ db: Database) throws {
        try db.execute(sql: """
            INSERT INTO replay_job (id, requested_by, created_at, updated_at, mode, source, filters, dry_run,
                rate_limit, state)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [
                job.id, job.requestedBy, job.createdAt, job.updatedAt, job.mode.rawValue,
                try ReplaySourceCoding.encode(job.source), job.filters, job.dryRun, job.rateLimit, job.state.rawValue,
            ])
    }

    private static func checkpoint(
        _ jobID: String, _ topic: String, _ partition: Int32, _ nextOffset: Int64, _ delta: ReplayCounts,
        _ produced: [ProducedOutput], _ replayed: [ReplayedEvent], path: String, _ db: Database
    ) throws -> ReplayJob {
        try db.execute(sql: """
            UPDATE replay_job SET selected = selected + ?, filtered = filtered + ?, sent = sent + ?,
                skipped_already_produced = skipped_already_produced + ?, re_dead_lettered = re_dead_lettered + ?,
                quarantined = quarantined + ?, refused = refused + ?, updated_at = ?
            WHERE id = ?
            """, arguments: [
                delta.selected, delta.filtered, delta.sent, delta.skippedAlreadyProduced, delta.reDeadLettered,
                delta.quarantined, delta.refused, Date(), jobID,
            ])
        guard db.changesCount == 1 else { throw LedgerError.jobNotFound(id: jobID, path: path) }
        try db.execute(sql: """
            INSERT INTO replay_progress (job_id, source_topic, source_partition, next_offset) VALUES (?, ?, ?, ?)
            ON CONFLICT (job_id, source_topic, source_partition) DO UPDATE SET next_offset = excluded.next_offset
            """, arguments: [jobID, topic, partition, nextOffset])
        try storeProduced(produced, db)
        let now = Date()
        for event in replayed {
            try db.execute(sql: """
                INSERT INTO replay_event (source_topic, source_partition, source_offset, job_id, outcome, replayed_at)
                VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT DO UPDATE SET outcome = excluded.outcome, replayed_at = excluded.replayed_at
                """, arguments: [topic, event.partition, event.offset, jobID, event.outcome.rawValue, now])
        }
        return try requireJob(jobID, path: path, db)
    }

    private static func cancel(_ jobID: String, path: String, _ db: Database) throws -> ReplayJob {
        let current = try requireJob(jobID, path: path, db)
        let next: ReplayJobState = current.state == .running ? .cancelling : .cancelled
        return try transition(jobID, to: next, error: nil, path: path, db)
    }

    private static func history(_ topic: String, _ db: Database) throws -> [TopicPosition: ReplayHistory] {
        var found: [TopicPosition: ReplayHistory] = [:]
        let delivered = ReplayEventOutcome.allCases.filter(\.delivered).map { "'\($0.rawValue)'" }.joined(separator: ", ")
        let rows = try Row.fetchCursor(db, sql: """
            SELECT source_partition, source_offset, count(*) AS replays,
                max(CASE WHEN outcome IN (\(delivered)) THEN job_id END) AS resolved_by
            FROM replay_event WHERE source_topic = ?
            GROUP BY source_partition, source_offset
            """, arguments: [topic])
        while let row = try rows.next() {
            found[TopicPosition(topic: topic, partition: row["source_partition"], offset: row["source_offset"])] =
                ReplayHistory(replays: row["replays"], resolvedBy: row["resolved_by"])
        }
        return found
    }

    private static func transition(
        _ jobID: String, to state: ReplayJobState, error: String?, path: String, _ db: Database
    ) throws -> ReplayJob {
        let current = try requireJob(jobID, path: path, db)
        guard current.state.allowedNextStates.contains(state) else {
            throw LedgerError.invalidJobTransition(id: jobID, from: current.state, to: state, path: path)
        }
        try db.execute(
            sql: "UPDATE replay_job SET state = ?, last_error = coalesce(?, last_error), updated_at = ? WHERE id = ?",
            arguments: [state.rawValue, error, Date(), jobID]
        )
        return try requireJob(jobID, path: path, db)
    }

    private static func requireJob(_ id: String, path: String, _ db: Database) throws -> ReplayJob {
        guard let job = try fetchJob(id, db) else { throw LedgerError.jobNotFound(id: id, path: path) }
        return job
    }

    private static func fetchJob(_ id: String, _ db: Database) throws -> ReplayJob? {
        try Row.fetchOne(db, sql: "SELECT * FROM replay_job WHERE id = ?", arguments: [id]).map(job(from:))
    }

    private static func fetchJobs(_ limit: Int, _ db: Database) throws -> [ReplayJob] {
        try Row.fetchAll(db, sql: "SELECT * FROM replay_job ORDER BY created_at DESC, rowid DESC LIMIT ?",
                         arguments: [limit]).map(job(from:))
    }

    private static func fetchProgress(_ jobID: String, _ db: Database) throws -> [ReplayProgress] {
        try Row.fetchAll(db, sql: """
            SELECT source_topic, source_partition, next_offset FROM replay_progress
            WHERE job_id = ? ORDER BY source_topic, source_partition
            """, arguments: [jobID]).map {
            ReplayProgress(topic: $0["source_topic"], partition: $0["source_partition"], nextOffset: $0["next_offset"])
        }
    }

    private static func job(from row: Row) throws -> ReplayJob {
        let id: String = row["id"]
        func decode<T: RawRepresentable<String>>(_ column: String, as _: T.Type) throws -> T {
            let text: String = row[column]
            guard let value = T(rawValue: text) else {
                throw DatabaseError(resultCode: .SQLITE_CORRUPT, message: "replay job \(id): unknown \(column) '\(text)'")
            }
            return value
        }
        return ReplayJob(
            id: id, requestedBy: row["requested_by"], createdAt: row["created_at"], updatedAt: row["updated_at"],
            mode: try decode("mode", as: ReplayMode.self), source: try ReplaySourceCoding.decode(row["source"]),
            filters: row["filters"], dryRun: row["dry_run"], rateLimit: row["rate_limit"],
            state: try decode("state", as: ReplayJobState.self),
            counts: ReplayCounts(
                selected: row["selected"], filtered: row["filtered"], sent: row["sent"],
                skippedAlreadyProduced: row["skipped_already_produced"], reDeadLettered: row["re_dead_lettered"],
                quarantined: row["quarantined"], refused: row["refused"]
            ),
            lastError: row["last_error"]
        )
    }
}

/// The `source` column holds the `ReplaySource` as JSON, readable with SQLite's json functions.
private enum ReplaySourceCoding {
    static func encode(_ source: ReplaySource) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(source), as: UTF8.self)
    }

    static func decode(_ text: String) throws -> ReplaySource {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(ReplaySource.self, from: Data(text.utf8))
    }
}
