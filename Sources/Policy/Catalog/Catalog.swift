/// The topic catalog (Topics/catalog.yaml): every topic the router reads or writes, its lane,
/// owner, keying, retention and contract, plus the lanes with their data authority.
public struct Catalog: Sendable {
    public var lanes: [Lane]
    public var topics: [Topic]
    /// Bounds on every consumed record (the `limits:` section); a record over one is
    /// dead-lettered with reason `parse`, and an event too far in the future moves no window.
    public var limits: InputLimits

    public func topic(named name: String) -> Topic? { topics.first { $0.name == name } }
    public func lane(named name: String) -> Lane? { lanes.first { $0.name == name } }
    /// The topic of role `audit`; without one each instance's trail is its own.
    public var auditTopic: Topic? { topics.first { $0.role == .audit } }
}

/// A domain that runs in isolation (own consumer, producer, queue, dead-letter topic).
public struct Lane: Sendable {
    public var name: String
    /// Consume → produce → commit offsets in one Kafka transaction.
    public var transactional: Bool
    public var deadLetterTopic: String
    public var objectives: Objectives
    /// Allow-list: an event whose (source, type) matches no grant is dead-lettered with reason `authority`.
    public var authority: [AuthorityGrant]
    public var description: String?

    /// Service objectives that alert rules compare against.
    public struct Objectives: Sendable {
        public var p99LatencyMs: Int
        public var maxLag: Int
    }

    /// True when `source` may emit `type` in this lane.
    public func authorises(source: some Collection<UInt8>, type: some Collection<UInt8>) -> Bool {
        authority.contains { grant in
            grant.sources.contains { $0.matches(source) } && grant.types.contains { $0.matches(type) }
        }
    }
}

/// Sources (CloudEvents `source` globs) that may emit the listed event type globs.
public struct AuthorityGrant: Sendable {
    public var name: String
    public var sources: [Glob]
    public var types: [Glob]
}

public enum TopicRole: String, Sendable, CaseIterable {
    /// Plant events the router consumes.
    case source
    /// Governed events for ERP/QMS/maintenance/TMS.
    case workflow
    case analytics
    /// `dlq.<lane>`: never a rule target, written by the router on failures.
    case deadLetter = "dead-letter"
    /// Compacted state the router reads (MES work orders), never a rule target.
    case correlation
    /// The router's own trail, written and read by every instance (Docs/Ledger.md); at most
    /// one per catalog, never a rule target.
    case audit
}

public enum CleanupPolicy: String, Sendable, CaseIterable { case delete, compact }

/// How the router's producers compress records to a topic (librdkafka `compression.codec`).
public enum Compression: String, Sendable, CaseIterable {
    case none, gzip, snappy, lz4, zstd
    /// Enterprise topics are compressed unless the catalog says otherwise.
    public static let `default` = Compression.lz4
}

public struct Topic: Sendable {
    public var name: String
    public var lane: String
    public var role: TopicRole
    public var owner: String
    /// What the Kafka key is (e.g. "asset id"); documentation for subscribers.
    public var key: String
    public var partitions: Int
    public var replicationFactor: Int
    public var cleanup: CleanupPolicy
    /// Retention as written (e.g. "7d"), nil for compacted topics that keep forever.
    public var retention: String?
    public var retentionMs: Int64?
    /// What the router's producers compress this topic's records with.
    public var compression: Compression = .default
    public var contractVersion: String
    public var description: String?
    /// Event types this topic carries, each with its JSON Schema.
    public var events: [TopicEvent]
    public var location: SourceLocation

    public func event(type: some Collection<UInt8>) -> TopicEvent? {
        events.first { $0.typeBytes.elementsEqual(type) }
    }
}

public struct TopicEvent: Sendable {
    public var type: String
    public var schemaFile: String
    public var schema: JSONSchema
    public var description: String?
    var typeBytes: [UInt8]
}
