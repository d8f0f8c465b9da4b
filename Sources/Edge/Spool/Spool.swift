import Foundation
import GRDB
import GRDBSQLite
import Kafka
import Synchronization

/// The edge's durable spool: every event a gateway was answered 202 for, until the enterprise
/// cluster has acknowledged it.
///
/// Why SQLite in WAL mode through GRDB rather than segment files: one transaction makes a whole
/// request durable or none of it, and the same transaction updates the quota accounting and the
/// counters; WAL with `synchronous=FULL` survives a process crash and a power cut without a
/// recovery pass of ours; "oldest telemetry" and "oldest business first" are indexed queries
/// instead of segment bookkeeping; it is one file an operator can copy or open read-only
/// (`plantrouter edge status`); and GRDB is already a dependency.
///
/// Layout: a row per request, class and lane (`batches`) with a mask of which of its events
/// are gone (delivered or shed), and the events themselves in one body (`SpoolBatch`) in a table
/// of their own (`batch_bodies`, same seq): SQLite rewrites a whole row on any update, and the
/// masks change with every acknowledgement. A batch is deleted once all its events are gone.
/// With a row per event, every event cost a B-tree insert, an index insert, a delete and an
/// index delete: the drain ran at 0.37-0.45x the produce loop and ingest below 50,000 events/s
/// (plantrouter-bench edge). Now those costs come once per request, and an acknowledgement
/// flips bits (Docs/Edge.md).
///
/// Concurrency: `DatabasePool` serialises writers; HTTP handlers append from the cooperative
/// pool through GRDB's async API (GRDB's own queue does the blocking), the forwarder claims on
/// a reader connection from its own thread and the `Acknowledger` writes from its own. Quota
/// usage and depths change only inside write transactions, so they follow the writer's order;
/// the claim cursors change only in claims, which `claimGate` keeps apart from shedding.
public final class Spool: Sendable {
    private let pool: DatabasePool
    private let quota: [PriorityClass: Int64]
    private let synchronousFull: Bool
    private let checkpointer: SpoolCheckpointer
    private let state: Mutex<State>
    /// Held by a claim while it reads, and by an append that sheds telemetry until it commits.
    private let claimGate = Mutex(())
    /// The claim's topic and lane names (the forwarder's thread only).
    private let names = Mutex(SpoolNames())

    struct State: Sendable {
        /// Bytes per class of events not yet gone, as counted against the quota.
        var usage: [PriorityClass: Int64] = [:]
        /// Bumped after every append's commit and by a reset; a claim that found nothing
        /// remembers the value it read before its snapshot, so an idle forwarder does not claim
        /// every few milliseconds, and claims again once something was appended after that.
        var generation: Int64 = 0
        var emptyAtGeneration: Int64 = -1
        /// Spooled events and bytes per lane, so `/metrics` never scans the spool.
        var lanes: [String: LaneDepth] = [:]
        /// The last event per class handed to the forwarder since the last reset.
        var cursor: [PriorityClass: ClaimCursor] = [:]
    }

    struct ClaimCursor: Sendable {
        var position: SpoolPosition
        /// Events in the cursor's row (those after the cursor may still be unclaimed).
        var rowEvents: Int
    }

    struct LaneDepth: Sendable {
        var events: Int64 = 0
        var bytes: Int64 = 0
        /// The lane's class: its oldest row is found through the `(class, seq)` index.
        var priority = PriorityClass.business
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
        /// Durable. `shed` older telemetry events were dropped to make room.
        case spooled(shed: Int)
        /// The class's quota is reached and nothing could be shed: nothing was written.
        case full(PriorityClass)
    }

    /// How long opening or writing waits for another connection's lock instead of failing: a
    /// reader recovering the WAL after a crash (`plantrouter edge status`, a restart's first
    /// look) locks the file briefly, and an edge starting then failed with "database is locked".
    static let busyTimeout: TimeInterval = 5

    public init(path: String, quota: [PriorityClass: Int64], synchronousFull: Bool = true) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(Self.busyTimeout)
        let synchronous = synchronousFull ? "FULL" : "NORMAL"
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
            // A busy drain reads back the rows appends just wrote: a 64 MB page cache and
            // memory-mapped reads keep that working set in memory (SQLite's default is 2 MB).
            try db.execute(sql: "PRAGMA cache_size = -65536")
            try db.execute(sql: "PRAGMA mmap_size = 268435456")
            // Debian's SQLite is built with SECURE_DELETE: every page a delivered body freed was
            // overwritten with zeros and written to the WAL, as many bytes again as the bodies.
            // FAST zeroes deleted content only in pages written anyway; freed pages are reused
            // by later appends, and the file holds undelivered events in the clear regardless.
            try db.execute(sql: "PRAGMA secure_delete = FAST")
            // Checkpoints run on SpoolCheckpointer's thread; the automatic one (in whichever
            // commit crosses it) only as a safety net should that thread fall behind.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 16384")
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        checkpointer = SpoolCheckpointer(path: path)
        self.quota = quota
        self.synchronousFull = synchronousFull
        try pool.write { db in
            // AUTOINCREMENT: a seq is never reused, so a claim cursor never skips a new row.
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS batches(
                  seq INTEGER PRIMARY KEY AUTOINCREMENT,
                  class INTEGER NOT NULL,
                  lane TEXT NOT NULL,
                  arrived_ms INTEGER NOT NULL,
                  events INTEGER NOT NULL,
                  bytes INTEGER NOT NULL,
                  gone BLOB NOT NULL,
                  gone_events INTEGER NOT NULL,
                  gone_bytes INTEGER NOT NULL);
                CREATE TABLE IF NOT EXISTS batch_bodies(
                  seq INTEGER PRIMARY KEY,
                  body BLOB NOT NULL);
                CREATE INDEX IF NOT EXISTS batches_class_seq ON batches(class, seq);
                CREATE TABLE IF NOT EXISTS counters(
                  kind TEXT NOT NULL, lane TEXT NOT NULL, value INTEGER NOT NULL,
                  PRIMARY KEY(kind, lane));
                """)
            try Self.moveEventRows(db)
        }
        let (usage, lanes) = try pool.read { db in (try Self.usage(db), try Self.laneDepths(db)) }
        state = Mutex(State(usage: usage, lanes: lanes))
    }

    deinit { checkpointer.stop() }

    /// Spool files written before rows held whole requests had a `spool` table with a row per
    /// event: each becomes a row of one event, in arrival order, in the opening transaction.
    private static func moveEventRows(_ db: Database) throws {
        guard try db.tableExists("spool") else { return }
        let rows = try Row.fetchCursor(db, sql: "SELECT class, lane, topic, key, value, headers, event_id, arrived_ms, bytes FROM spool ORDER BY seq")
        while let row = try rows.next() {
            let key: Data? = row["key"]
            let value: Data = row["value"]
            let headers: Data = row["headers"]
            // The headers' bytes as they are: a damaged blob makes the claim skip the event, which
            // stays spooled and counted for an operator, as before.
            var body: [UInt8] = []
            SpoolBatch.append(to: &body, topic: row["topic"], key: key.map { [UInt8]($0) }, value: [UInt8](value), headers: [UInt8](headers),
                              eventID: row["event_id"])
            try db.cachedStatement(sql: """
                INSERT INTO batches(class, lane, arrived_ms, events, bytes, gone, gone_events, gone_bytes) VALUES (?, ?, ?, 1, ?, ?, 0, 0)
                """).execute(arguments: [row["class"] as Int64, row["lane"] as String, row["arrived_ms"] as Int64, row["bytes"] as Int64,
                                         Data(GoneMask(events: 1).bytes)])
            try db.cachedStatement(sql: "INSERT INTO batch_bodies(seq, body) VALUES (?, ?)").execute(arguments: [db.lastInsertedRowID, Data(body)])
        }
        try db.execute(sql: "DROP TABLE spool")
    }

    private static func laneDepths(_ db: Database) throws -> [String: LaneDepth] {
        var lanes: [String: LaneDepth] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT lane, class, SUM(events - gone_events) AS n, SUM(bytes - gone_bytes) AS b FROM batches GROUP BY lane, class
            """) {
            var depth = lanes[row["lane"], default: LaneDepth()]
            depth.events += row["n"]
            depth.bytes += row["b"]
            depth.priority = priority(code: row["class"])
            lanes[row["lane"]] = depth
        }
        return lanes
    }

    private static func usage(_ db: Database) throws -> [PriorityClass: Int64] {
        var usage: [PriorityClass: Int64] = [:]
        for priority in PriorityClass.allCases {
            usage[priority] = try Int64.fetchOne(
                db, sql: "SELECT COALESCE(SUM(bytes - gone_bytes), 0) FROM batches WHERE class = ?", arguments: [priority.code]) ?? 0
        }
        return usage
    }

    private static func bump(_ db: Database, _ kind: String, _ lane: String, by amount: Int) throws {
        guard amount > 0 else { return }
        try db.execute(
            sql: "INSERT INTO counters(kind, lane, value) VALUES (?, ?, ?) ON CONFLICT(kind, lane) DO UPDATE SET value = value + excluded.value",
            arguments: [kind, lane, amount])
    }

    private static func error(_ db: Database, _ code: CInt) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
    }

    private static func priority(code: Int64) -> PriorityClass { code == Int64(PriorityClass.business.code) ? .business : .telemetry }

    // MARK: Ingest

    /// Spools `items` in one transaction, all or nothing: a row per class and lane, each row's
    /// events in request order. Business events never displace anything: past the business quota
    /// the whole request is refused (`.full`). Telemetry past its quota sheds the oldest
    /// telemetry not yet handed to the producer. `downsampled` (events per lane the edge dropped
    /// from the same request) is counted in the same transaction.
    public func append(_ items: [Incoming], downsampled: [String: Int] = [:], nowMs: Int64) async throws -> AppendOutcome {
        do {
            if let outcome = try await appendOnce(items, downsampled: downsampled, nowMs: nowMs, mayShed: false) { return outcome }
            // Telemetry has to be shed: again, with claims held off until the commit.
            return try await appendOnce(items, downsampled: downsampled, nowMs: nowMs, mayShed: true) ?? .full(.telemetry)
        } catch {
            try? reloadUsage()
            throw error
        }
    }

    /// One write transaction of `append`; nil, with nothing written, when telemetry would have
    /// to be shed and `mayShed` is false. Shedding takes `claimGate` until the commit: a claim
    /// reads a snapshot, and must neither hand out what is being shed nor miss that it was.
    private func appendOnce(_ items: [Incoming], downsampled: [String: Int], nowMs: Int64, mayShed: Bool) async throws -> AppendOutcome? {
        let outcome = try await pool.writeWithoutTransaction { db -> AppendOutcome? in
            func transaction() throws -> AppendOutcome? {
                var outcome: AppendOutcome?
                try db.inTransaction {
                    outcome = try self.write(db, items, downsampled: downsampled, nowMs: nowMs, mayShed: mayShed)
                    return .commit
                }
                return outcome
            }
            return mayShed ? try self.claimGate.withLock { _ in try transaction() } : try transaction()
        }
        // After the commit: a claim that finds nothing remembers the generation it saw, and must
        // not remember this one before it can see these rows.
        if case .spooled = outcome { state.withLock { $0.generation &+= 1 } }
        return outcome
    }

    /// The rows of one append, inside its transaction (see `appendOnce`).
    private func write(_ db: Database, _ items: [Incoming], downsampled: [String: Int], nowMs: Int64, mayShed: Bool) throws -> AppendOutcome? {
        var need: [PriorityClass: Int64] = [:]
        let sizes = items.map { SpoolEntry.size(key: $0.key, value: $0.value, headers: $0.headers) }
        for (item, size) in zip(items, sizes) { need[item.priority, default: 0] += size }
        let snapshot = self.state.withLock { $0 }
        if let needed = need[.business], needed > 0,
           snapshot.usage[.business, default: 0] + needed > quota[.business, default: .max] {
            return .full(.business)
        }
        var shed: [String: LaneDepth] = [:]
        if let needed = need[.telemetry], needed > 0 {
            let limit = quota[.telemetry, default: .max]
            if needed > limit { return .full(.telemetry) }
            let over = snapshot.usage[.telemetry, default: 0] + needed - limit
            if over > 0 {
                guard mayShed else { return nil }
                guard let dropped = try Self.shedTelemetry(db, bytes: over, after: snapshot.cursor[.telemetry]) else { return .full(.telemetry) }
                shed = dropped
            }
        }
        var rejected: [String: Int] = [:]
        var added: [String: LaneDepth] = [:]
        for group in Self.rowGroups(items) {
            let members = group.map { items[$0] }
            let bytes = group.reduce(Int64(0)) { $0 + sizes[$1] }
            guard let first = members.first else { continue }
            try Self.insertBatch(db, priority: first.priority, lane: first.lane, arrivedMs: nowMs, members: members, bytes: bytes)
            rejected[first.lane, default: 0] += members.count(where: \.rejected)
            added[first.lane, default: LaneDepth()].events += Int64(members.count)
            added[first.lane, default: LaneDepth()].bytes += bytes
            added[first.lane, default: LaneDepth()].priority = first.priority
        }
        for (lane, count) in rejected { try Self.bump(db, "rejected", lane, by: count) }
        for (lane, count) in downsampled { try Self.bump(db, "downsampled", lane, by: count) }
        self.state.withLock { s in
            for (priority, bytes) in need { s.usage[priority, default: 0] += bytes }
            for (lane, depth) in added {
                s.lanes[lane, default: LaneDepth()].events += depth.events
                s.lanes[lane, default: LaneDepth()].bytes += depth.bytes
                s.lanes[lane, default: LaneDepth()].priority = depth.priority
            }
            for (lane, depth) in shed {
                s.usage[.telemetry, default: 0] -= depth.bytes
                s.lanes[lane, default: LaneDepth()].events -= depth.events
                s.lanes[lane, default: LaneDepth()].bytes -= depth.bytes
            }
        }
        return .spooled(shed: Int(shed.values.reduce(0) { $0 + $1.events }))
    }

    private static func insertBatch(_ db: Database, priority: PriorityClass, lane: String, arrivedMs: Int64, members: [Incoming], bytes: Int64) throws {
        try db.cachedStatement(sql: """
            INSERT INTO batches(class, lane, arrived_ms, events, bytes, gone, gone_events, gone_bytes) VALUES (?, ?, ?, ?, ?, ?, 0, 0)
            """).execute(arguments: [priority.code, lane, arrivedMs, members.count, bytes, Data(GoneMask(events: members.count).bytes)])
        try db.cachedStatement(sql: "INSERT INTO batch_bodies(seq, body) VALUES (?, ?)")
            .execute(arguments: [db.lastInsertedRowID, Data(SpoolBatch.encode(members[...]))])
    }

    /// At most this many events share a row (a request holds at most `maxEdgeBatchEvents`
    /// anyway): it bounds what one claim or acknowledgement decodes and rewrites.
    static let maxRowEvents = 1000

    /// The indexes of `items` by row: one per class and lane in order of first appearance, each
    /// in request order, cut at `maxRowEvents`.
    static func rowGroups(_ items: [Incoming]) -> [[Int]] {
        struct RowKey: Hashable {
            var priority: PriorityClass
            var lane: String
        }
        var groups: [[Int]] = []
        var open: [RowKey: Int] = [:]
        for (index, item) in items.enumerated() {
            let key = RowKey(priority: item.priority, lane: item.lane)
            if let group = open[key], groups[group].count < maxRowEvents {
                groups[group].append(index)
            } else {
                open[key] = groups.count
                groups.append([index])
            }
        }
        return groups
    }

    /// Marks the oldest telemetry not yet handed to the forwarder gone until `bytes` are freed,
    /// counting it as shed; the shed events and bytes per lane, or nil, with nothing written,
    /// when the unclaimed telemetry holds fewer bytes.
    private static func shedTelemetry(_ db: Database, bytes: Int64, after cursor: ClaimCursor?) throws -> [String: LaneDepth]? {
        var left = bytes
        var changes: [GoneChange] = []
        var from = cursor?.position.row ?? 0
        while left > 0 {
            let rows = try Row.fetchAll(db, sql: """
                SELECT seq, lane, events, gone, gone_events, gone_bytes, body FROM batches JOIN batch_bodies USING (seq)
                WHERE class = ? AND seq >= ? ORDER BY seq LIMIT 64
                """, arguments: [PriorityClass.telemetry.code, from])
            guard let last = rows.last else { break }
            from = (last["seq"] as Int64) + 1
            for row in rows where left > 0 {
                var change = GoneChange(row)
                let firstFree = change.seq == cursor?.position.row ? (cursor?.position.index ?? -1) + 1 : 0
                let body: Data = row["body"]
                _ = body.withUnsafeBytes { raw in
                    SpoolBatch.forEach(raw, expected: change.events) { index, event in
                        guard left > 0 else { return false }
                        if index >= firstFree, change.mask.insert(index) {
                            change.add(bytes: event.bytes)
                            left -= event.bytes
                        }
                        return true
                    }
                }
                if change.newEvents > 0 { changes.append(change) }
            }
        }
        guard left <= 0 else { return nil }
        var shed: [String: LaneDepth] = [:]
        for change in changes {
            try change.store(db)
            shed[change.lane, default: LaneDepth(priority: .telemetry)].events += Int64(change.newEvents)
            shed[change.lane, default: LaneDepth(priority: .telemetry)].bytes += change.newBytes
        }
        for (lane, depth) in shed { try bump(db, "shed", lane, by: Int(depth.events)) }
        return shed
    }

    /// Events of one row newly gone (delivered or shed), to be written back.
    private struct GoneChange {
        var seq: Int64
        var lane: String
        var events: Int
        var mask: GoneMask
        var goneEvents: Int
        var goneBytes: Int64
        var newEvents = 0
        var newBytes: Int64 = 0

        init(_ row: Row) {
            seq = row["seq"]
            lane = row["lane"]
            events = row["events"]
            mask = GoneMask(bytes: [UInt8](row["gone"] as Data))
            goneEvents = row["gone_events"]
            goneBytes = row["gone_bytes"]
        }

        mutating func add(bytes: Int64) {
            newEvents += 1
            newBytes += bytes
            goneEvents += 1
            goneBytes += bytes
        }

        /// The row with its new mask, or deleted once every event is gone.
        func store(_ db: Database) throws {
            if goneEvents >= events {
                try db.cachedStatement(sql: "DELETE FROM batches WHERE seq = ?").execute(arguments: [seq])
                try db.cachedStatement(sql: "DELETE FROM batch_bodies WHERE seq = ?").execute(arguments: [seq])
            } else {
                try db.cachedStatement(sql: "UPDATE batches SET gone = ?, gone_events = ?, gone_bytes = ? WHERE seq = ?")
                    .execute(arguments: [Data(mask.bytes), goneEvents, goneBytes, seq])
            }
        }
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
    ///
    /// A claim only reads (a snapshot, on a reader connection, beside the writer's
    /// acknowledgements and appends); the claimed events come as the rows holding them, bodies
    /// copied out. Claims happen on one thread at a time (the forwarder's).
    func claimRows(limit: Int, telemetryBytes: Int64 = .max, telemetryIdle: Bool = true, businessShare: Double = 0.8) throws -> [ClaimedRow] {
        guard limit > 0 else { return [] }
        return try claimGate.withLock { _ in
            // Read before the snapshot is taken: an append that commits after it bumps the
            // generation past this value, so its rows are claimed next time even if this claim
            // finds nothing.
            let generation = state.withLock { $0.generation }
            return try pool.read { db in
                try self.claim(db, generation: generation, limit: limit, telemetryBytes: telemetryBytes, telemetryIdle: telemetryIdle,
                               businessShare: businessShare)
            }
        }
    }

    /// `claimRows`, each event copied out.
    func claim(limit: Int, telemetryBytes: Int64 = .max, telemetryIdle: Bool = true, businessShare: Double = 0.8) throws -> [ClaimedEvent] {
        var claimed: [ClaimedEvent] = []
        for row in try claimRows(limit: limit, telemetryBytes: telemetryBytes, telemetryIdle: telemetryIdle, businessShare: businessShare) {
            row.forEach { view in
                claimed.append(ClaimedEvent(view))
                return true
            }
        }
        return claimed
    }

    /// Marks events gone whose delivery the enterprise cluster acknowledged, in one
    /// transaction. Returns how many were not gone yet (one acknowledged twice is counted once).
    @discardableResult
    func acknowledge(_ delivered: [DeliveredEvent]) throws -> Int {
        guard !delivered.isEmpty else { return 0 }
        let released = try forwarderWrite { db in try self.markDelivered(db, delivered) }
        return released.events
    }

    /// The forwarder's transactions commit without an fsync of their own (`synchronous=NORMAL`
    /// for their duration, on the one writer connection, so no append ever runs in between).
    /// They only mark delivered events gone: if a power cut loses one, the events come back and
    /// are sent again with the same `ce_id`, which the crash guarantee allows. The next append's
    /// fsync (FULL) makes the earlier WAL frames durable too. With an fsync per acknowledgement
    /// the drain waited on the disk, not the CPU. What was released is taken off the in-memory
    /// depth and usage only once committed, still holding the writer.
    private func forwarderWrite(_ body: (Database) throws -> Released) throws -> Released {
        try pool.writeWithoutTransaction { db in
            if synchronousFull { try db.execute(sql: "PRAGMA synchronous = NORMAL") }
            var result: Result<Released, any Error> = .failure(CancellationError())
            do {
                try db.inTransaction {
                    result = .success(try body(db))
                    return .commit
                }
            } catch {
                result = .failure(error)
            }
            if case .success(let released) = result {
                state.withLock { s in
                    for (priority, bytes) in released.bytes { s.usage[priority, default: 0] -= bytes }
                    for (lane, depth) in released.lanes {
                        s.lanes[lane, default: LaneDepth()].events -= depth.events
                        s.lanes[lane, default: LaneDepth()].bytes -= depth.bytes
                    }
                }
            }
            if synchronousFull { try db.execute(sql: "PRAGMA synchronous = FULL") }
            return try result.get()
        }
    }

    /// Events an acknowledgement marked gone: how many, and their bytes per class and per lane.
    struct Released {
        var events = 0
        var bytes: [PriorityClass: Int64] = [:]
        var lanes: [String: LaneDepth] = [:]
    }

    /// Sets the delivered events' bits, reading and writing each row once (deleting it with
    /// its last event), and counts them forwarded. Events already gone, or of rows no longer
    /// spooled, are not counted again.
    private func markDelivered(_ db: Database, _ delivered: [DeliveredEvent]) throws -> Released {
        var byRow: [Int64: [DeliveredEvent]] = [:]
        for event in delivered { byRow[event.position.row, default: []].append(event) }
        let select = try db.cachedStatement(sql: "SELECT seq, lane, events, gone, gone_events, gone_bytes FROM batches WHERE seq = ?")
        var released = Released()
        for (seq, events) in byRow.sorted(by: { $0.key < $1.key }) {
            guard let row = try Row.fetchOne(select, arguments: [seq]) else { continue }
            var change = GoneChange(row)
            for event in events where change.mask.insert(event.position.index) {
                change.add(bytes: event.bytes)
                released.bytes[event.priority, default: 0] += event.bytes
            }
            guard change.newEvents > 0 else { continue }
            try change.store(db)
            released.events += change.newEvents
            released.lanes[change.lane, default: LaneDepth()].events += Int64(change.newEvents)
            released.lanes[change.lane, default: LaneDepth()].bytes += change.newBytes
        }
        for (lane, depth) in released.lanes { try Self.bump(db, "forwarded", lane, by: Int(depth.events)) }
        return released
    }

    private func claim(_ db: Database, generation: Int64, limit: Int, telemetryBytes: Int64, telemetryIdle: Bool, businessShare: Double) throws -> [ClaimedRow] {
        let cursors = state.withLock { $0.cursor }
        var moved = cursors
        var names = self.names.withLock { $0 }
        defer { self.names.withLock { $0 = names } }
        // Rows straight off the statement (sqlite3_column_*); bodies through incremental blob
        // I/O, each read once into the array the forwarder produces from. (A body spans
        // overflow pages, and `sqlite3_column_blob` assembled each into an allocation of its
        // own before it could be copied.)
        let select = try db.cachedStatement(sql: "SELECT seq, lane, arrived_ms, events, gone FROM batches WHERE class = ? AND seq >= ? ORDER BY seq")
            .sqliteStatement
        var bodies = BodyReader(db)
        defer { bodies.close() }
        func fetch(_ priority: PriorityClass, _ count: Int, budget: Int64, firstAnyway: Bool) throws -> [ClaimedRow] {
            guard count > 0 else { return [] }
            let cursor = cursors[priority]
            sqlite3_reset(select)
            sqlite3_bind_int64(select, 1, Int64(priority.code))
            sqlite3_bind_int64(select, 2, cursor?.position.row ?? 0)
            defer { sqlite3_reset(select) }
            var rows: [ClaimedRow] = []
            var taken = 0
            var spent: Int64 = 0
            var done = false
            while !done {
                let code = sqlite3_step(select)
                if code == SQLITE_DONE { break }
                guard code == SQLITE_ROW else { throw Self.error(db, code) }
                let seq = sqlite3_column_int64(select, 0)
                let events = Int(sqlite3_column_int64(select, 3))
                let gone = GoneMask(bytes: Array(Self.bytes(select, 4)))
                let firstFree = seq == cursor?.position.row ? (cursor?.position.index ?? -1) + 1 : 0
                // A damaged or missing body or headers blob (the file, not a gateway, wrote it
                // wrong): those events are skipped and stay spooled, and counted, for an operator.
                guard let body = bodies.read(seq) else { continue }
                var row = ClaimedRow(seq: seq, priority: priority, lane: names.name(Self.bytes(select, 1)), arrivedMs: sqlite3_column_int64(select, 2),
                                     events: events, body: body)
                _ = body.withUnsafeBytes { raw in
                    SpoolBatch.forEach(raw, expected: events) { index, event in
                        guard index >= firstFree, !gone.contains(index) else { return true }
                        let bytes = event.bytes
                        if bytes > budget - spent, !(taken == 0 && firstAnyway) {
                            done = true
                            return false
                        }
                        guard HeaderCoding.isWellFormed(event.headers) else { return true }
                        row.claimed.append(index)
                        spent += bytes
                        taken += 1
                        if taken == count { done = true }
                        return !done
                    }
                }
                if let last = row.claimed.last {
                    moved[priority] = ClaimCursor(position: SpoolPosition(row: seq, index: last), rowEvents: events)
                    rows.append(row)
                }
            }
            return rows
        }
        // Unclaimed telemetry: rows after the cursor's, or the rest of the cursor's row.
        let telemetryCursor = cursors[.telemetry]
        let exists = try db.cachedStatement(sql: "SELECT EXISTS(SELECT 1 FROM batches WHERE class = ? AND seq > ?)").sqliteStatement
        sqlite3_reset(exists)
        sqlite3_bind_int64(exists, 1, Int64(PriorityClass.telemetry.code))
        sqlite3_bind_int64(exists, 2, telemetryCursor?.position.row ?? 0)
        let code = sqlite3_step(exists)
        let laterRows = code == SQLITE_ROW && sqlite3_column_int64(exists, 0) != 0
        sqlite3_reset(exists)
        guard code == SQLITE_ROW else { throw Self.error(db, code) }
        let telemetryWaiting = try laterRows || telemetryCursor.map { try Self.hasUnclaimed(db, after: $0) } ?? false
        // Telemetry past its in-flight budget waits; business then takes the whole claim.
        let telemetryClaimable = telemetryWaiting && (telemetryBytes > 0 || telemetryIdle)
        let businessLimit = telemetryClaimable ? max(1, Int((Double(limit) * businessShare).rounded(.down))) : limit
        let business = try fetch(.business, businessLimit, budget: .max, firstAnyway: true)
        let businessCount = business.reduce(0) { $0 + $1.claimed.count }
        let telemetry = telemetryClaimable ? try fetch(.telemetry, limit - businessCount, budget: telemetryBytes, firstAnyway: telemetryIdle) : []
        state.withLock { s in
            s.cursor = moved
            if business.isEmpty, telemetry.isEmpty, !telemetryWaiting { s.emptyAtGeneration = generation }
        }
        return business + telemetry
    }

    /// Whether the cursor's own row still holds events after the cursor that are not gone (it
    /// may have been shed or delivered down to nothing since, or be gone altogether).
    private static func hasUnclaimed(_ db: Database, after cursor: ClaimCursor) throws -> Bool {
        guard cursor.position.index + 1 < cursor.rowEvents,
              let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT gone FROM batches WHERE seq = ?"), arguments: [cursor.position.row])
        else { return false }
        let gone = GoneMask(bytes: [UInt8](row["gone"] as Data))
        return (cursor.position.index + 1..<cursor.rowEvents).contains { !gone.contains($0) }
    }

    /// Reads `batch_bodies.body` of one row after another (`sqlite3_blob_reopen` moves the
    /// open handle to the next row). `close` when done.
    private struct BodyReader {
        private let connection: OpaquePointer?
        private var handle: OpaquePointer?

        init(_ db: Database) { connection = db.sqliteConnection }

        /// The body of row `seq`; nil when it cannot be read.
        mutating func read(_ seq: Int64) -> [UInt8]? {
            let code = if let handle { sqlite3_blob_reopen(handle, seq) } else { sqlite3_blob_open(connection, "main", "batch_bodies", "body", seq, 0, &handle) }
            guard code == SQLITE_OK, let handle else {
                close()
                return nil
            }
            let size = Int(sqlite3_blob_bytes(handle))
            var status = SQLITE_OK
            let body = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
                if size > 0 { status = sqlite3_blob_read(handle, buffer.baseAddress, CInt(clamping: size), 0) }
                initialized = status == SQLITE_OK ? size : 0
            }
            return status == SQLITE_OK ? body : nil
        }

        mutating func close() {
            if let handle { sqlite3_blob_close(handle) }
            handle = nil
        }
    }

    /// A text or blob column's bytes, valid until the statement steps or resets.
    private static func bytes(_ statement: OpaquePointer, _ column: Int32) -> UnsafeRawBufferPointer {
        let pointer = sqlite3_column_blob(statement, column)
        let count = Int(sqlite3_column_bytes(statement, column))
        return UnsafeRawBufferPointer(start: count > 0 ? pointer : nil, count: count)
    }

    /// After a failed delivery, once nothing is in flight: hand out everything still spooled
    /// and not yet delivered again, from the oldest.
    func resetClaims() {
        claimGate.withLock { _ in
            state.withLock {
                $0.cursor = [:]
                $0.generation &+= 1
            }
        }
    }

    /// False when the last claim found nothing and nothing was spooled since.
    var mayHaveUnclaimed: Bool { state.withLock { $0.generation != $0.emptyAtGeneration } }

    /// Up to `limit` spooled events not yet gone, in arrival order, read without claiming them:
    /// the edge benchmark's baseline producer sends exactly the records the forwarder will.
    public func peek(limit: Int) throws -> [SpoolEntry] {
        guard limit > 0 else { return [] }
        return try pool.read { db in
            var entries: [SpoolEntry] = []
            let rows = try Row.fetchCursor(db, sql: "SELECT seq, class, lane, arrived_ms, events, gone, body FROM batches JOIN batch_bodies USING (seq) ORDER BY seq")
            while entries.count < limit, let row = try rows.next() {
                let seq: Int64 = row["seq"], events: Int = row["events"], lane: String = row["lane"], arrivedMs: Int64 = row["arrived_ms"]
                let priority = Self.priority(code: row["class"])
                let gone = GoneMask(bytes: [UInt8](row["gone"] as Data))
                let body: Data = row["body"]
                _ = body.withUnsafeBytes { raw in
                    SpoolBatch.forEach(raw, expected: events) { index, event in
                        guard !gone.contains(index) else { return true }
                        guard let headers = HeaderCoding.decode(event.headers) else { return true }
                        entries.append(SpoolEntry(
                            position: SpoolPosition(row: seq, index: index), priority: priority, lane: lane,
                            topic: String(decoding: event.topic, as: UTF8.self), key: event.key.map { Array($0) }, value: Array(event.value),
                            headers: headers, eventID: String(decoding: event.eventID, as: UTF8.self), arrivedMs: arrivedMs))
                        return entries.count < limit
                    }
                }
            }
            return entries
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
                    // Through `(class, seq)`: the class's oldest rows are read until one is the
                    // lane's (immediate for telemetry, which is one lane; bounded by the business
                    // rows, a few per request, otherwise).
                    entry.oldestArrivedMs = try Int64.fetchOne(
                        db, sql: "SELECT arrived_ms FROM batches WHERE class = ? AND lane = ? ORDER BY seq LIMIT 1", arguments: [depth.priority.code, name])
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
        configuration.busyMode = .timeout(busyTimeout)
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        return try queue.read { db in try statistics(db, quota: quota) }
    }

    static func statistics(_ db: Database, quota: [PriorityClass: Int64]) throws -> SpoolStatistics {
        // A file an older edge wrote, not opened by this one yet, holds a row per event in `spool`.
        let perEvent = try db.tableExists("spool")
        let (table, events, bytes) = perEvent ? ("spool", "1", "bytes") : ("batches", "events - gone_events", "bytes - gone_bytes")
        var lanes: [String: SpoolStatistics.Lane] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT lane, SUM(\(events)) AS n, SUM(\(bytes)) AS b, MIN(arrived_ms) AS oldest FROM \(table) GROUP BY lane") {
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
            classBytes[priority.rawValue] = try Int64.fetchOne(
                db, sql: "SELECT COALESCE(SUM(\(bytes)), 0) FROM \(table) WHERE class = ?", arguments: [priority.code]) ?? 0
        }
        return SpoolStatistics(
            lanes: lanes.values.sorted { $0.lane < $1.lane }, classBytes: classBytes,
            quota: Dictionary(uniqueKeysWithValues: quota.map { ($0.key.rawValue, $0.value) }))
    }
}
