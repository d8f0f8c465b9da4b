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
    /// Reason counts of one lane's dead-letter topic.
    public struct LaneStats: Sendable, Codable {
        public var lane: String
        public var topic: String
        public var total: Int
        public var reasons: [String: Int]
    }

    public let cluster: KafkaConfiguration
    public let catalog: Catalog
    /// Where `--correlation-id` finds the work order's trail (nil: that filter is refused).
    public let ledger: Ledger?
    private let logger: Logger

    public init(cluster: KafkaConfiguration, catalog: Catalog, ledger: Ledger? = nil, logger: Logger = Logger(label: "plantrouter.dlq")) {
        self.cluster = cluster
        self.catalog = catalog
        self.ledger = ledger
        self.logger = logger
    }

    /// Dead letters of `lane` that match `filter`, oldest offset first per partition,
    /// at most `limit`.
    public func list(lane: String, filter: ReplayFilter = ReplayFilter(), limit: Int? = nil) throws -> [InspectedRecord] {
        var found: [InspectedRecord] = []
        try scan(lane: lane, filter: filter) { record in
            found.append(record)
            return limit.map { found.count < $0 } ?? true
        }
        return found.sorted { ($0.timestamp, $0.partition, $0.offset) < ($1.timestamp, $1.partition, $1.offset) }
    }

    /// One dead letter by position.
    public func show(lane: String, partition: Int32, offset: Int64) throws -> InspectedRecord? {
        let topic = try topic(of: lane)
        let reader = try TopicRangeReader(cluster: cluster, logger: logger)
        defer { reader.close() }
        var found: InspectedRecord?
        try reader.read([PartitionRange(topic: topic, partition: partition, start: offset, end: offset + 1)], batchSize: 1) { _, records, _ in
            found = records.first.map(InspectedRecord.init)
            return false
        }
        return found
    }

    /// Reason histogram per lane (every lane with a dead-letter topic when `lanes` is empty).
    public func stats(lanes: [String] = [], filter: ReplayFilter = ReplayFilter()) throws -> [LaneStats] {
        let names = lanes.isEmpty ? catalog.lanes.map(\.name) : lanes
        return try names.map { lane in
            var stats = LaneStats(lane: lane, topic: try topic(of: lane), total: 0, reasons: [:])
            try scan(lane: lane, filter: filter) { record in
                stats.total += 1
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
        let ranges = try reader.ranges(topic: topic, since: filter.from)
        try reader.read(ranges, batchSize: 500) { _, records, _ in
            for record in records {
                let inspected = InspectedRecord(record)
                if filter.matches(inspected, trail: trail), !visit(inspected) { return false }
            }
            return true
        }
    }
}
