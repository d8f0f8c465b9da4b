import Foundation
import Kafka
import Logging
import Ledger
import Policy

/// Browses lanes' dead-letter topics: every partition read with `assign` from the start
/// (or `filter.from`) to the end as it was when the read began.
///
/// Blocking: call from a dedicated thread (`BlockingThread.run`).
public struct DeadLetterInspector: Sendable {
    /// Reason counts of one lane's dead-letter topic, and how many a replay resolved.
    public struct LaneStats: Sendable, Codable {
        public var lane: String
        public var topic: String
        public var total: Int
        /// Dead letters replayed at least once by a real job.
        public var replayed: Int
        /// Dead letters a replay delivered (`InspectedRecord.resolved`).
        public var resolved: Int
        public var unresolved: Int { total - resolved }
        public var reasons: [String: Int]

        enum CodingKeys: String, CodingKey { case lane, topic, total, replayed, resolved, unresolved, reasons }

        init(lane: String, topic: String) {
            self.lane = lane
            self.topic = topic
            total = 0
            replayed = 0
            resolved = 0
            reasons = [:]
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            lane = try container.decode(String.self, forKey: .lane)
            topic = try container.decode(String.self, forKey: .topic)
            total = try container.decode(Int.self, forKey: .total)
            replayed = try container.decode(Int.self, forKey: .replayed)
            resolved = try container.decode(Int.self, forKey: .resolved)
            reasons = try container.decode([String: Int].self, forKey: .reasons)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(lane, forKey: .lane)
            try container.encode(topic, forKey: .topic)
            try container.encode(total, forKey: .total)
            try container.encode(replayed, forKey: .replayed)
            try container.encode(resolved, forKey: .resolved)
            try container.encode(unresolved, forKey: .unresolved)
            try container.encode(reasons, forKey: .reasons)
        }
    }

    public let cluster: KafkaConfiguration
    public let catalog: Catalog
    /// Where `--correlation-id` finds the work order's trail (nil: that filter is refused)
    /// and where replays recorded what they did (nil: replay counts and resolved state unknown).
    public let ledger: Ledger?
    private let logger: Logger

    public init(cluster: KafkaConfiguration, catalog: Catalog, ledger: Ledger? = nil, logger: Logger = Logger(label: "plantrouter.dlq")) {
        self.cluster = cluster
        self.catalog = catalog
        self.ledger = ledger
        self.logger = logger
    }

    /// Dead letters of `lane` (of every lane when nil) that match `filter`, oldest first, at
    /// most `limit`; `unresolved` leaves out those a replay delivered.
    public func list(
        lane: String?, filter: ReplayFilter = ReplayFilter(), unresolved: Bool = false, limit: Int? = nil
    ) throws -> [InspectedRecord] {
        var found: [InspectedRecord] = []
        for name in lane.map({ [$0] }) ?? catalog.lanes.map(\.name) {
            guard limit.map({ found.count < $0 }) ?? true else { break }
            try scan(lane: name, filter: filter) { record in
                if unresolved, record.resolved { return true }
                found.append(record)
                return limit.map { found.count < $0 } ?? true
            }
        }
        return found.sorted { ($0.timestamp, $0.topic, $0.partition, $0.offset) < ($1.timestamp, $1.topic, $1.partition, $1.offset) }
    }

    /// One dead letter by position.
    public func show(lane: String, partition: Int32, offset: Int64) throws -> InspectedRecord? {
        let topic = try topic(of: lane)
        let reader = try TopicRangeReader(cluster: cluster, logger: logger)
        defer { reader.close() }
        let history = try ledger?.replayHistory(topic: topic) ?? [:]
        var found: InspectedRecord?
        try reader.read([PartitionRange(topic: topic, partition: partition, start: offset, end: offset + 1)], batchSize: 1) { _, records, _ in
            found = records.first.map { Self.inspect($0, lane: lane, history: history) }
            return false
        }
        return found
    }

    /// Reason histogram per lane (every lane with a dead-letter topic when `lanes` is empty).
    public func stats(lanes: [String] = [], filter: ReplayFilter = ReplayFilter()) throws -> [LaneStats] {
        let names = lanes.isEmpty ? catalog.lanes.map(\.name) : lanes
        return try names.map { lane in
            var stats = LaneStats(lane: lane, topic: try topic(of: lane))
            try scan(lane: lane, filter: filter) { record in
                stats.total += 1
                if record.replays > 0 { stats.replayed += 1 }
                if record.resolved { stats.resolved += 1 }
                stats.reasons[record.deadLetter?.reason ?? "unknown", default: 0] += 1
                return true
            }
            return stats
        }
    }

    /// The dead-letter topic the catalog gives `lane`.
    public func topic(of lane: String) throws -> String {
        guard let found = catalog.lane(named: lane) else {
            throw ReplayError.unknownLane(lane, known: catalog.lanes.map(\.name))
        }
        return found.deadLetterTopic
    }

    private func scan(lane: String, filter: ReplayFilter, _ visit: (InspectedRecord) -> Bool) throws {
        let topic = try topic(of: lane)
        let reader = try TopicRangeReader(cluster: cluster, logger: logger)
        defer { reader.close() }
        let trail = try filter.trail(in: ledger)
        let history = try ledger?.replayHistory(topic: topic) ?? [:]
        let ranges = try reader.ranges(topic: topic, since: filter.from)
        try reader.read(ranges, batchSize: 500) { _, records, _ in
            for record in records {
                let inspected = Self.inspect(record, lane: lane, history: history)
                if filter.matches(inspected, trail: trail), !visit(inspected) { return false }
            }
            return true
        }
    }

    /// The record with its lane and what replays did with it.
    private static func inspect(_ record: ConsumerRecord, lane: String, history: [TopicPosition: ReplayHistory]) -> InspectedRecord {
        var inspected = InspectedRecord(record)
        inspected.lane = lane
        if let replayed = history[inspected.position] {
            inspected.replays = replayed.replays
            inspected.resolvedBy = replayed.resolvedBy
            inspected.resolved = replayed.resolvedBy != nil
        }
        return inspected
    }
}
