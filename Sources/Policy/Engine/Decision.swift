/// What the policy decided for one event.
public struct Decision: Sendable {
    public var policyVersion: String
    /// The rule that decided (nil for decoding, contract and authority failures, and "no rule matched").
    public var ruleID: String?
    /// nil when decoding failed.
    public var event: DecodedEvent?
    public var outcome: Outcome
}

public enum Outcome: Sendable {
    /// Governed events for workflow topics (one per target; a rule may fan out).
    case workflow([Emission])
    /// The event goes to analytics topics only.
    case analytics([Emission])
    /// Counted and discarded.
    case drop(reason: String)
    /// To the lane's dead-letter topic with the original bytes.
    case deadLetter(reason: DeadLetterReason, message: String)

    /// `workflow`, `analytics`, `drop` or `dead-letter:<reason>` (metrics labels, diff output).
    public var label: String {
        switch self {
        case .workflow: "workflow"
        case .analytics: "analytics"
        case .drop: "drop"
        case .deadLetter(let reason, _): "dead-letter:\(reason.rawValue)"
        }
    }

    public var emissions: [Emission] {
        switch self {
        case .workflow(let e), .analytics(let e): e
        default: []
        }
    }
}

/// One event to produce.
public struct Emission: Sendable {
    public var topic: String
    public var key: [UInt8]?
    /// CloudEvents type of the produced event (`ce_type`).
    public var eventType: String
    /// JSON body.
    public var payload: [UInt8]
    /// The work order id (`correlation-id` header), when known.
    public var correlationID: String?

    public init(topic: String, key: [UInt8]?, eventType: String, payload: [UInt8], correlationID: String?) {
        self.topic = topic
        self.key = key
        self.eventType = eventType
        self.payload = payload
        self.correlationID = correlationID
    }
}

/// `policy explain`: the decision plus each rule tried and why it did or did not match.
public struct Explanation: Sendable {
    public struct Step: Sendable {
        public var ruleID: String
        public var matched: Bool
        public var reason: String
        /// Values of the names the rule reads (`payload.value = 41`), when it got that far.
        public var values: [(name: String, value: String)]
    }

    public var decision: Decision
    public var steps: [Step]
    /// Envelope, contract and authority checks passed (or the one that failed).
    public var checks: [String]
}
