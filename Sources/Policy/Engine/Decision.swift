/// What the policy decided for one event.
public struct Decision: Sendable {
    public var policyVersion: String
    /// The rule that decided (nil for decoding, contract and authority failures, and "no rule matched").
    public var ruleID: String?
    /// nil when decoding failed.
    public var event: DecodedEvent?
    public var outcome: Outcome
    /// The work order the event was correlated with (named by the event, or the active order
    /// on its asset), if any. Dead letters carry it too when a candidate rule finds one.
    public var workOrderID: String? = nil
}

public enum Outcome: Sendable {
    /// Governed events for workflow topics (one per target; a rule may fan out).
    case workflow([Emission])
    /// The event itself, key and body unchanged, goes to analytics topics only. The route is
    /// shared by every decision of its rule, so the commonest outcome copies nothing per event;
    /// `Decision.emissions(for:)` spells out the records.
    case analytics(AnalyticsRoute)
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

    /// The topics this outcome produces to, in order.
    public var targetTopics: [String] {
        switch self {
        case .workflow(let emissions): emissions.map(\.topic)
        case .analytics(let route): route.topics
        default: []
        }
    }
}

/// Where an analytics rule sends the events of one type: its topics and the type the copies
/// carry. Built when the engine starts, once per rule and event type.
public final class AnalyticsRoute: Sendable {
    public let topics: [String]
    public let eventType: String

    init(topics: [String], eventType: String) {
        self.topics = topics
        self.eventType = eventType
    }
}

extension Decision {
    /// The events to produce for `raw`, the event this decision was made for (empty for drops
    /// and dead letters). Analytics copies keep the source key and body.
    public func emissions(for raw: RawEvent) -> [Emission] {
        var emissions: [Emission] = []
        forEachEmission(for: raw) { emissions.append($0) }
        return emissions
    }

    /// Calls `body` with each of `emissions(for:)` in order, without collecting them: the router
    /// turns each into its output at once, and an array per analytics event was an allocation
    /// and a free per event.
    public func forEachEmission(for raw: RawEvent, _ body: (Emission) -> Void) {
        switch outcome {
        case .workflow(let emissions):
            for emission in emissions { body(emission) }
        case .analytics(let route):
            let payload = event?.passThroughBody(of: raw) ?? raw.value
            for topic in route.topics {
                body(Emission(topic: topic, key: raw.key, eventType: route.eventType, payload: payload, correlationID: workOrderID))
            }
        case .drop, .deadLetter:
            return
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
