import Foundation

/// One record of the audit topic (catalog role `audit`): a decision with its outputs, the
/// idempotency keys an instance or replay produced, or both. Every instance writes them (in the
/// lane's transaction where the lane is transactional) and every instance reads all of them
/// back into its ledger, so `trace` and replay dedup see the whole cluster.
///
/// JSON, so an operator can read the topic with any consumer. Written by the router only, yet
/// read as hostile: `decode` refuses records over the size its caller allows
/// (`InputLimits.maxAuditEntryBytes`) and anything that is not an entry.
public struct AuditEntry: Sendable, Hashable, Codable {
    /// The CloudEvents type the catalog declares for the audit topic.
    public static let eventType = "plantrouter.audit.entry"
    /// The format this release writes; `decode` refuses newer ones rather than guess.
    public static let currentVersion = 1
    public var version: Int
    public var record: AuditRecord?
    /// Outputs confirmed by the cluster, by idempotency key.
    public var produced: [ProducedOutput]

    public init(record: AuditRecord?, produced: [ProducedOutput]) {
        version = Self.currentVersion
        self.record = record
        self.produced = produced
    }

    /// The record key: the work order when the decision was correlated, else the event id, so
    /// one order's or one event's entries share a partition and stay in order.
    public var key: String {
        record?.correlationID ?? record?.eventID ?? produced.first?.idempotencyKey ?? ""
    }

    /// Encodes with Foundation's `JSONEncoder`: the reference for the lanes' faster encoder
    /// (Routing's `AuditEntryEncoder`), which must write what this decodes the same.
    public func encoded() throws -> [UInt8] {
        Array(try Self.encoder.encode(self))
    }

    /// Decodes with Foundation's `JSONDecoder`: the reference for the indexer's faster decoder
    /// (Routing's `AuditEntryDecoder`), which must agree with it.
    public static func decode(_ bytes: [UInt8], maxBytes: Int) throws(AuditEntryError) -> AuditEntry {
        guard bytes.count <= maxBytes else { throw .tooLarge(bytes.count, limit: maxBytes) }
        let entry: AuditEntry
        do {
            entry = try decoder.decode(AuditEntry.self, from: Data(bytes))
        } catch {
            throw .malformed("\(error)")
        }
        try entry.validate()
        return entry
    }

    /// What a decoded entry must hold beyond its shape: a format this release reads, times the
    /// ledger can store, and a `recordID` on every decision.
    public func validate() throws(AuditEntryError) {
        guard version <= Self.currentVersion else { throw .newerVersion(version) }
        for time in [record?.recordedAt].compactMap(\.self) + produced.map(\.producedAt)
        where !Self.timeRange.contains(time.timeIntervalSince1970) {
            throw .malformed("time \(time.timeIntervalSince1970 * 1000) ms is outside years 1970…9999")
        }
        if let record, (record.recordID ?? "").isEmpty { throw .malformed("a decision without recordID") }
    }

    /// Times an entry may carry, in seconds since the epoch (years 1970 through 9999): the ledger
    /// stores times as text, which holds no other years.
    public static let timeRange: ClosedRange<Double> = 0...253_402_300_799

    // Dates as milliseconds since the epoch: the precision the ledger stores.
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .millisecondsSince1970
        return encoder
    }()

    private static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return decoder
    }()
}

/// Why an audit topic record was not read into the index (it is skipped and counted).
public enum AuditEntryError: Error, Sendable, CustomStringConvertible {
    case tooLarge(Int, limit: Int)
    case malformed(String)
    case newerVersion(Int)

    public var description: String {
        switch self {
        case .tooLarge(let bytes, let limit): "\(bytes) bytes, over InputLimits.maxAuditEntryBytes (\(limit))"
        case .malformed(let why): "not an audit entry: \(why)"
        case .newerVersion(let version): "format version \(version) is newer than this release reads (\(AuditEntry.currentVersion)); upgrade this instance"
        }
    }
}
