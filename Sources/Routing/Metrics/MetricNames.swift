/// Every metric PlantRouter exports (Prometheus names). Deploy/ alert rules and
/// dashboards use these names; a test checks that they reference nothing else.
public enum MetricNames {
    /// Counter{lane}: records read from the lane's source topics.
    public static let consumed = "plantrouter_events_consumed_total"
    /// Counter{lane, outcome}: decisions by outcome (workflow, analytics, drop, dead_letter).
    public static let classified = "plantrouter_events_classified_total"
    /// Counter{lane, topic}: outputs acknowledged by the cluster.
    public static let produced = "plantrouter_events_produced_total"
    /// Counter{lane, reason}: events written to the lane's dead-letter topic.
    public static let deadLettered = "plantrouter_dead_letters_total"
    /// Counter{lane}: outputs produced again after a failed delivery.
    public static let retries = "plantrouter_produce_retries_total"
    /// Counter{lane}: failed deliveries and transaction failures.
    public static let producerErrors = "plantrouter_producer_errors_total"
    /// Counter{lane, result}: transactions committed or aborted (transactional lanes).
    public static let transactions = "plantrouter_transactions_total"
    /// Gauge{lane}: records on the lane's assigned partitions not yet consumed.
    public static let lag = "plantrouter_lane_lag"
    /// Gauge{lane}: 1 while backpressure or an open circuit pauses the lane's partitions.
    public static let paused = "plantrouter_lane_paused"
    /// Timer{lane}: source record timestamp → output acknowledged, in seconds.
    public static let endToEndLatency = "plantrouter_end_to_end_latency_seconds"
    /// Counter{result}: policy reloads that succeeded or failed (the old policy stays active).
    public static let policyReloads = "plantrouter_policy_reloads_total"
    /// Gauge: 1 once every lane is assigned and its producer healthy.
    public static let ready = "plantrouter_ready"
    /// Counter: audit/idempotency ledger writes that failed (each is retried; nothing is dropped).
    public static let ledgerWriteFailures = "plantrouter_ledger_write_failures_total"
    /// Gauge: 1 while the ledger takes writes, 0 while they fail (lanes are paused then).
    public static let ledgerHealthy = "plantrouter_ledger_healthy"
    /// Gauge: audit records and produced outputs queued for the ledger.
    public static let ledgerBacklog = "plantrouter_ledger_backlog"

    /// Gauge: entries on the audit topic this instance's ledger has not indexed yet.
    public static let auditIndexLag = "plantrouter_audit_index_lag"
    /// Counter: audit topic records the index skipped because they were not audit entries.
    public static let auditIndexSkipped = "plantrouter_audit_index_skipped_total"

    /// Gauge{lane, quantile}: end-to-end latency percentiles (0.5, 0.99) over the last 60 s.
    public static let latencyWindow = "plantrouter_lane_latency_window_seconds"
    /// Gauge{version, librdkafka}: always 1; the labels say what runs.
    public static let buildInfo = "plantrouter_build_info"

    public static let all = [
        consumed, classified, produced, deadLettered, retries, producerErrors, transactions,
        lag, paused, endToEndLatency, policyReloads, ready, ledgerWriteFailures, ledgerHealthy, ledgerBacklog,
        auditIndexLag, auditIndexSkipped, latencyWindow, buildInfo,
    ]

    /// The `# HELP` text of every metric above, as `/metrics` prints it.
    public static let help: [String: String] = [
        consumed: "Records read from the lane's source topics.",
        classified: "Policy decisions by outcome (workflow, analytics, drop, dead_letter).",
        produced: "Outputs acknowledged by the cluster, by lane and target topic.",
        deadLettered: "Events written to the lane's dead-letter topic, by reason.",
        retries: "Outputs produced again after a failed delivery.",
        producerErrors: "Failed deliveries and transaction failures.",
        transactions: "Transactions committed or aborted (transactional lanes).",
        lag: "Records on the lane's assigned partitions not yet consumed: high watermark minus position, or minus the committed offset for a partition nothing was consumed from since assignment.",
        paused: "1 while backpressure, an open circuit or a failing ledger pauses the lane's partitions.",
        endToEndLatency: "Source record timestamp to output acknowledged, in seconds (cumulative histogram; use rate() over a window).",
        policyReloads: "Policy reloads that succeeded or failed (a failed reload keeps the previous policy).",
        ready: "1 once every lane is assigned, its producer healthy and the ledger takes writes.",
        ledgerWriteFailures: "Audit and idempotency ledger writes that failed (each is retried; nothing is dropped).",
        ledgerHealthy: "1 while the SQLite ledger takes writes, 0 while writes fail (lanes are paused then).",
        ledgerBacklog: "Audit records and produced outputs queued for the ledger.",
        auditIndexLag: "Entries on the audit topic (every instance's decisions and produced keys) this instance's ledger has not indexed yet; trace and replay dedup lag by as much.",
        auditIndexSkipped: "Records on the audit topic the index skipped because they were not audit entries.",
        latencyWindow: "End-to-end latency percentiles over the last 60 s (six 10 s slices: 50 to 60 s of data), in seconds; absent while the lane produced nothing in that window.",
        buildInfo: "Always 1; the version and librdkafka labels say what runs.",
    ]
}
