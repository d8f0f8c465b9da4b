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

/// Counts of a replay job, in the one vocabulary that text output, `--json`, `replay list`
/// and the admin API share (Docs/Operations.md, "Replay counts"); `updateProgress` adds
/// deltas of this shape. Every selected event ends in exactly one outcome:
/// `selected = sent + skippedAlreadyProduced + reDeadLettered + quarantined + refused`.
/// In a dry run the outcomes are what the job would do.
public struct ReplayCounts: Sendable, Hashable, Codable {
    /// Records read that matched the filters (and were not already quarantined).
    public var selected: Int
    /// Records read that the filters left out, or already quarantined.
    public var filtered: Int
    /// Produced to their targets by this job.
    public var sent: Int
    /// Every output's idempotency key was already in the ledger: nothing sent (the event had
    /// reached its targets before, or an earlier run of this job sent it).
    public var skippedAlreadyProduced: Int
    /// The current policy dead-letters the event again: a new dead letter was written.
    public var reDeadLettered: Int
    /// Replayed `maxReplays` times already: moved to the dead-letter topic with reason quarantine.
    public var quarantined: Int
    /// Not replayed because it would write outside the lane's catalog topics (see the log).
    public var refused: Int

    enum CodingKeys: String, CodingKey {
        case selected, filtered, sent, skippedAlreadyProduced, reDeadLettered, quarantined, refused
    }

    public init(
        selected: Int = 0, filtered: Int = 0, sent: Int = 0, skippedAlreadyProduced: Int = 0, reDeadLettered: Int = 0,
        quarantined: Int = 0, refused: Int = 0
    ) {
        self.selected = selected
        self.filtered = filtered
        self.sent = sent
        self.skippedAlreadyProduced = skippedAlreadyProduced
        self.reDeadLettered = reDeadLettered
        self.quarantined = quarantined
        self.refused = refused
    }

    public static let zero = ReplayCounts()

    /// Selected events that did not reach their targets and are still dead letters.
    public var stillDeadLetters: Int { reDeadLettered + quarantined + refused }

    /// `selected 3, sent 1, skipped (already produced) 1, re-dead-lettered 1, quarantined 0, refused 0, filtered 7`.
    public var summary: String {
        "selected \(selected), sent \(sent), skipped (already produced) \(skippedAlreadyProduced), re-dead-lettered \(reDeadLettered), quarantined \(quarantined), refused \(refused), filtered \(filtered)"
    }
}

/// What a replay did with one event it selected (recorded per event for real runs, so
/// `dlq list` can tell a dead letter that a later replay delivered).
public enum ReplayEventOutcome: String, Sendable, Hashable, Codable, CaseIterable {
    case sent, skippedAlreadyProduced, reDeadLettered, quarantined, refused

    /// The event reached its targets (now or before).
    public var delivered: Bool { self == .sent || self == .skippedAlreadyProduced }
}

/// One selected event of a checkpointed chunk: where the job read it, and what it did.
public struct ReplayedEvent: Sendable, Hashable {
    public var partition: Int32
    public var offset: Int64
    public var outcome: ReplayEventOutcome

    public init(partition: Int32, offset: Int64, outcome: ReplayEventOutcome) {
        self.partition = partition
        self.offset = offset
        self.outcome = outcome
    }
}

/// The replays of one record (of a dead-letter or source topic) that real jobs made.
public struct ReplayHistory: Sendable, Hashable, Codable {
    /// How many jobs replayed it (dry runs excluded).
    public var replays: Int
    /// The job that delivered it, when one did: the record is resolved.
    public var resolvedBy: String?

    public init(replays: Int = 0, resolvedBy: String? = nil) {
        self.replays = replays
        self.resolvedBy = resolvedBy
    }
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
