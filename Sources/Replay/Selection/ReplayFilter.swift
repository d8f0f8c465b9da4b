import Foundation
import Ledger

/// Which records an inspection or a replay selects. Every field that is set must match;
/// text fields match exactly, except `type` and `source`, which accept a trailing `*`.
public struct ReplayFilter: Sendable, Codable, Hashable {
    /// Record timestamps in `from..<until`. Dead letters keep their original event's timestamp.
    public var from: Date?
    public var until: Date?
    /// Dead-letter reason: parse, schema, authority, policy, target, quarantine.
    public var reason: String?
    public var type: String?
    public var source: String?
    public var key: String?
    /// A work order (or event id): selects the records of its trail in the ledger, as
    /// `plantrouter trace` shows it: the source events the router decided for it and every
    /// output it produced for them, dead letters included (see `TrailMembers`).
    public var correlationID: String?
    /// The CloudEvents id (`ce_id`) of the one event to select.
    public var eventID: String?

    public init(
        from: Date? = nil, until: Date? = nil, reason: String? = nil, type: String? = nil, source: String? = nil,
        key: String? = nil, correlationID: String? = nil, eventID: String? = nil
    ) {
        self.from = from
        self.until = until
        self.reason = reason
        self.type = type
        self.source = source
        self.key = key
        self.correlationID = correlationID
        self.eventID = eventID
    }

    /// The trail `correlationID` selects, read from `ledger`; nil without a correlation filter.
    public func trail(in ledger: Ledger?) throws -> TrailMembers? {
        guard let correlationID else { return nil }
        guard let ledger else { throw ReplayError.trailNeedsLedger(correlationID) }
        return try ledger.trailMembers(of: correlationID)
    }

    /// Whether `record` passes every filter; `trail` is what `trail(in:)` returned.
    public func matches(_ record: InspectedRecord, trail: TrailMembers?) -> Bool {
        if let from, record.timestamp < from { return false }
        if let until, record.timestamp >= until { return false }
        if let reason, record.deadLetter?.reason != reason { return false }
        if let type, !Self.matches(type, record.eventType) { return false }
        if let source, !Self.matches(source, record.eventSource) { return false }
        if let key, record.key != key { return false }
        if let eventID, record.eventID != eventID { return false }
        if let correlationID {
            guard let trail, trail.id == correlationID, trail.contains(record.position, original: record.originalPosition) else { return false }
        }
        return true
    }

    private static func matches(_ pattern: String, _ value: String?) -> Bool {
        guard let value else { return false }
        if pattern.hasSuffix("*") { return value.hasPrefix(pattern.dropLast()) }
        return value == pattern
    }
}
