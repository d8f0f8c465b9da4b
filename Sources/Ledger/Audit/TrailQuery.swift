import Foundation

/// Which records of a trail to read: the one selection `trace`, `GET /v1/trace/{id}` and
/// `--correlation-id` (dlq, replay) share.
///
/// The trail of an id holds every audit record whose correlation id (work order) is the id,
/// plus the records of an event with that id. Order: `recordedAt`, then source offset, then
/// insertion, which is also the order of the indexes that serve it, so a read streams from
/// the first row without sorting.
public struct TrailQuery: Sendable, Hashable {
    /// A work-order id or an event id.
    public var id: String
    /// Records at or after this time.
    public var since: Date?
    /// Records before this time.
    public var until: Date?
    /// Event type; a trailing `*` matches a prefix (as in `dlq` and `replay` filters).
    public var type: String?
    public var outcome: AuditOutcome?
    /// Records after this position (from `TrailCursor`), for paging.
    public var after: TrailCursor?
    /// At most this many records (nil: all).
    public var limit: Int?

    public init(
        id: String, since: Date? = nil, until: Date? = nil, type: String? = nil, outcome: AuditOutcome? = nil,
        after: TrailCursor? = nil, limit: Int? = nil
    ) {
        self.id = id
        self.since = since
        self.until = until
        self.type = type
        self.outcome = outcome
        self.after = after
        self.limit = limit
    }
}

/// Where a page of a trail ended: opaque text for clients (`?after=`), the record's sort
/// key inside. It stays valid while records are appended (they sort after it) and after the
/// record itself is pruned.
public struct TrailCursor: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// `recorded_at` as stored (text that sorts like the time).
    var recordedAt: String
    var sourceOffset: Int64
    var rowID: Int64

    init(recordedAt: String, sourceOffset: Int64, rowID: Int64) {
        self.recordedAt = recordedAt
        self.sourceOffset = sourceOffset
        self.rowID = rowID
    }

    /// Parses what `description` printed; nil for anything else.
    public init?(_ text: String) {
        guard text.utf8.count <= 200 else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.utf8.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let decoded = String(data: data, encoding: .utf8) else { return nil }
        let parts = decoded.split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, let offset = Int64(parts[1]), let row = Int64(parts[2]) else { return nil }
        self.init(recordedAt: String(parts[0]), sourceOffset: offset, rowID: row)
    }

    public var description: String {
        Data("\(recordedAt)|\(sourceOffset)|\(rowID)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public static func < (a: TrailCursor, b: TrailCursor) -> Bool {
        (a.recordedAt, a.sourceOffset, a.rowID) < (b.recordedAt, b.sourceOffset, b.rowID)
    }
}

/// One page of a trail: its records and, when more follow, the cursor to ask for next.
public struct TrailPage: Sendable, Hashable {
    public var records: [AuditRecord]
    public var next: TrailCursor?
}

/// A position on a topic, for matching records against a trail (`TrailMembers`).
public struct TopicPosition: Sendable, Hashable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64

    public init(topic: String, partition: Int32, offset: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }
}

/// Everything on Kafka that belongs to one trail: the source events the router decided, and
/// every output (dead letters included) whose delivery it recorded. What `--correlation-id`
/// selects in `dlq` and `replay`, so they agree with `trace` by construction.
public struct TrailMembers: Sendable, Hashable {
    public var id: String
    public var sources: Set<TopicPosition>
    public var outputs: Set<TopicPosition>

    public init(id: String, sources: Set<TopicPosition> = [], outputs: Set<TopicPosition> = []) {
        self.id = id
        self.sources = sources
        self.outputs = outputs
    }

    /// True for a record at `position`, or for a dead letter whose original is at `original`.
    public func contains(_ position: TopicPosition, original: TopicPosition? = nil) -> Bool {
        sources.contains(position) || outputs.contains(position) || original.map(sources.contains) == true
    }
}
