import Kafka
import Ledger
import Policy

/// One consumed record with its decision and the exact records to produce for
/// it. Prepared once: a retry re-sends these records rather than asking the
/// policy again, whose windows have already counted the event.
public struct PreparedEvent {
    public struct Output {
        public var record: ProducerRecord
        /// Deterministic per (source event, rule, target); dead letters use their source position.
        /// Kept as the header bytes: most outputs are never audited, so never need the `String`.
        public var idempotencyKeyBytes: [UInt8]
        public var isDeadLetter: Bool

        public var idempotencyKey: String { String(decoding: idempotencyKeyBytes, as: UTF8.self) }

        /// Workflow outputs and dead letters go to the idempotency ledger and the
        /// audit trail; analytics copies do not.
        public func isAudited(decision: Decision) -> Bool {
            if isDeadLetter { return true }
            switch decision.outcome {
            case .workflow: return true
            // Correlated analytics are in the work order's trail, with their positions.
            case .analytics: return decision.workOrderID != nil
            default: return false
            }
        }
    }

    public var source: ConsumerRecord
    public var decision: Decision
    public var outputs: [Output]
    /// Written for every event that is not plain analytics.
    public var audit: AuditRecord?
}

/// What an output still in flight keeps of its event's decision: what a dead letter written for
/// it later names (rule, policy version) and counts under (reason). Nothing else of the decision
/// (its parsed event, its outcome's emissions) is needed once librdkafka holds the output.
/// Immutable and shared: consecutive decisions nearly always name the same rule and version, and
/// one reference per output costs less than the two strings it holds (see `sharing(_:for:)`).
final class DecisionContext {
    let ruleID: String?
    let policyVersion: String
    let deadLetterReason: DeadLetterReason?

    init(_ decision: Decision) {
        ruleID = decision.ruleID
        policyVersion = decision.policyVersion
        deadLetterReason = decision.deadLetterReason
    }

    /// `previous` when it says the same as `decision` would, else a new context.
    static func sharing(_ previous: DecisionContext?, for decision: Decision) -> DecisionContext {
        if let previous, previous.ruleID == decision.ruleID, previous.policyVersion == decision.policyVersion,
           previous.deadLetterReason == decision.deadLetterReason {
            return previous
        }
        return DecisionContext(decision)
    }
}

extension Decision {
    /// The policy's dead-letter reason, when it decided to dead-letter.
    var deadLetterReason: DeadLetterReason? {
        if case .deadLetter(let reason, _) = outcome { return reason }
        return nil
    }
}
