import Foundation
import Ledger

/// Where a running job stands: counts, records read of the total, rate and estimated time
/// left. Reported at every checkpoint and at most every 200 ms between them.
public struct ReplayProgressReport: Sendable, Codable {
    public var jobID: String
    public var counts: ReplayCounts
    /// Records read in the job's ranges (selected or not), and their total.
    public var read: Int64
    public var total: Int64
    /// Records read per second in this run.
    public var rate: Double
    /// Seconds left at the current rate; nil until there is a rate.
    public var etaSeconds: Double?
}

/// What a replay did, or in a dry run would do, with one selected event: a line of
/// `replay --dry-run --json` and an element of the admin API's dry-run `events`
/// (openapi.yaml `ReplayEvent`).
public struct ReplayEventReport: Sendable, Codable, Hashable {
    public struct Target: Sendable, Codable, Hashable {
        public var topic: String
        public var idempotencyKey: String
        /// True when the ledger already had the key: the output is skipped.
        public var alreadyProduced: Bool
    }

    /// Always `replayEvent`: tells these lines from the job line in `replay --json`.
    public var kind: String { "replayEvent" }
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var eventID: String?
    public var eventType: String?
    /// workflow, analytics, drop, dead-letter:<reason> (under the current policy), redrive,
    /// quarantine or refused.
    public var classification: String
    /// Which count the event adds to (`ReplayCounts`).
    public var outcome: ReplayEventOutcome
    public var ruleID: String?
    public var reason: String?
    public var targets: [Target]

    enum CodingKeys: String, CodingKey {
        case kind, topic, partition, offset, eventID, eventType, classification, outcome, ruleID, reason, targets
    }

    init(
        topic: String, partition: Int32, offset: Int64, eventID: String?, eventType: String?, classification: String,
        outcome: ReplayEventOutcome, ruleID: String? = nil, reason: String? = nil, targets: [Target]
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.eventID = eventID
        self.eventType = eventType
        self.classification = classification
        self.outcome = outcome
        self.ruleID = ruleID
        self.reason = reason
        self.targets = targets
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        topic = try container.decode(String.self, forKey: .topic)
        partition = try container.decode(Int32.self, forKey: .partition)
        offset = try container.decode(Int64.self, forKey: .offset)
        eventID = try container.decodeIfPresent(String.self, forKey: .eventID)
        eventType = try container.decodeIfPresent(String.self, forKey: .eventType)
        classification = try container.decode(String.self, forKey: .classification)
        outcome = try container.decode(ReplayEventOutcome.self, forKey: .outcome)
        ruleID = try container.decodeIfPresent(String.self, forKey: .ruleID)
        reason = try container.decodeIfPresent(String.self, forKey: .reason)
        targets = try container.decode([Target].self, forKey: .targets)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        try container.encode(topic, forKey: .topic)
        try container.encode(partition, forKey: .partition)
        try container.encode(offset, forKey: .offset)
        try container.encodeIfPresent(eventID, forKey: .eventID)
        try container.encodeIfPresent(eventType, forKey: .eventType)
        try container.encode(classification, forKey: .classification)
        try container.encode(outcome, forKey: .outcome)
        try container.encodeIfPresent(ruleID, forKey: .ruleID)
        try container.encodeIfPresent(reason, forKey: .reason)
        try container.encode(targets, forKey: .targets)
    }
}
