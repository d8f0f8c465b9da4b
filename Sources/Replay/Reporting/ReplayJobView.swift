import Foundation
import Ledger

/// A replay job as `replay list|status|start --json` print it (one object per line) and the
/// admin API answers it: one schema (openapi.yaml `ReplayJob`), built from the ledger's
/// `ReplayJob`, its spec and its progress. Every key is spelled here, so nothing of Swift's
/// own encoding (enum payloads as `_0`, a spec as a JSON string) reaches a reader.
public struct ReplayJobView: Sendable, Codable, Hashable {
    public struct Source: Sendable, Codable, Hashable {
        /// `deadLetter` or `sourceTopic`.
        public var kind: String
        public var topic: String
        public var lane: String?
    }

    /// The selection filters the job was created with; absent keys select everything.
    public struct Filter: Sendable, Codable, Hashable {
        public var since: Date?
        public var until: Date?
        public var reason: String?
        public var type: String?
        public var source: String?
        public var key: String?
        public var correlationId: String?
        public var eventId: String?
    }

    /// One partition of the job's plan: offsets `from..<until`, and `next`, where a resumed
    /// job continues (absent before its first checkpoint there).
    public struct Partition: Sendable, Codable, Hashable {
        public var partition: Int32
        public var from: Int64
        public var until: Int64?
        public var next: Int64?
    }

    /// Always `replayJob`: tells this line from event lines in `replay --json`.
    public var kind = "replayJob"
    public var id: String
    /// pending, running, paused, cancelling, completed, completedWithDeadLetters, cancelled, failed.
    public var state: ReplayJobState
    public var requestedBy: String
    public var createdAt: Date
    public var updatedAt: Date
    public var mode: ReplayMode
    public var dryRun: Bool
    /// Events per second; absent: no limit.
    public var rate: Double?
    public var maxReplays: Int?
    public var source: Source
    public var filter: Filter
    public var partitions: [Partition]
    public var counts: ReplayCounts
    public var lastError: String?

    enum CodingKeys: String, CodingKey {
        case kind, id, state, requestedBy, createdAt, updatedAt, mode, dryRun, rate, maxReplays, source, filter, partitions,
             counts, lastError
    }

    public init(_ job: ReplayJob, progress: [ReplayProgress] = []) {
        let spec = try? ReplayJobSpec.of(job)
        id = job.id
        state = job.state
        requestedBy = job.requestedBy
        createdAt = job.createdAt
        updatedAt = job.updatedAt
        mode = job.mode
        dryRun = job.dryRun
        rate = job.rateLimit
        maxReplays = spec?.maxReplays
        source = Source(kind: job.source.kind.rawValue, topic: job.source.topic, lane: spec?.lane)
        let selection = spec?.filter ?? ReplayFilter()
        filter = Filter(
            since: selection.from, until: selection.until, reason: selection.reason, type: selection.type,
            source: selection.source, key: selection.key, correlationId: selection.correlationID, eventId: selection.eventID)
        let reached = Dictionary(progress.filter { $0.topic == job.source.topic }.map { ($0.partition, $0.nextOffset) }) { $1 }
        if case .offsets(let planned) = job.source.range {
            partitions = planned.map { Partition(partition: $0.partition, from: $0.from, until: $0.until, next: reached[$0.partition]) }
        } else {
            partitions = []
        }
        counts = job.counts
        lastError = job.lastError
    }
}

/// The encoder behind every `--json` line and every admin API body: ISO 8601 dates, sorted
/// keys, `/` unescaped, one line per value.
public enum ReportJSON {
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    /// `value` as one line of JSON (no newline).
    public static func line(_ value: some Encodable) throws -> String {
        String(decoding: try encoder().encode(value), as: UTF8.self)
    }
}
