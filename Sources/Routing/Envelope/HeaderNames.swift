/// Header names PlantRouter writes. They are part of the published contract
/// (see Topics/README.md): subscribers and SRE tooling read them, so never rename one.
public enum HeaderNames {
    // CloudEvents 1.0 Kafka binary binding.
    public static let specVersion = "ce_specversion"
    public static let id = "ce_id"
    public static let source = "ce_source"
    public static let type = "ce_type"
    public static let time = "ce_time"
    public static let subject = "ce_subject"
    public static let contentType = "content-type"

    // Governance headers on every output.
    public static let traceparent = "traceparent"
    public static let correlationID = "correlation-id"
    public static let policyVersion = "policy-version"
    public static let ruleID = "rule-id"
    /// Deterministic from (source event id, rule id, target topic): the same
    /// source event always yields the same key.
    public static let idempotencyKey = "idempotency-key"
    /// The `ce_id` of the plant event this output was derived from.
    public static let sourceEventID = "source-event-id"
    /// How many times an event has been replayed; the loop guard reads it.
    public static let replayCount = "plantrouter-replay-count"

    /// Context added to dead letters, after the original headers (kept byte for byte).
    public enum DeadLetter {
        public static let originalTopic = "dlq-original-topic"
        public static let originalPartition = "dlq-original-partition"
        public static let originalOffset = "dlq-original-offset"
        public static let originalTimestamp = "dlq-original-timestamp"
        /// `parse`, `schema`, `authority`, `policy` or `target`.
        public static let reason = "dlq-reason"
        public static let error = "dlq-error"
        public static let ruleID = "dlq-rule-id"
        public static let policyVersion = "dlq-policy-version"
        public static let attempts = "dlq-attempts"
        /// RFC 3339 time of the first failure.
        public static let firstFailedAt = "dlq-first-failed-at"
        public static let lane = "dlq-lane"
    }
}
