import Foundation
import GRDB
import GRDBSQLite
import Kafka
import Synchronization

/// The edge's durable spool: every event a gateway was answered 202 for, until the enterprise
/// cluster has acknowledged it.
///
/// Why SQLite in WAL mode through GRDB rather than segment files: one transaction makes a whole
/// batch durable or none of it, and the same transaction updates the quota accounting and the
/// counters; WAL with `synchronous=FULL` survives a process crash and a power cut without a
/// recovery pass of ours; shedding "oldest telemetry" and "oldest business first" are indexed
/// queries instead of segment bookkeeping; it is one file an operator can copy or open read-only
/// (`plantrouter edge status`); and GRDB is already a dependency. The cost is a B-tree insert
/// and delete per event (the table and its one index, `(class, seq)`), which the measured
/// ingest and drain rates leave room for.
///
/// Concurrency: `DatabasePool` serialises writers; HTTP handlers append from the cooperative
/// pool through GRDB's async API (GRDB's own queue does the blocking), the forwarder claims and
/// acknowledges from its own thread. The in-memory quota usage and claim cursors are changed
/// only inside write transactions, so they follow the writer's order.
public final class Spool: Sendable {
    private let pool: DatabasePool
    private let quota: [PriorityClass: Int64]
    private let synchronousFull: Bool
    private let checkpointer: SpoolCheckpointer
    private let state: Mutex<State>
    /// The claim's row reader and its cached names and headers (the forwarder's thread only).
    private let rowReader = Mutex(SpoolRowReader())

    struct State: Sendable {
        /// Bytes per class, as counted against the quota (committed rows only).
        var usage: [PriorityClass: Int64] = [:]
        /// Bumped by every append and reset; a claim that found nothing remembers it, so an
        /// idle forwarder does not open a write transaction every few milliseconds.
        var generation: Int64 = 0
        var emptyAtGeneration: Int64 = -1
        /// Spooled events and bytes per lane, so `/metrics` never scans the spool.
        var lanes: [String: LaneDepth] = [:]
        /// Highest seq per class already handed to the forwarder since the last reset.
        var cursor: [PriorityClass: Int64] = [:]
    }

    struct LaneDepth: Sendable {
        var events: Int64 = 0
        var bytes: Int64 = 0
        /// The lane's class code: its oldest event is found through the `(class, seq)` index.
        var classCode = PriorityClass.business.code
    }

    /// An event ready to spool.
    public struct Incoming: Sendable {
        public var priority: PriorityClass
        public var lane: String
        public var topic: String
        public var key: [UInt8]?
        public var value: [UInt8]
        public var headers: [KafkaHeader]
        public var eventID: String
        /// Rejected by the edge policy (goes to the lane's dead-letter topic); counted as such.
        public var rejected: Bool

        public init(priority: PriorityClass, lane: String, topic: String, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader], eventID: String, rejected: Bool) {
            self.priority = priority
            self.lane = lane
            self.topic = topic
            self.key = key
            self.value = value
            self.headers = headers
            self.eventID = eventID
            self.rejected = rejected
        }
    }

    public enum AppendOutcome: Sendable, Equatable {
        /// Durable. `shed` older telemetry events were deleted to make room.
        case spooled(shed: Int)
        /// The class's quota is reached and nothing could be shed: nothing was written.
        case full(PriorityClass)
    }

    public init(path: String, quota: [PriorityClass: Int64], synchronousFull: Bool = true) throws {
        var configuration = Configuration()
        let synchronous = synchronousFull ? "FULL" : "NORMAL"
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
            // The drain deletes what the claims just read and appends add behind it: with SQLite's
            // default 2 MB page cache those pages were read back with a pread each (perf). 64 MB
            // and memory-mapped reads keep the working set of a busy drain in memory.
            try db.execute(sql: "PRAGMA cache_size = -65536")
            try db.execute(sql: "PRAGMA mmap_size = 268435456")
            // Checkpoints run on SpoolCheckpointer's thread; the automatic one (in whichever
            // commit crosses it) only as a safety net should that thread fall behind.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 16384")
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        checkpointer = SpoolCheckpointer(path: path)
        self.quota = quota
        self.synchronousFull = synchronousFull
        try pool.write { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS spool(
                  seq INTEGER PRIMARY KEY AUTOINCREMENT,
                  class INTEGER NOT NULL,
                  lane TEXT NOT NULL,
                  topic TEXT NOT NULL,
                  key BLOB,
                  value BLOB NOT NULL,
                  headers BLOB NOT NULL,
                  event_id TEXT NOT NULL,
                  arrived_ms INTEGER NOT NULL,
                  bytes INTEGER NOT NULL);
                CREATE INDEX IF NOT EXISTS spool_class_seq ON spool(class, seq);
                DROP INDEX IF EXISTS spool_lane_seq;
                CREATE TABLE IF NOT EXISTS counters(
                  kind TEXT NOT NULL, lane TEXT NOT NULL, value INTEGER NOT NULL,
                  PRIMARY KEY(kind, lane));
                """)
        }
        let (usage, lanes) = try pool.read { db in (try Self.usage(db), try Self.laneDepths(db)) }
        state = Mutex(State(usage: usage, lanes: lanes))
    }

    deinit { checkpointer.stop() }

    private static func laneDepths(_ db: Database) throws -> [String: LaneDepth] {
        var lanes: [String: LaneDepth] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT lane, COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS b, MIN(class) AS c FROM spool GROUP BY lane") {
            lanes[row["lane"]] = LaneDepth(events: row["n"], bytes: row["b"], classCode: row["c"])
        }
        return lanes
    }

    private static func usage(_ db: Database) throws -> [PriorityClass: Int64] {
        var usage: [PriorityClass: Int64] = [:]
        for priority in PriorityClass.allCases {
            usage[priority] = try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(bytes), 0) FROM spool WHERE class = ?", arguments: [priority.code]) ?? 0
        }
        return usage
    }

    private static func bump(_ db: Database, _ kind: String, _ lane: String, by amount: Int) throws {
        guard amount > 0 else { return }
        try db.execute(
            sql: "INSERT INTO counters(kind, lane, value) VALUES (?, ?, ?) ON CONFLICT(kind, lane) DO UPDATE SET value = value + excluded.value",
            arguments: [kind, lane, amount])
    }

    // MARK: Ingest

    /// Spools `items` in one transaction, all or nothing. Business events never displace
    /// anything: past the business quota the whole request is refused (`.full`). Telemetry
    /// past its quota sheds the oldest telemetry not yet handed to the producer. `downsampled`
    /// (events per lane the edge dropped from the same request) is counted in the same transaction.
    public func append(_ items: [Incoming], downsampled: [String: Int] = [:], nowMs: Int64) async throws -> AppendOutcome {
        let quota = self.quota
        do {
            return try await pool.write { db in
                var need: [PriorityClass: Int64] = [:]
                let sizes = items.map { SpoolEntry.size(key: $0.key, value: $0.value, headers: $0.headers) }
                for (item, size) in zip(items, sizes) { need[item.priority, default: 0] += size }
                let snapshot = self.state.withLock { $0 }
                if let needed = need[.business], needed > 0,
                   snapshot.usage[.business, default: 0] + needed > quota[.business, default: .max] {
                    return .full(.business)
                }
                var shed = 0
                var freed: Int64 = 0
                var shedLanes: [String: LaneDepth] = [:]
                if let needed = need[.telemetry], needed > 0 {
                    let limit = quota[.telemetry, default: .max]
                    var over = snapshot.usage[.telemetry, default: 0] + needed - limit
                    if needed > limit { return .full(.telemetry) }
                    let cursor = snapshot.cursor[.telemetry, default: 0]
                    while over > 0 {
                        let rows = try Row.fetchAll(db, sql: "SELECT seq, lane, bytes FROM spool WHERE class = ? AND seq > ? ORDER BY seq LIMIT 256",
                                                    arguments: [PriorityClass.telemetry.code, cursor])
                        if rows.isEmpty { return .full(.telemetry) }
                        var seqs: [Int64] = []
                        var perLane: [String: Int] = [:]
                        for row in rows where over > 0 {
                            let bytes: Int64 = row["bytes"]
                            let lane: String = row["lane"]
                            seqs.append(row["seq"])
                            perLane[lane, default: 0] += 1
                            shedLanes[lane, default: LaneDepth()].events += 1
                            shedLanes[lane, default: LaneDepth()].bytes += bytes
                            over -= bytes
                            freed += bytes
                        }
                        try db.execute(sql: "DELETE FROM spool WHERE seq IN (\(seqs.map { _ in "?" }.joined(separator: ",")))", arguments: StatementArguments(seqs))
                        for (lane, count) in perLane { try Self.bump(db, "shed", lane, by: count) }
                        shed += seqs.count
                    }
                }
                // Bound straight from the arrays (SQLITE_STATIC, cleared before the buffers go):
                // GRDB's arguments copied each value into Data and a DatabaseValue first.
                let insert = try db.cachedStatement(sql: """
                    INSERT INTO spool(class, lane, topic, key, value, headers, event_id, arrived_ms, bytes)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """).sqliteStatement
                var rejected: [String: Int] = [:]
                var added: [String: LaneDepth] = [:]
                for (item, size) in zip(items, sizes) {
                    let headers = HeaderCoding.encodeBytes(item.headers)
                    let code = Self.bindAndStep(insert, item, headers: headers, nowMs: nowMs, bytes: size)
                    guard code == SQLITE_DONE else { throw Self.error(db, code) }
                    if item.rejected { rejected[item.lane, default: 0] += 1 }
                    added[item.lane, default: LaneDepth()].events += 1
                    added[item.lane, default: LaneDepth()].bytes += size
                    added[item.lane, default: LaneDepth()].classCode = item.priority.code
                }
                for (lane, count) in rejected { try Self.bump(db, "rejected", lane, by: count) }
                for (lane, count) in downsampled { try Self.bump(db, "downsampled", lane, by: count) }
                self.state.withLock { s in
                    s.generation &+= 1
                    for (priority, bytes) in need { s.usage[priority, default: 0] += bytes }
                    s.usage[.telemetry, default: 0] -= freed
                    for (lane, depth) in added {
                        s.lanes[lane, default: LaneDepth()].events += depth.events
                        s.lanes[lane, default: LaneDepth()].bytes += depth.bytes
                        s.lanes[lane, default: LaneDepth()].classCode = depth.classCode
                    }
                    for (lane, depth) in shedLanes {
                        s.lanes[lane, default: LaneDepth()].events -= depth.events
                        s.lanes[lane, default: LaneDepth()].bytes -= depth.bytes
                    }
                }
                return .spooled(shed: shed)
            }
        } catch {
            try? reloadUsage()
            throw error
        }
    }

    /// Binds one row of the insert with pointers into `item`'s own storage, steps, and clears
    /// the bindings while those pointers are still valid.
    private static func bindAndStep(_ statement: OpaquePointer, _ item: Incoming, headers: [UInt8], nowMs: Int64, bytes: Int64) -> CInt {
        func blob(_ index: CInt, _ buffer: UnsafeRawBufferPointer?) {
            guard let buffer else {
                sqlite3_bind_null(statement, index)
                return
            }
            if let base = buffer.baseAddress, buffer.count > 0 {
                sqlite3_bind_blob(statement, index, base, CInt(clamping: buffer.count), nil)
            } else {
                sqlite3_bind_zeroblob(statement, index, 0)
            }
        }
        sqlite3_reset(statement)
        return item.lane.withCString { lane in
            item.topic.withCString { topic in
                item.eventID.withCString { eventID in
                    withOptionalBytes(item.key) { key in
                        item.value.withUnsafeBytes { value in
                            headers.withUnsafeBytes { headers in
                                sqlite3_bind_int64(statement, 1, Int64(item.priority.code))
                                sqlite3_bind_text(statement, 2, lane, -1, nil)
                                sqlite3_bind_text(statement, 3, topic, -1, nil)
                                blob(4, key)
                                blob(5, value)
                                blob(6, headers)
                                sqlite3_bind_text(statement, 7, eventID, -1, nil)
                                sqlite3_bind_int64(statement, 8, nowMs)
                                sqlite3_bind_int64(statement, 9, bytes)
                                let code = sqlite3_step(statement)
                                sqlite3_reset(statement)
                                sqlite3_clear_bindings(statement)
                                return code
                            }
                        }
                    }
                }
            }
        }
    }

    private static func withOptionalBytes<Result>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> Result) -> Result {
        if let bytes { bytes.withUnsafeBytes { body($0) } } else { body(nil) }
    }

    private func reloadUsage() throws {
        try pool.write { db in
            let usage = try Self.usage(db)
            let lanes = try Self.laneDepths(db)
            self.state.withLock {
                $0.usage = usage
                $0.lanes = lanes
            }
        }
    }

    // MARK: Forwarding (called from the forwarder's thread only)

    /// The quota of `priority` in bytes.
    func quotaBytes(_ priority: PriorityClass) -> Int64 { quota[priority, default: .max] }

    /// Hands out up to `limit` events not yet handed out since the last `resetClaims`: the
    /// oldest business events first (at most `businessShare` of `limit` while telemetry waits,
    /// so live telemetry is never starved), then the oldest telemetry, at most `telemetryBytes`
    /// of it (counted as against the quota; one event even past that when `telemetryIdle`).
    /// Within a class the order is arrival order, so every key keeps its order.
    func claim(limit: Int, telemetryBytes: Int64 = .max, telemetryIdle: Bool = true, businessShare: Double = 0.8) throws -> [ClaimedEvent] {
        try acknowledgeAndClaim([], limit: limit, telemetryBytes: telemetryBytes, telemetryIdle: telemetryIdle, businessShare: businessShare).claimed
    }

    /// Deletes events whose delivery the enterprise cluster acknowledged. Returns how many were
    /// still spooled (one acknowledged twice is counted once).
    @discardableResult
    func acknowledge(_ delivered: [DeliveredEvent]) throws -> Int {
        try acknowledgeAndClaim(delivered, limit: 0).removed
    }

    /// `acknowledge` then `claim` in one write transaction: the forwarder's one commit per round.
    ///
    /// The delete is by rowid ranges (`seq BETWEEN a AND b` over runs of consecutive seqs) with
    /// the class, lane and bytes the claim already returned, so nothing is read back. Should a
    /// range delete fewer rows than delivered (an event acknowledged twice), the transaction is
    /// rolled back and done again reading each row first, so counters and quota usage stay exact.
    func acknowledgeAndClaim(_ delivered: [DeliveredEvent], limit: Int, telemetryBytes: Int64 = .max, telemetryIdle: Bool = true,
                             businessShare: Double = 0.8) throws -> (removed: Int, claimed: [ClaimedEvent]) {
        guard !delivered.isEmpty || limit > 0 else { return (0, []) }
        do {
            return try forwarderWrite { db in
                let removed = try self.deleteDelivered(db, delivered, exact: true)
                let claimed = try self.claim(db, limit: limit, telemetryBytes: telemetryBytes, telemetryIdle: telemetryIdle, businessShare: businessShare)
                return (removed, claimed)
            }
        } catch is AcknowledgedTwice {
            return try forwarderWrite { db in
                let removed = try self.deleteDelivered(db, delivered, exact: false)
                let claimed = try self.claim(db, limit: limit, telemetryBytes: telemetryBytes, telemetryIdle: telemetryIdle, businessShare: businessShare)
                return (removed, claimed)
            }
        }
    }

    private struct AcknowledgedTwice: Error {}

    /// The forwarder's transactions commit without an fsync of their own (`synchronous=NORMAL`
    /// for their duration, on the one writer connection, so no append ever runs in between).
    /// They only delete delivered events and read claims: if a power cut loses one, the events
    /// come back and are sent again with the same `ce_id`, which the crash guarantee allows. The
    /// next append's fsync (FULL) makes the earlier WAL frames durable too. With an fsync per
    /// round the drain waited on the disk, not the CPU (plantrouter-bench edge: 0.39x produce at
    /// 7.8 us CPU/event).
    private func forwarderWrite<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.writeWithoutTransaction { db in
            if synchronousFull { try db.execute(sql: "PRAGMA synchronous = NORMAL") }
            var result: Result<T, any Error> = .failure(CancellationError())
            do {
                try db.inTransaction {
                    result = .success(try body(db))
                    return .commit
                }
            } catch {
                result = .failure(error)
            }
            if synchronousFull { try db.execute(sql: "PRAGMA synchronous = FULL") }
            return try result.get()
        }
    }

    private func deleteDelivered(_ db: Database, _ delivered: [DeliveredEvent], exact: Bool) throws -> Int {
        guard !delivered.isEmpty else { return 0 }
        var gone = delivered
        var removed = 0
        if exact {
            let seqs = delivered.map(\.seq).sorted()
            let statement = try db.cachedStatement(sql: "DELETE FROM spool WHERE seq BETWEEN ? AND ?").sqliteStatement
            var start = 0
            while start < seqs.count {
                var end = start
                while end + 1 < seqs.count, seqs[end] < Int64.max, seqs[end + 1] == seqs[end] + 1 { end += 1 }
                sqlite3_reset(statement)
                sqlite3_bind_int64(statement, 1, seqs[start])
                sqlite3_bind_int64(statement, 2, seqs[end])
                let code = sqlite3_step(statement)
                sqlite3_reset(statement)
                guard code == SQLITE_DONE else { throw Self.error(db, code) }
                let changed = Int(sqlite3_changes(db.sqliteConnection))
                if changed != end - start + 1 { throw AcknowledgedTwice() }
                removed += changed
                start = end + 1
            }
        } else {
            // Read each row first: only what is still spooled is counted.
            gone = []
            let select = try db.cachedStatement(sql: "SELECT class, lane, bytes FROM spool WHERE seq = ?")
            let delete = try db.cachedStatement(sql: "DELETE FROM spool WHERE seq = ?")
            for seq in Set(delivered.map(\.seq)) {
                guard let row = try Row.fetchOne(select, arguments: [seq]) else { continue }
                let code: Int = row["class"]
                gone.append(DeliveredEvent(seq: seq, priority: code == PriorityClass.business.code ? .business : .telemetry,
                                           lane: row["lane"], bytes: row["bytes"]))
                try delete.execute(arguments: [seq])
            }
            removed = gone.count
        }
        var freed: [PriorityClass: Int64] = [:]
        var removedLanes: [String: LaneDepth] = [:]
        for event in gone {
            freed[event.priority, default: 0] += event.bytes
            removedLanes[event.lane, default: LaneDepth()].events += 1
            removedLanes[event.lane, default: LaneDepth()].bytes += event.bytes
        }
        for (lane, depth) in removedLanes { try Self.bump(db, "forwarded", lane, by: Int(depth.events)) }
        state.withLock { s in
            for (priority, bytes) in freed { s.usage[priority, default: 0] -= bytes }
            for (lane, depth) in removedLanes {
                s.lanes[lane, default: LaneDepth()].events -= depth.events
                s.lanes[lane, default: LaneDepth()].bytes -= depth.bytes
            }
        }
        return removed
    }

    private static func error(_ db: Database, _ code: CInt) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
    }

    private func claim(_ db: Database, limit: Int, telemetryBytes: Int64, telemetryIdle: Bool, businessShare: Double) throws -> [ClaimedEvent] {
        guard limit > 0 else { return [] }
        let (cursors, generation) = state.withLock { ($0.cursor, $0.generation) }
        var reader = rowReader.withLock { $0 }
        defer { rowReader.withLock { $0 = reader } }
        let select = try db.cachedStatement(
            sql: "SELECT seq, lane, topic, key, value, headers, arrived_ms, bytes FROM spool WHERE class = ? AND seq > ? ORDER BY seq LIMIT ?").sqliteStatement
        func fetch(_ priority: PriorityClass, _ count: Int, budget: Int64, firstAnyway: Bool) throws -> [ClaimedEvent] {
            guard count > 0 else { return [] }
            sqlite3_reset(select)
            sqlite3_bind_int64(select, 1, Int64(priority.code))
            sqlite3_bind_int64(select, 2, cursors[priority, default: 0])
            sqlite3_bind_int64(select, 3, Int64(count))
            defer { sqlite3_reset(select) }
            var out: [ClaimedEvent] = []
            out.reserveCapacity(count)
            var spent: Int64 = 0
            while true {
                let code = sqlite3_step(select)
                if code == SQLITE_DONE { break }
                guard code == SQLITE_ROW else { throw Self.error(db, code) }
                let bytes = sqlite3_column_int64(select, 7)
                if bytes > budget - spent, !(out.isEmpty && firstAnyway) { break }
                spent += bytes
                let seq = sqlite3_column_int64(select, 0)
                guard let headers = reader.headers(select, 5) else {
                    // Written by this spool, so never malformed unless the file was damaged: such an
                    // event cannot be produced; it stays spooled (and counted) for an operator.
                    continue
                }
                out.append(ClaimedEvent(
                    seq: seq, priority: priority, lane: reader.name(select, 1), topic: reader.name(select, 2), key: reader.blob(select, 3),
                    value: reader.blob(select, 4) ?? [], headers: headers, arrivedMs: sqlite3_column_int64(select, 6), bytes: bytes))
            }
            return out
        }
        let exists = try db.cachedStatement(sql: "SELECT EXISTS(SELECT 1 FROM spool WHERE class = ? AND seq > ?)").sqliteStatement
        sqlite3_reset(exists)
        sqlite3_bind_int64(exists, 1, Int64(PriorityClass.telemetry.code))
        sqlite3_bind_int64(exists, 2, cursors[.telemetry, default: 0])
        let code = sqlite3_step(exists)
        let telemetryWaiting = code == SQLITE_ROW && sqlite3_column_int64(exists, 0) != 0
        sqlite3_reset(exists)
        guard code == SQLITE_ROW else { throw Self.error(db, code) }
        // Telemetry past its in-flight budget waits; business then takes the whole claim.
        let telemetryClaimable = telemetryWaiting && (telemetryBytes > 0 || telemetryIdle)
        let businessLimit = telemetryClaimable ? max(1, Int((Double(limit) * businessShare).rounded(.down))) : limit
        let business = try fetch(.business, businessLimit, budget: .max, firstAnyway: true)
        let telemetry = telemetryClaimable ? try fetch(.telemetry, limit - business.count, budget: telemetryBytes, firstAnyway: telemetryIdle) : []
        state.withLock { s in
            if let last = business.last { s.cursor[.business] = last.seq }
            if let last = telemetry.last { s.cursor[.telemetry] = last.seq }
            if business.isEmpty, telemetry.isEmpty, !telemetryWaiting { s.emptyAtGeneration = generation }
        }
        return business + telemetry
    }

    /// After a failed delivery, once nothing is in flight: hand out everything still spooled
    /// again, from the oldest.
    func resetClaims() throws {
        try pool.write { _ in
            self.state.withLock {
                $0.cursor = [:]
                $0.generation &+= 1
            }
        }
    }

    /// False when the last claim found nothing and nothing was spooled since.
    var mayHaveUnclaimed: Bool { state.withLock { $0.generation != $0.emptyAtGeneration } }

    /// Up to `limit` spooled events in arrival order, read without claiming them: the edge
    /// benchmark's baseline producer sends exactly the records the forwarder will.
    public func peek(limit: Int) throws -> [SpoolEntry] {
        guard limit > 0 else { return [] }
        return try pool.read { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT seq, class, lane, topic, key, value, headers, event_id, arrived_ms FROM spool ORDER BY seq LIMIT ?",
                arguments: [limit])
            return rows.compactMap { row in
                let headers: Data = row["headers"]
                let key: Data? = row["key"]
                let value: Data = row["value"]
                let code: Int = row["class"]
                guard let decoded = HeaderCoding.decode(headers) else { return nil }
                return SpoolEntry(seq: row["seq"], priority: code == PriorityClass.business.code ? .business : .telemetry, lane: row["lane"],
                                  topic: row["topic"], key: key.map { [UInt8]($0) }, value: [UInt8](value), headers: decoded,
                                  eventID: row["event_id"], arrivedMs: row["arrived_ms"])
            }
        }
    }

    // MARK: Statistics

    /// Depth and bytes from memory, the oldest event per lane by index, the counters from
    /// their small table: a scrape costs the same whatever the spool holds.
    public func statistics() throws -> SpoolStatistics {
        let (lanes, usage) = state.withLock { ($0.lanes, $0.usage) }
        return try pool.read { db in
            let counters = try Row.fetchAll(db, sql: "SELECT kind, lane, value FROM counters")
            var names = Set(lanes.keys)
            for row in counters { names.insert(row["lane"]) }
            var out: [SpoolStatistics.Lane] = []
            for name in names.sorted() {
                var entry = SpoolStatistics.Lane(lane: name)
                if let depth = lanes[name], depth.events > 0 {
                    entry.events = depth.events
                    entry.bytes = depth.bytes
                    // Through `(class, seq)`: the class's oldest rows are read until one is the lane's
                    // (immediate for telemetry, which is one lane; bounded by the business backlog
                    // otherwise). A `(lane, seq)` index would answer at once but cost every append
                    // and every delete a third B-tree.
                    entry.oldestArrivedMs = try Int64.fetchOne(
                        db, sql: "SELECT arrived_ms FROM spool WHERE class = ? AND lane = ? ORDER BY seq LIMIT 1", arguments: [depth.classCode, name])
                }
                for row in counters where (row["lane"] as String) == name { Self.apply(row, to: &entry) }
                out.append(entry)
            }
            return SpoolStatistics(
                lanes: out, classBytes: Dictionary(uniqueKeysWithValues: PriorityClass.allCases.map { ($0.rawValue, usage[$0, default: 0]) }),
                quota: Dictionary(uniqueKeysWithValues: quota.map { ($0.key.rawValue, $0.value) }))
        }
    }

    private static func apply(_ row: Row, to entry: inout SpoolStatistics.Lane) {
        let value: Int64 = row["value"]
        switch row["kind"] as String {
        case "forwarded": entry.forwarded = value
        case "shed": entry.shed = value
        case "rejected": entry.rejected = value
        case "downsampled": entry.downsampled = value
        default: break
        }
    }

    /// Reads a spool file without writing anything (`plantrouter edge status`).
    public static func readStatistics(path: String, quota: [PriorityClass: Int64]) throws -> SpoolStatistics {
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        return try queue.read { db in try statistics(db, quota: quota) }
    }

    static func statistics(_ db: Database, quota: [PriorityClass: Int64]) throws -> SpoolStatistics {
        var lanes: [String: SpoolStatistics.Lane] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT lane, COUNT(*) AS n, SUM(bytes) AS b, MIN(arrived_ms) AS oldest FROM spool GROUP BY lane") {
            let lane: String = row["lane"]
            lanes[lane] = SpoolStatistics.Lane(lane: lane, events: row["n"], bytes: row["b"], oldestArrivedMs: row["oldest"])
        }
        for row in try Row.fetchAll(db, sql: "SELECT kind, lane, value FROM counters") {
            let lane: String = row["lane"]
            var entry = lanes[lane] ?? SpoolStatistics.Lane(lane: lane)
            apply(row, to: &entry)
            lanes[lane] = entry
        }
        var classBytes: [String: Int64] = [:]
        for priority in PriorityClass.allCases {
            classBytes[priority.rawValue] = try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(bytes), 0) FROM spool WHERE class = ?", arguments: [priority.code]) ?? 0
        }
        return SpoolStatistics(
            lanes: lanes.values.sorted { $0.lane < $1.lane }, classBytes: classBytes,
            quota: Dictionary(uniqueKeysWithValues: quota.map { ($0.key.rawValue, $0.value) }))
    }
}
