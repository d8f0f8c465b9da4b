import Kafka
import Ledger
import Policy

/// One consumed record with its decision and the exact records to produce for
/// it. Prepared once: a retry re-sends these records rather than asking the
/// policy again, whose windows have already counted the event.
struct PreparedEvent {
    struct Output {
        var record: ProducerRecord
        /// Deterministic per (source event, rule, target); dead letters use their source position.
        var idempotencyKey: String
        var isDeadLetter: Bool

        /// Workflow outputs and dead letters go to the idempotency ledger and the
        /// audit trail; analytics copies do not.
        func isAudited(decision: Decision?) -> Bool {
            if isDeadLetter { return true }
            if case .workflow = decision?.outcome { return true }
            return false
        }
    }

    var source: ConsumerRecord
    var decision: Decision
    var outputs: [Output]
    /// Written for every event that is not plain analytics.
    var audit: AuditRecord?
}

extension Decision {
    /// The policy's dead-letter reason, when it decided to dead-letter.
    var deadLetterReason: DeadLetterReason? {
        if case .deadLetter(let reason, _) = outcome { return reason }
        return nil
    }
}
