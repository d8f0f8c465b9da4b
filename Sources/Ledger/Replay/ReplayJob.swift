import Foundation

/// What an operator asks for; `Ledger.createJob` turns it into a pending `ReplayJob`.
public struct ReplayJobRequest: Sendable, Hashable, Codable {
    public var requestedBy: String
    public var mode: ReplayMode
    public var source: ReplaySource
    /// The selection filters (reason, event type, source, key, correlation id…) as JSON,
    /// owned by the Replay module; the ledger only checks that it is valid JSON.
    public var filters: String
    public var dryRun: Bool
    /// Events per second; `nil` means unlimited.
    public var rateLimit: Double?

    public init(
        requestedBy: String, mode: ReplayMode = .reroute, source: ReplaySource, filters: String = "{}",
        dryRun: Bool = false, rateLimit: Double? = nil
    ) {
        self.requestedBy = requestedBy
        self.mode = mode
        self.source = source
        self.filters = filters
        self.dryRun = dryRun
        self.rateLimit = rateLimit
    }
}

/// Counts of a replay job; `updateProgress` adds deltas of this shape.
public struct ReplayCounts: Sendable, Hashable, Codable {
    public var selected: Int
    public var sent: Int
    public var skipped: Int
    public var quarantined: Int
    public var failed: Int

    public init(selected: Int = 0, sent: Int = 0, skipped: Int = 0, quarantined: Int = 0, failed: Int = 0) {
        self.selected = selected
        self.sent = sent
        self.skipped = skipped
        self.quarantined = quarantined
        self.failed = failed
    }

    public static let zero = ReplayCounts()
}

/// A recorded replay job: who asked for what, where it is, and what it did so far.
public struct ReplayJob: Sendable, Hashable, Codable, Identifiable {
    public var id: String
    public var requestedBy: String
    public var createdAt: Date
    public var updatedAt: Date
    public var mode: ReplayMode
    public var source: ReplaySource
    public var filters: String
    public var dryRun: Bool
    public var rateLimit: Double?
    public var state: ReplayJobState
    public var counts: ReplayCounts
    public var lastError: String?
}

/// How far a job has read one source partition: a resumed job starts at `nextOffset`.
public struct ReplayProgress: Sendable, Hashable, Codable {
    public var topic: String
    public var partition: Int32
    public var nextOffset: Int64

    public init(topic: String, partition: Int32, nextOffset: Int64) {
        self.topic = topic
        self.partition = partition
        self.nextOffset = nextOffset
    }
}
