import Foundation
import Ledger
import Policy

/// What an operator asks a replay to do: the same options on the command line
/// (`plantrouter replay`) and in `POST /v1/replays`.
public struct ReplayRequest: Sendable, Codable, Hashable {
    /// Replay a lane's dead-letter topic…
    public var fromDLQ: String?
    /// …or a source topic's range.
    public var topic: String?
    /// First offset to read in every partition (inclusive).
    public var fromOffset: Int64?
    /// Last offset to read in every partition (inclusive).
    public var toOffset: Int64?
    /// Only this partition (with fromOffset = toOffset: exactly one record).
    public var partition: Int32?
    /// Exactly one event: the latest record in range whose CloudEvents id (`ce_id`) is this.
    public var eventId: String?
    /// Record timestamps in `since..<until`.
    public var since: Date?
    public var until: Date?
    public var reason: String?
    public var type: String?
    public var source: String?
    public var key: String?
    public var correlationId: String?
    public var mode: ReplayMode?
    public var dryRun: Bool?
    /// Events per second; unlimited when absent.
    public var rate: Double?
    /// Loop guard: events already replayed this many times are quarantined instead.
    public var maxReplays: Int?

    public static let defaultMaxReplays = 3

    /// The JSON keys of a request; the admin API refuses any other.
    enum CodingKeys: String, CodingKey, CaseIterable {
        case fromDLQ, topic, fromOffset, toOffset, partition, eventId, since, until, reason, type, source, key, correlationId, mode,
             dryRun, rate, maxReplays
    }

    public static var fieldNames: [String] { CodingKeys.allCases.map(\.rawValue) }

    public init(
        fromDLQ: String? = nil, topic: String? = nil, fromOffset: Int64? = nil, toOffset: Int64? = nil,
        partition: Int32? = nil, eventId: String? = nil, since: Date? = nil, until: Date? = nil, reason: String? = nil, type: String? = nil, source: String? = nil,
        key: String? = nil, correlationId: String? = nil, mode: ReplayMode? = nil, dryRun: Bool? = nil,
        rate: Double? = nil, maxReplays: Int? = nil
    ) {
        self.fromDLQ = fromDLQ
        self.topic = topic
        self.fromOffset = fromOffset
        self.toOffset = toOffset
        self.partition = partition
        self.eventId = eventId
        self.since = since
        self.until = until
        self.reason = reason
        self.type = type
        self.source = source
        self.key = key
        self.correlationId = correlationId
        self.mode = mode
        self.dryRun = dryRun
        self.rate = rate
        self.maxReplays = maxReplays
    }

    public var filter: ReplayFilter {
        ReplayFilter(from: since, until: until, reason: reason, type: type, source: source, key: key, correlationID: correlationId,
                     eventID: eventId)
    }

    /// The reasons a `reason` filter can match: the router's and the loop guard's.
    static let deadLetterReasons = DeadLetterReason.allCases.map(\.rawValue) + [InspectedRecord.quarantineReason]

    /// Checks each option against its bound (InputLimits) and the combination of options;
    /// the error says which option to change.
    public func validate() throws {
        func invalid(_ message: String) -> ReplayError { ReplayError(.invalidRequest, message) }
        switch (fromDLQ, topic) {
        case (nil, nil): throw invalid("say what to replay: fromDLQ (a lane, e.g. quality) or topic (a source topic)")
        case (.some, .some): throw invalid("fromDLQ and topic exclude each other; give one of them")
        default: break
        }
        if let rate, !InputLimits.replayRate.contains(rate) {
            throw invalid("rate \(rate) is outside \(String(format: "%g...%g", InputLimits.replayRate.lowerBound, InputLimits.replayRate.upperBound)) events per second (InputLimits.replayRate); give a rate in that range, or none for no limit")
        }
        if let maxReplays, !InputLimits.replayMaxReplays.contains(maxReplays) {
            throw invalid("maxReplays \(maxReplays) is outside \(InputLimits.replayMaxReplays) (InputLimits.replayMaxReplays); the default is \(Self.defaultMaxReplays)")
        }
        for (name, offset) in [("fromOffset", fromOffset), ("toOffset", toOffset)] {
            if let offset, !InputLimits.replayOffset.contains(offset) {
                throw invalid("\(name) \(offset) is outside 0...\(InputLimits.replayOffset.upperBound) (InputLimits.replayOffset); offsets are 0 or more")
            }
        }
        if let partition, !InputLimits.replayPartition.contains(partition) {
            throw invalid("partition \(partition) is negative (InputLimits.replayPartition); partitions are numbered from 0")
        }
        if let eventId, !InputLimits.replayEventIDBytes.contains(eventId.utf8.count) {
            throw invalid("eventId must be \(InputLimits.replayEventIDBytes.lowerBound) to \(InputLimits.replayEventIDBytes.upperBound) bytes (InputLimits.replayEventIDBytes): a ce_id, as `dlq list` shows it")
        }
        if let fromOffset, let toOffset, toOffset < fromOffset {
            throw invalid("toOffset \(toOffset) is before fromOffset \(fromOffset); both are inclusive")
        }
        for (name, date) in [("since", since), ("until", until)] {
            if let date, !InputLimits.replayTime.contains(date.timeIntervalSince1970) {
                // Not `\(date)`: Date's description traps on NaN and far-off times.
                throw invalid("\(name) is outside 1970-01-01...9999-12-31 (InputLimits.replayTime; got \(date.timeIntervalSince1970) s since 1970); give an RFC 3339 time in that range")
            }
        }
        if let reason, !Self.deadLetterReasons.contains(reason) {
            throw invalid("unknown dead-letter reason '\(reason.prefix(64))'; \(Suggest.hint(for: String(reason.prefix(64)), in: Self.deadLetterReasons))")
        }
        if let since, let until, until <= since { throw invalid("until must be after since") }
    }
}

/// What a job needs beyond `ReplayJob`'s own columns, kept as JSON in its `filters` column.
public struct ReplayJobSpec: Sendable, Codable {
    public var lane: String
    public var filter: ReplayFilter
    public var maxReplays: Int

    init(lane: String, filter: ReplayFilter, maxReplays: Int) {
        self.lane = lane
        self.filter = filter
        self.maxReplays = maxReplays
    }

    /// The spec recorded with `job`.
    public static func of(_ job: ReplayJob) throws -> ReplayJobSpec { try decode(job.filters) }

    func encoded() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    static func decode(_ text: String) throws -> ReplayJobSpec {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(ReplayJobSpec.self, from: Data(text.utf8))
    }
}
