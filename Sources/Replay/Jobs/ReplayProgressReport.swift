import Foundation
import Ledger

/// Where a running job stands after a checkpoint: counts, records read of the total,
/// rate and estimated time left.
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

/// What a replay did, or in a dry run would do, with one selected event.
public struct ReplayEventReport: Sendable, Codable {
    public struct Target: Sendable, Codable {
        public var topic: String
        public var idempotencyKey: String
        /// True when the ledger already had the key: the output is skipped.
        public var alreadyProduced: Bool
    }

    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var eventID: String?
    public var eventType: String?
    /// workflow, analytics, drop, dead-letter:<reason> (under the current policy), redrive or quarantine.
    public var classification: String
    public var ruleID: String?
    public var reason: String?
    public var targets: [Target]
}
