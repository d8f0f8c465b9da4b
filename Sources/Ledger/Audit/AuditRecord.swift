import Foundation

/// What the policy decided for one event.
public enum AuditOutcome: String, Sendable, Hashable, Codable, CaseIterable {
    case workflow
    case analytics
    case drop
    case deadLetter
}

/// One message the router produced (or is producing) for an event.
public struct AuditOutput: Sendable, Hashable, Codable {
    public var topic: String
    /// `nil` until the delivery report arrives (see `Ledger.recordProduced`).
    public var partition: Int32?
    /// `nil` until the delivery report arrives (see `Ledger.recordProduced`).
    public var offset: Int64?
    public var idempotencyKey: String

    public init(topic: String, partition: Int32? = nil, offset: Int64? = nil, idempotencyKey: String) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.idempotencyKey = idempotencyKey
    }

    public var isDelivered: Bool { offset != nil }
}

/// An event's decision and outputs, as `plantrouter trace` shows it.
public struct AuditRecord: Sendable, Hashable, Codable {
    /// Names this decision across the cluster: the instance (or replay job) that made it and the
    /// source position it decided. The same decision arriving twice (written locally, then read
    /// back from the audit topic) is stored once. Nil for records of releases before the topic.
    public var recordID: String?
    public var eventID: String
    public var lane: String
    public var sourceTopic: String
    public var sourcePartition: Int32
    public var sourceOffset: Int64
    public var eventType: String
    public var eventSource: String
    /// The work order the event was matched to, when known.
    public var correlationID: String?
    public var ruleID: String?
    public var policyVersion: String
    public var outcome: AuditOutcome
    public var reason: String?
    /// Stored with millisecond precision.
    public var recordedAt: Date
    public var outputs: [AuditOutput]

    public init(
        recordID: String? = nil,
        eventID: String,
        lane: String,
        sourceTopic: String,
        sourcePartition: Int32,
        sourceOffset: Int64,
        eventType: String,
        eventSource: String,
        correlationID: String? = nil,
        ruleID: String? = nil,
        policyVersion: String,
        outcome: AuditOutcome,
        reason: String? = nil,
        recordedAt: Date = Date(),
        outputs: [AuditOutput] = []
    ) {
        self.recordID = recordID
        self.eventID = eventID
        self.lane = lane
        self.sourceTopic = sourceTopic
        self.sourcePartition = sourcePartition
        self.sourceOffset = sourceOffset
        self.eventType = eventType
        self.eventSource = eventSource
        self.correlationID = correlationID
        self.ruleID = ruleID
        self.policyVersion = policyVersion
        self.outcome = outcome
        self.reason = reason
        self.recordedAt = recordedAt
        self.outputs = outputs
    }
}
